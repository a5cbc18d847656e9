#pragma once
/// \file scheme.hpp
/// Scheme traits: everything a backend needs to know about one integration
/// scheme, in one type, so that backends are templated on the scheme instead
/// of threading a flag through their loops. Adding a scheme means one more
/// type here (its per-neuron arithmetic in neuron.hpp) and its tests.
///
/// A scheme type S provides (all usable on the host and the device):
/// - `S::kind`: the scheme_kind it implements;
/// - `S::step(x, w, eta, k)`: one step of one neuron (x is v or the phase
///   theta), returning 1 when the neuron spiked in this step, else 0;
/// - `S::weighted` and `S::step(x, w, eta, k, weight)`: the gating
///   contribution of the step's spike. A spike of a weighted scheme may feed
///   only a fraction of its jump into this step's gating update (a spike at a
///   precise time inside the step, say); the fraction is added to `weight` in
///   fixed point, units of `S::weight_unit` spikes (a power of two, so that
///   sums of weights are integers: order-free, identical for every thread
///   count and on every backend). For an unweighted scheme every spike weighs
///   exactly one unit and backends use the spike counts themselves;
/// - `S::gating(s, j, weight, dt, tau_s, decay, s_jump, inv_n)`: the gating
///   variable of presynaptic population j after a step whose spikes weigh
///   `weight` units in total;
/// - `S::accumulate(m, x, w, p)`: adds one neuron to the moment sums that
///   become the recorded observables (simulation.hpp says which).
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
  double x_all;  ///< sum of the state variable (v or theta) over all neurons: the non-finite sentinel
  double cos;    ///< exact: sum of cos(theta)
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
  static constexpr bool weighted = false;
  static constexpr double weight_unit = 1.0;

  IZH_HD IZH_FORCEINLINE static int step(double& v, double& w, double eta, const step_coeffs& k) {
    return paper_step(v, w, eta, k);
  }
  IZH_HD IZH_FORCEINLINE static int step(double& v, double& w, double eta, const step_coeffs& k, int64_t& weight) {
    const int s = paper_step(v, w, eta, k);
    weight += s;
    return s;
  }
  IZH_HD IZH_FORCEINLINE static double gating(double s, double dt, double tau_s, double decay, double s_jump,
                                              int64_t weight, double inv_n) {
    return gating_step(false, s, dt, tau_s, decay, s_jump, static_cast<double>(weight), inv_n);
  }
  /// The window v_reset <= v <= v_peak, branch-free (a NaN fails the window
  /// test but not the all-neuron sums, which is what finds a blow-up).
  IZH_HD IZH_FORCEINLINE static void accumulate(moment_sums& m, double v, double w, double v_reset, double v_peak) {
    const bool in = v >= v_reset && v <= v_peak;
    m.w += w;
    m.x_all += v;
    m.v_in += in ? v : 0.0;
    m.w_in += in ? w : 0.0;
    m.n_in += in ? 1.0 : 0.0;
  }
};

/// The exact (phase) scheme: the Riccati step solved in closed form (exact_step).
struct exact_scheme {
  static constexpr scheme_kind kind = scheme_kind::exact;
  static constexpr bool weighted = false;
  static constexpr double weight_unit = 1.0;

  IZH_HD IZH_FORCEINLINE static int step(double& theta, double& w, double eta, const step_coeffs& k) {
    return exact_step(theta, w, eta, k);
  }
  IZH_HD IZH_FORCEINLINE static int step(double& theta, double& w, double eta, const step_coeffs& k, int64_t& weight) {
    const int s = exact_step(theta, w, eta, k);
    weight += s;
    return s;
  }
  IZH_HD IZH_FORCEINLINE static double gating(double s, double dt, double tau_s, double decay, double s_jump,
                                              int64_t weight, double inv_n) {
    return gating_step(true, s, dt, tau_s, decay, s_jump, static_cast<double>(weight), inv_n);
  }
  IZH_HD IZH_FORCEINLINE static void accumulate(moment_sums& m, double theta, double w, double /*v_reset*/,
                                                double /*v_peak*/) {
    m.w += w;
    m.x_all += theta;
    double sn, cs;
#if defined(__CUDA_ARCH__)
    sincos(theta, &sn, &cs);
#else
    cs = std::cos(theta);
    sn = std::sin(theta);
#endif
    m.cos += cs;
    m.sin += sn;
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
