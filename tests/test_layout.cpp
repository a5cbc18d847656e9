// The lowering step (network_layout): per-replica parameter overrides give
// exactly the run of a model with those values everywhere, the layout's
// tables are the model's, a partition owns the slice it names; and the
// Philox4x32-10 generator against the published Random123 known answers.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/eta_table.hpp"
#include "izhinet/network_layout.hpp"
#include "izhinet/params.hpp"
#include "izhinet/philox.hpp"
#include "izhinet/scheme.hpp"
#include "izhinet/simulation.hpp"
#include "test_helpers.hpp"

using namespace izhinet;

namespace {

struct run_out {
  std::vector<std::vector<record_row>> rows;   // [replica][record]
  std::vector<std::vector<double>> x, w, eta;  // [replica][neuron]
};

run_out run_all(const model_spec& m, const std::vector<replica_spec>& reps, int threads) {
  auto be = make_cpu_backend(threads);
  be->setup(m, reps);
  izhinet::testing::memory_sink sink;
  simulation_options o;
  o.progress_seconds = 0;
  const simulation_result res = simulate(m, *be, reps, sink, o);
  EXPECT_EQ(res.state, simulation_result::status::completed);
  run_out out;
  out.rows = sink.rows;
  for (size_t r = 0; r < reps.size(); ++r) {
    std::vector<double> x, w, eta;
    be->get_state(static_cast<int>(r), x, w);
    be->get_eta(static_cast<int>(r), eta);
    out.x.push_back(x);
    out.w.push_back(w);
    out.eta.push_back(eta);
  }
  return out;
}

model_spec base_model(scheme_kind scheme) {
  model_spec m = paper_two_populations(0.12, 0.8);
  m.network.sampling = sampling_kind::random;
  m.run.scheme = scheme;
  m.run.t_end = 3;
  m.run.record_every = 50;
  m.populations[0].I_ext.type = input_spec::kind::steps;  // a time-dependent input for the replicas without override
  m.populations[0].I_ext.value = 0.0;
  m.populations[0].I_ext.times = {1.0};
  m.populations[0].I_ext.values = {0.05};
  return m;
}

void expect_same_run(const run_out& a, size_t ra, const run_out& b, size_t rb) {
  ASSERT_EQ(a.x[ra].size(), b.x[rb].size());
  for (size_t k = 0; k < a.x[ra].size(); ++k) {
    ASSERT_EQ(a.eta[ra][k], b.eta[rb][k]) << "eta of neuron " << k;
    ASSERT_EQ(a.x[ra][k], b.x[rb][k]) << "state of neuron " << k;
    ASSERT_EQ(a.w[ra][k], b.w[rb][k]) << "w of neuron " << k;
  }
  ASSERT_EQ(a.rows[ra].size(), b.rows[rb].size());
  for (size_t j = 0; j < a.rows[ra].size(); ++j)
    for (size_t i = 0; i < a.rows[ra][j].r.size(); ++i) {
      EXPECT_EQ(a.rows[ra][j].r[i], b.rows[rb][j].r[i]);
      EXPECT_EQ(a.rows[ra][j].s[i], b.rows[rb][j].s[i]);
      EXPECT_EQ(a.rows[ra][j].w[i], b.rows[rb][j].w[i]);
    }
}

}  // namespace

class Overrides : public ::testing::TestWithParam<scheme_kind> {};

TEST_P(Overrides, ReplicaOverridesEqualSeparateRunsWithThoseValues) {
  const model_spec m = base_model(GetParam());
  // Replica 0: the model; replica 1: eta_bar, delta, a, w_jump of population 0
  // and a constant input; replica 2: alpha, b of population 1 and its own g.
  std::vector<replica_spec> reps(3);
  for (int r = 0; r < 3; ++r) reps[r] = replica_spec{700 + 100 * r, static_cast<uint64_t>(11 + r)};
  reps[1].overrides.resize(2);
  reps[1].overrides[0].eta_bar = 0.3;
  reps[1].overrides[0].delta = 0.05;
  reps[1].overrides[0].a = 0.02;
  reps[1].overrides[0].w_jump = 0.03;
  reps[1].overrides[0].I_ext = 0.01;
  reps[2].overrides.resize(2);
  reps[2].overrides[1].alpha = 0.55;
  reps[2].overrides[1].b = -0.01;
  reps[2].g = {{1.0, 1.5}, {0.5, 1.2}};
  const run_out together = run_all(m, reps, 2);

  for (size_t r = 0; r < reps.size(); ++r) {
    model_spec one = m;
    for (int i = 0; i < one.num_populations(); ++i) one.populations[i] = effective_population(m, reps[r], i);
    if (!reps[r].g.empty()) one.synapse.g = reps[r].g;
    const run_out alone = run_all(one, {replica_spec{reps[r].n, reps[r].seed}}, 1);
    SCOPED_TRACE("replica " + std::to_string(r));
    expect_same_run(together, r, alone, 0);
  }
  // The overrides change the run (the test could not pass by ignoring them).
  model_spec plain = m;
  const run_out ignored = run_all(plain, {replica_spec{reps[1].n, reps[1].seed}}, 1);
  EXPECT_NE(ignored.eta[0][0], together.eta[1][0]);
  EXPECT_NE(ignored.rows[0].back().w[0], together.rows[1].back().w[0]);
}

