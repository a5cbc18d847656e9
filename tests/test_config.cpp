// Configuration: keys, overrides, and every kind of bad input named clearly.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"

using namespace izhinet;
namespace fs = std::filesystem;

namespace {

const std::string k_base = R"(
[network]
n = 100
sampling = "quantiles"
seed = 1
[[population]]
fraction = 1.0
eta_bar = 0.12
delta = 0.02
[synapse]
g = [[1.2308]]
e_r = [1.0]
tau_s = [2.6]
s_jump = [1.2308]
[run]
t_end = 1.0
dt = 1e-3
scheme = "paper"
record_every = 10
)";

/// The key named by the config_error thrown for `text` with `sets`, or "<no error>".
std::string error_key(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    load_config_string(text, sets);
  } catch (const config_error& e) {
    return e.key();
  }
  return "<no error>";
}

std::string error_message(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    load_config_string(text, sets);
  } catch (const config_error& e) {
    return e.what();
  }
  return "<no error>";
}

std::string replace(std::string s, const std::string& a, const std::string& b) {
  const auto p = s.find(a);
  EXPECT_NE(p, std::string::npos) << a;
  return s.replace(p, a.size(), b);
}

}  // namespace

TEST(Config, LoadsTheIssueExampleAndDefaults) {
  const model_spec m = load_config_string(k_base);
  EXPECT_EQ(m.network.n, 100);
  EXPECT_EQ(m.num_populations(), 1);
  EXPECT_DOUBLE_EQ(m.populations[0].alpha, 0.6215);  // default
  EXPECT_DOUBLE_EQ(m.populations[0].v_peak, 200.0);
  EXPECT_EQ(m.run.scheme, scheme_kind::paper);
  EXPECT_EQ(m.num_steps(), 1000);
}

TEST(Config, OverridesByDottedPath) {
  const model_spec m =
      load_config_string(k_base, {"population.0.eta_bar=0.25", "network.n=1000", "run.t_end=800", "run.scheme=exact",
                                  "network.sampling=random", "synapse.g=[[2.0]]", "meanfield.enabled=false"});
  EXPECT_DOUBLE_EQ(m.populations[0].eta_bar, 0.25);
  EXPECT_EQ(m.network.n, 1000);
  EXPECT_DOUBLE_EQ(m.run.t_end, 800.0);
  EXPECT_EQ(m.run.scheme, scheme_kind::exact);
  EXPECT_EQ(m.network.sampling, sampling_kind::random);
  EXPECT_DOUBLE_EQ(m.synapse.g[0][0], 2.0);
  EXPECT_FALSE(m.meanfield.enabled);
}

TEST(Config, RoundTripsThroughToml) {
  const model_spec a = load_config_string(k_base, {"population.0.I_ext={kind=\"steps\", times=[1.0], values=[0.5]}"});
  const model_spec b = load_config_string(to_toml(a));
  EXPECT_EQ(to_toml(a), to_toml(b));
  EXPECT_EQ(b.populations[0].I_ext.type, input_spec::kind::steps);
  EXPECT_DOUBLE_EQ(b.populations[0].I_ext.at(2.0), 0.5);
}

TEST(Config, UnknownKeysAreNamedWithASuggestion) {
  EXPECT_EQ(error_key(replace(k_base, "eta_bar", "eta_bra")), "population.0.eta_bra");
  EXPECT_NE(error_message(replace(k_base, "eta_bar", "eta_bra")).find("did you mean 'eta_bar'"), std::string::npos);
  EXPECT_EQ(error_key(replace(k_base, "[run]", "[runn]")), "runn");
  EXPECT_EQ(error_key(k_base, {"run.t_ned=5"}), "run.t_ned");
  EXPECT_NE(error_message(k_base, {"run.t_ned=5"}).find("t_end"), std::string::npos);
}

TEST(Config, MissingRequiredPieces) {
  EXPECT_EQ(error_key(replace(k_base, "e_r = [1.0]\n", "")), "synapse.e_r");
  EXPECT_EQ(error_key("[network]\nn = 10\n"), "population");
}

TEST(Config, WrongTypes) {
  EXPECT_EQ(error_key(k_base, {"network.n=\"many\""}), "network.n");
  EXPECT_EQ(error_key(k_base, {"run.dt=\"small\""}), "run.dt");
  EXPECT_EQ(error_key(k_base, {"network.n=1.5"}), "network.n");
  EXPECT_EQ(error_key(k_base, {"meanfield.enabled=3"}), "meanfield.enabled");
}

