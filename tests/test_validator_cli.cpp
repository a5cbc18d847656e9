// The validator seen from the command line: --require-agreement exit statuses,
// numerical warnings, and a stop request during a validated run.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "izhinet/validation_criteria.hpp"

namespace fs = std::filesystem;

namespace {

const std::string k_config = R"(
[network]
n = 1000
sampling = "quantiles"
[[population]]
fraction = 1.0
eta_bar = 0.25
delta = 0.02
[synapse]
g = [[1.2308]]
e_r = [1.0]
tau_s = [2.6]
s_jump = [1.2308]
[run]
t_end = 600.0
dt = 1e-3
scheme = "paper"
record_every = 10
rate_window = 0.02
[meanfield]
transient = 300.0
)";

struct run_result {
  int status;
  std::string out;
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

std::string read_file(const fs::path& p) {
  std::ifstream f(p);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(ValidatorCli, RequireAgreementGivesDistinctExitStatuses) {
  const fs::path d = temp_dir("require");
  const std::string cfg = (d / "c.toml").string();
  std::ofstream(cfg) << k_config;
  const std::string base = "run -c " + cfg + " --backend cpu --threads 1 --progress 0 ";
  // tonic point, N = 1000: agrees (exit 0 with and without the flag)
  run_result r = run_izhinet(base + "--require-agreement --out " + (d / "agree").string());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("agree: both equilibrium"), std::string::npos) << r.out;
  // dt = 4e-3 with the paper scheme: warned, and the tonic network bursts: a disagreement
  const std::string coarse = "--set run.dt=4e-3 --set run.record_every=3 --set run.t_end=1000 ";
  r = run_izhinet(base + coarse + "--require-agreement --out " + (d / "disagree").string());
  EXPECT_EQ(r.status, izhinet::criteria::exit_disagreement) << r.out;
  EXPECT_NE(r.out.find("paper scheme: dt (|v_reset| + dt v_peak^2) = 1.44"), std::string::npos) << r.out;
  EXPECT_NE(read_file(d / "disagree" / "validation.json").find("\"warnings\": [\n    \"paper scheme"),
            std::string::npos);
  // the same without the flag: exit 0, the verdict is only reported
  r = run_izhinet(base + coarse + "--out " + (d / "default").string());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("disagree"), std::string::npos) << r.out;
  // the bursting point with a window shorter than two periods: inconclusive
  r = run_izhinet(base + "--set population.0.eta_bar=0.12 --set run.t_end=500 --set meanfield.transient=200 " +
                  "--require-agreement --out " + (d / "short").string());
  EXPECT_EQ(r.status, izhinet::criteria::exit_inconclusive) << r.out;
  EXPECT_NE(r.out.find("holds 1.3 periods of the mean field's 227.2; run to t_end >= 700"), std::string::npos) << r.out;
  // needs the validator
  r = run_izhinet(base + "--no-meanfield --require-agreement --out " + (d / "none").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--require-agreement"), std::string::npos) << r.out;
  fs::remove_all(d);
}

TEST(ValidatorCli, SigtermDuringAValidatedRunEndsQuicklyWithoutAVerdict) {
  // record_every = 1 and t_end = 1e6: 1e9 record times for the validator. A
  // stop must end the run, the mean-field integration and the files within a
  // second, and validation.json must say where the run stopped.
  const fs::path d = temp_dir("sigval");
  const std::string cfg = (d / "c.toml").string();
  std::ofstream(cfg) << k_config;
  const std::string outdir = (d / "o").string();
  const std::string cmd = std::string(IZHINET_BINARY) + " run -c " + cfg +
                          " --backend cpu --threads 1 --set run.t_end=1e6 --set run.record_every=1 --out " + outdir +
                          " > " + (d / "log").string() +
                          " 2>&1 & pid=$!; sleep 2; kill -TERM $pid; start=$(date +%s%N); wait $pid; st=$?; "
                          "end=$(date +%s%N); echo $st $(( (end-start)/1000000 ))";
  std::FILE* p = popen(("bash -c '" + cmd + "'").c_str(), "r");
  int status = -1;
  long ms = -1;
  ASSERT_EQ(std::fscanf(p, "%d %ld", &status, &ms), 2);
  pclose(p);
  EXPECT_EQ(status, 130) << read_file(d / "log");
  EXPECT_LT(ms, 1000) << "took " << ms << " ms to stop";
  const std::string json = read_file(d / "o" / "validation.json");
  EXPECT_NE(json.find("\"status\": \"interrupted\""), std::string::npos) << json.substr(0, 2000);
  EXPECT_NE(json.find("\"outcome\": \"no verdict\""), std::string::npos);
  // the mean field was integrated only as far as the network: meanfield.csv is small
  EXPECT_LT(fs::file_size(d / "o" / "meanfield.csv"), 20 * fs::file_size(d / "o" / "timeseries.csv") + 100000);
  fs::remove_all(d);
}
