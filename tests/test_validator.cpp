// Tests of the mean-field validator: the analysis (regime, period, envelope),
// the attractors of the mean field, the verdict on the cases of the issue
// "a validator whose verdict can be trusted", interrupted runs and bounded
// memory. Where a case is about the analysis, the "network" is the mean
// field itself (transformed where the case needs a difference).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "izhinet/attractors.hpp"
#include "izhinet/hd.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/params.hpp"
#include "izhinet/series_analysis.hpp"
#include "izhinet/validation_criteria.hpp"
#include "izhinet/validation_output.hpp"
#include "izhinet/validator.hpp"

using namespace izhinet;

namespace {

std::string temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("izhinet_test_" + name);
  std::filesystem::remove_all(d);
  return d.string();
}

model_spec short_spec(double eta, double t_end = 400, double transient = 150) {
  model_spec spec = paper_one_population(eta);
  spec.run.t_end = t_end;
  spec.run.dt = 1e-2;
  spec.run.record_every = 10;  // record every 0.1
  spec.meanfield.transient = transient;
  spec.run.scheme = scheme_kind::exact;  // dt = 0.01 is fine for it (the paper scheme would warn)
  return spec;
}

/// The exact mean field of `spec` from y0 at the record times t_k, k >= 1 (rows of 4P).
std::vector<std::vector<double>> mf_rows(const model_spec& spec, std::vector<double> y0 = {}) {
  const exact_meanfield m(spec);
  if (y0.empty()) y0 = m.initial_state();
  std::vector<double> t = record_times(spec);
  t.erase(t.begin());
  std::vector<std::vector<double>> out;
  integrate_dopri5([&m](double tt, const double* y, double* d) { m.rhs(tt, y, d); }, y0, 0.0, spec.run.t_end, t,
                   dopri5_options_from(spec.meanfield),
                   [&](double, const double* y) { out.emplace_back(y, y + m.dimension()); });
  return out;
}

/// Feeds rows (4P each, at record times 1, 2, ...) as the network's and finishes.
validation_report validate(const model_spec& spec, const std::vector<std::vector<double>>& rows,
                           validator_options vo = {}, bool completed = true) {
  const int P = spec.num_populations();
  const double rec = static_cast<double>(spec.run.record_every) * spec.run.dt;
  validator val(spec, vo);
  std::vector<record_row> batch;
  for (size_t k = 0; k < rows.size(); ++k) {
    record_row row;
    row.t = static_cast<double>((k + 1) * spec.run.record_every) * spec.run.dt;
    for (int i = 0; i < P; ++i) {
      row.r.push_back(rows[k][4 * i]);
      row.v.push_back(rows[k][4 * i + 1]);
      row.w.push_back(rows[k][4 * i + 2]);
      row.s.push_back(rows[k][4 * i + 3]);
    }
    batch.push_back(std::move(row));
    if (batch.size() == 1000) {
      val.push(batch);
      batch.clear();
    }
  }
  val.push(batch);
  run_outcome o;
  o.state = completed ? run_outcome::status::completed : run_outcome::status::interrupted;
  o.t_reached = static_cast<double>(rows.size()) * rec;
  return val.finish(o);
}

/// The rows with each variable mapped by f(t, population, variable, value).
std::vector<std::vector<double>> transformed(const model_spec& spec, std::vector<std::vector<double>> rows,
                                             const std::function<double(double, int, int, double)>& f) {
  const double rec = static_cast<double>(spec.run.record_every) * spec.run.dt;
  for (size_t k = 0; k < rows.size(); ++k)
    for (size_t c = 0; c < rows[k].size(); ++c)
      rows[k][c] = f(static_cast<double>(k + 1) * rec, static_cast<int>(c / 4), static_cast<int>(c % 4), rows[k][c]);
  return rows;
}

