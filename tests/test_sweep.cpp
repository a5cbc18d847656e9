// izhinet sweep: value lists, key expansion, known regimes on both sides of the
// Hopf points, resumption, hysteresis from carried states.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli_helpers.hpp"
#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/sweep.hpp"

namespace fs = std::filesystem;
using namespace izhinet;
using namespace izhinet::testing;

namespace {

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string x;
  while (std::getline(ss, x, ',')) out.push_back(x);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

/// Rows of sweep.csv as column -> text maps.
std::vector<std::map<std::string, std::string>> read_sweep(const fs::path& dir) {
  const auto lines = read_lines(dir / "sweep.csv");
  std::vector<std::map<std::string, std::string>> rows;
  if (lines.empty()) return rows;
  const auto head = split_csv(lines[0]);
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = split_csv(lines[i]);
    EXPECT_EQ(f.size(), head.size()) << lines[i];
    std::map<std::string, std::string> r;
    for (size_t j = 0; j < head.size() && j < f.size(); ++j) r[head[j]] = f[j];
    rows.push_back(r);
  }
  return rows;
}

double num(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

// The paper's one population, small and short enough for a test (dt 2e-3 keeps
// the paper scheme accurate to well under the tolerances used below).
const std::string k_small =
    "--config " + std::string(IZHINET_SOURCE_DIR) +
    "/configs/paper_bursting.toml --set network.n=2000 --set run.dt=2e-3 --set run.t_end=1200 --set "
    "meanfield.transient=400 --backend cpu --threads 1 --progress 0";

}  // namespace

TEST(SweepValues, RangeHasExactEndpointsAndEvenSpacing) {
  const auto v = parse_sweep_values("0.1:0.3:5");
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v.front(), 0.1);
  EXPECT_EQ(v.back(), 0.3);
  for (size_t i = 1; i < v.size(); ++i) EXPECT_NEAR(v[i] - v[i - 1], 0.05, 1e-15);
  const auto d = parse_sweep_values("0.3:0.1:3");  // descending ranges are fine
  EXPECT_EQ(d, (std::vector<double>{0.3, 0.2, 0.1}));
  EXPECT_EQ(parse_sweep_values("0.25, 0.12,1e-2"), (std::vector<double>{0.25, 0.12, 0.01}));
  EXPECT_EQ(parse_sweep_values("0.2:0.2:1"), (std::vector<double>{0.2}));
  EXPECT_EQ(parse_sweep_values("0.08:0.28:11")[7], 0.22);  // not 0.22000000000000003
}

TEST(SweepValues, BadListsNameTheOption) {
  for (const std::string bad : {"", "0.1:0.2", "0.1:0.2:0", "0.1:0.2:x", "a,b", "0.1,,0.2", "0.1,", "0.1:0.2:1",
                                "0.1,0.1", "nan", "0.1:0.3:1e9"}) {
    try {
      parse_sweep_values(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find("--values"), std::string::npos) << e.what();
    }
  }
}

TEST(SweepValues, StarKeyMovesEveryPopulation) {
  EXPECT_EQ(sweep_assignments("population.*.eta_bar", 0.1, 2),
            (std::vector<std::string>{"population.0.eta_bar=0.1", "population.1.eta_bar=0.1"}));
  EXPECT_EQ(sweep_assignments("synapse.tau_s", 2.5, 2), (std::vector<std::string>{"synapse.tau_s=2.5"}));
  const std::string h = sweep_csv_header("population.0.eta_bar", 1);
  EXPECT_EQ(h.rfind("population.0.eta_bar,direction,regime,period,r0_min,r0_max,r0_mean,v0_min", 0), 0u) << h;
  EXPECT_NE(h.find(",mf_regime,mf_period,mf_r0_min,"), std::string::npos);
  EXPECT_NE(h.find(",mf_s0_mean,verdict,attractors,wall_seconds"), std::string::npos);
}

