/// \file ceiling.cu
/// Benchmark-only kernel: the bandwidth ceiling of the paper update, for the
/// ratio that bench_cuda prints (docs/development.md: benchmarks print a ratio against a
/// baseline measured in the same run).
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "cuda_check.cuh"
#include "izhinet/cuda_bench.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/neuron.hpp"

namespace izhinet {
namespace bench {
namespace {

constexpr int k_threads = 256;

/// Grid-stride over pairs of neurons with 16-byte accesses: the same loads,
/// stores and arithmetic per neuron as step_kernel, nothing else. n is even.
__global__ void __launch_bounds__(k_threads)
    ceiling_kernel(double2* v, double2* w, const double2* eta, int64_t pairs, step_coeffs k) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * k_threads;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * k_threads + threadIdx.x; p < pairs; p += stride) {
    double2 vv = v[p], ww = w[p];
    const double2 ee = __ldg(eta + p);
    paper_step(vv.x, ww.x, ee.x, k);
    paper_step(vv.y, ww.y, ee.y, k);
    v[p] = vv;
    w[p] = ww;
  }
}

/// v = 0, w = 0, eta spread over [-0.1, 0.3]: some neurons spike, as in a run.
__global__ void ceiling_init(double* v, double* w, double* eta, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    v[i] = 0.0;
    w[i] = 0.0;
    eta[i] = -0.1 + 0.4 * static_cast<double>(i % 1024) / 1024.0;
  }
}

struct scoped_device_memory {
  double* p = nullptr;
  ~scoped_device_memory() {
    if (p) cudaFree(p);
  }
};

struct scoped_events {
  cudaEvent_t start = nullptr, stop = nullptr;
  ~scoped_events() {
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
  }
};

}  // namespace

uint64_t free_device_memory() {
  size_t free_bytes = 0, total = 0;
  if (cudaMemGetInfo(&free_bytes, &total) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return free_bytes;
}

ceiling_result run_ceiling(int64_t n, double min_seconds) {
  n += n & 1;
  const size_t bytes = static_cast<size_t>(n) * 3 * sizeof(double);
  if (bytes + (64u << 20) > free_device_memory())
    throw device_error("ceiling: " + std::to_string(n) + " neurons need " + std::to_string(bytes >> 20) +
                       " MiB, more than the free device memory");
  scoped_device_memory mem;
  IZH_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&mem.p), bytes));
  double* v = mem.p;
  double* w = v + n;
  double* eta = w + n;
  int device = 0, sms = 0;
  IZH_CUDA_CHECK(cudaGetDevice(&device));
  IZH_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  ceiling_init<<<sms * 8, 256>>>(v, w, eta, n);
  IZH_CUDA_CHECK_LAUNCH("ceiling_init", cudaStream_t{});

  const step_coeffs k{0.6215, 0.0, 0.0077, -0.0062, 0.0189, 200.0, -200.0, 1e-3};
  const int64_t pairs = n / 2;
  const int64_t wanted = (pairs + k_threads - 1) / k_threads;
  const int blocks = static_cast<int>(std::min<int64_t>(wanted, static_cast<int64_t>(sms) * 32));
  scoped_events ev;
  IZH_CUDA_CHECK(cudaEventCreate(&ev.start));
  IZH_CUDA_CHECK(cudaEventCreate(&ev.stop));

  auto time_steps = [&](int64_t steps) {
    IZH_CUDA_CHECK(cudaEventRecord(ev.start));
    for (int64_t s = 0; s < steps; ++s) {
      ceiling_kernel<<<blocks, k_threads>>>(reinterpret_cast<double2*>(v), reinterpret_cast<double2*>(w),
                                            reinterpret_cast<const double2*>(eta), pairs, k);
      IZH_CUDA_CHECK_LAUNCH("ceiling_kernel", cudaStream_t{});
    }
    IZH_CUDA_CHECK(cudaEventRecord(ev.stop));
    IZH_CUDA_CHECK(cudaEventSynchronize(ev.stop));
    float ms = 0.0f;
    IZH_CUDA_CHECK(cudaEventElapsedTime(&ms, ev.start, ev.stop));
    return 1e-3 * ms;
  };
  ceiling_result r;
  r.steps = 4;
  r.seconds = time_steps(r.steps);  // warm-up and first estimate
  while (r.seconds < min_seconds) {
    const double per_step = r.seconds / static_cast<double>(r.steps);
    r.steps = static_cast<int64_t>(1.2 * min_seconds / std::max(per_step, 1e-7)) + 1;
    r.seconds = time_steps(r.steps);
  }
  return r;
}

}  // namespace bench
}  // namespace izhinet
