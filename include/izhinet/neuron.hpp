#pragma once
/// \file neuron.hpp
/// The per-neuron update of both schemes, written once for the CPU backend
/// and the CUDA kernels (docs/model.md sections 2 and 4). Dimensionless units.
///
/// Neuron k of population i, with the synaptic drive of all presynaptic
/// populations j folded into two numbers per step,
/// \f$ G_i = \sum_j \kappa_j g_{ij} s_j \f$ and \f$ E_i = \sum_j \kappa_j g_{ij} s_j e_{r,j} \f$:
/// \f[ v' = v(v - \alpha - G_i) - w + \eta_k + I_i(t) + E_i, \qquad w' = a(b v - w), \f]
/// and at a spike (v reaching v_peak) \f$ v \to v_{reset} \f$, \f$ w \to w + w_{jump} \f$.
///
/// Names used below: `A = alpha + G_i` (the linear coefficient) and
/// `c = I_i(t) + E_i` (the population-wide constant input), so that
/// \f$ v' = v^2 - A v + (\eta + c - w) \f$.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "izhinet/hd.hpp"

namespace izhinet {

/// Constants of one population for one step.
struct step_coeffs {
  double A;        ///< alpha + sum_j kappa_j g_ij s_j
  double c;        ///< I_ext(t) + sum_j kappa_j g_ij s_j e_r,j
  double a;        ///< adaptation rate
  double b;        ///< adaptation coupling to v
  double w_jump;   ///< adaptation increment per spike
  double v_peak;   ///< paper scheme only
  double v_reset;  ///< paper scheme only
  double dt;
};

/// `paper` scheme (docs/model.md section 4): forward Euler; a neuron with
/// v >= v_peak at the start of the step spikes, v <- v_reset - (v - v_peak)
/// (that is v <- -v for v_reset = -v_peak, the paper's choice) and
/// w <- w + w_jump; every other neuron takes an Euler step. Branch-free so
/// that the CPU loop vectorises and warps do not diverge.
/// \return 1 if the neuron spiked in this step, else 0.
IZH_HD IZH_FORCEINLINE int paper_step(double& v, double& w, double eta, const step_coeffs& k) {
  const double v0 = v, w0 = w;
  const bool spike = v0 >= k.v_peak;
  const double v_euler = v0 + k.dt * (v0 * (v0 - k.A) - w0 + eta + k.c);
  const double w_euler = w0 + k.dt * k.a * (k.b * v0 - w0);
  v = spike ? k.v_reset - (v0 - k.v_peak) : v_euler;
  w = spike ? w0 + k.w_jump : w_euler;
  return spike ? 1 : 0;
}

// ---------------------------------------------------------------------------
// `exact` scheme (docs/model.md section 4)
// ---------------------------------------------------------------------------

/// Bits of a double and back, on the host and on the device.
IZH_HD IZH_FORCEINLINE uint64_t bits_of(double d) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint64_t>(__double_as_longlong(d));
#else
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
#endif
}
IZH_HD IZH_FORCEINLINE double double_of(uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(u));
#else
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
#endif
}

/// The voltage of the state p of the `exact` scheme (see exact_step): v = p / (1 - |p|).
IZH_HD IZH_FORCEINLINE double p_to_v(double p) { return p / (1.0 - fabs(p)); }
/// The state p of a voltage: p = v / (1 + |v|).
IZH_HD IZH_FORCEINLINE double v_to_p(double v) { return v / (1.0 + fabs(v)); }

/// cos(theta) and sin(theta) of the phase theta (v = tan(theta/2)) of state p,
/// rationally: with (x, y) = (p, 1 - |p|), cos = (y^2 - x^2)/(x^2 + y^2), sin = 2xy/(x^2 + y^2).
IZH_HD IZH_FORCEINLINE void p_cos_sin(double p, double& c, double& s) {
  const double x = p, y = 1.0 - fabs(p);
  const double inv = 1.0 / (x * x + y * y);  // >= 1/2 apart: never small
  c = (y - x) * (y + x) * inv;
  s = 2.0 * x * y * inv;
}

