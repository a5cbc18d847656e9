// The `exact` scheme (neuron.hpp, exact_step): known answers for one neuron,
// measured convergence order on a coupled network, thread-count independence.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/hd.hpp"
#include "izhinet/neuron.hpp"
#include "izhinet/params.hpp"
#include "izhinet/simulation.hpp"
#include "test_helpers.hpp"

using namespace izhinet;
using izhinet::testing::memory_sink;

namespace {

/// Spike times of one uncoupled neuron v' = v^2 - A v + B from v = 0, w = 0 (a = 0),
/// with the spike's position inside the step.
std::vector<double> spike_times(double A, double B, double dt, double t_end) {
  const step_coeffs k{A, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, dt};
  const exact_coeffs e = make_exact_coeffs(k, 1.0);
  double p = 0.0, w = 0.0, frac = 0.0;
  int64_t weight = 0;
  std::vector<double> t;
  const auto steps = static_cast<int64_t>(std::llround(t_end / dt));
  for (int64_t s = 0; s < steps; ++s)
    if (exact_step(p, w, B, e, weight, frac)) t.push_back((static_cast<double>(s) + frac) * dt);
  return t;
}

double order(double e_coarse, double e_fine) { return std::log2(e_coarse / e_fine); }

}  // namespace

TEST(ExactScheme, LogRatioAgreesWithTheLibraryLog) {
  // Two implementations: the bit-level one of the step and std::log.
  std::mt19937_64 g(3);
  std::uniform_real_distribution<double> ex(-300, 300), m(1.0, 2.0);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const double num = m(g) * std::pow(2.0, std::floor(ex(g))), den = m(g) * std::pow(2.0, std::floor(ex(g)));
    worst = std::max(worst, std::fabs(log_ratio(num, den) - std::log(num / den)));
  }
  EXPECT_LT(worst, 1e-12);
  EXPECT_NEAR(log_ratio(3.0, 3.0), 0.0, 1e-12);
}

TEST(ExactScheme, CommonCaseStepAgreesWithTheFullStep) {
  // Two implementations of one step: exact_quiet (series on z, no bit-level
  // reduction) where it takes the step, exact_step_full everywhere. Random
  // states over the whole phase circle, drives and steps; where the quiet
  // part declines, it leaves the state untouched.
  std::mt19937_64 g(11);
  std::uniform_real_distribution<double> up(-1.0, 1.0), uw(-0.5, 0.5), ueta(-1.0, 2.0), uA(0.0, 2.0);
  const double dts[] = {0.005, 0.02, 0.1, 0.3};
  int quiet = 0, declined = 0;
  double worst_p = 0, worst_w = 0;
  for (int i = 0; i < 200000; ++i) {
    const step_coeffs k{uA(g), 0.1, 0.0077, -0.0062, 0.0189, 0.0, 0.0, dts[i % 4]};
    const exact_coeffs e = make_exact_coeffs(k, 2.6);
    const double p0 = up(g), w0 = uw(g), eta = ueta(g);
    double pq = p0, wq = w0, pf = p0, wf = w0, frac;
    int64_t weight;
    const int left = exact_quiet(pq, wq, eta, e);
    const int spike = exact_step_full(pf, wf, eta, e, weight, frac);
    if (left) {
      ++declined;
      ASSERT_EQ(pq, p0);
      ASSERT_EQ(wq, w0);
      continue;
    }
    ++quiet;
    ASSERT_EQ(spike, 0) << "p = " << p0 << ", dt = " << k.dt;
    worst_p = std::max(worst_p, std::fabs(pq - pf));
    worst_w = std::max(worst_w, std::fabs(wq - wf));
  }
  EXPECT_GT(quiet, 50000);
  EXPECT_GT(declined, 10000);
  EXPECT_LT(worst_p, 1e-14);
  EXPECT_LT(worst_w, 1e-15);
  std::printf("quiet %d, declined %d, largest differences: p %.3g, w %.3g\n", quiet, declined, worst_p, worst_w);
}

