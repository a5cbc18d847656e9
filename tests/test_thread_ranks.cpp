// One network over K ranks (docs/mpi.md) inside one process: K threads, each
// with its own CPU backend and a thread communicator (thread_ranks.hpp), give
// the one-process counts, moments and spikes bit for bit. This also checks the
// harness that the GPU test of the same name (gpu/test_cuda_ranks.cpp) uses.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/params.hpp"
#include "thread_ranks.hpp"

namespace izhinet {
namespace {

bool same(const pop_moments& a, const pop_moments& b) {
  return a.s == b.s && a.sum_v_in == b.sum_v_in && a.sum_w_in == b.sum_w_in && a.n_in == b.n_in && a.sum_w == b.sum_w &&
         a.sum_cos == b.sum_cos && a.sum_sin == b.sum_sin && a.sum_state == b.sum_state;
}

bool same(const spike_event& a, const spike_event& b) {
  return a.step == b.step && a.replica == b.replica && a.population == b.population && a.neuron == b.neuron &&
         a.frac == b.frac;
}

TEST(thread_ranks, cpu_backend_over_ranks_equals_one_process_bit_for_bit) {
  for (const scheme_kind scheme : {scheme_kind::paper, scheme_kind::exact}) {
    SCOPED_TRACE(to_string(scheme));
    model_spec spec = paper_two_populations(0.12, 0.8);
    spec.run.scheme = scheme;
    spec.run.record_every = 10;
    spec.run.spike_neurons = 400;
    spec.network.n = 20001;  // populations of 16001 and 4000: several moment blocks, not divisible by 2 or 3
    const std::vector<replica_spec> reps{{spec.network.n, 7}};
    const int64_t steps = 5000;
    auto one = make_cpu_backend(1);
    const test::rank_run_output ref = test::run_backend(*one, spec, reps, steps, 37);
    int64_t total = 0;
    for (auto c : ref.step_spikes) total += c;
    ASSERT_GT(total, 0) << "no spike in the reference: the comparison would be vacuous";
    ASSERT_FALSE(ref.spikes.empty());
    for (int K : {2, 3}) {
      SCOPED_TRACE("ranks " + std::to_string(K));
      const auto outs = test::run_over_thread_ranks(
          K, [] { return make_cpu_backend(1); }, spec, reps, steps, 37);
      for (int r = 0; r < K; ++r) {
        EXPECT_EQ(outs[r].step_spikes, ref.step_spikes) << "rank " << r;
        ASSERT_EQ(outs[r].moments.size(), ref.moments.size());
        for (size_t q = 0; q < ref.moments.size(); ++q)
          ASSERT_TRUE(same(outs[r].moments[q], ref.moments[q])) << "rank " << r << ", moments[" << q << "]";
      }
      const auto spikes = test::all_spikes(outs);
      ASSERT_EQ(spikes.size(), ref.spikes.size());
      for (size_t k = 0; k < spikes.size(); ++k) ASSERT_TRUE(same(spikes[k], ref.spikes[k])) << "spike " << k;
    }
  }
}

// Checkpoints over ranks (docs/checkpoints.md), the CPU twin of the GPU test of the same name: the state of 2 ranks,
// joined by global index (put_state_part), set into one process and into 3
// ranks (each takes its slice, state_part), continues exactly as the run
// that was never interrupted: the same per-step counts.
TEST(thread_ranks_state, two_ranks_state_continues_in_one_process_and_in_three_ranks) {
  model_spec spec = paper_two_populations(0.12, 0.8);
  spec.run.scheme = scheme_kind::exact;
  spec.run.record_every = 10;
  spec.network.n = 20001;
  const std::vector<replica_spec> reps{{spec.network.n, 7}};
  const int64_t first = 2000, more = 3000;
  auto ref_backend = make_cpu_backend(1);
  const test::rank_run_output ref = test::run_backend(*ref_backend, spec, reps, first + more, 37);
  const size_t RP = static_cast<size_t>(spec.num_populations());
  const std::vector<uint32_t> ref_tail(ref.step_spikes.begin() + static_cast<std::ptrdiff_t>(first * RP),
                                       ref.step_spikes.end());
  int64_t total = 0;
  for (auto c : ref_tail) total += c;
  ASSERT_GT(total, 0) << "no spike after the checkpoint: the comparison would be vacuous";

  // Two ranks run `first` steps and hand in their slices.
  backend_state whole = state_layout(spec);
  for (auto& a : whole.arrays) a.values.assign(static_cast<size_t>(state_length(a.per, spec, reps)), 0.0);
  std::vector<backend_state> parts(2);
  std::vector<std::vector<population_slice>> held(2);
  test::on_thread_ranks(2, [&](communicator& comm) {
    auto b = make_cpu_backend(1);
    b->distribute(&comm);
    test::run_backend(*b, spec, reps, first, 37);
    b->get_state(parts[comm.rank()]);
    held[comm.rank()] = b->held();
  });
  for (int r = 0; r < 2; ++r) {
    ASSERT_EQ(held[r].size(), RP) << "rank " << r << " says it holds the whole network";
    put_state_part(whole, parts[r], spec, reps, held[r]);
  }
  for (auto& a : whole.arrays)
    if (a.per == state_array::extent::per_population) a.values = parts[0].find(a.name)->values;

  auto one = make_cpu_backend(1);
  one->setup(spec, reps);
  one->set_state(whole);
  test::rank_run_output cont;
  test::advance_range(*one, spec, first, more, 37, cont);
  EXPECT_EQ(cont.step_spikes, ref_tail) << "one process continuing the state of 2 CPU ranks";

  std::vector<test::rank_run_output> three(3);
  test::on_thread_ranks(3, [&](communicator& comm) {
    auto b = make_cpu_backend(1);
    b->distribute(&comm);
    b->setup(spec, reps);
    b->set_state(whole);
    test::advance_range(*b, spec, first, more, 37, three[comm.rank()]);
  });
  for (int r = 0; r < 3; ++r) EXPECT_EQ(three[r].step_spikes, ref_tail) << "3 CPU ranks continuing, rank " << r;
}

}  // namespace
}  // namespace izhinet