TEST(SweepValues, FractionRescalesTheOtherPopulations) {
  model_spec m = load_config_file(std::string(IZHINET_SOURCE_DIR) + "/configs/fig5.toml");
  EXPECT_EQ(sweep_assignments("population.0.fraction", 0.3, m),
            (std::vector<std::string>{"population.0.fraction=0.3", "population.1.fraction=0.7"}));
  EXPECT_EQ(sweep_assignments("population.1.fraction", 0.5, m),
            (std::vector<std::string>{"population.1.fraction=0.5", "population.0.fraction=0.5"}));
  EXPECT_EQ(sweep_assignments("population.0.eta_bar", 0.3, m), (std::vector<std::string>{"population.0.eta_bar=0.3"}));
}

TEST(SweepCli, BadKeysAndValuesGiveOneErrorLine) {
  const auto dir = fresh_temp_dir("sweep_bad");
  struct bad_case {
    std::string args, names;
  };
  const std::vector<bad_case> cases = {
      {"--param population.0.no_such_key --values 0.1,0.2", "no_such_key"},
      {"--param run.scheme --values 0.1,0.2", "run.scheme"},
      {"--param population.0.eta_bar --values 0.1:0.2", "--values"},
      {"--param population.0.eta_bar --values 0.1,0.2 --direction sideways", "--direction"},
      {"--values 0.1,0.2", "--param"},
      {"--param population.0.eta_bar", "--values"},
      {"--param population.*.eta_bar.x --values 0.1,0.2", "eta_bar"},
  };
  for (const auto& c : cases) {
    const auto s = run_izhinet("sweep " + k_small + " --out " + (dir / "x").string() + " " + c.args);
    EXPECT_EQ(s.status, 2) << c.args << "\n" << s.out;
    EXPECT_EQ(count_lines_with(s.out, "[error]"), 1) << c.args << "\n" << s.out;
    EXPECT_NE(s.out.find(c.names), std::string::npos) << c.args << "\n" << s.out;
  }
  fs::remove_all(dir);
}

