// bench_cuda: neuron-steps per second of the CUDA backend (paper scheme,
// double, record_every = 10, moments included) against the ceiling kernel
// (the same update with fixed coefficients and nothing else), measured in the
// same run. Usage: bench_cuda [table.md] [min_seconds]
// Exits 0 with a message when there is no usable GPU.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "build_info.hpp"
#include "izhinet/backend.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/params.hpp"
#if defined(IZHINET_HAVE_CUDA)
#include "izhinet/cuda_bench.hpp"
#endif

namespace {

struct row {
  std::string label;
  double neurons = 0;
  double backend_rate = 0;  // neuron-steps/s
  double ceiling_rate = 0;
  std::string note;
};

#if defined(IZHINET_HAVE_CUDA)
/// Time the backend: one warm-up record, then whole chunks until min_seconds.
double backend_rate(izhinet::backend& b, const izhinet::model_spec& spec, int replicas, double total_neurons,
                    double min_seconds) {
  const int64_t every = spec.run.record_every;
  const int P = spec.num_populations();
  izhinet::chunk_result out;
  int64_t step = 0;
  auto run = [&](int records) {
    std::vector<double> input(static_cast<size_t>(records) * every * P, 0.0);
    const auto t0 = std::chrono::steady_clock::now();
    b.advance(records, step, input, out);
    step += records * every;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  int records = 1;
  double seconds = run(records);  // warm-up (first graph launch, buffer growth)
  seconds = run(records);
  while (seconds < min_seconds) {
    const double per_record = seconds / records;
    records = static_cast<int>(std::min(1e7, 1.2 * min_seconds / std::max(per_record, 1e-7))) + 1;
    seconds = run(records);
  }
  (void)replicas;
  return total_neurons * static_cast<double>(records * every) / seconds;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const std::string table_path = argc > 1 ? argv[1] : "bench_cuda.md";
  const double min_seconds = argc > 2 ? std::stod(argv[2]) : 0.5;
  std::string why;
  if (!izhinet::cuda_available(&why)) {
    std::printf("bench_cuda: no GPU benchmark: %s\n", why.c_str());
    return 0;
  }
#if defined(IZHINET_HAVE_CUDA)
  try {
    auto b = izhinet::make_cuda_backend();
    const std::string device = b->device();
    std::printf("bench_cuda on %s\n", device.c_str());
    std::vector<row> rows;
    struct config {
      std::string label;
      int64_t n;
      int replicas;
    };
    const std::vector<config> configs = {{"N = 1e5", 100000, 1},     {"N = 1e6", 1000000, 1},
                                         {"N = 1e7", 10000000, 1},   {"N = 1e8", 100000000, 1},
                                         {"N = 1e9", 1000000000, 1}, {"1000 x N = 1e4", 10000, 1000}};
    for (const auto& c : configs) {
      row r;
      r.label = c.label;
      r.neurons = static_cast<double>(c.n) * c.replicas;
      const double state_bytes = r.neurons * 3 * 8;
      if (state_bytes + (256.0 * (1 << 20)) > static_cast<double>(izhinet::bench::free_device_memory())) {
        r.note =
            "skipped: needs " + std::to_string(static_cast<int64_t>(state_bytes / (1 << 30))) + " GiB of device memory";
        std::printf("%-16s %s\n", r.label.c_str(), r.note.c_str());
        rows.push_back(r);
        continue;
      }
      try {
        izhinet::model_spec spec = izhinet::paper_one_population(0.12);
        spec.network.n = c.n;
        spec.run.record_every = 10;
        std::vector<izhinet::replica_spec> reps;
        for (int i = 0; i < c.replicas; ++i) reps.push_back({c.n, static_cast<uint64_t>(1 + i)});
        b->setup(spec, reps);
        r.backend_rate = backend_rate(*b, spec, c.replicas, r.neurons, min_seconds);
        b->setup(spec, {{1000, 1}});  // release the big arrays before the ceiling
        const auto ceil = izhinet::bench::run_ceiling(static_cast<int64_t>(r.neurons), min_seconds);
        r.ceiling_rate = r.neurons * static_cast<double>(ceil.steps) / ceil.seconds;
      } catch (const izhinet::device_error& e) {
        r.note = std::string("skipped: ") + e.what();
      }
      if (r.note.empty())
        std::printf("%-16s backend %.3e  ceiling %.3e neuron-steps/s  ratio %.2f\n", r.label.c_str(), r.backend_rate,
                    r.ceiling_rate, r.backend_rate / r.ceiling_rate);
      else
        std::printf("%-16s %s\n", r.label.c_str(), r.note.c_str());
      std::fflush(stdout);
      rows.push_back(r);
    }
    std::ofstream md(table_path);
    md << "Device: " << device << " (paper scheme, double, record_every = 10, moments included; "
       << "ceiling = the same update with fixed coefficients, no reductions; CUDA backend git "
       << izhinet::build_info::git_commit << ")\n\n";
    md << "| network | neurons | backend (neuron-steps/s) | ceiling (neuron-steps/s) | backend / ceiling |\n";
    md << "|---|---|---|---|---|\n";
    char buf[256];
    for (const auto& r : rows) {
      if (!r.note.empty()) {
        std::snprintf(buf, sizeof buf, "| %s | %.0e | %s | | |\n", r.label.c_str(), r.neurons, r.note.c_str());
      } else {
        std::snprintf(buf, sizeof buf, "| %s | %.0e | %.3e | %.3e | %.2f |\n", r.label.c_str(), r.neurons,
                      r.backend_rate, r.ceiling_rate, r.backend_rate / r.ceiling_rate);
      }
      md << buf;
    }
    std::printf("table written to %s\n", table_path.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda: %s\n", e.what());
    return 1;
  }
#endif
  return 0;
}
