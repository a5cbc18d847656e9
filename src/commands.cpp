// izhinet run / mf: option parsing, backend choice, outputs.
#include "izhinet/commands.hpp"

#include <omp.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>
#include <thread>

#include "izhinet/backend.hpp"
#include "izhinet/checkpoint.hpp"
#include "izhinet/agreement.hpp"
#include "izhinet/communicator.hpp"
#include "izhinet/config.hpp"
#include "izhinet/continuation.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/eta_table.hpp"
#include "izhinet/finite_size.hpp"
#include "izhinet/io.hpp"
#include "izhinet/json.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/validation_criteria.hpp"
#include "izhinet/validator.hpp"
#include "build_info.hpp"
#include "izhinet/output.hpp"
#include "izhinet/output_hdf5.hpp"
#include "izhinet/simulation.hpp"
#include "izhinet/sweep.hpp"

namespace fs = std::filesystem;

namespace izhinet {
namespace {

void add_common(cxxopts::Options& o) {
  o.add_options()("c,config", "TOML configuration file", cxxopts::value<std::string>())(
      "s,set",
      "override a key: section.key=value, the value in TOML (repeatable), e.g. population.0.eta_bar=0.25 or "
      "'synapse.g=[[1.0,0.5],[0.5,1.0]]'",
      cxxopts::value<std::vector<std::string>>())("o,out", "output folder",
                                                  cxxopts::value<std::string>()->default_value("out"))(
      "overwrite", "replace the files of an earlier run in --out (without it such a folder is refused)")(
      "q,quiet", "only warnings and errors")("h,help", "this help");
}

/// Takes every -s/--set value out of `args` (cxxopts would split them at commas).
std::vector<std::string> take_sets(std::vector<std::string>& args) {
  std::vector<std::string> sets, rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& x = args[i];
    if (x == "-s" || x == "--set") {
      if (i + 1 >= args.size()) throw config_error(x, "missing its value: section.key=value (e.g. run.t_end=800)");
      sets.push_back(args[++i]);
    } else if (x.rfind("--set=", 0) == 0) {
      sets.push_back(x.substr(6));
    } else if (x.size() > 2 && x.rfind("-s", 0) == 0 && x[2] != '-') {
      sets.push_back(x.substr(2));
    } else {
      rest.push_back(x);
    }
  }
  args = rest;
  return sets;
}

/// Parses argv with `o`, the --set values taken out first.
struct parsed_args {
  cxxopts::ParseResult a;
  std::vector<std::string> sets;
};

parsed_args parse(cxxopts::Options& o, int argc, char** argv, std::vector<std::string> args = {}) {
  if (args.empty()) args.assign(argv, argv + argc);
  std::vector<std::string> sets = take_sets(args);
  std::vector<char*> av;
  for (auto& x : args) av.push_back(x.data());
  return {o.parse(static_cast<int>(av.size()), av.data()), sets};
}

model_spec load_from(const parsed_args& p) {
  if (!p.a.count("config"))
    throw config_error("--config", "missing: give a TOML file (e.g. configs/paper_bursting.toml)");
  const std::string path = p.a["config"].as<std::string>();
  const std::string text = read_config_file(path);
  set_config_source(path, text);
  return load_config_string(text, p.sets, path);
}

/// An integer option in [lo, hi], or config_error naming it and the range.
int64_t int_option(const cxxopts::ParseResult& a, const std::string& name, int64_t lo, int64_t hi) {
  const std::string text = a[name].as<std::string>();
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || errno == ERANGE || x < lo || x > hi)
    throw config_error("--" + name, "'" + shorten(text) + "' is not an integer in [" + std::to_string(lo) + ", " +
                                        std::to_string(hi) + "]");
  return x;
}

/// A number option in [lo, hi], or config_error naming it and the range.
double number_option(const cxxopts::ParseResult& a, const std::string& name, double lo, double hi) {
  const std::string text = a[name].as<std::string>();
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  if (text.empty() || *end || !std::isfinite(x) || x < lo || x > hi)
    throw config_error("--" + name, "'" + shorten(text) + "' is not a number in [" + format_number(lo) + ", " +
                                        format_number(hi) + "]");
  return x;
}

void reject_unmatched(const cxxopts::ParseResult& a) {
  if (!a.unmatched().empty()) throw config_error(a.unmatched()[0], "unexpected argument");
}

/// The option every command that runs over MPI ranks accepts (main acts on it).
void add_mpi_option(cxxopts::Options& o) {
  o.add_options()("mpi",
                  "run as MPI ranks: automatic under mpirun/srun; an error in a build without MPI (docs/mpi.md)");
}

/// The rows of the ranks other than 0, which write nothing.
struct discard_sink final : record_sink {
  void on_rows(int, const std::vector<record_row>&) override {}
};

