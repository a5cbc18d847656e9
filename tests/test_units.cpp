// Configurations in physical units (docs/units.md), eta.csv, and the time grid
// shared by timeseries.csv and meanfield.csv.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/eta_table.hpp"
#include "test_helpers.hpp"

using namespace izhinet;
using namespace izhinet::testing;
namespace fs = std::filesystem;

namespace {

// Chen & Campbell's CA3 set written the way a NEST or Brian2 user would.
const std::string k_paper_dimensional = R"(
[network]
n = 200
[[population]]
[population.dimensional]
C = 250.0        # pF
k = 2.5          # nS/mV
V_R = -65.0      # mV
V_T = -24.6      # mV
tau_W = 200.0    # ms
beta = -1.0      # nS
W_jump = 200.0   # pA
I_bar = 1267.5   # pA: eta_bar = 0.12
Delta_I = 211.25 # pA: delta = 0.02
[synapse.dimensional]
G_syn = [[200.0]]  # nS
E_r = [0.0]        # mV
tau_syn = [4.0]    # ms
S_jump = [0.8]
[run]
t_end_ms = 15.384615384615385  # 10 time units of 1.538 ms
dt_ms = 0.0015384615384615385
record_every = 10
)";

std::string replace(std::string s, const std::string& a, const std::string& b) {
  const auto p = s.find(a);
  EXPECT_NE(p, std::string::npos) << a;
  return p == std::string::npos ? s : s.replace(p, a.size(), b);
}

std::string error_key(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    load_config_string(text, sets);
  } catch (const config_error& e) {
    return e.key();
  }
  return "<no error>";
}

// The paper's table gives 4 significant digits: agreement to half a unit in the last one.
void expect_paper_value(double got, double paper, int decimals, const char* what) {
  EXPECT_LE(std::fabs(got - paper), 0.5 * std::pow(10.0, -decimals) + 1e-15) << what << " = " << got;
}

}  // namespace

TEST(Units, PaperPhysicalParametersGiveThePaperDimensionlessValues) {
  const model_spec m = load_config_string(k_paper_dimensional);
  const auto& p = m.populations[0];
  expect_paper_value(p.alpha, 0.6215, 4, "alpha");
  expect_paper_value(p.a, 0.0077, 4, "a");
  expect_paper_value(p.b, -0.0062, 4, "b");
  expect_paper_value(p.w_jump, 0.0189, 4, "w_jump");
  expect_paper_value(p.eta_bar, 0.12, 12, "eta_bar");
  expect_paper_value(p.delta, 0.02, 12, "delta");
  expect_paper_value(m.synapse.g[0][0], 1.2308, 4, "g");
  expect_paper_value(m.synapse.e_r[0], 1.0, 12, "e_r");
  expect_paper_value(m.synapse.tau_s[0], 2.6, 12, "tau_s");
  expect_paper_value(m.synapse.s_jump[0], 1.2308, 4, "s_jump");
  EXPECT_EQ(p.v_peak, 200.0) << "without V_peak the scheme keeps its cut-off";
  EXPECT_EQ(p.v_reset, -200.0);
  ASSERT_TRUE(m.units.dimensional);
  EXPECT_NEAR(m.units.time_unit_ms, 250.0 / (2.5 * 65.0), 1e-15);
  EXPECT_NEAR(m.run.t_end, 10.0, 1e-12);
  EXPECT_NEAR(m.run.dt, 1e-3, 1e-15);
  EXPECT_EQ(m.num_steps(), 10000);
  // The same as the dimensionless configuration of the paper, to rounding.
  const model_spec ref = paper_one_population(0.12);
  EXPECT_NEAR(p.alpha, ref.populations[0].alpha, 1e-4);
  EXPECT_NEAR(m.synapse.g[0][0], ref.synapse.g[0][0], 1e-4);
}

