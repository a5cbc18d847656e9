#pragma once
// Small helpers shared by the CPU tests.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
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

/// Exit status (128 + signal when killed) and stdout + stderr of `izhinet ARGS`.
struct cli_result {
  int status;
  std::string out;
};

inline cli_result run_cli(const std::string& args) {
  const std::string cmd = std::string(IZHINET_BINARY) + " " + args + " 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), out};
}

/// A fresh, empty temporary folder for one test.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("izhinet_test_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

/// The columns of a CSV file with a header line, as numbers.
inline std::map<std::string, std::vector<double>> read_csv_columns(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> names;
  std::map<std::string, std::vector<double>> cols;
  if (!std::getline(in, line)) return cols;
  std::stringstream h(line);
  for (std::string c; std::getline(h, c, ',');) names.push_back(c);
  while (std::getline(in, line)) {
    std::stringstream l(line);
    size_t k = 0;
    for (std::string c; std::getline(l, c, ',') && k < names.size(); ++k) cols[names[k]].push_back(std::stod(c));
  }
  return cols;
}

}  // namespace izhinet::testing
