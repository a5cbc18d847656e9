#pragma once
/// \file recording.hpp
/// Which neurons have their spikes written (run.spike_neurons = m > 0).
///
/// Population i (N_i neurons) records m_i = min(m, N_i) neurons spread evenly
/// over its local indices: \f$ k_q = \lfloor q N_i / m_i \rfloor \f$, q = 0..m_i-1.
/// Spreading matters for quantile sampling, where the local index orders the
/// neurons by excitability: the first m neurons would all be the least
/// excitable ones (and often silent).
///
/// The test is written as a predicate on k so that a kernel (or a CPU loop)
/// can decide for a neuron that just spiked without a lookup table:
/// k is some k_q iff an integer multiple of N lies in [k m, k m + m), that is
/// iff r = (k m) mod N is 0 or r > N - m. Requires k m < 2^63 (N, m <= 3e9).
/// Shared by the CPU backend and the CUDA kernels (same function, same answer).
#include <cstdint>

#include "izhinet/hd.hpp"

namespace izhinet {

/// True when neuron k (0-based, local to a population of n neurons) is one of
/// the recorded neurons for `spike_neurons` = m (m <= 0: none).
IZH_HD IZH_FORCEINLINE bool is_recorded(int64_t k, int64_t n, int64_t m) {
  if (m <= 0 || k < 0 || k >= n) return false;
  if (m >= n) return true;
  const int64_t r = (k * m) % n;
  return r == 0 || r > n - m;
}

/// The local index of the q-th recorded neuron (0 <= q < min(m, n)).
IZH_HD IZH_FORCEINLINE int64_t recorded_neuron(int64_t q, int64_t n, int64_t m) {
  const int64_t mi = m < n ? m : n;
  return (q * n) / mi;
}

}  // namespace izhinet
