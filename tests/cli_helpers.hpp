#pragma once
// Running the izhinet executable from tests: status, output, timing.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace izhinet::testing {

struct shell_result {
  int status;       ///< exit status, or 128 + signal
  std::string out;  ///< stdout + stderr
  double seconds;   ///< wall time
};

/// Runs `bash -c "<script>"`; stdout and stderr together.
inline shell_result run_shell(const std::string& script) {
  const std::string inner = script;
  std::string quoted = "'";
  for (char c : inner) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  const auto t0 = std::chrono::steady_clock::now();
  std::FILE* p = popen(("bash -c " + quoted + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int st = pclose(p);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), out, s};
}

/// Runs `bash -c "<prefix> izhinet <args>"` (prefix: e.g. "ulimit -f 20;").
inline shell_result run_izhinet(const std::string& args, const std::string& prefix = "") {
  return run_shell(prefix + " exec " + std::string(IZHINET_BINARY) + " " + args + " 2>&1");
}

/// Lines of `text` containing `what`.
inline int count_lines_with(const std::string& text, const std::string& what) {
  int n = 0;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) n += l.find(what) != std::string::npos;
  return n;
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// A fresh, empty folder under the system temporary folder.
inline std::filesystem::path fresh_temp_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("izhinet_rel_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace izhinet::testing
