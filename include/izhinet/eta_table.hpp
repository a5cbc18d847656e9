#pragma once
/// \file eta_table.hpp
/// eta.csv: the excitability eta of every neuron whose spikes are written
/// (run.spike_neurons per population, the same neurons as spikes.csv, see
/// recording.hpp), so that a raster can be sorted by excitability.
///
/// Columns: replica, population, neuron (index within the population, as in
/// spikes.csv), eta (dimensionless). The values are those the backends use
/// (the same sample_eta() evaluation, bit for bit). At most run.spike_neurons
/// rows per population and replica; no file when run.spike_neurons = 0.
#include <string>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/params.hpp"

namespace izhinet {

/// One row of eta.csv.
struct eta_entry {
  int replica;
  int population;
  int64_t neuron;
  double eta;
};

/// The recorded neurons of every replica and their eta, ordered by replica,
/// population and neuron.
std::vector<eta_entry> recorded_etas(const model_spec& spec, const std::vector<replica_spec>& replicas);

/// Writes dir/eta.csv (nothing when run.spike_neurons = 0); throws io_error
/// when the file cannot be written.
void write_eta_csv(const std::string& dir, const model_spec& spec, const std::vector<replica_spec>& replicas);

}  // namespace izhinet
