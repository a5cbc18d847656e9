#include "izhinet/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <tuple>

#include <toml++/toml.h>

#include "izhinet/errors.hpp"
#include "izhinet/output_hdf5.hpp"

namespace izhinet {
namespace {

const std::vector<std::string> k_sections = {"network", "population", "synapse", "run", "meanfield", "units"};
const std::vector<std::string> k_network_keys = {"n", "sampling", "seed", "replicas"};
const std::vector<std::string> k_population_keys = {"fraction", "eta_bar", "delta",  "alpha",   "a",          "b",
                                                    "w_jump",   "I_ext",   "v_peak", "v_reset", "dimensional"};
const std::vector<std::string> k_synapse_keys = {"g", "e_r", "tau_s", "s_jump", "dimensional"};
const std::vector<std::string> k_run_keys = {
    "t_end",      "dt",       "scheme", "record_every",   "rate_window", "spike_neurons",
    "max_spikes", "t_end_ms", "dt_ms",  "rate_window_ms", "format"};
const std::vector<std::string> k_meanfield_keys = {"enabled",          "rtol",        "atol", "transient",
                                                   "slow_finite_peak", "transient_ms"};
// The physical-units form (docs/units.md): units pF, nS, mV, ms, pA.
const std::vector<std::string> k_population_dimensional_keys = {
    "C", "k", "V_R", "V_T", "V_peak", "V_reset", "a", "tau_W", "b", "beta", "W_jump", "I_ext", "I_bar", "Delta_I"};
const std::vector<std::string> k_synapse_dimensional_keys = {"G_syn", "E_r", "tau_syn", "S_jump"};
const std::vector<std::string> k_units_keys = {"time_unit_ms", "voltage_unit_mV", "current_unit_pA"};

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

std::string fmt(double x);

/// Reads population i's physical-units table into p (docs/units.md): the
/// neuron in pF, nS, mV, ms, pA, converted with to_dimensionless(). `first`
/// holds the scales (C, k, V_R) of the first population, which every other
/// one must share: the dimensionless form has one time and voltage scale.
void read_dimensional_population(const toml::table& pop, const std::string& prefix, population_params& p,
                                 units_params& units, const dimensional_params* first, dimensional_params& out) {
  const std::string dprefix = prefix + "dimensional.";
  const toml::table& t = as_table(*pop.get("dimensional"), prefix + "dimensional");
  check_keys(t, dprefix, k_population_dimensional_keys);
  for (const char* key : {"alpha", "a", "b", "w_jump", "I_ext", "v_peak", "v_reset"})
    if (pop.get(key))
      throw config_error(prefix + key, std::string("given together with ") + prefix +
                                           "dimensional: give each parameter once, either dimensionless or in "
                                           "physical units in the dimensional table");
  for (auto [dim_key, key] : {std::pair<const char*, const char*>{"I_bar", "eta_bar"}, {"Delta_I", "delta"}})
    if (t.get(dim_key) && pop.get(key))
      throw config_error(prefix + key, std::string("given together with ") + dprefix + dim_key +
                                           ": give the Lorentzian once (eta_bar, delta dimensionless, or I_bar, "
                                           "Delta_I in pA)");
  auto number = [&](const char* key, const char* unit, bool required, double def) {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required)
        throw config_error(dprefix + key,
                           std::string("missing (required in the physical-units form, in ") + unit + ")");
      return def;
    }
    const double x = get_double(*n, dprefix + key);
    if (!std::isfinite(x)) throw config_error(dprefix + key, "must be a finite number (" + std::string(unit) + ")");
    return x;
  };
  auto one_of = [&](const char* a, const char* b, const char* what) {
    if (t.get(a) && t.get(b))
      throw config_error(dprefix + b, std::string("give ") + what + ", not both (" + a + " is given too)");
    if (!t.get(a) && !t.get(b))
      throw config_error(dprefix + b, std::string("missing: give ") + what + " (required in the physical-units form)");
    return t.get(a) != nullptr;
  };
  dimensional_params d;
  d.C = number("C", "pF", true, 0);
  d.k = number("k", "nS/mV", true, 0);
  d.V_R = number("V_R", "mV", true, 0);
  d.V_T = number("V_T", "mV", true, 0);
  if (d.C <= 0) throw config_error(dprefix + "C", "must be > 0 pF, got " + fmt(d.C));
  if (d.k <= 0) throw config_error(dprefix + "k", "must be > 0 nS/mV, got " + fmt(d.k));
  if (d.V_R >= 0)
    throw config_error(dprefix + "V_R", "must be < 0 mV (voltages are scaled by |V_R| around it), got " + fmt(d.V_R));
  if (first)
    for (auto [key, mine, theirs] : {std::tuple<const char*, double, double>{"C", d.C, first->C},
                                     {"k", d.k, first->k},
                                     {"V_R", d.V_R, first->V_R}})
      if (mine != theirs)
        throw config_error(dprefix + key, "must equal population 0's " + std::string(key) + " = " + fmt(theirs) +
                                              ", got " + fmt(mine) +
                                              ": all populations share one time unit C/(k |V_R|) and voltage scale "
                                              "|V_R| in the dimensionless model");
  if (one_of("a", "tau_W", "a (1/ms) or tau_W (ms)")) {
    const double a = number("a", "1/ms", true, 0);
    if (a < 0) throw config_error(dprefix + "a", "must be >= 0 1/ms, got " + fmt(a));
    d.tau_W = a > 0 ? 1.0 / a : INFINITY;
  } else {
    d.tau_W = number("tau_W", "ms", true, 0);
    if (d.tau_W <= 0) throw config_error(dprefix + "tau_W", "must be > 0 ms, got " + fmt(d.tau_W));
  }
  d.beta = one_of("b", "beta", "b or beta (nS)") ? number("b", "nS", true, 0) : number("beta", "nS", true, 0);
  d.W_jump = number("W_jump", "pA", true, 0);
  const bool has_peak = t.get("V_peak") != nullptr, has_reset = t.get("V_reset") != nullptr;
  d.V_peak = number("V_peak", "mV", false, 0);
  d.V_reset = number("V_reset", "mV", false, 0);
  d.I_ext = 0;
  const dimensionless_params x = to_dimensionless(d);
  const double current_unit = d.k * d.V_R * d.V_R;  // pA per dimensionless current
  p.alpha = x.alpha;
  p.a = x.a;
  p.b = x.b;
  p.w_jump = x.w_jump;
  if (has_peak) p.v_peak = x.v_peak;
  if (has_reset) p.v_reset = x.v_reset;
  if (has_peak != has_reset && p.v_reset >= p.v_peak)
    throw config_error(dprefix + (has_peak ? "V_peak" : "V_reset"),
                       "gives v_peak = " + fmt(p.v_peak) + ", v_reset = " + fmt(p.v_reset) +
                           " (dimensionless): give both V_peak and V_reset, V_reset below V_peak");
  if (has_peak && has_reset && d.V_reset >= d.V_peak)
    throw config_error(dprefix + "V_reset", "must be below V_peak (" + fmt(d.V_peak) + " mV), got " + fmt(d.V_reset));
  if (has_peak && p.v_peak <= 0)
    throw config_error(dprefix + "V_peak", "must be > V_R = " + fmt(d.V_R) + " mV, got " + fmt(d.V_peak));
  if (t.get("I_bar")) p.eta_bar = number("I_bar", "pA", true, 0) / current_unit;
  if (t.get("Delta_I")) {
    const double w = number("Delta_I", "pA", true, 0);
    if (w < 0) throw config_error(dprefix + "Delta_I", "must be >= 0 pA, got " + fmt(w));
    p.delta = w / current_unit;
  }
  if (const toml::node* n = t.get("I_ext")) {
    // pA, or a steps/table input with times in ms and values in pA.
    input_spec in = read_input(*n, dprefix + "I_ext");
    in.value /= current_unit;
    for (double& v : in.values) v /= current_unit;
    for (double& tm : in.times) tm /= x.time_unit_ms;
    p.I_ext = in;
  }
  units.dimensional = true;
  units.time_unit_ms = x.time_unit_ms;
  units.voltage_unit_mV = std::fabs(d.V_R);
  units.current_unit_pA = current_unit;
  // The values as given, with their units, for the comment block of config.toml.
  const std::vector<std::pair<std::string, const char*>> unit_of = {
      {"C", "pF"},       {"k", "nS/mV"},  {"V_R", "mV"},   {"V_T", "mV"},    {"V_peak", "mV"},
      {"V_reset", "mV"}, {"a", "1/ms"},   {"tau_W", "ms"}, {"b", "nS"},      {"beta", "nS"},
      {"W_jump", "pA"},  {"I_ext", "pA"}, {"I_bar", "pA"}, {"Delta_I", "pA"}};
  std::string line = prefix + "dimensional:";
  for (const auto& [key, unit] : unit_of)
    if (const toml::node* n = t.get(key)) {
      char buf[64];
      if (n->is_number())
        std::snprintf(buf, sizeof buf, " %s = %.10g %s,", key.c_str(), n->value<double>().value(), unit);
      else
        std::snprintf(buf, sizeof buf, " %s = (times in ms, values in %s),", key.c_str(), unit);
      line += buf;
    }
  line.pop_back();
  units.source += line + "\n";
  out = d;
}

