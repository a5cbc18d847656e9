#pragma once
/// \file backend.hpp
/// The interface every backend implements (CPU, CUDA). The simulation loop,
/// recording, validation and output are written once above it.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "izhinet/communicator.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/network_layout.hpp"
#include "izhinet/params.hpp"
#include "izhinet/partition.hpp"
#include "izhinet/scheme.hpp"

namespace izhinet {

/// Per-population sums at one recording time, reduced where the neurons live
/// (the moment_sums of scheme.hpp, and s).
struct pop_moments {
  double s = 0;          ///< gating variable s_i after the step
  double sum_v_in = 0;   ///< paper: sum of v over neurons with v_reset <= v <= v_peak
  double sum_w_in = 0;   ///< paper: sum of w over the same neurons
  double n_in = 0;       ///< paper: how many neurons that is
  double sum_w = 0;      ///< sum of w over all neurons (also the non-finite sentinel)
  double sum_cos = 0;    ///< exact: sum of cos(theta) (from p, p_cos_sin)
  double sum_sin = 0;    ///< exact: sum of sin(theta) (from p)
  double sum_state = 0;  ///< sum of the state variable (v, or p) over all neurons: the non-finite sentinel
};

inline pop_moments to_pop_moments(const moment_sums& m, double s) {
  pop_moments p;
  p.s = s;
  p.sum_v_in = m.v_in;
  p.sum_w_in = m.w_in;
  p.n_in = m.n_in;
  p.sum_w = m.w;
  p.sum_cos = m.cos;
  p.sum_sin = m.sin;
  p.sum_state = m.x_all;
  return p;
}

struct spike_event {
  int64_t step;  ///< global step index (spike during step `step`, at time (step + frac) * dt)
  int32_t replica;
  int32_t population;
  int64_t neuron;     ///< index within the population
  double frac = 1.0;  ///< paper: 1 (the step's end); exact: the spike's fraction of the step, in [0, 1]
};

/// What `advance` hands back for `records` recording intervals.
struct chunk_result {
  int records = 0;
  int64_t steps_per_record = 0;
  /// spike counts per step: index ((rec * steps_per_record + step) * R + replica) * P + pop
  std::vector<uint32_t> step_spikes;
  /// moments at the end of each record: index (rec * R + replica) * P + pop
  std::vector<pop_moments> moments;
  /// spikes of the recorded neurons (backend appends; caller caps)
  std::vector<spike_event> spikes;
};

/// What a backend supports, so that callers ask instead of testing names.
struct backend_capabilities {
  int host_threads = 0;  ///< CPU threads the backend computes with (0: it computes on a device)
  /// Work per advance() batch (neuron-steps) that amortises the backend's
  /// fixed costs; studies size batches of replicas by it.
  double batch_neuron_steps = 1e11;
  bool stops_within_call = false;  ///< advance() returns early when `stop` is set
  bool distributes = false;        ///< distribute() takes a communicator of several ranks (one network over them)
};

/// One named array of a backend's dynamic state (see backend_state).
struct state_array {
  enum class extent {
    per_neuron,     ///< one value per neuron of every replica: total neurons
    per_population  ///< one value per (replica, population): R * P
  };
  std::string name;  ///< "v" (paper scheme) or "p" (exact scheme), "w", "s", "s_drive" (exact), ...
  extent per = extent::per_neuron;
  std::vector<double> values;
};

/// Everything a backend keeps from one step to the next, as named arrays of
/// doubles, by global index: replicas in order, within a replica the
/// populations in order (population_sizes), within a population the neuron
/// index; per-population arrays index replica * P + population. This is the
/// layout of a checkpoint, independent of how a backend stores its neurons
/// (padding, devices, ranks), so that what one backend wrote another reads.
/// eta is not state: setup() computes it again from the seed.
struct backend_state {
  std::vector<state_array> arrays;
  const state_array* find(const std::string& name) const {
    for (const auto& a : arrays)
      if (a.name == name) return &a;
    return nullptr;
  }
};

/// The arrays (names and extents, values empty) that a backend exchanges
/// through get_state / set_state: x ("v" or "p", state_x_name), "w", "s", and for the exact scheme "s_drive".
backend_state state_layout(const model_spec& spec);
/// "v" for the paper scheme, "p" (v = p/(1 - |p|)) for the exact one.
const char* state_x_name(const model_spec& spec);
/// How many values an array of extent `per` holds for these replicas.
int64_t state_length(state_array::extent per, const model_spec& spec, const std::vector<replica_spec>& replicas);
/// Throws user_error (naming the array, its length and the expected one) when
/// `state` does not have exactly the arrays of state_layout(spec) with their
/// lengths for `replicas`.
void check_state(const backend_state& state, const model_spec& spec, const std::vector<replica_spec>& replicas);
/// The part of `state` that a backend holding the slices `held` (backend::held(), one per (replica,
/// population), index replica * P + population) keeps: its per-neuron arrays cut to those slices, in
/// order; the per-population arrays whole. `state` holds the whole network (checked with check_state)
/// or already exactly those slices (checked against their sizes): user_error otherwise. `held` empty:
/// the whole network (`state` checked and returned).
backend_state state_part(const backend_state& state, const model_spec& spec, const std::vector<replica_spec>& replicas,
                         const std::vector<population_slice>& held);
/// The values of a per-neuron array of the whole network (`whole`, by global index) that lie in the
/// slices `held`, in order (one rank's share of it).
std::vector<double> held_values(const std::vector<double>& whole, const model_spec& spec,
                                const std::vector<replica_spec>& replicas, const std::vector<population_slice>& held);
/// The inverse: writes `part` (the per-neuron values of the slices `held`, in order, as get_state
/// gives them on a rank) into `whole`'s per-neuron arrays (sized for the whole network by the caller).
void put_state_part(backend_state& whole, const backend_state& part, const model_spec& spec,
                    const std::vector<replica_spec>& replicas, const std::vector<population_slice>& held);

class backend {
 public:
  virtual ~backend() = default;
  virtual std::string name() const = 0;
  virtual backend_capabilities capabilities() const = 0;
  /// Human-readable device description (CPU model and threads, GPU name).
  virtual std::string device() const = 0;
  /// One network over the ranks of `comm` (docs/mpi.md); call before setup().
  /// The backend then holds the slice_of() (partition.hpp) of every
  /// population for its rank, adds the P spike counts of each step over the
  /// ranks through `comm` (one integer sum per step) and the moments at
  /// recording times, so that advance() returns the whole network's counts
  /// and moments on every rank; recorded spikes are this rank's neurons only
  /// (simulate() gathers them), and get_eta/get_state give this rank's slice.
  /// nullptr or a one-rank communicator: the whole network (the default).
  virtual void distribute(communicator* comm) {
    if (comm != nullptr && comm->size() > 1 && !capabilities().distributes)
      throw config_error("--backend",
                         "the " + name() + " backend cannot split one network over ranks yet; use --backend cpu");
  }
  /// Allocate and initialise: eta from the Lorentzian, v(0) = 0, w(0) = 0, s(0) = 0.
  /// Lowers the model with network_layout::build (the same lowering on every backend).
  /// Throws memory_error when the state does not fit.
  virtual void setup(const model_spec& spec, const std::vector<replica_spec>& replicas) = 0;
  /// Advance `records * spec.run.record_every` steps starting at global step
  /// `first_step`. `input` holds I_ext for every step and population,
  /// index step_in_chunk * P + pop (paper: the value at the start of each
  /// step; exact: at mid-step).
  /// When `stop` is set during the call, a backend may return early:
  /// `out.records` then says how many records are complete (the state may
  /// have advanced into the next one; the caller ends the run).
  virtual void advance(int records, int64_t first_step, const std::vector<double>& input, chunk_result& out,
                       const std::atomic<bool>* stop = nullptr) = 0;
  /// Copies of per-neuron state for tests and checkpoints (not for the hot path).
  virtual void get_eta(int replica, std::vector<double>& eta) = 0;
  /// paper: v; exact: the state p of exact_step (v = p_to_v(p)).
  virtual void get_state(int replica, std::vector<double>& v_or_p, std::vector<double>& w) = 0;
  virtual std::vector<double> get_s(int replica) = 0;
  /// The whole dynamic state of every replica (backend_state's layout), for
  /// checkpoints: with set_state on a backend set up with the same spec and
  /// replicas, the following steps give bit-identical results.
  virtual void get_state(backend_state& out) = 0;
  /// Replaces the dynamic state (after setup()); user_error when the arrays do
  /// not match state_layout(). Over ranks (distribute()), `in` holds the
  /// whole network (the backend takes its held() slices) or exactly those
  /// slices (state_part).
  virtual void set_state(const backend_state& in) = 0;
  /// The neurons this backend holds after setup(), one slice per (replica,
  /// population), index replica * P + population, in the order of the
  /// per-neuron arrays of get_state(backend_state&). Empty: every neuron
  /// (one process; the default for a backend that does not distribute).
  virtual std::vector<population_slice> held() const { return {}; }
};

/// CPU backend with `threads` OpenMP threads (0: OpenMP's default). With
/// `adaptive`, `threads` is an upper bound: the backend measures its rate with
/// fewer threads now and then and uses the fastest count (on a machine shared
/// with other work, threads that meet every step can lose to one thread).
/// Results are bit-identical for every thread count, so this only changes speed.
std::unique_ptr<backend> make_cpu_backend(int threads, bool adaptive = false);
/// CPU cores this process may use (its affinity mask; at least 1).
int usable_cores();
/// `requested` threads capped to usable_cores(), with one warning ("<label> is more than the N core(s)
/// ...") when capped: more threads than cores only wait for each other. The command line and the Python
/// module both use it (label "--threads 64", "threads=64").
int cap_threads(int requested, const std::string& label);
/// True when this build has the CUDA backend and a usable device is present.
bool cuda_available(std::string* why = nullptr);
/// CUDA backend; throws device_error when no usable device exists or the
/// build has no CUDA.
std::unique_ptr<backend> make_cuda_backend();

}  // namespace izhinet
