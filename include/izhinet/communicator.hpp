#pragma once
/// \file communicator.hpp
/// The seam between izhinet and MPI (docs/mpi.md). Backends, `simulate` and
/// the commands talk to a `communicator`; only src/mpi_communicator.cpp
/// calls MPI. A build without MPI has the local communicator alone (one
/// rank), and asking it for MPI is a config_error naming the build.
///
/// Every call except rank()/size()/local_rank()/name() is collective: all ranks make the
/// same calls in the same order (the MPI rule), or the job hangs.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace izhinet {

class communicator {
 public:
  virtual ~communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// This rank's index among the ranks on its own node (0 .. ranks per node - 1);
  /// a rank picks its GPU by it (docs/mpi.md). 0 for the local communicator.
  virtual int local_rank() const = 0;
  /// "local" or "mpi".
  virtual std::string name() const = 0;
  bool root() const { return rank() == 0; }
  /// Element-wise sum over ranks, in place; every rank gets the result.
  /// Integers: exact. Doubles: a sum in which at most one rank contributes a
  /// non-zero value per element is exact too (x + 0 = x); izhinet only sums
  /// doubles that way, so no result depends on the reduction order.
  virtual void sum(int64_t* data, size_t n) = 0;
  virtual void sum(double* data, size_t n) = 0;
  /// Rank 0 gets every rank's `mine` concatenated in rank order; the other
  /// ranks get an empty vector.
  virtual std::vector<int64_t> gather(const std::vector<int64_t>& mine) = 0;
  /// Rank 0 gets every rank's text, in rank order; the other ranks get an empty vector.
  virtual std::vector<std::string> gather_text(const std::string& mine) = 0;
  /// Rank 0 gets every rank's `mine` (any length, also over 2^31 values),
  /// concatenated in rank order; the other ranks get an empty vector.
  virtual std::vector<double> gather(const std::vector<double>& mine) = 0;
  /// Rank 0 hands out `parts` (one vector per rank, rank order; ignored on
  /// the other ranks); every rank gets its own part.
  virtual std::vector<double> scatter(const std::vector<std::vector<double>>& parts) = 0;
  /// Rank 0's `text` on every rank.
  virtual void broadcast(std::string& text) = 0;
  /// Ends every rank of the job at once with exit status `code` (after an
  /// error on one rank, which the others could otherwise wait for forever).
  [[noreturn]] virtual void abort(int code) = 0;
};

/// The one-rank communicator (no MPI).
std::unique_ptr<communicator> make_local_communicator();

/// True when this build has MPI (CMake option IZHINET_MPI).
bool mpi_built();
/// "Open MPI v4.1.4 ..." or why there is none.
std::string mpi_description();
/// True when this process was started by an MPI launcher (mpirun, mpiexec,
/// srun) as one of several ranks, read from the launcher's environment
/// (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK, SLURM_NTASKS with SLURM_STEP_ID).
bool launched_as_ranks(int* ranks = nullptr);
/// Initialises MPI (MPI_Init_thread, funneled: only the main thread calls
/// MPI) and returns MPI_COMM_WORLD; finalises when destroyed. Throws
/// config_error("--mpi") in a build without MPI.
std::unique_ptr<communicator> make_mpi_communicator(int* argc, char*** argv);

/// The communicator of this process: the local one until set_world() is
/// called (main does, under MPI).
communicator& world();
void set_world(std::unique_ptr<communicator> c);
/// Releases the world communicator (MPI_Finalize for MPI); main calls it before it returns.
void finalize_world();

}  // namespace izhinet