TEST(Config, OutOfRangeValues) {
  EXPECT_EQ(error_key(k_base, {"network.n=0"}), "network.n");
  EXPECT_EQ(error_key(k_base, {"run.dt=0"}), "run.dt");
  EXPECT_EQ(error_key(k_base, {"run.dt=-1e-3"}), "run.dt");
  EXPECT_EQ(error_key(k_base, {"run.dt=nan"}), "run.dt");
  EXPECT_EQ(error_key(k_base, {"run.dt=inf"}), "run.dt");
  EXPECT_EQ(error_key(k_base, {"run.t_end=1e-4"}), "run.t_end");
  EXPECT_EQ(error_key(k_base, {"population.0.eta_bar=nan"}), "population.0.eta_bar");
  EXPECT_EQ(error_key(k_base, {"population.0.alpha=inf"}), "population.0.alpha");
  EXPECT_EQ(error_key(k_base, {"population.0.delta=-0.1"}), "population.0.delta");
  EXPECT_EQ(error_key(k_base, {"population.0.fraction=0.5"}), "population.*.fraction");
  EXPECT_EQ(error_key(k_base, {"run.record_every=0"}), "run.record_every");
  EXPECT_EQ(error_key(k_base, {"meanfield.rtol=0"}), "meanfield.rtol");
  EXPECT_EQ(error_key(k_base, {"meanfield.atol=-1"}), "meanfield.atol");
  EXPECT_EQ(error_key(k_base, {"synapse.tau_s=[0.0]"}), "synapse.tau_s");
  EXPECT_NE(error_message(k_base, {"network.n=0"}).find(">= 1"), std::string::npos);
}

TEST(Config, ShapesOfCouplingAndPerPopulationLists) {
  EXPECT_EQ(error_key(k_base, {"synapse.g=[[1.0, 2.0]]"}), "synapse.g");
  EXPECT_EQ(error_key(k_base, {"synapse.g=[[1.0], [2.0]]"}), "synapse.g");
  EXPECT_EQ(error_key(k_base, {"synapse.e_r=[1.0, 0.0]"}), "synapse.e_r");
  EXPECT_EQ(error_key(k_base, {"synapse.s_jump=[]"}), "synapse.s_jump");
}

TEST(Config, UnknownEnumerations) {
  EXPECT_EQ(error_key(k_base, {"run.scheme=rk4"}), "run.scheme");
  EXPECT_EQ(error_key(k_base, {"network.sampling=sobol"}), "network.sampling");
  EXPECT_NE(error_message(k_base, {"run.scheme=rk4"}).find("paper, exact"), std::string::npos);
}

TEST(Config, BadOverrides) {
  EXPECT_EQ(error_key(k_base, {"population.3.eta_bar=0.2"}), "population.3.eta_bar");
  EXPECT_EQ(error_key(k_base, {"noequals"}), "--set");
  EXPECT_EQ(error_key(k_base, {"bogus.key=1"}), "bogus.key");
}

TEST(Config, OverridesSetElementsOfNumericArrays) {
  const model_spec a = load_config_string(
      k_base, {"synapse.g.0.0=1.1", "synapse.e_r.0=0.9", "synapse.tau_s.0=2.5", "synapse.s_jump.0=1"});
  const model_spec b = load_config_string(
      replace(replace(replace(replace(k_base, "g = [[1.2308]]", "g = [[1.1]]"), "e_r = [1.0]", "e_r = [0.9]"),
                      "tau_s = [2.6]", "tau_s = [2.5]"),
              "s_jump = [1.2308]", "s_jump = [1.0]"));
  EXPECT_EQ(to_toml(a), to_toml(b));
  EXPECT_EQ(a.synapse.g[0][0], 1.1);
  EXPECT_EQ(a.synapse.s_jump[0], 1.0);  // an integer value is taken as a number
  // Out of range: one message naming the key and the valid range.
  EXPECT_EQ(error_key(k_base, {"synapse.g.0.1=1"}), "synapse.g.0.1");
  EXPECT_NE(error_message(k_base, {"synapse.g.0.1=1"}).find("valid 0..0"), std::string::npos)
      << error_message(k_base, {"synapse.g.0.1=1"});
  EXPECT_NE(error_message(k_base, {"synapse.e_r.2=1"}).find("out of range"), std::string::npos);
  EXPECT_NE(error_message(k_base, {"synapse.tau_s.x=1"}).find("not an integer"), std::string::npos);
  EXPECT_NE(error_message(k_base, {"synapse.g.0.0.1=1"}).find("is a number"), std::string::npos);
  EXPECT_NE(error_message(k_base, {"population.0=1"}).find("needs a key after the index"), std::string::npos);
}