/// A uniform window of one population's rhythm variable w (other channels constant).
uniform_window window_of(const std::vector<double>& w, double h) {
  uniform_window u;
  u.h = h;
  u.t0 = 0;
  u.ch.assign(4, std::vector<double>(w.size(), 1.0));
  u.ch[var_w] = w;
  return u;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace

// ---------------------------------------------------------------------------
// analysis building blocks

TEST(SeriesAnalysis, BlockSeriesIsBoundedAndItsBlocksAreExactMeans) {
  block_series b(2, 0.5, 0.5, 1000);
  const int64_t n = 1000000;
  for (int64_t k = 0; k < n; ++k) {
    const double x[2] = {static_cast<double>(k), k % 7 == 0 ? NAN : 1.0};
    b.add(x);
  }
  EXPECT_LE(b.size(), 1000);
  EXPECT_GE(b.size(), 500);
  const int64_t L = b.block_length();
  EXPECT_EQ(L & (L - 1), 0) << "a power of two";
  for (int64_t blk : {int64_t{0}, b.size() / 2, b.size() - 1}) {
    // mean of k over [blk L, (blk + 1) L)
    EXPECT_DOUBLE_EQ(b.value(blk, 0), static_cast<double>(blk * L) + 0.5 * static_cast<double>(L - 1));
    EXPECT_DOUBLE_EQ(b.value(blk, 1), 1.0);  // non-finite samples are left out
    EXPECT_DOUBLE_EQ(b.block_start(blk), 0.5 + 0.5 * static_cast<double>(blk * L));
  }
  // blocks of 10 samples from the start (the validator's 0.1 time units at a record every 0.01)
  block_series c(1, 0.01, 0.01, 1000, 10);
  for (int k = 0; k < 95; ++k) {
    const double x = k;
    c.add(&x);
  }
  EXPECT_EQ(c.size(), 9);
  EXPECT_DOUBLE_EQ(c.value(0, 0), 4.5);
  EXPECT_DOUBLE_EQ(c.value(8, 0), 84.5);
  EXPECT_DOUBLE_EQ(c.block_end(8), 0.9);
}

TEST(SeriesAnalysis, JointAutocorrelationIsPearsonOverTheOverlap) {
  // two implementations: FFT against the direct sums
  std::vector<std::vector<double>> z(2, std::vector<double>(300));
  uint64_t s = 7;
  for (auto& ch : z)
    for (size_t k = 0; k < ch.size(); ++k) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      ch[k] = std::sin(0.1 * static_cast<double>(k)) + static_cast<double>(s >> 11) / 9007199254740992.0;
    }
  const auto c = joint_autocorrelation(z, 200);
  ASSERT_EQ(c.size(), 201u);
  for (int L : {0, 1, 17, 63, 150, 200}) {
    double cov = 0, va = 0, vb = 0;
    for (const auto& ch : z) {
      const int m = 300 - L;
      double ma = 0, mb = 0;
      for (int k = 0; k < m; ++k) {
        ma += ch[k];
        mb += ch[k + L];
      }
      ma /= m;
      mb /= m;
      for (int k = 0; k < m; ++k) {
        cov += (ch[k] - ma) * (ch[k + L] - mb);
        va += (ch[k] - ma) * (ch[k] - ma);
        vb += (ch[k + L] - mb) * (ch[k + L] - mb);
      }
    }
    EXPECT_NEAR(c[L], cov / std::sqrt(va * vb), 1e-9) << "lag " << L;
    EXPECT_LE(std::fabs(c[L]), 1.0);
  }
  EXPECT_NEAR(c[0], 1.0, 1e-12);
}

