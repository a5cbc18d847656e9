// Tests of the mean-field validator: it must recognise its own mean field as
// agreeing, and a shifted one as not.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "izhinet/errors.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/params.hpp"
#include "izhinet/validator.hpp"

using namespace izhinet;

namespace {

std::string temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("izhinet_test_" + name);
  std::filesystem::remove_all(d);
  return d.string();
}

model_spec short_spec(double eta) {
  model_spec spec = paper_one_population(eta);
  spec.run.t_end = 400;
  spec.run.dt = 1e-2;
  spec.run.record_every = 10;  // record every 0.1
  spec.meanfield.transient = 150;
  return spec;
}

/// Runs a validator whose "network" is the exact mean field with r scaled and w shifted.
validation_report run_with(const model_spec& spec, double r_scale, double w_shift, const std::string& dir) {
  const auto t = record_times(spec);
  const exact_meanfield m(spec);
  const auto y = integrate_exact(m, spec.run.t_end, t, dopri5_options_from(spec.meanfield));
  validator val(spec, t);
  for (size_t k = 0; k < y.size(); ++k) {
    record_row row;
    row.t = t[k];
    row.r = {r_scale * y[k][0]};
    row.v = {y[k][1]};
    row.w = {y[k][2] + w_shift};
    row.s = {y[k][3]};
    val.push(row);
  }
  EXPECT_FALSE(val.progress_line().empty());
  return val.finish(dir);
}

}  // namespace

TEST(Validator, OwnTrajectoryAgreesEquilibrium) {
  const model_spec spec = short_spec(0.25);
  const auto dir = temp_dir("val_eq");
  const auto rep = run_with(spec, 1.0, 0.0, dir);
  EXPECT_TRUE(rep.error.empty()) << rep.error;
  EXPECT_TRUE(rep.vs_exact.available);
  EXPECT_TRUE(rep.vs_exact.agree) << rep.verdict();
  EXPECT_EQ(rep.network.vars[0][var_r].regime, "equilibrium");
  for (int v = 0; v < 4; ++v) EXPECT_LT(rep.vs_exact.populations[0].nrms[v], 1e-9) << v;
  EXPECT_EQ(rep.running.rows, static_cast<int64_t>(record_times(spec).size()));
  EXPECT_LT(rep.running.exact[0][var_r].max_abs, 1e-12);
  EXPECT_NE(rep.verdict().find("agree"), std::string::npos);
  EXPECT_EQ(rep.verdict().find("disagree"), std::string::npos) << rep.verdict();
  // files
  std::ifstream f(dir + "/meanfield.csv");
  std::string header;
  std::getline(f, header);
  EXPECT_EQ(header, "t,r0,v0,w0,s0");
  std::ifstream g(dir + "/meanfield_slow.csv");
  std::getline(g, header);
  EXPECT_EQ(header, "t,r0,w0,s0");
  EXPECT_TRUE(std::filesystem::exists(dir + "/validation.json"));
}

TEST(Validator, ShiftedTrajectoryDisagrees) {
  const model_spec spec = short_spec(0.25);
  const auto rep = run_with(spec, 1.2, 0.05, temp_dir("val_shift"));
  EXPECT_TRUE(rep.vs_exact.available);
  EXPECT_FALSE(rep.vs_exact.agree) << rep.verdict();
  EXPECT_NEAR(rep.vs_exact.populations[0].rel_mean_diff[var_r], 0.2, 1e-6);
  EXPECT_GT(rep.vs_exact.populations[0].nrms[var_r], 0.1);
  EXPECT_NE(rep.verdict().find("disagree"), std::string::npos);
}

