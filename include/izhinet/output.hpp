#pragma once
/// \file output.hpp
/// Output files of a run: timeseries.csv (per replica), spikes.csv; the
/// parameters as JSON for summary.json. All files are written with the
/// checked writers of io.hpp (JSON: json.hpp).
///
/// Time series: columns t, then r<i>,v<i>,w<i>,s<i> for each population i.
/// - One replica: DIR/timeseries.csv.
/// - 2 .. max_replica_folders replicas: DIR/replica_<k>/timeseries.csv,
///   k = 0..R-1 (seed = network.seed + k).
/// - More replicas: one DIR/timeseries.csv with a leading `replica` column
///   (rows grouped by chunk of time; sort by replica, t to read one replica).
/// spikes.csv: t,replica,population,neuron (t = time at the end of the step
/// in which the neuron spiked).
///
/// When a write fails (io_error) the files end in complete lines and
/// valid_until() says up to which time every file is complete.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "izhinet/io.hpp"
#include "izhinet/json.hpp"
#include "izhinet/simulation.hpp"

namespace izhinet {

/// Replica counts up to this get one folder each; more share one file.
constexpr int max_replica_folders = 256;

/// The CSV header for P populations: t,r0,v0,w0,s0,... (no v columns when with_v is false).
std::string csv_header(int P, bool with_v = true);
/// One CSV line (no newline); numbers by format_number().
std::string csv_line(const record_row& row, bool with_v = true);

/// Writes the time series of every replica and the recorded spikes, handing
/// them to the kernel after every chunk (a killed run keeps what it recorded).
/// on_rows/on_spikes throw io_error when a file cannot be written.
class csv_sink final : public record_sink {
 public:
  csv_sink(const std::string& dir, const model_spec& spec, int replicas);
  /// Continues the files of a checkpointed run (already cut back to the
  /// checkpoint's sizes): no header, no t = 0 row; rows up to `t` are there.
  struct append_at {
    double t;
  };
  csv_sink(const std::string& dir, const model_spec& spec, int replicas, append_at from);
  /// Hands every buffered line to the kernel and fsyncs; returns each file
  /// (path relative to the output folder) with its size in bytes.
  std::vector<std::pair<std::string, int64_t>> sync_sizes();
  /// The files this sink writes for these replicas (paths relative to the output folder).
  static std::vector<std::string> file_names(const model_spec& spec, int replicas);
  void on_rows(int replica, const std::vector<record_row>& rows) override;
  void on_spikes(const std::vector<spike_event>& spikes) override;
  /// Flushes, syncs and closes every file (io_error on failure).
  void close();
  /// Time up to which every time-series row and every spike is in the files
  /// (0 before the first row).
  double valid_until() const;
  /// Path of a replica's time series.
  static std::string timeseries_path(const std::string& dir, int replica, int replicas);
  /// Throws config_error("network.replicas") when the replicas' files cannot
  /// all be open at once (open-file limit; the soft limit is raised to the hard one first).
  static void check_open_file_limit(int replicas);

 private:
  std::vector<std::unique_ptr<line_file>> files_;  ///< one per replica, or one shared
  std::unique_ptr<line_file> spikes_;
  std::string dir_;
  std::vector<double> last_t_;  ///< per replica: t of the last row in the file
  double spikes_until_ = 0;     ///< every spike up to this time is in spikes.csv
  double dt_;
  bool one_file_;
};

/// Forwards rows to several sinks.
class fanout_sink final : public record_sink {
 public:
  explicit fanout_sink(std::vector<record_sink*> sinks) : sinks_(std::move(sinks)) {}
  void on_rows(int replica, const std::vector<record_row>& rows) override {
    for (auto* s : sinks_) s->on_rows(replica, rows);
  }
  void on_spikes(const std::vector<spike_event>& spikes) override {
    for (auto* s : sinks_) s->on_spikes(spikes);
  }

 private:
  std::vector<record_sink*> sinks_;
};

/// The spec as JSON (every parameter after overrides).
json spec_to_json(const model_spec& spec);

}  // namespace izhinet