/// Fixed-point scale of the spike weights (exact scheme): a weight w in [0, 1]
/// is summed as the integer round(w * 2^32), so that sums are exact and do not
/// depend on the order (thread count, GPU blocks).
constexpr double k_weight_scale = 4294967296.0;           ///< 2^32
constexpr double k_weight_unit = 1.0 / 4294967296.0;      ///< 2^-32
constexpr double k_two52 = 4503599627370496.0;            ///< 2^52
constexpr uint64_t k_two52_bits = 0x4330000000000000ull;  ///< bits of 2^52

/// ln(num / den) for positive num, den, with pure arithmetic and bit
/// operations (no library call and no int <-> double conversion, so the CPU
/// loop vectorises with AVX2): exponents and mantissas m_n, m_d in [1, 2) from
/// the bits, the ratio brought into [1/sqrt2, sqrt2] with one comparison, and
/// 2 atanh(z), z = (m_n - m_d')/(m_n + m_d'), |z| <= 0.1716, as an odd series
/// through z^13 (error below 5e-13). A zero or subnormal argument reads as
/// 2^-1023 (finite; it happens only for v exactly infinite at a step end).
/// The division in z is left to the caller, who folds it into one with others
/// (exact_step): log_ratio_reduce gives the parts, log_ratio_finish the value.
struct log_ratio_parts {
  double e;   ///< exponent difference (as a double), including the reduction
  double mn;  ///< mantissa of num, in [1, 2)
  double md;  ///< mantissa of den times sqrt2 or 1/sqrt2
};
IZH_HD IZH_FORCEINLINE log_ratio_parts log_ratio_reduce(double num, double den) {
  const uint64_t bn = bits_of(num), bd = bits_of(den);
  const uint64_t mant = 0x000FFFFFFFFFFFFFull, one = 0x3FF0000000000000ull;
  const double mn = double_of((bn & mant) | one);
  const double md = double_of((bd & mant) | one);
  // Exponent fields (0..2047) as 2^52 + k: their difference is exact.
  const double de = double_of((bn >> 52) | k_two52_bits) - double_of((bd >> 52) | k_two52_bits);
  // mn/md is in (1/2, 2); scaling md by sqrt2 (mn > md) or 1/sqrt2 brings it into [1/sqrt2, sqrt2].
  const bool hi = mn > md;
  const double md2 = md * (hi ? 1.4142135623730951 : 0.70710678118654752);
  return {de + (hi ? 0.5 : -0.5), mn, md2};
}
/// 2 atanh(z) = ln((1 + z)/(1 - z)) for |z| <= 0.1716 as the odd series
/// 2 z (1 + t/3 + t^2/5 + ... + t^6/13), t = z^2, in Estrin's scheme (error
/// below 2 |z|^15/(15 (1 - z^2)) < 5e-13).
IZH_HD IZH_FORCEINLINE double two_atanh_series(double z) {
  const double t = z * z, t2 = t * t, t4 = t2 * t2;
  const double p01 = 1.0 + t * (1.0 / 3.0), p23 = 1.0 / 5.0 + t * (1.0 / 7.0);
  const double p45 = 1.0 / 9.0 + t * (1.0 / 11.0), p6 = 1.0 / 13.0;
  const double poly = (p01 + t2 * p23) + t4 * (p45 + t2 * p6);
  return 2.0 * z * poly;
}
/// ln(num/den) from log_ratio_reduce's parts and recip = 1/(mn + md).
IZH_HD IZH_FORCEINLINE double log_ratio_finish(const log_ratio_parts& r, double recip) {
  const double ln2 = 0.6931471805599453094;
  return r.e * ln2 + two_atanh_series((r.mn - r.md) * recip);
}
/// ln(num/den) on its own (tests; the step uses the parts).
IZH_HD IZH_FORCEINLINE double log_ratio(double num, double den) {
  const log_ratio_parts r = log_ratio_reduce(num, den);
  return log_ratio_finish(r, 1.0 / (r.mn + r.md));
}

