#pragma once
/// \file simulation.hpp
/// The simulation loop, written once above any backend: inputs per step,
/// recording, observables, blow-up detection, interruption, progress.
///
/// Observables per population at each recording time t_k = k * record_every * dt:
/// - r: spikes per neuron per unit time, over the recording interval, or over
///   a sliding window of width run.rate_window (the paper's 0.02) when > 0;
/// - v, w: `paper` scheme: means over neurons with v_reset <= v <= v_peak (as
///   the paper; over all neurons when none is there); `exact` scheme: w over all neurons, and v from the phases by
///   the Montbrio-Pazo-Roxin identity pi r + i v = (1 - conj Z)/(1 + conj Z),
///   Z = mean exp(i theta), which needs no cut-off (v is heavy-tailed);
/// - s: the gating variable after the step.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/checkpoint.hpp"
#include "izhinet/observables.hpp"
#include "izhinet/params.hpp"

namespace izhinet {

/// Receives every recorded row of every replica (in time order per replica).
struct record_sink {
  virtual ~record_sink() = default;
  virtual void on_rows(int replica, const std::vector<record_row>& rows) = 0;
  virtual void on_spikes(const std::vector<spike_event>& spikes) {}
};

struct simulation_options {
  double progress_seconds = 10.0;               ///< log a progress line this often (<= 0: never)
  double chunk_seconds = 0.2;                   ///< target wall time per backend call (bounds the reaction to SIGINT)
  const std::atomic<bool>* stop = nullptr;      ///< set asynchronously to end the run early
  std::string label;                            ///< prefix for log lines
  std::function<std::string()> progress_extra;  ///< appended to progress lines (e.g. the validator's)
  /// Upper bound on the loop's own buffers (one recording interval's input and
  /// spike counts, the sliding-window ring); <= 0: a quarter of the machine's
  /// memory. Above it, simulate() throws memory_error naming the key before allocating.
  double memory_limit_bytes = 0;
  /// Continue a checkpointed run from here (the caller has restored the
  /// backend's state and cut the outputs back); simulate takes the step
  /// index, the sliding-window state and the spike count from it.
  const checkpoint_data* resume = nullptr;
  /// When set, simulate calls it with its own state (step index, sliding
  /// window, spike count filled in) at every recording time that is a
  /// multiple of checkpoint_every records (0: never), at the end of a
  /// completed run when checkpoint_every > 0, and before a stop request ends
  /// the run. With it, the backend is never stopped inside a call (the state
  /// stays on a recording time); calls last about chunk_seconds.
  std::function<void(checkpoint_data&)> checkpoint;
  int64_t checkpoint_every = 0;
  /// One network over several ranks (docs/mpi.md): the backend was given the
  /// same communicator by backend::distribute(). Every rank calls simulate();
  /// the ranks agree on each call's length and on stopping, and the recorded
  /// spikes are gathered to rank 0, the only rank whose sink gets spikes
  /// (every rank's sink gets the same rows). nullptr: one process.
  communicator* comm = nullptr;
};

struct simulation_result {
  enum class status { completed, interrupted, diverged };
  status state = status::completed;
  std::string message;     ///< for diverged: when and where
  int64_t steps_done = 0;  ///< global step index reached (from t = 0, also after a resume)
  double t_reached = 0;
  int64_t steps_this_run = 0;  ///< steps this call advanced (neuron_steps_per_second counts these)
  double wall_seconds = 0;
  double neuron_steps_per_second = 0;
  int64_t spikes_written = 0;
  bool spikes_capped = false;
};

const char* to_string(simulation_result::status s);

/// Runs `spec` on `be` for the given replicas, feeding every row to `sink`.
/// Never throws for a numerical blow-up: it stops, says when and where in the
/// result (rows before it are delivered), and returns status::diverged.
simulation_result simulate(const model_spec& spec, backend& be, const std::vector<replica_spec>& replicas,
                           record_sink& sink, const simulation_options& opts = {});

/// Replicas of a spec: network.replicas copies of size network.n with seeds
/// seed, seed + 1, ...
std::vector<replica_spec> default_replicas(const model_spec& spec);

/// The CPU backend's state (three doubles per neuron, all replicas, this
/// rank's share of `ranks`) from the spec alone: memory_error naming
/// network.n when above 90 % of this machine's memory. Cheap: it runs before
/// the replicas and the layout are built, and before anything is written.
void check_host_memory(const model_spec& spec, int ranks);

/// The row at t = 0: the state backend::setup() starts from (v = w = s = 0 in
/// every neuron, so <v> = <w> = s = 0 in both schemes) and r = 0 (no spikes
/// yet). Written first in timeseries.csv, so that the network's rows lie on the
/// mean field's time grid t_k = k * record_every * dt, k = 0, 1, ...
record_row initial_row(const model_spec& spec);

/// Converts moments to observables (exposed for tests and the CUDA backend's tests).
void moments_to_row(const model_spec& spec, const pop_moments* m, const std::vector<int64_t>& pop_n, double t,
                    record_row& row);

}  // namespace izhinet