TEST(SeriesAnalysis, NoisyEquilibriumIsNotAnOscillation) {
  // white noise of 30 % around a constant: no coherent rhythm
  std::vector<double> x(60000);
  uint64_t s = 12345;
  for (auto& v : x) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    v = 0.117 * (1 + 0.6 * (static_cast<double>(s >> 11) / 9007199254740992.0 - 0.5));
  }
  const auto a = analyse_window(window_of(x, 0.01), {var_w}, 0);
  EXPECT_EQ(a.regime, "equilibrium") << a.reason;
  EXPECT_NEAR(a.pops[0][var_w].mean, 0.117, 1e-3);
  // a sine of period 40 plus the same noise is an oscillation of period 40
  for (size_t k = 0; k < x.size(); ++k) x[k] += 0.05 * std::sin(2 * k_pi * 0.01 * static_cast<double>(k) / 40);
  const auto b = analyse_window(window_of(x, 0.01), {var_w}, 0);
  EXPECT_EQ(b.regime, "oscillation") << b.reason;
  EXPECT_NEAR(b.period, 40, 0.2);
  EXPECT_LE(b.acf_peak, 1.0);
}

TEST(SeriesAnalysis, MultiPeakedBurstsGiveTheBurstPeriod) {
  // Bursts of period 218.9 made of three sharp sub-peaks 12 apart (the shape
  // that made a crossing count with hysteresis report 187): the period is the
  // burst period, also with sub-peaks of unequal height.
  const double T = 218.9, h = 0.1;
  std::vector<double> x(static_cast<size_t>(1200 / h));
  for (size_t k = 0; k < x.size(); ++k) {
    const double t = std::fmod(static_cast<double>(k) * h, T);
    double v = 0.1;
    for (int j = 0; j < 3; ++j) v += (1.0 - 0.3 * j) * std::exp(-0.5 * std::pow((t - 30 - 12 * j) / 2.0, 2));
    x[k] = v;
  }
  const auto a = analyse_window(window_of(x, h), {var_w}, 0);
  EXPECT_EQ(a.regime, "oscillation") << a.reason;
  EXPECT_NEAR(a.period, T, 0.005 * T);
}

TEST(SeriesAnalysis, SubharmonicsAreCheckedBothWays) {
  const double h = 0.1;
  std::vector<double> same(12000), alternate(12000);
  for (size_t k = 0; k < same.size(); ++k) {
    const double t = static_cast<double>(k) * h;
    const double burst = std::exp(-0.5 * std::pow((std::fmod(t, 100.0) - 50) / 5.0, 2));
    same[k] = 1 + burst;
    // every other burst half as high: the true period is 200, not 100
    alternate[k] = 1 + burst * (static_cast<int>(t / 100.0) % 2 ? 0.5 : 1.0);
  }
  const auto a = analyse_window(window_of(same, h), {var_w}, 0);
  EXPECT_NEAR(a.period, 100, 0.5) << "multiples 2T, 3T are not taken";
  const auto b = analyse_window(window_of(alternate, h), {var_w}, 0);
  EXPECT_NEAR(b.period, 200, 1.0) << "a period-2 rhythm is not halved";
}

TEST(SeriesAnalysis, TooShortWindowIsInconclusiveAndSaysHowLongToRun) {
  // eta_bar = 0.08: a mean-field orbit of period ~354; 800 - 200 = 600 hold 1.7 periods
  model_spec spec = short_spec(0.08, 800, 200);
  const auto rep = validate(spec, mf_rows(spec));
  EXPECT_EQ(rep.network.regime, "inconclusive");
  EXPECT_NEAR(rep.network.period, 354, 5);
  EXPECT_NEAR(rep.network.periods_in_window, 600 / 354.0, 0.05);
  EXPECT_NE(rep.network.reason.find("holds 1.7 periods"), std::string::npos) << rep.network.reason;
  // transient + 2 x 1.1 x 354 = 979, rounded up
  EXPECT_NEAR(rep.network.t_end_needed, 980, 10.1);
  EXPECT_EQ(rep.vs_exact.outcome, "inconclusive") << rep.verdict();
  EXPECT_NE(rep.verdict().find("run to t_end >= "), std::string::npos) << rep.verdict();
  EXPECT_EQ(rep.require_agreement_status(), criteria::exit_inconclusive);
  // ... and long enough it is an oscillation that agrees with the mean field's orbit
  spec.run.t_end = rep.network.t_end_needed;
  const auto rep2 = validate(spec, mf_rows(spec));
  EXPECT_EQ(rep2.network.regime, "oscillation") << rep2.network.reason;
  EXPECT_TRUE(rep2.vs_exact.agree()) << rep2.verdict();
}

