// izhinet command line: run | mf | finite-size | sweep | bif.
#include <spdlog/spdlog.h>

#include <atomic>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cxxopts.hpp>
#include <iostream>
#include <new>

#include "build_info.hpp"
#include "izhinet/backend.hpp"
#include "izhinet/commands.hpp"
#include "izhinet/agreement.hpp"
#include "izhinet/communicator.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/json.hpp"

namespace {

std::atomic<bool> g_stop{false};
/// Set when a command returned a status (rather than throwing): every rank gets there together.
bool g_normal_exit = false;
int run_guarded(const std::string& command, int argc, char** argv);

extern "C" void on_signal(int) { g_stop.store(true); }

const char* k_usage =
    "usage: izhinet <command> [options]\n"
    "\n"
    "commands:\n"
    "  run          simulate a network (and its mean fields) from a TOML config\n"
    "  mf           integrate the mean field alone and list its equilibria\n"
    "  finite-size  run a finite-size study across N, seeds and sampling\n"
    "  sweep        one network per value of a parameter, beside the mean field's attractors\n"
    "  bif          bifurcation diagram of the mean field (equilibria, orbits, special points)\n"
    "\n"
    "izhinet <command> --help shows the options of a command.\n"
    "exit status: 0 done, 2 bad option/config/output folder, 3 internal error, 4 numerical or device failure,\n"
    "             5 output could not be written, 6 output folder in use, 130 interrupted (SIGINT, SIGTERM, SIGUSR1; "
    "see README.md);\n"
    "             with run --require-agreement: 10 the network disagrees with the mean field, 11 inconclusive\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace izhinet;
  set_command_line(argc, argv);
  // Colours only on a terminal, never with NO_COLOR set (no-color.org) or as MPI ranks (a launcher may
  // give the ranks a terminal while it collects their output into a file).
  const char* no_color = std::getenv("NO_COLOR");
  int launched = 0;
  const bool as_ranks = launched_as_ranks(&launched);
  const bool colour = ::isatty(STDOUT_FILENO) && !(no_color != nullptr && *no_color != '\0') && !as_ranks;
  const std::string level = colour ? "[%^%l%$]" : "[%l]";
  spdlog::set_pattern("[%H:%M:%S.%e] " + level + " %v");
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << k_usage;
    return argc < 2 ? exit_usage : exit_ok;
  }
  if (std::string(argv[1]) == "--version") {
    // What this binary is and where it can run (tools/main_job.sh reads the "GPU:" line).
    std::cout << "izhinet " << IZHINET_VERSION << " (git " << izhinet::build_info::git_commit
              << (izhinet::build_info::git_dirty ? ", dirty" : "") << ")\nCPU target: " << IZHINET_ARCH_DESCRIPTION
              << "\nCUDA: " << IZHINET_CUDA_DESCRIPTION << "\nMPI: " << IZHINET_MPI_DESCRIPTION << "\n";
    std::string why;
    if (izhinet::cuda_available(&why))
      std::cout << "GPU: usable\n";
    else
      std::cout << "GPU: not usable (" << why << ")\n";
    return exit_ok;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);  // what batch systems send before the time limit (izhinet run: checkpoint, stop)
  // A file-size limit (ulimit -f) must be an error on the file (EFBIG), not a kill.
  std::signal(SIGXFSZ, SIG_IGN);
  const std::string command = argv[1];
  // MPI: when a launcher (mpirun, srun) started several ranks, or when --mpi is given (docs/mpi.md).
  bool want_mpi = as_ranks;
  for (int k = 2; k < argc; ++k)
    if (std::string(argv[k]) == "--mpi") want_mpi = true;
  if (want_mpi) {
    if (!mpi_built()) {
      spdlog::error(
          "--mpi: this izhinet was built without MPI (MPI {}){}; run it as one process or rebuild it with MPI "
          "(docs/mpi.md)",
          IZHINET_MPI_DESCRIPTION,
          launched > 1 ? ", but a launcher started it as " + std::to_string(launched) + " ranks" : "");
      return exit_usage;
    }
    try {
      set_world(make_mpi_communicator(&argc, &argv));
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return exit_runtime;
    }
  }
  communicator& comm = world();
  if (comm.size() > 1) {
    spdlog::set_pattern("[%H:%M:%S.%e] [rank " + std::to_string(comm.rank()) + "/" + std::to_string(comm.size()) +
                        "] [%l] %v");                          // no colours as ranks
    if (!comm.root()) spdlog::set_level(spdlog::level::warn);  // rank 0 tells the story
  }
  const int status = run_guarded(command, argc, argv);
  if (comm.size() > 1 && status != exit_ok && !g_normal_exit) {
    // The other ranks may be waiting for this one in a collective call: end the job.
    spdlog::error("rank {} of {} ends the job (exit status {})", comm.rank(), comm.size(), status);
    comm.abort(status);
  }
  finalize_world();
  return status;
}

