/// \file io.cpp
/// The checked writers of io.hpp: every open, write, fsync, close and rename
/// of izhinet's outputs happens in this file.
#include "izhinet/io.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <regex>

#include "izhinet/errors.hpp"

namespace fs = std::filesystem;

namespace izhinet {

io_error::io_error(const std::string& path, int err, const std::string& action)
    : user_error("cannot " + action + " '" + path + "': " + std::strerror(err)), path_(path), err_(err) {}

std::string format_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (x == 0) return "0";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string format_time(double t) {
  if (!std::isfinite(t)) return format_number(t);
  if (t == 0) return "0";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15g", t);
  return buf;
}

double clean_time(double t) { return std::isfinite(t) ? std::strtod(format_time(t).c_str(), nullptr) : t; }

void csv_append(std::string& line, double x) {
  line += ',';
  line += format_number(x);
}

// ---------------------------------------------------------------------------
// Fault injection: consulted by the system-call wrappers below.

namespace io_faults {
namespace {
struct fault {
  op what;
  std::string part;
  int64_t left;
  int err;
};
std::mutex g_mutex;
std::vector<fault> g_faults;
std::atomic<bool> g_armed{false};
}  // namespace

void inject(op what, const std::string& path_part, int64_t after_bytes, int err) {
  std::lock_guard<std::mutex> lk(g_mutex);
  g_faults.push_back({what, path_part, std::max<int64_t>(0, after_bytes), err});
  g_armed = true;
}

void clear() {
  std::lock_guard<std::mutex> lk(g_mutex);
  g_faults.clear();
  g_armed = false;
}

/// For a write of `n` bytes to `path`: how many may be written (n when no
/// fault applies); sets `err` when the call must then fail.
static size_t allowed(op what, const std::string& path, size_t n, int& err) {
  err = 0;
  if (!g_armed.load(std::memory_order_relaxed)) return n;
  std::lock_guard<std::mutex> lk(g_mutex);
  for (auto& f : g_faults) {
    if (f.what != what || path.find(f.part) == std::string::npos) continue;
    if (what != op::write) {
      err = f.err;
      return 0;
    }
    if (static_cast<int64_t>(n) <= f.left) {
      f.left -= static_cast<int64_t>(n);
      return n;
    }
    const size_t k = static_cast<size_t>(f.left);
    f.left = 0;
    if (k == 0) err = f.err;  // nothing fits: the call fails, like write(2) on a full disk
    return k;
  }
  return n;
}
}  // namespace io_faults

namespace {

/// write(2) until done; returns 0 or an errno. `written` counts what reached the file.
int write_all(int fd, const std::string& path, const char* data, size_t n, size_t& written) {
  written = 0;
  while (written < n) {
    int err = 0;
    const size_t want = io_faults::allowed(io_faults::op::write, path, n - written, err);
    if (err) return err;
    const ssize_t w = ::write(fd, data + written, want);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;
    written += static_cast<size_t>(w);
  }
  return 0;
}

int sync_fd(int fd, const std::string& path) {
  int err = 0;
  io_faults::allowed(io_faults::op::fsync, path, 0, err);
  if (err) return err;
  while (::fsync(fd) != 0) {
    if (errno == EINTR) continue;
    if (errno == EINVAL || errno == EROFS) return 0;  // a pipe or a special file: nothing to sync
    return errno;
  }
  return 0;
}

int close_fd(int fd, const std::string& path) {
  int err = 0;
  io_faults::allowed(io_faults::op::close, path, 0, err);
  const int r = ::close(fd);  // always release the descriptor
  if (err) return err;
  return r != 0 && errno != EINTR ? errno : 0;
}

int open_fd(const std::string& path, int flags, int& err) {
  io_faults::allowed(io_faults::op::open, path, 0, err);
  if (err) return -1;
  int fd;
  do fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) err = errno;
  return fd;
}

}  // namespace

// ---------------------------------------------------------------------------