// ---------------------------------------------------------------------------
// the mean field's attractors

TEST(MeanFieldAttractors, LongPeriodOrbitsAreOrbits) {
  // periods above ~260 were labelled "equilibrium": 354 at 0.08, 454 at 0.075 (issue)
  for (auto [eta, period] : {std::pair{0.08, 354.0}, std::pair{0.075, 454.0}}) {
    const model_spec spec = paper_one_population(eta);
    const exact_meanfield m(spec);
    const auto eqs = find_equilibria(spec);
    attractor_search_options o;
    o.ode = dopri5_options_from(spec.meanfield);
    const auto res = find_attractors(exact_system(m, {var_w}), {}, exact_starts(m, eqs, {}, {var_w}), o);
    ASSERT_EQ(res.attractors.size(), 1u) << eta;
    const auto& a = res.attractors[0];
    EXPECT_EQ(a.kind, "orbit");
    EXPECT_NEAR(a.period, period, 0.01 * period) << eta;
    EXPECT_GT(a.amplitude, 0.5);
    EXPECT_LT(a.pops[0][var_w].min, a.pops[0][var_w].mean);
  }
}

TEST(MeanFieldAttractors, OrbitPeriodAgreesWithTheTrajectory) {
  // The paper's bursting point: period 227.2 (README), from the return map and
  // from the autocorrelation of a long trajectory.
  model_spec spec = short_spec(0.12, 2000, 200);
  const auto rep = validate(spec, mf_rows(spec));
  ASSERT_TRUE(rep.exact.searched);
  ASSERT_EQ(rep.exact.attractors.attractors.size(), 1u);
  const auto& orbit = rep.exact.attractors.attractors[0];
  EXPECT_EQ(orbit.kind, "orbit");
  EXPECT_NEAR(orbit.period, 227.21, 0.05);
  EXPECT_NEAR(rep.exact.trajectory.period, orbit.period, 0.003 * orbit.period);
  EXPECT_NEAR(rep.network.period, orbit.period, 0.003 * orbit.period);
  EXPECT_EQ(rep.exact.from_initial_state, 0);
  EXPECT_TRUE(rep.vs_exact.agree()) << rep.verdict();
  for (int k = 0; k < 3; ++k) EXPECT_LT(std::fabs(rep.vs_exact.pops[0].shape[var_w][k].rel_diff), 0.01) << k;
}

TEST(MeanFieldAttractors, BistablePointListsBothAndComparesWithTheNearest) {
  // eta_bar = 0.191: a stable focus and a large orbit coexist; from 0 the mean
  // field goes to the orbit. A "network" sitting at the focus is compared with
  // the focus, and the verdict says so.
  model_spec spec = short_spec(0.191, 800, 200);
  const auto eqs = find_equilibria(spec);
  std::vector<double> focus;
  for (const auto& e : eqs)
    if (e.stable) focus = e.state;
  ASSERT_FALSE(focus.empty());
  auto start = focus;
  start[0] *= 1.001;
  const auto rep = validate(spec, mf_rows(spec, start));
  ASSERT_EQ(rep.exact.attractors.attractors.size(), 2u) << rep.verdict();
  int orbit = -1, eq = -1;
  for (int k = 0; k < 2; ++k) (rep.exact.attractors.attractors[k].kind == "orbit" ? orbit : eq) = k;
  ASSERT_GE(orbit, 0);
  ASSERT_GE(eq, 0);
  EXPECT_NEAR(rep.exact.attractors.attractors[orbit].period, 226.4, 1.0);
  EXPECT_EQ(rep.exact.from_initial_state, orbit);
  EXPECT_EQ(rep.vs_exact.attractor, eq);
  EXPECT_TRUE(rep.vs_exact.agree()) << rep.verdict();
  const std::string v = rep.verdict();
  EXPECT_NE(v.find("2 coexisting attractors"), std::string::npos) << v;
  EXPECT_NE(v.find("from the network's initial state the mean field goes to the stable orbit"), std::string::npos) << v;
}

