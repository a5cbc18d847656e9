// Built when CMake found no MPI (or IZHINET_MPI=OFF): one process only.
#include "izhinet/communicator.hpp"
#include "izhinet/errors.hpp"

namespace izhinet {

bool mpi_built() { return false; }

std::string mpi_description() { return IZHINET_MPI_DESCRIPTION; }

std::unique_ptr<communicator> make_mpi_communicator(int*, char***) {
  throw config_error("--mpi", "this izhinet was built without MPI (" + mpi_description() +
                                  "); run it as one process, or rebuild it with MPI");
}

}  // namespace izhinet
