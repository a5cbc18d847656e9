#pragma once
/// \file philox.hpp
/// Philox4x32-10 (Salmon et al., SC'11), a counter-based generator: the draw
/// for neuron j is a pure function of (seed, j), so the CPU and CUDA backends,
/// any thread count and any replica layout draw identical numbers.
#include <cstdint>

#include "izhinet/hd.hpp"

namespace izhinet {

struct philox4x32 {
  uint32_t v[4];
};

IZH_HD IZH_FORCEINLINE uint32_t mulhilo32(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

/// Ten rounds of Philox4x32 on counter `c` with key (k0, k1).
IZH_HD inline philox4x32 philox4x32_10(philox4x32 c, uint32_t k0, uint32_t k1) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = mulhilo32(M0, c.v[0], &hi0);
    const uint32_t lo1 = mulhilo32(M1, c.v[2], &hi1);
    philox4x32 n;
    n.v[0] = hi1 ^ c.v[1] ^ k0;
    n.v[1] = lo1;
    n.v[2] = hi0 ^ c.v[3] ^ k1;
    n.v[3] = lo0;
    c = n;
    k0 += W0;
    k1 += W1;
  }
  return c;
}

/// Uniform double in the open interval (0, 1) for index `index` of stream
/// `stream` under `seed` (53 random bits, never 0 or 1).
IZH_HD inline double philox_uniform(uint64_t seed, uint64_t index, uint32_t stream) {
  philox4x32 c;
  c.v[0] = static_cast<uint32_t>(index);
  c.v[1] = static_cast<uint32_t>(index >> 32);
  c.v[2] = stream;
  c.v[3] = 0x1A2B3C4Du;
  const philox4x32 r = philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  const uint64_t bits = (static_cast<uint64_t>(r.v[0]) << 21) ^ static_cast<uint64_t>(r.v[1] >> 11);
  const uint64_t m = bits & ((uint64_t(1) << 53) - 1);
  return (static_cast<double>(m) + 0.5) * (1.0 / 9007199254740992.0);  // (m + 1/2) / 2^53
}

}  // namespace izhinet