output_folder::existing folder_policy(const cxxopts::ParseResult& a) {
  return a.count("overwrite") ? output_folder::existing::overwrite : output_folder::existing::refuse;
}

}  // namespace

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int cap_threads(int requested, const std::string& label) {
  const int cores = usable_cores();
  if (requested <= cores) return requested;
  spdlog::warn(
      "{} is more than the {} core(s) this process may use: using {} (more threads than cores only wait for "
      "each other)",
      label, cores, cores);
  return cores;
}

static int resolve_threads(int requested) {
  if (requested <= 0) return std::min(usable_cores(), omp_get_max_threads());
  return cap_threads(requested, "--threads " + std::to_string(requested));
}

std::unique_ptr<backend> choose_backend(const std::string& which, int threads, bool adaptive) {
  if (which == "cpu") return make_cpu_backend(threads, adaptive);
  if (which == "cuda") {
    std::string why;
    if (!cuda_available(&why)) throw device_error("--backend cuda: " + why);
    return make_cuda_backend();
  }
  if (which == "auto") {
    std::string why;
    if (cuda_available(&why)) {
      spdlog::info("backend auto: a GPU is present, using the CUDA backend");
      return make_cuda_backend();
    }
    spdlog::info("backend auto: no usable GPU ({}), falling back to the CPU backend", why);
    return make_cpu_backend(threads, adaptive);
  }
  throw config_error("--backend", "'" + which + "' is not one of cpu, cuda, auto");
}

namespace {

/// --backend, --threads and --progress of a command that runs many networks (studies, sweeps).
void add_batch_backend_options(cxxopts::Options& o) {
  o.add_options()("b,backend", "cpu | cuda | auto", cxxopts::value<std::string>()->default_value("auto"))(
      "t,threads", "CPU threads in [0, 4096] (0: up to all cores, fewer while fewer are measured faster)",
      cxxopts::value<std::string>()->default_value("0"))("progress", "seconds between progress lines (0: none)",
                                                         cxxopts::value<std::string>()->default_value("30"));
}

/// argv with the documented --n spelled --sizes (cxxopts takes one-letter names as short options).
std::vector<std::string> with_sizes_alias(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (auto& x : args) {
    if (x == "--n") x = "--sizes";
    if (x.rfind("--n=", 0) == 0) x = "--sizes=" + x.substr(4);
  }
  return args;
}

/// The options of add_batch_backend_options, checked; make() builds one backend (and names its device).
struct batch_backend {
  std::string which;
  int threads_asked = 0, threads = 0;
  double progress = 0;
  explicit batch_backend(const cxxopts::ParseResult& a)
      : which(a["backend"].as<std::string>()),
        threads_asked(static_cast<int>(int_option(a, "threads", 0, 4096))),
        progress(number_option(a, "progress", 0, 1e9)) {
    if (which != "cpu" && which != "cuda" && which != "auto")
      throw config_error("--backend", "'" + shorten(which) + "' is not one of cpu, cuda, auto");
  }
  /// Resolves the thread count and checks that a requested GPU is there (before any work).
  void prepare() {
    threads = resolve_threads(threads_asked);
    if (which == "cuda") {
      std::string why;
      if (!cuda_available(&why)) throw device_error("--backend cuda: " + why);
    }
  }
  std::unique_ptr<backend> make() const {
    auto be = choose_backend(which, threads, threads_asked == 0);
    set_device(be->name(), be->device());
    return be;
  }
};

}  // namespace