line_file::line_file(std::string path, open_mode mode) : path_(std::move(path)) {
  int err = 0;
  fd_ = open_fd(path_, O_WRONLY | O_CREAT | (mode == open_mode::truncate ? O_TRUNC : O_APPEND), err);
  if (fd_ < 0) throw io_error(path_, err, "create");
  if (mode == open_mode::append) {
    const off_t end = ::lseek(fd_, 0, SEEK_END);
    offset_ = end > 0 ? end : 0;
  }
}

line_file::~line_file() {
  if (fd_ < 0) return;
  try {
    close();
  } catch (const std::exception& e) {
    spdlog::warn("{}", e.what());
  }
}

void line_file::fail(int err, const char* action) {
  failed_ = true;
  err_ = err;
  action_ = action;
  // Cut a partly written line (ftruncate frees space, so it works on a full disk too).
  if (fd_ >= 0) {
    if (::ftruncate(fd_, offset_) != 0)
      spdlog::warn("could not cut '{}' back to its last complete line: {}", path_, std::strerror(errno));
    ::close(fd_);
    fd_ = -1;
  }
  buf_.clear();
  pending_lines_ = 0;
  throw io_error(path_, err_, action_);
}

void line_file::line(std::string_view text) {
  if (failed_) throw io_error(path_, err_, action_);
  if (fd_ < 0) throw internal_error("line_file: write to closed file '" + path_ + "'");
  if (text.find('\n') != std::string_view::npos) throw internal_error("line_file: a line with a newline in it");
  buf_.append(text.data(), text.size());
  buf_ += '\n';
  ++pending_lines_;
  if (buf_.size() >= (size_t{1} << 20)) flush();
}

void line_file::flush() {
  if (failed_) throw io_error(path_, err_, action_);
  if (buf_.empty() || fd_ < 0) return;
  size_t written = 0;
  const int err = write_all(fd_, path_, buf_.data(), buf_.size(), written);
  if (err) {
    // Keep the complete lines that reached the file, cut the rest.
    const size_t keep = written == 0 ? std::string::npos : buf_.rfind('\n', written - 1);
    if (keep != std::string::npos) {
      lines_ += std::count(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(keep + 1), '\n');
      offset_ += static_cast<int64_t>(keep + 1);
    }
    fail(err, "write");
  }
  offset_ += static_cast<int64_t>(buf_.size());
  lines_ += static_cast<int64_t>(pending_lines_);
  buf_.clear();
  pending_lines_ = 0;
}

void line_file::sync() {
  flush();
  if (fd_ < 0) return;
  if (const int err = sync_fd(fd_, path_)) fail(err, "sync");
}

void line_file::close() {
  if (failed_) throw io_error(path_, err_, action_);
  if (fd_ < 0) return;
  sync();
  const int fd = fd_;
  fd_ = -1;
  if (const int err = close_fd(fd, path_)) {
    failed_ = true;
    err_ = err;
    action_ = "close";
    throw io_error(path_, err, "close");
  }
}

// ---------------------------------------------------------------------------

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int err = 0;
  const int fd = open_fd(tmp, O_WRONLY | O_CREAT | O_TRUNC, err);
  if (fd < 0) throw io_error(tmp, err, "create");
  size_t written = 0;
  const char* action = "write";
  err = write_all(fd, tmp, text.data(), text.size(), written);
  if (!err && (err = sync_fd(fd, tmp))) action = "sync";
  const int cerr = close_fd(fd, tmp);
  if (!err && cerr) {
    err = cerr;
    action = "close";
  }
  if (!err && ::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    action = "rename";
  }
  if (err) {
    ::unlink(tmp.c_str());
    throw io_error(std::string(action) == "rename" ? tmp + "' to '" + path : tmp, err, action);
  }
}

void write_file_in_place(const std::string& path, const std::string& text) {
  int err = 0;
  const int fd = open_fd(path, O_WRONLY | O_CREAT | O_TRUNC, err);
  if (fd < 0) throw io_error(path, err, "create");
  size_t written = 0;
  const char* action = "write";
  err = write_all(fd, path, text.data(), text.size(), written);
  if (!err && (err = sync_fd(fd, path))) action = "sync";
  const int cerr = close_fd(fd, path);
  if (!err && cerr) {
    err = cerr;
    action = "close";
  }
  if (err) throw io_error(path, err, action);
}

