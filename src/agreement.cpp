// Refusals over MPI ranks: lockstep and root_agreed (agreement.hpp).
#include "izhinet/agreement.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string>

#include "izhinet/errors.hpp"

namespace izhinet {

namespace {
bool g_lockstep = false;
}  // namespace

void set_lockstep(bool on) { g_lockstep = on; }
bool lockstep() { return g_lockstep; }

int root_agreed(communicator& comm, const std::function<void()>& f) {
  if (comm.size() == 1) {
    f();
    return 0;
  }
  std::string verdict;  // "" when f succeeded, else "<status> <message>"
  if (comm.root()) try {
      f();
    } catch (const user_error& e) {
      verdict = std::to_string(exit_status_of(e)) + " " + e.what();
    }
  comm.broadcast(verdict);
  if (verdict.empty()) return 0;
  const size_t sp = verdict.find(' ');
  if (comm.root()) spdlog::error("{}", verdict.substr(sp + 1));
  return std::atoi(verdict.substr(0, sp).c_str());
}

}  // namespace izhinet
