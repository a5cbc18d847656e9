#pragma once
/// \file mf_json.hpp
/// A streaming builder for the mean-field JSON outputs (private to src/): it
/// builds a json value (json.hpp) in the order it is told; nesting is tracked
/// so that the caller cannot produce malformed JSON. Write the result with
/// write_json(path, j.root()), which adds the provenance and checks every write.
#include <string>
#include <vector>

#include "izhinet/errors.hpp"
#include "izhinet/json.hpp"
#include "izhinet/params.hpp"

namespace izhinet {
namespace detail {

class json_writer {
 public:
  json_writer& begin_object(const std::string& key = {}) {
    open(key, json::object());
    return *this;
  }
  json_writer& end_object() {
    close(true);
    return *this;
  }
  json_writer& begin_array(const std::string& key = {}) {
    open(key, json::array());
    return *this;
  }
  json_writer& end_array() {
    close(false);
    return *this;
  }

  json_writer& value(const std::string& key, double x) { return put(key, x); }
  json_writer& value(const std::string& key, int x) { return put(key, x); }
  json_writer& value(const std::string& key, long long x) { return put(key, x); }
  json_writer& value(const std::string& key, bool x) { return put(key, x); }
  json_writer& value(const std::string& key, const std::string& x) { return put(key, x); }
  json_writer& value(const std::string& key, const char* x) { return put(key, std::string(x)); }
  json_writer& null(const std::string& key) { return put(key, nullptr); }
  json_writer& numbers(const std::string& key, const std::vector<double>& xs) { return put(key, xs); }

  /// The finished value (internal_error while an object or array is open).
  const json& root() const {
    if (!stack_.empty()) throw internal_error("json_writer: unclosed object or array");
    return root_;
  }
  /// The JSON text (without provenance), indented by 2.
  std::string str() const { return root().dump(2) + "\n"; }

 private:
  json& slot(const std::string& key) {
    if (stack_.empty()) {
      if (started_) throw internal_error("json_writer: a second top-level value");
      started_ = true;
      return root_;
    }
    json& parent = *stack_.back();
    if (parent.is_object()) return parent[key];
    parent.push_back(nullptr);
    return parent.back();
  }
  template <class T>
  json_writer& put(const std::string& key, T&& x) {
    slot(key) = json(std::forward<T>(x));
    return *this;
  }
  void open(const std::string& key, json empty) {
    json& s = slot(key);
    s = std::move(empty);
    stack_.push_back(&s);
  }
  void close(bool object) {
    if (stack_.empty() || stack_.back()->is_object() != object) throw internal_error("json_writer: mismatched close");
    stack_.pop_back();
  }

  json root_;
  std::vector<json*> stack_;  ///< open containers; a parent is not changed while a child is open
  bool started_ = false;
};

/// Provenance: the model parameters the mean fields use (key "model").
inline void write_model(json_writer& j, const model_spec& spec) {
  j.begin_object("model");
  j.value("t_end", spec.run.t_end);
  j.value("dt", spec.run.dt);
  j.value("record_every", static_cast<long long>(spec.run.record_every));
  j.begin_array("populations");
  for (const auto& p : spec.populations) {
    j.begin_object();
    j.value("fraction", p.fraction);
    j.value("eta_bar", p.eta_bar);
    j.value("delta", p.delta);
    j.value("alpha", p.alpha);
    j.value("a", p.a);
    j.value("b", p.b);
    j.value("w_jump", p.w_jump);
    j.value("v_peak", p.v_peak);
    j.value("v_reset", p.v_reset);
    j.value("I_ext", p.I_ext.type == input_spec::kind::constant ? "constant"
                     : p.I_ext.type == input_spec::kind::steps  ? "steps"
                                                                : "table");
    j.value("I_value", p.I_ext.value);
    j.numbers("I_times", p.I_ext.times);
    j.numbers("I_values", p.I_ext.values);
    j.end_object();
  }
  j.end_array();
  j.begin_object("synapse");
  j.begin_array("g");
  for (const auto& row : spec.synapse.g) j.numbers({}, row);
  j.end_array();
  j.numbers("e_r", spec.synapse.e_r);
  j.numbers("tau_s", spec.synapse.tau_s);
  j.numbers("s_jump", spec.synapse.s_jump);
  j.end_object();
  j.begin_object("meanfield");
  j.value("rtol", spec.meanfield.rtol);
  j.value("atol", spec.meanfield.atol);
  j.value("transient", spec.meanfield.transient);
  j.value("slow_finite_peak", spec.meanfield.slow_finite_peak);
  j.end_object();
  j.end_object();
}

}  // namespace detail
}  // namespace izhinet
