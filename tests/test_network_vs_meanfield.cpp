// The network converges to the exact mean field (issue: N = 1e4 quantiles, paper scheme).
#include <gtest/gtest.h>

#include "izhinet/meanfield.hpp"
#include "izhinet/simulation.hpp"
#include "izhinet/validator.hpp"
#include "test_helpers.hpp"

using namespace izhinet;

namespace {

validation_report run_and_validate(double eta_bar) {
  model_spec m = paper_one_population(eta_bar);
  m.network.n = 10000;
  m.run.t_end = 800;
  m.run.record_every = 10;
  m.run.rate_window = 0.02;
  return izhinet::testing::run_validated(m, 2, ::testing::TempDir() + "izhinet_nvm_" + std::to_string(eta_bar));
}

}  // namespace

TEST(NetworkVsMeanField, TonicPointLateTimeMeansWithinTwoPercent) {
  const validation_report rep = run_and_validate(0.25);
  ASSERT_TRUE(rep.vs_exact.available);
  const auto& p = rep.vs_exact.populations[0];
  std::printf("eta_bar 0.25, N = 1e4: late r differs by %+.2f %%, <w> by %+.2f %% (slow MF: %+.2f %%, %+.2f %%)\n",
              100 * p.rel_mean_diff[var_r], 100 * p.rel_mean_diff[var_w],
              100 * rep.vs_slow.populations[0].rel_mean_diff[var_r],
              100 * rep.vs_slow.populations[0].rel_mean_diff[var_w]);
  EXPECT_EQ(rep.network.vars[0][var_r].regime, "equilibrium");
  EXPECT_EQ(rep.exact.vars[0][var_r].regime, "equilibrium");
  EXPECT_LT(std::fabs(p.rel_mean_diff[var_r]), 0.02);
  EXPECT_LT(std::fabs(p.rel_mean_diff[var_w]), 0.02);
  EXPECT_TRUE(rep.vs_exact.agree) << rep.verdict();
}

TEST(NetworkVsMeanField, BurstingPointBothOscillateWithPeriodsWithinTenPercent) {
  const validation_report rep = run_and_validate(0.12);
  ASSERT_TRUE(rep.vs_exact.available);
  const auto& net = rep.network.vars[0][var_r];
  const auto& mf = rep.exact.vars[0][var_r];
  std::printf("eta_bar 0.12, N = 1e4: period network %.2f, exact MF %.2f, slow MF %.2f\n", net.period, mf.period,
              rep.slow.vars[0][var_r].period);
  EXPECT_EQ(net.regime, "oscillation");
  EXPECT_EQ(mf.regime, "oscillation");
  EXPECT_LT(std::fabs(net.period - mf.period) / mf.period, 0.10);
  EXPECT_TRUE(rep.vs_exact.agree) << rep.verdict();
}
