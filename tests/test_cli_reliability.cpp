// What a user can rely on, through the executable: exit statuses, a full
// disk, one process per output folder, --overwrite, signals, bad inputs
// named in one line (README, "What you can rely on").
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <regex>
#include <set>

#include "cli_helpers.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/json.hpp"

using namespace izhinet;
using namespace izhinet::testing;
namespace fs = std::filesystem;

namespace {

const std::string k_one = R"(
[network]
n = 200
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
t_end = 20.0
dt = 1e-3
record_every = 10
[meanfield]
transient = 5.0
)";

const std::string k_two = R"(
[network]
n = 200
[[population]]
fraction = 0.8
eta_bar = 0.12
delta = 0.02
[[population]]
fraction = 0.2
eta_bar = 0.12
delta = 0.02
[synapse]
g = [[1.2308, 1.2308], [1.2308, 1.2308]]
e_r = [1.0, 1.0]
tau_s = [2.6, 2.6]
s_jump = [1.2308, 1.2308]
[run]
t_end = 5.0
dt = 1e-3
record_every = 10
)";

std::string write_config(const fs::path& dir, const std::string& text, const std::string& name = "c.toml") {
  const std::string p = (dir / name).string();
  std::ofstream(p) << text;
  return p;
}

/// Exactly one [error] line, a non-zero status below 128, every `needles` in that line.
void expect_one_error(const shell_result& r, int status, const std::vector<std::string>& needles,
                      const std::string& what) {
  SCOPED_TRACE(what + "\n" + r.out.substr(0, 2000));
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(count_lines_with(r.out, "[error]"), 1);
  EXPECT_EQ(count_lines_with(r.out, "[critical]"), 0);
  std::string line;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);)
    if (l.find("[error]") != std::string::npos) line = l;
  for (const auto& n : needles) EXPECT_NE(line.find(n), std::string::npos) << "missing '" << n << "'";
  EXPECT_LT(line.size(), 1000u) << "the error line echoes too much";
}

json summary_of(const fs::path& dir) { return json::parse(read_text(dir / "summary.json")); }

}  // namespace

TEST(CliReliability, AFileSizeLimitStopsTheRunAtOnceWithStatus5) {
  const fs::path d = fresh_temp_dir("fsize");
  const std::string cfg = write_config(d, k_one);
  const fs::path out = d / "o";
  // ulimit -f: every file may hold 40 KiB, then write(2) fails with EFBIG (a quota behaves alike).
  const shell_result r = run_izhinet("run -c " + cfg + " --backend cpu --threads 1 --set run.t_end=200 --set " +
                                         "run.spike_neurons=200 --out " + out.string(),
                                     "ulimit -f 40;");
  expect_one_error(r, exit_io, {"cannot write", ".csv", std::strerror(EFBIG)}, "file-size limit");
  const json s = summary_of(out);
  EXPECT_EQ(s["status"], "io_error");
  const double valid = s["valid_until_t"].get<double>();
  EXPECT_GT(valid, 0.0);
  EXPECT_LT(valid, 200.0);
  for (const char* f : {"timeseries.csv", "spikes.csv"}) {
    const std::string text = read_text(out / f);
    ASSERT_FALSE(text.empty()) << f;
    EXPECT_EQ(text.back(), '\n') << f << " ends in a torn line";
  }
  // the time series holds every row up to valid_until_t
  const auto rows = read_lines(out / "timeseries.csv");
  EXPECT_GE(std::strtod(rows.back().c_str(), nullptr), valid);
  fs::remove_all(d);
}

