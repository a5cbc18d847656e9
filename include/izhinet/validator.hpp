#pragma once
/// \file validator.hpp
/// Runs both mean fields (exact and slow adaptation, docs/meanfield.md)
/// on a background thread while the network is simulated, and compares the
/// network's recorded rows with them.
///
/// Usage: construct before the run, `push()` every recorded row, `finish()` at
/// the end. `push()` only appends under a mutex; all integration and comparison
/// happen on the validator's thread. Exceptions on that thread are carried back
/// (std::exception_ptr) and reported by `finish()`, which never throws.
///
/// Definitions (all documented here because the report prints them):
/// - **Running deviation**: for every pushed row at time t_k (matched to the
///   nearest record time within 1e-6 (1 + |t|)), per population and variable
///   x in {r, v, w, s}: max |x_net - x_mf| and RMS(x_net - x_mf) over all rows so
///   far (the transient included). The slow model has no v.
/// - **Late-time statistics** of a side (network, exact MF, slow MF): over the
///   rows with t > meanfield.transient: mean, min, max of each variable.
/// - **Regime** of a side, from r of each population (see analyse_series):
///   "oscillation" iff (1) the peak-to-peak of the smoothed r over the last
///   quarter of the window exceeds 5 % of its mean, (2) the autocorrelation of
///   the smoothed r has a peak >= 0.5 after its first zero crossing (a coherent
///   rhythm, not noise), and (3) at least 2 periods are detected; otherwise
///   "equilibrium".
/// - **Period**: mean spacing of the upward crossings of the smoothed r through
///   its mean, with hysteresis (armed below mean - h, fired above mean + h,
///   h = std(smoothed r)/4; the crossing time is interpolated where the signal
///   passes its mean). Smoothing: centred moving average over 1 time unit (at
///   most 1/50 of the window), which removes the binning noise of a finite network.
/// - **NRMS** network vs a mean field: RMS(x_net - x_mf) / RMS(x_mf) over the
///   matched rows with t > transient (RMS(x_mf) = sqrt(mean x_mf^2); NaN if 0).
/// - **Relative differences**: (mean_net - mean_mf)/|mean_mf| and
///   (period_net - period_mf)/period_mf.
/// - **Agreement** of a population: same regime, and for equilibria both
///   |rel. diff of late mean r| and of late mean w <= 5 %; for oscillations
///   |rel. diff of periods| <= 10 %. Network and a mean field agree when every
///   population agrees.
#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "izhinet/observables.hpp"
#include "izhinet/simulation.hpp"
#include "izhinet/params.hpp"

