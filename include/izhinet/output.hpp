#pragma once
/// \file output.hpp
/// Output files of a run: timeseries.csv (per replica), spikes.csv, summary.json.
///
/// One replica: DIR/timeseries.csv. Several: DIR/replica_<k>/timeseries.csv,
/// k = 0..R-1 (seed = network.seed + k). Columns: t, then r<i>,v<i>,w<i>,s<i>
/// for each population i. spikes.csv: t,replica,population,neuron (t = time
/// at the end of the step in which the neuron spiked).
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "izhinet/simulation.hpp"

namespace izhinet {

/// Creates `dir` if needed and checks it is writable; throws config_error("--out").
void prepare_output_dir(const std::string& dir);

/// The CSV header for P populations: t,r0,v0,w0,s0,... (no v columns when with_v is false).
std::string csv_header(int P, bool with_v = true);
/// One CSV line (no newline).
std::string csv_line(const record_row& row, bool with_v = true);

/// Writes the time series of every replica and the recorded spikes, flushing
/// after every chunk so that a killed run keeps what it recorded.
class csv_sink final : public record_sink {
 public:
  csv_sink(const std::string& dir, const model_spec& spec, int replicas);
  ~csv_sink() override;
  void on_rows(int replica, const std::vector<record_row>& rows) override;
  void on_spikes(const std::vector<spike_event>& spikes) override;
  /// Path of a replica's time series.
  static std::string timeseries_path(const std::string& dir, int replica, int replicas);

 private:
  std::vector<std::FILE*> files_;
  std::FILE* spikes_ = nullptr;
  double dt_;
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

/// A minimal JSON object writer (keys in insertion order).
class json_object {
 public:
  json_object& set(const std::string& key, double x);
  json_object& set(const std::string& key, int64_t x);
  json_object& set(const std::string& key, int x) { return set(key, static_cast<int64_t>(x)); }
  json_object& set(const std::string& key, bool x);
  json_object& set(const std::string& key, const std::string& x);
  json_object& set(const std::string& key, const char* x) { return set(key, std::string(x)); }
  json_object& set(const std::string& key, const std::vector<double>& x);
  json_object& set(const std::string& key, const json_object& x);
  /// Raw JSON text (an array of objects, say).
  json_object& set_raw(const std::string& key, const std::string& json);
  std::string str(int indent = 0) const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

std::string json_escape(const std::string& s);
std::string json_number(double x);

/// The spec as JSON (every parameter after overrides).
json_object spec_to_json(const model_spec& spec);

/// Writes `text` to `path` atomically (temporary file, then rename).
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace izhinet
