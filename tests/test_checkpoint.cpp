// Checkpoints: the backends' state export/import, the checkpoint file format,
// and `izhinet run --resume` (byte-identical outputs after a stop).
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "izhinet/backend.hpp"
#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/simulation.hpp"
#include "test_helpers.hpp"

using namespace izhinet;

namespace {

model_spec two_pop_spec(scheme_kind scheme) {
  model_spec m = load_config_string(R"(
[network]
n = 1000
replicas = 2
sampling = "random"
[[population]]
fraction = 0.6
eta_bar = 0.12
delta = 0.02
alpha = 0.6215
a = 0.0077
b = -0.0062
w_jump = 0.0189
[[population]]
fraction = 0.4
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

/// Advances `records` records from `first_step` with constant zero input (the spec's I_ext is constant).
chunk_result advance(backend& be, const model_spec& m, int records, int64_t first_step) {
  const int P = m.num_populations();
  std::vector<double> input(static_cast<size_t>(records * m.run.record_every) * P);
  for (int64_t k = 0; k < records * m.run.record_every; ++k)
    for (int i = 0; i < P; ++i) input[k * P + i] = m.populations[i].I_ext.at((first_step + k) * m.run.dt);
  chunk_result out;
  be.advance(records, first_step, input, out);
  return out;
}

void expect_same_chunk(const chunk_result& a, const chunk_result& b) {
  ASSERT_EQ(a.records, b.records);
  EXPECT_EQ(a.step_spikes, b.step_spikes);
  ASSERT_EQ(a.moments.size(), b.moments.size());
  for (size_t k = 0; k < a.moments.size(); ++k) {
    EXPECT_EQ(std::memcmp(&a.moments[k], &b.moments[k], sizeof(pop_moments)), 0) << "moment " << k;
  }
  ASSERT_EQ(a.spikes.size(), b.spikes.size());
  for (size_t k = 0; k < a.spikes.size(); ++k) EXPECT_EQ(a.spikes[k].step, b.spikes[k].step);
}

}  // namespace

// A backend set up afresh and given another backend's state continues bit for bit as the
// original does (other thread count: the state is in the global layout, not the split's).
TEST(BackendState, CpuSetStateContinuesBitIdentically) {
  for (auto scheme : {scheme_kind::paper, scheme_kind::exact}) {
    const model_spec m = two_pop_spec(scheme);
    const auto reps = default_replicas(m);
    auto a = make_cpu_backend(2);
    a->setup(m, reps);
    const int half = 1000;
    const chunk_result first = advance(*a, m, half, 0);
    ASSERT_GT(std::accumulate(first.step_spikes.begin(), first.step_spikes.end(), 0ull), 0ull) << "vacuous: no spikes";
    backend_state st;
    a->get_state(st);
    ASSERT_EQ(st.arrays.size(), scheme == scheme_kind::exact ? 4u : 3u);  // exact: also s_prev
    EXPECT_NE(st.find(state_x_name(m)), nullptr);
    EXPECT_EQ(st.find("w")->values.size(), 2000u);
    EXPECT_EQ(st.find("s")->values.size(), 4u);
    // The per-replica accessor and the global layout agree (replica 1 starts at 1000).
    std::vector<double> x1, w1;
    a->get_state(1, x1, w1);
    const auto& gx = st.find(state_x_name(m))->values;
    EXPECT_TRUE(std::equal(x1.begin(), x1.end(), gx.begin() + 1000));
    EXPECT_EQ(a->get_s(1)[1], st.find("s")->values[3]);

    auto b = make_cpu_backend(1);
    b->setup(m, reps);
    b->set_state(st);
    const chunk_result ca = advance(*a, m, half, half * m.run.record_every);
    const chunk_result cb = advance(*b, m, half, half * m.run.record_every);
    expect_same_chunk(ca, cb);
    // Without the state the second half differs (the comparison can fail).
    auto c = make_cpu_backend(1);
    c->setup(m, reps);
    const chunk_result cc = advance(*c, m, half, half * m.run.record_every);
    EXPECT_NE(ca.step_spikes, cc.step_spikes);
  }
}

TEST(BackendState, SetStateRefusesWrongArrays) {
  const model_spec m = two_pop_spec(scheme_kind::paper);
  const auto reps = default_replicas(m);
  auto be = make_cpu_backend(1);
  be->setup(m, reps);
  backend_state st;
  be->get_state(st);
  backend_state shorter = st;
  shorter.arrays[1].values.pop_back();
  EXPECT_THROW(be->set_state(shorter), user_error);
  backend_state renamed = st;
  renamed.arrays[0].name = "p";  // an exact-scheme state on a paper-scheme network
  EXPECT_THROW(be->set_state(renamed), user_error);
  backend_state missing = st;
  missing.arrays.pop_back();
  EXPECT_THROW(be->set_state(missing), user_error);
  EXPECT_NO_THROW(be->set_state(st));
}
