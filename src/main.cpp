// izhinet command line: run | mf | finite-size.
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>

#include "izhinet/backend.hpp"
#include "izhinet/commands.hpp"
#include "izhinet/errors.hpp"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

const char* k_usage =
    "usage: izhinet <command> [options]\n"
    "\n"
    "commands:\n"
    "  run          simulate a network (and its mean fields) from a TOML config\n"
    "  mf           integrate the mean field alone and list its equilibria\n"
    "  finite-size  run a finite-size study across N, seeds and sampling\n"
    "\n"
    "izhinet <command> --help shows the options of a command.\n";

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << k_usage;
    return argc < 2 ? 2 : 0;
  }
  if (std::string(argv[1]) == "--version") {
    // What this binary is and where it can run (tools/main_job.sh reads the "GPU:" line).
    std::cout << "izhinet " << IZHINET_VERSION << " (git " << IZHINET_GIT << (IZHINET_GIT_DIRTY ? ", dirty" : "")
              << ")\nCPU target: " << IZHINET_ARCH_DESCRIPTION << "\nCUDA: " << IZHINET_CUDA_DESCRIPTION << "\n";
    std::string why;
    if (izhinet::cuda_available(&why))
      std::cout << "GPU: usable\n";
    else
      std::cout << "GPU: not usable (" << why << ")\n";
    return 0;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const std::string command = argv[1];
  try {
    if (command == "run") return izhinet::run_command(argc - 1, argv + 1, g_stop);
    if (command == "mf") return izhinet::mf_command(argc - 1, argv + 1);
    if (command == "finite-size") return izhinet::finite_size_command(argc - 1, argv + 1, g_stop);
    spdlog::error("unknown command '{}' (valid: run, mf, finite-size)", command);
    return 2;
  } catch (const cxxopts::exceptions::exception& e) {
    spdlog::error("{} (see izhinet {} --help)", e.what(), command);
    return 2;
  } catch (const izhinet::user_error& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 3;
  }
}