INSTANTIATE_TEST_SUITE_P(Layout, Overrides, ::testing::Values(scheme_kind::paper, scheme_kind::exact),
                         [](const ::testing::TestParamInfo<scheme_kind>& p) {
                           return std::string(to_string(p.param));
                         });

TEST(Layout, EtaTableUsesTheOverriddenLorentzian) {
  model_spec m = paper_one_population(0.12);
  m.run.spike_neurons = 4;
  std::vector<replica_spec> reps(2);
  reps[0] = replica_spec{100, 1};
  reps[1] = replica_spec{100, 1};
  reps[1].overrides.resize(1);
  reps[1].overrides[0].eta_bar = 0.5;
  const auto e = recorded_etas(m, reps);
  ASSERT_EQ(e.size(), 8u);
  for (size_t q = 0; q < 4; ++q) EXPECT_DOUBLE_EQ(e[4 + q].eta - e[q].eta, 0.38);  // quantiles: shifted by eta_bar
}

TEST(Layout, TablesAreTheModelsValues) {
  model_spec m = paper_two_populations(0.12, 0.8);
  m.synapse.g = {{1.0, 2.0}, {3.0, 4.0}};
  m.synapse.tau_s = {2.0, 4.0};
  m.run.dt = 0.01;
  const std::vector<replica_spec> reps = {replica_spec{1000, 1}, replica_spec{10, 2}};
  const network_layout L = network_layout::build(m, reps, 32);
  ASSERT_EQ(L.RP(), 4);
  EXPECT_EQ(L.segment(0, 0).n, 800);
  EXPECT_EQ(L.segment(0, 1).n, 200);
  EXPECT_EQ(L.segment(1, 0).n, 8);
  EXPECT_EQ(L.segment(1, 1).n, 2);
  for (const layout_segment& s : L.segments) EXPECT_EQ(s.offset % 32, 0);
  EXPECT_EQ(L.segment(0, 1).offset, 800);   // 800 is a multiple of 32
  EXPECT_EQ(L.segment(1, 0).offset, 1024);  // 200 padded to 224
  EXPECT_EQ(L.owned, 1010);
  EXPECT_DOUBLE_EQ(L.kg[(0 * 2 + 1) * 2 + 0], 0.8 * 3.0);  // kappa_0 g_10
  EXPECT_DOUBLE_EQ(L.kg[(1 * 2 + 0) * 2 + 1], 0.2 * 2.0);  // kappa_1 g_01 in replica 1
  EXPECT_DOUBLE_EQ(L.inv_n[3], 0.5);
  EXPECT_DOUBLE_EQ(L.decay[1], std::exp(-0.01 / 4.0));
}

TEST(Layout, APartitionOwnsTheSliceItNames) {
  model_spec m = paper_two_populations(0.12, 0.5);
  m.network.sampling = sampling_kind::random;
  m.run.spike_neurons = 10;
  const std::vector<replica_spec> reps = {replica_spec{200, 3}};
  const network_layout whole = network_layout::build(m, reps);
  partition_spec part;
  part.first = {30, 0};
  part.count = {40, 5};
  const network_layout slice = network_layout::build(m, reps, 1, part);
  EXPECT_EQ(slice.owned, 45);
  EXPECT_EQ(slice.segment(0, 0).n, 100);  // 1/N and kappa stay those of the whole population
  EXPECT_EQ(slice.inv_n, whole.inv_n);
  std::vector<double> a(100), b(40);
  whole.fill_eta(0, 0, 100, a.data());
  slice.fill_eta(0, 0, 40, b.data());
  for (int k = 0; k < 40; ++k) EXPECT_EQ(b[k], a[30 + k]);
  // Recorded neurons 0, 10, ..., 90 of population 0: the slice [30, 70) owns 30..60.
  std::vector<int64_t> locals;
  for (const layout_recorded& r : slice.recorded)
    if (r.pop == 0) locals.push_back(r.local);
  EXPECT_EQ(locals, (std::vector<int64_t>{30, 40, 50, 60}));
}