// Below the first Hopf point (eta_bar = 0.12: collective bursting) and above the
// second (0.25: asynchronous tonic firing), network and mean field agree on the regime,
// and the network's late values lie on the mean field's; a rerun resumes.
TEST(SweepCli, KnownRegimesOnBothSidesAndResume) {
  const auto dir = fresh_temp_dir("sweep_known");
  const std::string out = (dir / "s").string();
  const auto r = run_izhinet("sweep " + k_small + " --param population.0.eta_bar --values 0.12,0.25 --out " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  auto rows = read_sweep(out);
  ASSERT_EQ(rows.size(), 2u);
  std::map<double, std::map<std::string, std::string>> by;
  for (auto& row : rows) by[num(row["population.0.eta_bar"])] = row;
  const auto& burst = by.at(0.12);
  EXPECT_EQ(burst.at("regime"), "oscillation");
  EXPECT_EQ(burst.at("mf_regime"), "oscillation");
  EXPECT_NEAR(num(burst.at("period")), num(burst.at("mf_period")), 0.05 * num(burst.at("mf_period")));
  EXPECT_LT(num(burst.at("w0_min")), num(burst.at("w0_max")));
  const auto& tonic = by.at(0.25);
  EXPECT_EQ(tonic.at("regime"), "equilibrium");
  EXPECT_EQ(tonic.at("mf_regime"), "equilibrium");
  EXPECT_EQ(tonic.at("mf_r0_min"), tonic.at("mf_r0_max"));  // an equilibrium of the mean field is a point
  EXPECT_NEAR(num(tonic.at("r0_mean")), num(tonic.at("mf_r0_mean")), 0.03 * num(tonic.at("mf_r0_mean")));
  EXPECT_NEAR(num(tonic.at("w0_mean")), num(tonic.at("mf_w0_mean")), 0.03 * std::fabs(num(tonic.at("mf_w0_mean"))));
  EXPECT_EQ(tonic.at("verdict"), "agree");
  EXPECT_EQ(tonic.at("direction"), "none");

  // A rerun with the same arguments has nothing left to do; other arguments are refused.
  const std::string before = read_text(fs::path(out) / "sweep.csv");
  const auto again = run_izhinet("sweep " + k_small + " --param population.0.eta_bar --values 0.12,0.25 --out " + out);
  EXPECT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(read_text(fs::path(out) / "sweep.csv"), before);
  EXPECT_NE(again.out.find("2 of 2 network(s) already done"), std::string::npos) << again.out;
  const auto other = run_izhinet("sweep " + k_small + " --param population.0.eta_bar --values 0.12,0.2 --out " + out);
  EXPECT_EQ(other.status, 2) << other.out;
  EXPECT_NE(other.out.find("--out"), std::string::npos) << other.out;

  // Delete the last row: the rerun redoes exactly that value, with the same result.
  auto lines = read_lines(fs::path(out) / "sweep.csv");
  {
    std::ofstream f(fs::path(out) / "sweep.csv", std::ios::trunc);
    for (size_t i = 0; i + 1 < lines.size(); ++i) f << lines[i] << "\n";
  }
  const auto redo = run_izhinet("sweep " + k_small + " --param population.0.eta_bar --values 0.12,0.25 --out " + out);
  EXPECT_EQ(redo.status, 0) << redo.out;
  EXPECT_NE(redo.out.find("1 of 2 network(s) already done"), std::string::npos) << redo.out;
  const auto after = read_lines(fs::path(out) / "sweep.csv");
  ASSERT_EQ(after.size(), lines.size());
  auto strip_wall = [](std::string l) { return l.substr(0, l.rfind(',')); };
  EXPECT_EQ(strip_wall(after.back()), strip_wall(lines.back()));
  fs::remove_all(dir);
}

// up: each network starts where the previous value's ended. With no transient
// left out, a network started from rest (v = w = 0) has w0_min near 0, one
// started from the neighbouring value's equilibrium stays near its mean. A
// resumed sweep continues from state.bin bit for bit.
TEST(SweepCli, UpCarriesTheStateAndResumesFromIt) {
  const auto dir = fresh_temp_dir("sweep_up");
  const std::string base = "--config " + std::string(IZHINET_SOURCE_DIR) +
                           "/configs/paper_tonic.toml --set network.n=1000 --set run.dt=2e-3 --set run.t_end=300 "
                           "--set meanfield.transient=0 --backend cpu --threads 1 --progress 0 "
                           "--param population.0.eta_bar --values 0.24,0.25 ";
  const std::string none = (dir / "none").string(), up = (dir / "up").string();
  const auto a = run_izhinet("sweep " + base + "--out " + none);
  ASSERT_EQ(a.status, 0) << a.out;
  const auto b = run_izhinet("sweep " + base + "--direction up --out " + up);
  ASSERT_EQ(b.status, 0) << b.out;
  const auto rn = read_sweep(none), ru = read_sweep(up);
  ASSERT_EQ(rn.size(), 2u);
  ASSERT_EQ(ru.size(), 2u);
  EXPECT_EQ(ru[0].at("direction"), "up");
  // the first value starts from rest in both
  EXPECT_EQ(ru[0].at("w0_min"), rn[0].at("w0_min"));
  const double w_mean = num(rn[1].at("mf_w0_mean"));
  EXPECT_LT(num(rn[1].at("w0_min")), 0.2 * w_mean) << "from rest, w starts at 0";
  EXPECT_GT(num(ru[1].at("w0_min")), 0.8 * w_mean) << "from the state at 0.24, w starts near its equilibrium";
  // the state of the last row is kept, and only that one
  int states = 0;
  for (const auto& e : fs::directory_iterator(up)) states += e.path().filename().string().rfind("state_", 0) == 0;
  EXPECT_EQ(states, 1);
  EXPECT_TRUE(fs::exists(fs::path(up) / "state_up_0.25.bin"));

  // Interrupted (SIGTERM) while the second value runs: the rerun continues from the
  // first value's state and writes the same row, bit for bit.
  const std::string up2 = (dir / "up2").string();
  const auto killed = run_shell(std::string(IZHINET_BINARY) + " sweep " + base + "--direction up --out " + up2 + " > " +
                                (dir / "log").string() +
                                " 2>&1 & pid=$!; "
                                "for i in $(seq 1 1200); do [ $(cat " +
                                up2 +
                                "/sweep.csv 2>/dev/null | wc -l) -ge 2 ] "
                                "&& break; sleep 0.05; done; kill -TERM $pid; wait $pid; echo status=$?");
  EXPECT_NE(killed.out.find("status=130"), std::string::npos) << killed.out << read_text(dir / "log");
  ASSERT_EQ(read_lines(fs::path(up2) / "sweep.csv").size(), 2u);
  EXPECT_TRUE(fs::exists(fs::path(up2) / "state_up_0.24.bin"));
  const auto resumed = run_izhinet("sweep " + base + "--direction up --out " + up2);
  ASSERT_EQ(resumed.status, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("1 of 2 network(s) already done"), std::string::npos) << resumed.out;
  const auto l1 = read_lines(fs::path(up) / "sweep.csv"), l2 = read_lines(fs::path(up2) / "sweep.csv");
  ASSERT_EQ(l2.size(), 3u);
  auto strip_wall = [](std::string l) { return l.substr(0, l.rfind(',')); };
  EXPECT_EQ(strip_wall(l2[2]), strip_wall(l1[2]));

  // A row whose state is gone cannot be continued: refused, naming the file.
  auto lines = read_lines(fs::path(up) / "sweep.csv");
  {
    std::ofstream f(fs::path(up) / "sweep.csv", std::ios::trunc);
    for (size_t i = 0; i + 1 < lines.size(); ++i) f << lines[i] << "\n";
  }
  const auto refused = run_izhinet("sweep " + base + "--direction up --out " + up);
  EXPECT_EQ(refused.status, 2) << refused.out;
  EXPECT_NE(refused.out.find("state_up_0.24.bin"), std::string::npos) << refused.out;
  fs::remove_all(dir);
}

// Two populations, both moved together (population.*.eta_bar), as one batch of
// replicas: every population gets its columns, and at a high drive both sides
// sit at an equilibrium with the network's rates near the mean field's.
TEST(SweepCli, TwoPopulationsMoveTogether) {
  const auto dir = fresh_temp_dir("sweep_two");
  const std::string out = (dir / "s").string();
  const auto r = run_izhinet("sweep --config " + std::string(IZHINET_SOURCE_DIR) +
                             "/configs/paper_two_populations.toml --set network.n=2000 --set run.dt=2e-3 "
                             "--set run.t_end=400 --set meanfield.transient=200 --backend cpu --threads 1 "
                             "--progress 0 --param 'population.*.eta_bar' --values 0.3,0.35 --out " +
                             out);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto rows = read_sweep(out);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    ASSERT_TRUE(row.count("r1_mean") && row.count("mf_w1_max")) << "columns of population 1";
    EXPECT_EQ(row.at("mf_regime"), "equilibrium") << row.at("population.*.eta_bar");
    for (const char* p : {"0", "1"}) {
      const double net = num(row.at(std::string("r") + p + "_mean")),
                   mf = num(row.at(std::string("mf_r") + p + "_mean"));
      EXPECT_NEAR(net, mf, 0.1 * mf) << "population " << p << " at " << row.at("population.*.eta_bar");
    }
  }
  EXPECT_LT(num(rows[0].at("mf_r0_mean")), num(rows[1].at("mf_r0_mean"))) << "more drive, higher rate";
  fs::remove_all(dir);
}

