#pragma once
/// \file validator.hpp
/// The mean-field validator: a background thread that integrates both mean
/// fields (exact and slow adaptation, docs/meanfield.md) in step with
/// the network's recorded rows and compares them as they come; `finish()`
/// then analyses both sides and reaches the verdict (validation.hpp).
///
/// Usage: construct before the run, `push()` every recorded row, `finish()`
/// with the run's outcome. `push()` only queues rows; all integration and
/// comparison happen on the validator's thread. Exceptions on that thread
/// are carried back (std::exception_ptr) and reported by `finish()`. The
/// one exception that is not only reported is io_error: when one of the
/// validator's files cannot be written (disk full), the next `push()` and
/// `finish()` throw it, so that the run stops with that error (exit_io).
///
/// Memory is bounded whatever t_end and record_every are: the record times
/// are computed, not stored (t_k = k record_every dt); the mean fields are
/// integrated in chunks of at most 4096 records (and at most 100 time units)
/// just ahead of the rows that need them, and each chunk is compared, written
/// and dropped; the late-window analysis keeps every series averaged in
/// blocks of at least criteria::block_width time units, at most
/// criteria::max_blocks of them (series_analysis.hpp); at most
/// criteria::max_queued_rows network rows wait in the queue (push() then
/// waits for the thread). Files (meanfield.csv, meanfield_slow.csv) are
/// streamed as the chunks are integrated, and validation.json is written by
/// finish() — only when an output folder is given.
///
/// Stop requests: the thread polls `options.stop` at every mean-field output
/// and ends its work at once; finish() after an interrupted or diverged run
/// does no further integration and gives no verdict (validation.json says
/// where the run stopped and compares only what both sides reached).
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/observables.hpp"
#include "izhinet/params.hpp"
#include "izhinet/series_analysis.hpp"
#include "izhinet/simulation.hpp"
#include "izhinet/validation.hpp"

namespace izhinet {

class mf_csv_writer;

struct validator_options {
  /// Output folder: meanfield.csv and meanfield_slow.csv are streamed there
  /// and finish() writes validation.json. Empty: no files at all.
  std::string out_dir;
  /// Set asynchronously to stop (SIGINT/SIGTERM): the thread stops within a chunk.
  const std::atomic<bool>* stop = nullptr;
  /// The validated network (for the numerical warnings); n = 0: network.n and network.seed.
  replica_spec replica{0, 0};
  /// Attractor search: longest integration per start (time units).
  double attractor_t_max = 1e5;
  /// Most blocks per recorded series (0: criteria::max_blocks); a study that
  /// validates many replicas at once may lower it to bound their total memory.
  int64_t max_blocks = 0;
};

class validator {
 public:
  /// Starts the thread at once. Throws config_error for bad meanfield
  /// tolerances or sizes (before starting the thread), user_error when the
  /// output folder cannot be written.
  explicit validator(const model_spec& spec, validator_options options = {});
  /// Stops and joins the thread if finish() was not called.
  ~validator();
  validator(const validator&) = delete;
  validator& operator=(const validator&) = delete;

  /// Queues one network row (waits while criteria::max_queued_rows are queued).
  void push(const record_row& network_row);
  /// Queues several rows with one lock and one wake-up of the thread.
  void push(const std::vector<record_row>& network_rows);
  /// Copy of the running deviations so far (thread-safe).
  running_deviation current() const;
  /// A short progress line from current() (population 0 vs the exact mean field).
  std::string progress_line() const;
  /// Finishes (see the file comment) and returns the report; writes
  /// validation.json into options.out_dir when one was given. Throws io_error
  /// when one of its files cannot be written (they then end in complete
  /// lines); other problems are in the report (and logged). Call once.
  validation_report finish(const run_outcome& outcome);
  /// The same for a run that completed to t_end.
  validation_report finish();

 private:
  void run();
  void process(std::vector<record_row>& rows);
  bool stop_requested() const;
  bool integrate_to(int64_t k);
  /// The attractors of both mean fields (constant input), from the standard
  /// starts and the network's final state; sharpens the network's analysis
  /// when its window showed no repeat.
  void search_attractors(validation_report& rep);

  model_spec spec_;
  validator_options opt_;
  int P_;
  int64_t num_records_;
  double rec_dt_;
  std::vector<int> rhythm_var_;

  // worker state (the worker only; finish() reads it after join)
  struct mf_state;
  std::unique_ptr<mf_state> exact_, slow_;
  std::unique_ptr<block_series> net_blocks_;
  std::vector<std::vector<double>> last_rows_;  ///< the network's last rows (smoothing width), for the attractor search
  size_t last_pos_ = 0;
  int64_t last_k_ = 0;  ///< index of the last network row compared
  std::vector<std::string> warnings_;
  std::exception_ptr worker_error_;

  mutable std::mutex m_;
  std::condition_variable cv_, cv_space_;
  std::deque<record_row> queue_;  ///< guarded by m_
  bool finishing_ = false;        ///< guarded by m_
  bool worker_done_ = false;      ///< guarded by m_
  running_deviation running_;     ///< guarded by m_
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

/// The outcome of a simulation as the validator needs it.
run_outcome outcome_of(const simulation_result& res);

}  // namespace izhinet
