#pragma once
/// \file partition.hpp
/// One network over several ranks (docs/mpi.md): which neurons a rank holds.
/// Every population is cut into contiguous slices by global neuron index, so
/// eta and every per-neuron value are those of a single process. The cuts
/// fall on multiples of the moment block (the fixed blocks whose partial
/// sums give <v>, <w>, ...), so each block lies on one rank and the moments,
/// added block by block in block order, are bit-identical for any rank count.
#include <algorithm>
#include <cstdint>

#include "izhinet/hd.hpp"

namespace izhinet {

/// Neurons [first, first + count) of a population.
struct population_slice {
  int64_t first = 0;
  int64_t count = 0;
};

/// Rank `rank` of `ranks`: a share of the ceil(n / block) blocks of a
/// population of n (blocks dealt as evenly as whole blocks allow; a rank may
/// get none when the population has fewer blocks than there are ranks).
inline population_slice slice_of(int64_t n, int rank, int ranks, int64_t block) {
  if (ranks <= 1) return {0, n};
  const int64_t nb = (n + block - 1) / block;
  const int64_t b0 = nb * rank / ranks, b1 = nb * (rank + 1) / ranks;
  const int64_t first = std::min(n, b0 * block), end = std::min(n, b1 * block);
  return {first, end - first};
}

}  // namespace izhinet
