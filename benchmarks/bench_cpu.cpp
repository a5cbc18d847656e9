// CPU throughput of the `paper` scheme (or, with --scheme exact, of the
// `exact` scheme): the engine (make_cpu_backend + advance) against a ceiling
// loop written here, interleaved in one process.
//
// The ceiling is the least a paper-scheme step can do: plain arrays v, w, eta,
// the same arithmetic as paper_step (same flops, branch-free), a spike-count
// reduction, and the shared s updated after every step: `#pragma omp simd`
// for one thread, and for several one OpenMP region around all steps with
// `omp for simd` + `omp single` per step. The engine
// does more per step than that (two barriers, per-thread pieces, spike totals
// per population, recorded neurons) and, every record_every = 10 steps, a pass
// over v and w for <v>, <w>. The ratio engine/ceiling is what that costs.
// Since the engine counts spikes through a buffer instead of an `omp simd`
// reduction (BENCHMARKS.md section 1), its paper step is faster than this
// loop, which keeps the reduction so that its numbers stay comparable with
// the older tables: an engine/ceiling ratio above 1 is that, not noise.
//
// --scheme exact runs the engine with the exact scheme (same network, same
// dt unless --dt is given) against the same paper-scheme ceiling loop: the
// ratio is then the exact engine's speed as a fraction of the paper
// scheme's least possible step, not a distance from its own ceiling.
//
// Method (docs/development.md: benchmarks print a ratio): for every (N, threads) the two codes are
// timed alternately, A B A B ..., each measurement running at least
// --min-time seconds; the table shows the best rate of each and the median of
// the per-pair ratios. The machine may be shared: read the ratios, not the
// absolute rates.
//
// --cpu-time times both codes with the calling thread's CPU clock instead of the
// wall clock (one thread only: then neither code leaves that thread), so that
// time other jobs on a shared machine take from it does not count
// (BENCHMARKS.md section 1).
//
// Usage: bench_cpu [--sizes 1e3,1e4,1e5,1e6,1e7] [--threads 1,2] [--reps 5]
//                  [--min-time 0.3] [--max-steps-1e7 40] [--eta-bar 0.12] [--record-every 10]
//                  [--cpu-time] [--scheme paper|exact] [--dt DT] [--md FILE]
#include <omp.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/neuron.hpp"
#include "izhinet/params.hpp"