TEST(ExactScheme, StateMapsToVoltageAndPhase) {
  for (double v : {-1e6, -3.0, -0.5, 0.0, 0.25, 7.0, 1e9}) {
    // p resolves the phase uniformly (to ~1e-16), not v's relative digits near infinity.
    EXPECT_NEAR(std::atan(p_to_v(v_to_p(v))), std::atan(v), 1e-15);
    double c, s;
    p_cos_sin(v_to_p(v), c, s);
    const double th = 2 * std::atan(v);  // v = tan(theta/2)
    EXPECT_NEAR(c, std::cos(th), 1e-12);
    EXPECT_NEAR(s, std::sin(th), 1e-12);
  }
}

TEST(ExactScheme, UncoupledNeuronFiresAtTheCayleyRateWithSecondOrderError) {
  // For constant input the step is a Moebius map that turns the uniform phase
  // by exactly 2 atan(x/2), x = dt sqrt(H), H = B - A^2/4: the rate is
  // 2 atan(x/2)/(pi dt) to rounding (from the precise spike times), and its
  // error against the analytic sqrt(H)/pi is second order in dt.
  const double A = 0.6215;
  for (double H : {0.05, 0.4, 3.0}) {
    const double B = H + A * A / 4, rate = std::sqrt(H) / k_pi;
    std::vector<double> err;
    for (double dt : {0.04, 0.02, 0.01}) {
      const auto t = spike_times(A, B, dt, 3000.0 / rate * dt / 0.01);
      ASSERT_GT(t.size(), 1000u);
      const double measured = static_cast<double>(t.size() - 1) / (t.back() - t.front());
      const double x = dt * std::sqrt(H), cayley = 2 * std::atan(x / 2) / (k_pi * dt);
      EXPECT_NEAR(measured / cayley, 1.0, 1e-9) << "H = " << H << ", dt = " << dt;
      err.push_back(std::fabs(measured / rate - 1));
    }
    EXPECT_GE(order(err[0], err[1]), 1.9) << "H = " << H;
    EXPECT_GE(order(err[1], err[2]), 1.9) << "H = " << H;
  }
}

TEST(ExactScheme, FirstSpikeTimeIsSecondOrderInsideTheStep) {
  // From v = 0 the first spike comes at (pi/2 - atan(-A/(2 sqrt H)))/sqrt H;
  // the step resolves it inside the step, with a second-order error.
  const double A = 0.6215, H = 0.3, B = H + A * A / 4;
  const double t_star = (k_pi / 2 - std::atan(-A / (2 * std::sqrt(H)))) / std::sqrt(H);
  std::vector<double> err;
  for (double dt : {0.08, 0.04, 0.02, 0.01}) err.push_back(std::fabs(spike_times(A, B, dt, 2 * t_star)[0] - t_star));
  for (size_t i = 0; i + 1 < err.size(); ++i) EXPECT_GE(order(err[i], err[i + 1]), 1.9) << i;
  EXPECT_LT(err.back(), 1e-3 * 0.01);  // far below the step
}

namespace {

struct net_run {
  std::vector<record_row> rows;
  std::vector<spike_event> spikes;
};

/// Tonic point, N = 1000, recorded every 0.2 time units whatever dt.
net_run tonic(double dt, int threads = 1, double t_end = 200.0, int64_t spike_neurons = 0) {
  model_spec m = paper_one_population(0.25);
  m.network.n = 1000;
  m.run.scheme = scheme_kind::exact;
  m.run.dt = dt;
  m.run.t_end = t_end;
  m.run.record_every = std::llround(0.2 / dt);
  m.run.spike_neurons = spike_neurons;
  auto be = make_cpu_backend(threads);
  const auto reps = default_replicas(m);
  be->setup(m, reps);
  memory_sink sink;
  simulation_options o;
  o.progress_seconds = 0;
  simulate(m, *be, reps, sink, o);
  return {sink.rows[0], sink.spikes};
}

}  // namespace

