// Times one exact mean-field trajectory (paper one-population set, eta_bar = 0.12,
// T = 800, rtol 1e-8, atol 1e-10) in two modes, each repeated until at least
// `min_seconds` have passed (and >= 5 times); the best time is reported (as
// tools/bench_meanfield.py does for scipy):
//   final  : integration only, the state at T delivered;
//   record : plus dense output at the network's 80001 record times t_k = 0.01 k,
//            written into a buffer the caller reuses between trajectories.
// Output (one line per mode, parsed by tools/bench_meanfield.py):
//   bench_meanfield mode=<m> seconds_per_trajectory=<best s> median=<s> repeats=<n> steps=<n> rhs_evals=<n>
//   r_end=<r(T)>
// Usage: bench_meanfield [min_seconds (default 1)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "izhinet/meanfield.hpp"
#include "izhinet/params.hpp"

int main(int argc, char** argv) {
  using namespace izhinet;
  const double min_seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  model_spec spec = paper_one_population(0.12);
  spec.run.t_end = 800.0;
  spec.run.dt = 1e-3;
  spec.run.record_every = 10;
  spec.meanfield.rtol = 1e-8;
  spec.meanfield.atol = 1e-10;
  const exact_meanfield model(spec);
  const dopri5_options opt = dopri5_options_from(spec.meanfield);

  for (int mode = 0; mode < 2; ++mode) {
    const std::vector<double> times = mode == 0 ? std::vector<double>{spec.run.t_end} : record_times(spec);
    std::vector<double> out(times.size() * 4);
    std::vector<double> per_run;
    dopri5_stats st;
    double r_end = 0, total = 0;
    while (total < min_seconds || per_run.size() < 5) {
      const auto t0 = std::chrono::steady_clock::now();
      const size_t rows = integrate_exact_into(model, spec.run.t_end, times, opt, out.data(), &st);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      r_end = out[4 * (rows - 1)];
      per_run.push_back(s);
      total += s;
    }
    std::sort(per_run.begin(), per_run.end());
    std::printf(
        "bench_meanfield mode=%s seconds_per_trajectory=%.6e median=%.6e repeats=%zu steps=%lld rhs_evals=%lld "
        "r_end=%.10g\n",
        mode == 0 ? "final" : "record", per_run.front(), per_run[per_run.size() / 2], per_run.size(),
        static_cast<long long>(st.accepted + st.rejected), static_cast<long long>(st.rhs_evals), r_end);
  }
  return 0;
}
