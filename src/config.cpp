#include "izhinet/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "izhinet/errors.hpp"

namespace izhinet {
namespace {

const std::vector<std::string> k_sections = {"network", "population", "synapse", "run", "meanfield"};
const std::vector<std::string> k_network_keys = {"n", "sampling", "seed", "replicas"};
const std::vector<std::string> k_population_keys = {"fraction", "eta_bar", "delta", "alpha",  "a",
                                                    "b",        "w_jump",  "I_ext", "v_peak", "v_reset"};
const std::vector<std::string> k_synapse_keys = {"g", "e_r", "tau_s", "s_jump"};
const std::vector<std::string> k_run_keys = {"t_end",         "dt",        "scheme", "record_every", "rate_window",
                                             "spike_neurons", "max_spikes"};
const std::vector<std::string> k_meanfield_keys = {"enabled", "rtol", "atol", "transient", "slow_finite_peak"};

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggestion(const std::string& word, const std::vector<std::string>& valid) {
  const std::string best = closest_match(word, valid);
  std::string list;
  for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
  return best.empty() ? " (valid keys: " + list + ")" : " (did you mean '" + best + "'? valid keys: " + list + ")";
}

void check_keys(const toml::table& t, const std::string& prefix, const std::vector<std::string>& valid) {
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    if (std::find(valid.begin(), valid.end(), key) == valid.end())
      throw config_error(prefix + key, "unknown key" + suggestion(key, valid));
  }
}

const char* type_name(const toml::node& n) {
  if (n.is_integer()) return "an integer";
  if (n.is_floating_point()) return "a number";
  if (n.is_string()) return "a string";
  if (n.is_boolean()) return "a boolean";
  if (n.is_array()) return "an array";
  if (n.is_table()) return "a table";
  return "a date/time";
}

double get_double(const toml::node& n, const std::string& key) {
  if (!n.is_number()) throw config_error(key, std::string("expected a number, got ") + type_name(n));
  return n.value<double>().value();
}

void read_double(const toml::table& t, const char* name, const std::string& prefix, double& out) {
  if (const toml::node* n = t.get(name)) out = get_double(*n, prefix + name);
}

void read_int(const toml::table& t, const char* name, const std::string& prefix, int64_t& out) {
  if (const toml::node* n = t.get(name)) {
    if (n->is_floating_point()) {
      const double d = n->value<double>().value();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
        out = static_cast<int64_t>(d);
        return;
      }
    }
    if (!n->is_integer()) throw config_error(prefix + name, std::string("expected an integer, got ") + type_name(*n));
    out = n->value<int64_t>().value();
  }
}

void read_bool(const toml::table& t, const char* name, const std::string& prefix, bool& out) {
  if (const toml::node* n = t.get(name)) {
    if (!n->is_boolean())
      throw config_error(prefix + name, std::string("expected true or false, got ") + type_name(*n));
    out = n->value<bool>().value();
  }
}

std::string read_string(const toml::table& t, const char* name, const std::string& prefix, const std::string& def) {
  if (const toml::node* n = t.get(name)) {
    if (!n->is_string()) throw config_error(prefix + name, std::string("expected a string, got ") + type_name(*n));
    return n->value<std::string>().value();
  }
  return def;
}

std::vector<double> read_vector(const toml::node& n, const std::string& key) {
  const toml::array* a = n.as_array();
  if (!a) throw config_error(key, std::string("expected an array of numbers, got ") + type_name(n));
  std::vector<double> out;
  for (size_t i = 0; i < a->size(); ++i) out.push_back(get_double(*a->get(i), key + "[" + std::to_string(i) + "]"));
  return out;
}

const toml::table& as_table(const toml::node& n, const std::string& key) {
  const toml::table* t = n.as_table();
  if (!t) throw config_error(key, std::string("expected a table, got ") + type_name(n));
  return *t;
}