namespace {

/// A refusal thrown in lockstep over several ranks (agreement.hpp) is every rank's: rank 0 reports it
/// (true on the other ranks: they stay silent) and no rank aborts the job.
bool quiet_in_agreed_refusal() {
  using namespace izhinet;
  if (!lockstep() || world().size() == 1) return false;
  g_normal_exit = true;
  if (world().root()) return false;
  return true;
}

int run_guarded(const std::string& command, int argc, char** argv) {
  using namespace izhinet;
  try {
    if (command == "run" || command == "finite-size") {
      // These return statuses that every rank reaches together (collective ends). Their argument and
      // configuration checks run in lockstep: a refusal there is every rank's (agreement.hpp).
      set_lockstep(true);
      const int st =
          command == "run" ? run_command(argc - 1, argv + 1, g_stop) : finite_size_command(argc - 1, argv + 1, g_stop);
      g_normal_exit = true;
      return st;
    }
    if (command == "mf") {
      set_lockstep(true);  // before anything diverges: a refusal here is every rank's, reported once
      if (world().size() > 1)
        throw config_error("mf", "runs as one process (it integrates a few ODEs); start it without mpirun");
      return mf_command(argc - 1, argv + 1, g_stop);
    }
    if (command == "sweep") {
      // Its argument checks run in lockstep (sweep_command turns it off before the ranks part ways).
      set_lockstep(true);
      return sweep_command(argc - 1, argv + 1, g_stop);
    }
    if (command == "bif") {
      set_lockstep(true);  // as for mf
      if (world().size() > 1)
        throw config_error("bif", "runs as one process (a continuation is sequential); start it without mpirun");
      return bif_command(argc - 1, argv + 1, g_stop);
    }
    spdlog::error("unknown command '{}' (valid: run, mf, finite-size, sweep, bif)", shorten(command));
    return exit_usage;
  } catch (const cxxopts::exceptions::exception& e) {
    if (quiet_in_agreed_refusal()) return exit_usage;
    spdlog::error("{} (see izhinet {} --help)", shorten(e.what(), 300), command);
    return exit_usage;
  } catch (const config_error& e) {
    if (quiet_in_agreed_refusal()) return exit_usage;
    spdlog::error("{}", e.what());
    return exit_usage;
  } catch (const io_error& e) {
    spdlog::error("{}", e.what());
    return exit_io;
  } catch (const busy_error& e) {
    spdlog::error("{}", e.what());
    return exit_busy;
  } catch (const interrupted_error& e) {
    spdlog::warn("{}", e.what());
    return exit_interrupted;
  } catch (const numerical_error& e) {
    spdlog::error("{}", e.what());
    return exit_runtime;
  } catch (const memory_error& e) {
    spdlog::error("{}", e.what());
    return exit_runtime;
  } catch (const device_error& e) {
    spdlog::error("{}", e.what());
    return exit_runtime;
  } catch (const user_error& e) {
    spdlog::error("{}", e.what());
    return exit_usage;
  } catch (const std::bad_alloc&) {
    spdlog::error("out of memory (a smaller network.n, network.replicas or run.t_end / record_every needs less)");
    return exit_runtime;
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return exit_internal;
  }
}

}  // namespace