TEST(CliReliability, ASmallTmpfsFillsUpAndTheRunSaysSo) {
  const fs::path d = fresh_temp_dir("tmpfs");
  const std::string cfg = write_config(d, k_one);
  const fs::path mnt = d / "mnt", keep = d / "keep";
  fs::create_directories(mnt);
  fs::create_directories(keep);
  // A private mount namespace (no root needed where user namespaces are allowed); the
  // mount disappears with it, so the results are copied out before it ends.
  const std::string probe = "unshare -rm sh -c 'mount -t tmpfs -o size=96k tmpfs " + mnt.string() + "' 2>&1";
  if (std::system(probe.c_str()) != 0)
    GTEST_SKIP() << "cannot mount a small tmpfs here (no user namespaces); the fault-injection tests cover a full disk";
  const std::string inner = "mount -t tmpfs -o size=96k tmpfs " + mnt.string() + " && " + IZHINET_BINARY + " run -c " +
                            cfg + " --backend cpu --threads 1 --set run.t_end=200 --set run.spike_neurons=200 --out " +
                            (mnt / "o").string() + " > " + (keep / "log").string() + " 2>&1; echo $? > " +
                            (keep / "status").string() + "; cp -r " + (mnt / "o").string() + " " + keep.string();
  ASSERT_EQ(std::system(("unshare -rm sh -c '" + inner + "'").c_str()), 0);
  const shell_result r{std::stoi(read_text(keep / "status")), read_text(keep / "log"), 0};
  expect_one_error(r, exit_io, {"cannot write", std::strerror(ENOSPC)}, "full tmpfs");
  EXPECT_EQ(summary_of(keep / "o")["status"], "io_error");
  for (const char* f : {"timeseries.csv", "spikes.csv"}) {
    const std::string text = read_text(keep / "o" / f);
    ASSERT_FALSE(text.empty()) << f;
    EXPECT_EQ(text.back(), '\n') << f << " ends in a torn line";
  }
  fs::remove_all(d);
}

TEST(CliReliability, ASecondProcessOnAFolderStopsAtOnceNamingTheHolder) {
  const fs::path d = fresh_temp_dir("busy");
  const std::string cfg = write_config(d, k_one);
  const std::string out = (d / "o").string();
  const std::string bin = IZHINET_BINARY;
  // The first run would take minutes; the others start while it holds the folder.
  const std::string script =
      bin + " run -c " + cfg + " --backend cpu --threads 1 --no-meanfield --set network.n=20000 --set run.t_end=1e5 " +
      "--out " + out + " -q & pid=$!; while [ ! -s " + out + "/summary.json ]; do sleep 0.05; done; " + bin +
      " run -c " + cfg + " --backend cpu --out " + out + " --overwrite; echo second=$?; " + bin + " finite-size -c " +
      cfg + " --n 100 --seeds 1 --backend cpu --out " + out +
      "; echo study=$?; echo first_pid=$pid; kill -TERM $pid; " + "wait $pid; echo first=$?";
  const shell_result r = run_shell(script);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("first_pid=([0-9]+)"))) << r.out;
  const std::string pid = m[1];
  EXPECT_NE(r.out.find("second=" + std::to_string(exit_busy)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("study=" + std::to_string(exit_busy)), std::string::npos) << r.out;
  EXPECT_EQ(count_lines_with(r.out, "in use by another izhinet process (PID " + pid + ")"), 2) << r.out;
  EXPECT_NE(r.out.find("first=130"), std::string::npos) << r.out;
  // --overwrite did not touch the holder's files
  EXPECT_EQ(summary_of(out)["status"], "interrupted");
  fs::remove_all(d);
}

TEST(CliReliability, ARerunIsRefusedUnlessOverwriteWhichRemovesTheOldRun) {
  const fs::path d = fresh_temp_dir("overwrite");
  const std::string cfg = write_config(d, k_one);
  const fs::path out = d / "o";
  const std::string base = "run -c " + cfg + " --backend cpu --threads 1 --set run.t_end=2 --out " + out.string();
  ASSERT_EQ(run_izhinet(base + " --set network.replicas=3").status, 0);
  ASSERT_TRUE(fs::exists(out / "replica_2" / "timeseries.csv"));
  const std::string before = read_text(out / "summary.json");
  expect_one_error(run_izhinet(base), exit_usage, {"--out", "--overwrite"}, "rerun without --overwrite");
  EXPECT_EQ(read_text(out / "summary.json"), before) << "the refused rerun changed the old run";
  const shell_result r = run_izhinet(base + " --overwrite");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_FALSE(fs::exists(out / "replica_0")) << "files of the old run left beside the new one";
  EXPECT_TRUE(fs::exists(out / "timeseries.csv"));
  EXPECT_EQ(summary_of(out)["parameters"]["network"]["replicas"], 1);
  // a study folder is not a run folder either
  expect_one_error(run_izhinet("finite-size -c " + cfg + " --n 100 --seeds 1 --backend cpu --out " + out.string()),
                   exit_usage, {"--out", "study.txt"}, "a study into a run folder");
  fs::remove_all(d);
}