// ---------------------------------------------------------------------------
// Large binary files (checkpoints)

atomic_binary_file::atomic_binary_file(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
  int err = 0;
  fd_ = open_fd(tmp_, O_WRONLY | O_CREAT | O_TRUNC, err);
  if (fd_ < 0) throw io_error(tmp_, err, "create");
}

atomic_binary_file::~atomic_binary_file() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void atomic_binary_file::write(const void* data, size_t bytes) {
  if (fd_ < 0) throw internal_error("atomic_binary_file::write after commit or failure: " + tmp_);
  const char* p = static_cast<const char*>(data);
  // write(2) moves at most about 2 GiB per call on Linux: hand it pieces.
  constexpr size_t piece = size_t(1) << 30;
  for (size_t done = 0; done < bytes;) {
    const size_t n = std::min(piece, bytes - done);
    size_t written = 0;
    if (const int err = write_all(fd_, tmp_, p + done, n, written)) {
      ::close(fd_);
      fd_ = -1;
      ::unlink(tmp_.c_str());
      throw io_error(tmp_, err, "write");
    }
    done += n;
  }
  bytes_ += static_cast<int64_t>(bytes);
}

void atomic_binary_file::commit() {
  if (fd_ < 0) throw internal_error("atomic_binary_file::commit twice: " + tmp_);
  const char* action = "sync";
  int err = sync_fd(fd_, tmp_);
  const int cerr = close_fd(fd_, tmp_);
  fd_ = -1;
  if (!err && cerr) {
    err = cerr;
    action = "close";
  }
  if (!err && ::rename(tmp_.c_str(), path_.c_str()) != 0) {
    err = errno;
    action = "rename";
  }
  if (err) {
    ::unlink(tmp_.c_str());
    throw io_error(std::string(action) == "rename" ? tmp_ + "' to '" + path_ : tmp_, err, action);
  }
  // The rename itself reaches the disk with the folder's metadata.
  const std::string dir = fs::path(path_).parent_path().empty() ? "." : fs::path(path_).parent_path().string();
  const int dfd = open_fd(dir, O_RDONLY | O_DIRECTORY, err);
  if (dfd >= 0) {
    err = sync_fd(dfd, dir);
    ::close(dfd);
    if (err) throw io_error(dir, err, "sync");
  }
}

void truncate_file(const std::string& path, int64_t size) {
  int err = 0;
  const int fd = open_fd(path, O_WRONLY, err);
  if (fd < 0) throw io_error(path, err, "open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    err = errno;
    ::close(fd);
    throw io_error(path, err, "stat");
  }
  if (st.st_size < size) {
    ::close(fd);
    throw user_error("'" + path + "' has " + std::to_string(st.st_size) + " bytes, fewer than the " +
                     std::to_string(size) + " expected");
  }
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    err = errno;
    ::close(fd);
    throw io_error(path, err, "truncate");
  }
  err = sync_fd(fd, path);
  const int cerr = close_fd(fd, path);
  if (err || cerr) throw io_error(path, err ? err : cerr, err ? "sync" : "close");
}

// ---------------------------------------------------------------------------
// Output folders

namespace {

/// Files and folders izhinet writes into an output folder (for folders
/// written before the lock file existed, which --overwrite may clear).
bool izhinet_output_name(const std::string& name) {
  static const std::regex known(
      R"((summary|validation|equilibria|finite_size|special_points)\.json(\.tmp)?|config\.toml(\.tmp)?|checkpoint\.bin(\.tmp)?|)"
      R"((timeseries|spikes|meanfield|meanfield_slow|finite_size|branches|eta)\.csv|study\.txt(\.tmp)?|)"
      R"(replica_[0-9]+|runs|\.izhinet_write_test|[A-Za-z0-9_]+\.png)");
  return std::regex_match(name, known);
}

long lock_holder(int fd) {
  char buf[64] = {0};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  return n > 0 ? std::strtol(buf, nullptr, 10) : 0;
}

}  // namespace