namespace {

bool g_cpu_time = false;  ///< --cpu-time: the calling thread's CPU clock instead of the wall clock

/// Seconds on the clock in use (wall, or this thread's CPU time).
double now_seconds() {
  if (g_cpu_time) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double seconds_since(double t0) { return now_seconds() - t0; }

std::vector<double> parse_list(const std::string& s) {
  std::vector<double> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(std::stod(item));
  return out;
}

// GCC 12 does not vectorise the select-based update under its default
// -ftrapping-math (it reports "loop vectorized" yet emits only the scalar,
// branchy loop); with -fno-trapping-math it does. Results are unchanged: the
// option only lets the compiler assume FP operations raise no traps.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif
/// The ceiling: the paper-scheme update on plain arrays, nothing else.
struct ceiling_loop {
  std::vector<double> v, w, eta;
  double s = 0.0;
  // Paper one-population coefficients (fixed), s evolves.
  double alpha, g, e_r, a, b, w_jump, v_peak, v_reset, dt, tau_s, s_jump;
  int threads = 1;

  ceiling_loop(const izhinet::model_spec& spec, const std::vector<double>& eta_in, int t)
      : v(eta_in.size(), 0.0), w(eta_in.size(), 0.0), eta(eta_in), threads(t) {
    const auto& p = spec.populations[0];
    alpha = p.alpha;
    g = spec.synapse.g[0][0];
    e_r = spec.synapse.e_r[0];
    a = p.a;
    b = p.b;
    w_jump = p.w_jump;
    v_peak = p.v_peak;
    v_reset = p.v_reset;
    dt = spec.run.dt;
    tau_s = spec.synapse.tau_s[0];
    s_jump = spec.synapse.s_jump[0];
  }

  /// Advances `steps` steps; returns the number of spikes. One thread: no
  /// OpenMP runtime at all. Several: one parallel region for all steps, an
  /// `omp for simd` per step and an `omp single` for s (OpenMP's own barriers).
  int64_t run(int64_t steps) {
    const int64_t n = static_cast<int64_t>(v.size());
    double* __restrict vp = v.data();
    double* __restrict wp = w.data();
    const double* __restrict ep = eta.data();
    const double inv_n = 1.0 / static_cast<double>(n);
    const double dt_ = dt, a_ = a, b_ = b, wj = w_jump, vpk = v_peak, vrs = v_reset;
    int64_t total = 0, cnt = 0;
    auto update_s = [&]() {
      const double x = s + dt * (-s / tau_s) + s_jump * static_cast<double>(cnt) * inv_n;
      s = x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
      total += cnt;
      cnt = 0;
    };
    if (threads == 1) {
      for (int64_t m = 0; m < steps; ++m) {
        const double A = alpha + g * s, c = g * s * e_r;
        int64_t k = 0;
#pragma omp simd reduction(+ : k)
        for (int64_t i = 0; i < n; ++i) {
          const double v0 = vp[i], w0 = wp[i];
          const bool spike = v0 >= vpk;
          const double ve = v0 + dt_ * (v0 * (v0 - A) - w0 + ep[i] + c);
          const double we = w0 + dt_ * a_ * (b_ * v0 - w0);
          vp[i] = spike ? vrs - (v0 - vpk) : ve;
          wp[i] = spike ? w0 + wj : we;
          k += spike ? 1 : 0;
        }
        cnt = k;
        update_s();
      }
      return total;
    }
#pragma omp parallel num_threads(threads)
    for (int64_t m = 0; m < steps; ++m) {
      const double A = alpha + g * s, c = g * s * e_r;
#pragma omp for simd schedule(static) reduction(+ : cnt)
      for (int64_t i = 0; i < n; ++i) {
        const double v0 = vp[i], w0 = wp[i];
        const bool spike = v0 >= vpk;
        const double ve = v0 + dt_ * (v0 * (v0 - A) - w0 + ep[i] + c);
        const double we = w0 + dt_ * a_ * (b_ * v0 - w0);
        vp[i] = spike ? vrs - (v0 - vpk) : ve;
        wp[i] = spike ? w0 + wj : we;
        cnt += spike ? 1 : 0;
      }
#pragma omp single
      update_s();
    }
    return total;
  }
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

struct row {
  int64_t n;
  int threads;
  int64_t steps;  ///< steps per measurement
  double engine_best, ceiling_best, ratio_best, ratio_median;
  double engine_rate_hz, ceiling_rate_hz;  ///< late-time spikes per neuron per time unit (sanity)
};

double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const size_t k = x.size();
  return k == 0 ? 0.0 : (k % 2 ? x[k / 2] : 0.5 * (x[k / 2 - 1] + x[k / 2]));
}

row measure(int64_t n, int threads, int reps, double min_time, int64_t max_steps, double eta_bar, int64_t record_every,
            izhinet::scheme_kind scheme, double dt) {
  izhinet::model_spec spec = izhinet::paper_one_population(eta_bar);
  spec.network.n = n;
  spec.run.scheme = scheme;
  if (dt > 0) spec.run.dt = dt;
  spec.run.record_every = record_every;
  spec.run.spike_neurons = 0;
  const int64_t spr = spec.run.record_every;

  auto be = izhinet::make_cpu_backend(threads);
  be->setup(spec, {izhinet::replica_spec{n, spec.network.seed}});
  std::vector<double> eta;
  be->get_eta(0, eta);
  izhinet::model_spec ceil_spec = spec;  // the paper scheme's loop; at the paper's own dt for --scheme exact
  if (scheme != izhinet::scheme_kind::paper) ceil_spec.run.dt = izhinet::paper_one_population(eta_bar).run.dt;
  ceiling_loop ceil(ceil_spec, eta, threads);

  izhinet::chunk_result out;
  std::vector<double> input;
  int64_t engine_spikes = 0, first = 0;
  auto engine_run = [&](int64_t steps) {
    const int records = static_cast<int>(steps / spr);
    input.assign(static_cast<size_t>(records * spr), 0.0);  // I_ext = 0 (one population)
    be->advance(records, first, input, out);
    first += records * spr;
    int64_t c = 0;
    for (uint32_t k : out.step_spikes) c += k;
    engine_spikes = c;
  };

  // Calibrate: warm both up, then size a measurement to >= min_time.
  const int64_t probe = spr;
  auto t0 = now_seconds();
  engine_run(probe);
  ceil.run(probe);
  t0 = now_seconds();
  engine_run(probe);
  const double per_step = std::max(seconds_since(t0) / probe, 1e-9);
  int64_t steps = static_cast<int64_t>(std::ceil(min_time / per_step / spr)) * spr;
  steps = std::clamp<int64_t>(steps, spr, std::max<int64_t>(spr, max_steps / spr * spr));

  std::vector<double> eng, cei, ratio;
  int64_t ceil_spikes = 0;
  for (int r = 0; r < reps; ++r) {
    // Alternate which code goes first, so that neither always follows the other.
    double te = 0, tc = 0;
    for (int half = 0; half < 2; ++half) {
      if ((half == 0) == (r % 2 == 0)) {
        const auto a = now_seconds();
        engine_run(steps);
        te = seconds_since(a);
      } else {
        const auto a = now_seconds();
        ceil_spikes = ceil.run(steps);
        tc = seconds_since(a);
      }
    }
    const double work = static_cast<double>(n) * static_cast<double>(steps);
    eng.push_back(work / te);
    cei.push_back(work / tc);
    ratio.push_back(tc / te);
  }
  row res;
  res.n = n;
  res.threads = threads;
  res.steps = steps;
  res.engine_best = *std::max_element(eng.begin(), eng.end());
  res.ceiling_best = *std::max_element(cei.begin(), cei.end());
  res.ratio_best = res.engine_best / res.ceiling_best;
  res.ratio_median = median(ratio);
  const double span = static_cast<double>(steps) * spec.run.dt * static_cast<double>(n);
  res.engine_rate_hz = static_cast<double>(engine_spikes) / span;
  res.ceiling_rate_hz = static_cast<double>(ceil_spikes) / span;
  return res;
}

std::string sci(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<double> sizes = {1e3, 1e4, 1e5, 1e6, 1e7};
  std::vector<double> threads = {1, 2};
  int reps = 5;
  double min_time = 0.3, eta_bar = 0.12;
  int64_t max_steps_big = 40, record_every = 10;  // N >= 1e7: a few steps only (suite time budget)
  izhinet::scheme_kind scheme = izhinet::scheme_kind::paper;
  double dt = 0;  // 0: the model's default
  std::string md;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--sizes")
      sizes = parse_list(next());
    else if (a == "--threads")
      threads = parse_list(next());
    else if (a == "--reps")
      reps = std::max(1, std::atoi(next().c_str()));
    else if (a == "--min-time")
      min_time = std::atof(next().c_str());
    else if (a == "--max-steps-1e7")
      max_steps_big = std::atoll(next().c_str());
    else if (a == "--eta-bar")
      eta_bar = std::atof(next().c_str());
    else if (a == "--md")
      md = next();
    else if (a == "--record-every")
      record_every = std::max<int64_t>(1, std::atoll(next().c_str()));
    else if (a == "--cpu-time")
      g_cpu_time = true;
    else if (a == "--dt")
      dt = std::atof(next().c_str());
    else if (a == "--scheme") {
      const std::string v = next();
      if (v == "paper")
        scheme = izhinet::scheme_kind::paper;
      else if (v == "exact")
        scheme = izhinet::scheme_kind::exact;
      else {
        std::fprintf(stderr, "[error] --scheme: paper or exact (got %s)\n", v.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr,
                   "usage: %s [--sizes 1e3,1e4,...] [--threads 1,2] [--reps 5] [--min-time 0.3]\n"
                   "          [--max-steps-1e7 40] [--eta-bar 0.12] [--record-every 10] [--cpu-time]\n"
                   "          [--scheme paper|exact] [--dt DT] [--md FILE]\n",
                   argv[0]);
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }

  if (g_cpu_time)
    for (double td : threads)
      if (td != 1) {
        std::fprintf(stderr, "[error] --cpu-time times the calling thread only: use it with --threads 1 (got %g)\n",
                     td);
        return 2;
      }
  {
    izhinet::model_spec probe = izhinet::paper_one_population(eta_bar);
    if (dt > 0) probe.run.dt = dt;
    std::printf(
        "%s scheme (engine; the ceiling loop is the paper scheme's), one population, eta_bar = %g, dt = %g, "
        "record_every = %lld; %d interleaved repetitions; %s\n",
        izhinet::to_string(scheme), eta_bar, probe.run.dt, static_cast<long long>(record_every), reps,
        g_cpu_time ? "thread CPU time" : "wall time");
  }
  std::printf("%10s %3s %7s %14s %14s %8s %8s %9s\n", "N", "T", "steps", "engine n-s/s", "ceiling n-s/s", "best/best",
              "med.pair", "rate r");
  std::vector<row> rows;
  for (double nd : sizes)
    for (double td : threads) {
      const int64_t n = static_cast<int64_t>(nd);
      const int64_t max_steps = n >= 10000000 ? max_steps_big : 1000000000;
      const row r = measure(n, static_cast<int>(td), reps, min_time, max_steps, eta_bar, record_every, scheme, dt);
      rows.push_back(r);
      std::printf("%10lld %3d %7lld %14.4g %14.4g %8.3f %8.3f %9.4f\n", static_cast<long long>(r.n), r.threads,
                  static_cast<long long>(r.steps), r.engine_best, r.ceiling_best, r.ratio_best, r.ratio_median,
                  r.engine_rate_hz);
      std::fflush(stdout);
    }

  if (!md.empty()) {
    std::ofstream f(md);
    f << "| N | threads | steps/measurement | engine (neuron-steps/s) | ceiling loop (neuron-steps/s) | "
         "engine/ceiling (best/best) | engine/ceiling (median of pairs) |\n";
    f << "|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const row& r : rows)
      f << "| " << sci(static_cast<double>(r.n)) << " | " << r.threads << " | " << r.steps << " | "
        << sci(r.engine_best) << " | " << sci(r.ceiling_best) << " | " << sci(r.ratio_best) << " | "
        << sci(r.ratio_median) << " |\n";
  }
  return 0;
}
