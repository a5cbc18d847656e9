#pragma once
/// \file checkpoint.hpp
/// Checkpoints of `izhinet run` (docs/checkpoints.md): everything a stopped
/// run needs to continue bit for bit, in one versioned binary file.
///
/// Layout (all integers and doubles in the writer's byte order, which the
/// header records; a reader refuses the other order):
///
///   offset 0   8 bytes  magic "IZHICKPT"
///          8   u32      format version (checkpoint_format_version)
///         12   u32      byte-order tag 0x01020304
///         16   u64      H: bytes of the metadata (JSON text)
///         24   u64      D: bytes of the arrays
///         32   H bytes  metadata: config hash, sizes, step, files, array table
///     32 + H   D bytes  the arrays, raw, each at an 8-byte multiple
/// 32 + H + D   32 bytes SHA-256 of every byte before it
///
/// Files are written through atomic_binary_file (io.hpp): a temporary file,
/// fsync, rename, so that a kill during the write keeps the previous one.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/communicator.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/observables.hpp"
#include "izhinet/params.hpp"

namespace izhinet {

constexpr uint32_t checkpoint_format_version = 1;
/// The checkpoint's name inside an output folder.
constexpr const char* checkpoint_name = "checkpoint.bin";

/// A checkpoint that cannot be used (truncated, corrupt, foreign, other
/// version, other configuration): one line naming the file and the reason.
class checkpoint_error : public user_error {
 public:
  using user_error::user_error;
};

/// What a checkpoint holds besides the backend's state.
struct checkpoint_data {
  std::string config_hash;  ///< config_identity() of the run that wrote it
  std::string backend;      ///< the backend that wrote it (information only: any backend resumes)
  int64_t replicas = 0, populations = 0, neurons = 0;
  int64_t steps_done = 0;    ///< global step index reached (a recording time)
  int64_t records_done = 0;  ///< recorded rows per replica after t = 0
  /// Sliding-window rate (run.rate_window): the ring of per-step spike counts
  /// ([slot][replica][population]) and its sums per (replica, population).
  std::vector<uint32_t> rate_ring;
  std::vector<uint64_t> rate_ring_sum;
  int64_t spikes_written = 0;
  bool spikes_capped = false;
  /// Output files (path relative to the output folder) and their size in
  /// bytes at the checkpoint: a resume cuts them back to it and appends.
  std::vector<std::pair<std::string, int64_t>> files;
  /// run.format = "hdf5": the growing datasets of run.h5 and their lengths
  /// at the checkpoint (hdf5_sink::sync_sizes); a resume cuts them back
  /// (restore_hdf5) and appends.
  std::vector<std::pair<std::string, int64_t>> datasets;
  backend_state state;
};

/// SHA-256 (hex) of the configuration as to_toml writes it, with run.t_end
/// left out (a resume may extend it): what a resumed run must agree with.
std::string config_identity(const model_spec& spec);

/// Writes `c` to `path` atomically (io_error on failure; the previous file stays).
/// Returns the bytes written.
int64_t write_checkpoint(const std::string& path, const checkpoint_data& c);

/// Reads and verifies a checkpoint: checkpoint_error when it is missing,
/// truncated, corrupt (checksum), foreign (magic), of another byte order or
/// format version. Says nothing yet about the configuration (see
/// check_checkpoint).
checkpoint_data read_checkpoint(const std::string& path);

/// checkpoint_error when `c` was not written by a run of `spec` with these
/// replicas (configuration hash, sizes, arrays), or lies beyond run.t_end.
void check_checkpoint(const checkpoint_data& c, const std::string& path, const model_spec& spec,
                      const std::vector<replica_spec>& replicas);

/// Cuts every output file listed in `c` (paths relative to `dir`) back to
/// its size at the checkpoint. All are checked first: checkpoint_error when
/// one is missing or shorter, and then no file is changed.
void restore_outputs(const checkpoint_data& c, const std::string& dir, const std::string& checkpoint_path);

/// Over the ranks of `comm` (collective): the whole network's state
/// (backend_state's layout, by global index) on rank 0, put together from
/// every rank's get_state slice (backend::held()); the other ranks get an
/// empty state. One rank: be.get_state. So a checkpoint does not depend on
/// the rank count that wrote it.
backend_state gather_state(backend& be, communicator& comm, const model_spec& spec,
                           const std::vector<replica_spec>& replicas);
/// The inverse (collective): rank 0 holds the whole network's `whole`
/// (ignored on the other ranks); every rank sets its own slice with
/// set_state. One rank: be.set_state(whole).
void scatter_state(backend& be, communicator& comm, const backend_state& whole, const model_spec& spec,
                   const std::vector<replica_spec>& replicas);
/// Rank 0's `c`, all but its state, on every rank (collective): what
/// simulate() needs to continue (step, records, rate window, spike count).
void broadcast_checkpoint(checkpoint_data& c, communicator& comm);

/// The first `records` rows after t = 0 of `replica` in a time-series file
/// (with a leading replica column when `replica_column`), read back exactly:
/// the numbers are written as the shortest text that reads back to the same
/// double (format_number), and t is recomputed on the step grid as the
/// simulation does. checkpoint_error when the file holds fewer rows.
std::vector<record_row> read_recorded_rows(const std::string& path, const model_spec& spec, int replica,
                                           bool replica_column, int64_t records);

}  // namespace izhinet