output_folder::output_folder(const std::string& dir, existing policy, const std::string& option, bool defer_removal)
    : dir_(dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw config_error(option, "cannot create output folder '" + shorten(dir, 200) +
                                   "': " + (ec ? ec.message() : "a file of that name exists"));
  const std::string lock = (fs::path(dir) / lock_name).string();
  const bool had_lock = fs::exists(lock, ec);
  int err = 0;
  fd_ = open_fd(lock, O_RDWR | O_CREAT, err);
  if (fd_ < 0)
    throw config_error(option, "output folder '" + shorten(dir, 200) + "' is not writable: " + std::strerror(err));
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    const int e = errno;
    const long pid = lock_holder(fd_);
    ::close(fd_);
    fd_ = -1;
    if (e == EWOULDBLOCK)
      throw busy_error(option + ": folder '" + shorten(dir, 200) + "' is in use by another izhinet process" +
                           (pid > 0 ? " (PID " + std::to_string(pid) + ")" : std::string()) + "; wait for it to end" +
                           (option == "--out" ? ", or use another --out" : ""),
                       pid);
    throw config_error(option, "cannot lock output folder '" + shorten(dir, 200) + "': " + std::strerror(e));
  }
  const std::string me = std::to_string(static_cast<long>(::getpid())) + "\n";
  size_t written = 0;
  if (::ftruncate(fd_, 0) != 0 || (err = write_all(fd_, lock, me.data(), me.size(), written)) != 0) {
    const int e = err ? err : errno;
    ::close(fd_);
    fd_ = -1;
    throw io_error(lock, e, "write");
  }

  try {
    apply(policy, had_lock, defer_removal);
  } catch (...) {
    // A refused folder is left as it was: the lock file this call made goes (a lock file marks a folder
    // as izhinet's, and --overwrite then trusts it with the files there).
    if (!had_lock) ::unlink(lock.c_str());
    ::close(fd_);  // the destructor does not run for a constructor that throws
    fd_ = -1;
    throw;
  }
}

void output_folder::apply(existing policy, bool had_lock, bool defer_removal) {
  const std::string& dir = dir_;
  std::error_code ec;
  if (policy == existing::resume) return;
  std::vector<fs::path> others;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename() != lock_name) others.push_back(e.path());
  if (others.empty()) return;
  std::sort(others.begin(), others.end());
  auto names = [&] {
    std::string s;
    for (size_t i = 0; i < others.size() && i < 4; ++i) s += (i ? ", " : "") + shorten(others[i].filename(), 60);
    return others.size() > 4 ? s + ", ... (" + std::to_string(others.size()) + " entries)" : s;
  };
  if (policy == existing::refuse)
    throw config_error("--out", "folder '" + shorten(dir, 200) + "' already holds files (" + names() +
                                    "); give --overwrite to replace them, or choose another --out");
  if (!had_lock)
    for (const auto& p : others)
      if (!izhinet_output_name(p.filename().string()))
        throw config_error("--overwrite", "folder '" + shorten(dir, 200) + "' holds '" +
                                              shorten(p.filename().string(), 60) +
                                              "', which izhinet did not write; refusing to delete it");
  for (const auto& p : others) pending_.push_back(p.string());
  if (!defer_removal) clear();
}

void output_folder::clear() {
  if (pending_.empty()) return;
  std::error_code ec;
  for (const auto& p : pending_) {
    fs::remove_all(p, ec);
    if (ec)
      throw config_error("--overwrite", "cannot remove '" + shorten(p, 200) + "' of the earlier run: " + ec.message());
  }
  spdlog::info("--overwrite: removed {} entr{} of the earlier run in {}", pending_.size(),
               pending_.size() == 1 ? "y" : "ies", dir_);
  pending_.clear();
}

output_folder::~output_folder() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace izhinet
