#pragma once
/// \file commands.hpp
/// The sub-commands of the izhinet executable (argv[0] is the command name).
/// Each returns an exit_status (errors.hpp) or throws; `stop` is set by
/// SIGINT/SIGTERM.
#include <atomic>

namespace izhinet {

int run_command(int argc, char** argv, const std::atomic<bool>& stop);
int mf_command(int argc, char** argv, const std::atomic<bool>& stop);
int finite_size_command(int argc, char** argv, const std::atomic<bool>& stop);
int sweep_command(int argc, char** argv, const std::atomic<bool>& stop);
/// izhinet bif: bifurcation diagram of the exact mean field (continuation.hpp).
int bif_command(int argc, char** argv, const std::atomic<bool>& stop);

}  // namespace izhinet
