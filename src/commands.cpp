// izhinet run / mf: option parsing, backend choice, outputs.
#include "izhinet/commands.hpp"

#include <omp.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>
#include <thread>

#include "izhinet/backend.hpp"
#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/eta_table.hpp"
#include "izhinet/finite_size.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/validation_criteria.hpp"
#include "izhinet/validator.hpp"
#include "izhinet/output.hpp"
#include "izhinet/simulation.hpp"

namespace fs = std::filesystem;

namespace izhinet {
namespace {

void add_common(cxxopts::Options& o) {
  o.add_options()("c,config", "TOML configuration file", cxxopts::value<std::string>())(
      "s,set", "override a key: section.key=value (repeatable), e.g. population.0.eta_bar=0.25",
      cxxopts::value<std::vector<std::string>>())("o,out", "output folder",
                                                  cxxopts::value<std::string>()->default_value("out"))(
      "q,quiet", "only warnings and errors")("h,help", "this help");
}

model_spec load_from(const cxxopts::ParseResult& a) {
  if (!a.count("config"))
    throw config_error("--config", "missing: give a TOML file (e.g. configs/paper_bursting.toml)");
  std::vector<std::string> sets;
  if (a.count("set")) sets = a["set"].as<std::vector<std::string>>();
  return load_config_file(a["config"].as<std::string>(), sets);
}

}  // namespace

static int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

static int resolve_threads(int requested) {
  const int cores = usable_cores();
  if (requested <= 0) return std::min(cores, omp_get_max_threads());
  if (requested > cores) {
    spdlog::warn(
        "--threads {} is more than the {} core(s) this process may use: using {} (more threads than cores "
        "only wait for each other)",
        requested, cores, cores);
    return cores;
  }
  return requested;
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

int run_command(int argc, char** argv, const std::atomic<bool>& stop) {
  cxxopts::Options o("izhinet run", "Simulate an all-to-all Izhikevich network (and its mean fields).");
  add_common(o);
  o.add_options()("b,backend", "cpu | cuda | auto", cxxopts::value<std::string>()->default_value("auto"))(
      "t,threads", "CPU threads (0: up to all cores, fewer while fewer are measured faster)",
      cxxopts::value<int>()->default_value("0"))("no-meanfield", "do not integrate and compare the mean fields")(
      "progress", "seconds between progress lines", cxxopts::value<double>()->default_value("10"))(
      "require-agreement", "exit with status " + std::to_string(criteria::exit_disagreement) +
                               " when the network disagrees with the exact "
                               "mean field, " +
                               std::to_string(criteria::exit_inconclusive) +
                               " when the verdict is inconclusive (default: 0)");
  const auto a = o.parse(argc, argv);
  if (a.count("help")) {
    std::cout << o.help() << "\nConfiguration keys: see README.md and include/izhinet/config.hpp.\n";
    return 0;
  }
  if (a.count("quiet")) spdlog::set_level(spdlog::level::warn);
  if (!a.unmatched().empty()) throw config_error(a.unmatched()[0], "unexpected argument");
  model_spec spec = load_from(a);
  if (a.count("no-meanfield")) spec.meanfield.enabled = false;
  const int threads_asked = a["threads"].as<int>();
  if (threads_asked < 0 || threads_asked > 4096)
    throw config_error("--threads", "must be in [0, 4096], got " + std::to_string(threads_asked));
  const int threads = resolve_threads(threads_asked);
  const double progress = a["progress"].as<double>();
  if (!std::isfinite(progress)) throw config_error("--progress", "must be a finite number of seconds");
  const std::string out = a["out"].as<std::string>();
  const std::string which = a["backend"].as<std::string>();
  if (which != "cpu" && which != "cuda" && which != "auto")
    throw config_error("--backend", "'" + which + "' is not one of cpu, cuda, auto");
  prepare_output_dir(out);

  auto be = choose_backend(which, threads, threads_asked == 0);
  const auto replicas = default_replicas(spec);
  spdlog::info("izhinet {} ({}): {} population(s), n = {}, {} replica(s), scheme {}, dt = {}, t_end = {}, {} steps",
               IZHINET_VERSION, IZHINET_GIT, spec.num_populations(), spec.network.n, replicas.size(),
               to_string(spec.run.scheme), spec.run.dt, spec.run.t_end, spec.num_steps());
  spdlog::info("backend {}: {}", be->name(), be->device());
  be->setup(spec, replicas);

  csv_sink csv(out, spec, static_cast<int>(replicas.size()));
  write_eta_csv(out, spec, replicas);  // eta of the neurons in spikes.csv
  std::vector<record_sink*> sinks{&csv};
  // The mean fields run on their own thread while the network runs (replica 0).
  std::unique_ptr<validator> val;
  std::unique_ptr<validating_sink> vsink;
  const bool require_agreement = a.count("require-agreement") > 0;
  if (require_agreement && !spec.meanfield.enabled)
    throw config_error("--require-agreement",
                       "needs the mean-field validator (drop --no-meanfield or set "
                       "meanfield.enabled = true)");
  if (spec.meanfield.enabled) {
    validator_options vo;
    vo.out_dir = replicas.size() > 1 ? (fs::path(out) / "replica_0").string() : out;
    vo.stop = &stop;
    vo.replica = replicas.front();
    val = std::make_unique<validator>(spec, vo);
    vsink = std::make_unique<validating_sink>(std::vector<validator*>{val.get()});
    sinks.push_back(vsink.get());
    spdlog::info("mean-field validator started (exact and slow-adaptation models, rtol {}){}", spec.meanfield.rtol,
                 replicas.size() > 1 ? "; it compares replica 0" : "");
  }
  fanout_sink sink(sinks);
  simulation_options so;
  so.progress_seconds = progress;
  so.stop = &stop;
  if (val) so.progress_extra = [&val] { return val->progress_line(); };
  const simulation_result res = simulate(spec, *be, replicas, sink, so);
  int verdict_status = 0;
  if (val) {
    const validation_report rep = val->finish(outcome_of(res));
    spdlog::info("validation: {}", rep.verdict());
    verdict_status = rep.require_agreement_status();
  }

  json_object summary;
  summary.set("izhinet_version", IZHINET_VERSION).set("git_commit", IZHINET_GIT);
  summary.set("backend", be->name()).set("device", be->device());
  summary.set("threads", be->name() == "cpu" ? threads : 0);
  summary.set("status", to_string(res.state)).set("message", res.message);
  summary.set("steps", static_cast<int64_t>(res.steps_done)).set("t_reached", res.t_reached);
  summary.set("wall_seconds", res.wall_seconds).set("neuron_steps_per_second", res.neuron_steps_per_second);
  summary.set("spikes_written", static_cast<int64_t>(res.spikes_written)).set("spikes_capped", res.spikes_capped);
  summary.set("outputs",
              replicas.size() > 1 ? "replica_<k>/timeseries.csv (seed = network.seed + k)" : "timeseries.csv");
  summary.set("parameters", spec_to_json(spec));
  write_file_atomic((fs::path(out) / "summary.json").string(), summary.str() + "\n");
  write_file_atomic((fs::path(out) / "config.toml").string(), to_toml(spec));

  if (res.spikes_capped)
    spdlog::warn("spike output reached run.max_spikes = {}; later spikes were not written", spec.run.max_spikes);
  switch (res.state) {
    case simulation_result::status::completed:
      spdlog::info("done: {} steps in {:.2f} s, {:.3g} neuron-steps/s; outputs in {}", res.steps_done, res.wall_seconds,
                   res.neuron_steps_per_second, out);
      if (require_agreement && verdict_status != 0) {
        spdlog::warn("--require-agreement: the verdict is not \"agree\"; exit status {}", verdict_status);
        return verdict_status;
      }
      return 0;
    case simulation_result::status::interrupted:
      spdlog::warn("{}; outputs up to t = {} written to {}", res.message, res.t_reached, out);
      return 130;
    case simulation_result::status::diverged:
      spdlog::error("numerical blow-up: {}", res.message);
      return 4;
  }
  return 0;
}

int mf_command(int argc, char** argv) {
  cxxopts::Options o("izhinet mf", "Integrate the exact mean field alone and list its equilibria.");
  add_common(o);
  const auto a = o.parse(argc, argv);
  if (a.count("help")) {
    std::cout << o.help();
    return 0;
  }
  if (a.count("quiet")) spdlog::set_level(spdlog::level::warn);
  if (!a.unmatched().empty()) throw config_error(a.unmatched()[0], "unexpected argument");
  const model_spec spec = load_from(a);
  const std::string out = a["out"].as<std::string>();
  prepare_output_dir(out);
  return run_mf_command(spec, out);
}

int finite_size_command(int argc, char** argv, const std::atomic<bool>& stop) {
  cxxopts::Options o("izhinet finite-size",
                     "Run every (N, sampling, seed) network, validate each against the mean field, fit convergence.");
  add_common(o);
  o.add_options()("sizes", "(--n) network sizes, e.g. --n 100,1000,1e4", cxxopts::value<std::string>())(
      "seeds", "seeds per (N, random sampling): network.seed .. + K-1", cxxopts::value<int>()->default_value("5"))(
      "sampling", "random,quantiles (or one of them)",
      cxxopts::value<std::string>()->default_value("random,quantiles"))(
      "b,backend", "cpu | cuda | auto", cxxopts::value<std::string>()->default_value("auto"))(
      "t,threads", "CPU threads (0: up to all cores, fewer while fewer are measured faster)",
      cxxopts::value<int>()->default_value("0"))("progress", "seconds between progress lines",
                                                 cxxopts::value<double>()->default_value("30"));
  // cxxopts takes one-letter names as short options: spell the documented --n as --sizes.
  std::vector<std::string> args(argv, argv + argc);
  for (auto& x : args) {
    if (x == "--n") x = "--sizes";
    if (x.rfind("--n=", 0) == 0) x = "--sizes=" + x.substr(4);
  }
  std::vector<char*> av;
  for (auto& x : args) av.push_back(x.data());
  const auto a = o.parse(static_cast<int>(av.size()), av.data());
  if (a.count("help")) {
    std::cout << o.help() << "\nOutputs: finite_size.csv, finite_size.json, study.txt, runs/*.json (see README.md).\n";
    return 0;
  }
  if (a.count("quiet")) spdlog::set_level(spdlog::level::warn);
  if (!a.unmatched().empty()) throw config_error(a.unmatched()[0], "unexpected argument");
  if (!a.count("sizes")) throw config_error("--n", "missing: give the network sizes, e.g. --n 100,1000,1e4");
  study_params st;
  st.n = parse_n_list(a["sizes"].as<std::string>());
  st.seeds = a["seeds"].as<int>();
  if (st.seeds < 1) throw config_error("--seeds", "must be >= 1, got " + std::to_string(st.seeds));
  st.sampling = parse_sampling_list(a["sampling"].as<std::string>());
  const model_spec spec = load_from(a);
  const int threads_asked = a["threads"].as<int>();
  if (threads_asked < 0 || threads_asked > 4096)
    throw config_error("--threads", "must be in [0, 4096], got " + std::to_string(threads_asked));
  const int threads = resolve_threads(threads_asked);
  const std::string which = a["backend"].as<std::string>();
  if (which != "cpu" && which != "cuda" && which != "auto")
    throw config_error("--backend", "'" + which + "' is not one of cpu, cuda, auto");
  if (which == "cuda") {
    std::string why;
    if (!cuda_available(&why)) throw device_error("--backend cuda: " + why);
  }
  return run_study(
      spec, st, a["out"].as<std::string>(), [&] { return choose_backend(which, threads, threads_asked == 0); }, &stop,
      a["progress"].as<double>());
}

}  // namespace izhinet
