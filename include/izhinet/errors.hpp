#pragma once
/// \file errors.hpp
/// Two kinds of error: a user/runtime problem (bad config, unwritable folder,
/// numerical blow-up, missing GPU) and an internal bug; and the exit status
/// of the izhinet executable for each.
#include <stdexcept>
#include <string>

namespace izhinet {

/// Exit statuses of the izhinet executable (README, "What you can rely on").
enum exit_status : int {
  exit_ok = 0,             ///< the command did all it was asked
  exit_usage = 2,          ///< bad option, configuration, or output folder refused (config_error, user_error)
  exit_internal = 3,       ///< a bug in izhinet (internal_error or an unexpected exception)
  exit_runtime = 4,        ///< numerical blow-up, failed mean-field integration, device failure, out of memory
  exit_io = 5,             ///< an output file could not be written (disk full, quota, I/O error): io_error
  exit_busy = 6,           ///< the output folder is in use by another izhinet process: busy_error
  exit_interrupted = 130,  ///< stopped by SIGINT or SIGTERM; what was written is well-formed
};

/// The exit status main gives for an exception of this type (the table above).
int exit_status_of(const std::exception& e);

/// Shortens user-supplied text for an error message: at most `max` characters,
/// the middle elided ("abc...xyz (10485760 characters)").
std::string shorten(const std::string& text, size_t max = 80);

/// A problem the user can fix: bad input, missing device, unwritable output.
class user_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Raised when the configuration is invalid; names the key.
class config_error : public user_error {
 public:
  config_error(const std::string& key, const std::string& what)
      : user_error(key.empty() ? what : shorten(key) + ": " + what), key_(key) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

/// The CUDA backend was asked for and cannot run (no device, driver error).
class device_error : public user_error {
 public:
  using user_error::user_error;
};

/// Not enough memory (host or device) for what was asked: names the key that
/// sizes it, what it needs and the limit. The same kind on every backend.
class memory_error : public user_error {
 public:
  memory_error(const std::string& key, const std::string& what, double need_bytes, double limit_bytes,
               const std::string& limit_name);
  const std::string& key() const { return key_; }
  double need_bytes, limit_bytes;

 private:
  std::string key_;
};

/// Human-readable byte count ("1.5 GiB", "12 MiB", "800 B").
std::string format_bytes(double bytes);

/// A state that became non-finite during a run.
class numerical_error : public user_error {
 public:
  numerical_error(const std::string& what, double t_lo, double t_hi, int population, int replica)
      : user_error(what), t_lo(t_lo), t_hi(t_hi), population(population), replica(replica) {}
  double t_lo, t_hi;
  int population, replica;
};

/// A file could not be written, synced or closed (ENOSPC, EDQUOT, EIO, ...).
/// what(): "cannot write 'PATH': No space left on device".
class io_error : public user_error {
 public:
  io_error(const std::string& path, int err, const std::string& action = "write");
  const std::string& path() const { return path_; }
  int error_number() const { return err_; }

 private:
  std::string path_;
  int err_;
};

/// The output folder is locked by another izhinet process.
class busy_error : public user_error {
 public:
  busy_error(const std::string& what, long holder_pid) : user_error(what), holder_pid(holder_pid) {}
  long holder_pid;  ///< 0 when unknown
};

/// A stop request (SIGINT/SIGTERM) ended work that cannot return a partial result.
class interrupted_error : public user_error {
 public:
  using user_error::user_error;
};

/// An internal inconsistency: a bug in izhinet, not in the input.
class internal_error : public std::logic_error {
 public:
  explicit internal_error(const std::string& what) : std::logic_error("internal error (bug): " + what) {}
};

}  // namespace izhinet
