#pragma once
/// \file agreement.hpp
/// Refusals over MPI ranks: one error line (rank 0's) and the same exit
/// status on every rank, instead of every rank printing it and the job being
/// aborted (docs/mpi.md). In izhinet_core (it logs).
#include <functional>

#include "izhinet/communicator.hpp"

namespace izhinet {

/// Lockstep: while it is on, every rank runs the same code on the same inputs
/// (the arguments and the configuration), so an error thrown then is thrown
/// by every rank alike. main then reports it once (rank 0) and every rank
/// exits with the same status, instead of each rank printing it and the job
/// being aborted. main turns it on before `run` and `finite-size` parse their
/// arguments; they turn it off where the ranks part ways (rank 0 alone reading
/// or writing files). Off by default.
void set_lockstep(bool on);
bool lockstep();

/// Runs `f` on rank 0 alone while the other ranks wait. When f throws a
/// user_error (a refused folder, a damaged file), rank 0 reports it in one
/// error line and every rank gets the same exit status back (exit_status_of),
/// with no abort; 0 when f succeeded. With one rank, f runs and its
/// exceptions propagate unchanged. Collective.
int root_agreed(communicator& comm, const std::function<void()>& f);

}  // namespace izhinet