input_spec read_input(const toml::node& n, const std::string& key) {
  input_spec in;
  if (n.is_number()) {
    in.value = get_double(n, key);
    return in;
  }
  if (!n.is_table())
    throw config_error(
        key,
        std::string("expected a number or a table {kind = \"steps\"|\"table\", times, values}, got ") + type_name(n));
  const toml::table& t = *n.as_table();
  check_keys(t, key + ".", {"kind", "times", "values", "before"});
  const std::string kind = read_string(t, "kind", key + ".", "");
  if (kind == "steps")
    in.type = input_spec::kind::steps;
  else if (kind == "table")
    in.type = input_spec::kind::table;
  else if (kind == "constant")
    in.type = input_spec::kind::constant;
  else
    throw config_error(key + ".kind", "'" + shorten(kind) + "' is not one of constant, steps, table");
  read_double(t, "before", key + ".", in.value);
  if (in.type == input_spec::kind::constant) return in;
  const toml::node* times = t.get("times");
  const toml::node* values = t.get("values");
  if (!times) throw config_error(key + ".times", "missing (required for kind = \"" + kind + "\")");
  if (!values) throw config_error(key + ".values", "missing (required for kind = \"" + kind + "\")");
  in.times = read_vector(*times, key + ".times");
  in.values = read_vector(*values, key + ".values");
  return in;
}

void apply_override(toml::table& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw config_error("--set", "'" + shorten(assignment) + "' is not of the form key.path=value (e.g. run.t_end=800)");
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  std::vector<std::string> parts;
  {
    std::stringstream ss(path);
    std::string p;
    while (std::getline(ss, p, '.')) parts.push_back(p);
  }
  if (parts.size() < 2) throw config_error(path, "--set needs section.key (e.g. network.n=1000)");
  // The value is TOML ("1e-3", "true", "[1.0, 2.0]", "{ kind = \"steps\", ... }", "\"exact\""); a bare
  // word (letters, digits, _ and -, starting with a letter) is taken as a string.
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + text);
  } catch (const toml::parse_error& e) {
    const bool bare_word = !text.empty() && std::isalpha(static_cast<unsigned char>(text[0])) &&
                           std::all_of(text.begin(), text.end(), [](char c) {
                             return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                           });
    if (!bare_word)
      throw config_error(path, "'" + shorten(text) + "' is not a TOML value: " + std::string(e.description()));
    parsed = toml::table{{"v", text}};
  }
  if (parsed.size() != 1) throw config_error(path, "'" + shorten(text) + "' is more than one TOML value");
  toml::node* value = parsed.get("v");

  toml::table* t = &root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& p = parts[i];
    toml::node* next = t->get(p);
    if (i == 0 && std::find(k_sections.begin(), k_sections.end(), p) == k_sections.end())
      throw config_error(path, "unknown section '" + shorten(p) + "'" + suggestion(p, k_sections));
    if (!next) {
      if (p == "population") throw config_error(path, "the configuration has no [[population]] tables");
      t->insert_or_assign(p, toml::table{});
      next = t->get(p);
    }
    if (toml::array* a = next->as_array()) {
      if (i + 1 >= parts.size() - 1 + 1) throw config_error(path, "needs an index");
      const std::string& idx = parts[++i];
      char* end = nullptr;
      const long k = std::strtol(idx.c_str(), &end, 10);
      if (end == idx.c_str() || *end || k < 0 || static_cast<size_t>(k) >= a->size())
        throw config_error(path,
                           "index '" + shorten(idx) + "' out of range: valid 0.." + std::to_string(a->size() - 1));
      if (i + 1 >= parts.size()) throw config_error(path, "needs a key after the index");
      next = a->get(static_cast<size_t>(k));
    }
    t = next->as_table();
    if (!t) throw config_error(path, "'" + shorten(p) + "' is not a table");
  }
  t->insert_or_assign(parts.back(), *value);
}

