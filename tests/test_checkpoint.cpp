// Checkpoints: the backends' state export/import, the checkpoint file format,
// and `izhinet run --resume` (byte-identical outputs after a stop).
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "izhinet/backend.hpp"
#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/json.hpp"
#include "izhinet/simulation.hpp"
#include "cli_helpers.hpp"
#include "izhinet/checkpoint.hpp"
#include "test_helpers.hpp"

#ifdef IZHINET_HAVE_HDF5
#include <hdf5.h>
#endif

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
    ASSERT_EQ(st.arrays.size(), scheme == scheme_kind::exact ? 4u : 3u);  // exact: also s_drive
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

TEST(BackendState, AnExactStateFromBeforeTheDriveCorrectionIsRefusedByName) {
  // The exact scheme's second per-population array was s_prev (s one step
  // earlier) before s_drive replaced it: such a state is refused with a
  // message naming both, not misread.
  const model_spec m = two_pop_spec(scheme_kind::exact);
  const auto reps = default_replicas(m);
  auto be = make_cpu_backend(1);
  be->setup(m, reps);
  backend_state st;
  be->get_state(st);
  ASSERT_NE(st.find("s_drive"), nullptr);
  backend_state old = st;
  for (auto& a : old.arrays)
    if (a.name == "s_drive") a.name = "s_prev";
  try {
    be->set_state(old);
    ADD_FAILURE() << "a state with s_prev was accepted";
  } catch (const user_error& e) {
    EXPECT_NE(std::string(e.what()).find("s_prev"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("s_drive"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(be->set_state(st));
}

// Over ranks each backend holds slices by global index (partition.hpp): cutting a whole-network state
// into every rank's slices and putting them back gives the state again, and each slice holds the values
// of its own neurons (global index = replica start + population start + first + k, counted here by hand).
TEST(BackendState, SlicesOfRanksCutAndJoinTheWholeState) {
  const model_spec m = two_pop_spec(scheme_kind::exact);
  const auto reps = default_replicas(m);  // 2 replicas of 1000: populations of 600 and 400
  backend_state whole = state_layout(m);
  for (auto& a : whole.arrays) {
    a.values.resize(static_cast<size_t>(state_length(a.per, m, reps)));
    for (size_t k = 0; k < a.values.size(); ++k) a.values[k] = (a.name == "w" ? 1e6 : 0.0) + static_cast<double>(k);
  }
  const int K = 3;
  const int64_t block = 64;
  backend_state joined = whole;
  for (auto& a : joined.arrays)
    if (a.per == state_array::extent::per_neuron) std::fill(a.values.begin(), a.values.end(), -1.0);
  int64_t held_total = 0;
  for (int r = 0; r < K; ++r) {
    std::vector<population_slice> held;
    std::vector<double> expect_x;
    for (int rep = 0; rep < 2; ++rep)
      for (int i = 0; i < 2; ++i) {
        const int64_t n = i == 0 ? 600 : 400, start = rep * 1000 + (i == 0 ? 0 : 600);
        held.push_back(slice_of(n, r, K, block));
        for (int64_t k = 0; k < held.back().count; ++k)
          expect_x.push_back(static_cast<double>(start + held.back().first + k));
      }
    const backend_state part = state_part(whole, m, reps, held);
    EXPECT_EQ(part.find("p")->values, expect_x) << "rank " << r;
    EXPECT_EQ(part.find("w")->values.size(), expect_x.size());
    EXPECT_EQ(part.find("s")->values, whole.find("s")->values) << "per-population arrays stay whole";
    held_total += static_cast<int64_t>(expect_x.size());
    // A state that is already this rank's slice is taken as it is; one of another size is refused.
    EXPECT_EQ(state_part(part, m, reps, held).find("p")->values, expect_x);
    backend_state wrong = part;
    wrong.arrays[0].values.push_back(0.0);
    if (!expect_x.empty() && expect_x.size() + 1 != 2000) {
      EXPECT_THROW(state_part(wrong, m, reps, held), user_error);
    }
    put_state_part(joined, part, m, reps, held);
  }
  EXPECT_EQ(held_total, 2000);
  for (const auto& a : whole.arrays) EXPECT_EQ(joined.find(a.name)->values, a.values) << a.name;
}

// ---------------------------------------------------------------------------
// izhinet run --resume, end to end

namespace {

namespace fs = std::filesystem;
using izhinet::testing::read_text;
using izhinet::testing::run_izhinet;
using izhinet::testing::run_shell;

const std::string k_config = std::string(IZHINET_SOURCE_DIR) + "/configs/paper_two_populations.toml";
/// About a second on one core of the test machine: long enough to be stopped half-way.
const std::string k_sets = " --set network.n=20000 --set run.t_end=30 --progress 0 -b cpu";

/// The files that must come out byte-identical.
const char* k_outputs[] = {"timeseries.csv", "spikes.csv", "meanfield.csv", "meanfield_slow.csv"};

/// The uninterrupted run (once per test binary).
const fs::path& reference_run() {
  static const fs::path dir = [] {
    const fs::path d = izhinet::testing::scratch_dir("ckpt_reference");
    const auto r = run_izhinet("run -c " + k_config + k_sets + " -t 2 --overwrite -o " + d.string());
    EXPECT_EQ(r.status, 0) << r.out;
    return d;
  }();
  return dir;
}

/// Starts a run in the background, waits for its first checkpoint, then sends
/// `signal` (after `extra_wait` seconds); returns the run's exit status.
int run_and_stop(const fs::path& dir, int threads, const std::string& signal, double extra_wait,
                 const std::string& more = "") {
  const std::string script = std::string(IZHINET_BINARY) + " run -c " + k_config + k_sets + more + " -t " +
                             std::to_string(threads) + " -o " + dir.string() + " & pid=$!; for i in $(seq 3000); do " +
                             "[ -e " + (dir / checkpoint_name).string() + " ] && break; sleep 0.01; done; sleep " +
                             std::to_string(extra_wait) + "; kill -" + signal + " $pid; wait $pid; echo status=$?";
  const auto r = run_shell(script);
  const auto at = r.out.rfind("status=");
  EXPECT_NE(at, std::string::npos) << r.out;
  return at == std::string::npos ? -1 : std::stoi(r.out.substr(at + 7));
}

void expect_same_outputs(const fs::path& a, const fs::path& b) {
  for (const char* f : k_outputs) {
    const std::string x = read_text(a / f), y = read_text(b / f);
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_TRUE(x == y) << f << " differs: " << x.size() << " vs " << y.size() << " bytes";
  }
}

/// Every file of a folder and its bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> m;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != ".izhinet.lock")
      m[fs::relative(e.path(), dir).string()] = read_text(e.path());
  return m;
}

}  // namespace

// Run to T; run, stop by SIGTERM part-way, resume to T (other thread counts):
// the outputs are byte for byte those of the uninterrupted run.
TEST(Resume, SigtermThenResumeGivesByteIdenticalOutputs) {
  const fs::path ref = reference_run();
  for (const auto& [stop_threads, resume_threads] : {std::pair{1, 2}, std::pair{2, 1}}) {
    const fs::path d = izhinet::testing::scratch_dir("ckpt_term" + std::to_string(stop_threads));
    // --checkpoint-every only to know when the run is under way; the signal writes its own checkpoint.
    ASSERT_EQ(run_and_stop(d, stop_threads, "TERM", 0.05, " --checkpoint-every 1"), 130)
        << "the run was not stopped by the signal";
    const checkpoint_data c = read_checkpoint((d / checkpoint_name).string());
    EXPECT_GT(c.steps_done, 0);
    EXPECT_LT(c.steps_done, 30000) << "stopped at the end: the test would be vacuous";
    EXPECT_NE(read_text(d / "timeseries.csv"), read_text(ref / "timeseries.csv"));
    const auto r =
        run_izhinet("run --resume " + d.string() + " --progress 0 -b cpu -t " + std::to_string(resume_threads));
    ASSERT_EQ(r.status, 0) << r.out;
    expect_same_outputs(ref, d);
  }
}

// SIGUSR1 (what batch systems send before the limit) also writes a checkpoint and stops.
TEST(Resume, Sigusr1WritesACheckpoint) {
  const fs::path d = izhinet::testing::scratch_dir("ckpt_usr1");
  ASSERT_EQ(run_and_stop(d, 1, "USR1", 0.05, " --checkpoint-every 1"), 130);
  const auto r = run_izhinet("run --resume " + d.string() + " --progress 0 -b cpu -t 2");
  ASSERT_EQ(r.status, 0) << r.out;
  expect_same_outputs(reference_run(), d);
}

// --checkpoint-every, then SIGKILL (no chance to write anything): the outputs
// run past the last checkpoint and are cut back on resume.
TEST(Resume, SigkillAfterPeriodicCheckpointResumesByteIdentically) {
  const fs::path d = izhinet::testing::scratch_dir("ckpt_kill");
  ASSERT_EQ(run_and_stop(d, 1, "KILL", 0.3, " --checkpoint-every 4"), 128 + 9);
  const checkpoint_data c = read_checkpoint((d / checkpoint_name).string());
  EXPECT_EQ(c.steps_done % 4000, 0) << "a periodic checkpoint lies on a multiple of 4 time units";
  ASSERT_LT(c.steps_done, 30000);
  const auto r = run_izhinet("run --resume " + d.string() + " --progress 0 -b cpu -t 2");
  ASSERT_EQ(r.status, 0) << r.out;
  expect_same_outputs(reference_run(), d);
}

// A resume with a later run.t_end extends the run: the same as one run to the later time.
TEST(Resume, LaterTEndExtendsTheRun) {
  const fs::path d = izhinet::testing::scratch_dir("ckpt_extend");
  auto r = run_izhinet("run -c " + k_config +
                       " --set network.n=20000 --set run.t_end=15 --progress 0 -b cpu -t 2 --checkpoint-every 15 -o " +
                       d.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(read_checkpoint((d / checkpoint_name).string()).steps_done, 15000);
  // the checkpoint's size in a human unit (not "0.0 MiB" for kilobytes)
  EXPECT_NE(r.out.find(" KiB; state copied"), std::string::npos) << r.out;
  r = run_izhinet("run --resume " + d.string() + " --set run.t_end=30 --progress 0 -b cpu -t 1");
  ASSERT_EQ(r.status, 0) << r.out;
  // the steps run this time, and the total
  EXPECT_NE(r.out.find("done: 15000 steps in "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(30000 in all, 15000 before the resume)"), std::string::npos) << r.out;
  expect_same_outputs(reference_run(), d);
}

// What a user gets wrong around resuming: each refusal names the option and says what is wrong.
TEST(Resume, RefusalsNameTheOptionAndTheCause) {
  const fs::path d = izhinet::testing::scratch_dir("ckpt_refusals");
  // --checkpoint-every must be a positive time; a time below one recording interval is a warning.
  for (const char* bad : {"0", "-5", "nan", "abc"}) {
    const auto r =
        run_izhinet("run -c " + k_config + k_sets + " --checkpoint-every " + bad + " --overwrite -o " + d.string());
    EXPECT_EQ(r.status, 2) << bad << ": " << r.out;
    EXPECT_EQ(izhinet::testing::count_lines_with(r.out, "[error]"), 1) << r.out;
    EXPECT_NE(r.out.find("--checkpoint-every"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("positive"), std::string::npos) << r.out;
  }
  auto r = run_izhinet("run -c " + k_config + k_sets + " --set run.t_end=2 --checkpoint-every 0.001 --overwrite -o " +
                       d.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("shorter than one recording interval"), std::string::npos) << r.out;
  // A --resume folder that does not exist is named as such.
  r = run_izhinet("run --resume " + (d / "no_such_run").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--resume: folder"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
  // A --resume folder in use by another process: exit status 6, naming --resume (not --out).
  const auto locked = run_shell("flock " + (d / ".izhinet.lock").string() + " " + std::string(IZHINET_BINARY) +
                                " run --resume " + d.string() + " --set run.t_end=3 --progress 0 -b cpu 2>&1");
  EXPECT_EQ(locked.status, 6) << locked.out;
  EXPECT_NE(locked.out.find("--resume: folder"), std::string::npos) << locked.out;
  EXPECT_NE(locked.out.find("in use by another izhinet process"), std::string::npos) << locked.out;
  EXPECT_EQ(locked.out.find("--out"), std::string::npos) << locked.out;
}

// Truncated, one flipped byte, another format version, a foreign file, another
// configuration: one clear error line, exit status 2, no file changed.
TEST(Resume, DamagedOrForeignCheckpointsAreRefusedAndNothingChanges) {
  const fs::path d = izhinet::testing::scratch_dir("ckpt_bad");
  ASSERT_EQ(run_and_stop(d, 1, "TERM", 0.05, " --checkpoint-every 1"), 130);
  const fs::path ck = d / checkpoint_name;
  const std::string good = read_text(ck);
  ASSERT_GT(good.size(), 100u);
  struct bad_case {
    std::string name, bytes, sets, expect;
  };
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  std::string version = good;
  version[8] = 7;
  std::vector<bad_case> cases{
      {"truncated", good.substr(0, good.size() - 100), "", "truncated"},
      {"flipped byte", flipped, "", "checksum"},
      {"wrong version", version, "", "format version 7"},
      {"foreign file", std::string(4096, 'x'), "", "not an izhinet checkpoint"},
      {"other configuration", good, " --set network.n=1000", "another configuration"},
      {"other model", good, " --set population.0.eta_bar=0.2", "another configuration"},
  };
  for (const auto& bc : cases) {
    {
      std::ofstream o(ck, std::ios::binary | std::ios::trunc);
      o << bc.bytes;
    }
    const auto before = snapshot(d);
    const auto r = run_izhinet("run --resume " + d.string() + bc.sets + " -b cpu -t 1");
    EXPECT_EQ(r.status, 2) << bc.name << ": " << r.out;
    EXPECT_EQ(izhinet::testing::count_lines_with(r.out, "[error]"), 1) << bc.name << ": " << r.out;
    EXPECT_NE(r.out.find(bc.expect), std::string::npos) << bc.name << ": " << r.out;
    EXPECT_NE(r.out.find(checkpoint_name), std::string::npos) << bc.name << ": names the file: " << r.out;
    EXPECT_TRUE(snapshot(d) == before) << bc.name << ": a file changed";
  }
  // The good checkpoint still resumes (the refusals left everything usable).
  {
    std::ofstream o(ck, std::ios::binary | std::ios::trunc);
    o << good;
  }
  const auto r = run_izhinet("run --resume " + d.string() + " --progress 0 -b cpu -t 2");
  ASSERT_EQ(r.status, 0) << r.out;
  expect_same_outputs(reference_run(), d);
}

#ifdef IZHINET_HAVE_HDF5
namespace {
/// A dataset of run.h5: its shape and its values' bytes (in their native type), read with the C API.
struct h5_data {
  std::vector<hsize_t> dims;
  std::vector<char> bytes;
  bool operator==(const h5_data& o) const { return dims == o.dims && bytes == o.bytes; }
};
h5_data read_h5(const fs::path& file, const char* name) {
  h5_data d;
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0) << file;
  if (f < 0) return d;
  const hid_t set = H5Dopen2(f, name, H5P_DEFAULT);
  EXPECT_GE(set, 0) << name;
  if (set >= 0) {
    const hid_t space = H5Dget_space(set), type = H5Dget_type(set);
    const hid_t native = H5Tget_native_type(type, H5T_DIR_ASCEND);
    d.dims.resize(static_cast<size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, d.dims.data(), nullptr);
    d.bytes.resize(static_cast<size_t>(H5Sget_simple_extent_npoints(space)) * H5Tget_size(native));
    if (!d.bytes.empty()) {
      EXPECT_GE(H5Dread(set, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.bytes.data()), 0) << name;
    }
    H5Tclose(native);
    H5Tclose(type);
    H5Sclose(space);
    H5Dclose(set);
  }
  H5Fclose(f);
  return d;
}
}  // namespace
#endif

// run.format = "hdf5" resumes: a run to t = 5 (its final checkpoint), resumed to 7.5 (no checkpoint:
// run.h5 now runs past checkpoint.bin, as after a kill), resumed again to 10: the datasets are cut back
// to the checkpoint's sizes and continued, and equal those of one run to 10 (C API read-back).
TEST(Resume, Hdf5RunIsCutBackAndContinued) {
#ifndef IZHINET_HAVE_HDF5
  GTEST_SKIP() << "SKIPPED: this build has no HDF5";
#else
  const std::string sets = " --set network.n=20000 --set run.format='\"hdf5\"' --progress 0 -b cpu -t 1";
  const fs::path ref = izhinet::testing::scratch_dir("ckpt_h5_ref"), d = izhinet::testing::scratch_dir("ckpt_h5");
  auto r = run_izhinet("run -c " + k_config + sets + " --set run.t_end=10 --overwrite -o " + ref.string());
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_izhinet("run -c " + k_config + sets + " --set run.t_end=5 --checkpoint-every 5 --overwrite -o " + d.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(read_checkpoint((d / checkpoint_name).string()).steps_done, 5000);
  r = run_izhinet("run --resume " + d.string() + " --set run.t_end=7.5 --progress 0 -b cpu -t 1");
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_EQ(read_h5(d / "run.h5", "timeseries").dims.at(1), 751u) << "the t = 0 row and 750 rows to t = 7.5";
  r = run_izhinet("run --resume " + d.string() + " --set run.t_end=10 --progress 0 -b cpu -t 1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("resuming from"), std::string::npos) << r.out;
  for (const char* name : {"timeseries", "spikes/t", "spikes/replica", "spikes/population", "spikes/neuron",
                           "eta/replica", "eta/population", "eta/neuron", "eta/eta"}) {
    const h5_data a = read_h5(ref / "run.h5", name), b = read_h5(d / "run.h5", name);
    EXPECT_FALSE(a.bytes.empty()) << name;
    EXPECT_TRUE(a == b) << name << " differs: " << a.bytes.size() << " vs " << b.bytes.size() << " bytes";
  }
  EXPECT_EQ(read_h5(ref / "run.h5", "timeseries").dims.at(1), 1001u);
  for (const char* f : {"meanfield.csv", "meanfield_slow.csv"})
    EXPECT_TRUE(read_text(ref / f) == read_text(d / f)) << f << " differs";
  // A run.h5 whose datasets are shorter than at the checkpoint is refused, and nothing changes.
  r = run_izhinet("run -c " + k_config + sets + " --set run.t_end=2 --overwrite -o " + ref.string());
  ASSERT_EQ(r.status, 0) << r.out;
  fs::copy_file(ref / "run.h5", d / "run.h5", fs::copy_options::overwrite_existing);
  const auto before = snapshot(d);
  r = run_izhinet("run --resume " + d.string() + " --set run.t_end=10 --progress 0 -b cpu -t 1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(izhinet::testing::count_lines_with(r.out, "[error]"), 1) << r.out;
  EXPECT_NE(r.out.find("fewer than the 501 it had at the checkpoint"), std::string::npos) << r.out;
  EXPECT_TRUE(snapshot(d) == before) << "a file changed";
  // A missing run.h5 is called missing.
  fs::remove(d / "run.h5");
  r = run_izhinet("run --resume " + d.string() + " --set run.t_end=10 --progress 0 -b cpu -t 1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("is missing"), std::string::npos) << r.out;
#endif
}

// The format itself: what is written is read back exactly; sizes and arrays are checked.
TEST(CheckpointFormat, RoundTripsAndChecksTheConfiguration) {
  model_spec m = two_pop_spec(scheme_kind::paper);
  m.run.rate_window = 0.02;  // a window of 20 steps
  const auto reps = default_replicas(m);
  auto be = make_cpu_backend(1);
  be->setup(m, reps);
  advance(*be, m, 100, 0);
  checkpoint_data c;
  c.config_hash = config_identity(m);
  c.backend = "cpu";
  c.replicas = 2;
  c.populations = 2;
  c.neurons = 2000;
  c.records_done = 100;
  c.steps_done = 1000;
  c.rate_ring.assign(20 * 4, 0);
  for (size_t k = 0; k < c.rate_ring.size(); ++k) c.rate_ring[k] = static_cast<uint32_t>(k * 7);
  c.rate_ring_sum.assign(4, 123456789012ull);
  c.spikes_written = 17;
  c.files = {{"timeseries.csv", 1234}, {"spikes.csv", 99}};
  be->get_state(c.state);
  const fs::path d = izhinet::testing::scratch_dir("ckpt_format");
  const std::string path = (d / "c.bin").string();
  write_checkpoint(path, c);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const checkpoint_data back = read_checkpoint(path);
  EXPECT_EQ(back.config_hash, c.config_hash);
  EXPECT_EQ(back.steps_done, 1000);
  EXPECT_EQ(back.rate_ring, c.rate_ring);
  EXPECT_EQ(back.rate_ring_sum, c.rate_ring_sum);
  EXPECT_EQ(back.files, c.files);
  ASSERT_EQ(back.state.arrays.size(), c.state.arrays.size());
  for (size_t k = 0; k < c.state.arrays.size(); ++k) {
    EXPECT_EQ(back.state.arrays[k].name, c.state.arrays[k].name);
    EXPECT_TRUE(back.state.arrays[k].values == c.state.arrays[k].values);
  }
  model_spec m2 = m;
  EXPECT_NO_THROW(check_checkpoint(back, path, m2, reps));
  m2.run.t_end = 1e4;  // only t_end may change
  EXPECT_NO_THROW(check_checkpoint(back, path, m2, reps));
  model_spec other = m2;
  other.populations[1].a = 0.05;
  EXPECT_THROW(check_checkpoint(back, path, other, reps), checkpoint_error);
  model_spec shorter = m2;
  shorter.run.t_end = 0.5;  // before the checkpoint's step
  EXPECT_THROW(check_checkpoint(back, path, shorter, reps), checkpoint_error);
  // A checkpoint written before numbers were written in the shortest form hashed them at 17 digits.
  model_spec hashed = m;
  hashed.run.t_end = 0;
  hashed.meanfield.enabled = true;
  ASSERT_EQ(sha256_hex(to_toml(hashed)), c.config_hash);
  ASSERT_NE(to_toml_legacy(hashed), to_toml(hashed));
  checkpoint_data legacy = back;
  legacy.config_hash = sha256_hex(to_toml_legacy(hashed));
  EXPECT_NO_THROW(check_checkpoint(legacy, path, m2, reps));
  EXPECT_THROW(check_checkpoint(legacy, path, other, reps), checkpoint_error);
}
