#pragma once
/// \file sampling.hpp
/// Heterogeneous excitabilities eta drawn from the Lorentzian (Cauchy) density
/// \f$ L(\eta) = \frac{\Delta/\pi}{(\eta-\bar\eta)^2+\Delta^2} \f$ (docs/model.md section 3).
#include <cmath>
#include <cstdint>

#include "izhinet/hd.hpp"
#include "izhinet/philox.hpp"

namespace izhinet {

/// Deterministic quantile j (1-based) of N:
/// \f$ \eta_j = \bar\eta + \Delta \tan(\frac{\pi}{2}\frac{2j-N-1}{N+1}) \f$.
IZH_HD inline double lorentz_quantile(double eta_bar, double delta, int64_t j, int64_t n) {
  const double x =
      0.5 * k_pi * (2.0 * static_cast<double>(j) - static_cast<double>(n) - 1.0) / (static_cast<double>(n) + 1.0);
  return eta_bar + delta * tan(x);
}

/// Random draw \f$ \eta = \bar\eta + \Delta\tan(\pi(u-1/2)) \f$ with u from Philox
/// at (seed, index, stream). `stream` separates populations.
IZH_HD inline double lorentz_random(double eta_bar, double delta, uint64_t seed, uint64_t index, uint32_t stream) {
  const double u = philox_uniform(seed, index, stream);
  return eta_bar + delta * tan(k_pi * (u - 0.5));
}

/// eta of neuron `local` (0-based) of a population of size n.
IZH_HD inline double sample_eta(bool random, double eta_bar, double delta, uint64_t seed, int64_t local, int64_t n,
                                uint32_t population) {
  return random ? lorentz_random(eta_bar, delta, seed, static_cast<uint64_t>(local), population)
                : lorentz_quantile(eta_bar, delta, local + 1, n);
}

}  // namespace izhinet

namespace izhinet {

/// Host fill of eta for neurons [begin, begin + count) of a population of n
/// (OpenMP threads). Both backends call this, so eta is bit-identical on the
/// CPU and the GPU (device tan() can differ from the host's by an ulp, which
/// near the Lorentzian's tails becomes hundreds of ulp of eta).
void fill_eta(bool random, double eta_bar, double delta, uint64_t seed, int64_t n, uint32_t population, int64_t begin,
              int64_t count, double* out);

}  // namespace izhinet
