#pragma once
/// \file step_barrier.hpp
/// The barrier the CPU backend's threads meet at once per step.
///
/// It spins briefly (a step of a large network is tens of microseconds, and
/// a sleep/wake pair costs a few), then blocks on a condition variable, so a
/// thread never burns its core while its partner waits to be scheduled on a
/// busy machine. There is no hand-written futex protocol: the generation
/// counter is changed under the mutex that the sleepers check it under, which
/// rules out a lost wake-up by construction (the standard condition-variable
/// argument), and the code is portable (no x86 intrinsic is required).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace izhinet::detail {

/// A hint to the core that this is a spin-wait loop (x86 `pause`, aarch64 `yield`).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

class step_barrier {
 public:
  /// `n` participating threads; `spins` busy polls before yielding, then
  /// `yields` sched_yield polls before sleeping.
  explicit step_barrier(int n, int spins = 256, int yields = 8) : n_(n), spins_(spins), yields_(yields) {}
  step_barrier(const step_barrier&) = delete;
  step_barrier& operator=(const step_barrier&) = delete;

  void wait() {
    const uint64_t gen = gen_.load(std::memory_order_seq_cst);
    if (count_.fetch_add(1, std::memory_order_seq_cst) == n_ - 1) {
      count_.store(0, std::memory_order_relaxed);
      {
        // The store happens under the mutex: a sleeper either saw the old
        // value under the mutex and is already waiting (so notify reaches it),
        // or takes the mutex after this and sees the new value.
        std::lock_guard<std::mutex> lock(m_);
        gen_.store(gen + 1, std::memory_order_seq_cst);
      }
      if (sleepers_.load(std::memory_order_seq_cst) > 0) cv_.notify_all();
      return;
    }
    for (int i = 0; i < spins_; ++i) {
      if (gen_.load(std::memory_order_acquire) != gen) return;
      cpu_relax();
    }
    for (int i = 0; i < yields_; ++i) {
      if (gen_.load(std::memory_order_acquire) != gen) return;
      std::this_thread::yield();
    }
    std::unique_lock<std::mutex> lock(m_);
    // sleepers_ is raised under the mutex, before the predicate is checked;
    // the last arriver reads it after releasing the mutex that it changed gen
    // under, so it cannot miss a sleeper that saw the old generation.
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    cv_.wait(lock, [&] { return gen_.load(std::memory_order_acquire) != gen; });
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  }

  /// How many rounds have completed (for watchdogs in tests).
  uint64_t generation() const { return gen_.load(std::memory_order_acquire); }

 private:
  const int n_, spins_, yields_;
  std::atomic<int> count_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<uint64_t> gen_{0};
  std::mutex m_;
  std::condition_variable cv_;
};

}  // namespace izhinet::detail