TEST(Config, StarIndexSetsEveryElement) {
  const std::string two =
      replace(replace(replace(replace(replace(k_base, "fraction = 1.0\n", "fraction = 0.5\n"), "[synapse]",
                                      "[[population]]\nfraction = 0.5\neta_bar = 0.12\ndelta = 0.02\n[synapse]"),
                              "g = [[1.2308]]", "g = [[1.0, 1.0], [1.0, 1.0]]"),
                      "e_r = [1.0]", "e_r = [1.0, 1.0]"),
              "tau_s = [2.6]\ns_jump = [1.2308]", "tau_s = [2.6, 2.6]\ns_jump = [1.0, 1.0]");
  const model_spec m = load_config_string(two, {"population.*.eta_bar=0.2", "synapse.g.*.1=0.5"});
  ASSERT_EQ(m.populations.size(), 2u);
  EXPECT_EQ(m.populations[0].eta_bar, 0.2);
  EXPECT_EQ(m.populations[1].eta_bar, 0.2);
  EXPECT_EQ(m.synapse.g[0][1], 0.5);
  EXPECT_EQ(m.synapse.g[1][1], 0.5);
  EXPECT_EQ(m.synapse.g[1][0], 1.0);
  const std::string msg = error_message(two, {"population.x.eta_bar=0.2"});
  EXPECT_NE(msg.find("not an integer"), std::string::npos) << msg;
  EXPECT_NE(msg.find("valid 0..1 or *"), std::string::npos) << msg;
}