/// Reads [synapse.dimensional] (G_syn in nS, E_r in mV, tau_syn in ms, S_jump)
/// with the scales `d` of the populations, converted with to_dimensionless().
void read_dimensional_synapse(const toml::table& syn, size_t P, const dimensional_params& d, synapse_params& out,
                              units_params& units) {
  const std::string dprefix = "synapse.dimensional.";
  const toml::table& t = as_table(*syn.get("dimensional"), "synapse.dimensional");
  check_keys(t, dprefix, k_synapse_dimensional_keys);
  for (const char* key : {"g", "e_r", "tau_s", "s_jump"})
    if (syn.get(key))
      throw config_error(std::string("synapse.") + key,
                         "given together with synapse.dimensional: give the synapse once, either dimensionless or in "
                         "physical units");
  for (const auto& key : k_synapse_dimensional_keys)
    if (!t.get(key))
      throw config_error(dprefix + key,
                         "missing (required in the physical-units synapse: G_syn in nS, P x P; E_r in "
                         "mV, tau_syn in ms and S_jump, one per presynaptic population)");
  auto per_population = [&](const char* key) {
    std::vector<double> v = read_vector(*t.get(key), dprefix + key);
    if (v.size() != P)
      throw config_error(dprefix + key, "has " + std::to_string(v.size()) + " entries; expected " + std::to_string(P) +
                                            " (one per presynaptic population)");
    for (double x : v)
      if (!std::isfinite(x)) throw config_error(dprefix + key, "must be finite numbers");
    return v;
  };
  const toml::array* g = t.get("G_syn")->as_array();
  if (!g || g->size() != P)
    throw config_error(dprefix + "G_syn", "expected a " + std::to_string(P) + " x " + std::to_string(P) +
                                              " array of arrays in nS (onto population i from population j)");
  out.g.clear();
  for (size_t i = 0; i < P; ++i) {
    std::vector<double> row = read_vector(*g->get(i), dprefix + "G_syn[" + std::to_string(i) + "]");
    if (row.size() != P)
      throw config_error(dprefix + "G_syn", "row " + std::to_string(i) + " has " + std::to_string(row.size()) +
                                                " entries; expected " + std::to_string(P));
    for (double& x : row) {
      if (!std::isfinite(x)) throw config_error(dprefix + "G_syn", "must be finite numbers (nS)");
      dimensional_params e = d;
      e.G_syn = x;
      x = to_dimensionless(e).g;
    }
    out.g.push_back(row);
  }
  const std::vector<double> E_r = per_population("E_r"), tau = per_population("tau_syn"), S = per_population("S_jump");
  out.e_r.clear();
  out.tau_s.clear();
  out.s_jump.clear();
  for (size_t j = 0; j < P; ++j) {
    if (tau[j] <= 0) throw config_error(dprefix + "tau_syn", "must be > 0 ms, got " + fmt(tau[j]));
    if (S[j] < 0) throw config_error(dprefix + "S_jump", "must be >= 0, got " + fmt(S[j]));
    dimensional_params e = d;
    e.E_r = E_r[j];
    e.tau_syn = tau[j];
    e.S_jump = S[j];
    const dimensionless_params x = to_dimensionless(e);
    out.e_r.push_back(x.e_r);
    out.tau_s.push_back(x.tau_s);
    out.s_jump.push_back(x.s_jump);
  }
  units.source += "synapse.dimensional: G_syn, E_r, tau_syn, S_jump as given (nS, mV, ms)\n";
}