// ---------------------------------------------------------------------------
// verdicts

TEST(Validator, OwnTrajectoryAgreesEquilibrium) {
  const model_spec spec = short_spec(0.25);
  const auto dir = temp_dir("val_eq");
  validator_options vo;
  vo.out_dir = dir;
  const auto rep = validate(spec, mf_rows(spec), vo);
  EXPECT_TRUE(rep.error.empty()) << rep.error;
  EXPECT_EQ(rep.network.regime, "equilibrium");
  EXPECT_TRUE(rep.vs_exact.agree()) << rep.verdict();
  // matched against the validator's own integration (chunked: the same to the tolerances)
  for (int v = 0; v < 4; ++v) EXPECT_LT(rep.vs_exact.pops[0].nrms[v], 1e-6) << v;
  EXPECT_EQ(rep.running.rows, spec.num_records());
  EXPECT_LT(rep.running.exact[0][var_r].max_abs, 1e-6);
  EXPECT_EQ(rep.verdict().find("disagree"), std::string::npos) << rep.verdict();
  // files
  std::ifstream f(dir + "/meanfield.csv");
  std::string header, line;
  std::getline(f, header);
  EXPECT_EQ(header, "t,r0,v0,w0,s0");
  size_t rows = 0;
  while (std::getline(f, line)) ++rows;
  EXPECT_EQ(rows, record_times(spec).size());
  std::ifstream g(dir + "/meanfield_slow.csv");
  std::getline(g, header);
  EXPECT_EQ(header, "t,r0,w0,s0");
  const std::string json = read_file(dir + "/validation.json");
  EXPECT_NE(json.find("\"outcome\": \"agree\""), std::string::npos);
  EXPECT_NE(json.find("\"tol_w_min\""), std::string::npos);
}

TEST(Validator, NoOutputFolderMeansNoFiles) {
  const auto dir = temp_dir("val_nofiles");
  std::filesystem::create_directories(dir);
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  const model_spec spec = short_spec(0.25, 250);
  const auto rep = validate(spec, mf_rows(spec));
  std::filesystem::current_path(cwd);
  EXPECT_TRUE(rep.vs_exact.agree()) << rep.verdict();
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  // the JSON is still available to a caller who wants it
  EXPECT_TRUE(validation_json(spec, rep).contains("network_vs_exact"));
}

TEST(Validator, ShiftedMeansDisagree) {
  const model_spec spec = short_spec(0.25, 500, 250);
  const auto rows = transformed(spec, mf_rows(spec), [](double, int, int v, double x) {
    return v == var_r ? 1.2 * x : v == var_w ? x + 0.05 : x;
  });
  const auto rep = validate(spec, rows);
  EXPECT_EQ(rep.vs_exact.outcome, "disagree") << rep.verdict();
  EXPECT_NEAR(rep.vs_exact.pops[0].shape[var_r][0].rel_diff, 0.2, 1e-3);
  EXPECT_NEAR(rep.vs_exact.pops[0].matched_mean_diff[var_r], 0.2, 1e-3);
  EXPECT_GT(rep.vs_exact.pops[0].nrms[var_r], 0.1);
  EXPECT_NE(rep.verdict().find("r mean +20 %"), std::string::npos) << rep.verdict();
  EXPECT_EQ(rep.require_agreement_status(), criteria::exit_disagreement);
}

