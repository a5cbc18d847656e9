// Output integrity through the library: every write checked, no torn line,
// a failed write stops the work with the file and the reason, one folder per
// run, the same provenance in every JSON file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <regex>
#include <set>

#include "cli_helpers.hpp"
#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/finite_size.hpp"
#include "izhinet/io.hpp"
#include "izhinet/json.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/output.hpp"
#include "izhinet/validator.hpp"
#include "test_helpers.hpp"

using namespace izhinet;
using namespace izhinet::testing;
namespace fs = std::filesystem;

namespace {

/// Clears injected faults when a test ends, however it ends.
struct fault_guard {
  ~fault_guard() { io_faults::clear(); }
};

/// The provenance keys every JSON file carries (json.hpp).
const std::vector<std::string> k_provenance_keys = {
    "program", "version",     "git_commit",    "git_dirty", "build",  "libraries",  "command_line", "working_directory",
    "host",    "config_path", "config_sha256", "backend",   "device", "started_at", "written_at"};

void expect_provenance(const fs::path& file) {
  SCOPED_TRACE(file.string());
  const json j = json::parse(read_text(file));
  ASSERT_TRUE(j.contains("provenance"));
  EXPECT_EQ(j.begin().key(), "provenance") << "provenance comes first";
  std::vector<std::string> keys;
  for (auto it = j["provenance"].begin(); it != j["provenance"].end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, k_provenance_keys);
  EXPECT_EQ(j["provenance"]["program"], "izhinet");
  EXPECT_TRUE(std::regex_match(j["provenance"]["git_commit"].get<std::string>(), std::regex("[0-9a-f]{7,40}|unknown")))
      << j["provenance"]["git_commit"];
}

model_spec small_run() {
  model_spec m = paper_one_population(0.25);
  m.network.n = 200;
  m.run.t_end = 20;
  m.run.record_every = 10;
  m.run.spike_neurons = 200;
  m.meanfield.transient = 5;
  return m;
}

}  // namespace

TEST(Io, NumbersAreShortestAndReadBackExactly) {
  EXPECT_EQ(format_number(0.1), "0.1");
  EXPECT_EQ(format_number(1e-300), "1e-300");
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(12.0), "12");
  EXPECT_EQ(format_number(std::nan("")), "nan");
  EXPECT_EQ(format_number(-INFINITY), "-inf");
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-30, 30);
  for (int k = 0; k < 10000; ++k) {
    const double x = std::ldexp(u(rng), static_cast<int>(u(rng)));
    const std::string s = format_number(x);
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), x) << s;
    EXPECT_LE(s.size(), 24u);
  }
  // times on the step grid: no rounding noise, every step of 1e12 still distinct
  EXPECT_EQ(format_time(2143 * 0.001), "2.143");
  EXPECT_EQ(format_time(0.07), "0.07");
  EXPECT_NE(format_time(999999999999 * 1e-3), format_time(999999999998 * 1e-3));
  EXPECT_EQ(clean_time(2143 * 0.001), 2.143);
}

TEST(Io, AFullDiskCutsTheTornLineAndNamesTheFileAndTheReason) {
  fault_guard g;
  const fs::path d = fresh_temp_dir("torn");
  const std::string path = (d / "torn.csv").string();
  io_faults::inject(io_faults::op::write, "torn.csv", 25, ENOSPC);  // the disk fills after 25 bytes
  line_file f(path);
  f.line("header");                                   // 7 bytes
  for (int k = 0; k < 10; ++k) f.line("0123456789");  // 11 bytes each
  try {
    f.flush();
    FAIL() << "no error on a full disk";
  } catch (const io_error& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_EQ(e.error_number(), ENOSPC);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::strerror(ENOSPC)), std::string::npos) << e.what();
  }
  // 25 bytes reached the file (a partial write): the torn third line is cut
  EXPECT_EQ(read_text(path), "header\n0123456789\n");
  EXPECT_EQ(f.lines(), 2);
  EXPECT_TRUE(f.failed());
  EXPECT_THROW(f.line("more"), io_error);  // every later call fails too
  EXPECT_THROW(f.close(), io_error);
  fs::remove_all(d);
}