TEST(Config, NumbersAreWrittenInTheShortestExactForm) {
  const model_spec m =
      load_config_string(k_base, {"population.0.alpha=0.6215", "run.dt=0.3", "run.t_end=400", "run.record_every=1"});
  const std::string t = to_toml(m);
  EXPECT_NE(t.find("alpha = 0.6215\n"), std::string::npos) << t;
  EXPECT_NE(t.find("g = [[1.2308]]"), std::string::npos) << t;
  EXPECT_NE(t.find("dt = 0.3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("fraction = 1.0\n"), std::string::npos) << t;
  EXPECT_EQ(to_toml(load_config_string(t)), t);  // reads back exactly
  EXPECT_NE(to_toml_legacy(m).find("alpha = 0.62150000000000005"), std::string::npos);
  const std::string msg = error_message(k_base, {"synapse.tau_s.0=-0.1"});
  EXPECT_NE(msg.find("got -0.1"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("0000"), std::string::npos) << msg;
}

TEST(Config, SyntaxErrorsSayWhere) {
  const std::string msg = error_message("[network\nn = 1\n");
  EXPECT_NE(msg.find(":1:"), std::string::npos) << msg;
}

// ---------------------------------------------------------------------------
// The executable: one clear error line, a non-zero status, never a signal.

namespace {

struct run_result {
  int status;       // exit status, or 128 + signal
  std::string out;  // stdout + stderr
};

run_result run_izhinet(const std::string& args) {
  const std::string cmd = std::string(IZHINET_BINARY) + " " + args + " 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), out};
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("izhinet_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(Cli, BadInputsGiveOneErrorLineAndANonZeroStatus) {
  const fs::path d = temp_dir("cli");
  const std::string cfg = (d / "c.toml").string();
  std::ofstream(cfg) << k_base;
  const std::string out = "--out " + (d / "out").string() + " --backend cpu";
  struct bad {
    std::string args, must_contain;
  } cases[] = {
      {"run -c " + cfg + " --set network.n=0 " + out, "network.n"},
      {"run -c " + cfg + " --set run.dt=nan " + out, "run.dt"},
      {"run -c " + cfg + " --set population.0.delt=0.1 " + out, "delta"},
      {"run -c " + cfg + " --backend gpu --out " + (d / "o").string(), "--backend"},
      {"run -c " + (d / "missing.toml").string() + " " + out, "missing.toml"},
      {"run " + out, "--config"},
      {"run -c " + cfg + " --threads -3 " + out, "--threads"},
      {"run -c " + cfg + " --backend cpu --out /proc/nope", "--out"},
      {"run -c " + cfg + " --bogus " + out, "bogus"},
      {"frobnicate", "frobnicate"},
      {"run -c " + cfg + " --set network.n=4000000000 " + out, "network.n"},
  };
  for (const auto& c : cases) {
    const run_result r = run_izhinet(c.args);
    EXPECT_NE(r.status, 0) << c.args;
    EXPECT_LT(r.status, 128) << "killed by a signal: " << c.args;
    EXPECT_NE(r.out.find(c.must_contain), std::string::npos) << c.args << "\n" << r.out;
    int error_lines = 0;
    std::istringstream lines(r.out);
    for (std::string l; std::getline(lines, l);) error_lines += l.find("[error]") != std::string::npos;
    EXPECT_EQ(error_lines, 1) << c.args << "\n" << r.out;
  }
  fs::remove_all(d);
}

TEST(Cli, RunWritesTimeseriesSummaryAndSpikes) {
  const fs::path d = temp_dir("run");
  const std::string cfg = (d / "c.toml").string();
  std::ofstream(cfg) << k_base;
  const run_result r = run_izhinet("run -c " + cfg + " --backend cpu --no-meanfield --set run.spike_neurons=10 " +
                                   "--set population.0.eta_bar=0.5 --out " + (d / "o").string());
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream ts(d / "o" / "timeseries.csv");
  std::string header;
  std::getline(ts, header);
  EXPECT_EQ(header, "t,r0,v0,w0,s0");
  int rows = 0;
  for (std::string l; std::getline(ts, l);) ++rows;
  EXPECT_EQ(rows, 1 + 100);  // t = 0, then 1000 steps / record_every 10
  std::ifstream js(d / "o" / "summary.json");
  std::stringstream ss;
  ss << js.rdbuf();
  EXPECT_NE(ss.str().find("\"neuron_steps_per_second\""), std::string::npos);
  EXPECT_NE(ss.str().find("\"eta_bar\": 0.5"), std::string::npos);
  EXPECT_TRUE(fs::exists(d / "o" / "spikes.csv"));
  fs::remove_all(d);
}

TEST(Cli, ReplicasWriteOneOutputSetEach) {
  const fs::path d = temp_dir("replicas");
  const std::string cfg = (d / "c.toml").string();
  std::ofstream(cfg) << k_base;
  const run_result r =
      run_izhinet("run -c " + cfg + " --backend cpu --set network.replicas=3 --set network.sampling=random " +
                  "--set population.0.eta_bar=0.5 --set run.t_end=5 --out " + (d / "o").string());
  ASSERT_EQ(r.status, 0) << r.out;
  std::vector<std::string> last(3);
  for (int k = 0; k < 3; ++k) {
    std::ifstream ts(d / "o" / ("replica_" + std::to_string(k)) / "timeseries.csv");
    int rows = 0;
    for (std::string l; std::getline(ts, l);) {
      last[k] = l;
      ++rows;
    }
    EXPECT_EQ(rows, 1 + 1 + 500) << "replica " << k;  // header, t = 0, 500 records
  }
  EXPECT_NE(last[0], last[1]) << "different seeds must give different networks";
  EXPECT_TRUE(fs::exists(d / "o" / "replica_0" / "validation.json"));  // the validator compares replica 0
  fs::remove_all(d);
}

TEST(Cli, SigtermEndsARunQuicklyAndKeepsWhatWasRecorded) {
  const fs::path d = temp_dir("sig");
  const std::string cfg = (d / "c.toml").string();
  std::ofstream(cfg) << k_base;
  const std::string outdir = (d / "o").string();
  // A run that would take minutes; killed after 1.5 s, it must end within a second.
  const std::string cmd =
      std::string(IZHINET_BINARY) + " run -c " + cfg +
      " --backend cpu --no-meanfield --threads 1 --set network.n=20000 --set run.t_end=100000 --out " + outdir + " > " +
      (d / "log").string() + " 2>&1 & pid=$!; sleep 1.5; kill -TERM $pid; " +
      "start=$(date +%s%N); wait $pid; st=$?; end=$(date +%s%N); echo $st $(( (end-start)/1000000 ))";
  std::FILE* p = popen(("bash -c '" + cmd + "'").c_str(), "r");
  int status = -1;
  long ms = -1;
  ASSERT_EQ(std::fscanf(p, "%d %ld", &status, &ms), 2);
  pclose(p);
  EXPECT_EQ(status, 130);
  EXPECT_LT(ms, 1000) << "took " << ms << " ms to stop";
  std::ifstream ts(d / "o" / "timeseries.csv");
  int rows = 0;
  for (std::string l; std::getline(ts, l);) ++rows;
  EXPECT_GT(rows, 2);  // header, t = 0, and what was recorded before the signal
  EXPECT_TRUE(fs::exists(d / "o" / "summary.json"));
  fs::remove_all(d);
}

TEST(Cli, SetOfAnArrayElementEqualsTheConfigurationFile) {
  const fs::path d = temp_dir("set_element");
  std::ofstream(d / "a.toml") << k_base;
  std::ofstream(d / "b.toml") << replace(k_base, "g = [[1.2308]]", "g = [[1.1]]");
  const std::string common = " --backend cpu --threads 1 --no-meanfield --set population.0.eta_bar=0.5 --out ";
  const run_result a =
      run_izhinet("run -c " + (d / "a.toml").string() + " --set synapse.g.0.0=1.1" + common + (d / "oa").string());
  ASSERT_EQ(a.status, 0) << a.out;
  const run_result b = run_izhinet("run -c " + (d / "b.toml").string() + common + (d / "ob").string());
  ASSERT_EQ(b.status, 0) << b.out;
  auto text = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(text(d / "oa" / "timeseries.csv"), text(d / "ob" / "timeseries.csv"));
  EXPECT_EQ(text(d / "oa" / "config.toml"), text(d / "ob" / "config.toml"));
  EXPECT_NE(text(d / "oa" / "config.toml").find("g = [[1.1]]"), std::string::npos) << text(d / "oa" / "config.toml");
  const run_result bad =
      run_izhinet("run -c " + (d / "a.toml").string() + " --set synapse.g.1.0=1" + common + (d / "oc").string());
  EXPECT_EQ(bad.status, 2) << bad.out;
  EXPECT_NE(bad.out.find("synapse.g.1.0"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("valid 0..0"), std::string::npos) << bad.out;
  fs::remove_all(d);
}

// A t_end that is not a whole number of recording intervals: the start line says the real
// step count and one warning says where the run ends.
TEST(Cli, TEndCutToWholeRecordingIntervalsIsAnnounced) {
  const fs::path d = temp_dir("t_end_cut");
  std::ofstream(d / "c.toml") << k_base;
  const run_result r =
      run_izhinet("run -c " + (d / "c.toml").string() +
                  " --backend cpu --threads 1 --no-meanfield --set run.t_end=1.005 --out " + (d / "o").string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("t_end = 1.005, 1000 steps"), std::string::npos) << r.out;
  const auto w = r.out.find("[warning] run.t_end = 1.005");
  ASSERT_NE(w, std::string::npos) << r.out;
  const std::string line = r.out.substr(w, r.out.find('\n', w) - w);
  EXPECT_NE(line.find("run.record_every = 10"), std::string::npos) << line;
  EXPECT_NE(line.find("run.dt = 0.001"), std::string::npos) << line;
  EXPECT_EQ(line.substr(line.rfind("ends at")), "ends at t = 1") << line;
  const run_result exact = run_izhinet("run -c " + (d / "c.toml").string() +
                                       " --backend cpu --threads 1 --no-meanfield --out " + (d / "o2").string());
  ASSERT_EQ(exact.status, 0) << exact.out;
  EXPECT_EQ(exact.out.find("[warning] run.t_end"), std::string::npos) << exact.out;
  fs::remove_all(d);
}

TEST(Config, DeltaMustBePositiveForTheMeanField) {
  const std::string msg = error_message(k_base, {"population.0.delta=0"});
  EXPECT_EQ(error_key(k_base, {"population.0.delta=0"}), "population.0.delta");
  EXPECT_NE(msg.find("must be > 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("singular"), std::string::npos) << msg;
  EXPECT_EQ(error_key(k_base, {"population.0.delta=0", "meanfield.enabled=false"}), "<no error>");
  EXPECT_EQ(error_key(k_base, {"population.0.delta=-1", "meanfield.enabled=false"}), "population.0.delta");
}

// Nearly identical neurons (delta = 1e-12) leave [v_reset, v_peak] together: the paper
// scheme's <v>, <w> are then the means over all neurons, never 0/0.
TEST(Cli, PaperMeansHaveNoNanWhenNoNeuronIsInTheWindow) {
  const fs::path d = temp_dir("no_nan");
  const run_result r = run_izhinet("run -c " + std::string(IZHINET_SOURCE_DIR) +
                                   "/configs/paper_bursting.toml --set population.0.delta=1e-12 --set network.n=200 "
                                   "--set run.t_end=50 --backend cpu --threads 1 --no-meanfield --out " +
                                   (d / "o").string());
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream ts(d / "o" / "timeseries.csv");
  int rows = 0, nans = 0;
  for (std::string l; std::getline(ts, l); ++rows) nans += l.find("nan") != std::string::npos;
  EXPECT_GT(rows, 100);
  EXPECT_EQ(nans, 0);
  fs::remove_all(d);
}