TEST(ExactScheme, CoupledNetworkConvergesAtSecondOrder) {
  // Late means (t > 100) of <w> against a run with dt = 2.5e-3: second
  // order; of s: below 5e-4 (its error changes sign between dt = 0.2 and
  // 0.1, so no order is read from it). (Late r counts spikes: at N = 1000 over 100 time units one spike is
  // 8e-5 of it, the size of the errors measured here, so s = tau_s s_jump r
  // in the steady state stands in for it.) The time series over these 200
  // time units converge more slowly (printed, order about 0.6): a finite
  // network is chaotic, so any two runs' trajectories separate and the
  // difference saturates; pathwise order is measured over a short horizon
  // (CoupledNetworkSpikeTimesConvergeAtSecondOrderPathwise).
  const net_run ref = tonic(0.0025);
  const double t0 = 100;
  const double r_ref = izhinet::testing::late_mean(ref.rows, t0, [](const record_row& x) { return x.s[0]; });
  const double w_ref = izhinet::testing::late_mean(ref.rows, t0, [](const record_row& x) { return x.w[0]; });
  std::vector<double> er, ew, es;
  const char* env = std::getenv("IZH_EXACT_DTS");
  std::vector<double> dts{0.2, 0.1, 0.05};
  if (env) {
    dts.clear();
    for (std::stringstream in(env); in.good();) {
      double d;
      in >> d;
      dts.push_back(d);
      in.ignore(1);
    }
  }
  for (double dt : dts) {
    const net_run run = tonic(dt);
    ASSERT_EQ(run.rows.size(), ref.rows.size());
    er.push_back(
        std::fabs(izhinet::testing::late_mean(run.rows, t0, [](const record_row& x) { return x.s[0]; }) / r_ref - 1));
    ew.push_back(
        std::fabs(izhinet::testing::late_mean(run.rows, t0, [](const record_row& x) { return x.w[0]; }) / w_ref - 1));
    // Mean absolute differences over the series: s and <w> jump at every
    // spike, so their largest difference is one spike's jump as soon as any
    // spike time moves across a recording time; the mean is second order.
    double ws = 0, ss = 0;
    for (size_t k = 0; k < ref.rows.size(); ++k) {
      ws += std::fabs(run.rows[k].w[0] - ref.rows[k].w[0]);
      ss += std::fabs(run.rows[k].s[0] - ref.rows[k].s[0]);
    }
    es.push_back(std::max(ws / std::fabs(w_ref), ss / 0.3) / static_cast<double>(ref.rows.size()));
    std::printf("dt = %g: late s rel err %.3g, late <w> rel err %.3g, series mean rel err %.3g\n", dt, er.back(),
                ew.back(), es.back());
  }
  EXPECT_GT(r_ref, 0.05);
  for (size_t i = 0; i + 1 < er.size(); ++i) {
    EXPECT_LT(er[i], 5e-4) << "late s, step " << i;  // small but not monotone here (changes sign)
    EXPECT_GE(order(ew[i], ew[i + 1]), 1.9) << "late <w>, step " << i;
    EXPECT_GE(order(es[i], es[i + 1]), 0.4) << "time series, step " << i;  // see above: chaos, not the scheme
  }
}