model_spec parse_table(const toml::table& root) {
  check_keys(root, "", k_sections);
  model_spec spec;
  spec.populations.clear();

  if (const toml::node* n = root.get("network")) {
    const toml::table& t = as_table(*n, "network");
    check_keys(t, "network.", k_network_keys);
    read_int(t, "n", "network.", spec.network.n);
    const std::string s = read_string(t, "sampling", "network.", "quantiles");
    if (s == "quantiles")
      spec.network.sampling = sampling_kind::quantiles;
    else if (s == "random")
      spec.network.sampling = sampling_kind::random;
    else
      throw config_error("network.sampling", "'" + shorten(s) + "' is not one of quantiles, random");
    int64_t seed = static_cast<int64_t>(spec.network.seed);
    read_int(t, "seed", "network.", seed);
    if (seed < 0) throw config_error("network.seed", "must be >= 0, got " + std::to_string(seed));
    spec.network.seed = static_cast<uint64_t>(seed);
    int64_t replicas = spec.network.replicas;
    read_int(t, "replicas", "network.", replicas);
    if (replicas < 1 || replicas > 1000000)
      throw config_error("network.replicas", "must be in [1, 1000000], got " + std::to_string(replicas));
    spec.network.replicas = static_cast<int>(replicas);
  }

  const toml::node* pops = root.get("population");
  if (!pops) throw config_error("population", "missing: at least one [[population]] table is required");
  const toml::array* pa = pops->as_array();
  if (!pa || pa->empty())
    throw config_error("population", "expected one or more [[population]] tables (an array of tables)");
  for (size_t i = 0; i < pa->size(); ++i) {
    const std::string prefix = "population." + std::to_string(i) + ".";
    const toml::table& t = as_table(*pa->get(i), "population." + std::to_string(i));
    check_keys(t, prefix, k_population_keys);
    population_params p;
    read_double(t, "fraction", prefix, p.fraction);
    read_double(t, "eta_bar", prefix, p.eta_bar);
    read_double(t, "delta", prefix, p.delta);
    read_double(t, "alpha", prefix, p.alpha);
    read_double(t, "a", prefix, p.a);
    read_double(t, "b", prefix, p.b);
    read_double(t, "w_jump", prefix, p.w_jump);
    read_double(t, "v_peak", prefix, p.v_peak);
    read_double(t, "v_reset", prefix, p.v_reset);
    if (const toml::node* n = t.get("I_ext")) p.I_ext = read_input(*n, prefix + "I_ext");
    spec.populations.push_back(p);
  }

  const size_t P = spec.populations.size();
  const toml::node* syn = root.get("synapse");
  if (!syn) throw config_error("synapse", "missing: the [synapse] table (g, e_r, tau_s, s_jump) is required");
  {
    const toml::table& t = as_table(*syn, "synapse");
    check_keys(t, "synapse.", k_synapse_keys);
    for (const char* key : {"g", "e_r", "tau_s", "s_jump"})
      if (!t.get(key)) throw config_error(std::string("synapse.") + key, "missing (required)");
    const toml::array* g = t.get("g")->as_array();
    if (!g || g->size() != P)
      throw config_error("synapse.g", "expected a " + std::to_string(P) + " x " + std::to_string(P) +
                                          " array of arrays (onto population i from population j)");
    for (size_t i = 0; i < P; ++i) {
      auto row = read_vector(*g->get(i), "synapse.g[" + std::to_string(i) + "]");
      if (row.size() != P)
        throw config_error("synapse.g", "row " + std::to_string(i) + " has " + std::to_string(row.size()) +
                                            " entries; expected " + std::to_string(P) + " (one per population)");
      spec.synapse.g.push_back(row);
    }
    spec.synapse.e_r = read_vector(*t.get("e_r"), "synapse.e_r");
    spec.synapse.tau_s = read_vector(*t.get("tau_s"), "synapse.tau_s");
    spec.synapse.s_jump = read_vector(*t.get("s_jump"), "synapse.s_jump");
  }

  if (const toml::node* n = root.get("run")) {
    const toml::table& t = as_table(*n, "run");
    check_keys(t, "run.", k_run_keys);
    read_double(t, "t_end", "run.", spec.run.t_end);
    read_double(t, "dt", "run.", spec.run.dt);
    const std::string s = read_string(t, "scheme", "run.", "paper");
    if (s == "paper")
      spec.run.scheme = scheme_kind::paper;
    else if (s == "exact")
      spec.run.scheme = scheme_kind::exact;
    else
      throw config_error("run.scheme", "'" + shorten(s) + "' is not one of paper, exact");
    read_int(t, "record_every", "run.", spec.run.record_every);
    read_double(t, "rate_window", "run.", spec.run.rate_window);
    read_int(t, "spike_neurons", "run.", spec.run.spike_neurons);
    read_int(t, "max_spikes", "run.", spec.run.max_spikes);
  }
  if (const toml::node* n = root.get("meanfield")) {
    const toml::table& t = as_table(*n, "meanfield");
    check_keys(t, "meanfield.", k_meanfield_keys);
    read_bool(t, "enabled", "meanfield.", spec.meanfield.enabled);
    read_double(t, "rtol", "meanfield.", spec.meanfield.rtol);
    read_double(t, "atol", "meanfield.", spec.meanfield.atol);
    read_double(t, "transient", "meanfield.", spec.meanfield.transient);
    read_bool(t, "slow_finite_peak", "meanfield.", spec.meanfield.slow_finite_peak);
  }
  validate(spec);
  return spec;
}

