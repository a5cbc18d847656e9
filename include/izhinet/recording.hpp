#pragma once
/// \file recording.hpp
/// Which neurons' spikes are written: m of each population of n neurons,
/// spread evenly over the population (local indices floor(q n / m),
/// q = 0..m-1), so that with quantile sampling the recorded neurons span
/// the whole eta range. Shared by the CPU backend and the CUDA kernels.
#include <cstdint>

#include "izhinet/hd.hpp"

namespace izhinet {

/// True when local neuron k (0 <= k < n) of a population is recorded.
/// k is recorded iff k = floor(q n / m) for some integer q in [0, m),
/// i.e. iff ceil(k m / n) * n < (k + 1) m ... computed without overflow for n, m < 2^31.
IZH_HD inline bool is_recorded(int64_t k, int64_t n, int64_t m) {
  if (m <= 0) return false;
  if (m >= n) return true;
  // smallest q with floor(q n / m) >= k is q = ceil(k m / n); recorded iff floor(q n / m) == k.
  const int64_t q = (k * m + n - 1) / n;
  return q < m && (q * n) / m == k;
}

}  // namespace izhinet
