#pragma once
/// \file commands.hpp
/// The sub-commands of the izhinet executable (argv[0] is the command name).
#include <atomic>

namespace izhinet {

int run_command(int argc, char** argv, const std::atomic<bool>& stop);
int mf_command(int argc, char** argv);
int finite_size_command(int argc, char** argv, const std::atomic<bool>& stop);

}  // namespace izhinet