void require_finite(double x, const std::string& key) {
  if (!std::isfinite(x)) throw config_error(key, "must be a finite number, got " + std::to_string(x));
}

std::string fmt(double x) {
  std::ostringstream s;
  s.precision(17);
  s << x;
  std::string r = s.str();
  if (r.find_first_of(".eEn") == std::string::npos) r += ".0";
  return r;
}

std::string fmt_vec(const std::vector<double>& v) {
  std::string r = "[";
  for (size_t i = 0; i < v.size(); ++i) r += (i ? ", " : "") + fmt(v[i]);
  return r + "]";
}

}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

void validate(const model_spec& spec) {
  const auto& net = spec.network;
  if (net.n < 1) throw config_error("network.n", "must be >= 1, got " + std::to_string(net.n));
  if (net.n > 4000000000LL) throw config_error("network.n", "must be <= 4e9, got " + std::to_string(net.n));
  const size_t P = spec.populations.size();
  if (P == 0) throw config_error("population", "at least one population is required");
  if (P > 64) throw config_error("population", "at most 64 populations are supported, got " + std::to_string(P));
  double fsum = 0;
  for (size_t i = 0; i < P; ++i) {
    const auto& p = spec.populations[i];
    const std::string pre = "population." + std::to_string(i) + ".";
    for (auto [name, x] : {std::pair<const char*, double>{"fraction", p.fraction},
                           {"eta_bar", p.eta_bar},
                           {"delta", p.delta},
                           {"alpha", p.alpha},
                           {"a", p.a},
                           {"b", p.b},
                           {"w_jump", p.w_jump},
                           {"v_peak", p.v_peak},
                           {"v_reset", p.v_reset}})
      require_finite(x, pre + name);
    if (p.fraction <= 0 || p.fraction > 1)
      throw config_error(pre + "fraction", "must be in (0, 1], got " + fmt(p.fraction));
    if (p.delta < 0) throw config_error(pre + "delta", "must be >= 0, got " + fmt(p.delta));
    if (p.a < 0) throw config_error(pre + "a", "must be >= 0, got " + fmt(p.a));
    if (p.v_peak <= 0) throw config_error(pre + "v_peak", "must be > 0, got " + fmt(p.v_peak));
    if (p.v_reset >= p.v_peak)
      throw config_error(pre + "v_reset", "must be below v_peak (" + fmt(p.v_peak) + "), got " + fmt(p.v_reset));
    const auto& in = p.I_ext;
    require_finite(in.value, pre + "I_ext");
    if (in.type != input_spec::kind::constant) {
      if (in.times.empty()) throw config_error(pre + "I_ext.times", "must not be empty");
      if (in.times.size() != in.values.size())
        throw config_error(pre + "I_ext.values", "has " + std::to_string(in.values.size()) +
                                                     " entries; expected one per time (" +
                                                     std::to_string(in.times.size()) + ")");
      for (size_t k = 0; k < in.times.size(); ++k) {
        require_finite(in.times[k], pre + "I_ext.times");
        require_finite(in.values[k], pre + "I_ext.values");
        if (k > 0 && in.times[k] <= in.times[k - 1])
          throw config_error(pre + "I_ext.times", "must be strictly increasing");
      }
    }
    fsum += p.fraction;
  }
  if (std::fabs(fsum - 1.0) > 1e-9)
    throw config_error("population.*.fraction", "fractions must sum to 1, they sum to " + fmt(fsum));
  const auto& s = spec.synapse;
  if (s.g.size() != P)
    throw config_error("synapse.g", "expected " + std::to_string(P) + " rows, got " + std::to_string(s.g.size()));
  for (size_t i = 0; i < P; ++i) {
    if (s.g[i].size() != P)
      throw config_error("synapse.g", "row " + std::to_string(i) + " has " + std::to_string(s.g[i].size()) +
                                          " entries; expected " + std::to_string(P));
    for (double x : s.g[i]) require_finite(x, "synapse.g");
  }
  for (auto [name, v] : {std::pair<const char*, const std::vector<double>*>{"e_r", &s.e_r},
                         {"tau_s", &s.tau_s},
                         {"s_jump", &s.s_jump}}) {
    const std::string key = std::string("synapse.") + name;
    if (v->size() != P)
      throw config_error(key, "has " + std::to_string(v->size()) + " entries; expected " + std::to_string(P) +
                                  " (one per presynaptic population)");
    for (double x : *v) require_finite(x, key);
  }
  for (size_t j = 0; j < P; ++j) {
    if (s.tau_s[j] <= 0) throw config_error("synapse.tau_s", "must be > 0, got " + fmt(s.tau_s[j]));
    if (s.s_jump[j] < 0) throw config_error("synapse.s_jump", "must be >= 0, got " + fmt(s.s_jump[j]));
  }
  const auto& r = spec.run;
  if (!std::isfinite(r.dt) || r.dt <= 0) throw config_error("run.dt", "must be a finite number > 0, got " + fmt(r.dt));
  if (r.dt > 1.0) throw config_error("run.dt", "must be <= 1 (dimensionless time), got " + fmt(r.dt));
  if (!std::isfinite(r.t_end) || r.t_end < r.dt)
    throw config_error("run.t_end", "must be finite and >= dt (" + fmt(r.dt) + "), got " + fmt(r.t_end));
  if (r.t_end / r.dt > 1e12) throw config_error("run.t_end", "t_end/dt must be <= 1e12 steps");
  if (r.record_every < 1) throw config_error("run.record_every", "must be >= 1, got " + std::to_string(r.record_every));
  if (r.record_every > spec.num_steps())
    throw config_error("run.record_every",
                       "must be <= the number of steps t_end/dt = " + std::to_string(spec.num_steps()) + ", got " +
                           std::to_string(r.record_every));
  if (!std::isfinite(r.rate_window) || r.rate_window < 0)
    throw config_error("run.rate_window",
                       "must be >= 0 (0: rate over the recording interval), got " + fmt(r.rate_window));
  if (r.rate_window > 0 && r.rate_window < r.dt)
    throw config_error("run.rate_window", "must be 0 or >= dt (" + fmt(r.dt) + "), got " + fmt(r.rate_window));
  if (r.spike_neurons < 0)
    throw config_error("run.spike_neurons", "must be >= 0, got " + std::to_string(r.spike_neurons));
  if (r.max_spikes < 0) throw config_error("run.max_spikes", "must be >= 0, got " + std::to_string(r.max_spikes));
  const auto& m = spec.meanfield;
  // Bounds that keep the comparison meaningful: looser tolerances make the
  // mean field's own error comparable to the 5 % agreement criterion; tighter
  // ones cannot be met in double precision.
  if (!std::isfinite(m.rtol) || m.rtol < 1e-14 || m.rtol > 1e-3)
    throw config_error("meanfield.rtol", "must be in [1e-14, 1e-3], got " + fmt(m.rtol));
  if (!std::isfinite(m.atol) || m.atol < 1e-16 || m.atol > 1e-3)
    throw config_error("meanfield.atol", "must be in [1e-16, 1e-3], got " + fmt(m.atol));
  if (!std::isfinite(m.transient) || m.transient < 0)
    throw config_error("meanfield.transient", "must be >= 0, got " + fmt(m.transient));
  population_sizes(spec, net.n);  // every population gets >= 1 neuron
}

