#include "izhinet/sampling.hpp"

namespace izhinet {

void fill_eta(bool random, double eta_bar, double delta, uint64_t seed, int64_t n, uint32_t population, int64_t begin,
              int64_t count, double* out) {
#pragma omp parallel for schedule(static) if (count > 65536)
  for (int64_t k = 0; k < count; ++k) out[k] = sample_eta(random, eta_bar, delta, seed, begin + k, n, population);
}

}  // namespace izhinet
