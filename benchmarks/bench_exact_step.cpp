// The neuron loop alone (issue 16): paper_step, the exact scheme's full step
// for every neuron (exact_step_full, the loop before the split), and the split
// loop of the CPU backend (exact_quiet vectorised, then exact_step_full over
// the gathered rest; a copy of cpu_backend's step_run for split_step
// schemes). N neurons with quantile eta at eta_bar, constant drive (A, c of the
// coupled network's tonic state), from a spread of states run to steady
// firing first; one thread; thread CPU time (not wall: the machine may be
// shared), `reps` rounds of `steps` steps, median ns per neuron-step and the
// ratios. A check runs both exact loops from the same state and prints their
// spike counts and weights (equal) and the largest state difference (rounding).
//
// Usage: bench_exact_step [--n 1e4] [--dt 0.05] [--steps 2000] [--reps 7]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "izhinet/neuron.hpp"

namespace {

using namespace izhinet;

double cpu_now() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

__attribute__((noinline)) int64_t paper_loop(double* __restrict x, double* __restrict w, const double* __restrict eta,
                                             const step_coeffs& kk, int64_t n) {
  const step_coeffs k = kk;
  int64_t c = 0;
#pragma omp simd reduction(+ : c)
  for (int64_t i = 0; i < n; ++i) c += paper_step(x[i], w[i], eta[i], k);
  return c;
}

__attribute__((noinline)) int64_t full_loop(double* __restrict x, double* __restrict w, const double* __restrict eta,
                                            const exact_coeffs& kk, int64_t n, int64_t& wsum, int64_t& /*left*/) {
  const exact_coeffs k = kk;
  int64_t c = 0, ws = 0;
#pragma omp simd reduction(+ : c, ws)
  for (int64_t i = 0; i < n; ++i) {
    int64_t wt;
    double f;
    c += exact_step_full(x[i], w[i], eta[i], k, wt, f);
    ws += wt;
  }
  wsum += ws;
  return c;
}

__attribute__((noinline)) int64_t split_loop(double* __restrict x, double* __restrict w, const double* __restrict eta,
                                             const exact_coeffs& kk, int64_t end, int64_t& wsum, int64_t& left_total) {
  const exact_coeffs k = kk;
  const int64_t begin = 0;
  int64_t c = 0;
  constexpr int64_t chunk = 512;
  int64_t left[chunk], at[chunk];
  double lx[chunk], lw[chunk], le[chunk];
  int64_t ws = 0;
  for (int64_t b = begin; b < end; b += chunk) {
    const int64_t e = std::min(b + chunk, end);
    int64_t n_left = 0;
#pragma omp simd reduction(+ : n_left)
    for (int64_t i = b; i < e; ++i) {
      const int l = exact_quiet(x[i], w[i], eta[i], k);
      left[i - b] = l;
      n_left += l;
    }
    left_total += n_left;
    if (n_left == 0) continue;
    int64_t m = 0, j0 = 0;
    const int64_t len = e - b;
    for (; j0 + 8 <= len; j0 += 8) {
      if ((left[j0] | left[j0 + 1] | left[j0 + 2] | left[j0 + 3] | left[j0 + 4] | left[j0 + 5] | left[j0 + 6] |
           left[j0 + 7]) == 0)
        continue;
      for (int64_t j = j0; j < j0 + 8; ++j) {
        at[m] = b + j;
        m += left[j];
      }
    }
    for (int64_t j = j0; j < len; ++j) {
      at[m] = b + j;
      m += left[j];
    }
    for (int64_t j = 0; j < m; ++j) {
      lx[j] = x[at[j]];
      lw[j] = w[at[j]];
      le[j] = eta[at[j]];
    }
#pragma omp simd reduction(+ : c, ws)
    for (int64_t j = 0; j < m; ++j) {
      int64_t wt;
      double f;
      c += exact_step_full(lx[j], lw[j], le[j], k, wt, f);
      ws += wt;
    }
    for (int64_t j = 0; j < m; ++j) {
      x[at[j]] = lx[j];
      w[at[j]] = lw[j];
    }
  }
  wsum += ws;
  return c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  double n_d = 1e4, dt = 0.05, eta_bar = 0.25;
  int steps = 2000, reps = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--n")
      n_d = std::stod(v);
    else if (k == "--dt")
      dt = std::stod(v);
    else if (k == "--steps")
      steps = std::stoi(v);
    else if (k == "--reps")
      reps = std::stoi(v);
    else if (k == "--eta-bar")
      eta_bar = std::stod(v);
    else {
      std::fprintf(stderr, "[error] unknown option %s (valid: --n, --dt, --steps, --reps, --eta-bar)\n", k.c_str());
      return 2;
    }
  }
  if (n_d < 1 || dt <= 0 || steps < 1 || reps < 1) {
    std::fprintf(stderr, "[error] --n, --dt, --steps and --reps must be positive\n");
    return 2;
  }
  const auto n = static_cast<int64_t>(n_d);
  std::vector<double> eta(n), xp(n), wp(n, 0.0), xe(n), we(n, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    eta[i] = eta_bar + 0.02 * std::tan(k_pi * ((static_cast<double>(i) + 0.5) / n_d - 0.5));
    xp[i] = -1.0 + 0.1 * static_cast<double>(i % 7);
    xe[i] = v_to_p(xp[i]);
  }
  // The tonic state's drive: s about 0.3, so A = alpha + g s, c = g s e_r.
  const double g = 1.2308, s = 0.3;
  const step_coeffs kp{0.6215 + g * s, g * s, 0.0077, -0.0062, 0.0189, 200, -200, 1e-3};
  step_coeffs ke0 = kp;
  ke0.dt = dt;
  const exact_coeffs ke = make_exact_coeffs(ke0, 2.6);
  int64_t ws = 0, left = 0, spikes = 0;
  for (int s0 = 0; s0 < 20000; ++s0) paper_loop(xp.data(), wp.data(), eta.data(), kp, n);
  for (int s0 = 0; s0 < static_cast<int>(20 / dt); ++s0) full_loop(xe.data(), we.data(), eta.data(), ke, n, ws, left);
  {
    std::vector<double> xa = xe, wa = we, xb = xe, wb = we;
    int64_t wa_s = 0, wb_s = 0, ca = 0, cb = 0, l = 0;
    for (int s0 = 0; s0 < 200; ++s0) {
      ca += full_loop(xa.data(), wa.data(), eta.data(), ke, n, wa_s, l);
      cb += split_loop(xb.data(), wb.data(), eta.data(), ke, n, wb_s, l);
    }
    double dp = 0, dw = 0;
    for (int64_t i = 0; i < n; ++i) {
      dp = std::max(dp, std::fabs(xa[i] - xb[i]));
      dw = std::max(dw, std::fabs(wa[i] - wb[i]));
    }
    std::printf("check over 200 steps: spikes %lld vs %lld, weights %lld vs %lld, largest |dp| %.3g, |dw| %.3g\n",
                static_cast<long long>(ca), static_cast<long long>(cb), static_cast<long long>(wa_s),
                static_cast<long long>(wb_s), dp, dw);
  }
  std::vector<double> tp, tf, ts;
  left = 0;
  for (int r = 0; r < reps; ++r) {
    std::vector<double> xf = xe, wf = we;
    const double t0 = cpu_now();
    for (int s0 = 0; s0 < steps; ++s0) paper_loop(xp.data(), wp.data(), eta.data(), kp, n);
    const double t1 = cpu_now();
    int64_t l = 0;
    for (int s0 = 0; s0 < steps; ++s0) full_loop(xf.data(), wf.data(), eta.data(), ke, n, ws, l);
    const double t2 = cpu_now();
    for (int s0 = 0; s0 < steps; ++s0) spikes += split_loop(xe.data(), we.data(), eta.data(), ke, n, ws, left);
    const double t3 = cpu_now();
    const double per = 1e9 / (static_cast<double>(steps) * n_d);
    tp.push_back((t1 - t0) * per);
    tf.push_back((t2 - t1) * per);
    ts.push_back((t3 - t2) * per);
  }
  const double mp = median(tp), mf = median(tf), ms = median(ts);
  const double steps_all = static_cast<double>(steps) * reps * n_d;
  std::printf(
      "N = %lld, exact dt = %g, eta_bar = %g, %d rounds of %d steps, thread CPU time per neuron-step (median):\n"
      "paper %.3f ns, exact full step for all %.3f ns (%.2fx paper), exact split %.3f ns (%.2fx paper, %.2fx the full "
      "loop); left to the full step: %.2f %% of the neuron-steps; spikes: %.2f %%\n",
      static_cast<long long>(n), dt, eta_bar, reps, steps, mp, mf, mf / mp, ms, ms / mp, ms / mf,
      100.0 * static_cast<double>(left) / steps_all, 100.0 * static_cast<double>(spikes) / steps_all);
  return 0;
}
