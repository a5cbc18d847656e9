// Tests of the mean-field models, the DOPRI5 integrator, the eigenvalue routine
// and the equilibrium search. Every expected value is computed here by a
// different method (or taken from the paper), never copied from an output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <random>
#include <vector>

#include "izhinet/errors.hpp"
#include "izhinet/hd.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/params.hpp"
#include "izhinet/series_analysis.hpp"
#include "izhinet/validator.hpp"

using namespace izhinet;

namespace {

/// Classical RK4 with fixed step h on [0, T]; returns states at multiples of `every` steps.
std::vector<std::vector<double>> rk4(const exact_meanfield& m, double T, double h, int64_t every) {
  const int n = m.dimension();
  std::vector<double> y(n, 0.0), k1(n), k2(n), k3(n), k4(n), yt(n);
  const auto steps = static_cast<int64_t>(std::llround(T / h));
  std::vector<std::vector<double>> out{y};
  for (int64_t s = 0; s < steps; ++s) {
    const double t = s * h;
    m.rhs(t, y.data(), k1.data());
    for (int i = 0; i < n; ++i) yt[i] = y[i] + 0.5 * h * k1[i];
    m.rhs(t + 0.5 * h, yt.data(), k2.data());
    for (int i = 0; i < n; ++i) yt[i] = y[i] + 0.5 * h * k2[i];
    m.rhs(t + 0.5 * h, yt.data(), k3.data());
    for (int i = 0; i < n; ++i) yt[i] = y[i] + h * k3[i];
    m.rhs(t + h, yt.data(), k4.data());
    for (int i = 0; i < n; ++i) y[i] += h / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    if ((s + 1) % every == 0) out.push_back(y);
  }
  return out;
}

}  // namespace

TEST(MeanFieldDopri5, LinearOdeMatchesExactSolution) {
  // y1' = -0.1 y1 - y2, y2' = y1 - 0.1 y2, y(0) = (1, 0): y = e^{-0.1 t} (cos t, sin t).
  auto f = [](double, const double* y, double* d) {
    d[0] = -0.1 * y[0] - y[1];
    d[1] = y[0] - 0.1 * y[1];
  };
  std::vector<double> tout;
  for (int k = 0; k <= 2000; ++k) tout.push_back(0.01 * k * 1.0 + 0.0);  // [0, 20], off-step points
  double max_err = 0;
  int seen = 0;
  dopri5_options o;
  o.rtol = 1e-10;
  o.atol = 1e-12;
  auto st = integrate_dopri5(f, {1.0, 0.0}, 0.0, 20.0, tout, o, [&](double t, const double* y) {
    ++seen;
    max_err = std::max(max_err, std::fabs(y[0] - std::exp(-0.1 * t) * std::cos(t)));
    max_err = std::max(max_err, std::fabs(y[1] - std::exp(-0.1 * t) * std::sin(t)));
  });
  EXPECT_EQ(seen, 2001);
  EXPECT_LT(max_err, 1e-8);
  EXPECT_GT(st.accepted, 10);
  EXPECT_LT(st.accepted, 2000);  // dense output, not a step per output
}

