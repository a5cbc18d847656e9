#pragma once
/// \file output_hdf5.hpp
/// run.format = "hdf5": one DIR/run.h5 instead of timeseries.csv,
/// spikes.csv and eta.csv (the mean fields, validation.json, summary.json and
/// config.toml stay as they are). Contents:
///
/// | dataset | shape, type | as in |
/// |---------|-------------|-------|
/// | /timeseries | (R, K, 1 + 4P) float64; attribute `columns` = "t,r0,v0,w0,s0,..." | timeseries.csv of each replica
/// (t = 0 row first) | | /spikes/t, replica, population, neuron | (S,) float64, int32, int32, int64 | spikes.csv | |
/// /eta/replica, population, neuron, eta | (E,) int32, int32, int64, float64 | eta.csv |
///
/// Root attributes (UTF-8 strings): `format` ("izhinet run 1"), `provenance`
/// (the provenance object of json.hpp, as JSON), `parameters` (as in
/// summary.json), `config_toml` (as config.toml). Every HDF5 call is checked
/// (io_error naming run.h5 and the call); the datasets are chunked and grow as
/// rows arrive, and the file is flushed after every chunk of rows, so a run
/// stopped by a signal or a full disk leaves the rows up to valid_until().
/// Builds without HDF5 reject run.format = "hdf5" when the configuration is
/// read (hdf5_available()).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/params.hpp"
#include "izhinet/simulation.hpp"

namespace izhinet {

/// True when this build can write HDF5 (CMake found the HDF5 C library).
bool hdf5_available();

class hdf5_sink final : public record_sink {
 public:
  /// Creates DIR/run.h5 with the t = 0 rows, the recorded neurons' eta and
  /// the attributes; io_error when it cannot (config_error without HDF5).
  hdf5_sink(const std::string& dir, const model_spec& spec, const std::vector<replica_spec>& replicas);
  /// A resumed run (docs/checkpoints.md): reopens DIR/run.h5, whose datasets
  /// restore_hdf5 has cut back to the checkpoint, and appends after them;
  /// `t` is the checkpoint's time.
  struct append_at {
    double t;
  };
  hdf5_sink(const std::string& dir, const model_spec& spec, const std::vector<replica_spec>& replicas, append_at from);
  ~hdf5_sink() override;
  hdf5_sink(const hdf5_sink&) = delete;
  hdf5_sink& operator=(const hdf5_sink&) = delete;
  void on_rows(int replica, const std::vector<record_row>& rows) override;
  void on_spikes(const std::vector<spike_event>& spikes) override;
  /// Flushes and closes the file (io_error on failure). Idempotent.
  void close();
  /// Flushes the file to disk (H5Fflush, then fsync) and returns the
  /// lengths of its growing datasets, for a checkpoint: ("timeseries", rows
  /// per replica, the t = 0 row included) and ("spikes", spikes).
  std::vector<std::pair<std::string, int64_t>> sync_sizes();
  /// Time up to which every row and spike is in the file.
  double valid_until() const;
  static std::string path(const std::string& dir);

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

/// The first `records` rows after t = 0 of `replica` in DIR/run.h5 (the
/// stored doubles; t recomputed on the step grid as the simulation does),
/// to rebuild the validator on resume. user_error when it holds fewer.
std::vector<record_row> read_hdf5_rows(const std::string& dir, const model_spec& spec, int replica, int64_t records);

/// Cuts the growing datasets of DIR/run.h5 back to `sizes` (as sync_sizes
/// gave them at a checkpoint). Every dataset is checked first: user_error
/// naming the file and the dataset when the file cannot be opened or a
/// dataset holds fewer rows than at the checkpoint, and then nothing is
/// changed.
void restore_hdf5(const std::string& dir, const std::vector<std::pair<std::string, int64_t>>& sizes);

}  // namespace izhinet
