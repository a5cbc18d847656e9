#pragma once
/// \file cuda_bench.hpp
/// Plain C++ prototypes of the benchmark-only kernels (kernels/ceiling.cu),
/// so that benchmarks/bench_cuda.cpp needs no CUDA header.
#include <cstdint>

namespace izhinet {
namespace bench {

/// Result of timing the ceiling kernel.
struct ceiling_result {
  int64_t steps = 0;     ///< steps timed
  double seconds = 0.0;  ///< device time for them (CUDA events)
};

/// The "ceiling": the paper update (paper_step of neuron.hpp) of n neurons
/// with fixed coefficients, no synapse, no reduction, no spike count: the
/// fastest a step of this model can go on the device (about 40 bytes of
/// memory traffic per neuron-step). Runs at least `min_seconds` of steps after
/// a warm-up. Throws device_error when n neurons do not fit in device memory.
ceiling_result run_ceiling(int64_t n, double min_seconds);

/// Free device memory in bytes (0 when no device).
uint64_t free_device_memory();

}  // namespace bench
}  // namespace izhinet