int run_command(int argc, char** argv, const std::atomic<bool>& stop) {
  cxxopts::Options o("izhinet run", "Simulate an all-to-all Izhikevich network (and its mean fields).");
  add_common(o);
  o.add_options()("b,backend", "cpu | cuda | auto", cxxopts::value<std::string>()->default_value("auto"))(
      "t,threads", "CPU threads in [0, 4096] (0: up to all cores, fewer while fewer are measured faster)",
      cxxopts::value<std::string>()->default_value("0"))("no-meanfield",
                                                         "do not integrate and compare the mean fields")(
      "progress", "seconds between progress lines (0: none)", cxxopts::value<std::string>()->default_value("10"))(
      "require-agreement", "exit with status " + std::to_string(criteria::exit_disagreement) +
                               " when the network disagrees with the exact "
                               "mean field, " +
                               std::to_string(criteria::exit_inconclusive) +
                               " when the verdict is inconclusive (without it the verdict does not change the exit "
                               "status)")(
      "checkpoint-every",
      "write DIR/checkpoint.bin every T units of simulated time (rounded to whole recording intervals); a stop "
      "by SIGTERM, SIGUSR1 or SIGINT always writes one",
      cxxopts::value<std::string>())("resume",
                                     "continue the stopped run in folder DIR from its checkpoint to run.t_end "
                                     "(--set run.t_end=... extends it); outputs are appended",
                                     cxxopts::value<std::string>());
  add_mpi_option(o);
  const parsed_args p = parse(o, argc, argv);
  const auto& a = p.a;
  if (a.count("help")) {
    std::cout << o.help() << "\nConfiguration keys: see README.md and include/izhinet/config.hpp.\n";
    return 0;
  }
  if (a.count("quiet")) spdlog::set_level(spdlog::level::warn);
  reject_unmatched(a);
  const int threads_asked = static_cast<int>(int_option(a, "threads", 0, 4096));
  const double progress = number_option(a, "progress", 0, 1e9);
  const std::string which = a["backend"].as<std::string>();
  if (which != "cpu" && which != "cuda" && which != "auto")
    throw config_error("--backend", "'" + shorten(which) + "' is not one of cpu, cuda, auto");
  const bool resume = a.count("resume") > 0;
  if (resume && a.count("config"))
    throw config_error("--config",
                       "not with --resume: a resumed run reads DIR/config.toml (--set run.t_end=... may extend it)");
  if (resume && a.count("out"))
    throw config_error("--out", "not with --resume: the run continues in the --resume folder");
  if (resume && a.count("overwrite"))
    throw config_error("--overwrite", "not with --resume: a resume keeps the outputs");
  const std::string out = resume ? a["resume"].as<std::string>() : a["out"].as<std::string>();
  model_spec spec;
  communicator& comm = world();
  const bool root = comm.root();
  if (resume) {
    // Rank 0 reads the folder; over ranks it sends the others the configuration (or its refusal: one
    // line from rank 0, the same exit status on every rank).
    const std::string path = (fs::path(out) / "config.toml").string();
    std::string text, refused;
    set_lockstep(false);  // rank 0 alone reads the folder
    if (root) try {
        if (!fs::is_directory(out))
          throw config_error("--resume", "folder '" + shorten(out, 200) +
                                             "' does not exist (give the --out folder of the stopped run)");
        if (!fs::exists(fs::path(out) / checkpoint_name))
          throw config_error("--resume",
                             "folder '" + shorten(out, 200) + "' holds no " + checkpoint_name +
                                 " (a run writes one with --checkpoint-every, or when stopped by a signal)");
        text = read_config_file(path);
      } catch (const config_error& e) {
        if (comm.size() == 1) throw;
        refused = e.what();
      }
    if (comm.size() > 1) {
      comm.broadcast(refused);
      if (!refused.empty()) {
        if (root) spdlog::error("{}", refused);
        return exit_usage;
      }
      comm.broadcast(text);
    }
    set_lockstep(true);  // every rank has the same configuration text
    set_config_source(path, text);
    spec = load_config_string(text, p.sets, path);
  } else {
    spec = load_from(p);
  }
  if (a.count("no-meanfield")) spec.meanfield.enabled = false;
  int64_t checkpoint_every = 0;
  if (a.count("checkpoint-every")) {
    const std::string text = a["checkpoint-every"].as<std::string>();
    char* end = nullptr;
    const double T = std::strtod(text.c_str(), &end);
    if (text.empty() || *end || !std::isfinite(T) || !(T > 0))
      throw config_error("--checkpoint-every", "'" + shorten(text) +
                                                   "' is not a positive, finite time (T > 0, in the model's time "
                                                   "units, like run.t_end)");
    const double rec_dt = static_cast<double>(spec.run.record_every) * spec.run.dt;
    checkpoint_every = std::max<int64_t>(1, std::llround(std::min(T / rec_dt, 1e15)));
    if (T < rec_dt && root)
      spdlog::warn(
          "--checkpoint-every {} is shorter than one recording interval (run.record_every * run.dt = {}): "
          "a checkpoint is written at every recorded row",
          text, rec_dt);
  }
  const bool require_agreement = a.count("require-agreement") > 0;
  if (require_agreement && !spec.meanfield.enabled)
    throw config_error("--require-agreement",
                       "needs the mean-field validator (drop --no-meanfield or set "
                       "meanfield.enabled = true)");
  const int threads = resolve_threads(threads_asked);
  // One network over the ranks of an MPI job (docs/mpi.md): every rank runs its slice, rank 0 alone writes.
  if (comm.size() > spec.network.n)
    throw config_error("network.n", std::to_string(spec.network.n) + " neurons cannot be split over " +
                                        std::to_string(comm.size()) +
                                        " MPI ranks (at most one rank per neuron): "
                                        "use fewer ranks (mpirun -np) or a larger network");
  // Everything that can refuse the run (the backend, its device, the memory the network needs) is checked
  // before the folder is touched, and the files of an earlier run (--overwrite) are removed only after it.
  auto be = choose_backend(which, threads, threads_asked == 0);
  be->distribute(&comm);
  set_device(be->name(), be->device());
  if (be->name() == "cpu") check_host_memory(spec, comm.size());  // from the spec alone, before any allocation
  const auto replicas = default_replicas(spec);
  std::unique_ptr<output_folder> folder;
  // A resume reads and checks its checkpoint before anything is written.
  const std::string ckpt_path = (fs::path(out) / checkpoint_name).string();
  checkpoint_data ckpt;
  const bool hdf5 = spec.run.format == "hdf5";
  set_lockstep(false);  // from here on rank 0 alone touches the folder
  // Over ranks a refused folder (in use, not writable, another run's files) is one line from rank 0.
  if (const int st = root_agreed(comm,
                                 [&] {
                                   // before anything is allocated or written
                                   csv_sink::check_open_file_limit(static_cast<int>(replicas.size()));
                                   folder = std::make_unique<output_folder>(
                                       out, resume ? output_folder::existing::resume : folder_policy(a),
                                       resume ? "--resume" : "--out", /*defer_removal=*/true);
                                 });
      st != 0)
    return st;
  if (resume) {
    // Rank 0 reads and checks the checkpoint (whatever rank count wrote it: it holds the whole network by
    // global index). Over ranks it tells the others whether the resume goes on, so that a refusal is one
    // line (rank 0's) and every rank leaves with the same status.
    std::string refused;
    if (root) try {
        ckpt = read_checkpoint(ckpt_path);
        check_checkpoint(ckpt, ckpt_path, spec, replicas);
        if (hdf5 && ckpt.datasets.empty())
          throw checkpoint_error("checkpoint '" + ckpt_path +
                                 "': holds no lengths of run.h5's datasets (run.format = \"hdf5\"), so run.h5 "
                                 "cannot be cut back to it");
        if (hdf5) {
          try {
            restore_hdf5(out, ckpt.datasets);  // every dataset checked first; only then cut back
          } catch (const io_error&) {
            throw;
          } catch (const user_error& e) {
            throw checkpoint_error("checkpoint '" + ckpt_path + "': " + e.what());
          }
        }
        restore_outputs(ckpt, out, ckpt_path);  // every file checked first; only then cut back
      } catch (const checkpoint_error& e) {
        if (comm.size() == 1) throw;
        refused = e.what();
      }
    if (comm.size() > 1) {
      comm.broadcast(refused);
      if (!refused.empty()) {
        if (root) spdlog::error("{}", refused);
        return exit_usage;
      }
      broadcast_checkpoint(ckpt, comm);  // the state itself follows after setup(), each rank its slice
    }
  }

  if (comm.size() > 1)
    spdlog::info("MPI: {} ranks, each holding a slice of every population ({} thread{} per rank)", comm.size(), threads,
                 threads == 1 ? "" : "s");
  spdlog::info("izhinet {} ({}): {} population(s), n = {}, {} replica(s), scheme {}, dt = {}, t_end = {}, {} steps",
               IZHINET_VERSION,
               std::string(build_info::git_commit).substr(0, 12) + (build_info::git_dirty ? ", dirty" : ""),
               spec.num_populations(), spec.network.n, replicas.size(), to_string(spec.run.scheme), spec.run.dt,
               spec.run.t_end, spec.num_records() * spec.run.record_every);
  // The run advances in whole recording intervals (run.record_every steps of run.dt): say where it really ends.
  if (const double reached = static_cast<double>(spec.num_records() * spec.run.record_every) * spec.run.dt;
      reached < spec.run.t_end * (1 - 1e-12))
    spdlog::warn(
        "run.t_end = {} is not a whole number of recording intervals (run.record_every = {} steps of "
        "run.dt = {}): the run ends at t = {}",
        spec.run.t_end, spec.run.record_every, spec.run.dt, format_time(reached));
  spdlog::info("backend {}: {}", be->name(), be->device());

  const std::string summary_path = (fs::path(out) / "summary.json").string();
  json summary;
  summary["command"] = "run";
  summary["backend"] = be->name();
  summary["device"] = be->device();
  summary["threads"] = be->capabilities().host_threads > 0 ? threads : 0;
  summary["ranks"] = comm.size();
  summary["status"] = "running";
  summary["outputs"] = hdf5 ? "run.h5 (datasets timeseries, spikes, eta; docs/python.md)"
                       : replicas.size() > static_cast<size_t>(max_replica_folders)
                           ? "timeseries.csv (column replica; seed = network.seed + replica)"
                       : replicas.size() > 1 ? "replica_<k>/timeseries.csv (seed = network.seed + k)"
                                             : "timeseries.csv";
  summary["parameters"] = spec_to_json(spec);
  if (resume) summary["resumed_from_t"] = clean_time(static_cast<double>(ckpt.steps_done) * spec.run.dt);
  // The network's memory (the backend refuses what does not fit) before an earlier run's files are removed.
  be->setup(spec, replicas);
  if (root) {
    folder->clear();
    write_file_atomic((fs::path(out) / "config.toml").string(), to_toml(spec));
    write_json(summary_path, summary);  // a folder always says what it holds, even after kill -9
  }

  // From here on, a failure (a full disk, a device error) stops the run at once and summary.json
  // says how far the files are valid.
  std::unique_ptr<csv_sink> csv;
  std::unique_ptr<hdf5_sink> h5;  // run.format = "hdf5": instead of the CSV files
  std::unique_ptr<validator> val;
  std::unique_ptr<validating_sink> vsink;
  simulation_result res;
  int verdict_status = 0;
  try {
    discard_sink discard;
    std::vector<record_sink*> sinks{&discard};
    if (resume) {
      // Every rank takes its slice of the checkpoint's state (over ranks rank 0 hands them out).
      scatter_state(*be, comm, ckpt.state, spec, replicas);
      ckpt.state = backend_state{};
      const double t_ckpt = static_cast<double>(ckpt.steps_done) * spec.run.dt;
      if (root && hdf5) {
        h5 = std::make_unique<hdf5_sink>(out, spec, replicas, hdf5_sink::append_at{t_ckpt});
        sinks = {h5.get()};
      } else if (root) {
        csv = std::make_unique<csv_sink>(out, spec, static_cast<int>(replicas.size()), csv_sink::append_at{t_ckpt});
        sinks = {csv.get()};
      }
      spdlog::info("resuming from {} at t = {} (step {}{})", ckpt_path, format_time(t_ckpt), ckpt.steps_done,
                   comm.size() > 1 ? ", over " + std::to_string(comm.size()) + " ranks" : "");
    } else if (root && hdf5) {
      h5 = std::make_unique<hdf5_sink>(out, spec, replicas);  // with eta
      sinks = {h5.get()};
    } else if (root) {
      csv = std::make_unique<csv_sink>(out, spec, static_cast<int>(replicas.size()));
      write_eta_csv(out, spec, replicas);  // eta of the neurons in spikes.csv
      sinks = {csv.get()};
    }
    // The mean fields run on their own thread while the network runs (replica 0).
    if (root && spec.meanfield.enabled) {
      validator_options vo;
      vo.out_dir = !hdf5 && replicas.size() > 1 && replicas.size() <= static_cast<size_t>(max_replica_folders)
                       ? (fs::path(out) / "replica_0").string()
                       : out;
      vo.stop = &stop;
      vo.replica = replicas.front();
      val = std::make_unique<validator>(spec, vo);
      vsink = std::make_unique<validating_sink>(std::vector<validator*>{val.get()});
      if (resume && ckpt.records_done > 0) {
        // The mean fields depend on the spec alone and the comparisons on the rows: the validator
        // is rebuilt by replaying replica 0's recorded rows, read back exactly.
        const int R = static_cast<int>(replicas.size());
        val->push(hdf5 ? read_hdf5_rows(out, spec, 0, ckpt.records_done)
                       : read_recorded_rows(csv_sink::timeseries_path(out, 0, R), spec, 0, R > max_replica_folders,
                                            ckpt.records_done));
      }
      sinks.push_back(vsink.get());
      spdlog::info("mean-field validator started (exact and slow-adaptation models, rtol {}){}", spec.meanfield.rtol,
                   replicas.size() > 1 ? "; it compares replica 0" : "");
    }
    fanout_sink sink(sinks);
    simulation_options so;
    so.progress_seconds = progress;
    so.stop = &stop;
    so.comm = &comm;
    if (val) so.progress_extra = [&val] { return val->progress_line(); };
    if (resume) so.resume = &ckpt;
    so.checkpoint_every = checkpoint_every;
    const std::string identity = config_identity(spec);
    int64_t neurons = 0;
    for (const auto& r : replicas) neurons += r.n;
    // Checkpoints hold the whole network by global index: over ranks (the hook is collective: every rank
    // reaches the same recording time, the stop being agreed) rank 0 gathers the slices and writes it.
    so.checkpoint = [&](checkpoint_data& c) {
      using clock = std::chrono::steady_clock;
      const auto c0 = clock::now();
      c.state = gather_state(*be, comm, spec, replicas);
      if (!root) return;
      c.config_hash = identity;
      c.backend = be->name();
      c.replicas = static_cast<int64_t>(replicas.size());
      c.populations = spec.num_populations();
      c.neurons = neurons;
      if (csv) c.files = csv->sync_sizes();
      if (h5) c.datasets = h5->sync_sizes();
      const auto c1 = clock::now();
      const int64_t bytes = write_checkpoint(ckpt_path, c);
      const double copy_s = std::chrono::duration<double>(c1 - c0).count();
      const double write_s = std::chrono::duration<double>(clock::now() - c1).count();
      spdlog::info(
          "checkpoint at t = {}: {} ({}; state {} and outputs synced in {:.3f} s, written in {:.3f} s, "
          "{:.0f} MiB/s)",
          format_time(static_cast<double>(c.steps_done) * spec.run.dt), ckpt_path,
          format_bytes(static_cast<double>(bytes)),
          comm.size() > 1 ? "gathered from " + std::to_string(comm.size()) + " ranks" : "copied", copy_s, write_s,
          write_s > 0 ? bytes / 1048576.0 / write_s : 0.0);
    };
    res = simulate(spec, *be, replicas, sink, so);
    if (csv) csv->close();
    if (h5) h5->close();
    if (val) {
      const validation_report rep = val->finish(outcome_of(res));
      if (res.state == simulation_result::status::completed && stop.load()) {
        // A stop during the validator's final analysis: the run is interrupted (exit 130), its outputs complete.
        res.state = simulation_result::status::interrupted;
        res.message = "interrupted by signal during the mean-field analysis (the network had completed)";
      }
      spdlog::info("validation: {}", rep.verdict());
      verdict_status = rep.require_agreement_status();
    }
  } catch (const std::exception& e) {
    const auto* io = dynamic_cast<const io_error*>(&e);
    summary["status"] = io ? "io_error" : "failed";
    summary["message"] = e.what();
    if (io) summary["failed_file"] = io->path();
    summary["valid_until_t"] = clean_time(csv ? csv->valid_until() : h5 ? h5->valid_until() : 0.0);
    summary["note"] = "every file ends in a complete line; the time series and spikes are complete up to valid_until_t";
    if (root) write_json_after_error(summary_path, summary);  // the first error is the one reported
    throw;
  }

  summary["status"] = to_string(res.state);
  summary["message"] = res.message;
  summary["steps"] = res.steps_done;
  summary["t_reached"] = clean_time(res.t_reached);
  summary["valid_until_t"] = clean_time(res.t_reached);
  summary["wall_seconds"] = res.wall_seconds;
  summary["neuron_steps_per_second"] = res.neuron_steps_per_second;
  summary["spikes_written"] = res.spikes_written;
  summary["spikes_capped"] = res.spikes_capped;
  if (root) write_json(summary_path, summary);

  if (res.spikes_capped && root)
    spdlog::warn("spike output reached run.max_spikes = {}; later spikes were not written", spec.run.max_spikes);
  switch (res.state) {
    case simulation_result::status::completed:
      if (resume)
        spdlog::info(
            "done: {} steps in {:.2f} s ({} in all, {} before the resume), {:.3g} neuron-steps/s; outputs in {}",
            res.steps_this_run, res.wall_seconds, res.steps_done, ckpt.steps_done, res.neuron_steps_per_second, out);
      else
        spdlog::info("done: {} steps in {:.2f} s, {:.3g} neuron-steps/s; outputs in {}", res.steps_done,
                     res.wall_seconds, res.neuron_steps_per_second, out);
      if (require_agreement && verdict_status != 0) {
        spdlog::warn("--require-agreement: the verdict is not \"agree\"; exit status {}", verdict_status);
        return verdict_status;
      }
      return exit_ok;
    case simulation_result::status::interrupted:
      if (root) spdlog::warn("{}; outputs up to t = {} written to {}", res.message, format_time(res.t_reached), out);
      return exit_interrupted;
    case simulation_result::status::diverged:
      spdlog::error("numerical blow-up: {}", res.message);
      return exit_runtime;
  }
  return exit_ok;
}

