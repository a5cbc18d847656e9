#include "izhinet/network_layout.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "izhinet/errors.hpp"
#include "izhinet/partition.hpp"
#include "izhinet/recording.hpp"
#include "izhinet/sampling.hpp"

namespace izhinet {

population_params effective_population(const model_spec& spec, const replica_spec& replica, int pop) {
  population_params p = spec.populations.at(static_cast<size_t>(pop));
  if (replica.overrides.empty()) return p;
  const population_override& o = replica.overrides.at(static_cast<size_t>(pop));
  if (o.eta_bar) p.eta_bar = *o.eta_bar;
  if (o.delta) p.delta = *o.delta;
  if (o.alpha) p.alpha = *o.alpha;
  if (o.a) p.a = *o.a;
  if (o.b) p.b = *o.b;
  if (o.w_jump) p.w_jump = *o.w_jump;
  if (o.I_ext) {
    p.I_ext = input_spec{};
    p.I_ext.value = *o.I_ext;
  }
  return p;
}

namespace {

/// The structural checks every backend relies on (the configuration reader
/// checks ranges with the keys' names; these guard programmatic use).
void check_structure(const model_spec& spec, const std::vector<replica_spec>& replicas) {
  const int P = spec.num_populations();
  if (replicas.empty()) throw config_error("network.replicas", "at least one replica is needed");
  if (P < 1) throw config_error("population", "at least one population is needed");
  if (spec.run.record_every < 1) throw config_error("run.record_every", "must be >= 1");
  if (!(spec.run.dt > 0)) throw config_error("run.dt", "must be > 0");
  const auto sz = [](const auto& v) { return static_cast<int>(v.size()); };
  if (sz(spec.synapse.g) != P || sz(spec.synapse.e_r) != P || sz(spec.synapse.tau_s) != P ||
      sz(spec.synapse.s_jump) != P)
    throw config_error("synapse",
                       "g must be P x P and e_r, tau_s, s_jump must have P = " + std::to_string(P) + " entries");
  for (const auto& row : spec.synapse.g)
    if (sz(row) != P) throw config_error("synapse.g", "must be P x P with P = " + std::to_string(P));
  if (static_cast<int64_t>(replicas.size()) * P > (int64_t{1} << 30))
    throw config_error("network.replicas", "at most 2^30 (replica, population) pairs");
  for (size_t r = 0; r < replicas.size(); ++r) {
    const replica_spec& rep = replicas[r];
    const std::string which = "replica " + std::to_string(r);
    if (rep.n < P) throw config_error("network.n", which + ": needs at least one neuron per population");
    if (!rep.overrides.empty() && sz(rep.overrides) != P)
      throw config_error("overrides", which + ": one override entry per population (" + std::to_string(P) + ")");
    for (const population_override& o : rep.overrides) {
      for (const auto* v : {&o.eta_bar, &o.delta, &o.alpha, &o.a, &o.b, &o.w_jump, &o.I_ext})
        if (*v && !std::isfinite(**v)) throw config_error("overrides", which + ": values must be finite");
      if (o.delta && !(*o.delta >= 0)) throw config_error("overrides.delta", which + ": must be >= 0");
    }
    if (!rep.g.empty()) {
      if (sz(rep.g) != P) throw config_error("overrides.g", which + ": must be P x P");
      for (const auto& row : rep.g) {
        if (sz(row) != P) throw config_error("overrides.g", which + ": must be P x P");
        for (double x : row)
          if (!std::isfinite(x)) throw config_error("overrides.g", which + ": values must be finite");
      }
    }
  }
}

}  // namespace

network_layout network_layout::build(const model_spec& spec, const std::vector<replica_spec>& replicas, int64_t align,
                                     const partition_spec& part) {
  check_structure(spec, replicas);
  if (align < 1) throw internal_error("network_layout: alignment must be >= 1");
  network_layout L;
  L.R = static_cast<int>(replicas.size());
  L.P = spec.num_populations();
  L.scheme = spec.run.scheme;
  L.dt = spec.run.dt;
  L.record_every = spec.run.record_every;
  L.spike_neurons = spec.run.spike_neurons;
  L.random_eta = spec.network.sampling == sampling_kind::random;
  const int P = L.P;
  const size_t RP = static_cast<size_t>(L.R) * P;
  if (!part.first.empty() && static_cast<int>(part.first.size()) != P)
    throw internal_error("network_layout: partition.first needs one entry per population");
  if (!part.count.empty() && static_cast<int>(part.count.size()) != P)
    throw internal_error("network_layout: partition.count needs one entry per population");
  if (part.ranks < 1 || part.rank < 0 || part.rank >= part.ranks || part.block < 1)
    throw internal_error("network_layout: partition rank out of range");

  L.e_r = spec.synapse.e_r;
  L.tau_s = spec.synapse.tau_s;
  L.s_jump = spec.synapse.s_jump;
  L.decay.resize(P);
  for (int j = 0; j < P; ++j) L.decay[j] = std::exp(-spec.run.dt / spec.synapse.tau_s[j]);

  L.segments.reserve(RP);
  L.params.reserve(RP);
  L.replica_n.resize(L.R);
  L.kg.assign(RP * P, 0.0);
  L.inv_n.assign(RP, 0.0);
  int64_t offset = 0;
  for (int r = 0; r < L.R; ++r) {
    const replica_spec& rep = replicas[r];
    const std::vector<int64_t> sizes = population_sizes(spec, rep.n);
    const auto& g = rep.g.empty() ? spec.synapse.g : rep.g;
    L.replica_n[r] = rep.n;
    for (int i = 0; i < P; ++i) {
      const int64_t n = sizes[i];
      int64_t first = part.first.empty() ? 0 : std::min(std::max<int64_t>(part.first[i], 0), n);
      int64_t count = part.count.empty() ? n - first : std::min(std::max<int64_t>(part.count[i], 0), n - first);
      if (part.ranks > 1) {
        const population_slice sl = slice_of(n, part.rank, part.ranks, part.block);
        first = sl.first;
        count = sl.count;
      }
      L.segments.push_back({r, i, n, first, count, offset, rep.seed});
      offset += (count + align - 1) / align * align;
      L.owned += count;
      L.inv_n[static_cast<size_t>(r) * P + i] = 1.0 / static_cast<double>(n);
      for (int j = 0; j < P; ++j)
        L.kg[(static_cast<size_t>(r) * P + i) * P + j] =
            static_cast<double>(sizes[j]) / static_cast<double>(rep.n) * g[i][j];
      const population_params p = effective_population(spec, rep, i);
      const bool fixed = !rep.overrides.empty() && rep.overrides[i].I_ext.has_value();
      L.params.push_back(segment_params{p.alpha, p.a, p.b, p.w_jump, p.v_peak, p.v_reset, p.eta_bar, p.delta,
                                        fixed ? 1 : 0, fixed ? *rep.overrides[i].I_ext : 0.0});
    }
  }
  L.extent = offset;

  if (L.spike_neurons > 0)
    for (const layout_segment& s : L.segments)
      // The recorded neurons are k = floor(q n / m), q = 0..m-1 (all when m >= n): O(m), not O(n).
      for (int64_t q = 0; q < std::min(L.spike_neurons, s.n); ++q) {
        const int64_t m = L.spike_neurons;
        const int64_t k = m < s.n ? static_cast<int64_t>((static_cast<unsigned __int128>(q) * s.n) / m) : q;
        if (!is_recorded(k, s.n, m)) throw internal_error("network_layout: recorded neuron selection disagrees");
        if (k >= s.first && k < s.first + s.count)
          L.recorded.push_back({s.offset + (k - s.first), s.replica, s.pop, k});
      }
  return L;
}

std::vector<int64_t> network_layout::sizes(int replica) const {
  std::vector<int64_t> out(P);
  for (int i = 0; i < P; ++i) out[i] = segment(replica, i).n;
  return out;
}

bool network_layout::any_fixed_input() const {
  for (const segment_params& p : params)
    if (p.fixed_input) return true;
  return false;
}

void network_layout::fill_eta(size_t seg, int64_t begin, int64_t count, double* out) const {
  const layout_segment& s = segments.at(seg);
  const segment_params& p = params.at(seg);
  if (begin < 0 || count < 0 || begin + count > s.count) throw internal_error("network_layout::fill_eta: out of range");
  izhinet::fill_eta(random_eta, p.eta_bar, p.delta, s.seed, s.n, static_cast<uint32_t>(s.pop), s.first + begin, count,
                    out);
}

}  // namespace izhinet
