#pragma once
/// \file cuda_check.cuh
/// The one checker every CUDA runtime call and kernel launch goes through.
/// A failure throws izhinet::device_error naming the call, the function, the
/// file, the line and cudaGetErrorString. Launches are checked with
/// cudaGetLastError (no synchronisation); debug builds (no NDEBUG) also
/// synchronise the stream after a launch, unless it is being captured into a
/// graph, so that an asynchronous fault is reported at the launch that made it.
#include <cuda_runtime.h>

#include <string>

#include "izhinet/errors.hpp"

namespace izhinet {
namespace cuda_detail {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* what, const char* func, const char* file,
                                          int line) {
  throw device_error(std::string("CUDA error in ") + func + " (" + file + ":" + std::to_string(line) + "): " + what +
                     " failed: " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
}

inline void check(cudaError_t err, const char* what, const char* func, const char* file, int line) {
  if (err != cudaSuccess) throw_cuda_error(err, what, func, file, line);
}

inline void check_launch(cudaStream_t stream, const char* kernel, const char* func, const char* file, int line) {
  check(cudaGetLastError(), kernel, func, file, line);
#ifndef NDEBUG
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  check(cudaStreamIsCapturing(stream, &capturing), "cudaStreamIsCapturing", func, file, line);
  if (capturing == cudaStreamCaptureStatusNone) check(cudaStreamSynchronize(stream), kernel, func, file, line);
#else
  (void)stream;
#endif
}

}  // namespace cuda_detail
}  // namespace izhinet

/// Check a CUDA runtime call: IZH_CUDA_CHECK(cudaMalloc(&p, bytes));
#define IZH_CUDA_CHECK(expr) ::izhinet::cuda_detail::check((expr), #expr, __func__, __FILE__, __LINE__)
/// Check the launch just made on `stream`: kernel<<<g, b, 0, s>>>(...); IZH_CUDA_CHECK_LAUNCH("kernel", s);
#define IZH_CUDA_CHECK_LAUNCH(kernel_name, stream) \
  ::izhinet::cuda_detail::check_launch((stream), "launch of " kernel_name, __func__, __FILE__, __LINE__)