TEST(ExactScheme, SpikeTimesAndMeansDoNotDependOnTheThreadCount) {
  const net_run a = tonic(0.01, 1, 20.0, 50), b = tonic(0.01, 2, 20.0, 50), c = tonic(0.01, 3, 20.0, 50);
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (size_t k = 0; k < a.rows.size(); ++k) {
    EXPECT_EQ(a.rows[k].s[0], b.rows[k].s[0]);
    EXPECT_EQ(a.rows[k].w[0], b.rows[k].w[0]);
    EXPECT_EQ(a.rows[k].v[0], c.rows[k].v[0]);
    EXPECT_EQ(a.rows[k].s[0], c.rows[k].s[0]);
  }
  ASSERT_GT(a.spikes.size(), 10u);
  ASSERT_EQ(a.spikes.size(), c.spikes.size());
  for (size_t i = 0; i < a.spikes.size(); ++i) {
    EXPECT_EQ(a.spikes[i].step, c.spikes[i].step);
    EXPECT_EQ(a.spikes[i].frac, c.spikes[i].frac);
    EXPECT_GE(a.spikes[i].frac, 0.0);
    EXPECT_LE(a.spikes[i].frac, 1.0);
  }
}

namespace {

/// Spike times of every neuron of a coupled network (default model, one
/// population of N quantile-sampled neurons at eta_bar) up to t_end.
std::vector<std::vector<double>> network_spike_times(double eta_bar, double dt, int64_t n, double t_end) {
  model_spec m = paper_one_population(eta_bar);
  m.network.n = n;
  m.run.scheme = scheme_kind::exact;
  m.run.dt = dt;
  m.run.t_end = t_end;
  m.run.record_every = std::llround(0.2 / dt);
  m.run.spike_neurons = n;
  m.run.max_spikes = 10000000;
  auto be = make_cpu_backend(1);
  const auto reps = default_replicas(m);
  be->setup(m, reps);
  memory_sink sink;
  simulation_options o;
  o.progress_seconds = 0;
  simulate(m, *be, reps, sink, o);
  std::vector<std::vector<double>> t(static_cast<size_t>(n));
  for (const auto& e : sink.spikes)
    t[static_cast<size_t>(e.neuron)].push_back((static_cast<double>(e.step) + e.frac) * dt);
  return t;
}

}  // namespace

TEST(ExactScheme, CoupledNetworkSpikeTimesConvergeAtSecondOrderPathwise) {
  // Pathwise, over a horizon short enough that the chaotic network's runs do
  // not yet separate (t <= 20, N = 1000, coupled): every neuron's spike times
  // against a run with dt = 1.25e-3, mean absolute difference over all spikes
  // of the neurons that fire equally often in both runs (a neuron whose last
  // spike falls on the other side of t_end in one run is left out: at most
  // 0.5 % here). Second order at the tonic and the bursting point. Before the
  // drive correction of exact_next_drive (drive at mid-step extrapolated from
  // the previous step), a spike's effect on the others inside its own step
  // was misplaced by O(dt) and the same measure gave orders 1.5 and 1.1-1.5.
  for (double eta_bar : {0.25, 0.12}) {
    const auto ref = network_spike_times(eta_bar, 1.25e-3, 1000, 20.0);
    std::vector<double> err;
    for (double dt : {0.1, 0.05, 0.025}) {
      const auto run = network_spike_times(eta_bar, dt, 1000, 20.0);
      double sum = 0;
      size_t count = 0, unmatched = 0, spikes = 0;
      for (size_t k = 0; k < ref.size(); ++k) {
        spikes += ref[k].size();
        if (run[k].size() != ref[k].size()) {
          ++unmatched;
          continue;
        }
        for (size_t j = 0; j < ref[k].size(); ++j) sum += std::fabs(run[k][j] - ref[k][j]);
        count += ref[k].size();
      }
      ASSERT_GT(spikes, 1500u);
      EXPECT_LE(unmatched, 5u) << "eta_bar = " << eta_bar << ", dt = " << dt;
      err.push_back(sum / static_cast<double>(count));
      std::printf("eta_bar = %g, dt = %g: mean |spike time error| %.3g (%zu spikes, %zu neurons left out)\n", eta_bar,
                  dt, err.back(), spikes, unmatched);
    }
    EXPECT_LT(err.back(), 1e-3);
    for (size_t i = 0; i + 1 < err.size(); ++i) EXPECT_GE(order(err[i], err[i + 1]), 1.9) << eta_bar << ", " << i;
  }
}
