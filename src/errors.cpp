/// \file errors.cpp
/// The parts of errors.hpp that are not inline (in the bottom library, so
/// that every backend can throw them).
#include "izhinet/errors.hpp"

#include <cstdio>

namespace izhinet {

std::string shorten(const std::string& text, size_t max) {
  if (text.size() <= max || max < 12) return text;
  const size_t keep = (max - 3) / 2;
  return text.substr(0, keep) + "..." + text.substr(text.size() - keep) + " (" + std::to_string(text.size()) +
         " characters)";
}

std::string format_bytes(double bytes) {
  const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 6) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.3g %s", bytes, unit[u]);
  return buf;
}

int exit_status_of(const std::exception& e) {
  if (dynamic_cast<const io_error*>(&e) != nullptr) return exit_io;
  if (dynamic_cast<const busy_error*>(&e) != nullptr) return exit_busy;
  if (dynamic_cast<const interrupted_error*>(&e) != nullptr) return exit_interrupted;
  if (dynamic_cast<const numerical_error*>(&e) != nullptr || dynamic_cast<const memory_error*>(&e) != nullptr ||
      dynamic_cast<const device_error*>(&e) != nullptr)
    return exit_runtime;
  if (dynamic_cast<const user_error*>(&e) != nullptr) return exit_usage;
  return exit_internal;
}

memory_error::memory_error(const std::string& key, const std::string& what, double need, double limit,
                           const std::string& limit_name)
    : user_error(shorten(key) + ": " + what + " need " + format_bytes(need) + ", more than " + limit_name + " (" +
                 format_bytes(limit) + ")"),
      need_bytes(need),
      limit_bytes(limit),
      key_(key) {}

}  // namespace izhinet
