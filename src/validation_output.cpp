/// \file validation_output.cpp
/// validation.json and the streamed mean-field CSV files.
#include "izhinet/validation_output.hpp"

#include <cmath>

#include "izhinet/errors.hpp"
#include "izhinet/io.hpp"
#include "izhinet/validation_criteria.hpp"
#include "mf_json.hpp"

namespace izhinet {

// ---------------------------------------------------------------------------
// CSV

mf_csv_writer::mf_csv_writer(std::string path, int populations, bool with_v)
    : file_(std::make_unique<line_file>(std::move(path))), P_(populations), with_v_(with_v) {
  std::string h = "t";
  for (int i = 0; i < P_; ++i)
    for (int v = 0; v < 4; ++v)
      if (with_v_ || v != var_v) h += std::string(",") + variable_names[v] + std::to_string(i);
  file_->line(h);
  file_->flush();  // an unwritable folder or a full disk shows up before the run
}

mf_csv_writer::~mf_csv_writer() = default;

const std::string& mf_csv_writer::path() const { return file_->path(); }

void mf_csv_writer::row(double t, const double* x) {
  line_ = format_time(t);
  for (int i = 0; i < P_; ++i)
    for (int v = 0; v < 4; ++v)
      if (with_v_ || v != var_v) csv_append(line_, x[4 * i + v]);
  file_->line(line_);
  if (file_->pending() >= 4096) file_->flush();
}

void mf_csv_writer::close() { file_->close(); }

// ---------------------------------------------------------------------------
// JSON

namespace {

using detail::json_writer;

void stats_json(json_writer& j, const char* key, const variable_stats& s) {
  j.begin_object(key);
  j.value("mean", s.mean);
  j.value("min", s.min);
  j.value("max", s.max);
  j.end_object();
}

void window_json(json_writer& j, const std::string& key, const window_analysis& a) {
  j.begin_object(key);
  j.value("regime", a.regime);
  if (a.reason.empty())
    j.null("reason");
  else
    j.value("reason", a.reason);
  j.value("t_from", a.t_from);
  j.value("t_to", a.t_to);
  j.value("samples", static_cast<long long>(a.samples));
  j.value("resolution", a.resolution);
  j.value("smoothing", a.smoothing);
  j.value("period", a.period);
  j.value("periods_in_window", a.periods_in_window);
  j.value("acf_peak", a.acf_peak);
  j.value("amplitude", a.amplitude);
  j.value("settle_ratio", a.settle_ratio);
  j.value("t_end_needed", a.t_end_needed);
  j.begin_array("populations");
  for (size_t i = 0; i < a.pops.size(); ++i) {
    j.begin_object();
    j.value("rel_amplitude", i < a.rel_amplitude.size() ? a.rel_amplitude[i] : 0.0);
    for (int v = 0; v < 4; ++v) stats_json(j, variable_names[v], a.pops[i][v]);
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

void attractor_json(json_writer& j, const mf_attractor& a) {
  j.begin_object();
  j.value("kind", a.kind);
  j.value("period", a.period);
  j.value("amplitude", a.amplitude);
  j.begin_array("reached_from");
  for (const auto& s : a.reached_from) j.value({}, s);
  j.end_array();
  if (!a.eigenvalues.empty()) {
    j.begin_array("eigenvalues");
    for (const auto& z : a.eigenvalues) j.numbers({}, {z.real(), z.imag()});
    j.end_array();
  }
  j.numbers("state", a.state);
  j.begin_array("populations");
  for (size_t i = 0; i < a.pops.size(); ++i) {
    j.begin_object();
    j.value("rel_amplitude", i < a.rel_amplitude.size() ? a.rel_amplitude[i] : 0.0);
    for (int v = 0; v < 4; ++v) stats_json(j, variable_names[v], a.pops[i][v]);
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

void side_json(json_writer& j, const std::string& key, const meanfield_side& s) {
  j.begin_object(key);
  j.value("available", s.available);
  j.value("rows", static_cast<long long>(s.rows));
  if (s.failure.empty()) {
    j.null("failure");
    j.null("failed_at");
  } else {
    j.value("failure", s.failure);
    j.value("failed_at", s.failed_at);
  }
  window_json(j, "trajectory", s.trajectory);
  j.value("attractors_searched", s.searched);
  if (s.search_note.empty())
    j.null("search_note");
  else
    j.value("search_note", s.search_note);
  j.begin_array("attractors");
  for (const auto& a : s.attractors.attractors) attractor_json(j, a);
  j.end_array();
  j.begin_array("search_notes");
  for (const auto& n : s.attractors.notes) j.value({}, n);
  j.end_array();
  if (s.from_initial_state >= 0)
    j.value("from_initial_state", s.from_initial_state);
  else
    j.null("from_initial_state");
  j.end_object();
}

void check_json(json_writer& j, const char* key, const stat_check& c) {
  j.begin_object(key);
  j.value("network", c.net);
  j.value("meanfield", c.ref);
  j.value("rel_diff", c.rel_diff);
  j.value("tol", c.tol);
  j.value("judged", c.judged);
  j.value("pass", c.pass);
  j.end_object();
}

void shape_json(json_writer& j, const std::array<shape_check, 4>& shape, const population_comparison* matched,
                const std::array<deviation_stats, 4>* running, bool with_v) {
  for (int v = 0; v < 4; ++v) {
    if (!with_v && v == var_v) continue;
    j.begin_object(variable_names[v]);
    for (int k = 0; k < 3; ++k) check_json(j, stat_names[k], shape[v][k]);
    if (matched) {
      j.value("nrms", matched->nrms[v]);
      j.value("matched_mean_diff", matched->matched_mean_diff[v]);
    }
    if (running) {
      j.value("running_max_abs", (*running)[v].max_abs);
      j.value("running_rms", (*running)[v].rms());
    }
    j.end_object();
  }
}

void comparison_json(json_writer& j, const std::string& key, const comparison& c,
                     const std::vector<std::array<deviation_stats, 4>>& running, bool with_v) {
  j.begin_object(key);
  j.value("outcome", c.outcome);
  j.value("agree", c.agree());
  j.value("verdict", c.sentence);
  j.value("reference", c.reference);
  if (c.attractor >= 0)
    j.value("attractor", c.attractor);
  else
    j.null("attractor");
  j.value("regime_network", c.regime_net);
  j.value("regime_meanfield", c.regime_ref);
  if (c.reason.empty())
    j.null("reason");
  else
    j.value("reason", c.reason);
  check_json(j, "period", c.period);
  j.begin_array("populations");
  for (size_t i = 0; i < c.pops.size(); ++i) {
    j.begin_object();
    shape_json(j, c.pops[i].shape, &c.pops[i], i < running.size() ? &running[i] : nullptr, with_v);
    j.end_object();
  }
  j.end_array();
  j.begin_array("segments");
  for (const auto& s : c.segments) {
    j.begin_object();
    j.value("t_start", s.t_start);
    j.value("t_from", s.t_from);
    j.value("t_to", s.t_to);
    j.value("outcome", s.outcome);
    j.value("onset_network", s.onset_network);
    j.value("onset_meanfield", s.onset_meanfield);
    j.value("verdict", s.sentence);
    window_json(j, "network", s.network);
    window_json(j, "meanfield", s.meanfield);
    check_json(j, "period", s.period);
    j.begin_array("populations");
    for (const auto& p : s.shape) {
      j.begin_object();
      shape_json(j, p, nullptr, nullptr, with_v);
      j.end_object();
    }
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

}  // namespace

json validation_json(const model_spec& spec, const validation_report& rep) {
  json_writer j;
  j.begin_object();
  detail::write_model(j, spec);
  j.begin_object("criteria");
  for (const auto& c : criteria_table()) {
    j.begin_object(c.name);
    j.value("value", c.value);
    j.value("meaning", c.meaning);
    j.end_object();
  }
  j.end_object();
  j.value("status", rep.status);
  j.value("t_end", rep.t_end);
  j.value("t_reached", rep.t_reached);
  j.value("t_compared", rep.t_compared);
  if (rep.status == "completed")
    j.null("stopped_at");
  else
    j.value("stopped_at", rep.t_reached);
  j.value("transient", rep.transient);
  j.value("input", rep.input);
  j.value("verdict", rep.verdict());
  j.value("outcome", rep.vs_exact.outcome);
  j.begin_array("warnings");
  for (const auto& w : rep.warnings) j.value({}, w);
  j.end_array();
  j.value("running_rows", static_cast<long long>(rep.running.rows));
  window_json(j, "network", rep.network);
  side_json(j, "exact", rep.exact);
  side_json(j, "slow", rep.slow);
  comparison_json(j, "network_vs_exact", rep.vs_exact, rep.running.exact, true);
  comparison_json(j, "network_vs_slow", rep.vs_slow, rep.running.slow, false);
  if (rep.error.empty())
    j.null("error");
  else
    j.value("error", rep.error);
  j.end_object();
  return j.root();
}

}  // namespace izhinet