/// Constants of one population for one step of the `exact` scheme, derived
/// once from step_coeffs (A, c at mid-step) and the population's tau_s.
struct exact_coeffs {
  double c;        ///< I_ext + E at mid-step
  double h;        ///< dt
  double wfac;     ///< 1 - a h/2: w at mid-step is about w (1 - a h/2) (+ the b v part, below)
  double m11;      ///< 1 - h A/2 - h^2 a b/2 (x diagonal, before - q)
  double m22;      ///< 1 + h A/2 (y diagonal, before - q)
  double qA;       ///< A^2/4
  double qh;       ///< h^2/4
  double hA2;      ///< h A/2
  double e1, e2b;  ///< w_1 = e1 w_0 + e2b int v dt + jump
  double jump;     ///< w_jump
  double jump_ah;  ///< w_jump a h: a spike at fraction f adds w_jump (1 - a h (1 - f))
  double h_tau;    ///< h / tau_s
};

IZH_HD IZH_FORCEINLINE exact_coeffs make_exact_coeffs(const step_coeffs& k, double tau_s) {
  const double h = k.dt, ah = k.a * h;
  exact_coeffs e;
  e.c = k.c;
  e.h = h;
  e.wfac = 1.0 - 0.5 * ah;
  e.m11 = 1.0 - 0.5 * h * k.A - 0.5 * h * h * k.a * k.b;
  e.m22 = 1.0 + 0.5 * h * k.A;
  e.qA = 0.25 * k.A * k.A;
  e.qh = 0.25 * h * h;
  e.hA2 = 0.5 * h * k.A;
  e.e1 = (1.0 - 0.5 * ah) / (1.0 + 0.5 * ah);
  e.e2b = k.a * k.b / (1.0 + 0.5 * ah);
  e.jump = k.w_jump;
  e.jump_ah = k.w_jump * ah;
  e.h_tau = h / tau_s;
  return e;
}

/// The Cayley step of exact_step without the normalisation: the start (x0, y0)
/// of state p, q = H h^2/4 and the image (x1, y1). Shared by exact_quiet and
/// exact_step_full, so that both decide a spike (y1 < 0) from the same bits.
IZH_HD IZH_FORCEINLINE void exact_cayley(double p, double w, double eta, const exact_coeffs& k, double& x0, double& y0,
                                         double& q, double& x1, double& y1) {
  x0 = p;
  y0 = 1.0 - fabs(p);
  const double B = eta + k.c - w * k.wfac;
  q = (B - k.qA) * k.qh;
  x1 = (k.m11 - q) * x0 + k.h * B * y0;
  y1 = (k.m22 - q) * y0 - k.h * x0;
}

/// The range |z| <= k_quiet_z of exact_quiet's series for the logarithm
/// (that of two_atanh_series).
constexpr double k_quiet_z = 0.1716;

/// The common case of exact_step, cheaper: a neuron that does not spike in
/// this step and whose log argument rho = y1/(y0 (1 + q)) is near 1. Then
/// ln rho = 2 atanh(z), z = (rho - 1)/(rho + 1) = (y1 - y0 (1 + q))/(y1 + y0 (1 + q)),
/// and for |z| <= k_quiet_z the series of exact_step_full's bit-level log
/// applies to z directly (error below 5e-13): the same step to rounding,
/// without the exponent and mantissa reduction, the spike time and the
/// spike's weight. The denominator
/// y1 + y0 (1 + q) = y0 (2 + h A/2) - h x0 depends on p alone, so its division
/// starts before the rest of the step is ready (the loop is latency-bound).
/// \return 0 and the stepped p, w when the neuron is quiet; else 1 with p, w
/// unchanged, and exact_step_full takes the step. Branch-free (the CPU loop
/// vectorises it and steps the few others afterwards, exact_step on a GPU
/// calls both).
IZH_HD IZH_FORCEINLINE int exact_quiet(double& p, double& w, double eta, const exact_coeffs& k) {
  double x0, y0, q, x1, y1;
  exact_cayley(p, w, eta, k, x0, y0, q, x1, y1);
  const double hx0 = k.h * x0;
  const double z = (y0 * (k.hA2 - 2.0 * q) - hx0) / (y0 * (2.0 + k.hA2) - hx0);
  const double int_v = k.hA2 - two_atanh_series(z);
  // y1 > 0: no spike (and the norm is |x1| + y1); |z| <= k_quiet_z also fails for a NaN.
  const bool quiet = y1 > 0.0 && fabs(z) <= k_quiet_z;
  const double pn = x1 / (fabs(x1) + y1);
  const double wn = k.e1 * w + k.e2b * int_v;
  p = quiet ? pn : p;
  w = quiet ? wn : w;
  return quiet ? 0 : 1;
}