TEST(Units, AlternativeNamesAndFinitePeakConvertAsDocumented) {
  // a (1/ms) instead of tau_W, b instead of beta, V_peak/V_reset, a step input in ms and pA.
  std::string text = replace(k_paper_dimensional, "tau_W = 200.0    # ms", "a = 0.005");
  text = replace(text, "beta = -1.0      # nS", "b = -1.0\nV_peak = 30.0\nV_reset = -55.0");
  text = replace(text, "W_jump = 200.0   # pA",
                 "W_jump = 200.0\nI_ext = { kind = \"steps\", times = [100.0], values = [105.625], before = 0.0 }");
  const model_spec m = load_config_string(text);
  const auto& p = m.populations[0];
  EXPECT_NEAR(p.a, 250.0 / (200.0 * 2.5 * 65.0), 1e-15);
  EXPECT_NEAR(p.v_peak, 1.0 + 30.0 / 65.0, 1e-15);
  EXPECT_NEAR(p.v_reset, 1.0 - 55.0 / 65.0, 1e-15);
  ASSERT_EQ(p.I_ext.times.size(), 1u);
  EXPECT_NEAR(p.I_ext.times[0], 100.0 / m.units.time_unit_ms, 1e-12);
  EXPECT_NEAR(p.I_ext.values[0], 0.01, 1e-15);  // 105.625 pA / (k V_R^2 = 10562.5 pA)
  EXPECT_EQ(p.I_ext.value, 0.0);
}

TEST(Units, SavedConfigurationIsDimensionlessAndReloadsToTheSameModel) {
  const model_spec m = load_config_string(k_paper_dimensional);
  const std::string saved = to_toml(m);
  EXPECT_NE(saved.find("# population.0.dimensional: C = 250 pF, k = 2.5 nS/mV, V_R = -65 mV, V_T = -24.6 mV,"),
            std::string::npos)
      << saved;
  EXPECT_NE(saved.find("alpha = 0.6215"), std::string::npos) << saved;
  EXPECT_NE(saved.find("[units]"), std::string::npos);
  const model_spec again = load_config_string(saved);
  EXPECT_EQ(to_toml(again).substr(to_toml(again).find("[network]")), saved.substr(saved.find("[network]")));
  EXPECT_EQ(again.populations[0].alpha, m.populations[0].alpha);
  EXPECT_EQ(again.synapse.s_jump[0], m.synapse.s_jump[0]);
  EXPECT_EQ(again.units.time_unit_ms, m.units.time_unit_ms);
  EXPECT_EQ(again.run.dt, m.run.dt);
  // a dimensionless configuration writes no [units]
  EXPECT_EQ(to_toml(paper_one_population(0.12)).find("[units]"), std::string::npos);
}

