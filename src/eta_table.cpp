#include "izhinet/eta_table.hpp"

#include <filesystem>

#include "izhinet/errors.hpp"
#include "izhinet/io.hpp"
#include "izhinet/network_layout.hpp"
#include "izhinet/recording.hpp"
#include "izhinet/sampling.hpp"

namespace izhinet {

std::vector<eta_entry> recorded_etas(const model_spec& spec, const std::vector<replica_spec>& replicas) {
  std::vector<eta_entry> out;
  const int64_t m = spec.run.spike_neurons;
  if (m <= 0) return out;
  const bool random = spec.network.sampling == sampling_kind::random;
  for (size_t r = 0; r < replicas.size(); ++r) {
    const std::vector<int64_t> sizes = population_sizes(spec, replicas[r].n);
    for (int i = 0; i < spec.num_populations(); ++i) {
      const int64_t n = sizes[i];
      const population_params p = effective_population(spec, replicas[r], i);
      // The recorded neurons are k = floor(q n / m), q = 0..m-1 (all of them when m >= n).
      const int64_t count = m < n ? m : n;
      for (int64_t q = 0; q < count; ++q) {
        const int64_t k = m < n ? static_cast<int64_t>((static_cast<unsigned __int128>(q) * n) / m) : q;
        if (!is_recorded(k, n, m)) throw internal_error("recorded_etas: neuron selection disagrees with is_recorded");
        out.push_back({static_cast<int>(r), i, k,
                       sample_eta(random, p.eta_bar, p.delta, replicas[r].seed, k, n, static_cast<uint32_t>(i))});
      }
    }
  }
  return out;
}

void write_eta_csv(const std::string& dir, const model_spec& spec, const std::vector<replica_spec>& replicas) {
  if (spec.run.spike_neurons <= 0) return;
  line_file f((std::filesystem::path(dir) / "eta.csv").string());
  f.line("replica,population,neuron,eta");
  std::string l;
  for (size_t r = 0; r < replicas.size(); ++r)  // one replica at a time: memory bounded for 10^6 replicas
    for (const eta_entry& e : recorded_etas(spec, {replicas[r]})) {
      l = std::to_string(r);
      csv_append(l, static_cast<int64_t>(e.population));
      csv_append(l, e.neuron);
      csv_append(l, e.eta);  // shortest text that reads back to the same double: the backends' value, bit for bit
      f.line(l);
    }
  f.close();
}

}  // namespace izhinet