model_spec load_config_string(const std::string& text, const std::vector<std::string>& overrides,
                              const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << shorten(source, 200) << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << shorten(std::string(e.description()), 300);
    throw config_error("", "cannot parse configuration: " + msg.str());
  }
  for (const auto& o : overrides) apply_override(root, o);
  return parse_table(root);
}

std::string read_config_file(const std::string& path) {
  const std::string shown = shorten(path, 200);
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw config_error("--config", "cannot read '" + shown + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const bool dir = S_ISDIR(st.st_mode);
    ::close(fd);
    throw config_error("--config", "'" + shown + "' is " + (dir ? "a folder" : "not a regular file") +
                                       "; give a TOML file (e.g. configs/paper_bursting.toml)");
  }
  if (st.st_size > max_config_bytes) {
    ::close(fd);
    throw config_error("--config", "'" + shown + "' has " + std::to_string(st.st_size) +
                                       " bytes; a configuration is at most " + std::to_string(max_config_bytes) +
                                       " (64 MiB)");
  }
  std::string text;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      throw config_error("--config", "cannot read '" + shown + "': " + std::strerror(e));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > static_cast<size_t>(max_config_bytes)) {
      ::close(fd);
      throw config_error("--config",
                         "'" + shown + "' grew past " + std::to_string(max_config_bytes) + " bytes while read");
    }
  }
  ::close(fd);
  return text;
}

