#pragma once
/// \file dopri5.hpp
/// The adaptive Dormand–Prince 5(4) integrator with dense output, and the
/// trajectories of the mean-field models from their initial state.
#include <cstdint>
#include <functional>
#include <vector>

#include "izhinet/errors.hpp"
#include "izhinet/meanfield_model.hpp"

namespace izhinet {

/// Options of the Dormand–Prince 5(4) integrator.
struct dopri5_options {
  double rtol = 1e-8;      ///< relative tolerance (key meanfield.rtol), > 0
  double atol = 1e-10;     ///< absolute tolerance (key meanfield.atol), > 0
  double h_initial = 0.0;  ///< first step; 0 = automatic (Hairer's estimate)
  double h_max = 0.0;      ///< largest step; 0 = |t1 - t0|
  int64_t max_steps = 100000000;
  /// When > 0: an integration that DOPRI5's stiffness test finds stiff
  /// (Hairer's: h |lambda| > 3.25 over 15 accepted steps in a row, lambda
  /// estimated from the last two stages) and that has taken more than this
  /// many steps throws stiff_error instead of crawling on at the stability
  /// limit (0: never; the integration goes on, however slowly).
  int64_t stiff_max_steps = 0;
};

/// A stiff problem given up (dopri5_options::stiff_max_steps).
class stiff_error : public numerical_error {
 public:
  using numerical_error::numerical_error;
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

}  // namespace izhinet
