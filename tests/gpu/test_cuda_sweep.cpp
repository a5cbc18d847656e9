// izhinet sweep on the GPU: the values as replicas of one launch (direction
// none) and carried from value to value (direction both) give the same rows as
// on the CPU, to 1e-9 (wall time aside).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/config.hpp"
#include "izhinet/sweep.hpp"

using namespace izhinet;
namespace fs = std::filesystem;

namespace {

std::vector<std::vector<std::string>> read_rows(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    rows.push_back(f);
  }
  return rows;
}

void expect_same_rows(const fs::path& a, const fs::path& b) {
  const auto ra = read_rows(a), rb = read_rows(b);
  ASSERT_EQ(ra.size(), rb.size());
  ASSERT_GT(ra.size(), 1u);
  for (size_t i = 0; i < ra.size(); ++i) {
    ASSERT_EQ(ra[i].size(), rb[i].size());
    for (size_t j = 0; j + 1 < ra[i].size(); ++j) {  // the last column is the wall time
      char* e1 = nullptr;
      char* e2 = nullptr;
      const double x = std::strtod(ra[i][j].c_str(), &e1), y = std::strtod(rb[i][j].c_str(), &e2);
      if (i == 0 || *e1 || *e2 || ra[i][j].empty()) {
        EXPECT_EQ(ra[i][j], rb[i][j]) << "row " << i << " column " << ra[0][j];
      } else if (std::isnan(x) || std::isnan(y)) {
        EXPECT_EQ(std::isnan(x), std::isnan(y)) << "row " << i << " column " << ra[0][j];
      } else {
        EXPECT_NEAR(x, y, 1e-9 * std::max(1.0, std::fabs(x))) << "row " << i << " column " << ra[0][j];
      }
    }
  }
}

}  // namespace

TEST(GpuSweep, RowsMatchTheCpu) {
  std::string why;
  if (!cuda_available(&why)) GTEST_SKIP() << why;
  model_spec m = paper_one_population(0.12);
  m.network.n = 2000;
  m.run.dt = 2e-3;
  m.run.t_end = 400;
  m.meanfield.transient = 200;
  const std::string text = to_toml(m);
  const fs::path base = fs::temp_directory_path() / ("izhinet_gsw_" + std::to_string(getpid()));
  fs::remove_all(base);
  for (auto d : {sweep_direction::none, sweep_direction::both}) {
    sweep_params sw;
    sw.key = "population.0.eta_bar";
    sw.values = {0.12, 0.25, 0.3};
    sw.direction = d;
    const fs::path cpu = base / (std::string("cpu_") + to_string(d)), gpu = base / (std::string("gpu_") + to_string(d));
    ASSERT_EQ(run_sweep(
                  text, "<test>", {}, sw, cpu.string(), [] { return make_cpu_backend(2); }, nullptr, 0),
              0);
    ASSERT_EQ(run_sweep(
                  text, "<test>", {}, sw, gpu.string(), [] { return make_cuda_backend(); }, nullptr, 0),
              0);
    expect_same_rows(cpu / "sweep.csv", gpu / "sweep.csv");
  }
  fs::remove_all(base);
}