TEST(Validator, LongerPeriodDisagrees) {
  // a network whose time runs 20 % slower has a 20 % longer period
  model_spec spec = short_spec(0.12, 1400, 200);
  const auto y = mf_rows(spec);
  std::vector<std::vector<double>> rows(y.size());
  for (size_t k = 0; k < y.size(); ++k) rows[k] = y[static_cast<size_t>(static_cast<double>(k) / 1.2)];
  const auto rep = validate(spec, rows);
  EXPECT_EQ(rep.network.regime, "oscillation") << rep.network.reason;
  EXPECT_NEAR(rep.vs_exact.period.rel_diff, 0.2, 0.01);
  EXPECT_FALSE(rep.vs_exact.period.pass);
  EXPECT_EQ(rep.vs_exact.outcome, "disagree") << rep.verdict();
}

TEST(Validator, EnvelopeIsJudgedNotOnlyThePeriod) {
  // Same period and mean, but <w> swings 60 % wider: the edges of <w> are out of
  // tolerance and the closing line says which.
  model_spec spec = short_spec(0.12, 800, 200);
  const auto y = mf_rows(spec);
  double wm = 0;
  int n = 0;
  for (size_t k = 2000; k < y.size(); ++k, ++n) wm += y[k][var_w];
  wm /= n;
  const auto rows =
      transformed(spec, y, [wm](double, int, int v, double x) { return v == var_w ? wm + 1.6 * (x - wm) : x; });
  const auto rep = validate(spec, rows);
  EXPECT_EQ(rep.network.regime, "oscillation");
  EXPECT_TRUE(rep.vs_exact.period.pass);
  EXPECT_EQ(rep.vs_exact.outcome, "disagree") << rep.verdict();
  EXPECT_FALSE(rep.vs_exact.pops[0].shape[var_w][1].pass);
  EXPECT_NE(rep.verdict().find("<w> min"), std::string::npos) << rep.verdict();
  EXPECT_NE(rep.verdict().find("out of tolerance"), std::string::npos) << rep.verdict();
}

TEST(Validator, CoupledNetworkHasOnePeriod) {
  // Two populations (kappa = 0.8, eta_bar = 0.12), the network running 211/195.8
  // slower than the mean field: one period for the network, one verdict.
  model_spec spec = paper_two_populations(0.12, 0.8);
  spec.run.t_end = 1200;
  spec.run.dt = 1e-2;
  spec.run.record_every = 10;
  const auto y = mf_rows(spec);
  const double f = 211.0 / 195.8;
  std::vector<std::vector<double>> rows(y.size());
  for (size_t k = 0; k < y.size(); ++k) rows[k] = y[static_cast<size_t>(static_cast<double>(k) / f)];
  const auto rep = validate(spec, rows);
  EXPECT_EQ(rep.network.regime, "oscillation") << rep.network.reason;
  EXPECT_NEAR(rep.network.period, 211.0, 1.0);
  EXPECT_NEAR(rep.vs_exact.period.ref, 195.8, 0.2);
  EXPECT_EQ(rep.vs_exact.pops.size(), 2u);
  EXPECT_EQ(rep.vs_exact.outcome, "disagree");  // +7.8 % > 5 %
  EXPECT_NE(rep.verdict().find("period 211"), std::string::npos) << rep.verdict();
  EXPECT_NE(rep.verdict().find("<w>1"), std::string::npos) << rep.verdict();
}