TEST(MeanFieldDopri5, PaperModelMatchesRichardsonExtrapolatedRk4) {
  const model_spec spec = paper_one_population(0.12);
  const exact_meanfield m(spec);
  const double T = 800.0;
  // RK4 at h and h/2, Richardson: y = (16 y_{h/2} - y_h)/15, compared every 1.0 time unit.
  const double h = 0.02;
  const auto coarse = rk4(m, T, h, 50);
  const auto fine = rk4(m, T, h / 2, 100);
  ASSERT_EQ(coarse.size(), fine.size());
  std::vector<double> tout;
  for (size_t k = 0; k < coarse.size(); ++k) tout.push_back(static_cast<double>(k));
  dopri5_options o;
  o.rtol = 1e-12;
  o.atol = 1e-14;
  const auto dp = integrate_exact(m, T, tout, o);
  ASSERT_EQ(dp.size(), coarse.size());
  double max_diff = 0, max_richardson_gap = 0, max_r = 0, min_r = 1e9;
  for (size_t k = 0; k < dp.size(); ++k)
    for (int i = 0; i < 4; ++i) {
      const double ref = (16.0 * fine[k][i] - coarse[k][i]) / 15.0;
      max_diff = std::max(max_diff, std::fabs(dp[k][i] - ref));
      max_richardson_gap = std::max(max_richardson_gap, std::fabs(fine[k][i] - coarse[k][i]));
      if (i == 0 && tout[k] > 200) {
        max_r = std::max(max_r, dp[k][0]);
        min_r = std::min(min_r, dp[k][0]);
      }
    }
  EXPECT_GT(max_r - min_r, 0.1);         // the bursting orbit was really traversed
  EXPECT_GT(max_richardson_gap, 1e-10);  // the reference is not trivially converged
  EXPECT_LT(max_diff, 1e-8) << "RK4 gap " << max_richardson_gap;
  std::printf("DOPRI5 vs Richardson RK4: max diff %.3g (RK4 h vs h/2 gap %.3g), r in [%.3g, %.3g]\n", max_diff,
              max_richardson_gap, min_r, max_r);
}

TEST(MeanFieldDopri5, BadTolerancesAreConfigErrors) {
  auto f = [](double, const double* y, double* d) { d[0] = -y[0]; };
  auto obs = [](double, const double*) {};
  dopri5_options o;
  o.rtol = 0;
  try {
    integrate_dopri5(f, {1.0}, 0, 1, {}, o, obs);
    FAIL() << "no throw";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "meanfield.rtol");
  }
  o.rtol = 1e-6;
  o.atol = -1;
  try {
    integrate_dopri5(f, {1.0}, 0, 1, {}, o, obs);
    FAIL() << "no throw";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "meanfield.atol");
  }
  meanfield_params mp;
  mp.rtol = -1e-8;
  EXPECT_THROW(dopri5_options_from(mp), config_error);
  mp.rtol = 1e-8;
  mp.atol = 0;
  EXPECT_THROW(dopri5_options_from(mp), config_error);
}

TEST(MeanFieldDopri5, BlowUpThrowsNumericalErrorWithTime) {
  // y' = y^2, y(0) = 1 blows up at t = 1.
  auto f = [](double, const double* y, double* d) { d[0] = y[0] * y[0]; };
  dopri5_options o;
  try {
    integrate_dopri5(f, {1.0}, 0, 2, {}, o, [](double, const double*) {});
    FAIL() << "no throw";
  } catch (const numerical_error& e) {
    EXPECT_NEAR(e.t_lo, 1.0, 1e-3);
    EXPECT_NE(std::string(e.what()).find("t = "), std::string::npos);
  }
}

namespace {

void check_jacobian(const model_spec& spec, unsigned seed) {
  const exact_meanfield m(spec);
  const int n = m.dimension();
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> U(-1.0, 1.0);
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<double> y(n);
    for (int i = 0; i < n; ++i) y[i] = U(gen);
    std::vector<double> J(n * n), fp(n), fm(n);
    m.jacobian(0.0, y.data(), J.data());
    for (int c = 0; c < n; ++c) {
      const double h = 1e-6;
      auto yp = y, ym = y;
      yp[c] += h;
      ym[c] -= h;
      m.rhs(0.0, yp.data(), fp.data());
      m.rhs(0.0, ym.data(), fm.data());
      for (int r = 0; r < n; ++r) EXPECT_NEAR(J[r * n + c], (fp[r] - fm[r]) / (2 * h), 1e-7) << r << "," << c;
    }
  }
}

}  // namespace

TEST(MeanFieldJacobian, MatchesFiniteDifferencesOnePopulation) { check_jacobian(paper_one_population(0.12), 1); }