TEST(Units, BadPhysicalInputNamesTheKey) {
  const std::string& t = k_paper_dimensional;
  struct bad {
    std::string text;
    std::string key;
  } cases[] = {
      {replace(t, "C = 250.0", "C = -250.0"), "population.0.dimensional.C"},
      {replace(t, "C = 250.0", "C = \"big\""), "population.0.dimensional.C"},
      {replace(t, "k = 2.5 ", "k = 0.0 "), "population.0.dimensional.k"},
      {replace(t, "V_R = -65.0", "V_R = 65.0"), "population.0.dimensional.V_R"},
      {replace(t, "V_T = -24.6      # mV\n", ""), "population.0.dimensional.V_T"},
      {replace(t, "tau_W = 200.0", "tau_W = 0.0"), "population.0.dimensional.tau_W"},
      {replace(t, "tau_W = 200.0    # ms", "tau_W = 200.0\na = 0.005"), "population.0.dimensional.tau_W"},
      {replace(t, "beta = -1.0      # nS\n", ""), "population.0.dimensional.beta"},
      {replace(t, "Delta_I = 211.25", "Delta_I = -1.0"), "population.0.dimensional.Delta_I"},
      {replace(t, "W_jump = 200.0", "W_jum = 200.0"), "population.0.dimensional.W_jum"},
      {replace(t, "[population.dimensional]", "alpha = 0.6\n[population.dimensional]"), "population.0.alpha"},
      {replace(t, "[population.dimensional]", "eta_bar = 0.1\n[population.dimensional]"), "population.0.eta_bar"},
      {replace(t, "tau_syn = [4.0]", "tau_syn = [0.0]"), "synapse.dimensional.tau_syn"},
      {replace(t, "G_syn = [[200.0]]", "G_syn = [[200.0, 1.0]]"), "synapse.dimensional.G_syn"},
      {replace(t, "E_r = [0.0]        # mV\n", ""), "synapse.dimensional.E_r"},
      {replace(t, "[synapse.dimensional]", "[synapse]\ng = [[1.0]]\n[synapse.dimensional]"), "synapse.g"},
      {replace(t, "t_end_ms = 15.384615384615385", "t_end_ms = 15.0\nt_end = 10.0"), "run.t_end_ms"},
      {replace(t, "V_T = -24.6", "V_T = -24.6\nV_peak = 30.0\nV_reset = 40.0"), "population.0.dimensional.V_reset"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_key(c.text), c.key) << c.text;
  // an override of a physical value is checked the same way
  EXPECT_EQ(error_key(t, {"population.0.dimensional.C=-1"}), "population.0.dimensional.C");
  // ms keys need physical units
  EXPECT_EQ(error_key(R"(
[[population]]
[synapse]
g = [[1.0]]
e_r = [1.0]
tau_s = [2.6]
s_jump = [1.0]
[run]
t_end_ms = 100.0
)"),
            "run.t_end_ms");
}

TEST(Units, EveryPopulationInTheSameFormWithTheSameScales) {
  const std::string two = R"(
[[population]]
fraction = 0.5
[population.dimensional]
C = 250.0
k = 2.5
V_R = -65.0
V_T = -24.6
tau_W = 200.0
beta = -1.0
W_jump = 200.0
[[population]]
fraction = 0.5
[population.dimensional]
C = 250.0
k = 2.5
V_R = -65.0
V_T = -24.6
tau_W = 20.0
beta = -1.0
W_jump = 100.0
[synapse.dimensional]
G_syn = [[200.0, 200.0], [200.0, 200.0]]
E_r = [0.0, 0.0]
tau_syn = [4.0, 4.0]
S_jump = [0.8, 0.8]
)";
  const model_spec m = load_config_string(two);
  const model_spec ref = paper_two_populations(0.12, 0.5);
  EXPECT_NEAR(m.populations[1].a, ref.populations[1].a, 1e-4);            // the weakly adapting population
  EXPECT_NEAR(m.populations[1].w_jump, ref.populations[1].w_jump, 1e-4);  // 0.0095
  EXPECT_NEAR(m.synapse.g[1][0], ref.synapse.g[1][0], 1e-4);
}

TEST(Units, MixedFormsAndDifferentScalesAreRefused) {
  const std::string base = R"(
[[population]]
fraction = 0.5
[population.dimensional]
C = 250.0
k = 2.5
V_R = -65.0
V_T = -24.6
tau_W = 200.0
beta = -1.0
W_jump = 200.0
[[population]]
fraction = 0.5
SECOND
[synapse]
g = [[1.0, 1.0], [1.0, 1.0]]
e_r = [1.0, 1.0]
tau_s = [2.6, 2.6]
s_jump = [1.0, 1.0]
)";
  EXPECT_EQ(error_key(replace(base, "SECOND", "alpha = 0.6")), "population.1.dimensional");
  EXPECT_EQ(error_key(replace(base, "SECOND",
                              "[population.dimensional]\nC = 300.0\nk = 2.5\nV_R = -65.0\nV_T = -24.6\ntau_W = "
                              "20.0\nbeta = -1.0\nW_jump = 100.0")),
            "population.1.dimensional.C");
  EXPECT_EQ(error_key(replace(base, "SECOND",
                              "[population.dimensional]\nC = 250.0\nk = 2.5\nV_R = -65.0\nV_T = -24.6\ntau_W = "
                              "20.0\nbeta = -1.0\nW_jump = 100.0")),
            "<no error>")
      << "a dimensionless synapse with physical-units populations is allowed";
}

