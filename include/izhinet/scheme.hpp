#pragma once
/// \file scheme.hpp
/// Scheme traits: everything a backend needs to know about one integration
/// scheme, in one type, so that backends are templated on the scheme instead
/// of threading a flag through their loops. Adding a scheme means one more
/// type here (its per-neuron arithmetic in neuron.hpp) and its tests.
///
/// A scheme type S provides (all usable on the host and the device):
/// - `S::kind`: the scheme_kind it implements, `S::state_name` the name of
///   its per-neuron state x in a checkpoint ("v", or "p" with v = p/(1 - |p|));
/// - `S::coeffs` and `S::make_coeffs(k, tau_s)`: the per-(replica, population)
///   constants of one step, derived once per step from step_coeffs;
/// - `S::drive_state`: the synaptic drive of a step is taken from a second
///   per-population value, s_drive, which the scheme updates after every step
///   (`S::next_drive`), so backends keep it next to s ("s_drive" in the
///   state); otherwise the drive is taken from s and s_drive is unused;
/// - `S::step(x, w, eta, k)` -> 1 when the neuron spiked in this step, else 0
///   (unweighted schemes), and `S::step(x, w, eta, k, weight, frac)`, which
///   also sets the spike's gating weight and its time inside the step;
/// - `S::weighted`: a spike of a weighted scheme feeds only a fraction of its
///   jump into this step's gating update (the exact scheme: the spike decays
///   from its own time inside the step); the fraction is `weight`, a fixed-
///   point integer in units of `S::weight_unit` spikes (a power of two, so
///   that sums of weights are integers: order-free, identical for every thread
///   count, every rank count and on every backend). For an unweighted scheme
///   every spike weighs exactly one unit and backends use the spike counts;
/// - `S::split_step`: step is also offered in two parts, `S::step_common(x,
///   w, eta, k)` (branch-free, the common case; returns 1 when it left the
///   neuron unstepped) and `S::step_rest(x, w, eta, k, weight, frac)` for
///   those; step is the one, then the other where needed;
/// - `S::gating(s, dt, tau_s, decay, s_jump, weight, inv_n)`: the gating
///   variable of presynaptic population j after a step whose spikes weigh
///   `weight` units in total; `S::next_drive(s, s_new, s_drive, dt, tau_s,
///   decay, s_jump, count, weight, inv_n)`: s_drive for the next step;
/// - `S::accumulate(m, x, w, v_reset, v_peak)`: adds one neuron to the moment
///   sums that become the recorded observables (simulation.hpp says which).
///   `S::moment_of(x, w, v_reset, v_peak)` gives one neuron's terms by value
///   (accumulate adds them), for the CPU's vectorised moment loop.
#include <cmath>
#include <cstdint>

#include "izhinet/hd.hpp"
#include "izhinet/neuron.hpp"
#include "izhinet/params.hpp"

namespace izhinet {

/// Sums over the neurons of one segment, one record (the per-scheme
/// observables are formed from them in moments_to_row).
struct moment_sums {
  double v_in;   ///< paper: sum of v over neurons with v_reset <= v <= v_peak
  double w_in;   ///< paper: sum of w over the same neurons
  double n_in;   ///< paper: how many neurons that is
  double w;      ///< sum of w over all neurons (also the non-finite sentinel)
  double x_all;  ///< sum of the state variable (v or p) over all neurons: the non-finite sentinel
  double cos;    ///< exact: sum of cos(theta), theta the phase of p
  double sin;    ///< exact: sum of sin(theta)
};

IZH_HD IZH_FORCEINLINE moment_sums moment_zero() { return moment_sums{0, 0, 0, 0, 0, 0, 0}; }

IZH_HD IZH_FORCEINLINE moment_sums operator+(const moment_sums& a, const moment_sums& b) {
  return {a.v_in + b.v_in,   a.w_in + b.w_in, a.n_in + b.n_in, a.w + b.w,
          a.x_all + b.x_all, a.cos + b.cos,   a.sin + b.sin};
}

/// The paper's scheme: forward Euler with a finite peak and reset (paper_step).
struct paper_scheme {
  static constexpr scheme_kind kind = scheme_kind::paper;
  static constexpr const char* state_name = "v";
  static constexpr bool weighted = false;
  static constexpr bool drive_state = false;
  static constexpr bool split_step = false;
  static constexpr double weight_unit = 1.0;
  using coeffs = step_coeffs;