TEST(Io, FailuresOfOpenFsyncAndCloseAreErrors) {
  fault_guard g;
  const fs::path d = fresh_temp_dir("sync");
  io_faults::inject(io_faults::op::open, "a.csv", 0, EACCES);
  EXPECT_THROW(line_file((d / "a.csv").string()), io_error);
  io_faults::inject(io_faults::op::fsync, "b.csv", 0, EIO);
  {
    line_file f((d / "b.csv").string());
    f.line("x");
    f.flush();
    try {
      f.close();
      FAIL() << "an fsync error was ignored";
    } catch (const io_error& e) {
      EXPECT_EQ(e.error_number(), EIO);
      EXPECT_NE(std::string(e.what()).find("cannot sync"), std::string::npos) << e.what();
    }
  }
  io_faults::inject(io_faults::op::close, "c.csv", 0, EDQUOT);  // NFS and quotas report late, at close
  line_file f((d / "c.csv").string());
  f.line("x");
  EXPECT_THROW(f.close(), io_error);
  fs::remove_all(d);
}

TEST(Io, AnAtomicWriteThatFailsKeepsTheOldFile) {
  fault_guard g;
  const fs::path d = fresh_temp_dir("atomic");
  const std::string path = (d / "s.json").string();
  write_file_atomic(path, "old contents\n");
  io_faults::inject(io_faults::op::write, "s.json", 3, ENOSPC);
  EXPECT_THROW(write_file_atomic(path, "new contents, longer\n"), io_error);
  EXPECT_EQ(read_text(path), "old contents\n");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  io_faults::clear();
  // After an error a status file may be rewritten in place (no room for a copy).
  io_faults::inject(io_faults::op::write, ".tmp", 0, ENOSPC);
  EXPECT_TRUE(write_json_after_error(path, json{{"status", "io_error"}}));
  EXPECT_EQ(json::parse(read_text(path))["status"], "io_error");
  fs::remove_all(d);
}

TEST(Io, ARunStopsAtOnceOnAFullDiskAndSaysHowFarItsFilesAreValid) {
  fault_guard g;
  const model_spec spec = small_run();
  for (const char* which : {"timeseries.csv", "spikes.csv"}) {
    SCOPED_TRACE(which);
    const fs::path d = fresh_temp_dir("full");
    io_faults::inject(io_faults::op::write, which, std::string(which) == "spikes.csv" ? 400 : 3000, ENOSPC);
    auto be = make_cpu_backend(1);
    const auto reps = default_replicas(spec);
    be->setup(spec, reps);
    csv_sink csv(d.string(), spec, 1);
    simulation_options o;
    o.progress_seconds = 0;
    o.chunk_seconds = 1e-4;  // many small chunks, so the failure comes mid-run
    try {
      simulate(spec, *be, reps, csv, o);
      FAIL() << "the run went on after a failed write";
    } catch (const io_error& e) {
      EXPECT_NE(e.path().find(which), std::string::npos) << e.what();
    }
    io_faults::clear();
    const double valid = csv.valid_until();
    EXPECT_GT(valid, 0.0);
    EXPECT_LT(valid, spec.run.t_end) << "it stopped at once";
    for (const char* f : {"timeseries.csv", "spikes.csv"}) {
      const std::string text = read_text(d / f);
      ASSERT_FALSE(text.empty());
      EXPECT_EQ(text.back(), '\n') << f << " ends in a torn line";
    }
    // every row up to valid_until is there, on the recording grid: header, t = 0, then row k at k record_every dt
    const auto rows = read_lines(d / "timeseries.csv");
    const int64_t expect = 1 + std::llround(valid / (spec.run.record_every * spec.run.dt));
    ASSERT_GE(static_cast<int64_t>(rows.size()) - 1, expect);
    EXPECT_EQ(std::strtod(rows[1].c_str(), nullptr), 0.0);
    EXPECT_DOUBLE_EQ(std::strtod(rows[expect].c_str(), nullptr), valid);
    // every spike written has t <= the last complete row, and the run reached valid_until in spikes too
    double last_spike = 0;
    for (const auto& l : read_lines(d / "spikes.csv"))
      if (l[0] != 't') last_spike = std::max(last_spike, std::strtod(l.c_str(), nullptr));
    EXPECT_LE(last_spike, std::strtod(rows.back().c_str(), nullptr));
    EXPECT_GT(last_spike, valid - 2.0) << "spikes are written up to valid_until";
    fs::remove_all(d);
  }
}

