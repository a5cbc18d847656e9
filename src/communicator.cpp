// The local (one-rank) communicator and the process's world communicator.
#include "izhinet/communicator.hpp"

#include <cstdlib>
#include <string>

#include "izhinet/errors.hpp"

namespace izhinet {
namespace {

class local_communicator final : public communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string name() const override { return "local"; }
  void sum(int64_t*, size_t) override {}
  void sum(double*, size_t) override {}
  std::vector<int64_t> gather(const std::vector<int64_t>& mine) override { return mine; }
  std::vector<std::string> gather_text(const std::string& mine) override { return {mine}; }
  std::vector<double> gather(const std::vector<double>& mine) override { return mine; }
  std::vector<double> scatter(const std::vector<std::vector<double>>& parts) override {
    return parts.empty() ? std::vector<double>{} : parts.front();
  }
  void broadcast(std::string&) override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }
};

std::unique_ptr<communicator>& world_slot() {
  static std::unique_ptr<communicator> w = make_local_communicator();
  return w;
}

int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return -1;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  return *end == '\0' && x >= 0 && x < (1L << 30) ? static_cast<int>(x) : -1;
}

}  // namespace

std::unique_ptr<communicator> make_local_communicator() { return std::make_unique<local_communicator>(); }

bool launched_as_ranks(int* ranks) {
  int n = env_int("OMPI_COMM_WORLD_SIZE");
  if (n < 0) n = env_int("PMI_SIZE");
  if (n < 0 && std::getenv("SLURM_STEP_ID") != nullptr) n = env_int("SLURM_NTASKS");
  if (n < 0 && std::getenv("PMIX_RANK") != nullptr) n = 2;  // PMIx says a launcher started us; MPI gives the count
  if (ranks != nullptr) *ranks = n;
  return n > 1;
}

communicator& world() { return *world_slot(); }
void set_world(std::unique_ptr<communicator> c) { world_slot() = std::move(c); }
void finalize_world() { world_slot() = make_local_communicator(); }

}  // namespace izhinet