int mf_command(int argc, char** argv, const std::atomic<bool>& stop) {
  cxxopts::Options o("izhinet mf", "Integrate the exact mean field alone and list its equilibria.");
  add_common(o);
  const parsed_args p = parse(o, argc, argv);
  const auto& a = p.a;
  if (a.count("help")) {
    std::cout << o.help();
    return 0;
  }
  if (a.count("quiet")) spdlog::set_level(spdlog::level::warn);
  reject_unmatched(a);
  const model_spec spec = load_from(p);
  const std::string out = a["out"].as<std::string>();
  output_folder folder(out, folder_policy(a), "--out", /*defer_removal=*/true);
  {
    // What can refuse the run (the model, its recording times) before an earlier run's files are removed.
    const exact_meanfield model(spec);
    (void)record_times(spec);
  }
  folder.clear();
  set_device("meanfield", "CPU (DOPRI5)");
  return run_mf_command(spec, out, &stop);
}

int finite_size_command(int argc, char** argv, const std::atomic<bool>& stop) {
  cxxopts::Options o("izhinet finite-size",
                     "Run every (N, sampling, seed) network, validate each against the mean field, fit convergence.");
  add_common(o);
  o.add_options()("sizes", "(--n) network sizes, e.g. --n 100,1000,1e4", cxxopts::value<std::string>())(
      "seeds", "seeds per (N, random sampling), in [1, 100000]: network.seed .. + K-1",
      cxxopts::value<std::string>()->default_value("5"))(
      "sampling", "random,quantiles (or one of them)",
      cxxopts::value<std::string>()->default_value("random,quantiles"));
  add_batch_backend_options(o);
  add_mpi_option(o);
  const parsed_args p = parse(o, argc, argv, with_sizes_alias(argc, argv));
  const auto& a = p.a;
  if (a.count("help")) {
    std::cout << o.help() << "\nOutputs: finite_size.csv, finite_size.json, study.txt, runs/*.json (see README.md).\n";
    return 0;
  }
  if (a.count("quiet")) spdlog::set_level(spdlog::level::warn);
  reject_unmatched(a);
  if (!a.count("sizes")) throw config_error("--n", "missing: give the network sizes, e.g. --n 100,1000,1e4");
  study_params st;
  st.n = parse_n_list(a["sizes"].as<std::string>());
  st.seeds = static_cast<int>(int_option(a, "seeds", 1, 100000));
  st.sampling = parse_sampling_list(a["sampling"].as<std::string>());
  batch_backend bb(a);
  const model_spec spec = load_from(p);
  bb.prepare();
  return run_study(
      spec, st, a["out"].as<std::string>(), [&] { return bb.make(); }, &stop, bb.progress, a.count("overwrite") > 0);
}

