#pragma once
/// \file hd.hpp
/// Host/device portability: the per-neuron arithmetic is written once and
/// compiled by g++ (CPU backend, tests) and by nvcc (CUDA kernels).
#if defined(__CUDACC__)
#define IZH_HD __host__ __device__
#define IZH_FORCEINLINE __forceinline__
#else
#define IZH_HD
#define IZH_FORCEINLINE inline __attribute__((always_inline))
#endif

namespace izhinet {
/// pi, the one spelling used everywhere (host and device code).
constexpr double k_pi = 3.14159265358979323846;
}  // namespace izhinet
