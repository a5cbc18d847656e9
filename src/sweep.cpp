// izhinet sweep: one network per parameter value, set beside the mean field's attractor (sweep.hpp).
#include "izhinet/sweep.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "izhinet/agreement.hpp"
#include "izhinet/communicator.hpp"
#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/io.hpp"
#include "izhinet/series_analysis.hpp"
#include "izhinet/simulation.hpp"
#include "izhinet/validation_criteria.hpp"
#include "izhinet/validator.hpp"

namespace fs = std::filesystem;

namespace izhinet {

const char* to_string(sweep_direction d) {
  switch (d) {
    case sweep_direction::none:
      return "none";
    case sweep_direction::up:
      return "up";
    case sweep_direction::down:
      return "down";
    case sweep_direction::both:
      return "both";
  }
  return "?";
}

sweep_direction parse_sweep_direction(const std::string& text) {
  if (text == "none") return sweep_direction::none;
  if (text == "up") return sweep_direction::up;
  if (text == "down") return sweep_direction::down;
  if (text == "both") return sweep_direction::both;
  throw config_error("--direction", "'" + shorten(text) + "' is not one of none, up, down, both");
}

namespace {

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t");
  const auto b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

double parse_value(const std::string& text, const std::string& whole) {
  const std::string t = trim(text);
  char* end = nullptr;
  const double x = std::strtod(t.c_str(), &end);
  if (t.empty() || *end || !std::isfinite(x))
    throw config_error("--values", "'" + shorten(t) + "' in '" + shorten(whole) +
                                       "' is not a finite number (give A:B:K or a list a,b,c)");
  return x;
}

}  // namespace

std::vector<double> parse_sweep_values(const std::string& text) {
  constexpr int64_t max_values = 100000;
  std::vector<double> out;
  if (text.find(':') != std::string::npos) {
    std::vector<std::string> parts;
    std::stringstream ss(text);
    std::string p;
    while (std::getline(ss, p, ':')) parts.push_back(p);
    if (parts.size() != 3 || text.back() == ':')
      throw config_error("--values", "'" + shorten(text) + "' is not A:B:K (from A to B in K values)");
    const double a = parse_value(parts[0], text), b = parse_value(parts[1], text);
    const std::string kt = trim(parts[2]);
    char* end = nullptr;
    errno = 0;
    const long long k = std::strtoll(kt.c_str(), &end, 10);
    if (kt.empty() || *end || errno == ERANGE || k < 1 || k > max_values)
      throw config_error("--values", "K = '" + shorten(kt) + "' in '" + shorten(text) + "' is not an integer in [1, " +
                                         std::to_string(max_values) + "]");
    if (k == 1 && a != b)
      throw config_error("--values", "'" + shorten(text) + "': one value (K = 1) needs A = B; use K >= 2");
    for (long long i = 0; i < k; ++i) {
      // rounded to 12 significant digits, so that 0.08:0.28:11 gives 0.22 and not 0.22000000000000003
      const double x = k == 1 ? a : a + (b - a) * static_cast<double>(i) / static_cast<double>(k - 1);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.12g", x);
      out.push_back(std::strtod(buf, nullptr));
    }
    if (k > 1) out.back() = b;  // exactly B, not B plus rounding
  } else {
    std::stringstream ss(text);
    std::string p;
    while (std::getline(ss, p, ',')) out.push_back(parse_value(p, text));
    if (!text.empty() && text.back() == ',') throw config_error("--values", "'" + shorten(text) + "' ends in a comma");
    if (out.empty()) throw config_error("--values", "empty: give A:B:K or a list a,b,c");
    if (static_cast<int64_t>(out.size()) > max_values)
      throw config_error("--values", "more than " + std::to_string(max_values) + " values");
  }
  std::vector<double> sorted = out;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw config_error("--values", "'" + shorten(text) + "' holds a value twice");
  return out;
}

std::vector<std::string> sweep_assignments(const std::string& key, double value, int populations) {
  const std::string v = format_number(value);
  const std::string star = "population.*.";
  if (key.rfind(star, 0) == 0) {
    std::vector<std::string> out;
    for (int i = 0; i < populations; ++i)
      out.push_back("population." + std::to_string(i) + "." + key.substr(star.size()) + "=" + v);
    return out;
  }
  return {key + "=" + v};
}

std::vector<std::string> sweep_assignments(const std::string& key, double value, const model_spec& base) {
  const int P = base.num_populations();
  std::vector<std::string> out = sweep_assignments(key, value, P);
  const std::string pre = "population.", post = ".fraction";
  if (P < 2 || key.size() <= pre.size() + post.size() || key.rfind(pre, 0) != 0 ||
      key.compare(key.size() - post.size(), post.size(), post) != 0)
    return out;
  const std::string idx = key.substr(pre.size(), key.size() - pre.size() - post.size());
  if (idx.empty() || idx.find_first_not_of("0123456789") != std::string::npos || idx.size() > 9) return out;
  const int k = std::stoi(idx);
  if (k >= P) return out;  // the loader names the valid range
  const double rest0 = 1.0 - base.populations[static_cast<size_t>(k)].fraction;
  const int last = k == P - 1 ? P - 2 : P - 1;
  double sum = value;
  for (int i = 0; i < P; ++i) {
    if (i == k) continue;
    // The last one takes what is left: the sum is 1 to rounding (two populations: exactly 1 - x).
    const double f =
        i == last ? 1.0 - sum
                  : base.populations[static_cast<size_t>(i)].fraction * (1.0 - value) / (rest0 > 0 ? rest0 : 1.0);
    sum += f;
    out.push_back(pre + std::to_string(i) + post + "=" + format_number(f));
  }
  return out;
}

std::string sweep_csv_header(const std::string& key, int P) {
  std::string h = key + ",direction,regime,period";
  for (const std::string prefix : {"", "mf_"}) {
    if (!prefix.empty()) h += ",mf_regime,mf_period";
    for (int i = 0; i < P; ++i)
      for (const char* v : variable_names)
        for (const char* s : {"min", "max", "mean"}) h += "," + prefix + v + std::to_string(i) + "_" + s;
  }
  return h + ",verdict,attractors,wall_seconds";
}

namespace {

/// Appends one line (one write(2), then fsync): the row is the mark that a value is done.
void append_line(const std::string& path, const std::string& line) {
  line_file f(path, line_file::open_mode::append);
  f.line(line);
  f.close();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw config_error("--out", "cannot read '" + shorten(path, 200) + "'");
  return text;
}

/// The key of a finished row: direction and the value as written.
std::string row_key(const std::string& direction, const std::string& value) { return direction + " " + value; }

/// The state carried from one value to the next (up/down/both): the backend's
/// whole dynamic state, tagged with the run it ends.
constexpr char k_state_magic[8] = {'I', 'Z', 'S', 'W', 'S', 'T', '0', '2'};

std::string encode_state(const backend_state& st, const std::string& tag) {
  std::string b(k_state_magic, sizeof k_state_magic);
  auto put_u64 = [&](uint64_t x) { b.append(reinterpret_cast<const char*>(&x), sizeof x); };
  auto put_str = [&](const std::string& x) {
    put_u64(x.size());
    b += x;
  };
  put_str(tag);
  put_u64(st.arrays.size());
  for (const auto& a : st.arrays) {
    put_str(a.name);
    put_u64(a.per == state_array::extent::per_neuron ? 0 : 1);
    put_u64(a.values.size());
    b.append(reinterpret_cast<const char*>(a.values.data()), a.values.size() * sizeof(double));
  }
  return b;
}

/// Reads a state file; false when it is missing, torn, or not the state after `tag`.
bool decode_state(const std::string& path, const std::string& tag, backend_state& st) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  const std::string b = read_text(path);
  size_t pos = sizeof k_state_magic;
  if (b.size() < pos || std::memcmp(b.data(), k_state_magic, sizeof k_state_magic) != 0) return false;
  auto get_u64 = [&](uint64_t& x) {
    if (pos + sizeof x > b.size()) return false;
    std::memcpy(&x, b.data() + pos, sizeof x);
    pos += sizeof x;
    return true;
  };
  auto get_str = [&](std::string& x) {
    uint64_t len = 0;
    if (!get_u64(len) || len > b.size() - pos) return false;
    x = b.substr(pos, len);
    pos += len;
    return true;
  };
  std::string t;
  uint64_t count = 0;
  if (!get_str(t) || t != tag || !get_u64(count) || count > 64) return false;
  st.arrays.clear();
  for (uint64_t i = 0; i < count; ++i) {
    state_array a;
    uint64_t per = 0, len = 0;
    if (!get_str(a.name) || !get_u64(per) || !get_u64(len) || len > (b.size() - pos) / sizeof(double)) return false;
    a.per = per == 0 ? state_array::extent::per_neuron : state_array::extent::per_population;
    a.values.resize(len);
    std::memcpy(a.values.data(), b.data() + pos, len * sizeof(double));
    pos += len * sizeof(double);
    st.arrays.push_back(std::move(a));
  }
  return pos == b.size();
}

/// The override member of a key that replicas may set on their own
/// (population.<i>.X or population.*.X, X one of population_override's
/// members), or "" when the key needs a model of its own per value.
std::string override_field(const std::string& key, int P) {
  const auto dot1 = key.find('.'), dot2 = key.rfind('.');
  if (key.compare(0, dot1, "population") != 0 || dot1 == std::string::npos || dot2 == dot1) return "";
  const std::string pop = key.substr(dot1 + 1, dot2 - dot1 - 1), field = key.substr(dot2 + 1);
  if (pop != "*" && (pop.empty() || pop.find_first_not_of("0123456789") != std::string::npos || std::stoi(pop) >= P))
    return "";
  for (const char* f : {"eta_bar", "delta", "alpha", "a", "b", "w_jump", "I_ext"})
    if (field == f) return field;
  return "";
}

/// A replica of `base` with `field` of the key's population(s) set to `value`.
replica_spec with_override(const model_spec& base, const std::string& field, const std::string& key, double value) {
  const int P = base.num_populations();
  replica_spec r{base.network.n, base.network.seed};
  r.overrides.assign(static_cast<size_t>(P), population_override{});
  const std::string pop = key.substr(key.find('.') + 1, key.rfind('.') - key.find('.') - 1);
  for (int i = 0; i < P; ++i) {
    if (pop != "*" && std::stoi(pop) != i) continue;
    population_override& o = r.overrides[static_cast<size_t>(i)];
    if (field == "eta_bar") o.eta_bar = value;
    if (field == "delta") o.delta = value;
    if (field == "alpha") o.alpha = value;
    if (field == "a") o.a = value;
    if (field == "b") o.b = value;
    if (field == "w_jump") o.w_jump = value;
    if (field == "I_ext") o.I_ext = value;
  }
  return r;
}

struct pending_run {
  sweep_direction dir;  ///< up or down (none for independent values)
  double value;
};

}  // namespace