/// One step of the `exact` scheme for any neuron (exact_step: the common case first): second order in dt, the spike
/// passes through infinity exactly, and its time is resolved inside the step.
///
/// State: p in [-1, 1] with v = p/(1 - |p|), i.e. the homogeneous coordinates
/// (x, y) = (p, 1 - |p|) of v = x/y scaled so that |x| + y = 1 and y >= 0. p = +-1
/// is v = infinity (one point: the spike), so the state never overflows and
/// needs no renormalisation beyond that one scale.
///
/// Over the step, v' = v^2 - A v + B(t) with B = eta + c - w(t) is, for
/// (x, y), the linear flow (x, y)' = K (x, y), K = [[-A/2, B], [-1, A/2]],
/// K^2 = -H I, H = B - A^2/4. The step takes the Cayley (implicit midpoint)
/// map of K with B at mid-step, which up to the factor 1 + q is
/// M = (1 - q) I + h K, q = H h^2/4: a Moebius map of v, exact through infinity,
/// second order, and it turns (x, y) by less than half a turn (at most one
/// spike per step). B at mid-step: w(t) ~ w (1 - a t) + a b int_0^t v, whose
/// -a b t v part enters as -h^2 a b/2 on the x diagonal. A spike is y changing
/// sign (then (x, y) -> -(x, y)); its time inside the step is t_n + f h with
/// f = y_0/(y_0 - y_1) (y linear over the step).
///
/// Adaptation: int v dt = h A/2 - ln(|y_1| / (y_0 |1 + q|)) (the principal value
/// across the pole), and w takes the trapezoidal step
/// w_1 = e1 w_0 + e2 b int v dt with e1 = (1 - a h/2)/(1 + a h/2), e2 = a/(1 + a h/2),
/// plus w_jump (1 - a h (1 - f)) for a spike at fraction f.
///
/// Outputs: the return value is 1 for a spike, else 0; `weight` is the spike's
/// contribution to the gating variable at the end of the step in units of
/// 2^-32 (round(2^32 e^{-(1-f) h/tau_s}), 0 without a spike); `frac` is f
/// (meaningful only for a spike). One division per neuron.
IZH_HD IZH_FORCEINLINE int exact_step_full(double& p, double& w, double eta, const exact_coeffs& k, int64_t& weight,
                                           double& frac) {
  double x0, y0, q, x1, y1;
  exact_cayley(p, w, eta, k, x0, y0, q, x1, y1);
  const bool spike = y1 < 0.0;
  const double ay1 = fabs(y1);
  const double norm = fabs(x1) + ay1;  // > 0: M is invertible unless q = -1 exactly
  // ln(|y1| / (y0 |1 + q|)) (a zero argument, v exactly infinite at a step end, reads as 2^-1023).
  const log_ratio_parts lr = log_ratio_reduce(ay1, y0 * fabs(1.0 + q));
  const double msum = lr.mn + lr.md;
  const double fden = spike ? y0 - y1 : 1.0;  // > 0 for a spike
  // One division for the three quotients: 1/norm, 1/msum, 1/fden.
  const double r = 1.0 / (norm * msum * fden);
  const double inv_norm = r * msum * fden;
  const double inv_msum = r * norm * fden;
  const double f = y0 * (r * norm * msum);
  const double int_v = k.hA2 - log_ratio_finish(lr, inv_msum);
  const double g = 1.0 - f;
  const double wj = k.jump - k.jump_ah * g;
  w = k.e1 * w + k.e2b * int_v + (spike ? wj : 0.0);
  p = (spike ? -x1 : x1) * inv_norm;
  // e^{-u}, u = (1 - f) h/tau_s in [0, h/tau_s], to third order (error u^4/24: 3e-7 at u = 0.05,
  // O(dt^4) per spike).
  const double u = g * k.h_tau;
  const double decay = 1.0 + u * (-1.0 + u * (0.5 + u * (-1.0 / 6.0)));
  // round(decay * 2^32) through 2^52 + k (exact: decay * 2^32 < 2^33).
  const int64_t wq = static_cast<int64_t>(bits_of(decay * k_weight_scale + k_two52) - k_two52_bits);
  weight = spike ? wq : 0;
  frac = f;
  return spike ? 1 : 0;
}