model_spec load_config_file(const std::string& path, const std::vector<std::string>& overrides) {
  return load_config_string(read_config_file(path), overrides, path);
}

std::string to_toml(const model_spec& spec) {
  std::ostringstream o;
  o << "[network]\nn = " << spec.network.n << "\nsampling = \"" << to_string(spec.network.sampling)
    << "\"\nseed = " << spec.network.seed << "\nreplicas = " << spec.network.replicas << "\n";
  for (const auto& p : spec.populations) {
    o << "\n[[population]]\nfraction = " << fmt(p.fraction) << "\neta_bar = " << fmt(p.eta_bar)
      << "\ndelta = " << fmt(p.delta) << "\nalpha = " << fmt(p.alpha) << "\na = " << fmt(p.a) << "\nb = " << fmt(p.b)
      << "\nw_jump = " << fmt(p.w_jump) << "\nv_peak = " << fmt(p.v_peak) << "\nv_reset = " << fmt(p.v_reset) << "\n";
    const auto& in = p.I_ext;
    if (in.type == input_spec::kind::constant)
      o << "I_ext = " << fmt(in.value) << "\n";
    else
      o << "I_ext = { kind = \"" << (in.type == input_spec::kind::steps ? "steps" : "table")
        << "\", before = " << fmt(in.value) << ", times = " << fmt_vec(in.times) << ", values = " << fmt_vec(in.values)
        << " }\n";
  }
  o << "\n[synapse]\ng = [";
  for (size_t i = 0; i < spec.synapse.g.size(); ++i) o << (i ? ", " : "") << fmt_vec(spec.synapse.g[i]);
  o << "]\ne_r = " << fmt_vec(spec.synapse.e_r) << "\ntau_s = " << fmt_vec(spec.synapse.tau_s)
    << "\ns_jump = " << fmt_vec(spec.synapse.s_jump) << "\n";
  o << "\n[run]\nt_end = " << fmt(spec.run.t_end) << "\ndt = " << fmt(spec.run.dt) << "\nscheme = \""
    << to_string(spec.run.scheme) << "\"\nrecord_every = " << spec.run.record_every
    << "\nrate_window = " << fmt(spec.run.rate_window) << "\nspike_neurons = " << spec.run.spike_neurons
    << "\nmax_spikes = " << spec.run.max_spikes << "\n";
  o << "\n[meanfield]\nenabled = " << (spec.meanfield.enabled ? "true" : "false")
    << "\nrtol = " << fmt(spec.meanfield.rtol) << "\natol = " << fmt(spec.meanfield.atol)
    << "\ntransient = " << fmt(spec.meanfield.transient)
    << "\nslow_finite_peak = " << (spec.meanfield.slow_finite_peak ? "true" : "false") << "\n";
  return o.str();
}

}  // namespace izhinet