int run_sweep(const std::string& config_text, const std::string& config_source,
              const std::vector<std::string>& overrides, const sweep_params& sw, const std::string& out_dir,
              const std::function<std::unique_ptr<backend>()>& make_backend, const std::atomic<bool>* stop,
              double progress_seconds, bool overwrite, communicator* comm_in) {
  using clock = std::chrono::steady_clock;
  if (sw.values.empty()) throw config_error("--values", "empty: give A:B:K or a list a,b,c");
  if (sw.key.empty()) throw config_error("--param", "missing: give the configuration key to sweep");
  // The base model (without the swept key) and one model per value: every
  // value is checked before anything runs, so a bad key or value fails at once.
  auto with_n = [&](model_spec m) {
    if (sw.n > 0) m.network.n = sw.n;
    m.network.replicas = 1;
    m.meanfield.enabled = true;
    validate(m);
    return m;
  };
  const model_spec base = with_n(load_config_string(config_text, overrides, config_source));
  const int P = base.num_populations();
  if (sw.key.rfind("population.*.", 0) != 0 && sw.key.find('*') != std::string::npos)
    throw config_error("--param", "'" + shorten(sw.key) + "': only population.*.KEY may hold a '*'");
  std::map<double, model_spec> models;
  for (double v : sw.values) {
    std::vector<std::string> sets = overrides;
    for (auto& a : sweep_assignments(sw.key, v, base)) sets.push_back(a);
    model_spec m;
    try {
      m = with_n(load_config_string(config_text, sets, config_source));
    } catch (const config_error& e) {
      throw config_error("--param",
                         std::string(e.what()) + " (sweeping " + shorten(sw.key) + " at " + format_number(v) + ")");
    }
    if (m.populations.size() != base.populations.size())
      throw config_error("--param", "'" + shorten(sw.key) + "' changes the number of populations");
    models.emplace(v, m);
  }
  if (models.size() > 1) {
    const std::string first = to_toml(models.begin()->second);
    bool changes = false;
    for (const auto& [v, m] : models) changes = changes || to_toml(m) != first;
    if (!changes)
      throw config_error("--param", "'" + shorten(sw.key) +
                                        "' does not change the model (every value gives the same "
                                        "configuration)");
  }
  for (const auto& [v, m] : models)
    for (const auto& p : m.populations)
      if (p.I_ext.type != input_spec::kind::constant)
        throw config_error("--param",
                           "sweeps need a constant input I_ext (the regime at each value is compared "
                           "with the mean field's attractors)");

  // Over MPI ranks (docs/mpi.md): rank 0 owns the folder and is the only writer; the values are dealt
  // to the ranks in batches, and rank 0 appends every round's finished rows in the values' order.
  communicator& comm = comm_in != nullptr ? *comm_in : world();
  const bool root = comm.root();
  const int ranks = comm.size();
  if (ranks > 1 && sw.direction != sweep_direction::none)
    throw config_error("--direction", std::string(to_string(sw.direction)) +
                                          ": a carried sweep is sequential (each value starts from the previous "
                                          "value's final state) and runs as one process; start it without mpirun, "
                                          "or use --direction none over MPI ranks");
  // Refusals that need no folder come before it (so --overwrite removes nothing first): the backend, and on
  // the CPU the memory of one network (every value's network has the same size).
  auto be = make_backend();
  if (be->name() == "cpu") check_host_memory(models.begin()->second, 1);
  set_lockstep(false);  // from here on rank 0 alone reads and writes the folder
  std::unique_ptr<output_folder> folder;
  if (root)
    folder = std::make_unique<output_folder>(
        out_dir, overwrite ? output_folder::existing::overwrite : output_folder::existing::resume);
  const std::string id_path = (fs::path(out_dir) / "sweep.txt").string();
  const std::string csv_path = (fs::path(out_dir) / "sweep.csv").string();
  std::string identity = "izhinet sweep\nkey = " + sw.key + "\ndirection = " + to_string(sw.direction) + "\nvalues =";
  for (double v : sw.values) identity += " " + format_number(v);
  // A sweep.txt written before the shortest number form has the configuration's numbers at 17 digits.
  const std::string legacy_identity = identity + "\n\n" + to_toml_legacy(base);
  identity += "\n\n" + to_toml(base);
  const std::string header = sweep_csv_header(sw.key, P);
  std::set<std::string> done;
  std::error_code ec;
  if (root) {
    if (fs::exists(fs::symlink_status(id_path, ec))) {
      if (!fs::is_regular_file(id_path, ec) || [&] {
            const std::string text = read_text(id_path);
            return text != identity && text != legacy_identity;
          }())
        throw config_error("--out",
                           "folder '" + shorten(out_dir, 200) +
                               "' holds a sweep with other parameters (sweep.txt); use another --out, the same "
                               "arguments to resume it, or --overwrite");
    } else {
      for (const auto& e : fs::directory_iterator(out_dir, ec))
        if (e.path().filename() != output_folder::lock_name)
          throw config_error("--out", "folder '" + shorten(out_dir, 200) + "' holds '" +
                                          shorten(e.path().filename().string(), 60) +
                                          "' but no sweep.txt (not a sweep); use another --out, or --overwrite");
      write_file_atomic(id_path, identity);
    }
    if (fs::exists(csv_path) && fs::file_size(csv_path) > 0) {
      std::string text = read_text(csv_path);
      if (text.back() != '\n') {  // a sweep killed in the middle of a write leaves a torn last line: cut it
        const auto keep = text.find_last_of('\n');
        fs::resize_file(csv_path, keep == std::string::npos ? 0 : keep + 1, ec);
        if (ec) throw io_error(csv_path, ec.value(), "truncate");
        text.resize(keep == std::string::npos ? 0 : keep + 1);
        spdlog::warn("sweep: dropped a partly written last line of {}", csv_path);
      }
      std::stringstream ss(text);
      std::string line;
      size_t ln = 0;
      while (std::getline(ss, line)) {
        ++ln;
        if (ln == 1) {
          if (line != header)
            throw config_error("--out", "'" + shorten(csv_path, 200) + "' line 1 is not the sweep's header");
          continue;
        }
        const auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
        if (c1 == std::string::npos || c2 == std::string::npos)
          throw config_error("--out", "'" + shorten(csv_path, 200) + "' line " + std::to_string(ln) +
                                          " is not a sweep row; fix or delete it (a deleted value is redone)");
        done.insert(row_key(line.substr(c1 + 1, c2 - c1 - 1), line.substr(0, c1)));
      }
    }
    if (!fs::exists(csv_path) || fs::file_size(csv_path) == 0) append_line(csv_path, header);
  }
  if (ranks > 1) {
    // Every rank needs the list of finished values to build the same work list.
    std::string keys;
    for (const auto& k : done) keys += k + "\n";
    comm.broadcast(keys);
    done.clear();
    std::istringstream in(keys);
    for (std::string k; std::getline(in, k);) done.insert(k);
  }

  // The runs, in order.
  std::vector<double> up = sw.values, down = sw.values;
  std::sort(up.begin(), up.end());
  std::sort(down.rbegin(), down.rend());
  std::vector<pending_run> runs;
  if (sw.direction == sweep_direction::none)
    for (double v : sw.values) runs.push_back({sweep_direction::none, v});
  if (sw.direction == sweep_direction::up || sw.direction == sweep_direction::both)
    for (double v : up) runs.push_back({sweep_direction::up, v});
  if (sw.direction == sweep_direction::down) {
    for (double v : down) runs.push_back({sweep_direction::down, v});
  } else if (sw.direction == sweep_direction::both) {
    for (size_t i = 1; i < down.size(); ++i) runs.push_back({sweep_direction::down, down[i]});
  }
  // `both` turns at the largest value: its up row is also the first of the way down.
  const bool carried = sw.direction != sweep_direction::none;
  size_t pending = 0;
  for (const auto& r : runs)
    if (!done.count(row_key(to_string(r.dir), format_number(r.value)))) ++pending;
  const int64_t n = base.network.n;
  spdlog::info("sweep of {}: {} value(s), direction {}, N = {}; {} of {} network(s) already done in {}", sw.key,
               sw.values.size(), to_string(sw.direction), n, runs.size() - pending, runs.size(), out_dir);

  spdlog::info("backend {}: {}", be->name(), be->device());
  backend_state state;
  bool have_state = false;
  // The state after run `tag` is kept in its own file, written before the run's row and
  // removed once a later run's row is in: a kill between the two writes leaves both files,
  // and the resumed sweep takes the one of its last row.
  auto state_path = [&](const std::string& dir, const std::string& vtext) {
    return (fs::path(out_dir) / ("state_" + dir + "_" + vtext + ".bin")).string();
  };
  if (carried && pending < runs.size()) {
    // resume: the state after the last finished run in the order above
    size_t last = 0;
    for (size_t i = 0; i < runs.size(); ++i)
      if (done.count(row_key(to_string(runs[i].dir), format_number(runs[i].value)))) last = i;
    const std::string d = to_string(runs[last].dir), v = format_number(runs[last].value);
    const std::string path = state_path(d, v);
    have_state = decode_state(path, d + " " + v, state);
    if (have_state) {
      try {
        check_state(state, base, {replica_spec{n, base.network.seed}});
      } catch (const std::exception&) {
        have_state = false;
      }
    }
    if (!have_state)
      throw config_error("--out", "'" + shorten(path, 200) + "' (the state after " + sw.key + " = " + v + ", " + d +
                                      ", which the next value starts from) is missing or damaged; use --overwrite "
                                      "to start the sweep again");
  }
  const auto t0 = clock::now();
  size_t finished = 0;

  // One finished network: its row of sweep.csv, and what the log says of it.
  auto make_row = [&](const pending_run& r, const simulation_result& res, const validation_report& report,
                      double wall) {
    const std::string vtext = format_number(r.value);
    std::string line = vtext + "," + to_string(r.dir);
    const window_analysis& net = report.network;
    const bool diverged = res.state == simulation_result::status::diverged;
    line += "," + (diverged ? std::string("diverged") : net.regime);
    csv_append(line, net.regime == "oscillation" ? net.period : std::nan(""));
    for (int i = 0; i < P; ++i)
      for (int v = 0; v < 4; ++v) {
        const bool have = !diverged && i < static_cast<int>(net.pops.size());
        const variable_stats st = have ? net.pops[i][v] : variable_stats{};
        csv_append(line, st.min);
        csv_append(line, st.max);
        csv_append(line, st.mean);
      }
    // The mean field's prediction: the attractor the validator compared with, or its trajectory's window.
    const comparison& c = report.vs_exact;
    const auto& atts = report.exact.attractors.attractors;
    std::string mf_regime = "unavailable";
    double mf_period = std::nan("");
    std::vector<std::array<variable_stats, 4>> mf_pops;
    if (c.attractor >= 0 && c.attractor < static_cast<int>(atts.size())) {
      const mf_attractor& a = atts[static_cast<size_t>(c.attractor)];
      mf_regime = a.kind == "orbit" ? "oscillation" : a.kind;
      mf_period = a.period;
      mf_pops = a.pops;
    } else if (report.exact.available) {
      mf_regime = report.exact.trajectory.regime;
      mf_period = report.exact.trajectory.period;
      mf_pops = report.exact.trajectory.pops;
    }
    line += "," + mf_regime;
    csv_append(line, mf_regime == "oscillation" ? mf_period : std::nan(""));
    for (int i = 0; i < P; ++i)
      for (int v = 0; v < 4; ++v) {
        const variable_stats st = i < static_cast<int>(mf_pops.size()) ? mf_pops[i][v] : variable_stats{};
        csv_append(line, st.min);
        csv_append(line, st.max);
        csv_append(line, st.mean);
      }
    line += "," + (diverged ? std::string("no verdict") : c.outcome);
    csv_append(line, static_cast<int64_t>(atts.size()));
    csv_append(line, wall);
    if (diverged) spdlog::warn("{} = {}: {}", sw.key, vtext, res.message);
    const std::string note =
        fmt::format("network {}{}, mean field {}{} ({})", diverged ? "diverged" : net.regime,
                    net.regime == "oscillation" ? " period " + short_number(net.period) : "", mf_regime,
                    mf_regime == "oscillation" ? " period " + short_number(mf_period) : "", c.outcome);
    return std::make_pair(line, note);
  };

  // Writes one finished network's row (and, carried, first the state the next value starts from).
  auto write_up = [&](const std::string& dir, const std::string& vtext, const std::string& line,
                      const std::string& note) {
    if (carried) {  // the next value starts here; written before the row, so a row always has its state
      be->get_state(state);
      have_state = true;
      write_file_atomic(state_path(dir, vtext), encode_state(state, dir + " " + vtext));
    }
    append_line(csv_path, line);  // the mark that this value is done
    if (carried)                  // only the state after this row is needed from now on
      for (const auto& e : fs::directory_iterator(out_dir, ec)) {
        const std::string f = e.path().filename().string();
        if (f.rfind("state_", 0) == 0 && e.path().extension() == ".bin" && e.path() != fs::path(state_path(dir, vtext)))
          fs::remove(e.path(), ec);
      }
    ++finished;
    const double el = std::chrono::duration<double>(clock::now() - t0).count();
    spdlog::info("sweep: {} = {}{}: {}; {}/{} done, about {:.0f} s left", sw.key, vtext,
                 carried ? " (" + dir + ")" : "", note, finished, pending,
                 el / static_cast<double>(finished) * static_cast<double>(pending - finished));
  };

  std::vector<pending_run> todo;
  for (const auto& r : runs)
    if (!done.count(row_key(to_string(r.dir), format_number(r.value)))) todo.push_back(r);

  bool stopped = false;
  if (!carried) {
    // Independent values in batches. A per-population parameter that replicas may override
    // (network_layout.hpp): the values of a batch run together as replicas of one backend (one
    // launch per step on a GPU), bit for bit the same networks as one run per value; a batch is
    // bounded in neuron-steps so that a killed sweep loses at most one batch. Any other key: one
    // value per batch (a model of its own). Over MPI ranks the batches are also bounded by the
    // pending values over the ranks, and dealt in turn: round k runs batches kK..kK+K-1 on ranks
    // 0..K-1, and rank 0 appends their rows in that order, which is the values' order.
    const std::string field = override_field(sw.key, P);
    double batch_neuron_steps = be->capabilities().batch_neuron_steps;
    const double steps = static_cast<double>(base.num_steps());
    if (ranks > 1)
      batch_neuron_steps =
          std::min(batch_neuron_steps,
                   std::max(1.0, std::ceil(static_cast<double>(todo.size()) / ranks) * static_cast<double>(n) * steps));
    std::vector<std::vector<pending_run>> batches;
    for (size_t at = 0; at < todo.size();) {
      std::vector<pending_run> batch;
      while (at < todo.size() && (batch.empty() || (!field.empty() && static_cast<double>(batch.size() + 1) *
                                                                              static_cast<double>(n) * steps <=
                                                                          batch_neuron_steps)))
        batch.push_back(todo[at++]);
      batches.push_back(std::move(batch));
    }
    const size_t K = static_cast<size_t>(ranks);
    const size_t rounds = (batches.size() + K - 1) / K;
    if (ranks > 1)
      spdlog::info("sweep: {} value(s) in {} batch(es) over {} MPI ranks, {} round(s)", todo.size(), batches.size(),
                   ranks, rounds);
    for (size_t round = 0; round < rounds && !stopped; ++round) {
      bool stop_now = stop && stop->load();
      if (ranks > 1) {
        int64_t any = stop_now ? 1 : 0;
        comm.sum(&any, 1);
        stop_now = any > 0;
      }
      if (stop_now) {
        stopped = true;
        break;
      }
      // This rank's batch of the round: its rows with their log notes, and whether it was interrupted.
      std::string out;
      bool interrupted = false;
      const size_t k = round * K + static_cast<size_t>(comm.rank());
      if (k < batches.size()) {
        const std::vector<pending_run>& batch = batches[k];
        const model_spec& m = field.empty() ? models.at(batch.front().value) : base;
        std::vector<replica_spec> reps;
        for (const auto& r : batch)
          reps.push_back(field.empty() ? replica_spec{m.network.n, m.network.seed}
                                       : with_override(base, field, sw.key, r.value));
        be->setup(m, reps);
        std::vector<std::unique_ptr<validator>> vals;
        for (size_t j = 0; j < batch.size(); ++j) {
          validator_options vo;
          vo.stop = stop;
          vo.replica = reps[j];
          // many replicas validated at once share one memory budget (at least 8192 blocks each)
          vo.max_blocks = std::max<int64_t>(8192, criteria::max_blocks / static_cast<int64_t>(batch.size()));
          vals.push_back(std::make_unique<validator>(models.at(batch[j].value), vo));
        }
        std::vector<validator*> raw;
        for (auto& v : vals) raw.push_back(v.get());
        validating_sink sink(raw);
        simulation_options so;
        so.progress_seconds = progress_seconds;
        so.stop = stop;
        so.label = batch.size() == 1
                       ? sw.key + " = " + format_number(batch.front().value) + ": "
                       : sw.key + " = " + format_number(batch.front().value) + ".." +
                             format_number(batch.back().value) + " (" + std::to_string(batch.size()) + " networks): ";
        const auto bt = clock::now();
        const simulation_result res = simulate(m, *be, reps, sink, so);
        const double wall = std::chrono::duration<double>(clock::now() - bt).count();
        if (res.state == simulation_result::status::interrupted || (stop && stop->load())) {
          for (auto& v : vals) v->finish(outcome_of(res));
          interrupted = true;  // the batch's values are redone on resume
        } else {
          for (size_t j = 0; j < batch.size(); ++j) {
            const validation_report report = vals[j]->finish(outcome_of(res));
            const auto row = make_row(batch[j], res, report, wall / static_cast<double>(batch.size()));
            out += row.first + '\x1f' + row.second + '\x1e';
          }
        }
      }
      out = std::string(interrupted ? "I" : "C") + out;
      const std::vector<std::string> parts = ranks > 1 ? comm.gather_text(out) : std::vector<std::string>{out};
      // Rank 0 writes up the round's rows (an io_error here leaves the value not done).
      for (size_t r = 0; r < parts.size() && root && !stopped; ++r) {
        if (parts[r][0] == 'I') stopped = true;
        std::istringstream recs(parts[r].substr(1));
        for (std::string rec; std::getline(recs, rec, '\x1e');) {
          if (stop && stop->load()) {  // the values not yet written up are redone on resume
            stopped = true;
            break;
          }
          const auto a = rec.find('\x1f');
          const std::string line = rec.substr(0, a);
          write_up("none", line.substr(0, line.find(',')), line, rec.substr(a + 1));
        }
      }
      if (ranks > 1) {
        int64_t any = stopped || interrupted ? 1 : 0;
        comm.sum(&any, 1);
        stopped = any > 0;
      } else {
        stopped = stopped || interrupted;
      }
    }
    todo.clear();
  }

  for (const auto& r : todo) {
    if (stop && stop->load()) break;
    const std::string dir = to_string(r.dir), vtext = format_number(r.value);
    const model_spec& m = models.at(r.value);
    const replica_spec rep{m.network.n, m.network.seed};
    be->setup(m, {rep});
    if (carried && have_state) be->set_state(state);
    validator_options vo;
    vo.stop = stop;
    vo.replica = rep;
    validator val(m, vo);
    validating_sink sink({&val});
    simulation_options so;
    so.progress_seconds = progress_seconds;
    so.stop = stop;
    so.label = sw.key + " = " + vtext + (carried ? " (" + dir + ")" : "") + ": ";
    const auto bt = clock::now();
    const simulation_result res = simulate(m, *be, {rep}, sink, so);
    const double wall = std::chrono::duration<double>(clock::now() - bt).count();
    const validation_report report = val.finish(outcome_of(res));
    if (res.state == simulation_result::status::interrupted || (stop && stop->load())) break;
    const auto row = make_row(r, res, report, wall);
    write_up(dir, vtext, row.first, row.second);
  }
  if (!root) return stopped || (stop && stop->load()) ? exit_interrupted : exit_ok;
  if (stopped || (stop && stop->load())) {
    spdlog::warn("sweep interrupted; {} value(s) kept in {} (rerun the same command to resume)",
                 runs.size() - pending + finished, csv_path);
    return exit_interrupted;
  }
  spdlog::info("sweep complete: {} row(s) in {}", runs.size(), csv_path);
  return exit_ok;
}

}  // namespace izhinet
