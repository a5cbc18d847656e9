// GPU ranks (docs/mpi.md, "GPU ranks") inside one process: K threads, each
// with its own CUDA backend on the same device and a thread communicator
// (thread_ranks.hpp; tests/test_thread_ranks.cpp checks the harness with the
// CPU backend). Against the single-process CUDA path and the CPU backend:
//  - the per-step counts of every rank are the one-process counts (the
//    trajectory is the same bits), and the ranks' recorded spikes together
//    are the one-process spikes, times inside the step included;
//  - K = 2 and K = 3 give bit-identical moments (global blocks, fixed order);
//  - the moments agree with the single-process path to 1e-11 and with the
//    CPU backend to 1e-9 (relative, at least absolute).
// Skips without a usable GPU; needs neither MPI nor mpirun (the mpirun test
// is tests/gpu/check_gpu_ranks.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/params.hpp"
#include "thread_ranks.hpp"

namespace izhinet {
namespace {

#define SKIP_WITHOUT_GPU()                          \
  do {                                              \
    std::string why;                                \
    if (!cuda_available(&why)) GTEST_SKIP() << why; \
  } while (0)

bool close(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::max(1.0, std::fabs(b)); }

/// Every field of every record within `rel` (0: bit for bit).
void expect_moments(const std::vector<pop_moments>& got, const std::vector<pop_moments>& ref, double rel,
                    const std::string& what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  int bad = 0;
  for (size_t q = 0; q < ref.size() && bad < 10; ++q) {
    const pop_moments &g = got[q], &c = ref[q];
    const double pairs[][2] = {
        {g.s, c.s},         {g.sum_v_in, c.sum_v_in}, {g.sum_w_in, c.sum_w_in}, {g.n_in, c.n_in},
        {g.sum_w, c.sum_w}, {g.sum_cos, c.sum_cos},   {g.sum_sin, c.sum_sin},   {g.sum_state, c.sum_state}};
    for (int f = 0; f < 8; ++f) {
      const double x = pairs[f][0], y = pairs[f][1];
      if (rel == 0 ? x != y : !close(x, y, rel)) {
        ++bad;
        ADD_FAILURE() << what << ": moments[" << q << "] field " << f << ": " << x << " vs " << y;
      }
    }
  }
}

void expect_same_spikes(const std::vector<spike_event>& got, const std::vector<spike_event>& ref) {
  ASSERT_EQ(got.size(), ref.size());
  for (size_t k = 0; k < ref.size(); ++k) {
    const spike_event &a = got[k], &b = ref[k];
    ASSERT_TRUE(a.step == b.step && a.replica == b.replica && a.population == b.population && a.neuron == b.neuron &&
                a.frac == b.frac)
        << "spike " << k << ": step " << a.step << " pop " << a.population << " neuron " << a.neuron << " vs step "
        << b.step << " pop " << b.population << " neuron " << b.neuron;
  }
}

class cuda_ranks : public ::testing::TestWithParam<std::tuple<scheme_kind, int64_t>> {};

TEST_P(cuda_ranks, match_one_process_and_the_cpu_backend) {
  SKIP_WITHOUT_GPU();
  const auto [scheme, n] = GetParam();
  model_spec spec = paper_two_populations(0.12, 0.8);
  spec.run.scheme = scheme;
  spec.run.record_every = 10;
  spec.run.spike_neurons = 400;
  spec.network.n = n;  // 20001: several blocks per population; 5001: a rank without a population's neurons
  const std::vector<replica_spec> reps{{spec.network.n, 7}};
  const int64_t steps = 5000;

  auto cpu = make_cpu_backend(1);
  const test::rank_run_output ref_cpu = test::run_backend(*cpu, spec, reps, steps, 37);
  auto gpu = make_cuda_backend();
  const test::rank_run_output one = test::run_backend(*gpu, spec, reps, steps, 37);
  int64_t total = 0;
  for (auto c : one.step_spikes) total += c;
  ASSERT_GT(total, 0) << "no spike: the comparison would be vacuous";
  ASSERT_FALSE(one.spikes.empty()) << "no recorded spike: the comparison would be vacuous";
  EXPECT_EQ(one.step_spikes, ref_cpu.step_spikes) << "single-process CUDA vs CPU (as tests/gpu/test_cuda_backend.cpp)";

  std::vector<pop_moments> k2;
  for (int K : {2, 3}) {
    SCOPED_TRACE("ranks " + std::to_string(K));
    const auto outs = test::run_over_thread_ranks(
        K, [] { return make_cuda_backend(); }, spec, reps, steps, 37);
    for (int r = 0; r < K; ++r) {
      EXPECT_EQ(outs[r].step_spikes, one.step_spikes) << "rank " << r;
      expect_moments(outs[r].moments, outs[0].moments, 0, "rank " + std::to_string(r) + " vs rank 0");
    }
    expect_same_spikes(test::all_spikes(outs), one.spikes);
    expect_moments(outs[0].moments, one.moments, 1e-11, "over ranks vs one process");
    expect_moments(outs[0].moments, ref_cpu.moments, 1e-9, "over ranks vs the CPU backend");
    if (K == 2)
      k2 = outs[0].moments;
    else
      expect_moments(outs[0].moments, k2, 0, "3 ranks vs 2 ranks");
  }
}

// Checkpoints over GPU ranks (docs/checkpoints.md): the state of 2 ranks,
// joined by global index (put_state_part), set into one process and into 3
// ranks (each takes its slice, state_part), continues exactly as the run
// that was never interrupted: the same per-step counts.
TEST(cuda_ranks_state, two_ranks_state_continues_in_one_process_and_in_three_ranks) {
  SKIP_WITHOUT_GPU();
  model_spec spec = paper_two_populations(0.12, 0.8);
  spec.run.scheme = scheme_kind::exact;
  spec.run.record_every = 10;
  spec.network.n = 20001;
  const std::vector<replica_spec> reps{{spec.network.n, 7}};
  const int64_t first = 2000, more = 3000;
  auto ref_backend = make_cuda_backend();
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
    auto b = make_cuda_backend();
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

  auto one = make_cuda_backend();
  one->setup(spec, reps);
  one->set_state(whole);
  test::rank_run_output cont;
  test::advance_range(*one, spec, first, more, 37, cont);
  EXPECT_EQ(cont.step_spikes, ref_tail) << "one process continuing the state of 2 GPU ranks";

  std::vector<test::rank_run_output> three(3);
  test::on_thread_ranks(3, [&](communicator& comm) {
    auto b = make_cuda_backend();
    b->distribute(&comm);
    b->setup(spec, reps);
    b->set_state(whole);
    test::advance_range(*b, spec, first, more, 37, three[comm.rank()]);
  });
  for (int r = 0; r < 3; ++r) EXPECT_EQ(three[r].step_spikes, ref_tail) << "3 GPU ranks continuing, rank " << r;
}

INSTANTIATE_TEST_SUITE_P(cuda, cuda_ranks,
                         ::testing::Values(std::make_tuple(scheme_kind::paper, int64_t{20001}),
                                           std::make_tuple(scheme_kind::exact, int64_t{20001}),
                                           std::make_tuple(scheme_kind::exact, int64_t{5001})),
                         [](const auto& info) {
                           return std::string(to_string(std::get<0>(info.param))) + "_n" +
                                  std::to_string(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace izhinet