  IZH_HD IZH_FORCEINLINE static coeffs make_coeffs(const step_coeffs& k, double /*tau_s*/) { return k; }
  IZH_HD IZH_FORCEINLINE static void drive(int P, int i, const double* kg, const double* e_r, const double* s,
                                           const double* /*s_drive*/, double& G, double& E) {
    synaptic_drive(P, i, kg, e_r, s, G, E);
  }
  IZH_HD IZH_FORCEINLINE static int step(double& v, double& w, double eta, const coeffs& k) {
    return paper_step(v, w, eta, k);
  }
  /// A spike weighs one unit and happens at the step's end (frac = 1).
  IZH_HD IZH_FORCEINLINE static int step(double& v, double& w, double eta, const coeffs& k, int64_t& weight,
                                         double& frac) {
    const int s = paper_step(v, w, eta, k);
    weight = s;
    frac = 1.0;
    return s;
  }
  IZH_HD IZH_FORCEINLINE static double gating(double s, double dt, double tau_s, double decay, double s_jump,
                                              int64_t weight, double inv_n) {
    return gating_step(false, s, dt, tau_s, decay, s_jump, static_cast<double>(weight), inv_n);
  }
  IZH_HD IZH_FORCEINLINE static double next_drive(double, double, double s_drive, double, double, double, double,
                                                  int64_t, int64_t, double) {
    return s_drive;
  }
  /// The window v_reset <= v <= v_peak, branch-free (a NaN fails the window
  /// test but not the all-neuron sums, which is what finds a blow-up).
  IZH_HD IZH_FORCEINLINE static void accumulate(moment_sums& m, double v, double w, double v_reset, double v_peak) {
    const moment_sums e = moment_of(v, w, v_reset, v_peak);
    m.w += e.w;
    m.x_all += e.x_all;
    m.v_in += e.v_in;
    m.w_in += e.w_in;
    m.n_in += e.n_in;
  }
  /// One neuron's terms of the moment sums (accumulate adds them), returned
  /// by value so that the CPU's `omp simd` moment loop keeps them in
  /// registers: a per-lane moment_sums filled through a reference becomes an
  /// addressable per-lane array there, which GCC 12 leaves scalar and branchy
  /// (about 10 % of the paper step at record_every = 10, BENCHMARKS.md
  /// section 1).
  IZH_HD IZH_FORCEINLINE static moment_sums moment_of(double v, double w, double v_reset, double v_peak) {
    const bool in = v >= v_reset && v <= v_peak;
    moment_sums e = moment_zero();
    e.w = w;
    e.x_all = v;
    e.v_in = in ? v : 0.0;
    e.w_in = in ? w : 0.0;
    e.n_in = in ? 1.0 : 0.0;
    return e;
  }
};

/// The exact scheme (docs/model.md section 4): the state p in [-1, 1] with
/// v = p/(1 - |p|), a Cayley step of the Riccati flow through infinity with
/// the drive at mid-step (exact_step), and spikes weighted by their decay from
/// their own time inside the step, in fixed point (2^-32).
struct exact_scheme {
  static constexpr scheme_kind kind = scheme_kind::exact;
  static constexpr const char* state_name = "p";
  static constexpr bool weighted = true;
  static constexpr bool drive_state = true;
  static constexpr bool split_step = true;
  static constexpr double weight_unit = k_weight_unit;
  using coeffs = exact_coeffs;

  IZH_HD IZH_FORCEINLINE static coeffs make_coeffs(const step_coeffs& k, double tau_s) {
    return make_exact_coeffs(k, tau_s);
  }
  /// The drive from s_drive, the mean of s over the step as far as it is
  /// known before the step, plus what the previous step missed (exact_next_drive).
  IZH_HD IZH_FORCEINLINE static void drive(int P, int i, const double* kg, const double* e_r, const double* /*s*/,
                                           const double* s_drive, double& G, double& E) {
    synaptic_drive(P, i, kg, e_r, s_drive, G, E);
  }
  IZH_HD IZH_FORCEINLINE static int step(double& p, double& w, double eta, const coeffs& k, int64_t& weight,
                                         double& frac) {
    return exact_step(p, w, eta, k, weight, frac);
  }
  /// The two parts of step, for a loop that runs the first over all neurons
  /// and the second over the few it leaves (exact_quiet: 1 = not stepped).
  IZH_HD IZH_FORCEINLINE static int step_common(double& p, double& w, double eta, const coeffs& k) {
    return exact_quiet(p, w, eta, k);
  }
  IZH_HD IZH_FORCEINLINE static int step_rest(double& p, double& w, double eta, const coeffs& k, int64_t& weight,
                                              double& frac) {
    return exact_step_full(p, w, eta, k, weight, frac);
  }
  IZH_HD IZH_FORCEINLINE static double gating(double s, double dt, double tau_s, double decay, double s_jump,
                                              int64_t weight, double inv_n) {
    return gating_step(true, s, dt, tau_s, decay, s_jump, static_cast<double>(weight) * weight_unit, inv_n);
  }
  IZH_HD IZH_FORCEINLINE static double next_drive(double s, double s_new, double s_drive, double dt, double tau_s,
                                                  double decay, double s_jump, int64_t count, int64_t weight,
                                                  double inv_n) {
    return exact_next_drive(s, s_new, s_drive, dt, tau_s, decay, s_jump, static_cast<double>(count),
                            static_cast<double>(weight) * weight_unit, inv_n);
  }
  /// Adds one neuron's terms (moment_of) to m: the same arithmetic on the
  /// CPU and the GPU.
  IZH_HD IZH_FORCEINLINE static void accumulate(moment_sums& m, double p, double w, double v_reset, double v_peak) {
    const moment_sums e = moment_of(p, w, v_reset, v_peak);
    m.w += e.w;
    m.x_all += e.x_all;
    m.cos += e.cos;
    m.sin += e.sin;
  }
  /// One neuron's terms, by value, for the CPU's `omp simd` moment loop (as
  /// paper_scheme::moment_of; through accumulate's reference that loop was
  /// scalar under GCC 12). cos and sin of the phase rationally from p
  /// (p_cos_sin): branch-free, so the loop vectorises.
  IZH_HD IZH_FORCEINLINE static moment_sums moment_of(double p, double w, double /*v_reset*/, double /*v_peak*/) {
    double c, sn;
    p_cos_sin(p, c, sn);
    moment_sums e = moment_zero();
    e.w = w;
    e.x_all = p;
    e.cos = c;
    e.sin = sn;
    return e;
  }
};

/// Calls `f(S{})` with the scheme type of `kind`: the one place a run-time
/// scheme choice becomes a compile-time type.
template <class F>
decltype(auto) with_scheme(scheme_kind kind, F&& f) {
  if (kind == scheme_kind::exact) return f(exact_scheme{});
  return f(paper_scheme{});
}

}  // namespace izhinet