TEST(Validator, StepInputIsComparedPerSegment) {
  // eta_bar = 0.25 (tonic), a step of I = -0.13 at t = 500 (bursting drive):
  // the segments are compared one by one, not as one regime.
  model_spec spec = short_spec(0.25, 1500, 200);
  spec.populations[0].I_ext.type = input_spec::kind::steps;
  spec.populations[0].I_ext.times = {500};
  spec.populations[0].I_ext.values = {-0.13};
  const auto y = mf_rows(spec);
  const auto rep = validate(spec, y);
  EXPECT_EQ(rep.input, "steps");
  ASSERT_EQ(rep.vs_exact.segments.size(), 2u);
  EXPECT_EQ(rep.vs_exact.segments[0].network.regime, "equilibrium");
  EXPECT_EQ(rep.vs_exact.segments[1].network.regime, "oscillation") << rep.vs_exact.segments[1].network.reason;
  EXPECT_TRUE(rep.vs_exact.agree()) << rep.verdict();
  EXPECT_NE(rep.verdict().find("per segment"), std::string::npos) << rep.verdict();
  // the response to the step: the same first burst on both sides
  const auto& seg = rep.vs_exact.segments[1];
  EXPECT_GT(seg.onset_network, 0);
  EXPECT_LT(seg.onset_network, 500);
  EXPECT_NEAR(seg.onset_network, seg.onset_meanfield, 1e-6);
  EXPECT_NE(rep.verdict().find("first burst"), std::string::npos) << rep.verdict();
  // a network that stays tonic after the step disagrees in the second segment
  std::vector<std::vector<double>> tonic = y;
  for (size_t k = 4990; k < tonic.size(); ++k) tonic[k] = y[4989];
  const auto rep2 = validate(spec, tonic);
  EXPECT_EQ(rep2.vs_exact.outcome, "disagree") << rep2.verdict();
  EXPECT_EQ(rep2.vs_exact.segments[0].outcome, "agree");
  EXPECT_EQ(rep2.vs_exact.segments[1].outcome, "disagree");
}

TEST(Validator, TableInputSaysOnlyNrmsIsCompared) {
  model_spec spec = short_spec(0.25, 400, 150);
  spec.populations[0].I_ext.type = input_spec::kind::table;
  spec.populations[0].I_ext.times = {0, 400};
  spec.populations[0].I_ext.values = {0, -0.05};
  const auto rep = validate(spec, mf_rows(spec));
  EXPECT_EQ(rep.input, "table");
  EXPECT_TRUE(rep.vs_exact.agree()) << rep.verdict();
  EXPECT_NE(rep.verdict().find("only NRMS"), std::string::npos) << rep.verdict();
}

TEST(Validator, InterruptedRunGetsNoVerdict) {
  const model_spec spec = short_spec(0.12, 800, 200);
  auto rows = mf_rows(spec);
  rows.resize(rows.size() / 3);  // stopped at t = 266.6
  const auto dir = temp_dir("val_interrupted");
  validator_options vo;
  vo.out_dir = dir;
  const auto rep = validate(spec, rows, vo, false);
  EXPECT_EQ(rep.status, "interrupted");
  EXPECT_EQ(rep.vs_exact.outcome, "no verdict");
  EXPECT_NEAR(rep.t_compared, 266.6, 0.11);
  EXPECT_EQ(rep.running.rows, static_cast<int64_t>(rows.size()));
  EXPECT_NE(rep.verdict().find("no verdict: the run interrupted at t = "), std::string::npos) << rep.verdict();
  EXPECT_EQ(rep.verdict().find("disagree"), std::string::npos);
  const std::string json = read_file(dir + "/validation.json");
  EXPECT_NE(json.find("\"status\": \"interrupted\""), std::string::npos);
  EXPECT_NE(json.find("\"stopped_at\": 266.6"), std::string::npos);
  // the mean-field file holds what was compared, not t_end
  std::ifstream f(dir + "/meanfield.csv");
  size_t lines = 0;
  for (std::string l; std::getline(f, l);) ++lines;
  EXPECT_LT(lines, 1 + rows.size() + 1 + 1000);
}

