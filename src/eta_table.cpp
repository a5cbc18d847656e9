#include "izhinet/eta_table.hpp"

#include <cstdio>
#include <filesystem>

#include "izhinet/errors.hpp"
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
      const auto& p = spec.populations[i];
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
  const std::string path = (std::filesystem::path(dir) / "eta.csv").string();
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw user_error("cannot write '" + path + "'");
  std::fprintf(f, "replica,population,neuron,eta\n");
  for (const eta_entry& e : recorded_etas(spec, replicas))
    std::fprintf(f, "%d,%d,%lld,%.12g\n", e.replica, e.population, static_cast<long long>(e.neuron), e.eta);
  const bool bad = std::ferror(f) != 0;
  if (std::fclose(f) != 0 || bad) throw user_error("error while writing '" + path + "'");
}

}  // namespace izhinet
