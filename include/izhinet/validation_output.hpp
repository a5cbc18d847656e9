#pragma once
/// \file validation_output.hpp
/// The validator's files: the mean-field trajectories (streamed CSV) and
/// validation.json (fields described in README.md, "validation.json").
#include <memory>
#include <string>

#include "izhinet/io.hpp"
#include "izhinet/json.hpp"
#include "izhinet/params.hpp"
#include "izhinet/validation.hpp"

namespace izhinet {

/// Streams one mean field's trajectory to a CSV file: header t,r0,v0,w0,s0,...
/// (without the v columns when `with_v` is false), one row per record time.
/// Written with line_file (io.hpp): every write is checked, a failure throws
/// io_error naming the file and the reason, and the file keeps only complete rows.
class mf_csv_writer {
 public:
  mf_csv_writer(std::string path, int populations, bool with_v);
  ~mf_csv_writer();
  mf_csv_writer(const mf_csv_writer&) = delete;
  mf_csv_writer& operator=(const mf_csv_writer&) = delete;
  /// One row: t and 4P values (r, v, w, s per population).
  void row(double t, const double* values);
  /// Flushes, syncs and closes (checked); further rows are an error.
  void close();
  const std::string& path() const;

 private:
  std::unique_ptr<line_file> file_;
  std::string line_;
  int P_;
  bool with_v_;
};

/// The body of validation.json for `rep` (criteria, both sides, comparisons);
/// write it with write_json(), which puts the provenance first.
json validation_json(const model_spec& spec, const validation_report& rep);

}  // namespace izhinet
