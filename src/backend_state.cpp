// The backend-independent layout of a backend's dynamic state (backend.hpp).
#include <algorithm>
#include <string>

#include "izhinet/backend.hpp"
#include "izhinet/errors.hpp"

namespace izhinet {

const char* state_x_name(const model_spec& spec) { return spec.run.scheme == scheme_kind::exact ? "p" : "v"; }

backend_state state_layout(const model_spec& spec) {
  backend_state st;
  st.arrays.push_back({state_x_name(spec), state_array::extent::per_neuron, {}});
  st.arrays.push_back({"w", state_array::extent::per_neuron, {}});
  st.arrays.push_back({"s", state_array::extent::per_population, {}});
  // exact scheme: the drive value of the next step (exact_next_drive)
  if (spec.run.scheme == scheme_kind::exact) st.arrays.push_back({"s_drive", state_array::extent::per_population, {}});
  return st;
}

int64_t state_length(state_array::extent per, const model_spec& spec, const std::vector<replica_spec>& replicas) {
  if (per == state_array::extent::per_population) return static_cast<int64_t>(replicas.size()) * spec.num_populations();
  int64_t total = 0;
  for (const auto& r : replicas) total += r.n;
  return total;
}

void check_state(const backend_state& state, const model_spec& spec, const std::vector<replica_spec>& replicas) {
  const backend_state layout = state_layout(spec);
  for (const auto& want : layout.arrays) {
    const state_array* have = state.find(want.name);
    if (!have && want.name == "s_drive" && state.find("s_prev"))
      throw user_error(
          "backend state: array 's_drive' is missing; this state has 's_prev', written before the "
          "exact scheme's drive correction: resume it with the izhinet that wrote it");
    if (!have) throw user_error("backend state: array '" + want.name + "' is missing");
    const int64_t n = state_length(want.per, spec, replicas);
    if (have->per != want.per || static_cast<int64_t>(have->values.size()) != n)
      throw user_error("backend state: array '" + want.name + "' has " + std::to_string(have->values.size()) +
                       " values, this network needs " + std::to_string(n));
  }
  for (const auto& a : state.arrays)
    if (!layout.find(a.name)) throw user_error("backend state: unknown array '" + shorten(a.name) + "'");
}

namespace {

/// Global start of every (replica, population) in a per-neuron array, and the total at the end.
std::vector<int64_t> global_starts(const model_spec& spec, const std::vector<replica_spec>& replicas) {
  std::vector<int64_t> at{0};
  for (const auto& r : replicas)
    for (int64_t n : population_sizes(spec, r.n)) at.push_back(at.back() + n);
  return at;
}

void check_held(const std::vector<population_slice>& held, const std::vector<int64_t>& at) {
  if (held.size() + 1 != at.size()) throw internal_error("state_part: one slice per (replica, population) expected");
  for (size_t k = 0; k < held.size(); ++k)
    if (held[k].first < 0 || held[k].count < 0 || held[k].first + held[k].count > at[k + 1] - at[k])
      throw internal_error("state_part: a slice lies outside its population");
}

}  // namespace

std::vector<double> held_values(const std::vector<double>& whole, const model_spec& spec,
                                const std::vector<replica_spec>& replicas, const std::vector<population_slice>& held) {
  const std::vector<int64_t> at = global_starts(spec, replicas);
  check_held(held, at);
  if (static_cast<int64_t>(whole.size()) != at.back())
    throw internal_error("held_values: the array does not hold the whole network");
  int64_t mine = 0;
  for (const auto& h : held) mine += h.count;
  std::vector<double> out;
  out.reserve(static_cast<size_t>(mine));
  for (size_t k = 0; k < held.size(); ++k) {
    const auto from = whole.begin() + at[k] + held[k].first;
    out.insert(out.end(), from, from + held[k].count);
  }
  return out;
}

backend_state state_part(const backend_state& state, const model_spec& spec, const std::vector<replica_spec>& replicas,
                         const std::vector<population_slice>& held) {
  if (held.empty()) {
    check_state(state, spec, replicas);
    return state;
  }
  const std::vector<int64_t> at = global_starts(spec, replicas);
  check_held(held, at);
  int64_t mine = 0;
  for (const auto& h : held) mine += h.count;
  const state_array* x = state.find(state_x_name(spec));
  if (x == nullptr || static_cast<int64_t>(x->values.size()) != mine || mine == at.back()) {
    check_state(state, spec, replicas);  // the whole network: cut out the slices
    backend_state out;
    for (const auto& a : state.arrays) {
      state_array b{a.name, a.per, {}};
      b.values = a.per == state_array::extent::per_population ? a.values : held_values(a.values, spec, replicas, held);
      out.arrays.push_back(std::move(b));
    }
    return out;
  }
  // Already the slices: the arrays of the layout with the slices' sizes.
  const backend_state layout = state_layout(spec);
  for (const auto& want : layout.arrays) {
    const state_array* have = state.find(want.name);
    if (!have) throw user_error("backend state: array '" + want.name + "' is missing");
    const int64_t n = want.per == state_array::extent::per_neuron ? mine : state_length(want.per, spec, replicas);
    if (have->per != want.per || static_cast<int64_t>(have->values.size()) != n)
      throw user_error("backend state: array '" + want.name + "' has " + std::to_string(have->values.size()) +
                       " values, this rank's slice needs " + std::to_string(n));
  }
  for (const auto& a : state.arrays)
    if (!layout.find(a.name)) throw user_error("backend state: unknown array '" + shorten(a.name) + "'");
  return state;
}

void put_state_part(backend_state& whole, const backend_state& part, const model_spec& spec,
                    const std::vector<replica_spec>& replicas, const std::vector<population_slice>& held) {
  const std::vector<int64_t> at = global_starts(spec, replicas);
  check_held(held, at);
  for (const auto& a : part.arrays) {
    if (a.per != state_array::extent::per_neuron) continue;
    state_array* w = nullptr;
    for (auto& b : whole.arrays)
      if (b.name == a.name) w = &b;
    if (w == nullptr || static_cast<int64_t>(w->values.size()) != at.back())
      throw internal_error("put_state_part: no whole-network array '" + a.name + "'");
    size_t from = 0;
    for (size_t k = 0; k < held.size(); ++k) {
      if (from + static_cast<size_t>(held[k].count) > a.values.size())
        throw internal_error("put_state_part: array '" + a.name + "' is shorter than its slices");
      std::copy(a.values.begin() + static_cast<std::ptrdiff_t>(from),
                a.values.begin() + static_cast<std::ptrdiff_t>(from + held[k].count),
                w->values.begin() + at[k] + held[k].first);
      from += static_cast<size_t>(held[k].count);
    }
  }
}

}  // namespace izhinet
