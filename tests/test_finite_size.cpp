// Finite-size studies: resumable, refuse foreign folders, same numbers alone
// or inside a study, bad input named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "izhinet/errors.hpp"
#include "izhinet/config.hpp"
#include "izhinet/finite_size.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/simulation.hpp"
#include "izhinet/validator.hpp"
#include "test_helpers.hpp"

using namespace izhinet;
namespace fs = std::filesystem;

namespace {

model_spec small_spec() {
  model_spec m = paper_one_population(0.25);
  m.run.t_end = 40;
  m.run.record_every = 50;
  m.meanfield.transient = 10;
  return m;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("izhinet_fs_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d;
}

auto cpu = [] { return make_cpu_backend(1); };

std::vector<std::string> lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST(FiniteSize, ParsesAndRejectsLists) {
  EXPECT_EQ(parse_n_list("1000,100,1e4"), (std::vector<int64_t>{100, 1000, 10000}));
  for (const char* bad : {"", "0", "-5", "abc", "1.5", "100,,200"}) {
    try {
      parse_n_list(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const config_error& e) {
      EXPECT_EQ(e.key(), "--n") << bad;
    }
  }
  EXPECT_EQ(parse_sampling_list("quantiles,random").size(), 2u);
  EXPECT_THROW(parse_sampling_list("sobol"), config_error);
  EXPECT_THROW(parse_sampling_list(""), config_error);
}

TEST(FiniteSize, RejectsNoSeedsAndForeignFolders) {
  const fs::path d = fresh_dir("foreign");
  study_params st{{100, 200}, 2, {sampling_kind::random}};
  study_params zero = st;
  zero.seeds = 0;
  EXPECT_THROW(run_study(small_spec(), zero, d.string(), cpu, nullptr, 0), config_error);
  ASSERT_EQ(run_study(small_spec(), st, d.string(), cpu, nullptr, 0), 0);
  model_spec other = small_spec();
  other.populations[0].eta_bar = 0.3;
  try {
    run_study(other, st, d.string(), cpu, nullptr, 0);
    ADD_FAILURE() << "a study with different parameters was accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "--out");
    EXPECT_NE(std::string(e.what()).find("eta_bar"), std::string::npos) << e.what();
  }
  study_params more = st;
  more.seeds = 3;
  EXPECT_THROW(run_study(small_spec(), more, d.string(), cpu, nullptr, 0), config_error);
  fs::remove_all(d);
}

TEST(FiniteSize, ResumesWithoutRerunningOrLosingRuns) {
  const fs::path d = fresh_dir("resume");
  study_params st{{100, 200}, 2, {sampling_kind::random, sampling_kind::quantiles}};
  ASSERT_EQ(run_study(small_spec(), st, d.string(), cpu, nullptr, 0), 0);
  const auto full = lines(d / "finite_size.csv");
  ASSERT_EQ(full.size(), 1u + 2 * 2 + 2);  // header, random 2 N x 2 seeds, quantiles 2 N
  // A killed study: the last finished run is missing and a torn line follows.
  {
    std::ofstream out(d / "finite_size.csv", std::ios::trunc);
    for (size_t k = 0; k + 1 < full.size(); ++k) out << full[k] << "\n";
    out << "200,random,2,compl";
  }
  // ... and its study.txt written before numbers were written in the shortest form (17 digits).
  {
    std::ifstream in(d / "study.txt", std::ios::binary);
    const std::string id((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto cut = id.find("[network]");
    ASSERT_NE(cut, std::string::npos) << id;
    const std::string legacy = id.substr(0, cut) + to_toml_legacy(load_config_string(id.substr(cut)));
    ASSERT_NE(legacy, id);
    std::ofstream(d / "study.txt", std::ios::binary | std::ios::trunc) << legacy;
  }
  ASSERT_EQ(run_study(small_spec(), st, d.string(), cpu, nullptr, 0), 0);
  const auto again = lines(d / "finite_size.csv");
  auto rows = read_study_csv((d / "finite_size.csv").string(), 1);
  EXPECT_EQ(rows.size(), full.size() - 1) << "every run exactly once";
  // the rerun reproduces the lost row exactly, apart from its wall time
  auto strip_wall = [](const std::string& l) {
    std::string out;
    int field = 0;
    for (char c : l) {
      if (c == ',') ++field;
      if (field != 8 || c == ',') out += c;
    }
    return out;
  };
  bool found = false;
  for (const auto& l : again)
    if (strip_wall(l) == strip_wall(full.back())) found = true;
  EXPECT_TRUE(found) << full.back();
  EXPECT_TRUE(fs::exists(d / "finite_size.json"));
  fs::remove_all(d);
}

TEST(FiniteSize, ARunGivesTheSameNumbersAloneAndInsideAStudy) {
  const fs::path d = fresh_dir("alone");
  model_spec m = small_spec();
  study_params st{{150}, 3, {sampling_kind::random}};
  ASSERT_EQ(run_study(m, st, d.string(), cpu, nullptr, 0), 0);
  const auto rows = read_study_csv((d / "finite_size.csv").string(), 1);
  ASSERT_EQ(rows.size(), 3u);
  // seed network.seed + 1, run alone (one replica) and validated the same way
  m.network.n = 150;
  m.network.sampling = sampling_kind::random;
  m.network.seed = 2;
  const validation_report rep = izhinet::testing::run_validated(m, 2, "");
  const study_row* row = nullptr;
  for (const auto& r : rows)
    if (r.seed == 2) row = &r;
  ASSERT_NE(row, nullptr);
  for (int var = 0; var < 4; ++var) {
    EXPECT_NEAR(row->nrms[var], rep.vs_exact.pops[0].nrms[var], 1e-9 * std::max(1.0, row->nrms[var]));
    EXPECT_NEAR(row->dmean[var], std::fabs(rep.vs_exact.pops[0].matched_mean_diff[var]), 1e-9);
  }
  fs::remove_all(d);
}
