#pragma once
/// \file mf_json.hpp
/// A minimal JSON writer for the mean-field outputs (private to src/). It
/// writes what it is told in order; commas and nesting are tracked so that the
/// caller cannot produce malformed JSON by forgetting a separator.
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "izhinet/errors.hpp"
#include "izhinet/params.hpp"

namespace izhinet {
namespace detail {

class json_writer {
 public:
  json_writer& begin_object(const std::string& key = {}) {
    open(key, '{');
    return *this;
  }
  json_writer& end_object() {
    close('}');
    return *this;
  }
  json_writer& begin_array(const std::string& key = {}) {
    open(key, '[');
    return *this;
  }
  json_writer& end_array() {
    close(']');
    return *this;
  }

  json_writer& value(const std::string& key, double x) {
    prefix(key);
    number(x);
    return *this;
  }
  json_writer& value(const std::string& key, int x) {
    prefix(key);
    out_ << x;
    return *this;
  }
  json_writer& value(const std::string& key, long long x) {
    prefix(key);
    out_ << x;
    return *this;
  }
  json_writer& value(const std::string& key, bool x) {
    prefix(key);
    out_ << (x ? "true" : "false");
    return *this;
  }
  json_writer& value(const std::string& key, const std::string& x) {
    prefix(key);
    quoted(x);
    return *this;
  }
  json_writer& value(const std::string& key, const char* x) { return value(key, std::string(x)); }
  json_writer& null(const std::string& key) {
    prefix(key);
    out_ << "null";
    return *this;
  }
  json_writer& numbers(const std::string& key, const std::vector<double>& xs) {
    begin_array(key);
    for (double x : xs) value({}, x);
    return end_array();
  }

  std::string str() const {
    if (!stack_.empty()) throw internal_error("json_writer: unclosed object or array");
    return out_.str() + "\n";
  }

 private:
  void open(const std::string& key, char c) {
    prefix(key);
    out_ << c;
    stack_.push_back(c);
    first_.push_back(true);
  }
  void close(char c) {
    if (stack_.empty() || (c == '}' ? '{' : '[') != stack_.back())
      throw internal_error("json_writer: mismatched close");
    stack_.pop_back();
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty) newline();
    out_ << c;
  }
  void prefix(const std::string& key) {
    if (!first_.empty()) {
      if (!first_.back()) out_ << ',';
      first_.back() = false;
      newline();
    }
    if (!stack_.empty() && stack_.back() == '{') {
      quoted(key);
      out_ << ": ";
    }
  }
  void newline() {
    out_ << '\n';
    for (size_t i = 0; i < stack_.size(); ++i) out_ << "  ";
  }
  void number(double x) {
    if (!std::isfinite(x)) {
      out_ << "null";  // JSON has no inf/nan
      return;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.12g", x);
    out_ << buf;
  }
  void quoted(const std::string& s) {
    out_ << '"';
    for (char c : s) {
      switch (c) {
        case '"':
          out_ << "\\\"";
          break;
        case '\\':
          out_ << "\\\\";
          break;
        case '\n':
          out_ << "\\n";
          break;
        case '\t':
          out_ << "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out_ << buf;
          } else {
            out_ << c;
          }
      }
    }
    out_ << '"';
  }

  std::ostringstream out_;
  std::vector<char> stack_;
  std::vector<bool> first_;
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
