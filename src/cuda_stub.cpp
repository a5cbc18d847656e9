// Built only when the CUDA backend is not: the two entry points say why.
#include "izhinet/backend.hpp"
#include "izhinet/errors.hpp"

namespace izhinet {

bool cuda_available(std::string* why) {
  if (why)
    *why = "this build of izhinet has no CUDA backend (at configure time: CUDA backend " IZHINET_CUDA_DESCRIPTION ")";
  return false;
}

std::unique_ptr<backend> make_cuda_backend() {
  throw device_error(
      "--backend cuda: this build of izhinet has no CUDA backend (at configure time: CUDA "
      "backend " IZHINET_CUDA_DESCRIPTION ")");
}

}  // namespace izhinet