// Elements of numeric arrays (synapse.g.I.J, synapse.tau_s.J) and a fraction (the
// other population's rescaled to keep the sum 1) can be swept.
TEST(SweepCli, ArrayElementsAndFractionsCanBeSwept) {
  const auto dir = fresh_temp_dir("sweep_elements");
  const std::string small =
      " --set network.n=200 --set run.scheme=exact --set run.dt=0.02 --set run.t_end=60 --set meanfield.transient=20 "
      "--set run.spike_neurons=0 --set run.rate_window=0 --backend cpu --threads 1 --progress 0 ";
  const std::string g_out = (dir / "g").string();
  const auto g = run_izhinet("sweep --config " + std::string(IZHINET_SOURCE_DIR) + "/configs/fig1c_sweep.toml" + small +
                             "--param synapse.g.0.0 --values 1.0,1.2 --out " + g_out);
  ASSERT_EQ(g.status, 0) << g.out;
  const auto g_rows = read_sweep(g_out);
  ASSERT_EQ(g_rows.size(), 2u);
  EXPECT_EQ(g_rows[0].at("synapse.g.0.0"), "1");
  EXPECT_NE(g_rows[0].at("mf_r0_mean"), g_rows[1].at("mf_r0_mean"));

  // A sweep.txt written before numbers were written in the shortest form (17 digits) still resumes.
  std::string id = read_text(fs::path(g_out) / "sweep.txt");
  const auto cut = id.find("\n\n");
  ASSERT_NE(cut, std::string::npos);
  const std::string legacy = id.substr(0, cut + 2) + to_toml_legacy(load_config_string(id.substr(cut + 2)));
  ASSERT_NE(legacy, id);
  std::ofstream(fs::path(g_out) / "sweep.txt", std::ios::binary | std::ios::trunc) << legacy;
  const auto again = run_izhinet("sweep --config " + std::string(IZHINET_SOURCE_DIR) + "/configs/fig1c_sweep.toml" +
                                 small + "--param synapse.g.0.0 --values 1.0,1.2 --out " + g_out);
  EXPECT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(read_sweep(g_out).size(), 2u) << again.out;

  const auto t = run_izhinet("sweep --config " + std::string(IZHINET_SOURCE_DIR) + "/configs/fig1c_sweep.toml" + small +
                             "--param synapse.tau_s.0 --values 2.0,2.6 --out " + (dir / "t").string());
  EXPECT_EQ(t.status, 0) << t.out;

  const std::string f_out = (dir / "f").string();
  const auto f = run_izhinet("sweep --config " + std::string(IZHINET_SOURCE_DIR) + "/configs/fig5.toml" + small +
                             "--param population.0.fraction --values 0.3,0.7 --out " + f_out);
  ASSERT_EQ(f.status, 0) << f.out;
  const auto f_rows = read_sweep(f_out);
  ASSERT_EQ(f_rows.size(), 2u);
  EXPECT_NE(f_rows[0].at("mf_w0_mean"), f_rows[1].at("mf_w0_mean"));
  fs::remove_all(dir);
}

