#pragma once
/// \file io.hpp
/// Every byte izhinet writes goes through this file's three tools, which
/// check every system call (open, write, fsync, close, rename) in one place:
///
/// - `line_file`: a text file written in whole lines (CSV rows). When a write
///   fails (disk full, quota, I/O error) the file is cut back to its last
///   complete line and `io_error` is thrown naming the file and the reason
///   (strerror): a file never ends in a torn line, and `lines()` says how
///   many complete lines it holds.
/// - `write_file_atomic`: a whole small file (JSON, TOML) written to a
///   temporary file, synced, then renamed over the target: readers see the
///   old file or the new one, never half of one.
/// - `output_folder`: the exclusive lock on an output folder (flock on
///   DIR/.izhinet.lock, released by the kernel when the process ends, so a
///   killed run leaves no stale lock) and the rule that a folder holds one
///   run: a second process stops at once naming the holder's PID
///   (busy_error); a folder with another run's files is refused unless the
///   caller asks to overwrite it, which removes them first.
///
/// Numbers in CSV files: `format_number`, the shortest text that reads back to
/// the same double (std::to_chars), "nan"/"inf"/"-inf" otherwise; times on
/// the step grid: `format_time` (15 significant digits, no rounding noise).
///
/// Usage (a CSV file):
/// \code
///   line_file f(dir + "/branches.csv");   // truncates; io_error if it cannot
///   f.line("t,r0");                       // a line without its '\n'
///   std::string l = format_number(t);
///   csv_append(l, r);                     // ",<r>"
///   f.line(l);
///   f.flush();                            // hand to the kernel (checked)
///   f.close();                            // flush + fsync + close (checked)
/// \endcode
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace izhinet {

/// The shortest decimal text that parses back to exactly x ("0.1", "1e-300",
/// "12"); "nan", "inf", "-inf" for non-finite values; -0 is written as 0.
std::string format_number(double x);
/// A time on the simulation grid (k dt, (step + 1) dt): 15 significant digits,
/// so that 2143 * 0.001 is written 2.143 and not 2.1430000000000002 (15
/// digits tell apart every step of a run of up to 1e12 steps).
std::string format_time(double t);
/// The double that format_time(t) reads back as (for times in JSON files).
double clean_time(double t);
/// Appends "," and format_number(x) to a CSV line.
void csv_append(std::string& line, double x);
inline void csv_append(std::string& line, int64_t x) { line += ',' + std::to_string(x); }

/// A text file written in whole lines with every system call checked.
/// Lines are buffered and handed to the kernel by flush() (also when the
/// buffer passes 1 MiB); sync() and close() also fsync. After an io_error the
/// file holds exactly lines() complete lines (a partly written line is cut
/// off with ftruncate) and every later call throws the same error.
class line_file {
 public:
  enum class open_mode {
    truncate,  ///< a new, empty file (an old one is replaced)
    append     ///< keep the file's contents and add lines after them
  };
  explicit line_file(std::string path, open_mode mode = open_mode::truncate);
  /// Closes (flush, fsync, close) if still open; an error is logged, not thrown:
  /// call close() to see it.
  ~line_file();
  line_file(const line_file&) = delete;
  line_file& operator=(const line_file&) = delete;

  /// Adds one line; `text` must not contain '\n' (the newline is added).
  void line(std::string_view text);
  /// Writes the buffered lines with write(2), checked; cuts a torn line on failure.
  void flush();
  /// flush() and fsync(2).
  void sync();
  /// flush(), fsync and close(2), all checked. Idempotent.
  void close();

  const std::string& path() const { return path_; }
  /// Complete lines this object has handed to the kernel (not counting an
  /// append-mode file's earlier contents).
  int64_t lines() const { return lines_; }
  /// Lines added but not yet flushed.
  size_t pending() const { return pending_lines_; }
  bool failed() const { return failed_; }

 private:
  void fail(int err, const char* action);
  std::string path_;
  int fd_ = -1;
  int64_t offset_ = 0;  ///< file size after the last complete line
  int64_t lines_ = 0;
  std::string buf_;
  size_t pending_lines_ = 0;
  bool failed_ = false;
  int err_ = 0;
  std::string action_;
};

/// Writes `text` to `path` atomically: PATH.tmp, fsync, rename. Throws
/// io_error (and removes the temporary file) when any step fails.
void write_file_atomic(const std::string& path, const std::string& text);

/// Rewrites `path` in place (truncate, write, fsync): for a small file that
/// must be updated when there is no room for a temporary copy (a full disk).
/// Not atomic: use write_file_atomic first. Throws io_error.
void write_file_in_place(const std::string& path, const std::string& text);

/// A large binary file (a checkpoint) written atomically and at disk speed:
/// write() hands the caller's memory to write(2) as it is (checked);
/// commit() syncs, renames PATH.tmp over PATH and syncs the folder, so that a
/// kill at any moment leaves either the old PATH or the new one. Destroyed
/// without commit() (an error, an exception): the temporary file is removed
/// and PATH is untouched. Every failure is an io_error naming the file.
class atomic_binary_file {
 public:
  explicit atomic_binary_file(std::string path);
  ~atomic_binary_file();
  atomic_binary_file(const atomic_binary_file&) = delete;
  atomic_binary_file& operator=(const atomic_binary_file&) = delete;
  void write(const void* data, size_t bytes);
  void commit();
  int64_t bytes() const { return bytes_; }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  int64_t bytes_ = 0;
};

/// Cuts `path` back to `size` bytes and syncs it (io_error on failure; an
/// error too when the file is shorter than `size`).
void truncate_file(const std::string& path, int64_t size);

/// Holds the exclusive lock on an output folder for its lifetime.
class output_folder {
 public:
  enum class existing {
    refuse,     ///< another run's files: config_error("--out"), naming them
    overwrite,  ///< another run's files are removed first (folders with files izhinet did not write are refused)
    resume      ///< keep the files (the caller checks that they belong to it: finite-size studies)
  };
  /// Creates `dir` if needed and takes the lock: busy_error naming the holder's
  /// PID when another process has it; config_error(option) when the folder
  /// cannot be created or written. Then applies `policy` to the files there.
  /// `option` is what the user named the folder with (--out, or --resume).
  /// With `defer_removal`, existing::overwrite checks the files (refusing
  /// folders with files izhinet did not write) but removes nothing until
  /// clear(): a run checks everything that can refuse it in between, so that a
  /// refused run leaves the earlier run's files in place.
  output_folder(const std::string& dir, existing policy, const std::string& option = "--out",
                bool defer_removal = false);
  ~output_folder();
  /// Removes the earlier run's files kept by `defer_removal` (none: nothing).
  void clear();
  output_folder(const output_folder&) = delete;
  output_folder& operator=(const output_folder&) = delete;
  const std::string& dir() const { return dir_; }
  /// Name of the lock file inside every output folder.
  static constexpr const char* lock_name = ".izhinet.lock";

 private:
  void apply(existing policy, bool had_lock, bool defer_removal);
  std::string dir_;
  std::vector<std::string> pending_;  ///< entries clear() removes
  int fd_ = -1;
};

/// Test hooks: make the next system calls on matching files fail as a full
/// disk or a broken device would, so that every error path can be tested.
namespace io_faults {
enum class op { write, fsync, close, open };
/// After `after_bytes` more bytes have been written to files whose path
/// contains `path_part`, `what` fails with errno `err` (a write that crosses
/// the limit first writes the bytes up to it, as a filling disk does).
/// For op::open / fsync / close, `after_bytes` is ignored: the next call fails.
void inject(op what, const std::string& path_part, int64_t after_bytes, int err);
/// Removes every injected fault.
void clear();
}  // namespace io_faults

}  // namespace izhinet
