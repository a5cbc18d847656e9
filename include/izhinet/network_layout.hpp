#pragma once
/// \file network_layout.hpp
/// The model lowered once into what a backend runs (no CUDA, no threads).
///
/// `model_spec` says what is simulated; a list of `replica_spec` says how many
/// independent copies, of which size and seed, and with which per-replica
/// parameter overrides. `network_layout::build` turns both into flat tables
/// that every backend consumes unchanged: one *segment* per (replica,
/// population) with its place in the flat state arrays, the synaptic
/// coefficients kappa_j g_ij, 1/N_j, the gating decay exp(-dt/tau_s), the
/// per-segment neuron constants, the recorded neurons, and the slice of each
/// population this process owns (the whole population unless a partition is
/// given: one rank's slice over MPI). See docs/architecture.md.
#include <cstdint>
#include <optional>
#include <vector>

#include "izhinet/params.hpp"

namespace izhinet {

/// Parameters of one population that a replica may set to its own value
/// (parameter sweeps in one run). Unset members keep the model's value. An
/// `I_ext` override is a constant input for the whole run.
struct population_override {
  std::optional<double> eta_bar, delta, alpha, a, b, w_jump, I_ext;
  bool empty() const { return !(eta_bar || delta || alpha || a || b || w_jump || I_ext); }
};

/// One independent network advanced by a backend. All replicas share the
/// model's structure (populations, synapse time constants, scheme, dt) and
/// may differ in size, seed and the overridden parameters.
struct replica_spec {
  int64_t n = 0;
  uint64_t seed = 1;
  /// Per population (empty: no override; otherwise one entry per population).
  std::vector<population_override> overrides{};
  /// Coupling matrix g[i][j] of this replica (empty: the model's).
  std::vector<std::vector<double>> g{};
};

/// The model's parameters of population `pop` with the replica's overrides applied.
population_params effective_population(const model_spec& spec, const replica_spec& replica, int pop);

/// Which neurons of each population this process owns: [first, first + count)
/// of population i (global neuron indices within the population). The
/// default, an empty partition, owns every neuron. With `ranks` > 1 (one
/// network over the ranks of a communicator, docs/mpi.md), every population of
/// every replica is instead cut by slice_of (partition.hpp) into contiguous
/// slices on multiples of `block` neurons (the moment blocks, so that the
/// moments are bit-identical for any rank count), and this process owns the
/// slice of `rank`.
struct partition_spec {
  std::vector<int64_t> first;  ///< per population (empty: 0)
  std::vector<int64_t> count;  ///< per population (empty: all); clipped to the population
  int rank = 0;
  int ranks = 1;
  int64_t block = 4096;
  /// The slice of rank `rank` of `ranks`, cut at multiples of `block`.
  static partition_spec ranks_of(int rank, int ranks, int64_t block) {
    partition_spec p;
    p.rank = rank;
    p.ranks = ranks;
    p.block = block;
    return p;
  }
};

/// One (replica, population): a contiguous range of the flat state arrays.
struct layout_segment {
  int replica = 0;
  int pop = 0;
  int64_t n = 0;       ///< N_i: neurons in the whole population (sets eta, 1/N_j, kappa)
  int64_t first = 0;   ///< global index (within the population) of the first owned neuron
  int64_t count = 0;   ///< owned neurons (n unless partitioned)
  int64_t offset = 0;  ///< position of the first owned neuron in the flat arrays (a multiple of the alignment)
  uint64_t seed = 1;   ///< the replica's seed
};

/// Neuron constants of one segment (the model's values with the replica's overrides).
struct segment_params {
  double alpha, a, b, w_jump, v_peak, v_reset;
  double eta_bar, delta;
  int fixed_input;     ///< 1: I_ext is `input` at all times (a replica override), 0: from the input table
  double input_value;  ///< the constant input when fixed_input
};

/// A neuron whose spikes are written (run.spike_neurons per population).
struct layout_recorded {
  int64_t flat;  ///< index in the flat arrays
  int replica, pop;
  int64_t local;  ///< index within the population
};

class network_layout {
 public:
  /// Lowers `spec` for `replicas`. `align`: every segment's offset is a
  /// multiple of it (1 on the CPU; the CUDA backend pads to 256 bytes).
  /// Throws config_error for an invalid model or override (naming the key).
  static network_layout build(const model_spec& spec, const std::vector<replica_spec>& replicas, int64_t align = 1,
                              const partition_spec& part = {});

  int R = 0;  ///< replicas
  int P = 0;  ///< populations
  scheme_kind scheme = scheme_kind::paper;
  double dt = 0;
  int64_t record_every = 1;
  int64_t spike_neurons = 0;
  bool random_eta = false;

  std::vector<layout_segment> segments;   ///< [replica * P + pop]
  std::vector<segment_params> params;     ///< [replica * P + pop]
  std::vector<int64_t> replica_n;         ///< [replica] total neurons of the replica
  std::vector<double> kg;                 ///< [(replica * P + i) * P + j] = kappa_j g_ij (kappa_j = N_j / n)
  std::vector<double> inv_n;              ///< [replica * P + j] = 1 / N_j
  std::vector<double> e_r;                ///< [j] reversal potential
  std::vector<double> tau_s;              ///< [j] gating decay time
  std::vector<double> decay;              ///< [j] exp(-dt / tau_s,j)
  std::vector<double> s_jump;             ///< [j] gating jump
  std::vector<layout_recorded> recorded;  ///< in flat order
  int64_t owned = 0;                      ///< neurons in the flat arrays (all segments, no padding)
  int64_t extent = 0;                     ///< length of the flat arrays (with alignment padding)

  int RP() const { return R * P; }
  const layout_segment& segment(int replica, int pop) const { return segments[static_cast<size_t>(replica) * P + pop]; }
  /// N_i of every population of a replica.
  std::vector<int64_t> sizes(int replica) const;
  /// True when some segment takes a constant input of its own.
  bool any_fixed_input() const;
  /// eta of owned neurons [begin, begin + count) of segment `seg` (begin
  /// relative to the segment's first owned neuron), bit-identical on every
  /// backend (the host's evaluation of sample_eta).
  void fill_eta(size_t seg, int64_t begin, int64_t count, double* out) const;
};

}  // namespace izhinet
