#pragma once
// Small helpers shared by the CPU tests.
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/validator.hpp"
#include "izhinet/simulation.hpp"

namespace izhinet::testing {

/// Collects every row of every replica in memory.
struct memory_sink : record_sink {
  std::vector<std::vector<record_row>> rows;
  std::vector<spike_event> spikes;
  void on_rows(int replica, const std::vector<record_row>& r) override {
    if (rows.size() <= static_cast<size_t>(replica)) rows.resize(replica + 1);
    rows[replica].insert(rows[replica].end(), r.begin(), r.end());
  }
  void on_spikes(const std::vector<spike_event>& s) override { spikes.insert(spikes.end(), s.begin(), s.end()); }
};

/// Runs spec on the CPU backend with `threads` threads; returns the rows of replica 0.
inline std::vector<record_row> run_cpu(const model_spec& spec, int threads = 1, simulation_result* res = nullptr) {
  auto be = make_cpu_backend(threads);
  const auto reps = default_replicas(spec);
  be->setup(spec, reps);
  memory_sink sink;
  simulation_options o;
  o.progress_seconds = 0;
  const auto r = simulate(spec, *be, reps, sink, o);
  if (res) *res = r;
  return sink.rows.empty() ? std::vector<record_row>{} : sink.rows[0];
}

/// Runs spec (replica 0) on the CPU backend with the mean-field validator;
/// the validator's files go to `dir` (none when it is empty).
inline validation_report run_validated(const model_spec& spec, int threads, const std::string& dir) {
  auto be = make_cpu_backend(threads);
  const auto reps = default_replicas(spec);
  be->setup(spec, reps);
  validator_options vo;
  vo.out_dir = dir;
  validator v(spec, vo);
  validating_sink sink({&v});
  simulation_options o;
  o.progress_seconds = 0;
  const simulation_result res = simulate(spec, *be, reps, sink, o);
  return v.finish(outcome_of(res));
}

/// Late-time mean of a column (population i) for t > t_from.
template <class F>
double late_mean(const std::vector<record_row>& rows, double t_from, F get) {
  double s = 0;
  int n = 0;
  for (const auto& r : rows)
    if (r.t > t_from) {
      s += get(r);
      ++n;
    }
  return n ? s / n : 0.0;
}

}  // namespace izhinet::testing
