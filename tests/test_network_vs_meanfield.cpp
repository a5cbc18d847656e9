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
  return izhinet::testing::run_validated(m, 2, "");
}

}  // namespace

TEST(NetworkVsMeanField, TonicPointLateTimeMeansWithinTwoPercent) {
  const validation_report rep = run_and_validate(0.25);
  ASSERT_EQ(rep.vs_exact.pops.size(), 1u);
  const auto& p = rep.vs_exact.pops[0];
  std::printf("eta_bar 0.25, N = 1e4: late r differs by %+.2f %%, <w> by %+.2f %% (slow MF: %+.2f %%, %+.2f %%)\n",
              100 * p.shape[var_r][0].rel_diff, 100 * p.shape[var_w][0].rel_diff,
              100 * rep.vs_slow.pops[0].shape[var_r][0].rel_diff, 100 * rep.vs_slow.pops[0].shape[var_w][0].rel_diff);
  EXPECT_EQ(rep.network.regime, "equilibrium");
  EXPECT_EQ(rep.vs_exact.regime_ref, "equilibrium");
  EXPECT_LT(std::fabs(p.shape[var_r][0].rel_diff), 0.02);
  EXPECT_LT(std::fabs(p.shape[var_w][0].rel_diff), 0.02);
  EXPECT_TRUE(rep.vs_exact.agree()) << rep.verdict();
}

TEST(NetworkVsMeanField, BurstingPointBothOscillateWithPeriodsWithinTwoPercent) {
  const validation_report rep = run_and_validate(0.12);
  const double net = rep.network.period, mf = rep.vs_exact.period.ref;
  std::printf("eta_bar 0.12, N = 1e4: period network %.2f, exact MF %.2f\n", net, mf);
  EXPECT_EQ(rep.network.regime, "oscillation");
  EXPECT_EQ(rep.vs_exact.regime_ref, "oscillation");
  EXPECT_NEAR(mf, 227.2, 0.1);  // the mean field's orbit (README)
  EXPECT_LT(std::fabs(net - mf) / mf, 0.02);
  EXPECT_TRUE(rep.vs_exact.agree()) << rep.verdict();
}