TEST(CliReliability, MfHonoursSignalsWithinASecondAndFailsWithStatus4) {
  const fs::path d = fresh_temp_dir("mf");
  const std::string cfg = write_config(d, k_one);
  for (const char* sig : {"TERM", "INT"}) {
    SCOPED_TRACE(sig);
    const fs::path out = d / (std::string("o") + sig);
    const std::string script =
        std::string(IZHINET_BINARY) + " mf -c " + cfg + " --set run.t_end=1e8 --set run.record_every=10000000 --out " +
        out.string() + " > /dev/null 2>&1 & pid=$!; sleep 1; kill -" + sig +
        " $pid; s=$(date +%s%N); wait $pid; st=$?; e=$(date +%s%N); echo $st $(( (e-s)/1000000 ))";
    const shell_result r = run_shell(script);
    int status = -1, ms = -1;
    ASSERT_EQ(std::sscanf(r.out.c_str(), "%d %d", &status, &ms), 2) << r.out;
    EXPECT_EQ(status, exit_interrupted);
    EXPECT_LT(ms, 1000) << "mf took " << ms << " ms to stop";
    EXPECT_EQ(summary_of(out)["status"], "interrupted");
    const std::string csv = read_text(out / "meanfield.csv");
    ASSERT_FALSE(csv.empty());
    EXPECT_EQ(csv.back(), '\n');
  }
  const shell_result bad =
      run_izhinet("mf -c " + cfg + " --set population.0.I_ext=1e200 --out " + (d / "bad").string());
  expect_one_error(bad, exit_runtime, {"mean-field integration failed"}, "mf integration failure");
  EXPECT_EQ(summary_of(d / "bad")["status"], "failed");
  fs::remove_all(d);
}

