#pragma once
/// \file meanfield_model.hpp
/// The mean-field models of the network (docs/meanfield.md sections 1 and 2):
/// right-hand sides and the analytic Jacobian. Integrator: dopri5.hpp;
/// equilibria: equilibria.hpp; continuation: continuation.hpp.
///
/// Notation (population i = 0..P-1, presynaptic j):
/// \f[ G_i = \sum_j \kappa_j g_{ij} s_j, \qquad E_i = \sum_j \kappa_j g_{ij} s_j e_{r,j}, \f]
/// with \f$\kappa_j\f$ = populations[j].fraction.
#include <complex>
#include <vector>

#include "izhinet/hd.hpp"
#include "izhinet/params.hpp"

namespace izhinet {

/// Exact mean field of Chen & Campbell (2022), docs/meanfield.md section 1.
/// State layout: [r_0, v_0, w_0, s_0, r_1, v_1, ...] (4P numbers):
/// \f[ r_i' = \Delta_i/\pi + 2 r_i v_i - (\alpha_i + G_i) r_i \f]
/// \f[ v_i' = v_i^2 - \alpha_i v_i - w_i + \bar\eta_i + I_i(t) + E_i - G_i v_i - \pi^2 r_i^2 \f]
/// \f[ w_i' = a_i (b_i v_i - w_i) + w_{jump,i}\, r_i \f]
/// \f[ s_i' = -s_i/\tau_{s,i} + s_{jump,i}\, r_i \f]
class exact_meanfield {
 public:
  /// Copies what it needs from `spec`; throws config_error on inconsistent sizes.
  explicit exact_meanfield(const model_spec& spec);

  int num_populations() const { return P_; }
  int dimension() const { return 4 * P_; }
  /// dy/dt at time t (y and dydt hold dimension() numbers; must not alias).
  void rhs(double t, const double* y, double* dydt) const {
    if (one_population_.valid) {  // one population, constant input: the same equations, inlined
      const double r = y[0], v = y[1], w = y[2], s = y[3];
      const double G = one_population_.kg * s;
      dydt[0] = one_population_.delta_over_pi + r * (2.0 * v - one_population_.alpha - G);
      dydt[1] = v * (v - one_population_.alpha - G) - w + one_population_.drive + G * one_population_.e_r -
                k_pi * k_pi * r * r;
      dydt[2] = one_population_.ab * v - one_population_.a * w + one_population_.w_jump * r;
      dydt[3] = one_population_.s_jump * r - s * one_population_.inv_tau_s;
      return;
    }
    rhs_general(t, y, dydt);
  }
  /// Analytic Jacobian d(dy/dt)/dy, row-major dimension() x dimension().
  void jacobian(double t, const double* y, double* J) const;
  /// The network's initial state: r = v = w = s = 0.
  std::vector<double> initial_state() const { return std::vector<double>(dimension(), 0.0); }

 private:
  friend class slow_meanfield;
  void rhs_general(double t, const double* y, double* dydt) const;
  int P_;
  std::vector<double> delta_, alpha_, a_, b_, w_jump_, eta_bar_;
  std::vector<input_spec> input_;
  std::vector<double> kg_;  ///< kappa_j g_ij, row-major P x P
  std::vector<double> e_r_, tau_s_, s_jump_;
  std::vector<double> inv_tau_s_, delta_over_pi_;  ///< precomputed 1/tau_s, Delta/pi
  /// Scalars of the one-population, constant-input case (drive = eta_bar + I, ab = a b).
  struct one_population {
    bool valid = false;
    double delta_over_pi = 0, alpha = 0, drive = 0, kg = 0, e_r = 0, a = 0, ab = 0, w_jump = 0, s_jump = 0,
           inv_tau_s = 0;
  } one_population_;
};

/// Slow-adaptation mean field of Nicola & Campbell (2013), docs/meanfield.md section 2.
/// State layout: [s_0, w_0, s_1, w_1, ...] (2P numbers):
/// \f[ s_i' = -s_i/\tau_{s,i} + s_{jump,i} R_i, \qquad w_i' = -a_i w_i + w_{jump,i} R_i, \f]
/// \f[ R_i = \frac{1}{\pi}\,\mathrm{Re}\sqrt{\bar\eta_i + I_i - w_i + E_i - (\alpha_i+G_i)^2/4 + i\Delta_i} \f]
/// (principal branch): the Lorentzian average of the QIF rate
/// \f$\sqrt{H}/\pi\f$, \f$H = \eta + I - w + E - A^2/4\f$, \f$A = \alpha + G\f$.
///
/// With `finite_peak`, the single-neuron rate is the finite-threshold one,
/// \f[ R(\eta) = \frac{\sqrt H}{\arctan\frac{v_{peak}-A/2}{\sqrt H} - \arctan\frac{v_{reset}-A/2}{\sqrt H}} \f]
/// (0 where H <= 0), averaged over the Lorentzian by composite Gauss–Legendre
/// quadrature in the quantile variable u in (0,1), \f$\eta = \bar\eta + \Delta\tan(\pi(u - 1/2))\f$:
/// \f$\langle R\rangle = \int_0^1 R(\eta(u))\,du\f$, substituted \f$u = \sin^2(\pi x/2)\f$
/// (nodes clustered at both tails, which makes the \f$(1-u)^{-1/2}\f$ tail of
/// \f$\sqrt\eta\f$ smooth) and integrated over x with `quadrature_panels` panels of
/// 8 Gauss–Legendre nodes each. For finite v_peak the rate grows like H/(v_peak - v_reset), so
/// the exact Lorentzian average diverges (logarithmically): the quadrature,
/// whose outermost nodes sit at u of order 1/nodes^4, cuts the tails the way a
/// finite network of deterministic quantile samples does. The result therefore
/// depends (weakly) on the number of nodes; documented, not hidden.
class slow_meanfield {
 public:
  explicit slow_meanfield(const model_spec& spec, bool finite_peak = false, int quadrature_panels = 32);

  int num_populations() const { return base_.P_; }
  int dimension() const { return 2 * base_.P_; }
  void rhs(double t, const double* y, double* dydt) const;
  /// Population rates R_i at state y (P numbers into `rates`).
  void rates(double t, const double* y, double* rates) const;
  std::vector<double> initial_state() const { return std::vector<double>(dimension(), 0.0); }

 private:
  exact_meanfield base_;
  bool finite_peak_;
  std::vector<double> v_peak_, v_reset_;
  std::vector<double> u_weights_;            ///< quadrature weights in u (sum 1)
  std::vector<std::vector<double>> eta_at_;  ///< per population: eta at each node
};

}  // namespace izhinet
