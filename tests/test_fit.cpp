// Convergence-exponent fits recover known power laws from synthetic input.
#include <gtest/gtest.h>

#include <cmath>

#include "izhinet/fit.hpp"
#include "izhinet/philox.hpp"

using namespace izhinet;

TEST(Fit, RecoversAPurePowerLaw) {
  std::vector<double> n, d;
  for (double N : {1e2, 3e2, 1e3, 3e3, 1e4, 3e4, 1e5}) {
    n.push_back(N);
    d.push_back(2.5 * std::pow(N, -0.5));
  }
  const power_fit f = fit_convergence(n, d);
  EXPECT_EQ(f.model, "power");
  EXPECT_NEAR(f.gamma, 0.5, 1e-10);
  EXPECT_NEAR(f.c, 2.5, 1e-8);
}

TEST(Fit, RecoversANoisyPowerLawWithinItsStandardError) {
  std::vector<double> n, d;
  int k = 0;
  for (double N : {1e2, 1e3, 1e4, 1e5})
    for (int seed = 0; seed < 8; ++seed) {
      const double noise = std::exp(0.2 * (philox_uniform(3, k++, 0) - 0.5) * 2);
      n.push_back(N);
      d.push_back(0.8 * std::pow(N, -1.0) * noise);
    }
  const power_fit f = fit_power(n, d);
  EXPECT_NEAR(f.gamma, 1.0, 4 * f.gamma_stderr);
  EXPECT_LT(f.gamma_stderr, 0.05);
  EXPECT_GT(f.gamma_stderr, 0.0);
}

TEST(Fit, FindsAPlateauAndPrefersItOverAPurePowerLaw) {
  std::vector<double> n, d;
  for (double N : {1e2, 3e2, 1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6}) {
    n.push_back(N);
    d.push_back(3.0 * std::pow(N, -0.7) + 0.01);
  }
  const power_fit f = fit_convergence(n, d);
  EXPECT_EQ(f.model, "power+plateau");
  EXPECT_NEAR(f.d, 0.01, 1e-4);
  EXPECT_NEAR(f.gamma, 0.7, 0.01);
  // a pure power law would report a much smaller, misleading exponent
  EXPECT_LT(fit_power(n, d).gamma, 0.5);
}

TEST(Fit, TooFewPointsIsNotOk) {
  EXPECT_FALSE(fit_power({100}, {0.1}).ok);
  EXPECT_FALSE(fit_power({100, 1000}, {0.0, -1.0}).ok);
  EXPECT_FALSE(fit_power_plateau({100, 1000, 10000}, {0.1, 0.05, 0.02}).ok);
}

TEST(Fit, SignedPlateauFitRecoversAPlateauApproachedFromBelow) {
  std::vector<double> n, d;
  int k = 0;
  for (double N : {1e2, 3e2, 1e3, 3e3, 1e4, 3e4, 1e5, 3e5})
    for (int seed = 0; seed < 3; ++seed) {
      n.push_back(N);
      d.push_back(0.02 - 0.5 * std::pow(N, -0.6) + 1e-4 * (philox_uniform(9, k++, 0) - 0.5));
    }
  const power_fit f = fit_signed_plateau(n, d);
  ASSERT_TRUE(f.ok);
  EXPECT_NEAR(f.d, 0.02, 2e-4);
  EXPECT_NEAR(f.c, -0.5, 0.05);
  EXPECT_NEAR(f.gamma, 0.6, 3 * f.gamma_stderr + 0.01);
  EXPECT_LT(f.gamma_stderr, 0.05);
  EXPECT_FALSE(fit_signed_plateau({100, 1000, 100, 1000}, {0.1, 0.2, 0.1, 0.2}).ok);  // two sizes only
}
