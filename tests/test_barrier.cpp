// The CPU backend's step barrier under oversubscription: many more threads
// than cores, thousands of rounds, under a watchdog that fails on a stall
// instead of hanging the suite (a lost wake-up would show as no progress).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/params.hpp"
#include "izhinet/simulation.hpp"
#include "step_barrier.hpp"
#include "test_helpers.hpp"

using izhinet::detail::step_barrier;

namespace {

/// Runs `threads` threads through `rounds` barrier rounds; each round every
/// thread adds to a shared counter and checks, after the barrier, that all
/// threads of the round have arrived. Returns false on a stall of `stall_s`.
bool run_rounds(int threads, int rounds, int spins, double stall_s, int* errors) {
  step_barrier barrier(threads, spins, spins > 0 ? 4 : 0);
  std::atomic<long> arrived{0};
  std::atomic<int> bad{0};
  std::atomic<int> done{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        arrived.fetch_add(1);
        barrier.wait();
        // Every thread of round r has arrived before anyone leaves it.
        if (arrived.load() < static_cast<long>(r + 1) * threads) bad.fetch_add(1);
        // A second barrier so that round r + 1's arrivals do not start before
        // everyone has checked round r.
        barrier.wait();
        if (t == 0 && (r & 63) == 0) std::this_thread::yield();
      }
      done.fetch_add(1);
    });
  uint64_t last = barrier.generation();
  auto last_change = std::chrono::steady_clock::now();
  bool stalled = false;
  while (done.load() < threads) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const uint64_t g = barrier.generation();
    const auto now = std::chrono::steady_clock::now();
    if (g != last) {
      last = g;
      last_change = now;
    } else if (std::chrono::duration<double>(now - last_change).count() > stall_s) {
      stalled = true;
      break;
    }
  }
  if (stalled) {
    // Leave the stuck threads behind: the test fails instead of hanging.
    for (auto& th : pool) th.detach();
    return false;
  }
  for (auto& th : pool) th.join();
  *errors = bad.load();
  return true;
}

}  // namespace

TEST(StepBarrier, ManyMoreThreadsThanCoresNeverStallOrLeakARound) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (const int spins : {0, 256}) {
    int errors = -1;
    ASSERT_TRUE(run_rounds(8 * cores, 3000, spins, 10.0, &errors)) << "barrier stalled (lost wake-up), spins " << spins;
    EXPECT_EQ(errors, 0) << "a thread left a round before all had arrived";
  }
}

TEST(StepBarrier, TwoThreadsSurviveTensOfThousandsOfRoundsOnABusyMachine) {
  // Busy the cores with spinning threads so that the two barrier threads get
  // descheduled at random points (the condition under which the former
  // hand-written futex barrier lost its wake-up).
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<bool> quit{false};
  std::vector<std::thread> hogs;
  for (int i = 0; i < cores; ++i)
    hogs.emplace_back([&] {
      volatile double x = 1;
      while (!quit.load(std::memory_order_relaxed)) x = x * 1.0000001;
    });
  int errors = -1;
  const bool ok = run_rounds(2, 20000, 256, 10.0, &errors);
  quit = true;
  for (auto& h : hogs) h.join();
  ASSERT_TRUE(ok) << "barrier stalled (lost wake-up)";
  EXPECT_EQ(errors, 0);
}

TEST(StepBarrier, OversubscribedEngineRunEqualsOneThreadBitForBit) {
  // The engine with 4x more threads than cores and many short steps: it must
  // finish (a watchdog thread flags a stall) and equal the 1-thread result.
  using namespace izhinet;
  model_spec m = paper_one_population(0.12);
  m.network.n = 3000;
  m.run.t_end = 20;
  m.run.record_every = 50;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto one = izhinet::testing::run_cpu(m, 1);
  std::atomic<bool> finished{false};
  std::vector<record_row> many;
  std::thread worker([&] {
    many = izhinet::testing::run_cpu(m, 4 * cores);
    finished = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  while (!finished && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(120))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!finished) {
    worker.detach();
    FAIL() << "the oversubscribed engine run made no progress for 120 s";
  }
  worker.join();
  ASSERT_EQ(one.size(), many.size());
  for (size_t k = 0; k < one.size(); ++k) {
    EXPECT_EQ(one[k].r[0], many[k].r[0]) << "row " << k;
    EXPECT_EQ(one[k].v[0], many[k].v[0]) << "row " << k;
    EXPECT_EQ(one[k].w[0], many[k].w[0]) << "row " << k;
    EXPECT_EQ(one[k].s[0], many[k].s[0]) << "row " << k;
  }
}

TEST(CpuBackend, RecordedSpikesDoNotDependOnTheThreadCount) {
  using namespace izhinet;
  for (auto scheme : {scheme_kind::paper, scheme_kind::exact}) {
    model_spec m = paper_two_populations(0.25, 0.8);
    m.network.n = 5000;
    m.run.t_end = 30;
    m.run.scheme = scheme;
    m.run.dt = scheme == scheme_kind::exact ? 1e-2 : 1e-3;
    m.run.record_every = 10;
    m.run.spike_neurons = 300;
    std::vector<std::vector<spike_event>> got;
    for (int threads : {1, 2, 3}) {
      auto be = make_cpu_backend(threads);
      const auto reps = default_replicas(m);
      be->setup(m, reps);
      izhinet::testing::memory_sink sink;
      simulation_options o;
      o.progress_seconds = 0;
      simulate(m, *be, reps, sink, o);
      got.push_back(sink.spikes);
    }
    ASSERT_GT(got[0].size(), 100u) << "the recorded neurons should spike";
    for (size_t k = 1; k < got.size(); ++k) {
      ASSERT_EQ(got[0].size(), got[k].size());
      for (size_t e = 0; e < got[0].size(); ++e) {
        EXPECT_EQ(got[0][e].step, got[k][e].step);
        EXPECT_EQ(got[0][e].population, got[k][e].population);
        EXPECT_EQ(got[0][e].neuron, got[k][e].neuron);
      }
    }
  }
}

TEST(CpuBackend, AStopRequestEndsALongRecordWithinItsSteps) {
  // One record of 5e6 steps at N = 2000 takes far longer than the test allows;
  // a stop request must end the call mid-record, reporting no complete record.
  using namespace izhinet;
  model_spec m = paper_one_population(0.25);
  m.network.n = 2000;
  m.run.t_end = 5000;
  m.run.record_every = 5000000;
  for (int threads : {1, 2}) {
    auto be = make_cpu_backend(threads);
    const auto reps = default_replicas(m);
    be->setup(m, reps);
    std::atomic<bool> stop{false};
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      stop = true;
    });
    izhinet::testing::memory_sink sink;
    simulation_options o;
    o.progress_seconds = 0;
    o.stop = &stop;
    const auto t0 = std::chrono::steady_clock::now();
    const auto res = simulate(m, *be, reps, sink, o);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stopper.join();
    EXPECT_EQ(res.state, simulation_result::status::interrupted);
    EXPECT_LT(wall, 3.0) << threads << " thread(s)";
    EXPECT_TRUE(sink.rows.empty() || sink.rows[0].empty());
  }
}
