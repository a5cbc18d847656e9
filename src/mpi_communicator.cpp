// The MPI communicator: the only file of izhinet that calls MPI (docs/mpi.md).
// Built when CMake finds MPI (IZHINET_MPI=AUTO or ON).
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "izhinet/communicator.hpp"
#include "izhinet/errors.hpp"

namespace izhinet {
namespace {

/// MPI counts are int: split larger arrays.
constexpr size_t k_piece = static_cast<size_t>(INT_MAX) / 2;

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    throw device_error(std::string("MPI: ") + what + " failed: " + std::string(text, static_cast<size_t>(len)));
  }
}

class mpi_communicator final : public communicator {
 public:
  mpi_communicator(int* argc, char*** argv) {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
      int provided = 0;
      // Funneled: only the main thread calls MPI (OpenMP's thread 0 is the main thread).
      check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_ = true;
    }
    // Errors come back as return codes, turned into exceptions above; a rank
    // that dies still ends the job (the launcher's rule).
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    // The ranks sharing this node's memory, numbered from 0: a rank's GPU
    // is chosen by this number (make_cuda_backend).
    MPI_Comm node = MPI_COMM_NULL;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
          "MPI_Comm_split_type (ranks of this node)");
    check(MPI_Comm_rank(node, &local_rank_), "MPI_Comm_rank (ranks of this node)");
    MPI_Comm_free(&node);
  }
  ~mpi_communicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owns_ && !finalized) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  std::string name() const override { return "mpi"; }

  void sum(int64_t* data, size_t n) override {
    for (size_t k = 0; k < n; k += k_piece)
      check(MPI_Allreduce(MPI_IN_PLACE, data + k, static_cast<int>(std::min(k_piece, n - k)), MPI_INT64_T, MPI_SUM,
                          MPI_COMM_WORLD),
            "MPI_Allreduce (integers)");
  }
  void sum(double* data, size_t n) override {
    for (size_t k = 0; k < n; k += k_piece)
      check(MPI_Allreduce(MPI_IN_PLACE, data + k, static_cast<int>(std::min(k_piece, n - k)), MPI_DOUBLE, MPI_SUM,
                          MPI_COMM_WORLD),
            "MPI_Allreduce (doubles)");
  }

  std::vector<int64_t> gather(const std::vector<int64_t>& mine) override {
    std::vector<int> counts, displs;
    const int total = gather_counts(mine.size(), counts, displs);
    std::vector<int64_t> all(rank_ == 0 ? static_cast<size_t>(total) : 0);
    check(MPI_Gatherv(mine.data(), static_cast<int>(mine.size()), MPI_INT64_T, all.data(), counts.data(), displs.data(),
                      MPI_INT64_T, 0, MPI_COMM_WORLD),
          "MPI_Gatherv (integers)");
    return all;
  }

  std::vector<std::string> gather_text(const std::string& mine) override {
    std::vector<int> counts, displs;
    const int total = gather_counts(mine.size(), counts, displs);
    std::string all(rank_ == 0 ? static_cast<size_t>(total) : 0, '\0');
    check(MPI_Gatherv(mine.data(), static_cast<int>(mine.size()), MPI_CHAR, all.data(), counts.data(), displs.data(),
                      MPI_CHAR, 0, MPI_COMM_WORLD),
          "MPI_Gatherv (text)");
    std::vector<std::string> parts;
    if (rank_ == 0)
      for (int r = 0; r < size_; ++r) parts.push_back(all.substr(static_cast<size_t>(displs[r]), counts[r]));
    return parts;
  }

  // Doubles travel point to point, rank by rank, in pieces of at most
  // k_piece values (MPI counts are int), so that the state of a network of
  // any size (checkpoints) fits.
  std::vector<double> gather(const std::vector<double>& mine) override {
    std::vector<int64_t> counts(static_cast<size_t>(size_), 0);
    counts[static_cast<size_t>(rank_)] = static_cast<int64_t>(mine.size());
    sum(counts.data(), counts.size());
    if (rank_ != 0) {
      send(mine.data(), mine.size(), 0);
      return {};
    }
    size_t total = 0;
    for (int64_t c : counts) total += static_cast<size_t>(c);
    std::vector<double> all(total);
    std::copy(mine.begin(), mine.end(), all.begin());
    size_t at = mine.size();
    for (int r = 1; r < size_; ++r) {
      receive(all.data() + at, static_cast<size_t>(counts[static_cast<size_t>(r)]), r);
      at += static_cast<size_t>(counts[static_cast<size_t>(r)]);
    }
    return all;
  }

  std::vector<double> scatter(const std::vector<std::vector<double>>& parts) override {
    std::vector<int64_t> counts(static_cast<size_t>(size_), 0);
    if (rank_ == 0) {
      if (parts.size() != static_cast<size_t>(size_)) throw internal_error("communicator::scatter: one part per rank");
      for (int r = 0; r < size_; ++r) counts[static_cast<size_t>(r)] = static_cast<int64_t>(parts[r].size());
    }
    check(MPI_Bcast(counts.data(), size_, MPI_INT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast (counts)");
    if (rank_ == 0) {
      for (int r = 1; r < size_; ++r) send(parts[r].data(), parts[r].size(), r);
      return parts[0];
    }
    std::vector<double> mine(static_cast<size_t>(counts[static_cast<size_t>(rank_)]));
    receive(mine.data(), mine.size(), 0);
    return mine;
  }

  void broadcast(std::string& text) override {
    int64_t n = static_cast<int64_t>(text.size());
    check(MPI_Bcast(&n, 1, MPI_INT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast (length)");
    if (n > INT_MAX) throw internal_error("communicator::broadcast: text over 2 GiB");
    text.resize(static_cast<size_t>(n));
    check(MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast (text)");
  }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  /// Rank 0 learns every rank's count (the others get zeros); returns the total on rank 0.
  int gather_counts(size_t mine, std::vector<int>& counts, std::vector<int>& displs) {
    if (mine > INT_MAX) throw internal_error("communicator::gather: over 2^31 elements on one rank");
    int n = static_cast<int>(mine);
    counts.assign(static_cast<size_t>(size_), 0);
    displs.assign(static_cast<size_t>(size_), 0);
    check(MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Gather (counts)");
    int64_t total = 0;
    for (int r = 0; r < size_; ++r) {
      displs[r] = static_cast<int>(total);
      total += counts[r];
    }
    if (total > INT_MAX) throw internal_error("communicator::gather: over 2^31 elements in all");
    return static_cast<int>(total);
  }

  void send(const double* data, size_t n, int to) {
    for (size_t k = 0; k < n; k += k_piece)
      check(MPI_Send(data + k, static_cast<int>(std::min(k_piece, n - k)), MPI_DOUBLE, to, 0, MPI_COMM_WORLD),
            "MPI_Send (doubles)");
  }
  void receive(double* data, size_t n, int from) {
    for (size_t k = 0; k < n; k += k_piece)
      check(MPI_Recv(data + k, static_cast<int>(std::min(k_piece, n - k)), MPI_DOUBLE, from, 0, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE),
            "MPI_Recv (doubles)");
  }

  int rank_ = 0, size_ = 1, local_rank_ = 0;
  bool owns_ = false;
};

}  // namespace

bool mpi_built() { return true; }

std::string mpi_description() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(text, &len);
  std::string s(text, static_cast<size_t>(len));
  const auto nl = s.find_first_of(",\n");
  return "ON (" + s.substr(0, nl) + ")";
}

std::unique_ptr<communicator> make_mpi_communicator(int* argc, char*** argv) {
  return std::make_unique<mpi_communicator>(argc, argv);
}

}  // namespace izhinet