TEST(EtaTable, RecordedEtasAreTheBackendsValuesBitForBit) {
  model_spec m = paper_two_populations(0.12, 0.7);
  m.network.n = 997;
  m.network.sampling = sampling_kind::random;
  m.network.replicas = 2;
  m.run.spike_neurons = 50;
  const auto reps = default_replicas(m);
  auto be = make_cpu_backend(1);
  be->setup(m, reps);
  const std::vector<eta_entry> rows = recorded_etas(m, reps);
  ASSERT_EQ(rows.size(), 2u * 2u * 50u);
  std::set<std::tuple<int, int, int64_t>> seen;
  for (int r = 0; r < 2; ++r) {
    std::vector<double> eta;
    be->get_eta(r, eta);
    const auto sizes = population_sizes(m, m.network.n);
    for (const auto& e : rows) {
      if (e.replica != r) continue;
      const int64_t offset = e.population == 0 ? 0 : sizes[0];
      ASSERT_LT(e.neuron, sizes[e.population]);
      EXPECT_EQ(e.eta, eta[static_cast<size_t>(offset + e.neuron)]);
      seen.insert({e.replica, e.population, e.neuron});
    }
  }
  EXPECT_EQ(seen.size(), rows.size()) << "no neuron twice";
  m.run.spike_neurons = 0;
  EXPECT_TRUE(recorded_etas(m, reps).empty());
}

TEST(Cli, EtaCsvCoversTheRasterAndTimeseriesSharesTheMeanFieldTimeGrid) {
  const fs::path d = scratch_dir("units_cli");
  const std::string cfg = (d / "c.toml").string();
  std::ofstream(cfg) << k_paper_dimensional;
  const cli_result r =
      run_cli("run -c " + cfg + " --backend cpu --set run.spike_neurons=20 --out " + (d / "o").string());
  ASSERT_EQ(r.status, 0) << r.out;
  const auto ts = read_csv_columns(d / "o" / "timeseries.csv");
  const auto mf = read_csv_columns(d / "o" / "meanfield.csv");
  ASSERT_EQ(ts.at("t").size(), 1001u);
  ASSERT_EQ(ts.at("t"), mf.at("t")) << "the same time grid, t = 0 included";
  EXPECT_EQ(ts.at("r0")[0], 0.0);
  EXPECT_EQ(ts.at("w0")[0], mf.at("w0")[0]);
  // eta.csv: every neuron of the raster, sortable by excitability
  const auto eta = read_csv_columns(d / "o" / "eta.csv");
  ASSERT_EQ(eta.at("neuron").size(), 20u);
  const auto spikes = read_csv_columns(d / "o" / "spikes.csv");
  const std::set<double> listed(eta.at("neuron").begin(), eta.at("neuron").end());
  ASSERT_FALSE(spikes.at("neuron").empty());
  for (double n : spikes.at("neuron")) EXPECT_TRUE(listed.count(n)) << "neuron " << n << " of spikes.csv";
  for (size_t k = 1; k < eta.at("eta").size(); ++k) EXPECT_GT(eta.at("eta")[k], eta.at("eta")[k - 1]) << "quantiles";
  // times in ms in the outputs of a physical-units run
  std::ifstream js(d / "o" / "summary.json");
  std::stringstream ss;
  ss << js.rdbuf();
  EXPECT_NE(ss.str().find("\"time_unit_ms\": 1.538461538"), std::string::npos) << ss.str();
  std::ifstream ct(d / "o" / "config.toml");
  std::stringstream cs;
  cs << ct.rdbuf();
  EXPECT_NE(cs.str().find("alpha = 0.6215"), std::string::npos);
  EXPECT_NE(cs.str().find("time_unit_ms = 1.538461538"), std::string::npos);
  // the saved configuration reruns as it is
  const cli_result again =
      run_cli("run -c " + (d / "o" / "config.toml").string() + " --backend cpu --out " + (d / "o2").string());
  ASSERT_EQ(again.status, 0) << again.out;
  std::ifstream a(d / "o" / "timeseries.csv"), b(d / "o2" / "timeseries.csv");
  std::stringstream sa, sb;
  sa << a.rdbuf();
  sb << b.rdbuf();
  EXPECT_EQ(sa.str(), sb.str());
  fs::remove_all(d);
}