TEST(Layout, RankSlicesTileEveryPopulationOnMomentBlocks) {
  // Three ranks over replicas of different sizes: the slices of each
  // population are disjoint, cover it, start on multiples of the block, and
  // their eta is the whole network's.
  model_spec m = paper_two_populations(0.12, 0.5);
  m.network.sampling = sampling_kind::random;
  const std::vector<replica_spec> reps = {replica_spec{1000, 3}, replica_spec{130, 4}};
  const network_layout whole = network_layout::build(m, reps);
  const int ranks = 3;
  const int64_t block = 64;
  for (size_t seg = 0; seg < whole.segments.size(); ++seg) {
    const int64_t n = whole.segments[seg].n;
    std::vector<double> all(static_cast<size_t>(n));
    whole.fill_eta(seg, 0, n, all.data());
    int64_t next = 0;
    for (int r = 0; r < ranks; ++r) {
      const network_layout L = network_layout::build(m, reps, 1, partition_spec::ranks_of(r, ranks, block));
      const layout_segment& g = L.segments[seg];
      EXPECT_EQ(g.n, n);
      EXPECT_EQ(g.first, next) << "segment " << seg << " rank " << r;
      EXPECT_EQ(g.first % block == 0 || g.count == 0, true);
      std::vector<double> mine(static_cast<size_t>(g.count));
      if (g.count > 0) L.fill_eta(seg, 0, g.count, mine.data());
      for (int64_t k = 0; k < g.count; ++k) EXPECT_EQ(mine[k], all[g.first + k]);
      next = g.first + g.count;
    }
    EXPECT_EQ(next, n);
  }
}

TEST(Layout, BadOverridesAreRefusedNamingTheKey) {
  const model_spec m = paper_two_populations(0.12, 0.5);
  replica_spec r{100, 1};
  r.overrides.resize(1);  // two populations
  try {
    network_layout::build(m, {r});
    FAIL() << "one override for two populations was accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "overrides");
  }
  r.overrides.resize(2);
  r.overrides[1].delta = -1;
  EXPECT_THROW(network_layout::build(m, {r}), config_error);
}

