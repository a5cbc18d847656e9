#pragma once
/// \file thread_ranks.hpp
/// K "ranks" inside one test process: each rank is a thread with its own
/// backend, and `thread_communicator` implements the communicator's
/// collectives between the threads (a barrier and shared buffers), so a
/// backend's distribute() path runs without MPI and without mpirun. Used by
/// the CPU test (test_thread_ranks.cpp) and the GPU one
/// (gpu/test_cuda_ranks.cpp): one network over K ranks against one process.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/communicator.hpp"
#include "izhinet/params.hpp"

namespace izhinet::test {

/// What the K threads share: a reusable barrier and one slot per rank.
class thread_group {
 public:
  explicit thread_group(int ranks) : ints_(ranks), doubles_(ranks), texts_(ranks), ranks_(ranks) {}
  int ranks() const { return ranks_; }
  /// Every rank waits until all have arrived (a generation counter makes it reusable).
  void barrier() {
    std::unique_lock<std::mutex> lock(m_);
    const uint64_t gen = generation_;
    if (++arrived_ == ranks_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != gen; });
    }
  }
  std::vector<std::vector<int64_t>> ints_;
  std::vector<std::vector<double>> doubles_;
  std::vector<std::string> texts_;

 private:
  int ranks_;
  std::mutex m_;
  std::condition_variable cv_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
};

/// The communicator of rank `rank` of a thread_group: sums add the ranks'
/// values in rank order (as an MPI reduction may not, but izhinet sums only
/// integers, and doubles where one rank alone is non-zero).
class thread_communicator final : public communicator {
 public:
  thread_communicator(thread_group& g, int rank) : g_(g), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return g_.ranks(); }
  int local_rank() const override { return rank_; }
  std::string name() const override { return "threads"; }
  void sum(int64_t* data, size_t n) override { sum_as(g_.ints_, data, n); }
  void sum(double* data, size_t n) override { sum_as(g_.doubles_, data, n); }
  std::vector<int64_t> gather(const std::vector<int64_t>& mine) override {
    g_.ints_[rank_] = mine;
    g_.barrier();
    std::vector<int64_t> all;
    if (rank_ == 0)
      for (const auto& v : g_.ints_) all.insert(all.end(), v.begin(), v.end());
    g_.barrier();
    return all;
  }
  std::vector<std::string> gather_text(const std::string& mine) override {
    g_.texts_[rank_] = mine;
    g_.barrier();
    std::vector<std::string> all;
    if (rank_ == 0) all = g_.texts_;
    g_.barrier();
    return all;
  }
  std::vector<double> gather(const std::vector<double>& mine) override {
    g_.doubles_[rank_] = mine;
    g_.barrier();
    std::vector<double> all;
    if (rank_ == 0)
      for (const auto& v : g_.doubles_) all.insert(all.end(), v.begin(), v.end());
    g_.barrier();
    return all;
  }
  std::vector<double> scatter(const std::vector<std::vector<double>>& parts) override {
    if (rank_ == 0)
      for (int r = 0; r < g_.ranks(); ++r) g_.doubles_[r] = parts.at(static_cast<size_t>(r));
    g_.barrier();
    std::vector<double> mine = g_.doubles_[rank_];
    g_.barrier();
    return mine;
  }
  void broadcast(std::string& text) override {
    if (rank_ == 0) g_.texts_[0] = text;
    g_.barrier();
    text = g_.texts_[0];
    g_.barrier();
  }
  [[noreturn]] void abort(int) override { std::abort(); }

 private:
  template <class T>
  void sum_as(std::vector<std::vector<T>>& slots, T* data, size_t n) {
    slots[rank_].assign(data, data + n);
    g_.barrier();
    for (size_t k = 0; k < n; ++k) {
      T x = 0;
      for (const auto& s : slots) x += s[k];
      data[k] = x;
    }
    g_.barrier();  // nobody overwrites its slot before every rank has read all
  }
  thread_group& g_;
  int rank_;
};

/// Everything a run produced, chunk after chunk.
struct rank_run_output {
  std::vector<uint32_t> step_spikes;
  std::vector<pop_moments> moments;
  std::vector<spike_event> spikes;
};

/// I_ext per step and population: a small square wave, different per population.
inline double rank_test_input(int64_t step, int pop) {
  return ((step / 700) % 2 == 0 ? 0.0 : 0.02) * (1.0 + 0.5 * pop);
}

/// Steps [first, first + steps) of `b` (already set up) in chunks of
/// `records_per_chunk` records, appended to `o`.
inline void advance_range(backend& b, const model_spec& spec, int64_t first, int64_t steps, int records_per_chunk,
                          rank_run_output& o) {
  const int P = spec.num_populations();
  const int64_t every = spec.run.record_every;
  chunk_result out;
  for (const int64_t end = first + steps; first < end;) {
    const int records = static_cast<int>(std::min<int64_t>(records_per_chunk, (end - first) / every));
    std::vector<double> input(static_cast<size_t>(records) * every * P);
    for (int64_t m = 0; m < records * every; ++m)
      for (int i = 0; i < P; ++i) input[m * P + i] = rank_test_input(first + m, i);
    b.advance(records, first, input, out);
    o.step_spikes.insert(o.step_spikes.end(), out.step_spikes.begin(), out.step_spikes.end());
    o.moments.insert(o.moments.end(), out.moments.begin(), out.moments.end());
    o.spikes.insert(o.spikes.end(), out.spikes.begin(), out.spikes.end());
    first += records * every;
  }
}

/// `steps` steps of `b` (set up here) in chunks of `records_per_chunk` records.
inline rank_run_output run_backend(backend& b, const model_spec& spec, const std::vector<replica_spec>& replicas,
                                   int64_t steps, int records_per_chunk) {
  b.setup(spec, replicas);
  rank_run_output o;
  advance_range(b, spec, 0, steps, records_per_chunk, o);
  return o;
}

/// Runs `body(comm)` on `ranks` threads, each with the thread communicator of
/// its rank. An exception on any rank is rethrown here (the others may then
/// wait forever in a collective, so a test must not expect one).
inline void on_thread_ranks(int ranks, const std::function<void(communicator&)>& body) {
  thread_group group(ranks);
  std::vector<std::exception_ptr> errors(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      try {
        thread_communicator comm(group, r);
        body(comm);
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

/// One network over `ranks` thread ranks, each with its own backend from
/// `make`: every rank's output (counts and moments are the whole network's
/// on every rank; spikes are each rank's own neurons).
inline std::vector<rank_run_output> run_over_thread_ranks(int ranks,
                                                          const std::function<std::unique_ptr<backend>()>& make,
                                                          const model_spec& spec,
                                                          const std::vector<replica_spec>& replicas, int64_t steps,
                                                          int records_per_chunk) {
  std::vector<rank_run_output> outs(ranks);
  on_thread_ranks(ranks, [&](communicator& comm) {
    auto b = make();
    b->distribute(&comm);
    outs[comm.rank()] = run_backend(*b, spec, replicas, steps, records_per_chunk);
  });
  return outs;
}

/// The spikes of every rank, in the one-process order.
inline std::vector<spike_event> all_spikes(const std::vector<rank_run_output>& outs) {
  std::vector<spike_event> all;
  for (const auto& o : outs) all.insert(all.end(), o.spikes.begin(), o.spikes.end());
  std::sort(all.begin(), all.end(), [](const spike_event& a, const spike_event& b) {
    return std::tie(a.step, a.replica, a.population, a.neuron) < std::tie(b.step, b.replica, b.population, b.neuron);
  });
  return all;
}

}  // namespace izhinet::test