TEST(CliReliability, ConfigurationsThatAreNotSmallFilesAreRefusedInOneLine) {
  const fs::path d = fresh_temp_dir("cfgfiles");
  const std::string fifo = (d / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string big = (d / "big.toml").string();
  { std::ofstream(big) << "x"; }
  fs::resize_file(big, (64 << 20) + 1);
  const std::string out = " --out " + (d / "o").string();
  for (const auto& [path, why] : std::vector<std::pair<std::string, std::string>>{{"/dev/zero", "not a regular file"},
                                                                                  {fifo, "not a regular file"},
                                                                                  {d.string(), "a folder"},
                                                                                  {big, "64 MiB"}}) {
    for (const char* cmd : {"run", "mf"}) {
      const shell_result r = run_izhinet(std::string(cmd) + " -c " + path + out);
      expect_one_error(r, exit_usage, {"--config", why}, std::string(cmd) + " " + path);
      EXPECT_LT(r.seconds, 10.0);
    }
  }
  fs::remove_all(d);
}

TEST(CliReliability, SetValuesAreTomlWithCommasArraysAndInlineTables) {
  const fs::path d = fresh_temp_dir("set");
  const std::string cfg = write_config(d, k_two);
  const fs::path out = d / "o";
  const shell_result r =
      run_izhinet("run -c " + cfg + " --backend cpu --threads 1 --out " + out.string() +
                  " --set 'synapse.g=[[1.0,0.5],[0.5,1.0]]' --set=network.n=100" +
                  " -s 'population.0.I_ext={ kind = \"steps\", times = [1.0, 2.0], values = [0.5, 0.25] }'");
  ASSERT_EQ(r.status, 0) << r.out;
  const json p = summary_of(out)["parameters"];
  EXPECT_EQ(p["synapse"]["g"], json::parse("[[1.0, 0.5], [0.5, 1.0]]"));
  EXPECT_EQ(p["network"]["n"], 100);
  EXPECT_EQ(p["population"][0]["I_ext"]["kind"], "steps");
  EXPECT_EQ(p["population"][0]["I_ext"]["values"], json::parse("[0.5, 0.25]"));
  EXPECT_NE(read_text(out / "config.toml").find("g = [[1.0, 0.5], [0.5, 1.0]]"), std::string::npos);
  fs::remove_all(d);
}

TEST(CliReliability, BadOptionsAndValuesAreNamedWithTheirRange) {
  const fs::path d = fresh_temp_dir("opts");
  const std::string cfg = write_config(d, k_one);
  // a configuration with a 10 MB key
  const std::string huge = write_config(d, std::string(10 << 20, 'k') + " = 1\n" + k_one, "huge.toml");
  const std::string out = " --out " + (d / "o").string();
  struct bad {
    std::string args;
    std::vector<std::string> needles;
  } cases[] = {
      {"run -c " + cfg + " --threads abc" + out, {"--threads", "'abc'", "[0, 4096]"}},
      {"run -c " + cfg + " --threads 99999999999999999999" + out, {"--threads", "[0, 4096]"}},
      {"run -c " + cfg + " --progress soon" + out, {"--progress", "'soon'"}},
      {"finite-size -c " + cfg + " --n 100 --seeds 0" + out, {"--seeds", "[1, 100000]"}},
      {"finite-size -c " + cfg + " --n 100 --seeds x" + out, {"--seeds", "'x'"}},
      {"run -c " + cfg + " --set network.n=99999999999999999999" + out, {"network.n", "64 bits"}},
      {"run -c " + cfg + " --set network.n=1,5" + out, {"network.n", "not a TOML value"}},
      {"run -c " + cfg + " --set meanfield.rtol=1e300" + out, {"meanfield.rtol", "[1e-14, 1e-3]"}},
      {"run -c " + cfg + " --set meanfield.atol=0.5" + out, {"meanfield.atol", "[1e-16, 1e-3]"}},
      {"run -c " + d.string() + out, {"--config", "a folder"}},
      {"run -c " + huge + out, {"unknown key", "10485760 characters"}},
      {"run -c " + cfg + out + " --set", {"--set", "missing its value"}},
  };
  for (const auto& c : cases) expect_one_error(run_izhinet(c.args), exit_usage, c.needles, c.args.substr(0, 200));
  fs::remove_all(d);
}

TEST(CliReliability, StudyFolderProblemsNameTheFileAndTheLine) {
  const fs::path d = fresh_temp_dir("study");
  const std::string cfg = write_config(d, k_one);
  const fs::path out = d / "o";
  const std::string study = "finite-size -c " + cfg + " --n 100 --seeds 1 --sampling quantiles --backend cpu --out ";
  fs::create_directories(d / "weird" / "study.txt");
  expect_one_error(run_izhinet(study + (d / "weird").string()), exit_usage, {"study.txt", "not a file"},
                   "study.txt is a folder");
  ASSERT_EQ(run_izhinet(study + out.string()).status, 0);
  { std::ofstream(out / "finite_size.csv", std::ios::app) << "garbage,line\n"; }
  expect_one_error(run_izhinet(study + out.string()), exit_usage, {"finite_size.csv' line 3"}, "garbage line");
  fs::remove_all(d);
}

TEST(CliReliability, ManyReplicasShareOneFileAndTooManyOpenFilesAreRefusedUpFront) {
  const fs::path d = fresh_temp_dir("replicas");
  const std::string cfg = write_config(d, k_one);
  const fs::path out = d / "o";
  const shell_result r =
      run_izhinet("run -c " + cfg + " --backend cpu --threads 1 --set network.n=10 --set run.t_end=1 " +
                  "--set run.record_every=100 --set network.replicas=300 --out " + out.string() + " -q");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto rows = read_lines(out / "timeseries.csv");
  ASSERT_EQ(rows.size(), 1u + 300 * 11);  // t = 0 and 10 recorded rows per replica
  EXPECT_EQ(rows[0], "replica,t,r0,v0,w0,s0");
  EXPECT_FALSE(fs::exists(out / "replica_0"));
  std::set<std::string> replicas;
  for (size_t k = 1; k < rows.size(); ++k) replicas.insert(rows[k].substr(0, rows[k].find(',')));
  EXPECT_EQ(replicas.size(), 300u);
  // 200 replicas with one file each need more descriptors than `ulimit -n 60` allows: refused before any work
  const shell_result lim =
      run_izhinet("run -c " + cfg + " --backend cpu --set network.n=10 --set network.replicas=200 " + "--out " +
                      (d / "lim").string(),
                  "ulimit -n 60;");
  expect_one_error(lim, exit_usage, {"network.replicas", "ulimit -n"}, "open-file limit");
  EXPECT_FALSE(fs::exists(d / "lim")) << "a refused run wrote files";
  fs::remove_all(d);
}

TEST(CliReliability, FiniteSizeStopsWritingUpRunsWithinASecondAndResumes) {
  const fs::path d = fresh_temp_dir("fs_stop");
  const std::string cfg = write_config(d, k_one);
  const fs::path out = d / "o";
  const std::string study = std::string(IZHINET_BINARY) + " finite-size -c " + cfg +
                            " --n 50 --seeds 150 --sampling random --set run.t_end=10 --set meanfield.transient=2 " +
                            "--backend cpu --threads 1 --progress 0 --out " + out.string();
  // SIGTERM as soon as the first finished run is written up (150 write-ups take about 1.5 s here).
  const std::string script = study + " > /dev/null 2>&1 & pid=$!; until ls " + out.string() +
                             "/runs/*.json > /dev/null 2>&1; do sleep 0.02; done; kill -TERM $pid; " +
                             "s=$(date +%s%N); wait $pid; st=$?; e=$(date +%s%N); echo $st $(( (e-s)/1000000 ))";
  const shell_result r = run_shell(script);
  int status = -1, ms = -1;
  ASSERT_EQ(std::sscanf(r.out.c_str(), "%d %d", &status, &ms), 2) << r.out;
  EXPECT_EQ(status, exit_interrupted);
  EXPECT_LT(ms, 1000) << "the study took " << ms << " ms to stop";
  const size_t kept = read_lines(out / "finite_size.csv").size() - 1;
  EXPECT_LT(kept, 150u) << "the signal came too late to test anything";
  EXPECT_EQ(read_text(out / "finite_size.csv").back(), '\n');
  // resumed: every run exactly once
  const shell_result again = run_izhinet(study.substr(study.find(' ') + 1) + " -q");
  ASSERT_EQ(again.status, 0) << again.out;
  const auto rows = read_lines(out / "finite_size.csv");
  EXPECT_EQ(rows.size(), 151u);
  std::set<std::string> seeds;
  for (size_t k = 1; k < rows.size(); ++k) seeds.insert(rows[k].substr(0, rows[k].find(',', 10)));
  EXPECT_EQ(seeds.size(), 150u);
  fs::remove_all(d);
}

TEST(CliReliability, AStudyOnAFullDiskStopsWithStatus5AndARerunRedoesTheRun) {
  const fs::path d = fresh_temp_dir("fs_full");
  const std::string cfg = write_config(d, k_one);
  const fs::path out = d / "o";
  const std::string study = "finite-size -c " + cfg + " --n 100,200 --seeds 2 --sampling random --backend cpu " +
                            "--threads 1 --set run.t_end=40 --progress 0 --out " + out.string();
  // each run's validation.json needs more than 16 KiB: the first write-up fails
  const shell_result r = run_izhinet(study, "ulimit -f 16;");
  expect_one_error(r, exit_io, {"cannot write", std::strerror(EFBIG)}, "study on a full disk");
  EXPECT_EQ(read_lines(out / "finite_size.csv").size(), 1u) << "a run whose write-up failed was marked done";
  const shell_result again = run_izhinet(study + " -q");
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(read_lines(out / "finite_size.csv").size(), 1u + 4);
  fs::remove_all(d);
}

TEST(CliReliability, OverwriteKeepsTheOldRunWhenTheNewRunIsRefused) {
  const fs::path d = fresh_temp_dir("overwrite_refused");
  const std::string cfg = write_config(d, k_one);
  const fs::path out = d / "o";
  const std::string base = "run -c " + cfg + " --threads 1 --set run.t_end=2 --out " + out.string();
  ASSERT_EQ(run_izhinet(base + " --backend cpu").status, 0);
  const std::string before = read_text(out / "summary.json");
  // no GPU: the backend is refused; too large a network: the memory is refused. Neither removes the old run.
  const shell_result cuda = run_izhinet(base + " --backend cuda --overwrite");
  if (cuda.status == 0) GTEST_SKIP() << "this machine has a usable GPU";
  expect_one_error(cuda, exit_runtime, {"--backend cuda"}, "--overwrite --backend cuda without a GPU");
  EXPECT_EQ(cuda.out.find("--overwrite: removed"), std::string::npos) << cuda.out;
  EXPECT_EQ(read_text(out / "summary.json"), before) << "the refused run removed or changed the old run";
  EXPECT_TRUE(fs::exists(out / "timeseries.csv"));
  const shell_result big =
      run_izhinet(base + " --backend cpu --overwrite --set network.n=1e6 --set network.replicas=1000000");
  expect_one_error(big, exit_runtime, {"network.n", "TiB"}, "--overwrite with a network that does not fit");
  EXPECT_EQ(read_text(out / "summary.json"), before) << "the refused run removed or changed the old run";
  EXPECT_TRUE(fs::exists(out / "config.toml"));
  EXPECT_TRUE(fs::exists(out / "timeseries.csv"));
  fs::remove_all(d);
}

// A refused run leaves a folder as it found it: no lock file, which would mark it as izhinet's and let a
// later --overwrite delete the user's own files there.
TEST(CliReliability, ARefusedFolderKeepsNoLockAndOverwriteStillSparesTheUsersFiles) {
  const fs::path d = fresh_temp_dir("user_folder");
  const std::string cfg = write_config(d, k_one);
  const fs::path out = d / "mine";
  fs::create_directories(out);
  { std::ofstream(out / "notes.txt") << "precious\n"; }
  const std::string base = "run -c " + cfg + " --backend cpu --threads 1 --set run.t_end=1 --out " + out.string();
  expect_one_error(run_izhinet(base), exit_usage, {"already holds files"}, "a folder with the user's files");
  EXPECT_FALSE(fs::exists(out / ".izhinet.lock")) << "the refusal left a lock file";
  for (int i = 0; i < 2; ++i) {
    expect_one_error(run_izhinet(base + " --overwrite"), exit_usage, {"izhinet did not write"},
                     "--overwrite of a folder with the user's files");
    EXPECT_FALSE(fs::exists(out / ".izhinet.lock")) << "the refusal left a lock file";
  }
  EXPECT_EQ(read_text(out / "notes.txt"), "precious\n");
  fs::remove_all(d);
}

// sweep and finite-size: --overwrite removes nothing before the memory (or backend) refusal.
TEST(CliReliability, StudiesCheckMemoryBeforeOverwriteRemovesAnything) {
  const fs::path d = fresh_temp_dir("study_overwrite");
  const std::string cfg = write_config(d, k_one);
  const fs::path sw = d / "sw", fsz = d / "fs";
  const std::string sweep = "sweep -c " + cfg + " --backend cpu --threads 1 --set run.t_end=2 --set network.n=50 " +
                            "--param population.0.eta_bar --values 0.1,0.2 -q --out " + sw.string();
  ASSERT_EQ(run_izhinet(sweep).status, 0);
  const std::string rows = read_text(sw / "sweep.csv");
  ASSERT_GT(std::count(rows.begin(), rows.end(), '\n'), 2) << rows;
  expect_one_error(run_izhinet(sweep + " --n 4e9 --overwrite"), exit_runtime, {"network.n", "more than 90 %"},
                   "a sweep of networks that do not fit");
  EXPECT_EQ(read_text(sw / "sweep.csv"), rows) << "the refused sweep removed the earlier rows";
  const std::string study = "finite-size -c " + cfg +
                            " --backend cpu --threads 1 --set run.t_end=2 --set meanfield.transient=1 --seeds 1 -q "
                            "--out " +
                            fsz.string();
  ASSERT_EQ(run_izhinet(study + " --n 50").status, 0);
  const std::string fs_rows = read_text(fsz / "finite_size.csv");
  expect_one_error(run_izhinet(study + " --n 50,4e9 --overwrite"), exit_runtime, {"network.n", "more than 90 %"},
                   "a study with a network that does not fit");
  EXPECT_EQ(read_text(fsz / "finite_size.csv"), fs_rows) << "the refused study removed the earlier rows";
  fs::remove_all(d);
}

TEST(CliReliability, ANetworkThatCannotFitIsRefusedAtOnceWritingNothing) {
  const fs::path d = fresh_temp_dir("too_big");
  const std::string cfg = write_config(d, k_one);
  const fs::path out = d / "o";
  const shell_result r = run_izhinet(
      "run -c " + cfg + " --backend cpu --set network.n=1e6 --set network.replicas=1000000 --out " + out.string());
  expect_one_error(r, exit_runtime, {"network.n", "network.replicas", "more than 90 %"}, "1e12 neurons");
  EXPECT_LT(r.seconds, 2.0) << "refused only after building the network";
  EXPECT_FALSE(fs::exists(out / "summary.json"));
  EXPECT_FALSE(fs::exists(out / "config.toml"));
  fs::remove_all(d);
}

TEST(CliReliability, AStiffMeanFieldEndsTheAnalysisInBoundedTimeAndAStopThereIs130) {
  const fs::path d = fresh_temp_dir("stiff");
  const std::string cfg = write_config(d, k_one);
  const std::string args = "run -c " + cfg +
                           " --backend cpu --threads 1 --set 'synapse.tau_s=[1e-6]' --set network.n=500 "
                           "--set run.t_end=2 --set meanfield.transient=1 --out ";
  const shell_result r = run_izhinet(args + (d / "a").string());
  SCOPED_TRACE(r.out);
  EXPECT_EQ(r.status, 0);
  EXPECT_LT(r.seconds, 20.0) << "the attractor search on a stiff system is not bounded";
  EXPECT_GE(count_lines_with(r.out, "mean-field analysis: searching the attractors"), 1);
  EXPECT_GE(count_lines_with(r.out, "stiff"), 1);
  EXPECT_EQ(summary_of(d / "a")["status"], "completed");
  // SIGTERM once the final analysis has started: exit 130, summary.json says interrupted.
  const fs::path b = d / "b";
  const std::string script = std::string(IZHINET_BINARY) + " " + args + b.string() + " > " + (d / "b.log").string() +
                             " 2>&1 & pid=$!; for i in $(seq 400); do grep -q 'mean-field analysis: searching' " +
                             (d / "b.log").string() +
                             " && break; sleep 0.01; done; kill -TERM $pid; wait $pid; echo $?";
  const shell_result s = run_shell(script);
  const std::string log = read_text(d / "b.log");
  int status = -1;
  ASSERT_EQ(std::sscanf(s.out.c_str(), "%d", &status), 1) << s.out;
  EXPECT_EQ(status, exit_interrupted) << log;
  EXPECT_EQ(summary_of(b)["status"], "interrupted") << log;
  fs::remove_all(d);
}

TEST(CliReliability, BifWarnsThatATimeDependentInputIsTakenAtTimeZero) {
  const fs::path d = fresh_temp_dir("bif_steps");
  const shell_result r =
      run_izhinet("bif -c " + std::string(IZHINET_SOURCE_DIR) +
                  "/configs/fig3_step.toml --param population.0.eta_bar --from 0.1 --to 0.2 --no-orbits --out " +
                  (d / "o").string());
  SCOPED_TRACE(r.out);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(count_lines_with(r.out, "I_ext varies in time: the diagram is that of the inputs at t = 0"), 1);
  fs::remove_all(d);
}

TEST(CliReliability, HelpTextsNameEveryExitStatus) {
  const shell_result top = run_izhinet("--help");
  EXPECT_NE(top.out.find("10 the network disagrees"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("11 inconclusive"), std::string::npos) << top.out;
  const shell_result run = run_izhinet("run --help");
  const size_t ra = run.out.find("--require-agreement");
  ASSERT_NE(ra, std::string::npos) << run.out;
  const std::string ra_help = run.out.substr(ra, run.out.find("--checkpoint-every") - ra);
  EXPECT_EQ(ra_help.find("(default: 0)"), std::string::npos) << ra_help;
  EXPECT_NE(ra_help.find("does not change the exit status"), std::string::npos) << ra_help;
  // not a terminal: no colour codes
  const shell_result bad = run_izhinet("run -c /nonexistent.toml");
  EXPECT_EQ(bad.out.find('\x1b'), std::string::npos) << bad.out;
}
