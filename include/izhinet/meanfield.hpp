#pragma once
/// \file meanfield.hpp
/// Mean-field models of the network (docs/meanfield.md sections 1 and 2), an adaptive
/// Dormand–Prince 5(4) integrator with dense output, equilibria of the exact
/// model with their eigenvalues, and the `mf` command.
///
/// Notation (population i = 0..P-1, presynaptic j):
/// \f[ G_i = \sum_j \kappa_j g_{ij} s_j, \qquad E_i = \sum_j \kappa_j g_{ij} s_j e_{r,j}, \f]
/// with \f$\kappa_j\f$ = populations[j].fraction.
#include <atomic>
#include <complex>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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
    if (one_.valid) {  // one population, constant input: the same equations, inlined
      const double r = y[0], v = y[1], w = y[2], s = y[3];
      const double G = one_.kg * s;
      dydt[0] = one_.delta_over_pi + r * (2.0 * v - one_.alpha - G);
      dydt[1] = v * (v - one_.alpha - G) - w + one_.drive + G * one_.e_r - 9.869604401089358 * r * r;
      dydt[2] = one_.ab * v - one_.a * w + one_.w_jump * r;
      dydt[3] = one_.s_jump * r - s * one_.inv_tau_s;
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
  /// Scalars of the one-population, constant-input case (drive = eta_bar + I, ab = a b; 9.8696... = pi^2).
  struct one_population {
    bool valid = false;
    double delta_over_pi = 0, alpha = 0, drive = 0, kg = 0, e_r = 0, a = 0, ab = 0, w_jump = 0, s_jump = 0,
           inv_tau_s = 0;
  } one_;
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

/// Options of the Dormand–Prince 5(4) integrator.
struct dopri5_options {
  double rtol = 1e-8;      ///< relative tolerance (key meanfield.rtol), > 0
  double atol = 1e-10;     ///< absolute tolerance (key meanfield.atol), > 0
  double h_initial = 0.0;  ///< first step; 0 = automatic (Hairer's estimate)
  double h_max = 0.0;      ///< largest step; 0 = |t1 - t0|
  int64_t max_steps = 100000000;
};

/// Counters of one integration.
struct dopri5_stats {
  int64_t accepted = 0, rejected = 0, rhs_evals = 0;
};

/// Right-hand side f(t, y, dydt) and output observer(t, y).
using ode_rhs = std::function<void(double, const double*, double*)>;
using ode_observer = std::function<void(double, const double*)>;

/// Integrates y' = f(t, y) from t0 to t1 (t1 > t0) with the Dormand–Prince
/// 5(4) pair (FSAL, 7 stages, 6 new evaluations per step) and the standard
/// step-size control: error norm
/// \f$ \|e\| = \sqrt{\frac1n\sum_k \big(e_k / (atol + rtol\max(|y_k|,|y_k^{new}|))\big)^2} \f$,
/// accepted when <= 1, \f$h \leftarrow h \min(5, \max(0.2, 0.9\|e\|^{-1/5}))\f$
/// (no growth right after a rejection). The state at every time in `t_out`
/// (sorted, inside [t0, t1]) is delivered to `observer` from the 4th-order
/// continuous extension of DOPRI5 (Hairer, Nørsett & Wanner, the `contd5`
/// coefficients), so outputs never shorten the steps.
///
/// Throws config_error (keys meanfield.rtol / meanfield.atol) for
/// tolerances <= 0, and numerical_error (a user_error, t_lo = time reached)
/// when the step size underflows or the state becomes non-finite.
dopri5_stats integrate_dopri5(const ode_rhs& f, std::vector<double> y0, double t0, double t1,
                              const std::vector<double>& t_out, const dopri5_options& options,
                              const ode_observer& observer);

/// Integrates the exact mean field from its initial state over [0, t_end] and
/// returns the states at `t_out` (row k = state at t_out[k], dimension() numbers).
std::vector<std::vector<double>> integrate_exact(const exact_meanfield& model, double t_end,
                                                 const std::vector<double>& t_out, const dopri5_options& options,
                                                 dopri5_stats* stats = nullptr);

/// The same, flat: row-major (outputs inside [0, t_end]) x dimension().
/// Faster: the right-hand side and the output are inlined into the integrator.
std::vector<double> integrate_exact_flat(const exact_meanfield& model, double t_end, const std::vector<double>& t_out,
                                         const dopri5_options& options, dopri5_stats* stats = nullptr);

/// The same into caller storage `out` (room for t_out.size() x dimension()
/// numbers), for callers that reuse a buffer; returns the number of rows written.
size_t integrate_exact_into(const exact_meanfield& model, double t_end, const std::vector<double>& t_out,
                            const dopri5_options& options, double* out, dopri5_stats* stats = nullptr);

/// The same for the slow model.
std::vector<std::vector<double>> integrate_slow(const slow_meanfield& model, double t_end,
                                                const std::vector<double>& t_out, const dopri5_options& options,
                                                dopri5_stats* stats = nullptr);

/// The network's recording times t_k = k * record_every * dt, k = 0..num_records().
std::vector<double> record_times(const model_spec& spec);

/// DOPRI5 options from spec.meanfield (validated: config_error names the key).
dopri5_options dopri5_options_from(const meanfield_params& mf);

/// Eigenvalues of a real n x n matrix (row-major), by balancing, reduction to
/// upper Hessenberg form (Gaussian elimination with pivoting) and the Francis
/// double-shift QR iteration. Complex pairs come out as conjugates. Throws
/// internal_error if the iteration does not converge (30 sweeps per eigenvalue).
std::vector<std::complex<double>> eigenvalues(std::vector<double> A, int n);

/// One equilibrium of the exact mean field.
struct equilibrium {
  std::vector<double> state;                      ///< [r_0, v_0, w_0, s_0, ...]
  std::vector<std::complex<double>> eigenvalues;  ///< of the Jacobian, sorted by real part, largest first
  bool stable = false;                            ///< all real parts < 0
  double residual = 0.0;                          ///< max |dy/dt| at `state`
};

/// Options of the equilibrium search.
struct equilibrium_options {
  double t_input = 0.0;    ///< time at which I_i(t) is evaluated (constant inputs: irrelevant)
  double r_min = 1e-9;     ///< scanning bracket (r_min, r_max]
  double r_max = 0.0;      ///< 0 = automatic: doubled from 10 until the scalar condition is < 0 there
  int scan_points = 4000;  ///< log-spaced points of the one-population scan
};

/// All equilibria with r_i > 0 of the exact mean field.
///
/// At an equilibrium, for every population: \f$s_i = \tau_{s,i} s_{jump,i} r_i\f$;
/// \f$r_i' = 0\f$ gives \f$v_i = ((\alpha_i + G_i) r_i - \Delta_i/\pi)/(2 r_i)\f$;
/// \f$w_i' = 0\f$ gives \f$w_i = b_i v_i + w_{jump,i} r_i / a_i\f$. If a_i = 0 and
/// w_jump,i = 0, w_i never changes and keeps its initial value, so w_i = 0 (the
/// network's and the integrator's initial state) is used; a_i = 0 with
/// w_jump,i != 0 admits no equilibrium with r_i > 0. Everything then depends on
/// r alone and \f$v_i' = F_i(r) = 0\f$ remains.
///
/// - P = 1: F(r) is scanned on `scan_points` log-spaced points in (r_min, r_max]
///   and every sign change is refined by bisection to machine precision; a
///   root where F touches zero without changing sign (a fold exactly at these
///   parameters) can be missed.
/// - P > 1: Newton's method on the reduced system F(r) = 0 (P unknowns, Jacobian
///   from the analytic 4P Jacobian by the chain rule through the explicit
///   maps above) from a log-spaced grid of starting points in r (per axis 24,
///   10, 6 points for P = 2, 3, >= 4), solutions deduplicated (relative
///   distance 1e-7). Not guaranteed to find every equilibrium.
/// Each is polished and classified by the eigenvalues of the analytic Jacobian.
std::vector<equilibrium> find_equilibria(const model_spec& spec, const equilibrium_options& options = {});

/// The `izhinet mf` command: integrates the exact mean field alone over
/// [0, t_end] (out_dir/meanfield.csv at the record times, header
/// t,r0,v0,w0,s0,r1,...), lists all equilibria with eigenvalues and stability
/// through spdlog and writes out_dir/equilibria.json and out_dir/summary.json
/// (status, how far it got). Returns exit_ok, exit_runtime when the
/// integration failed (the rows before the failure are kept), or
/// exit_interrupted when `stop` was set (checked at every right-hand-side
/// evaluation); throws io_error when a file cannot be written,
/// config_error on bad tolerances. `out_dir` is created if needed.
int run_mf_command(const model_spec& spec, const std::string& out_dir, const std::atomic<bool>* stop = nullptr);

}  // namespace izhinet