TEST(MeanFieldJacobian, MatchesFiniteDifferencesTwoPopulations) {
  model_spec spec = paper_two_populations(0.12, 0.7);
  // asymmetric couplings and reversal potentials exercise every index
  spec.synapse.g = {{1.1, 0.4}, {2.0, 0.7}};
  spec.synapse.e_r = {1.0, -0.5};
  spec.synapse.tau_s = {2.6, 5.0};
  spec.synapse.s_jump = {1.2, 0.8};
  check_jacobian(spec, 2);
}

TEST(MeanFieldEigen, CompanionMatrixWithComplexPair) {
  // (x + 1)(x - 2)(x^2 - x + 9.25): roots -1, 2, 0.5 +- 3i.
  // Expand: (x^2 - x - 2)(x^2 - x + 9.25) = x^4 - 2x^3 + 8.25x^2 - 7.25x - 18.5
  const double c3 = -2, c2 = 8.25, c1 = -7.25, c0 = -18.5;
  std::vector<double> A = {-c3, -c2, -c1, -c0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
  auto ev = eigenvalues(A, 4);
  ASSERT_EQ(ev.size(), 4u);
  std::vector<std::complex<double>> want = {{-1, 0}, {2, 0}, {0.5, 3}, {0.5, -3}};
  for (const auto& w : want) {
    double best = 1e9;
    for (const auto& e : ev) best = std::min(best, std::abs(e - w));
    EXPECT_LT(best, 1e-10) << w;
  }
}

TEST(MeanFieldEigen, SimilarityTransformOfKnownSpectrum) {
  // A = S B S^{-1} with B block diagonal: -0.3, 1.5, -2 +- 0.7i, 4, -0.01 +- 10i (n = 7).
  const int n = 7;
  std::vector<double> B(n * n, 0.0);
  B[0] = -0.3;
  B[1 * n + 1] = 1.5;
  B[2 * n + 2] = -2, B[2 * n + 3] = 0.7, B[3 * n + 2] = -0.7, B[3 * n + 3] = -2;
  B[4 * n + 4] = 4;
  B[5 * n + 5] = -0.01, B[5 * n + 6] = 10, B[6 * n + 5] = -10, B[6 * n + 6] = -0.01;
  // S = I + u v^T has inverse I - u v^T / (1 + v^T u) (Sherman–Morrison).
  std::vector<double> u = {0.3, -1.2, 0.5, 2.0, -0.7, 0.1, 1.1}, v = {1.0, 0.4, -0.6, 0.2, 0.9, -1.5, 0.3};
  double vu = 0;
  for (int i = 0; i < n; ++i) vu += v[i] * u[i];
  std::vector<double> S(n * n), Si(n * n), T(n * n, 0.0), A(n * n, 0.0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      S[i * n + j] = (i == j) + u[i] * v[j];
      Si[i * n + j] = (i == j) - u[i] * v[j] / (1 + vu);
    }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k) T[i * n + j] += S[i * n + k] * B[k * n + j];
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k) A[i * n + j] += T[i * n + k] * Si[k * n + j];
  auto ev = eigenvalues(A, n);
  std::vector<std::complex<double>> want = {{-0.3, 0}, {1.5, 0},    {-2, 0.7},   {-2, -0.7},
                                            {4, 0},    {-0.01, 10}, {-0.01, -10}};
  for (const auto& w : want) {
    double best = 1e9;
    for (const auto& e : ev) best = std::min(best, std::abs(e - w));
    EXPECT_LT(best, 1e-9) << w;
  }
}