namespace izhinet {

/// Result of analysing one time series after the transient.
struct series_analysis {
  std::string regime = "undetermined";  ///< "equilibrium", "oscillation", or "undetermined" (too few points)
  double mean = 0, min = 0, max = 0;
  double period = 0;         ///< NaN unless regime == "oscillation"
  int periods = 0;           ///< number of detected periods (up-crossings - 1)
  double late_ptp_rel = 0;   ///< peak-to-peak/|mean| of smoothed x over the last quarter
  double autocorr_peak = 0;  ///< largest autocorrelation after its first zero crossing
  int64_t samples = 0;
};

/// Regime, statistics and period of x(t) over t > transient (see file comment).
series_analysis analyse_series(const std::vector<double>& t, const std::vector<double>& x, double transient);

/// Max |difference| and running sum of squares.
struct deviation_stats {
  double max_abs = 0, sum_sq = 0;
  int64_t n = 0;
  double rms() const;
};

/// Index of the variables in the per-population arrays.
enum variable_index : int { var_r = 0, var_v = 1, var_w = 2, var_s = 3 };
constexpr const char* variable_names[4] = {"r", "v", "w", "s"};

/// Running deviations network vs mean fields, per population and variable.
struct running_deviation {
  int64_t rows = 0;                                   ///< network rows compared
  std::vector<std::array<deviation_stats, 4>> exact;  ///< per population: r, v, w, s
  std::vector<std::array<deviation_stats, 4>> slow;   ///< per population: r, (v unused), w, s
};

/// Late-time description of one side (network or a mean field).
struct side_summary {
  std::string name;
  bool available = false;  ///< false when it failed before the transient ended, or was never given rows
  std::string failure;     ///< empty, or what went wrong
  double failed_at = 0;    ///< time reached when it failed
  int64_t rows = 0;
  /// per population: analysis of r, v, w, s (v absent for the slow model: regime "undetermined", samples 0)
  std::vector<std::array<series_analysis, 4>> vars;
};

/// Network compared with one mean field.
struct comparison {
  std::string mf_name;
  bool available = false;
  bool agree = false;
  struct population {
    bool same_regime = false, agree = false;
    std::array<double, 4> nrms{};           ///< NaN where not defined
    std::array<double, 4> rel_mean_diff{};  ///< NaN where not defined
    double rel_period_diff = 0;             ///< NaN unless both oscillate
  };
  std::vector<population> populations;
  std::string verdict;  ///< one sentence
};

/// Everything finish() found out.
struct validation_report {
  side_summary network, exact, slow;
  comparison vs_exact, vs_slow;
  running_deviation running;
  double transient = 0;
  std::string error;  ///< unexpected failure of the validator itself (empty if none)
  /// One sentence for the closing log line (exact mean field first, then the slow one).
  std::string verdict() const;
};

class validator {
 public:
  /// Starts the mean-field thread at once. `record_times` are the network's
  /// recording times (sorted here if they are not). Throws config_error for bad
  /// meanfield tolerances (before starting the thread).
  validator(const model_spec& spec, std::vector<double> record_times);
  /// Joins the thread if finish() was not called.
  ~validator();
  validator(const validator&) = delete;
  validator& operator=(const validator&) = delete;

  /// Appends one network row; cheap, never integrates on the caller's thread.
  void push(const record_row& network_row);
  /// Appends several rows with one lock and one wake-up of the worker.
  void push(const std::vector<record_row>& network_rows);
  /// Copy of the running deviations so far (thread-safe).
  running_deviation current() const;
  /// A short progress line from current() (population 0 vs the exact mean field).
  std::string progress_line() const;
  /// Joins, computes the final metrics, writes out_dir/meanfield.csv,
  /// out_dir/meanfield_slow.csv and out_dir/validation.json. Throws io_error
  /// when a file cannot be written (the files then end in complete lines);
  /// other problems are in the report (and logged). Call once.
  validation_report finish(const std::string& out_dir);

 private:
  void run();
  void compare_pending(std::unique_lock<std::mutex>& lk);
  int nearest_record(double t) const;

  model_spec spec_;
  std::vector<double> times_;
  int P_;

  // written by the worker only, read by finish() after join
  std::vector<std::vector<double>> exact_rows_;  ///< per record time: [r,v,w,s]*P
  std::vector<std::vector<double>> slow_rows_;   ///< per record time: [R,NaN,w,s]*P
  std::string exact_failure_, slow_failure_;
  double exact_failed_at_ = 0, slow_failed_at_ = 0;
  std::exception_ptr worker_error_;

  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<record_row> net_rows_;  ///< guarded by m_ (elements stay put: deque push_back)
  size_t processed_ = 0;             ///< guarded by m_
  bool finishing_ = false;           ///< guarded by m_
  running_deviation running_;        ///< guarded by m_
  bool finished_ = false;
  std::thread worker_;
};

/// Feeds the rows of replica k to validators[k] (nullptr: replica k is not validated).
class validating_sink final : public record_sink {
 public:
  explicit validating_sink(std::vector<validator*> validators) : v_(std::move(validators)) {}
  void on_rows(int replica, const std::vector<record_row>& rows) override {
    if (replica < 0 || replica >= static_cast<int>(v_.size()) || !v_[replica]) return;
    v_[replica]->push(rows);
  }

 private:
  std::vector<validator*> v_;
};

}  // namespace izhinet