int sweep_command(int argc, char** argv, const std::atomic<bool>& stop) {
  cxxopts::Options o("izhinet sweep",
                     "Run one network per value of a parameter and set it beside the mean field's attractor.");
  add_common(o);
  o.add_options()("p,param",
                  "configuration key to sweep, e.g. population.0.eta_bar (population.*.KEY: every population)",
                  cxxopts::value<std::string>())("values", "A:B:K (K values from A to B) or a list a,b,c",
                                                 cxxopts::value<std::string>())(
      "direction",
      "none (every value from the initial state) | up | down | both (each value from the previous one's final "
      "state; both: up then down)",
      cxxopts::value<std::string>()->default_value("none"))("sizes", "(--n) network size (default: network.n)",
                                                            cxxopts::value<std::string>());
  add_batch_backend_options(o);
  add_mpi_option(o);
  const parsed_args p = parse(o, argc, argv, with_sizes_alias(argc, argv));
  const auto& a = p.a;
  if (a.count("help")) {
    std::cout << o.help() << "\nOutputs: sweep.csv (one row per value and direction), sweep.txt (see README.md).\n";
    return 0;
  }
  if (a.count("quiet")) spdlog::set_level(spdlog::level::warn);
  reject_unmatched(a);
  if (!a.count("config"))
    throw config_error("--config", "missing: give a TOML file (e.g. configs/paper_bursting.toml)");
  if (!a.count("param")) throw config_error("--param", "missing: give the key to sweep, e.g. population.0.eta_bar");
  if (!a.count("values")) throw config_error("--values", "missing: give A:B:K or a list a,b,c");
  sweep_params sw;
  sw.key = a["param"].as<std::string>();
  sw.values = parse_sweep_values(a["values"].as<std::string>());
  sw.direction = parse_sweep_direction(a["direction"].as<std::string>());
  if (a.count("sizes")) {
    const std::vector<int64_t> ns = parse_n_list(a["sizes"].as<std::string>());
    if (ns.size() != 1) throw config_error("--n", "one network size per sweep");
    sw.n = ns.front();
  }
  batch_backend bb(a);
  const std::string path = a["config"].as<std::string>();
  const std::string text = read_config_file(path);
  set_config_source(path, text);
  bb.prepare();
  return run_sweep(
      text, path, p.sets, sw, a["out"].as<std::string>(), [&] { return bb.make(); }, &stop, bb.progress,
      a.count("overwrite") > 0);
}

