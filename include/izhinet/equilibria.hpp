#pragma once
/// \file equilibria.hpp
/// All equilibria with r > 0 of the exact mean field at one parameter set.
/// (Branches of equilibria in a parameter: continuation.hpp.)
#include <complex>
#include <vector>

#include "izhinet/meanfield_model.hpp"

namespace izhinet {

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

}  // namespace izhinet