/// A time key given in dimensionless units (`key`) or in ms (`key`_ms, with a physical-units configuration).
void read_time(const toml::table& t, const std::string& prefix, const char* key, const units_params& units,
               double& out) {
  const std::string ms_key = std::string(key) + "_ms";
  const toml::node* n = t.get(key);
  const toml::node* m = t.get(ms_key);
  if (n && m) throw config_error(prefix + ms_key, "give " + prefix + key + " or " + prefix + ms_key + ", not both");
  if (n) out = get_double(*n, prefix + key);
  if (m) {
    if (!units.dimensional)
      throw config_error(prefix + ms_key,
                         "needs the time unit of a physical-units configuration "
                         "(population.i.dimensional); use " +
                             prefix + key + " (dimensionless) here");
    out = get_double(*m, prefix + ms_key) / units.time_unit_ms;
  }
}

/// Sets parts[i..] below `t` (a table) to `value`. An array is indexed by the
/// next part: an integer 0..size-1, or '*' for every element; its elements may
/// be tables ([[population]]), arrays (synapse.g's rows) or numbers.
void set_at(toml::table& t, const std::vector<std::string>& parts, size_t i, const toml::node& value,
            const std::string& path);

/// Indexes array `a` (reached by parts[0..i-1]) with parts[i] and sets what follows.
void set_in_array(toml::array& a, const std::vector<std::string>& parts, size_t i, const toml::node& value,
                  const std::string& path) {
  std::string name;  // the array's key, e.g. synapse.g or synapse.g.0
  for (size_t k = 0; k < i; ++k) name += (k ? "." : "") + parts[k];
  if (i >= parts.size()) throw config_error(path, name + " is an array: it needs an index");
  const std::string& idx = parts[i];
  const std::string range =
      a.empty() ? std::string("it is empty") : "valid 0.." + std::to_string(a.size() - 1) + " or *";
  std::vector<size_t> which;
  if (idx == "*") {
    for (size_t k = 0; k < a.size(); ++k) which.push_back(k);
    if (which.empty()) throw config_error(path, name + " is empty: nothing to set");
  } else {
    char* end = nullptr;
    const long k = std::strtol(idx.c_str(), &end, 10);
    if (idx.empty() || end == idx.c_str() || *end || k < 0)
      throw config_error(path, "index '" + shorten(idx) + "' of " + name + " is not an integer (" + range + ")");
    if (static_cast<size_t>(k) >= a.size())
      throw config_error(path, "index " + idx + " of " + name + " is out of range (" + range + ")");
    which.push_back(static_cast<size_t>(k));
  }
  for (size_t k : which) {
    toml::node* e = a.get(k);
    if (i + 1 == parts.size()) {
      if (e->is_table() || (e->is_array() && e->as_array()->is_array_of_tables()))
        throw config_error(path, name + "." + idx + " is a table: it needs a key after the index");
      a.replace(a.cbegin() + static_cast<std::ptrdiff_t>(k), value);
    } else if (toml::table* t = e->as_table()) {
      set_at(*t, parts, i + 1, value, path);
    } else if (toml::array* sub = e->as_array()) {
      set_in_array(*sub, parts, i + 1, value, path);
    } else {
      throw config_error(path, name + "." + idx + " is a number, not a table or array: nothing after it can be set");
    }
  }
}

