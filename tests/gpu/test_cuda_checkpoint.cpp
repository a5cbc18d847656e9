// Checkpoint state on the CUDA backend: a fresh device backend given the state
// continues bit for bit (per-neuron state and spike counts; the moments are
// sums in atomic order and are not compared bitwise), and the state moves
// between the CUDA and CPU backends unchanged. Skips without a usable GPU.
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/params.hpp"
#include "izhinet/simulation.hpp"

namespace izhinet {
namespace {

#define SKIP_WITHOUT_GPU_CKPT()                     \
  do {                                              \
    std::string why;                                \
    if (!cuda_available(&why)) GTEST_SKIP() << why; \
  } while (0)

model_spec spec_for(scheme_kind scheme) {
  model_spec m = load_config_string(R"(
[network]
n = 30001
replicas = 2
sampling = "random"
[[population]]
fraction = 0.7
eta_bar = 0.12
delta = 0.02
alpha = 0.6215
a = 0.0077
b = -0.0062
w_jump = 0.0189
[[population]]
fraction = 0.3
eta_bar = 0.12
delta = 0.02
alpha = 0.6215
a = 0.077
b = -0.0062
w_jump = 0.0095
[synapse]
g = [[1.2308, 1.2308], [1.2308, 1.2308]]
e_r = [1.0, 1.0]
tau_s = [2.6, 2.6]
s_jump = [1.2308, 1.2308]
[run]
t_end = 40.0
dt = 0.001
record_every = 10
spike_neurons = 20
)");
  m.run.scheme = scheme;
  return m;
}

std::vector<uint32_t> advance_counts(backend& be, const model_spec& m, int records, int64_t first_step) {
  const int P = m.num_populations();
  std::vector<double> input(static_cast<size_t>(records * m.run.record_every) * P, 0.0);
  chunk_result out;
  be.advance(records, first_step, input, out);
  return out.step_spikes;
}

TEST(CudaCheckpoint, SetStateContinuesBitIdentically) {
  SKIP_WITHOUT_GPU_CKPT();
  for (auto scheme : {scheme_kind::paper, scheme_kind::exact}) {
    const model_spec m = spec_for(scheme);
    const auto reps = default_replicas(m);
    const int half = 1000;
    auto a = make_cuda_backend();
    a->setup(m, reps);
    const auto first = advance_counts(*a, m, half, 0);
    ASSERT_GT(std::accumulate(first.begin(), first.end(), 0ull), 0ull) << "vacuous: no spikes";
    backend_state st;
    a->get_state(st);
    auto b = make_cuda_backend();
    b->setup(m, reps);
    b->set_state(st);
    const auto ca = advance_counts(*a, m, half, half * m.run.record_every);
    const auto cb = advance_counts(*b, m, half, half * m.run.record_every);
    EXPECT_EQ(ca, cb);
    backend_state sa, sb;
    a->get_state(sa);
    b->get_state(sb);
    ASSERT_EQ(sa.arrays.size(), sb.arrays.size());
    for (size_t k = 0; k < sa.arrays.size(); ++k)
      EXPECT_TRUE(sa.arrays[k].values == sb.arrays[k].values) << sa.arrays[k].name;
  }
}

// A checkpoint written by one backend resumes on the other: the state arrays
// cross unchanged (global layout, no device padding).
TEST(CudaCheckpoint, StateMovesBetweenCudaAndCpu) {
  SKIP_WITHOUT_GPU_CKPT();
  const model_spec m = spec_for(scheme_kind::paper);
  const auto reps = default_replicas(m);
  auto gpu = make_cuda_backend();
  gpu->setup(m, reps);
  advance_counts(*gpu, m, 500, 0);
  backend_state from_gpu;
  gpu->get_state(from_gpu);
  auto cpu = make_cpu_backend(2);
  cpu->setup(m, reps);
  cpu->set_state(from_gpu);
  backend_state on_cpu;
  cpu->get_state(on_cpu);
  for (size_t k = 0; k < from_gpu.arrays.size(); ++k)
    EXPECT_TRUE(on_cpu.arrays[k].values == from_gpu.arrays[k].values) << from_gpu.arrays[k].name;
  // and back: CPU state into a fresh device backend
  advance_counts(*cpu, m, 100, 5000);
  cpu->get_state(on_cpu);
  auto gpu2 = make_cuda_backend();
  gpu2->setup(m, reps);
  gpu2->set_state(on_cpu);
  backend_state back;
  gpu2->get_state(back);
  for (size_t k = 0; k < on_cpu.arrays.size(); ++k)
    EXPECT_TRUE(back.arrays[k].values == on_cpu.arrays[k].values) << on_cpu.arrays[k].name;
  // per-replica accessor agrees with the global layout (replica 1 after replica 0's n neurons)
  std::vector<double> v1, w1;
  gpu2->get_state(1, v1, w1);
  EXPECT_TRUE(std::equal(w1.begin(), w1.end(), back.find("w")->values.begin() + m.network.n));
}

}  // namespace
}  // namespace izhinet
