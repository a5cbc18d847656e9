/// \file json.cpp
/// Provenance and the one JSON writer (json.hpp).
#include "izhinet/json.hpp"

#include <gnu/libc-version.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <spdlog/spdlog.h>
#include <spdlog/version.h>
#include <unistd.h>

#include <chrono>
#include <cxxopts.hpp>
#include <filesystem>
#include <mutex>
#include <toml++/toml.h>
#include <vector>

#include "build_info.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/io.hpp"

namespace izhinet {
namespace {

struct context {
  std::mutex m;
  bool have_command_line = false;
  std::vector<std::string> command_line;
  std::string started = utc_timestamp();  // first use: set_command_line(), first thing in main
  std::string config_path, config_sha256;
  std::string backend, device;
};

context& ctx() {
  static context c;
  return c;
}

json or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

std::string utc_timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t t = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string sha256_hex(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw internal_error("SHA-256 of the configuration failed (OpenSSL)");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

void set_command_line(int argc, const char* const* argv) {
  auto& c = ctx();
  std::lock_guard<std::mutex> lk(c.m);
  c.command_line.assign(argv, argv + argc);
  c.have_command_line = true;
}

void set_config_source(const std::string& path, const std::string& text) {
  auto& c = ctx();
  const std::string h = sha256_hex(text);
  std::lock_guard<std::mutex> lk(c.m);
  c.config_path = path;
  c.config_sha256 = h;
}

void set_device(const std::string& backend, const std::string& device) {
  auto& c = ctx();
  std::lock_guard<std::mutex> lk(c.m);
  c.backend = backend;
  c.device = device;
}

json provenance() {
  auto& c = ctx();
  json p;
  p["program"] = "izhinet";
  p["version"] = IZHINET_VERSION;
  p["git_commit"] = build_info::git_commit;
  p["git_dirty"] = build_info::git_dirty;
  p["build"] = {{"compiler", build_info::compiler},
                {"flags", build_info::flags},
                {"build_type", build_info::build_type},
                {"cpu_target", build_info::cpu_target},
                {"cuda", build_info::cuda}};
  const auto v = [](int a, int b, int c) {
    return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c);
  };
  p["libraries"] = {
      {"spdlog", v(SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH)},
      {"tomlplusplus", v(TOML_LIB_MAJOR, TOML_LIB_MINOR, TOML_LIB_PATCH)},
      {"nlohmann_json", v(NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH)},
      {"cxxopts", v(CXXOPTS__VERSION_MAJOR, CXXOPTS__VERSION_MINOR, CXXOPTS__VERSION_PATCH)},
#ifdef _OPENMP
      {"openmp", std::to_string(_OPENMP)},
#endif
      {"glibc", gnu_get_libc_version()},
      {"openssl", OPENSSL_FULL_VERSION_STR},
  };
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  std::error_code ec;
  const std::string cwd = std::filesystem::current_path(ec).string();
  std::lock_guard<std::mutex> lk(c.m);
  p["command_line"] = c.have_command_line ? json(c.command_line) : json(nullptr);
  p["working_directory"] = or_null(cwd);
  p["host"] = or_null(host);
  p["config_path"] = or_null(c.config_path);
  p["config_sha256"] = or_null(c.config_sha256);
  p["backend"] = or_null(c.backend);
  p["device"] = or_null(c.device);
  p["started_at"] = c.started;
  p["written_at"] = utc_timestamp();
  return p;
}

namespace {
std::string json_text(const std::string& path, const json& body) {
  if (!body.is_object()) throw internal_error("write_json: the body of '" + path + "' is not an object");
  json out;
  out["provenance"] = provenance();
  for (auto it = body.begin(); it != body.end(); ++it)
    if (it.key() != "provenance") out[it.key()] = it.value();
  // error_handler::replace: a non-UTF-8 byte in a path or message cannot make the dump throw
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}
}  // namespace

void write_json(const std::string& path, const json& body) { write_file_atomic(path, json_text(path, body)); }

bool write_json_after_error(const std::string& path, const json& body) noexcept {
  try {
    const std::string text = json_text(path, body);
    try {
      write_file_atomic(path, text);
    } catch (const io_error&) {
      write_file_in_place(path, text);
    }
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("{} (it still says how the run started)", e.what());
    return false;
  }
}

}  // namespace izhinet
