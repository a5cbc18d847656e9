// The CUDA backend against the CPU reference (make_cpu_backend(1)) on the same
// specs, and against itself (replicas batched vs one by one). Every test skips
// with the reason when no usable GPU is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/params.hpp"

namespace izhinet {
namespace {

#define SKIP_WITHOUT_GPU()                          \
  do {                                              \
    std::string why;                                \
    if (!cuda_available(&why)) GTEST_SKIP() << why; \
  } while (0)

/// Everything a run produced, chunk after chunk.
struct run_output {
  std::vector<uint32_t> step_spikes;
  std::vector<pop_moments> moments;
  std::vector<spike_event> spikes;
};

/// I_ext per step and population: a small square wave, different per
/// population, so that the per-step input path is exercised.
double test_input(int64_t step, int pop) { return ((step / 1500) % 2 == 0 ? 0.0 : 0.02) * (1.0 + 0.5 * pop); }

run_output run(backend& b, const model_spec& spec, const std::vector<replica_spec>& replicas, int64_t steps,
               int records_per_chunk) {
  b.setup(spec, replicas);
  const int P = spec.num_populations();
  const int64_t every = spec.run.record_every;
  run_output o;
  chunk_result out;
  for (int64_t first = 0; first < steps;) {
    const int records = static_cast<int>(std::min<int64_t>(records_per_chunk, (steps - first) / every));
    std::vector<double> input(static_cast<size_t>(records) * every * P);
    for (int64_t m = 0; m < records * every; ++m)
      for (int i = 0; i < P; ++i) input[m * P + i] = test_input(first + m, i);
    b.advance(records, first, input, out);
    o.step_spikes.insert(o.step_spikes.end(), out.step_spikes.begin(), out.step_spikes.end());
    o.moments.insert(o.moments.end(), out.moments.begin(), out.moments.end());
    o.spikes.insert(o.spikes.end(), out.spikes.begin(), out.spikes.end());
    first += records * every;
  }
  return o;
}

bool close(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::max(1.0, std::fabs(b)); }

/// Field-by-field comparison with `rel` * max(1, |reference|). Only the
/// fields the scheme defines are compared (the others are 0 on both sides).
void expect_moments_near(const std::vector<pop_moments>& gpu, const std::vector<pop_moments>& ref, bool exact,
                         double rel) {
  ASSERT_EQ(gpu.size(), ref.size());
  int bad = 0;
  for (size_t q = 0; q < ref.size() && bad < 10; ++q) {
    const pop_moments &g = gpu[q], &c = ref[q];
    auto check = [&](const char* name, double x, double y) {
      if (!close(x, y, rel)) {
        ++bad;
        ADD_FAILURE() << "moments[" << q << "]." << name << ": cuda " << x << " vs reference " << y;
      }
    };
    check("s", g.s, c.s);
    check("sum_w", g.sum_w, c.sum_w);
    check("sum_state", g.sum_state, c.sum_state);
    if (exact) {
      check("sum_cos", g.sum_cos, c.sum_cos);
      check("sum_sin", g.sum_sin, c.sum_sin);
    } else {
      check("n_in", g.n_in, c.n_in);
      check("<v>", g.sum_v_in / g.n_in, c.sum_v_in / c.n_in);
      check("<w>", g.sum_w_in / g.n_in, c.sum_w_in / c.n_in);
    }
  }
}

void expect_counts_equal(const std::vector<uint32_t>& gpu, const std::vector<uint32_t>& ref) {
  ASSERT_EQ(gpu.size(), ref.size());
  int64_t differ = 0, first = -1, total_g = 0, total_c = 0;
  for (size_t q = 0; q < ref.size(); ++q) {
    total_g += gpu[q];
    total_c += ref[q];
    if (gpu[q] != ref[q]) {
      if (first < 0) first = static_cast<int64_t>(q);
      ++differ;
    }
  }
  EXPECT_EQ(differ, 0) << "per-step spike counts differ in " << differ << " of " << ref.size()
                       << " entries, first at index " << first << "; totals " << total_g << " vs " << total_c;
}

void expect_spikes_equal(std::vector<spike_event> gpu, std::vector<spike_event> ref) {
  auto key = [](const spike_event& e) { return std::tie(e.step, e.replica, e.population, e.neuron); };
  auto less = [&](const spike_event& a, const spike_event& b) { return key(a) < key(b); };
  std::sort(gpu.begin(), gpu.end(), less);
  std::sort(ref.begin(), ref.end(), less);
  ASSERT_EQ(gpu.size(), ref.size());
  for (size_t q = 0; q < ref.size(); ++q) ASSERT_TRUE(key(gpu[q]) == key(ref[q])) << "spike event " << q << " differs";
}

// ---------------------------------------------------------------------------
// CUDA vs CPU reference: N = 1e4, 1e4 steps, both schemes, one and two
// populations, quantile and random sampling.
// ---------------------------------------------------------------------------

using case_t = std::tuple<scheme_kind, int /*populations*/, sampling_kind, int64_t /*record_every*/>;

class cuda_vs_cpu : public ::testing::TestWithParam<case_t> {};

TEST_P(cuda_vs_cpu, observables_agree) {
  SKIP_WITHOUT_GPU();
  const auto [scheme, pops, sampling, every] = GetParam();
  model_spec spec = pops == 1 ? paper_one_population(0.12) : paper_two_populations(0.12, 0.8);
  spec.run.scheme = scheme;
  spec.run.record_every = every;
  spec.run.spike_neurons = 20;
  spec.network.sampling = sampling;
  spec.network.n = 10000;
  const std::vector<replica_spec> reps{{spec.network.n, 12345}};
  const int64_t steps = 10000;

  auto cpu = make_cpu_backend(1);
  auto gpu = make_cuda_backend();
  const run_output ref = run(*cpu, spec, reps, steps, 100);
  const run_output got = run(*gpu, spec, reps, steps, 100);

  // eta: both backends fill it on the host with network_layout::fill_eta, so
  // the values are the same bits.
  std::vector<double> eta_c, eta_g;
  cpu->get_eta(0, eta_c);
  gpu->get_eta(0, eta_g);
  ASSERT_EQ(eta_c.size(), eta_g.size());
  for (size_t k = 0; k < eta_c.size(); ++k) ASSERT_EQ(eta_g[k], eta_c[k]) << "eta of neuron " << k;

  int64_t total = 0;
  for (auto c : ref.step_spikes) total += c;
  EXPECT_GT(total, 0) << "the reference run has no spike: the comparison would be vacuous";
  expect_counts_equal(got.step_spikes, ref.step_spikes);
  expect_moments_near(got.moments, ref.moments, scheme == scheme_kind::exact, 1e-9);
  expect_spikes_equal(got.spikes, ref.spikes);

  const auto s_c = cpu->get_s(0), s_g = gpu->get_s(0);
  for (size_t j = 0; j < s_c.size(); ++j) EXPECT_TRUE(close(s_g[j], s_c[j], 1e-9)) << s_g[j] << " vs " << s_c[j];
}

std::string case_name(const ::testing::TestParamInfo<case_t>& info) {
  const auto [scheme, pops, sampling, every] = info.param;
  return std::string(to_string(scheme)) + "_" + std::to_string(pops) + "pop_" + to_string(sampling) + "_every" +
         std::to_string(every);
}

INSTANTIATE_TEST_SUITE_P(schemes, cuda_vs_cpu,
                         ::testing::Values(case_t{scheme_kind::paper, 1, sampling_kind::quantiles, 10},
                                           case_t{scheme_kind::paper, 1, sampling_kind::random, 10},
                                           case_t{scheme_kind::paper, 2, sampling_kind::quantiles, 10},
                                           case_t{scheme_kind::paper, 2, sampling_kind::random, 10},
                                           case_t{scheme_kind::exact, 1, sampling_kind::quantiles, 10},
                                           case_t{scheme_kind::exact, 1, sampling_kind::random, 10},
                                           case_t{scheme_kind::exact, 2, sampling_kind::quantiles, 10},
                                           case_t{scheme_kind::exact, 2, sampling_kind::random, 10},
                                           // record_every = 250 > 128: steps and moments in two graphs
                                           case_t{scheme_kind::paper, 2, sampling_kind::random, 250},
                                           case_t{scheme_kind::exact, 1, sampling_kind::quantiles, 250}),
                         case_name);

// ---------------------------------------------------------------------------
// Replicas: one backend with three networks of different sizes and seeds
// equals the same networks run one by one.
// ---------------------------------------------------------------------------

TEST(cuda_backend, replicas_equal_separate_runs) {
  SKIP_WITHOUT_GPU();
  model_spec spec = paper_two_populations(0.12, 0.8);
  spec.network.sampling = sampling_kind::random;
  spec.run.record_every = 10;
  spec.run.spike_neurons = 30;
  const std::vector<replica_spec> reps{{10000, 1}, {5003, 7}, {20001, 3}};
  const int64_t steps = 5000;
  const int P = spec.num_populations(), R = static_cast<int>(reps.size());

  auto gpu = make_cuda_backend();
  const run_output all = run(*gpu, spec, reps, steps, 50);
  for (int r = 0; r < R; ++r) {
    auto one_backend = make_cuda_backend();
    const run_output one = run(*one_backend, spec, {reps[r]}, steps, 50);
    std::vector<uint32_t> counts;
    for (int64_t m = 0; m < steps; ++m)
      for (int i = 0; i < P; ++i) counts.push_back(all.step_spikes[(m * R + r) * P + i]);
    expect_counts_equal(counts, one.step_spikes);
    std::vector<pop_moments> mom;
    for (int64_t q = 0; q < steps / spec.run.record_every; ++q)
      for (int i = 0; i < P; ++i) mom.push_back(all.moments[(q * R + r) * P + i]);
    expect_moments_near(mom, one.moments, false, 1e-12);
    std::vector<spike_event> sp;
    for (auto e : all.spikes)
      if (e.replica == r) {
        e.replica = 0;
        sp.push_back(e);
      }
    expect_spikes_equal(sp, one.spikes);
    std::vector<double> x_all, w_all, x_one, w_one;
    gpu->get_state(r, x_all, w_all);
    one_backend->get_state(0, x_one, w_one);
    EXPECT_EQ(x_all, x_one);  // same arithmetic, same order: bitwise
    EXPECT_EQ(w_all, w_one);
  }
}

// ---------------------------------------------------------------------------
// Chunking does not change the trajectory.
// ---------------------------------------------------------------------------

TEST(cuda_backend, chunk_size_does_not_matter) {
  SKIP_WITHOUT_GPU();
  model_spec spec = paper_one_population(0.12);
  spec.run.record_every = 10;
  const std::vector<replica_spec> reps{{10000, 5}};
  auto a = make_cuda_backend();
  auto b = make_cuda_backend();
  const run_output x = run(*a, spec, reps, 3000, 1);
  const run_output y = run(*b, spec, reps, 3000, 300);
  EXPECT_EQ(x.step_spikes, y.step_spikes);
  expect_moments_near(x.moments, y.moments, false, 1e-12);
}

// ---------------------------------------------------------------------------
// Misuse throws a clear exception and leaves the backend usable.
// ---------------------------------------------------------------------------

TEST(cuda_backend, misuse_throws_cleanly) {
  SKIP_WITHOUT_GPU();
  auto gpu = make_cuda_backend();
  EXPECT_FALSE(gpu->device().empty());
  chunk_result out;
  EXPECT_THROW(gpu->advance(1, 0, std::vector<double>(10, 0.0), out), internal_error);  // before setup
  model_spec spec = paper_one_population(0.12);
  spec.run.record_every = 10;
  EXPECT_THROW(gpu->setup(spec, {}), config_error);
  EXPECT_THROW(gpu->setup(spec, {{0, 1}}), config_error);
  model_spec bad = spec;
  bad.synapse.g = {{1.0, 2.0}};
  EXPECT_THROW(gpu->setup(bad, {{100, 1}}), config_error);
  gpu->setup(spec, {{1000, 1}});
  EXPECT_THROW(gpu->advance(1, 0, std::vector<double>(3, 0.0), out), internal_error);  // wrong input size
  EXPECT_THROW(gpu->get_s(5), internal_error);
  EXPECT_NO_THROW(gpu->advance(2, 0, std::vector<double>(20, 0.0), out));
  EXPECT_EQ(out.step_spikes.size(), 20u);
  EXPECT_EQ(out.moments.size(), 2u);
  EXPECT_DOUBLE_EQ(out.moments[0].n_in, 1000.0);
}

}  // namespace
}  // namespace izhinet
