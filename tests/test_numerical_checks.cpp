// The numerical warnings of the network schemes, and the measurements behind
// their bounds (validation_criteria.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "izhinet/neuron.hpp"
#include "izhinet/numerical_checks.hpp"
#include "izhinet/sampling.hpp"
#include "izhinet/validation_criteria.hpp"

using namespace izhinet;

namespace {

/// Firing rate of one uncoupled neuron, v' = v^2 - A v + B, over `steps` steps
/// of the given scheme: from the first to the last spike when there are
/// several, else spikes / time (0 when the scheme loses them all).
double measured_rate(bool exact, double A, double B, double dt, double v_peak, int64_t steps) {
  step_coeffs k{A, 0.0, 0.0, 0.0, 0.0, v_peak, -v_peak, dt};
  const exact_coeffs e = make_exact_coeffs(k, 1.0);
  double x = 0.0, w = 0;  // v = 0 in both schemes' states
  int64_t weight;
  double frac;
  int64_t count = 0;
  double t_first = -1, t_last = 0;
  for (int64_t s = 0; s < steps; ++s) {
    if (exact ? exact_step(x, w, B, e, weight, frac) : paper_step(x, w, B, k)) {
      ++count;
      const double t = static_cast<double>(s + 1) * dt;
      if (t_first < 0) t_first = t;
      t_last = t;
    }
    if (!std::isfinite(x)) return NAN;
  }
  return count > 2 ? static_cast<double>(count - 1) / (t_last - t_first)
                   : static_cast<double>(count) / (static_cast<double>(steps) * dt);
}

}  // namespace

TEST(NumericalChecks, PaperSchemeRateErrorJumpsAtTheMeasuredBound) {
  // The paper scheme's rate against its own small-dt value: unchanged below the
  // warning bound q = dt (|v_reset| + dt v_peak^2) = 0.9, far off above 1.
  const double A = 1.0;
  for (double H : {0.05, 1.0}) {
    const double B = H + A * A / 4, R = std::sqrt(H) / k_pi;  // R: the v_peak -> infinity rate
    auto rate = [&](double dt) { return measured_rate(false, A, B, dt, 200, static_cast<int64_t>(30 / R / dt)); };
    const double ref = rate(1e-4);
    ASSERT_NEAR(ref, R, 0.01 * R);  // v_peak = 200 is close to infinity
    EXPECT_LT(std::fabs(rate(paper_dt_limit(200, -200, 0.85)) / ref - 1), 0.01) << "H = " << H;
    EXPECT_GT(std::fabs(rate(paper_dt_limit(200, -200, 1.3)) / ref - 1), 0.10) << "H = " << H;
  }
  EXPECT_NEAR(paper_reset_factor(paper_dt_limit(200, -200, 0.9), 200, -200), 0.9, 1e-12);
}

TEST(NumericalChecks, PaperSchemeWarnsAboveTheBoundOnly) {
  model_spec spec = paper_one_population(0.25);
  spec.run.dt = 4e-3;  // q = 1.44: the "39 % off" run
  const auto w = scheme_warnings(spec, {10000, 1});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("paper scheme"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("use dt <= 0.002862"), std::string::npos) << w[0];
  spec.run.dt = 1e-3;  // the paper's step
  EXPECT_TRUE(scheme_warnings(spec, {10000, 1}).empty());
  spec.run.dt = 2.9e-3;  // q = 0.92
  EXPECT_EQ(scheme_warnings(spec, {10000, 1}).size(), 1u);
  spec.run.dt = 2.5e-3;  // q = 0.75
  EXPECT_TRUE(scheme_warnings(spec, {10000, 1}).empty());
}

TEST(NumericalChecks, ExactSchemeSlowsTheFastestNeuronsByTheCayleyFactor) {
  // x = dt sqrt(H): the step turns by 2 atan(x/2), never by more than half a
  // turn of (x, y) (no lost spike), so the rate is 2 atan(x/2)/x of the true one.
  const double A = 1.0, dt = 0.01;
  for (double x : {0.3, 0.78, 3.0, 10.0}) {
    const double H = std::pow(x / dt, 2), B = H + A * A / 4;
    const double ratio = measured_rate(true, A, B, dt, 0, 20000) / (std::sqrt(H) / k_pi);
    EXPECT_NEAR(ratio, 2 * std::atan(x / 2) / x, 2e-3) << "x = " << x;
  }
}

TEST(NumericalChecks, ExactSchemeWarnsForTheLargestEtaOfTheSample) {
  model_spec spec = paper_one_population(0.12);
  spec.run.scheme = scheme_kind::exact;
  spec.run.dt = 0.05;
  // N = 1e6 quantiles: largest eta = 0.12 + 0.02 tan(pi/2 (1e6 - 1)/(1e6 + 1)) = 6366.3
  EXPECT_NEAR(largest_eta(spec, 0, {1000000, 1}), 0.12 + 0.02 * std::tan(0.5 * k_pi * (999999.0 / 1000001.0)), 1e-6);
  const auto w = scheme_warnings(spec, {1000000, 1});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("fires 44.5"), std::string::npos) << w[0];
  spec.run.dt = 0.01;
  EXPECT_TRUE(scheme_warnings(spec, {1000000, 1}).empty());
  // random samples: every draw, as the backends fill them
  spec.network.sampling = sampling_kind::random;
  std::vector<double> eta(5000);
  fill_eta(true, 0.12, 0.02, 7, 5000, 0, 0, 5000, eta.data());
  double m = eta[0];
  for (double e : eta) m = std::max(m, e);
  EXPECT_EQ(largest_eta(spec, 0, {5000, 7}), m);
}
