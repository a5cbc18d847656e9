#pragma once
/// \file continuation.hpp
/// Numerical bifurcation analysis of the exact mean field (docs/meanfield.md
/// section 5): branches of equilibria and periodic orbits in one parameter,
/// their special points, and curves of Hopf points and folds in two.
///
/// - `param_binding`: a dotted configuration key the mean field depends on
///   (`population.0.eta_bar`, `population.*.w_jump`, `synapse.g.0.1`, ...).
/// - `continue_curve`: pseudo-arclength continuation of the solution curve of
///   G(X) = 0, G: R^{m+1} -> R^m (Newton on the bordered system, step size
///   from the Newton iterations and the angle between tangents).
/// - `run_bifurcation`: equilibria (LP, H, BP located on augmented systems;
///   Hopf frequency and first Lyapunov coefficient), periodic orbits from every
///   Hopf point by orthogonal collocation (periodic_orbits.cpp; LPC, PD, NS,
///   Floquet multipliers), two-parameter curves (two_parameter.cpp).
#include <Eigen/Dense>
#include <complex>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "izhinet/meanfield_model.hpp"

namespace izhinet {

/// One numeric configuration key of the mean field: how to read and set it.
struct param_binding {
  std::string key;  ///< as given, e.g. "population.*.eta_bar"
  enum class kind { population, fraction, g, e_r, tau_s, s_jump } what = kind::population;
  std::string field;                   ///< population field name (eta_bar, delta, alpha, a, b, w_jump, I_ext)
  int index = -1;                      ///< population (-1: every population, '*'), or presynaptic j
  int index2 = -1;                     ///< g: presynaptic j
  std::vector<double> base_fractions;  ///< fraction: the configured fractions

  double get(const model_spec& s) const;
  /// Sets the value (fraction k: the other fractions scaled to keep the sum 1).
  void set(model_spec& s, double value) const;
  /// The admissible range of the value (e.g. tau_s > 0, fraction in (0, 1)).
  double lo = -1e300, hi = 1e300;
  bool lo_open = false;
};

/// Parses `key` for `spec`; throws config_error naming the key (and the keys
/// that are valid) for a key the mean field does not depend on, a
/// non-numeric key, an index out of range or a time-dependent I_ext.
param_binding bind_parameter(const model_spec& spec, const std::string& key);

/// The exact mean field with free parameters (1 or 2 bindings): f(x, p) and
/// its analytic Jacobian in x; derivatives in p by central differences.
class parametrized_meanfield {
 public:
  parametrized_meanfield(const model_spec& base, std::vector<param_binding> params);
  int n() const { return n_; }
  int num_params() const { return static_cast<int>(params_.size()); }
  const std::vector<param_binding>& params() const { return params_; }
  /// Sets the parameter values (rebuilds the model only when they change).
  void set(const double* p);
  void f(const double* x, double* out) const { model_->rhs(0.0, x, out); }
  void jac(const double* x, double* J) const { model_->jacobian(0.0, x, J); }
  Eigen::VectorXd f(const Eigen::VectorXd& x) const;
  Eigen::MatrixXd jac(const Eigen::VectorXd& x) const;
  /// d f / d p_k at (x, p) (central difference, step 1e-6 (1 + |p_k|)).
  Eigen::VectorXd dfdp(const Eigen::VectorXd& x, const double* p, int k);
  /// The second derivative B(u, v) = sum_jk d^2 f / dx_j dx_k u_j v_k (exact: f is
  /// quadratic in x, so it is the change of the Jacobian along v applied to u).
  Eigen::VectorXcd B(const Eigen::VectorXcd& u, const Eigen::VectorXcd& v) const;
  model_spec spec_at(const double* p) const;