TEST(Io, TheValidatorReportsAFailedWriteInsteadOfAVerdict) {
  fault_guard g;
  model_spec spec = small_run();
  const fs::path d = fresh_temp_dir("val");
  // The mean field is streamed to meanfield.csv by the validator's thread: the disk fills during the run.
  io_faults::inject(io_faults::op::write, "meanfield.csv", 2000, ENOSPC);
  auto be = make_cpu_backend(1);
  const auto reps = default_replicas(spec);
  be->setup(spec, reps);
  validator_options vo;
  vo.out_dir = d.string();
  validator v(spec, vo);
  validating_sink sink({&v});
  simulation_options o;
  o.progress_seconds = 0;
  o.chunk_seconds = 1e-4;
  try {
    simulate(spec, *be, reps, sink, o);  // push() carries the thread's error to the run
    v.finish();
    FAIL() << "a failed write of the validator was not an error";
  } catch (const io_error& e) {
    EXPECT_NE(e.path().find("meanfield.csv"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(d / "validation.json")) << "a verdict was written after a failed write";
  const std::string csv = read_text(d / "meanfield.csv");
  ASSERT_FALSE(csv.empty());
  EXPECT_EQ(csv.back(), '\n');
  fs::remove_all(d);
}

TEST(Io, AnOutputFolderIsLockedAndTheSecondUserIsToldThePid) {
  const fs::path d = fresh_temp_dir("lock");
  {
    const output_folder a(d.string(), output_folder::existing::refuse);
    try {
      const output_folder b(d.string(), output_folder::existing::resume);
      FAIL() << "two holders of one folder";
    } catch (const busy_error& e) {
      EXPECT_EQ(e.holder_pid, static_cast<long>(getpid()));
      EXPECT_NE(std::string(e.what()).find("PID " + std::to_string(getpid())), std::string::npos) << e.what();
    }
  }
  // released with its holder (the kernel releases it for a killed process too)
  EXPECT_NO_THROW(output_folder(d.string(), output_folder::existing::resume));
  fs::remove_all(d);
}

TEST(Io, AFolderHoldsOneRun) {
  const fs::path d = fresh_temp_dir("one_run");
  write_file_atomic((d / "summary.json").string(), "{}\n");
  fs::create_directories(d / "replica_3");
  write_file_atomic((d / "replica_3" / "timeseries.csv").string(), "t\n");
  try {
    const output_folder f(d.string(), output_folder::existing::refuse);
    FAIL() << "a folder with another run was accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "--out");
    EXPECT_NE(std::string(e.what()).find("--overwrite"), std::string::npos) << e.what();
  }
  { const output_folder f(d.string(), output_folder::existing::overwrite); }
  EXPECT_FALSE(fs::exists(d / "summary.json"));
  EXPECT_FALSE(fs::exists(d / "replica_3"));
  // A folder izhinet did not make, with a file izhinet does not write: never deleted.
  const fs::path e = fresh_temp_dir("foreign");
  write_file_atomic((e / "notes.txt").string(), "mine\n");
  write_file_atomic((e / "summary.json").string(), "{}\n");
  try {
    const output_folder f(e.string(), output_folder::existing::overwrite);
    FAIL() << "--overwrite would have deleted notes.txt";
  } catch (const config_error& err) {
    EXPECT_EQ(err.key(), "--overwrite");
    EXPECT_NE(std::string(err.what()).find("notes.txt"), std::string::npos) << err.what();
  }
  EXPECT_TRUE(fs::exists(e / "notes.txt"));
  fs::remove_all(d);
  fs::remove_all(e);
}

TEST(Io, EveryJsonFileCarriesTheSameProvenance) {
  const fs::path d = fresh_temp_dir("prov");
  set_config_source("configs/x.toml", "abc");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
  write_json((d / "plain.json").string(), json{{"x", 0.1}, {"y", 1e-300}, {"nan", std::nan("")}});
  expect_provenance(d / "plain.json");
  const std::string text = read_text(d / "plain.json");
  EXPECT_NE(text.find("\"x\": 0.1,"), std::string::npos) << "shortest round-trip numbers";
  EXPECT_NE(text.find("\"y\": 1e-300"), std::string::npos) << text;
  EXPECT_NE(text.find("\"nan\": null"), std::string::npos) << text;
  EXPECT_EQ(json::parse(text)["provenance"]["config_sha256"], sha256_hex("abc"));

  model_spec spec = small_run();
  spec.run.t_end = 20;
  EXPECT_EQ(run_mf_command(spec, (d / "mf").string()), exit_ok);
  expect_provenance(d / "mf" / "equilibria.json");
  expect_provenance(d / "mf" / "summary.json");
  run_validated(spec, 1, (d / "val").string());
  expect_provenance(d / "val" / "validation.json");
  study_params st{{100, 200}, 1, {sampling_kind::quantiles}};
  ASSERT_EQ(run_study(
                spec, st, (d / "fs").string(), [] { return make_cpu_backend(1); }, nullptr, 0),
            exit_ok);
  expect_provenance(d / "fs" / "finite_size.json");
  expect_provenance(d / "fs" / "runs" / "n100_quantiles_seed1.json");
  fs::remove_all(d);
}

TEST(Io, AStudyMarksARunNotDoneWhenItsWriteUpFailsAndARerunRedoesIt) {
  fault_guard g;
  const fs::path d = fresh_temp_dir("study_io");
  model_spec spec = small_run();
  spec.run.t_end = 20;
  const study_params st{{100, 200}, 2, {sampling_kind::random}};
  auto cpu = [] { return make_cpu_backend(1); };
  // the write-up of the second run (N = 100, seed 2) fails
  io_faults::inject(io_faults::op::write, "n100_random_seed2", 200, ENOSPC);
  EXPECT_THROW(run_study(spec, st, d.string(), cpu, nullptr, 0), io_error);
  io_faults::clear();
  auto rows = read_study_csv((d / "finite_size.csv").string(), 1);
  std::set<std::string> done;
  for (const auto& r : rows) done.insert(std::to_string(r.n) + "/" + std::to_string(r.seed));
  EXPECT_EQ(done.count("100/1"), 1u);
  EXPECT_EQ(done.count("100/2"), 0u) << "a run whose write-up failed is not done";
  // finite_size.csv itself fills up while a row is appended: the torn row is cut
  io_faults::inject(io_faults::op::write, "finite_size.csv", 40, ENOSPC);
  EXPECT_THROW(run_study(spec, st, d.string(), cpu, nullptr, 0), io_error);
  io_faults::clear();
  EXPECT_EQ(read_text(d / "finite_size.csv").back(), '\n');
  ASSERT_EQ(run_study(spec, st, d.string(), cpu, nullptr, 0), exit_ok);
  rows = read_study_csv((d / "finite_size.csv").string(), 1);
  EXPECT_EQ(rows.size(), 4u) << "every run exactly once";
  done.clear();
  for (const auto& r : rows) done.insert(std::to_string(r.n) + "/" + std::to_string(r.seed));
  EXPECT_EQ(done.size(), 4u);
  fs::remove_all(d);
}

TEST(Io, ABadLineOfAStudyNamesTheFileAndTheLine) {
  const fs::path d = fresh_temp_dir("garbage");
  const std::string path = (d / "finite_size.csv").string();
  std::string good = study_csv_header(1) + "\n";
  study_row r;
  r.n = 100;
  r.seed = 1;
  r.status = "completed";
  r.regime_net = r.regime_mf = "equilibrium";
  r.nrms.assign(4, 0.1);
  r.dmean.assign(4, 0.1);
  r.sdiff.assign(4, 0.1);
  good += study_csv_line(r) + "\n";
  write_file_atomic(path, good + "200,random,x1,completed" + std::string(good.size() - good.find('\n'), ',') + "\n");
  try {
    read_study_csv(path, 1);
    FAIL() << "a garbage line was read";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  write_file_atomic(path, good + study_csv_line(r).replace(0, 3, "abc") + "\n");
  try {
    read_study_csv(path, 1);
    FAIL() << "a garbage line was read";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3: n 'abc'"), std::string::npos) << e.what();
  }
  // a torn last line (a killed study) is not an error: it is not a finished run
  write_file_atomic(path, good + "200,random,2,compl");
  EXPECT_EQ(read_study_csv(path, 1).size(), 1u);
  fs::remove_all(d);
}

TEST(Io, ConfigurationsMustBeSmallRegularFiles) {
  const fs::path d = fresh_temp_dir("cfg");
  auto key_of = [](const std::string& path) {
    try {
      read_config_file(path);
    } catch (const config_error& e) {
      return e.key() + " | " + e.what();
    }
    return std::string("<no error>");
  };
  EXPECT_NE(key_of("/dev/zero").find("not a regular file"), std::string::npos);
  EXPECT_NE(key_of(d.string()).find("a folder"), std::string::npos);
  const std::string fifo = (d / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(key_of(fifo).find("not a regular file"), std::string::npos);  // and it did not wait for a writer
  const std::string big = (d / "big.toml").string();
  { std::ofstream(big) << "x"; }
  fs::resize_file(big, (64 << 20) + 1);  // sparse: no disk used
  EXPECT_NE(key_of(big).find("at most 67108864"), std::string::npos) << key_of(big);
  EXPECT_EQ(key_of(big).rfind("--config", 0), 0u);
  fs::remove_all(d);
}