TEST(Validator, OwnOscillationAgreesAndShiftedPeriodDisagrees) {
  model_spec spec = short_spec(0.12);
  spec.run.t_end = 800;
  spec.meanfield.transient = 200;
  const auto rep = run_with(spec, 1.0, 0.0, temp_dir("val_osc"));
  EXPECT_EQ(rep.exact.vars[0][var_r].regime, "oscillation");
  EXPECT_TRUE(rep.vs_exact.agree) << rep.verdict();
  EXPECT_NEAR(rep.vs_exact.populations[0].rel_period_diff, 0.0, 1e-9);

  // a network whose time runs 20 % slower has a 20 % longer period (longer run: >= 2 periods)
  spec.run.t_end = 1400;
  const auto t = record_times(spec);
  const exact_meanfield m(spec);
  const auto y = integrate_exact(m, spec.run.t_end, t, dopri5_options_from(spec.meanfield));
  validator val(spec, t);
  for (size_t k = 0; k < y.size(); ++k) {
    const size_t src = static_cast<size_t>(static_cast<double>(k) / 1.2);
    record_row row;
    row.t = t[k];
    row.r = {y[src][0]};
    row.v = {y[src][1]};
    row.w = {y[src][2]};
    row.s = {y[src][3]};
    val.push(row);
  }
  const auto rep2 = val.finish(temp_dir("val_osc2"));
  {
    const auto& a = rep2.network.vars[0][var_r];
    EXPECT_EQ(a.regime, "oscillation") << a.late_ptp_rel << " " << a.autocorr_peak << " " << a.periods << " "
                                       << a.samples;
  }
  EXPECT_NEAR(rep2.vs_exact.populations[0].rel_period_diff, 0.2, 0.02);
  EXPECT_FALSE(rep2.vs_exact.agree) << rep2.verdict();
}

TEST(Validator, BadTolerancesAreConfigErrors) {
  model_spec spec = short_spec(0.25);
  spec.meanfield.atol = 0;
  try {
    validator v(spec, record_times(spec));
    FAIL() << "no throw";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "meanfield.atol");
  }
}

TEST(Validator, NoisyEquilibriumIsNotAnOscillation) {
  // white noise of 30 % around a constant: no coherent rhythm
  std::vector<double> t, x;
  uint64_t s = 12345;
  for (int k = 0; k < 60000; ++k) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(s >> 11) / 9007199254740992.0;
    t.push_back(0.01 * k);
    x.push_back(0.117 * (1 + 0.6 * (u - 0.5)));
  }
  const auto a = analyse_series(t, x, 100);
  EXPECT_EQ(a.regime, "equilibrium");
  EXPECT_NEAR(a.mean, 0.117, 1e-3);
  // a sine of period 40 plus the same noise is an oscillation
  for (size_t k = 0; k < x.size(); ++k) x[k] += 0.05 * std::sin(2 * 3.14159265358979 * t[k] / 40);
  const auto b = analyse_series(t, x, 100);
  EXPECT_EQ(b.regime, "oscillation");
  EXPECT_NEAR(b.period, 40, 0.5);
}

TEST(Validator, FailingMeanFieldIsReportedAndTheOtherKept) {
  // The finite-peak slow model cannot be built with v_reset > v_peak: it fails on
  // the validator's thread; the exact model and the comparison with it go on.
  model_spec spec = short_spec(0.25);
  spec.meanfield.slow_finite_peak = true;
  spec.populations[0].v_reset = 300;
  const auto dir = temp_dir("val_fail");
  const auto rep = run_with(spec, 1.0, 0.0, dir);
  EXPECT_TRUE(rep.error.empty()) << rep.error;
  EXPECT_NE(rep.slow.failure.find("v_peak"), std::string::npos) << rep.slow.failure;
  EXPECT_FALSE(rep.vs_slow.available);
  EXPECT_TRUE(rep.exact.failure.empty());
  EXPECT_TRUE(rep.vs_exact.available);
  EXPECT_TRUE(rep.vs_exact.agree) << rep.verdict();
  EXPECT_NE(rep.verdict().find("failed at t = "), std::string::npos) << rep.verdict();
  std::ifstream f(dir + "/validation.json");
  std::string json((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(json.find("\"failed_at\""), std::string::npos);
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
  std::ifstream g(dir + "/equilibria.json");
  std::string json((std::istreambuf_iterator<char>(g)), std::istreambuf_iterator<char>());
  EXPECT_NE(json.find("\"stable\": true"), std::string::npos) << json;
}