void set_at(toml::table& t, const std::vector<std::string>& parts, size_t i, const toml::node& value,
            const std::string& path) {
  const std::string& p = parts[i];
  if (i == 0 && std::find(k_sections.begin(), k_sections.end(), p) == k_sections.end())
    throw config_error(path, "unknown section '" + shorten(p) + "'" + suggestion(p, k_sections));
  if (i + 1 == parts.size()) {
    t.insert_or_assign(p, value);
    return;
  }
  toml::node* next = t.get(p);
  if (!next) {
    if (p == "population") throw config_error(path, "the configuration has no [[population]] tables");
    const std::string& after = parts[i + 1];
    if (after == "*" || (!after.empty() && std::isdigit(static_cast<unsigned char>(after[0]))))
      throw config_error(path, "'" + shorten(p) + "' is not in the configuration: there is nothing to index");
    t.insert_or_assign(p, toml::table{});
    next = t.get(p);
  }
  if (toml::array* a = next->as_array()) return set_in_array(*a, parts, i + 1, value, path);
  toml::table* sub = next->as_table();
  if (!sub) throw config_error(path, "'" + shorten(p) + "' is not a table");
  set_at(*sub, parts, i + 1, value, path);
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

  set_at(root, parts, 0, *value, path);
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
  dimensional_params scales;  // of the first population, in the physical-units form
  for (size_t i = 0; i < pa->size(); ++i) {
    const std::string prefix = "population." + std::to_string(i) + ".";
    const toml::table& t = as_table(*pa->get(i), "population." + std::to_string(i));
    check_keys(t, prefix, k_population_keys);
    population_params p;
    read_double(t, "fraction", prefix, p.fraction);
    read_double(t, "eta_bar", prefix, p.eta_bar);
    read_double(t, "delta", prefix, p.delta);
    const bool dimensional = t.get("dimensional") != nullptr;
    if (i > 0 && dimensional != spec.units.dimensional)
      throw config_error(prefix + "dimensional",
                         std::string(dimensional ? "given" : "missing") + ": population 0 is given " +
                             (spec.units.dimensional ? "in physical units" : "dimensionless") +
                             "; give every population in the same form (they share the scales C, k, V_R)");
    if (dimensional) {
      dimensional_params d;
      read_dimensional_population(t, prefix, p, spec.units, i > 0 ? &scales : nullptr, d);
      if (i == 0) scales = d;
    } else {
      read_double(t, "alpha", prefix, p.alpha);
      read_double(t, "a", prefix, p.a);
      read_double(t, "b", prefix, p.b);
      read_double(t, "w_jump", prefix, p.w_jump);
      read_double(t, "v_peak", prefix, p.v_peak);
      read_double(t, "v_reset", prefix, p.v_reset);
      if (const toml::node* n = t.get("I_ext")) p.I_ext = read_input(*n, prefix + "I_ext");
    }
    spec.populations.push_back(p);
  }
  if (const toml::node* n = root.get("units")) {
    // Written by to_toml() for a physical-units configuration: labels of the outputs only.
    const toml::table& t = as_table(*n, "units");
    check_keys(t, "units.", k_units_keys);
    if (spec.units.dimensional)
      throw config_error("units", "set from the physical-units form (population.i.dimensional); remove [units]");
    units_params u;
    u.dimensional = true;
    read_double(t, "time_unit_ms", "units.", u.time_unit_ms);
    read_double(t, "voltage_unit_mV", "units.", u.voltage_unit_mV);
    read_double(t, "current_unit_pA", "units.", u.current_unit_pA);
    for (auto [key, x] : {std::pair<const char*, double>{"time_unit_ms", u.time_unit_ms},
                          {"voltage_unit_mV", u.voltage_unit_mV},
                          {"current_unit_pA", u.current_unit_pA}})
      if (!std::isfinite(x) || x <= 0) throw config_error(std::string("units.") + key, "must be > 0, got " + fmt(x));
    spec.units = u;
  }

  const size_t P = spec.populations.size();
  const toml::node* syn = root.get("synapse");
  if (!syn) throw config_error("synapse", "missing: the [synapse] table (g, e_r, tau_s, s_jump) is required");
  {
    const toml::table& t = as_table(*syn, "synapse");
    check_keys(t, "synapse.", k_synapse_keys);
    if (t.get("dimensional")) {
      if (!pa->get(0)->as_table()->get("dimensional"))
        throw config_error("synapse.dimensional",
                           "needs the populations in physical units (population.i.dimensional), which fix the scales "
                           "C, k, V_R; or give g, e_r, tau_s, s_jump dimensionless");
      read_dimensional_synapse(t, P, scales, spec.synapse, spec.units);
    } else {
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
  }

  if (const toml::node* n = root.get("run")) {
    const toml::table& t = as_table(*n, "run");
    check_keys(t, "run.", k_run_keys);
    read_time(t, "run.", "t_end", spec.units, spec.run.t_end);
    read_time(t, "run.", "dt", spec.units, spec.run.dt);
    const std::string s = read_string(t, "scheme", "run.", "paper");
    if (s == "paper")
      spec.run.scheme = scheme_kind::paper;
    else if (s == "exact")
      spec.run.scheme = scheme_kind::exact;
    else
      throw config_error("run.scheme", "'" + shorten(s) + "' is not one of paper, exact");
    read_int(t, "record_every", "run.", spec.run.record_every);
    read_time(t, "run.", "rate_window", spec.units, spec.run.rate_window);
    read_int(t, "spike_neurons", "run.", spec.run.spike_neurons);
    read_int(t, "max_spikes", "run.", spec.run.max_spikes);
    spec.run.format = read_string(t, "format", "run.", "csv");
    if (spec.run.format != "csv" && spec.run.format != "hdf5")
      throw config_error("run.format", "'" + shorten(spec.run.format) + "' is not one of csv, hdf5");
    if (spec.run.format == "hdf5" && !hdf5_available())
      throw config_error("run.format",
                         "\"hdf5\" needs a build with HDF5 (Debian: libhdf5-dev, then configure again); this build "
                         "writes csv only");
  }
  if (const toml::node* n = root.get("meanfield")) {
    const toml::table& t = as_table(*n, "meanfield");
    check_keys(t, "meanfield.", k_meanfield_keys);
    read_bool(t, "enabled", "meanfield.", spec.meanfield.enabled);
    read_double(t, "rtol", "meanfield.", spec.meanfield.rtol);
    read_double(t, "atol", "meanfield.", spec.meanfield.atol);
    read_time(t, "meanfield.", "transient", spec.units, spec.meanfield.transient);
    read_bool(t, "slow_finite_peak", "meanfield.", spec.meanfield.slow_finite_peak);
  }
  validate(spec);
  return spec;
}

void require_finite(double x, const std::string& key) {
  if (!std::isfinite(x)) throw config_error(key, "must be a finite number, got " + std::to_string(x));
}

/// to_toml_legacy: numbers as izhinet wrote them before the shortest form (precision 17).
thread_local bool t_legacy_numbers = false;

/// The shortest text that reads back as exactly `x` (std::to_chars), as a TOML float ("1.0", not "1").
std::string fmt(double x) {
  std::string r;
  if (t_legacy_numbers) {
    std::ostringstream s;
    s.precision(17);
    s << x;
    r = s.str();
  } else {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, x);
    r.assign(buf, res.ptr);
  }
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
    if (p.delta < 0) throw config_error(pre + "delta", "must be > 0, got " + fmt(p.delta));
    if (p.delta == 0 && spec.meanfield.enabled)
      throw config_error(pre + "delta",
                         "must be > 0: with delta = 0 the neurons are identical and the exact mean field (a Lorentzian "
                         "of width delta) is singular; give delta > 0, or simulate identical neurons without the "
                         "mean field (--set meanfield.enabled=false)");
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

std::string to_toml_legacy(const model_spec& spec) {
  struct guard {
    guard() { t_legacy_numbers = true; }
    ~guard() { t_legacy_numbers = false; }
  } g;
  return to_toml(spec);
}

std::string to_toml(const model_spec& spec) {
  std::ostringstream o;
  if (spec.units.dimensional && !spec.units.source.empty()) {
    o << "# Converted from physical units (docs/units.md); the values below are the dimensionless ones simulated.\n";
    std::istringstream lines(spec.units.source);
    for (std::string l; std::getline(lines, l);) o << "# " << l << "\n";
    o << "\n";
  }
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
  if (spec.run.format != "csv") o << "format = \"" << spec.run.format << "\"\n";
  o << "\n[meanfield]\nenabled = " << (spec.meanfield.enabled ? "true" : "false")
    << "\nrtol = " << fmt(spec.meanfield.rtol) << "\natol = " << fmt(spec.meanfield.atol)
    << "\ntransient = " << fmt(spec.meanfield.transient)
    << "\nslow_finite_peak = " << (spec.meanfield.slow_finite_peak ? "true" : "false") << "\n";
  if (spec.units.dimensional)
    o << "\n[units]  # labels of the outputs: t in ms = t * time_unit_ms\ntime_unit_ms = "
      << fmt(spec.units.time_unit_ms) << "\nvoltage_unit_mV = " << fmt(spec.units.voltage_unit_mV)
      << "\ncurrent_unit_pA = " << fmt(spec.units.current_unit_pA) << "\n";
  return o.str();
}

}  // namespace izhinet