// Known answers of Philox4x32-10 from the Random123 distribution (kat_vectors;
// Salmon, Moraes, Dror, Shaw, SC'11).
TEST(Philox, MatchesThePublishedKnownAnswerVectors) {
  struct kat {
    philox4x32 ctr;
    uint32_t k0, k1;
    philox4x32 expect;
  };
  const kat cases[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
      {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
       0xffffffffu,
       0xffffffffu,
       {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
      {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
       0xa4093822u,
       0x299f31d0u,
       {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
  };
  for (const kat& c : cases) {
    const philox4x32 r = philox4x32_10(c.ctr, c.k0, c.k1);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.v[i], c.expect.v[i]) << "word " << i;
  }
}

TEST(Scheme, PaperWeightsAreSpikeCountsAndGatingIsTheSharedFormula) {
  // An unweighted scheme adds exactly one unit per spike, so its gating
  // update is the shared gating_step with the spike count.
  double v = 250, w = 0, frac = 0;
  int64_t weight = 0;
  const step_coeffs k{0.6, 0.0, 0.01, -0.01, 0.02, 200, -200, 1e-3};
  EXPECT_EQ(paper_scheme::step(v, w, 0.1, k, weight, frac), 1);
  EXPECT_EQ(weight, 1);
  EXPECT_EQ(frac, 1.0);
  EXPECT_EQ(paper_scheme::gating(0.3, 1e-3, 2.6, 0.9, 1.2, 7, 0.01),
            gating_step(false, 0.3, 1e-3, 2.6, 0.9, 1.2, 7.0, 0.01));
  // The exact scheme's weights are fixed point, units of 2^-32 spikes.
  EXPECT_EQ(exact_scheme::gating(0.3, 1e-3, 2.6, 0.9, 1.2, int64_t{3} << 32, 0.01),
            gating_step(true, 0.3, 1e-3, 2.6, 0.9, 1.2, 3.0, 0.01));
}

TEST(Scheme, ExactTraitIsExactStepWithItsCoefficients) {
  // The trait adds nothing to the shared arithmetic: a spike from v = 1e6
  // (p next to 1) must cross infinity within the step, with the weight
  // round(2^32 e^{-(1-f) h/tau_s}) in (0, 2^32] and f in [0, 1].
  const step_coeffs k{0.6, 0.1, 0.01, -0.01, 0.02, 200, -200, 1e-3};
  const exact_scheme::coeffs c = exact_scheme::make_coeffs(k, 2.6);
  double p1 = v_to_p(1e6), w1 = 0.2, f1 = -1, p2 = p1, w2 = w1, f2 = -1;
  int64_t wt1 = -1, wt2 = -1;
  const int s1 = exact_scheme::step(p1, w1, 0.1, c, wt1, f1);
  const int s2 = exact_step(p2, w2, 0.1, make_exact_coeffs(k, 2.6), wt2, f2);
  EXPECT_EQ(s1, 1);
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(p1, p2);
  EXPECT_EQ(w1, w2);
  EXPECT_EQ(wt1, wt2);
  EXPECT_GT(wt1, 0);
  EXPECT_LE(wt1, int64_t{1} << 32);
  EXPECT_GE(f1, 0.0);
  EXPECT_LE(f1, 1.0);
  EXPECT_LT(p1, 0.0);  // after the spike v is large and negative
}

// Memory bounds (issue 8): what the loop must hold at once is estimated
// before anything is allocated and refused naming the key.
TEST(MemoryBounds, AHugeRecordingIntervalIsRefusedUpFrontNamingTheKey) {
  model_spec m = paper_one_population(0.12);
  m.network.n = 10;
  m.run.dt = 1e-3;
  m.run.t_end = 3e6;
  m.run.record_every = 3000000000;  // 3e9 steps per row: 36 GB of per-step buffers
  auto be = make_cpu_backend(1);
  const auto reps = default_replicas(m);
  be->setup(m, reps);
  izhinet::testing::memory_sink sink;
  simulation_options o;
  o.progress_seconds = 0;
  o.memory_limit_bytes = 1e9;
  try {
    simulate(m, *be, reps, sink, o);
    FAIL() << "a 3e9-step recording interval was accepted";
  } catch (const memory_error& e) {
    EXPECT_EQ(e.key(), "run.record_every");
    EXPECT_GT(e.need_bytes, 3e9 * 12);
    EXPECT_EQ(e.limit_bytes, 1e9);
    EXPECT_NE(std::string(e.what()).find("run.record_every"), std::string::npos);
  }
}

TEST(MemoryBounds, AWindowLongerThanTheRunIsTheCumulativeRate) {
  // rate_window = 1e9 once ended in std::bad_alloc; a window longer than the
  // run needs only the run's steps, and its rate is the cumulative count.
  model_spec m = paper_one_population(0.3);
  m.network.n = 200;
  m.run.t_end = 2;
  m.run.record_every = 100;
  m.run.rate_window = 1e9;
  model_spec w = m;
  w.run.rate_window = m.run.t_end;  // exactly the run: the same sums
  const auto a = izhinet::testing::run_cpu(m);
  const auto b = izhinet::testing::run_cpu(w);
  ASSERT_EQ(a.size(), b.size());
  double total = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].r[0], b[k].r[0]);
    total += a[k].r[0];
  }
  EXPECT_GT(total, 0);
}

TEST(MemoryBounds, AnOversizedSlidingWindowIsRefusedNamingTheKey) {
  model_spec m = paper_one_population(0.12);
  m.network.n = 10;
  m.run.t_end = 100;
  m.run.record_every = 10;
  m.run.rate_window = 100;  // 1e5 steps
  const std::vector<replica_spec> reps(1000, replica_spec{10, 1});
  auto be = make_cpu_backend(1);
  be->setup(m, reps);
  izhinet::testing::memory_sink sink;
  simulation_options o;
  o.progress_seconds = 0;
  o.memory_limit_bytes = 1e8;  // the ring needs 1e5 * 1000 * 4 = 4e8 bytes
  try {
    simulate(m, *be, reps, sink, o);
    FAIL() << "an oversized sliding window was accepted";
  } catch (const memory_error& e) {
    EXPECT_EQ(e.key(), "run.rate_window");
  }
}
