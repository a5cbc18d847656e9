/// \file numerical_checks.cpp
/// Step-size warnings of the network schemes (see numerical_checks.hpp).
#include "izhinet/numerical_checks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "izhinet/sampling.hpp"
#include "izhinet/series_analysis.hpp"
#include "izhinet/validation_criteria.hpp"

namespace izhinet {

namespace {

std::string num(double x) { return short_number(x); }

}  // namespace

double paper_reset_factor(double dt, double v_peak, double v_reset) {
  return dt * (std::fabs(v_reset) + dt * v_peak * v_peak);
}

double paper_dt_limit(double v_peak, double v_reset, double q) {
  const double a = v_peak * v_peak, b = std::fabs(v_reset);
  if (a == 0) return b > 0 ? q / b : INFINITY;
  return (-b + std::sqrt(b * b + 4 * a * q)) / (2 * a);  // root of a dt^2 + b dt - q
}

double largest_input(const input_spec& in) {
  double m = in.value;
  for (double v : in.values) m = std::max(m, v);
  return m;
}

double largest_eta(const model_spec& spec, int population, const replica_spec& replica, const std::atomic<bool>* stop) {
  const auto sizes = population_sizes(spec, replica.n);
  const int64_t n = sizes[static_cast<size_t>(population)];
  const auto& p = spec.populations[static_cast<size_t>(population)];
  if (spec.network.sampling == sampling_kind::quantiles) return lorentz_quantile(p.eta_bar, p.delta, n, n);
  double m = -INFINITY;
  for (int64_t k = 0; k < n; ++k) {
    if ((k & ((int64_t{1} << 20) - 1)) == 0 && stop && stop->load(std::memory_order_relaxed))
      return std::numeric_limits<double>::quiet_NaN();
    m = std::max(m, lorentz_random(p.eta_bar, p.delta, replica.seed, static_cast<uint64_t>(k),
                                   static_cast<uint32_t>(population)));
  }
  return m;
}

std::vector<std::string> scheme_warnings(const model_spec& spec, const replica_spec& replica,
                                         const std::atomic<bool>* stop) {
  std::vector<std::string> w;
  const double dt = spec.run.dt;
  for (int i = 0; i < spec.num_populations(); ++i) {
    const auto& p = spec.populations[static_cast<size_t>(i)];
    const std::string pop = spec.num_populations() > 1 ? " of population " + std::to_string(i) : "";
    if (spec.run.scheme == scheme_kind::paper) {
      const double q = paper_reset_factor(dt, p.v_peak, p.v_reset);
      if (q > criteria::paper_reset_factor_warn)
        w.push_back("paper scheme: dt (|v_reset| + dt v_peak^2) = " + num(q) + pop + " (dt = " + num(dt) +
                    ", v_peak = " + num(p.v_peak) + ", v_reset = " + num(p.v_reset) +
                    "): forward Euler after a reset is unstable above 1 and the network is then far from the mean "
                    "field (measured: 8 % at 1.05, 32 % at 1.44); use dt <= " +
                    num(paper_dt_limit(p.v_peak, p.v_reset, criteria::paper_reset_factor_warn)) +
                    " or the exact scheme");
    } else {
      const double eta = largest_eta(spec, i, replica, stop);
      if (!std::isfinite(eta)) continue;
      const double H = eta + largest_input(p.I_ext);
      // The step turns the phase by 2 atan(x/2) instead of x = dt sqrt(H) (exact_step):
      // that neuron fires slower by the factor 2 atan(x/2)/x.
      const double x = H > 0 ? dt * std::sqrt(H) : 0.0;
      const double slow = x > 0 ? 1.0 - 2.0 * std::atan(0.5 * x) / x : 0.0;
      if (slow > criteria::exact_rate_error_warn) {
        double lo = 0, hi = x;  // the x at which the slow-down is the bound
        for (int it = 0; it < 60; ++it) {
          const double mid = 0.5 * (lo + hi);
          (1.0 - 2.0 * std::atan(0.5 * mid) / mid > criteria::exact_rate_error_warn ? hi : lo) = mid;
        }
        w.push_back("exact scheme: the largest eta" + pop + " (eta = " + num(eta) +
                    ", N = " + std::to_string(population_sizes(spec, replica.n)[static_cast<size_t>(i)]) + ") fires " +
                    num(100 * slow) + " % too slowly (dt sqrt(eta + I) = " + num(x) +
                    "; the step turns the phase by 2 atan(x/2) instead of x); use dt <= " + num(lo / std::sqrt(H)));
      }
    }
  }
  return w;
}

}  // namespace izhinet