int bif_command(int argc, char** argv, const std::atomic<bool>& stop) {
  cxxopts::Options o("izhinet bif",
                     "Bifurcation diagram of the exact mean field: equilibria, periodic orbits and special points in "
                     "one parameter, curves of Hopf points and folds in two.");
  add_common(o);
  o.add_options()("param", "the parameter KEY (a numeric config key, e.g. population.0.eta_bar, population.*.a)",
                  cxxopts::value<std::string>())("from", "start A of the interval (equilibria are found there)",
                                                 cxxopts::value<std::string>())("to", "end B of the interval",
                                                                                cxxopts::value<std::string>())(
      "param2", "second parameter KEY2 for two-parameter curves", cxxopts::value<std::string>())(
      "from2", "lower end of KEY2", cxxopts::value<std::string>())(
      "to2", "upper end of KEY2", cxxopts::value<std::string>())("mesh", "collocation mesh intervals in [4, 2000]",
                                                                 cxxopts::value<std::string>()->default_value("40"))(
      "ncol", "Gauss collocation points per interval in [2, 7]", cxxopts::value<std::string>()->default_value("4"))(
      "no-orbits", "skip the periodic orbits")(
      "at", "KEY values (comma-separated) where each periodic branch reports its orbit exactly (UZ points)",
      cxxopts::value<std::string>());
  const parsed_args p = parse(o, argc, argv);
  const auto& a = p.a;
  if (a.count("help")) {
    std::cout << o.help() << "\nOutputs: branches.csv, special_points.json (see README.md, docs/meanfield.md).\n";
    return 0;
  }
  if (a.count("quiet")) spdlog::set_level(spdlog::level::warn);
  reject_unmatched(a);
  if (!a.count("param")) throw config_error("--param", "missing: give a key, e.g. --param population.0.eta_bar");
  if (!a.count("from") || !a.count("to")) throw config_error("--from", "--from A and --to B are both required");
  bif_options bo;
  bo.keys.push_back(a["param"].as<std::string>());
  bo.from = number_option(a, "from", -1e12, 1e12);
  bo.to = number_option(a, "to", -1e12, 1e12);
  if (bo.from == bo.to)
    throw config_error("--to", "the interval [--from, --to] is empty (both are " + format_number(bo.from) + ")");
  const bool two = a.count("param2") > 0;
  if (two) {
    if (!a.count("from2") || !a.count("to2")) throw config_error("--from2", "--param2 needs --from2 C and --to2 D");
    bo.keys.push_back(a["param2"].as<std::string>());
    bo.from2 = number_option(a, "from2", -1e12, 1e12);
    bo.to2 = number_option(a, "to2", -1e12, 1e12);
    if (bo.from2 == bo.to2) throw config_error("--to2", "the interval [--from2, --to2] is empty");
    if (bo.keys[1] == bo.keys[0]) throw config_error("--param2", "must differ from --param");
  } else if (a.count("from2") || a.count("to2")) {
    throw config_error("--from2", "given without --param2");
  }
  bo.mesh = static_cast<int>(int_option(a, "mesh", 4, 2000));
  bo.ncol = static_cast<int>(int_option(a, "ncol", 2, 7));
  bo.periodic = a.count("no-orbits") == 0;
  if (a.count("at")) {
    std::string list = a["at"].as<std::string>() + ",";
    size_t pos = 0;
    while (pos < list.size()) {
      const size_t c = list.find(',', pos);
      const std::string item = list.substr(pos, c - pos);
      char* end = nullptr;
      const double x = std::strtod(item.c_str(), &end);
      if (item.empty() || *end || !std::isfinite(x))
        throw config_error("--at", "'" + shorten(item) + "' is not a number (give a comma-separated list)");
      bo.user_points.push_back(x);
      pos = c + 1;
    }
  }
  const model_spec spec = load_from(p);
  // keys and intervals checked before the folder is touched
  for (size_t k = 0; k < bo.keys.size(); ++k) {
    const param_binding b = bind_parameter(spec, bo.keys[k]);
    const double lo = std::min(k ? bo.from2 : bo.from, k ? bo.to2 : bo.to),
                 hi = std::max(k ? bo.from2 : bo.from, k ? bo.to2 : bo.to);
    if (lo < b.lo || (b.lo_open && lo <= b.lo) || hi > b.hi)
      throw config_error(k ? "--from2" : "--from", "the interval [" + format_number(lo) + ", " + format_number(hi) +
                                                       "] leaves the valid range of " + bo.keys[k] + " (" +
                                                       (b.lo_open ? "(" : "[") + format_number(b.lo) + ", " +
                                                       format_number(b.hi) + "])");
  }
  if (two) {
    const double v = bind_parameter(spec, bo.keys[1]).get(spec);
    if (v < std::min(bo.from2, bo.to2) || v > std::max(bo.from2, bo.to2))
      throw config_error("--from2", bo.keys[1] + " = " + format_number(v) +
                                        " in the configuration lies outside [--from2, --to2]: the curves start there");
  }
  // (a time-dependent I_ext as --param is refused above)
  for (size_t i = 0; i < spec.populations.size(); ++i)
    if (spec.populations[i].I_ext.type != input_spec::kind::constant) {
      spdlog::warn(
          "population.{}.I_ext varies in time: the diagram is that of the inputs at t = 0 (I_ext = {}); a "
          "bifurcation diagram needs constant inputs",
          i, format_number(spec.populations[i].I_ext.at(0.0)));
      break;
    }
  const std::string out = a["out"].as<std::string>();
  // An earlier run's files (--overwrite) are removed only once the new diagram is there to write.
  output_folder folder(out, folder_policy(a), "--out", /*defer_removal=*/true);
  set_device("meanfield", "CPU (continuation)");
  const auto t0 = std::chrono::steady_clock::now();
  const bif_result r = run_bifurcation(spec, bo);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (stop.load()) {
    spdlog::warn("interrupted by signal");
    return exit_interrupted;
  }
  for (const auto& m : r.messages) spdlog::info("{}", m);
  for (const auto& s : r.special) {
    std::string where;
    for (size_t k = 0; k < s.params.size() && k < bo.keys.size(); ++k)
      where += (k ? ", " : "") + bo.keys[k] + " = " + format_number(s.params[k]);
    std::string extra;
    if (s.type == "H")
      extra = ", frequency " + format_number(s.frequency) + ", l1 = " + format_number(s.lyapunov) + " (" + s.note + ")";
    if (s.period > 0 && s.type != "H") extra = ", period " + format_number(s.period);
    spdlog::info("{} on {}: {}{}", s.type, s.branch, where, extra);
  }
  folder.clear();
  write_bifurcation(out, spec, bo, r, secs);
  spdlog::info("{} points, {} special points in {:.3f} s -> {}/branches.csv, special_points.json", r.points.size(),
               r.special.size(), secs, out);
  return exit_ok;
}

}  // namespace izhinet