 private:
  Eigen::VectorXd Breal(const Eigen::VectorXd& u, const Eigen::VectorXd& v) const;
  model_spec base_;
  std::vector<param_binding> params_;
  std::vector<double> current_;
  std::unique_ptr<exact_meanfield> model_;
  int n_ = 0;
};

/// A curve G(X) = 0, X in R^{dim}, G in R^{dim-1}.
struct curve_problem {
  virtual ~curve_problem() = default;
  virtual int dim() const = 0;
  virtual void residual(const Eigen::VectorXd& X, Eigen::VectorXd& G) = 0;
  /// dG/dX, (dim-1) x dim; default: central differences of residual().
  virtual void jacobian(const Eigen::VectorXd& X, Eigen::MatrixXd& JG);
  /// Called after every accepted point (e.g. to update a normalisation); may change X.
  virtual void accepted(Eigen::VectorXd& X) {}
  /// Weights of the arclength inner product (default all 1).
  virtual double weight(int i) const { return 1.0; }
};

/// Options of the pseudo-arclength continuation.
struct continuation_options {
  double ds = 1e-3, ds_min = 1e-9, ds_max = 5e-2;
  int max_steps = 2000;
  int newton_max = 8;         ///< corrector iterations per step
  double newton_tol = 1e-10;  ///< max |G| and max |dX| (scaled) at convergence
  double max_angle = 0.15;    ///< radians between consecutive tangents; more: the step is halved
};

/// Newton on G(X) = 0 plus the arclength row t.(X - X_pred) = 0; returns the iterations or -1.
int correct(curve_problem& prob, Eigen::VectorXd& X, const Eigen::VectorXd& t, const continuation_options& o);
/// Newton on the square system G(X) = 0 with one coordinate `fixed` held (dim-1 unknowns).
/// Used to locate special points; returns true when converged to `tol`.
bool newton_square(curve_problem& prob, Eigen::VectorXd& X, int fixed, double tol, int max_iter = 30);
/// The unit tangent at X (oriented along `previous`).
Eigen::VectorXd tangent(curve_problem& prob, const Eigen::VectorXd& X, const Eigen::VectorXd& previous);

/// A located special point (special_points.json).
struct special_point {
  std::string type;                               ///< H, LP, BP, LPC, PD, NS, CP, BT, GH, ZH
  std::string branch;                             ///< the branch or curve it was found on
  std::vector<double> params;                     ///< values of the free parameters
  Eigen::VectorXd state;                          ///< equilibrium state, or a point of the orbit
  std::vector<std::complex<double>> eigenvalues;  ///< eigenvalues (EP) or Floquet multipliers (PO)
  bool multipliers = false;
  double frequency = 0, lyapunov = 0, period = 0;
  std::string note;
};

/// One computed point of a branch or curve (a row of branches.csv).
struct branch_point {
  std::string branch, kind;  ///< kind: EP, PO, H-curve, LP-curve
  std::vector<double> params;
  int stable = -1;  ///< 1 stable, 0 unstable, -1 not defined (curves)
  double period = 0;
  Eigen::VectorXd min, max, mean;  ///< per state variable (min = max = mean on an equilibrium)
  std::complex<double> leading{0, 0};
  bool has_leading = false;
};

/// Options of `izhinet bif`.
struct bif_options {
  std::vector<std::string> keys;  ///< 1 or 2
  double from = 0, to = 0, from2 = 0, to2 = 0;
  double p2_config = 0;  ///< KEY2's value in the configuration (set by run_bifurcation)
  int mesh = 40;         ///< collocation mesh intervals
  int ncol = 4;          ///< Gauss points per interval
  bool periodic = true;
  std::vector<double> user_points;  ///< KEY values where every branch reports a point exactly (type UZ)
  double max_period_factor = 20;    ///< a periodic branch stops when T exceeds this times its Hopf period
  continuation_options eq, po, curve;
  bif_options();
};

struct bif_result {
  std::vector<branch_point> points;
  std::vector<special_point> special;
  std::vector<std::string> messages;  ///< homoclinic ends, stops, failures (also logged)
};

/// The whole analysis; spec supplies every parameter not continued.
bif_result run_bifurcation(const model_spec& spec, const bif_options& options);

// ---- pieces (continuation.cpp, periodic_orbits.cpp, two_parameter.cpp) ----

/// Equilibrium branches through every equilibrium at options.from, in both directions.
void equilibrium_branches(parametrized_meanfield& sys, const bif_options& o, bif_result& out);
/// Periodic orbits from a Hopf point; appends PO rows and LPC/PD/NS points.
void periodic_branch(parametrized_meanfield& sys, const special_point& hopf, const std::string& name,
                     const bif_options& o, bif_result& out);
/// Two-parameter curves from every H and LP of the one-parameter analysis.
void two_parameter_curves(parametrized_meanfield& sys, const bif_options& o, bif_result& out);
/// First Lyapunov coefficient at a Hopf point (x, eigenvalue i omega) of sys at its current parameters.
double first_lyapunov(const parametrized_meanfield& sys, const Eigen::VectorXd& x, double* omega);

/// Writes branches.csv and special_points.json into `dir` (checked writers).
void write_bifurcation(const std::string& dir, const model_spec& spec, const bif_options& o, const bif_result& r,
                       double seconds);

}  // namespace izhinet