TEST(Validator, StopRequestEndsAHugeValidationAtOnceWithBoundedMemory) {
  // record_every = 1 with t_end = 1e6: 1e9 record times. Nothing is
  // materialised up front, and a stop request ends everything within a second.
  model_spec spec = paper_one_population(0.12);
  spec.run.t_end = 1e6;
  spec.run.dt = 1e-3;
  spec.run.record_every = 1;
  auto rss_mb = [] {
    std::ifstream f("/proc/self/statm");
    long pages = 0, resident = 0;
    f >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
  };
  const double before = rss_mb();
  std::atomic<bool> stop{false};
  validator_options vo;
  vo.stop = &stop;
  const auto t0 = std::chrono::steady_clock::now();
  validator val(spec, vo);
  std::vector<record_row> batch;
  for (int k = 1; k <= 200000; ++k) {
    record_row r;
    r.t = static_cast<double>(k) * 1e-3;
    r.r = {0.05};
    r.v = {0.3};
    r.w = {0.1};
    r.s = {0.2};
    batch.push_back(r);
    if (batch.size() == 5000) {
      val.push(batch);
      batch.clear();
    }
  }
  const double during = rss_mb();
  stop = true;
  const auto t1 = std::chrono::steady_clock::now();
  run_outcome o;
  o.state = run_outcome::status::interrupted;
  o.t_reached = 200;
  const auto rep = val.finish(o);
  const double stop_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  EXPECT_LT(stop_s, 1.0);
  EXPECT_LT(during - before, 200.0) << "MB";
  EXPECT_EQ(rep.vs_exact.outcome, "no verdict");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30.0);
}

TEST(Validator, BadTolerancesAreConfigErrors) {
  model_spec spec = short_spec(0.25);
  spec.meanfield.atol = 0;
  try {
    validator v(spec);
    FAIL() << "no throw";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "meanfield.atol");
  }
}

TEST(Validator, FailingMeanFieldIsReportedAndTheOtherKept) {
  // The finite-peak slow model cannot be built with v_reset > v_peak: it fails on
  // the validator's thread; the exact model and the comparison with it go on.
  model_spec spec = short_spec(0.25);
  spec.meanfield.slow_finite_peak = true;
  spec.populations[0].v_reset = 300;
  const auto dir = temp_dir("val_fail");
  validator_options vo;
  vo.out_dir = dir;
  const auto rep = validate(spec, mf_rows(spec), vo);
  EXPECT_TRUE(rep.error.empty()) << rep.error;
  EXPECT_NE(rep.slow.failure.find("v_peak"), std::string::npos) << rep.slow.failure;
  EXPECT_EQ(rep.vs_slow.outcome, "unavailable");
  EXPECT_TRUE(rep.exact.failure.empty());
  EXPECT_TRUE(rep.vs_exact.agree()) << rep.verdict();
  EXPECT_NE(rep.verdict().find("failed at t = "), std::string::npos) << rep.verdict();
  EXPECT_NE(read_file(dir + "/validation.json").find("\"failed_at\": 0"), std::string::npos);
}

TEST(Validator, BlowUpIsANumericalErrorWithTheTimeReached) {
  // v' = v^2 + 1e200: the exact mean field overflows at once.
  model_spec spec = short_spec(0.25);
  spec.populations[0].I_ext.value = 1e200;
  const exact_meanfield m(spec);
  try {
    integrate_exact(m, spec.run.t_end, record_times(spec), dopri5_options_from(spec.meanfield));
    FAIL() << "no throw";
  } catch (const numerical_error& e) {
    EXPECT_LT(e.t_lo, 1.0);
    EXPECT_NE(std::string(e.what()).find("failed at t = "), std::string::npos);
  }
}

TEST(Validator, MfCommandWritesTrajectoryAndEquilibria) {
  model_spec spec = short_spec(0.25);
  const auto dir = temp_dir("mf_cmd");
  EXPECT_EQ(run_mf_command(spec, dir), 0);
  std::ifstream f(dir + "/meanfield.csv");
  std::string header, line;
  std::getline(f, header);
  EXPECT_EQ(header, "t,r0,v0,w0,s0");
  size_t rows = 0;
  while (std::getline(f, line)) ++rows;
  EXPECT_EQ(rows, record_times(spec).size());
  EXPECT_NE(read_file(dir + "/equilibria.json").find("\"stable\": true"), std::string::npos);
}

TEST(Validator, CriteriaInTheReadmeComeFromTheCode) {
  const std::string readme = read_file(std::string(IZHINET_SOURCE_DIR) + "/README.md");
  EXPECT_NE(readme.find(criteria_markdown()), std::string::npos)
      << "README.md must hold the criteria table exactly as criteria_markdown() writes it:\n"
      << criteria_markdown();
}
