// The backend-independent layout of a backend's dynamic state (backend.hpp).
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

}  // namespace izhinet