// A carried sweep reaches the mean field's orbit from the previous value's final state; its
// returns converge slowly there, and the orbit was once counted a second time, at three times
// its period (mf_period 621 and 2 attractors at eta_bar = 0.175, where --direction none finds 207 and 1).
TEST(SweepCli, CarriedSweepCountsTheMeanFieldOrbitOnce) {
  const auto dir = fresh_temp_dir("sweep_orbit_once");
  const std::string base = "sweep --config " + std::string(IZHINET_SOURCE_DIR) +
                           "/configs/fig1c_sweep.toml --param population.0.eta_bar --values 0.15,0.175 --n 300 "
                           "--set run.t_end=100 --set meanfield.transient=50 --backend cpu --threads 1 --progress 0 ";
  const std::string none = (dir / "none").string(), up = (dir / "up").string();
  const auto a = run_izhinet(base + "--out " + none);
  ASSERT_EQ(a.status, 0) << a.out;
  const auto b = run_izhinet(base + "--direction up --out " + up);
  ASSERT_EQ(b.status, 0) << b.out;
  const auto ra = read_sweep(none), rb = read_sweep(up);
  ASSERT_EQ(ra.size(), 2u);
  ASSERT_EQ(rb.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    const std::string v = ra[k].at("population.0.eta_bar");
    ASSERT_EQ(rb[k].at("population.0.eta_bar"), v);
    EXPECT_EQ(rb[k].at("attractors"), ra[k].at("attractors")) << v;
    EXPECT_EQ(rb[k].at("attractors"), "1") << v;
    EXPECT_NEAR(num(rb[k].at("mf_period")), num(ra[k].at("mf_period")), 1e-2 * num(ra[k].at("mf_period"))) << v;
  }
  fs::remove_all(dir);
}
