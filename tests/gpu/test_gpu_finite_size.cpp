// A finite-size run gives the same numbers as a GPU replica as on the CPU (1e-9).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "izhinet/backend.hpp"
#include "izhinet/finite_size.hpp"

using namespace izhinet;
namespace fs = std::filesystem;

TEST(GpuFiniteSize, ReplicaRunsMatchTheCpuStudy) {
  std::string why;
  if (!cuda_available(&why)) GTEST_SKIP() << why;
  model_spec m = paper_one_population(0.12);
  m.run.t_end = 300;
  m.run.record_every = 50;
  m.meanfield.transient = 50;
  study_params st{{1000, 3000}, 3, {sampling_kind::random, sampling_kind::quantiles}};
  const fs::path base = fs::temp_directory_path() / ("izhinet_gfs_" + std::to_string(getpid()));
  fs::remove_all(base);
  ASSERT_EQ(run_study(
                m, st, (base / "cpu").string(), [] { return make_cpu_backend(4); }, nullptr, 0),
            0);
  ASSERT_EQ(run_study(
                m, st, (base / "gpu").string(), [] { return make_cuda_backend(); }, nullptr, 0),
            0);
  const auto a = read_study_csv((base / "cpu" / "finite_size.csv").string(), 1);
  const auto b = read_study_csv((base / "gpu" / "finite_size.csv").string(), 1);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), 8u);
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].n, b[k].n);
    EXPECT_EQ(a[k].seed, b[k].seed);
    EXPECT_EQ(a[k].regime_net, b[k].regime_net);
    for (int v = 0; v < 4; ++v) {
      EXPECT_NEAR(a[k].nrms[v], b[k].nrms[v], 1e-9 * std::max(1.0, std::fabs(a[k].nrms[v]))) << k << " var " << v;
      EXPECT_NEAR(a[k].dmean[v], b[k].dmean[v], 1e-9 * std::max(1.0, std::fabs(a[k].dmean[v]))) << k << " var " << v;
    }
  }
  fs::remove_all(base);
}