TEST(MeanFieldEquilibria, WithoutAdaptationEqualsMprFixedPoint) {
  // a = w_jump = 0: MPR with conductance synapses. Fixed points solved here by a
  // 2-D Newton on (r, v) with s = tau_s s_jump r and a finite-difference Jacobian.
  for (double eta : {-0.05, 0.1, 0.25}) {
    model_spec spec = paper_one_population(eta);
    spec.populations[0].a = 0;
    spec.populations[0].w_jump = 0;
    const auto& p = spec.populations[0];
    const double g = spec.synapse.g[0][0], er = spec.synapse.e_r[0],
                 cs = spec.synapse.tau_s[0] * spec.synapse.s_jump[0];
    auto F = [&](double r, double v, double out[2]) {
      const double s = cs * r;
      out[0] = p.delta / k_pi + 2 * r * v - (p.alpha + g * s) * r;
      out[1] = v * v - p.alpha * v + p.eta_bar + g * s * (er - v) - k_pi * k_pi * r * r;
    };
    std::vector<std::pair<double, double>> mpr;
    for (double r0 : {1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0})
      for (double v0 : {-3.0, -1.0, -0.3, 0.0, 0.5, 1.0, 2.0}) {
        double r = r0, v = v0;
        bool ok = false;
        for (int it = 0; it < 200; ++it) {
          double f0[2], fr[2], fv[2];
          F(r, v, f0);
          if (std::hypot(f0[0], f0[1]) < 1e-14) {
            ok = true;
            break;
          }
          const double h = 1e-7;
          F(r + h, v, fr);
          F(r, v + h, fv);
          const double j00 = (fr[0] - f0[0]) / h, j10 = (fr[1] - f0[1]) / h, j01 = (fv[0] - f0[0]) / h,
                       j11 = (fv[1] - f0[1]) / h;
          const double det = j00 * j11 - j01 * j10;
          if (det == 0) break;
          double dr = (j11 * f0[0] - j01 * f0[1]) / det, dv = (-j10 * f0[0] + j00 * f0[1]) / det;
          double lam = 1;
          while (r - lam * dr <= 0 && lam > 1e-6) lam *= 0.5;
          r -= lam * dr;
          v -= lam * dv;
          if (!std::isfinite(r) || !std::isfinite(v)) break;
        }
        if (ok && r > 0) {
          bool dup = false;
          for (auto& q : mpr) dup |= std::fabs(q.first - r) < 1e-8;
          if (!dup) mpr.emplace_back(r, v);
        }
      }
    ASSERT_FALSE(mpr.empty()) << eta;
    const auto eq = find_equilibria(spec);
    ASSERT_EQ(eq.size(), mpr.size()) << "eta " << eta;
    for (const auto& q : mpr) {
      bool found = false;
      for (const auto& e : eq)
        if (std::fabs(e.state[0] - q.first) < 1e-9 && std::fabs(e.state[1] - q.second) < 1e-8) {
          found = true;
          EXPECT_DOUBLE_EQ(e.state[2], 0.0);
          EXPECT_NEAR(e.state[3], cs * q.first, 1e-12);
          EXPECT_LT(e.residual, 1e-10);
        }
      EXPECT_TRUE(found) << "MPR fixed point r = " << q.first << " not found, eta " << eta;
    }
  }
}

TEST(MeanFieldEquilibria, PaperTonicEquilibriumIsUniqueAndStable) {
  const auto eq = find_equilibria(paper_one_population(0.25));
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_TRUE(eq[0].stable);
  EXPECT_NEAR(eq[0].state[0], 0.1169, 1e-3);
  EXPECT_NEAR(eq[0].state[2], 0.2837, 1e-3);
  ASSERT_EQ(eq[0].eigenvalues.size(), 4u);
  // and the integrated solution goes there
  model_spec spec = paper_one_population(0.25);
  const exact_meanfield m(spec);
  const auto y = integrate_exact(m, 800.0, {800.0}, dopri5_options{});
  ASSERT_EQ(y.size(), 1u);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[0][i], eq[0].state[i], 1e-4 * (1 + std::fabs(eq[0].state[i])));
}

