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

/// \f$ \cos\sqrt{z} \f$ for z >= 0 and \f$ \cosh\sqrt{-z} \f$ for z < 0, smooth through 0.
IZH_HD IZH_FORCEINLINE double cos_sqrt(double z) {
  if (fabs(z) < 1e-6) return 1.0 - z / 2.0 + z * z / 24.0 - z * z * z / 720.0;
  return z > 0 ? cos(sqrt(z)) : cosh(sqrt(-z));
}

/// \f$ \sin\sqrt{z}/\sqrt{z} \f$ (z > 0) and \f$ \sinh\sqrt{-z}/\sqrt{-z} \f$ (z < 0), smooth through 0.
IZH_HD IZH_FORCEINLINE double sinc_sqrt(double z) {
  if (fabs(z) < 1e-6) return 1.0 - z / 6.0 + z * z / 120.0 - z * z * z / 5040.0;
  return z > 0 ? sin(sqrt(z)) / sqrt(z) : sinh(sqrt(-z)) / sqrt(-z);
}

/// `exact` scheme: the spike passes through infinity exactly.
///
/// State: the phase \f$\theta \in (-\pi, \pi]\f$ with \f$ v = \tan(\theta/2) \f$, and w.
/// Over one step A, c and w are frozen, and the Riccati equation
/// \f$ v' = v^2 - A v + B \f$ (B = eta + c - w) is solved exactly: writing
/// v = x/y, (x, y) obeys the linear system \f$ (x,y)' = K (x,y) \f$ with
/// \f$ K = \begin{pmatrix}-A/2 & B\\ -1 & A/2\end{pmatrix} \f$, \f$ K^2 = -H\,I \f$,
/// \f$ H = B - A^2/4 \f$, so \f$ e^{K\Delta t} = \cos(\sqrt{H}\Delta t) I + \Delta t\,\mathrm{sinc}(\sqrt{H}\Delta t) K
/// \f$ (cosh/sinh for H < 0). With (x, y) = (sin(theta/2), cos(theta/2)) the phase advances by twice the angle the
/// vector turns; a spike is theta crossing pi (always upwards: theta' = 2 there). There is no v_peak, no reset, and no
/// truncation error: for constant input the phase is exact to rounding for any dt with |delta theta| < pi per step.
///
/// Adaptation: \f$ \int v\,dt = A\Delta t/2 - \ln|y_1/y_0| \f$ exactly (principal
/// value across the pole), so w takes the step
/// \f$ w \leftarrow w + a(b\int v\,dt - w\Delta t) + w_{jump}\cdot\mathrm{spikes} \f$
/// (first order in a*dt for the w-decay only, a ~ 1e-2).
/// \return 1 if the neuron spiked in this step, else 0.
IZH_HD IZH_FORCEINLINE int exact_step(double& theta, double& w, double eta, const step_coeffs& k) {
  const double half_A = 0.5 * k.A;
  const double B = eta + k.c - w;
  const double H = B - half_A * half_A;
  const double z = H * k.dt * k.dt;
  const double C = cos_sqrt(z);
  const double S = k.dt * sinc_sqrt(z);
  double x0, y0;
#if defined(__CUDA_ARCH__)
  sincos(0.5 * theta, &x0, &y0);
#else
  x0 = sin(0.5 * theta);
  y0 = cos(0.5 * theta);
#endif
  const double x1 = C * x0 + S * (-half_A * x0 + B * y0);
  const double y1 = C * y0 + S * (-x0 + half_A * y0);
  const double dphi = atan2(x1 * y0 - y1 * x0, x1 * x0 + y1 * y0);
  double th = theta + 2.0 * dphi;
  const double two_pi = 6.283185307179586476925;
  const bool spike = th > 0.5 * two_pi;
  th = spike ? th - two_pi : th;
  const double int_v = half_A * k.dt - log(fabs(y1) / fmax(fabs(y0), 1e-300));
  w = w + k.a * (k.b * int_v - w * k.dt) + (spike ? k.w_jump : 0.0);
  theta = th;
  return spike ? 1 : 0;
}

/// The voltage of a phase, v = tan(theta/2).
IZH_HD IZH_FORCEINLINE double theta_to_v(double theta) { return tan(0.5 * theta); }
/// The phase of a voltage, theta = 2 atan(v).
IZH_HD IZH_FORCEINLINE double v_to_theta(double v) { return 2.0 * atan(v); }

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

/// Gating update of presynaptic population j after a step with `count`
/// spikes among its n_j neurons. paper: Euler decay, jump s_jump*count/n_j,
/// then s kept in [0, 1] (docs/model.md section 4). exact: exponential decay
/// (`decay` = exp(-dt/tau_s)), same jump, no clamp (as in the mean field).
IZH_HD IZH_FORCEINLINE double gating_step(bool exact, double s, double dt, double tau_s, double decay, double s_jump,
                                          double count, double inv_n) {
  if (exact) return s * decay + s_jump * count * inv_n;
  const double x = s + dt * (-s / tau_s) + s_jump * count * inv_n;
  return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

}  // namespace izhinet