/// One step of the `exact` scheme (see exact_step_full): exact_quiet for the
/// common case, exact_step_full for the others (spikes, and v far from its
/// step's mean rate). `weight` is 0 and `frac` 0 without a spike.
IZH_HD IZH_FORCEINLINE int exact_step(double& p, double& w, double eta, const exact_coeffs& k, int64_t& weight,
                                      double& frac) {
  if (exact_quiet(p, w, eta, k) == 0) {
    weight = 0;
    frac = 0.0;
    return 0;
  }
  return exact_step_full(p, w, eta, k, weight, frac);
}

}  // namespace izhinet

namespace izhinet {

/// Synaptic drive onto population i: G = sum_j kappa_j g_ij s_j and
/// E = sum_j kappa_j g_ij s_j e_r,j. `kg` holds kappa_j g_ij at [i * P + j].
IZH_HD IZH_FORCEINLINE void synaptic_drive(int P, int i, const double* kg, const double* e_r, const double* s,
                                           double& G, double& E) {
  G = 0.0;
  E = 0.0;
  for (int j = 0; j < P; ++j) {
    const double gs = kg[i * P + j] * s[j];
    G += gs;
    E += gs * e_r[j];
  }
}

/// The exact scheme's gating value for the drive of the next step (docs/model.md
/// section 4): the mean of s over that step, so that the drive integrated
/// over the steps is the integral of s, each spike's contribution from its own
/// time on (second order pathwise, not only in the mean). After a step that
/// started at s (now s_new) and used the drive value `used`, with `count`
/// spikes of total weight `weight` (units of spikes, sum of e^{-(1-f) dt/tau_s}):
/// - the step's true mean of s: s phi + inside, phi = (1 - e^{-dt/tau_s}) tau_s/dt
///   the mean of the decay over a step, and inside = (s_jump/n)(count - weight) tau_s/dt
///   the mean of this step's spikes from their own times on
///   (sum of (1 - e^{-(1-f) dt/tau_s}) tau_s/dt);
/// - the next step's mean is predicted as s_new phi + inside (the same spikes
///   inside it as in this one), and the difference between this step's true
///   mean and `used` is added: the part of a spike's effect that a step could
///   not know (the spikes inside it) is delivered one step later, in full, so
///   that the sum of the drives over the steps is exact and a spike's effect
///   is misplaced in time by at most one step, O(dt^2) per spike instead of
///   the O(dt) of a predictor alone.
/// \return the drive value of the next step.
IZH_HD IZH_FORCEINLINE double exact_next_drive(double s, double s_new, double used, double dt, double tau_s,
                                               double decay, double s_jump, double count, double weight, double inv_n) {
  const double tau_h = tau_s / dt;
  const double phi = (1.0 - decay) * tau_h;
  const double inside = s_jump * inv_n * (count - weight) * tau_h;
  return s_new * phi + inside + (s * phi + inside - used);
}

/// Gating update of presynaptic population j after a step with `count`
/// spikes among its n_j neurons. paper: Euler decay, jump s_jump*count/n_j,
/// then s kept in [0, 1] (docs/model.md section 4). exact: exponential decay
/// (`decay` = exp(-dt/tau_s)), no clamp (as in the mean field), and `count` is
/// the sum of the spikes' weights e^{-(1-f) dt/tau_s} (each spike decays from
/// its own time t_n + f dt; exact_step), a fixed-point integer times 2^-32.
IZH_HD IZH_FORCEINLINE double gating_step(bool exact, double s, double dt, double tau_s, double decay, double s_jump,
                                          double count, double inv_n) {
  if (exact) return s * decay + s_jump * count * inv_n;
  const double x = s + dt * (-s / tau_s) + s_jump * count * inv_n;
  return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

}  // namespace izhinet