TEST(MeanFieldEquilibria, PaperBurstingEquilibriumIsUnstableAndOrbitPeriodic) {
  model_spec spec = paper_one_population(0.12);
  const auto eq = find_equilibria(spec);
  ASSERT_GE(eq.size(), 1u);
  for (const auto& e : eq) EXPECT_FALSE(e.stable);
  const exact_meanfield m(spec);
  std::vector<double> t;
  for (int k = 0; k <= 80000; ++k) t.push_back(0.01 * k);
  const auto y = integrate_exact(m, 800.0, t, dopri5_options{});
  uniform_window w;  // t > 200
  w.h = 0.01;
  w.t0 = 200.01;
  w.ch.assign(4, {});
  for (size_t k = 20001; k < y.size(); ++k)
    for (int c = 0; c < 4; ++c) w.ch[c].push_back(y[k][c]);
  const auto a = analyse_window(w, {var_w}, 200.0);
  EXPECT_EQ(a.regime, "oscillation");
  // The orbit's period from `izhinet bif` (collocation, a different method
  // from integration + autocorrelation) is 227.2096893. The window analysis
  // finds the autocorrelation peak on the h = 0.01 grid and refines it with a
  // parabola; that refinement is good to a small fraction of h (measured:
  // 2.7e-4), so the tolerance is h / 10.
  EXPECT_NEAR(a.period, 227.2096893, 0.1 * w.h);
}

TEST(MeanFieldEquilibria, TwoPopulationsSolutionsAreEquilibria) {
  const model_spec spec = paper_two_populations(0.25, 0.8);
  const auto eq = find_equilibria(spec);
  ASSERT_GE(eq.size(), 1u);
  for (const auto& e : eq) {
    EXPECT_LT(e.residual, 1e-9);
    EXPECT_EQ(e.eigenvalues.size(), 8u);
  }
  // a stable one must be where the integration ends
  const exact_meanfield m(spec);
  const auto y = integrate_exact(m, 1500.0, {1500.0}, dopri5_options{});
  bool match = false;
  for (const auto& e : eq) {
    double d = 0;
    for (int i = 0; i < 8; ++i) d = std::max(d, std::fabs(e.state[i] - y[0][i]));
    if (d < 1e-3 && e.stable) match = true;
  }
  EXPECT_TRUE(match);
}

TEST(MeanFieldSlow, InfinitePeakRateIsLorentzianAverage) {
  // (1/pi) Re sqrt(H0 + i Delta) equals the Lorentzian average of sqrt(max(H,0))/pi;
  // checked against the finite-peak quadrature with a huge v_peak (cut tails included).
  model_spec spec = paper_one_population(0.2);
  spec.populations[0].v_peak = 1e7;
  spec.populations[0].v_reset = -1e7;
  const slow_meanfield inf_model(spec, false), fin_model(spec, true, 256);
  for (double s : {0.0, 0.05, 0.2})
    for (double w : {0.0, 0.1, 0.3}) {
      const double y[2] = {s, w};
      double R1, R2;
      inf_model.rates(0.0, y, &R1);
      fin_model.rates(0.0, y, &R2);
      EXPECT_NEAR(R1, R2, 2e-3 * std::max(R1, 1e-2)) << s << " " << w;
    }
}

TEST(MeanFieldJacobian, OnePopulationFastPathEqualsGeneralPath) {
  // A 'steps' input with one value equal to the constant forces the general code path.
  model_spec a = paper_one_population(0.12);
  a.populations[0].I_ext.value = 0.03;
  model_spec b = a;
  b.populations[0].I_ext.type = input_spec::kind::steps;
  b.populations[0].I_ext.times = {0.0};
  b.populations[0].I_ext.values = {0.03};
  const exact_meanfield ma(a), mb(b);
  std::mt19937 gen(3);
  std::uniform_real_distribution<double> U(-1.0, 1.0);
  for (int trial = 0; trial < 20; ++trial) {
    double y[4], da[4], db[4];
    for (double& x : y) x = U(gen);
    ma.rhs(1.0, y, da);
    mb.rhs(1.0, y, db);
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(da[i], db[i], 1e-14 * (1 + std::fabs(db[i])));
  }
}
