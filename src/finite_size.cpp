#include "izhinet/finite_size.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "izhinet/agreement.hpp"
#include "izhinet/communicator.hpp"
#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/io.hpp"
#include "izhinet/json.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/output.hpp"
#include "izhinet/simulation.hpp"
#include "izhinet/validation_criteria.hpp"
#include "izhinet/validation_output.hpp"
#include "izhinet/validator.hpp"

namespace fs = std::filesystem;

namespace izhinet {
namespace {

const char* k_vars[4] = {"r", "v", "w", "s"};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::stringstream ss(s);
  while (std::getline(ss, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t");
  const auto b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string num(double x) { return std::isfinite(x) ? format_number(x) : "nan"; }

/// Appends one line (one write(2), then fsync): the row is the mark that a run is done.
void append_line(const std::string& path, const std::string& line) {
  line_file f(path, line_file::open_mode::append);
  f.line(line);
  f.close();
}

/// A bad line of finite_size.csv: names the file and the line.
[[noreturn]] void bad_row(const std::string& path, size_t line, const std::string& why) {
  throw config_error("--out", "'" + shorten(path, 200) + "' line " + std::to_string(line) + ": " + why +
                                  "; fix or delete that line (a deleted run is redone)");
}

/// The spec with the per-run keys normalised: what identifies a study.
model_spec study_base(const model_spec& spec) {
  model_spec b = spec;
  b.network.n = 1;
  b.network.replicas = 1;
  b.network.sampling = sampling_kind::quantiles;
  b.meanfield.enabled = true;
  return b;
}

std::string study_identity(const model_spec& spec, const study_params& st, bool legacy = false) {
  std::ostringstream o;
  o << "n =";
  for (auto n : st.n) o << " " << n;
  o << "\nseeds = " << st.seeds << "\nsampling =";
  for (auto s : st.sampling) o << " " << to_string(s);
  o << "\n" << (legacy ? to_toml_legacy(study_base(spec)) : to_toml(study_base(spec)));
  return o.str();
}

std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string la, lb;
  while (true) {
    const bool ga = static_cast<bool>(std::getline(x, la));
    const bool gb = static_cast<bool>(std::getline(y, lb));
    if (!ga && !gb) return "";
    if (!ga || !gb || la != lb)
      return "'" + (gb ? lb : std::string("<nothing>")) + "' in the folder vs '" +
             (ga ? la : std::string("<nothing>")) + "' now";
  }
}

std::string run_key(int64_t n, sampling_kind s, uint64_t seed) {
  return std::to_string(n) + "/" + to_string(s) + "/" + std::to_string(seed);
}

}  // namespace

std::vector<int64_t> parse_n_list(const std::string& text) {
  std::vector<int64_t> out;
  for (const auto& part : split(text, ',')) {
    const std::string t = trim(part);
    char* end = nullptr;
    const double x = std::strtod(t.c_str(), &end);
    if (t.empty() || *end || !std::isfinite(x) || x != std::floor(x))
      throw config_error("--n", "'" + t + "' is not an integer network size (e.g. --n 100,1000,1e4)");
    if (x < 1 || x > 4e9) throw config_error("--n", "sizes must be in [1, 4e9], got " + t);
    out.push_back(static_cast<int64_t>(x));
  }
  if (out.empty()) throw config_error("--n", "the list of network sizes is empty (e.g. --n 100,1000,1e4)");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<sampling_kind> parse_sampling_list(const std::string& text) {
  std::vector<sampling_kind> out;
  for (const auto& part : split(text, ',')) {
    const std::string t = trim(part);
    if (t == "random")
      out.push_back(sampling_kind::random);
    else if (t == "quantiles")
      out.push_back(sampling_kind::quantiles);
    else
      throw config_error("--sampling", "'" + t + "' is not one of random, quantiles");
  }
  if (out.empty()) throw config_error("--sampling", "empty list (valid: random, quantiles)");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string study_csv_header(int P) {
  std::string h = "n,sampling,seed,status,regime_net,regime_mf,period_net,period_mf,wall_s";
  for (const char* kind : {"nrms", "dmean", "sdiff"})
    for (int i = 0; i < P; ++i)
      for (const char* v : k_vars) h += std::string(",") + kind + "_" + v + std::to_string(i);
  return h;
}

std::string study_csv_line(const study_row& r) {
  std::string l = std::to_string(r.n) + "," + to_string(r.sampling) + "," + std::to_string(r.seed) + "," + r.status +
                  "," + r.regime_net + "," + r.regime_mf + "," + num(r.period_net) + "," + num(r.period_mf) + "," +
                  num(r.wall_seconds);
  for (double x : r.nrms) l += "," + num(x);
  for (double x : r.dmean) l += "," + num(x);
  for (double x : r.sdiff) l += "," + num(x);
  return l;
}

std::vector<study_row> read_study_csv(const std::string& path, int P) {
  std::vector<study_row> rows;
  std::ifstream in(path, std::ios::binary);
  if (!in) return rows;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines = split(text, '\n');
  if (!lines.empty()) lines.pop_back();  // after the last '\n': empty, or a torn line (never a finished run)
  if (lines.empty()) return rows;
  const size_t fields = 9 + 12 * static_cast<size_t>(P);
  if (lines[0] != study_csv_header(P))
    bad_row(path, 1, "the header is not that of a study with " + std::to_string(P) + " population(s)");
  for (size_t k = 1; k < lines.size(); ++k) {
    const std::string& line = lines[k];
    const size_t no = k + 1;
    const auto f = split(line, ',');
    if (f.size() != fields) bad_row(path, no, std::to_string(f.size()) + " fields, expected " + std::to_string(fields));
    auto integer = [&](const std::string& x, const char* what) {
      errno = 0;
      char* end = nullptr;
      const unsigned long long v = std::strtoull(x.c_str(), &end, 10);
      if (x.empty() || *end || errno == ERANGE || x[0] == '-')
        bad_row(path, no, std::string(what) + " '" + shorten(x, 40) + "' is not a non-negative integer");
      return v;
    };
    auto number = [&](const std::string& x) {
      if (x == "nan") return std::nan("");
      char* end = nullptr;
      const double v = std::strtod(x.c_str(), &end);
      if (x.empty() || *end) bad_row(path, no, "'" + shorten(x, 40) + "' is not a number");
      return v;
    };
    study_row r;
    r.n = static_cast<int64_t>(integer(f[0], "n"));
    if (f[1] != "random" && f[1] != "quantiles")
      bad_row(path, no, "sampling '" + shorten(f[1], 40) + "' is not random or quantiles");
    r.sampling = f[1] == "random" ? sampling_kind::random : sampling_kind::quantiles;
    r.seed = integer(f[2], "seed");
    if (f[3] != "completed" && f[3] != "diverged")
      bad_row(path, no, "status '" + shorten(f[3], 40) + "' is not completed or diverged");
    r.status = f[3];
    r.regime_net = f[4];
    r.regime_mf = f[5];
    r.period_net = number(f[6]);
    r.period_mf = number(f[7]);
    r.wall_seconds = number(f[8]);
    for (int k2 = 0; k2 < 4 * P; ++k2) r.nrms.push_back(number(f[9 + k2]));
    for (int k2 = 0; k2 < 4 * P; ++k2) r.dmean.push_back(number(f[9 + 4 * P + k2]));
    for (int k2 = 0; k2 < 4 * P; ++k2) r.sdiff.push_back(number(f[9 + 8 * P + k2]));
    rows.push_back(r);
  }
  return rows;
}

json study_summary_json(const model_spec& spec, const study_params& st, const std::vector<study_row>& rows) {
  const int P = spec.num_populations();
  json groups = json::array();
  for (auto s : st.sampling)
    for (auto n : st.n) {
      std::vector<const study_row*> sel;
      for (const auto& r : rows)
        if (r.n == n && r.sampling == s && r.status == "completed") sel.push_back(&r);
      if (sel.empty()) continue;
      json g;
      g["n"] = n;
      g["sampling"] = to_string(s);
      g["runs"] = sel.size();
      for (const char* kind : {"nrms", "dmean"})
        for (int i = 0; i < P; ++i)
          for (int v = 0; v < 4; ++v) {
            double m = 0, q = 0;
            int c = 0;
            for (const auto* r : sel) {
              const double x = (std::string(kind) == "nrms" ? r->nrms : r->dmean)[i * 4 + v];
              if (!std::isfinite(x)) continue;
              m += x;
              q += x * x;
              ++c;
            }
            const std::string key = std::string(kind) + "_" + k_vars[v] + std::to_string(i);
            m = c ? m / c : std::nan("");
            const double sd = c > 1 ? std::sqrt(std::max(0.0, (q - c * m * m) / (c - 1))) : std::nan("");
            g[key] = {{"mean", m}, {"std", sd}};
          }
      groups.push_back(g);
    }
  json fits = json::array();
  for (const char* kind : {"nrms", "dmean"})
    for (auto s : st.sampling)
      for (int i = 0; i < P; ++i)
        for (int v = 0; v < 4; ++v) {
          std::vector<double> ns, ds;
          for (const auto& r : rows)
            if (r.sampling == s && r.status == "completed") {
              ns.push_back(static_cast<double>(r.n));
              ds.push_back((std::string(kind) == "nrms" ? r.nrms : r.dmean)[i * 4 + v]);
            }
          const power_fit f = fit_convergence(ns, ds);
          const power_fit pure = fit_power(ns, ds);
          std::vector<double> sd;
          for (const auto& r : rows)
            if (r.sampling == s && r.status == "completed") sd.push_back(r.sdiff[i * 4 + v]);
          const power_fit sg = fit_signed_plateau(ns, sd);
          json o;
          o["sampling"] = to_string(s);
          o["metric"] = std::string(kind) + "_" + k_vars[v] + std::to_string(i);
          o["ok"] = f.ok;
          o["model"] = f.model;
          o["gamma"] = f.gamma;
          o["gamma_stderr"] = f.gamma_stderr;
          o["c"] = f.c;
          o["plateau"] = f.d;
          o["points"] = f.points;
          o["pure_power_gamma"] = pure.gamma;
          o["pure_power_gamma_stderr"] = pure.gamma_stderr;
          if (std::string(kind) == "dmean") {
            o["signed_fit"] = {{"ok", sg.ok}, {"gamma", sg.gamma}, {"gamma_stderr", sg.gamma_stderr},
                               {"c", sg.c},   {"plateau", sg.d},   {"rss", sg.rss_log}};
            // Seed-to-seed spread: standard deviation over seeds at each N, fitted as c N^-gamma.
            std::vector<double> sn, ss;
            for (auto n : st.n) {
              std::vector<double> xs;
              for (const auto& r : rows)
                if (r.sampling == s && r.status == "completed" && r.n == n && std::isfinite(r.sdiff[i * 4 + v]))
                  xs.push_back(r.sdiff[i * 4 + v]);
              if (xs.size() < 2) continue;
              double m = 0, q = 0;
              for (double x : xs) m += x;
              m /= xs.size();
              for (double x : xs) q += (x - m) * (x - m);
              sn.push_back(static_cast<double>(n));
              ss.push_back(std::sqrt(q / (xs.size() - 1)));
            }
            const power_fit sp = fit_power(sn, ss);
            o["seed_spread_fit"] = {{"ok", sp.ok},
                                    {"gamma", sp.gamma},
                                    {"gamma_stderr", sp.gamma_stderr},
                                    {"c", sp.c},
                                    {"sizes", sn.size()}};
          }
          fits.push_back(o);
        }
  json top;
  top["metric_definitions"] =
      "nrms_<x><i> = RMS(x_net - x_mf)/RMS(x_mf) over t > meanfield.transient; dmean_<x><i> = "
      "|late mean net - late mean mf|/|late mean mf|; fits: D = c N^-gamma (+ plateau d), see fit.hpp";
  top["groups"] = groups;
  top["fits"] = fits;
  top["parameters"] = spec_to_json(study_base(spec));
  return top;
}

int run_study(const model_spec& spec_in, const study_params& st, const std::string& out_dir,
              const std::function<std::unique_ptr<backend>()>& make_backend, const std::atomic<bool>* stop,
              double progress_seconds, bool overwrite, communicator* comm_in) {
  using clock = std::chrono::steady_clock;
  if (st.seeds < 1) throw config_error("--seeds", "must be >= 1, got " + std::to_string(st.seeds));
  if (st.n.empty()) throw config_error("--n", "the list of network sizes is empty");
  if (st.sampling.empty()) throw config_error("--sampling", "empty list (valid: random, quantiles)");
  model_spec spec = spec_in;
  spec.meanfield.enabled = true;
  for (auto n : st.n) {
    model_spec t = spec;
    t.network.n = n;
    validate(t);  // every population gets a neuron at every N
  }
  // Over MPI ranks (docs/mpi.md): rank 0 owns the folder and is the only writer; every rank runs whole
  // networks, dealt to it in balanced batches, and rank 0 writes each round's finished runs.
  communicator& comm = comm_in != nullptr ? *comm_in : world();
  const bool root = comm.root();
  const int ranks = comm.size();
  const int P = spec.num_populations();
  const std::string csv_path = (fs::path(out_dir) / "finite_size.csv").string();
  std::unique_ptr<output_folder> folder;
  std::set<std::string> done;
  std::vector<study_row> rows;
  // Refusals that need no folder come before it (so --overwrite removes nothing first): the backend, and on
  // the CPU the memory of the largest network.
  auto be = make_backend();
  if (be->name() == "cpu") {
    model_spec largest = spec;
    largest.network.n = *std::max_element(st.n.begin(), st.n.end());
    largest.network.replicas = 1;
    check_host_memory(largest, 1);
  }
  set_lockstep(false);  // rank 0 alone reads and writes the folder
  // Over ranks a refused folder (in use, another study's) is one line from rank 0, every rank exiting alike.
  const int refused = root_agreed(comm, [&] {
    folder = std::make_unique<output_folder>(
        out_dir, overwrite ? output_folder::existing::overwrite : output_folder::existing::resume);
    const std::string identity = study_identity(spec, st);
    const std::string id_path = (fs::path(out_dir) / "study.txt").string();
    std::error_code ec;
    if (fs::exists(fs::symlink_status(id_path, ec))) {
      if (!fs::is_regular_file(id_path, ec))
        throw config_error("--out", "'" + shorten(id_path, 200) +
                                        "' is not a file: a study folder holds the study's parameters there; use "
                                        "another --out, or --overwrite to start a new study");
      std::ifstream in(id_path, std::ios::binary);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) throw config_error("--out", "cannot read '" + shorten(id_path, 200) + "'");
      // A study.txt written before the shortest number form has 17-digit numbers: the same study.
      if (text != identity && text != study_identity(spec, st, true))
        throw config_error("--out", "folder '" + shorten(out_dir, 200) + "' holds a study with different parameters (" +
                                        shorten(first_difference(identity, text), 300) +
                                        "); use another --out, the same arguments to resume it, or --overwrite");
    } else {
      for (const auto& e : fs::directory_iterator(out_dir, ec))
        if (e.path().filename() != output_folder::lock_name)
          throw config_error("--out", "folder '" + shorten(out_dir, 200) + "' holds '" +
                                          shorten(e.path().filename().string(), 60) +
                                          "' but no study.txt (not a study); use another --out, or --overwrite");
      write_file_atomic(id_path, identity);
    }
    if (fs::exists(csv_path) && fs::file_size(csv_path) > 0) {
      // A study killed in the middle of a write leaves a torn last line: cut it.
      std::ifstream in(csv_path, std::ios::binary);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (text.back() != '\n') {
        const auto keep = text.find_last_of('\n');
        fs::resize_file(csv_path, keep == std::string::npos ? 0 : keep + 1, ec);
        if (ec) throw io_error(csv_path, ec.value(), "truncate");
        spdlog::warn("finite-size: dropped a partly written last line of {}", csv_path);
      }
    }
    if (!fs::exists(csv_path) || fs::file_size(csv_path) == 0) append_line(csv_path, study_csv_header(P));
    rows = read_study_csv(csv_path, P);
    for (const auto& r : rows) done.insert(run_key(r.n, r.sampling, r.seed));
  });
  if (refused != 0) return refused;
  {
    // Every rank needs the list of finished runs to build the same work list.
    std::string keys;
    for (const auto& k : done) keys += k + "\n";
    comm.broadcast(keys);
    done.clear();
    std::istringstream in(keys);
    for (std::string k; std::getline(in, k);) done.insert(k);
  }

  // Work list: (sampling, N) batches of pending seeds.
  // Pending runs, by sampling and increasing N; then packed into batches of
  // replicas run by one backend call: small networks share one launch (a GPU
  // cannot be filled by one network of 10^3), and a batch is bounded in
  // neuron-steps so that a killed study loses at most one batch of work.
  spdlog::info("backend {}: {}", be->name(), be->device());
  double batch_neuron_steps = be->capabilities().batch_neuron_steps;
  const double steps = static_cast<double>(spec.num_steps());
  if (ranks > 1) {
    // Enough batches for every rank: at most the pending work over the ranks each.
    double pending = 0;
    for (auto s : st.sampling)
      for (auto n : st.n)
        for (int j = 0; j < (s == sampling_kind::random ? st.seeds : 1); ++j)
          if (!done.count(run_key(n, s, spec.network.seed + static_cast<uint64_t>(j))))
            pending += static_cast<double>(n) * steps;
    batch_neuron_steps = std::min(batch_neuron_steps, std::max(1.0, pending / ranks));
  }
  struct batch {
    sampling_kind s;
    std::vector<replica_spec> runs;
    double neurons = 0;
  };
  std::vector<batch> work;
  int64_t total_runs = 0, pending_runs = 0;
  double pending_work = 0;
  for (auto s : st.sampling) {
    batch b{s, {}, 0};
    for (auto n : st.n) {
      const int k = s == sampling_kind::random ? st.seeds : 1;
      for (int j = 0; j < k; ++j) {
        const uint64_t seed = spec.network.seed + static_cast<uint64_t>(j);
        ++total_runs;
        if (done.count(run_key(n, s, seed))) continue;
        if (!b.runs.empty() && (b.neurons + n) * steps > batch_neuron_steps) {
          work.push_back(b);
          b = batch{s, {}, 0};
        }
        b.runs.push_back({n, seed});
        b.neurons += static_cast<double>(n);
        ++pending_runs;
        pending_work += static_cast<double>(n);
      }
    }
    if (!b.runs.empty()) work.push_back(b);
  }
  // Batches to ranks: the largest first, each to the rank with the least work so far; a rank runs its
  // batches in rounds, and after each round rank 0 writes every rank's finished runs.
  std::vector<std::vector<size_t>> mine_by_rank(static_cast<size_t>(ranks));
  {
    std::vector<size_t> order(work.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return work[x].neurons > work[y].neurons; });
    std::vector<double> load(static_cast<size_t>(ranks), 0.0);
    for (size_t k : order) {
      const size_t r = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      load[r] += work[k].neurons;
      mine_by_rank[r].push_back(k);
    }
  }
  size_t rounds = 0;
  for (const auto& l : mine_by_rank) rounds = std::max(rounds, l.size());
  const std::vector<size_t>& mine = mine_by_rank[static_cast<size_t>(comm.rank())];
  if (ranks > 1) spdlog::info("finite-size: {} batch(es) over {} MPI ranks in {} round(s)", work.size(), ranks, rounds);
  spdlog::info(
      "finite-size study: {} runs ({} sizes x {} sampling(s); {} seed(s) for random, 1 for quantiles), {} "
      "already done in {}, {} to run in {} batch(es)",
      total_runs, st.n.size(), st.sampling.size(), st.seeds, total_runs - pending_runs, out_dir, pending_runs,
      work.size());
  const fs::path runs_dir = fs::path(out_dir) / "runs";
  if (root) {
    std::error_code ec;
    fs::create_directories(runs_dir, ec);
    if (ec) throw io_error(runs_dir.string(), ec.value(), "create folder");
  }
  const auto t0 = clock::now();
  double work_done = 0;
  int64_t runs_done = 0;

  bool stopped = false;
  for (size_t round = 0; round < rounds && !stopped; ++round) {
    bool stop_now = stop && stop->load();
    if (ranks > 1) {
      int64_t any = stop_now ? 1 : 0;
      comm.sum(&any, 1);
      stop_now = any > 0;
    }
    if (stop_now) break;
    // This rank's batch of the round (if it has one): its finished runs, written up as text
    // ("name", validation JSON, CSV line per run), and whether it was interrupted.
    std::string finished;
    bool interrupted = false;
    std::string batch_line;
    if (round < mine.size()) {
      const batch& b = work[mine[round]];
      model_spec m = spec;
      m.network.n = b.runs.front().n;
      m.network.sampling = b.s;
      const std::vector<replica_spec>& reps = b.runs;
      std::vector<std::unique_ptr<validator>> vals;
      for (size_t k = 0; k < reps.size(); ++k) {
        validator_options vo;
        vo.stop = stop;
        vo.replica = reps[k];
        // many replicas validated at once share one memory budget (at least 8192 blocks each)
        vo.max_blocks = std::max<int64_t>(8192, criteria::max_blocks / static_cast<int64_t>(reps.size()));
        vals.push_back(std::make_unique<validator>(m, vo));
      }
      std::vector<validator*> raw;
      for (auto& v : vals) raw.push_back(v.get());
      validating_sink sink(raw);
      be->setup(m, reps);
      simulation_options so;
      so.progress_seconds = progress_seconds;
      so.stop = stop;
      so.label = std::string(to_string(b.s)) + " N = " + std::to_string(reps.front().n) + ".." +
                 std::to_string(reps.back().n) + ": ";
      const auto bt = clock::now();
      const simulation_result res = simulate(m, *be, reps, sink, so);
      const double wall = std::chrono::duration<double>(clock::now() - bt).count();
      if (res.state == simulation_result::status::interrupted) {
        for (auto& v : vals) v->finish(outcome_of(res));
        interrupted = true;  // the batch's runs are redone on resume
      } else {
        for (size_t k = 0; k < reps.size(); ++k) {
          const std::string name =
              "n" + std::to_string(reps[k].n) + "_" + to_string(b.s) + "_seed" + std::to_string(reps[k].seed);
          const validation_report rep = vals[k]->finish(outcome_of(res));
          study_row row;
          row.n = reps[k].n;
          row.sampling = b.s;
          row.seed = b.s == sampling_kind::random ? reps[k].seed : spec.network.seed;
          row.status = res.state == simulation_result::status::completed ? "completed" : "diverged";
          row.wall_seconds = wall * static_cast<double>(reps[k].n) / b.neurons;  // the batch's time, shared by size
          row.regime_net = rep.network.regime;
          row.period_net = rep.network.period;
          row.regime_mf = rep.vs_exact.regime_ref;
          row.period_mf = rep.vs_exact.period.ref;
          row.nrms.assign(4 * P, std::nan(""));
          row.dmean.assign(4 * P, std::nan(""));
          row.sdiff.assign(4 * P, std::nan(""));
          for (int i = 0; i < P && i < static_cast<int>(rep.vs_exact.pops.size()); ++i)
            for (int v = 0; v < 4; ++v) {
              row.nrms[i * 4 + v] = rep.vs_exact.pops[i].nrms[v];
              row.sdiff[i * 4 + v] = rep.vs_exact.pops[i].matched_mean_diff[v];
              row.dmean[i * 4 + v] = std::fabs(row.sdiff[i * 4 + v]);
            }
          if (res.state == simulation_result::status::diverged) spdlog::warn("{}: {}", name, res.message);
          finished += name + '\x1f' + validation_json(m, rep).dump() + '\x1f' + study_csv_line(row) + '\x1e';
        }
        batch_line = fmt::format("{}, N = {}..{}, {} run(s) in {:.1f} s", to_string(b.s), reps.front().n, reps.back().n,
                                 reps.size(), wall);
      }
    }
    finished = std::string(interrupted ? "I" : "C") + finished;
    const std::vector<std::string> parts = ranks > 1 ? comm.gather_text(finished) : std::vector<std::string>{finished};
    // Rank 0 writes up every finished run of the round (an io_error here leaves the run not done).
    for (size_t r = 0; r < parts.size() && root && !stopped; ++r) {
      if (parts[r][0] == 'I') stopped = true;
      std::istringstream runs(parts[r].substr(1));
      for (std::string rec; std::getline(runs, rec, '\x1e');) {
        if (stop && stop->load()) {  // the runs not yet written up are redone on resume
          stopped = true;
          break;
        }
        const auto a = rec.find('\x1f'), c = rec.find('\x1f', a + 1);
        write_json((runs_dir / (rec.substr(0, a) + ".json")).string(), json::parse(rec.substr(a + 1, c - a - 1)));
        append_line(csv_path, rec.substr(c + 1));  // the mark that this run is done
        ++runs_done;
      }
    }
    if (ranks > 1) {
      int64_t any = stopped || interrupted ? 1 : 0;
      comm.sum(&any, 1);
      stopped = any > 0;
    } else {
      stopped = stopped || interrupted;
    }
    if (stopped) break;
    for (size_t r = 0; r < mine_by_rank.size(); ++r)
      if (round < mine_by_rank[r].size()) work_done += work[mine_by_rank[r][round]].neurons;
    const double el = std::chrono::duration<double>(clock::now() - t0).count();
    spdlog::info("finite-size: {}/{} runs done ({}); about {:.0f} s left", runs_done, pending_runs,
                 ranks > 1 ? "round " + std::to_string(round + 1) + " of " + std::to_string(rounds) : batch_line,
                 el / std::max(work_done, 1.0) * (pending_work - work_done));
  }
  if (!root) return stopped || (stop && stop->load()) ? exit_interrupted : exit_ok;
  // The summary from the file, in a fixed order (sampling, N, seed as the study lists them), so that
  // it does not depend on the order in which runs finished (rank count, resumes).
  rows = read_study_csv(csv_path, P);
  {
    std::map<std::string, size_t> rank_of;
    size_t k = 0;
    for (auto s : st.sampling)
      for (auto n : st.n)
        for (int j = 0; j < (s == sampling_kind::random ? st.seeds : 1); ++j)
          rank_of.emplace(run_key(n, s, spec.network.seed + static_cast<uint64_t>(j)), k++);
    std::stable_sort(rows.begin(), rows.end(), [&](const study_row& x, const study_row& y) {
      const auto ix = rank_of.find(run_key(x.n, x.sampling, x.seed)),
                 iy = rank_of.find(run_key(y.n, y.sampling, y.seed));
      return (ix == rank_of.end() ? k : ix->second) < (iy == rank_of.end() ? k : iy->second);
    });
  }
  write_json((fs::path(out_dir) / "finite_size.json").string(), study_summary_json(spec, st, rows));
  if (stopped || (stop && stop->load())) {
    spdlog::warn("finite-size study interrupted; {} runs kept in {} (rerun the same command to resume)", rows.size(),
                 csv_path);
    return exit_interrupted;
  }
  // Closing summary: signed fits of the late-time mean deviations of r and <w>.
  for (auto s : st.sampling)
    for (int v : {var_r, var_w}) {
      std::vector<double> ns, ds;
      for (const auto& r : rows)
        if (r.sampling == s && r.status == "completed") {
          ns.push_back(static_cast<double>(r.n));
          ds.push_back(r.sdiff[v]);
        }
      const power_fit f = fit_signed_plateau(ns, ds);
      std::vector<double> sizes = ns;
      std::sort(sizes.begin(), sizes.end());
      const auto distinct = std::unique(sizes.begin(), sizes.end()) - sizes.begin();
      // The same rule as tools/plot_finite_size.py (docs/finite_size.md): an exponent is a result only
      // with at least 4 sizes and a standard error of at most half of it.
      const bool determined =
          f.ok && distinct >= 4 && std::isfinite(f.gamma_stderr) && f.gamma_stderr <= 0.5 * std::fabs(f.gamma);
      if (f.ok && determined)
        spdlog::info("{}: late-time mean of {} vs mean field: (net - mf)/mf = {:+.4f} {:+.3g} N^-({:.3f} +/- {:.3f})",
                     to_string(s), k_vars[v], f.d, f.c, f.gamma, f.gamma_stderr);
      else if (f.ok)
        spdlog::warn(
            "{}: late-time mean of {} vs mean field: the signed fit (net - mf)/mf = {:+.4f} {:+.3g} N^-({:.3f} +/- "
            "{:.3f}) over {} sizes does not determine its exponent (needs >= 4 sizes and a standard error <= half "
            "of it): more sizes or seeds",
            to_string(s), k_vars[v], f.d, f.c, f.gamma, f.gamma_stderr, distinct);
    }
  spdlog::info("finite-size study complete: {} rows in {}", rows.size(), csv_path);
  return 0;
}

}  // namespace izhinet
