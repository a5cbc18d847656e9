#pragma once
/// \file numerical_checks.hpp
/// Warnings about the network scheme's step size at the given parameters
/// (thresholds and their measurement in validation_criteria.hpp):
/// - `paper` scheme: q = dt (|v_reset| + dt v_peak^2) > criteria::paper_reset_factor_warn
///   (forward Euler right after a reset is unstable for q > 1);
/// - `exact` scheme: the largest eta of the sample fires slower than its
///   analytic rate by more than criteria::exact_rate_error_warn: the step
///   turns its phase by 2 atan(x/2) instead of x = dt sqrt(eta + I_max) (never
///   a lost spike, but a slower neuron). The synaptic drive and adaptation are
///   left out of H = eta + I (the drive of the fastest neurons is dominated by eta).
#include <atomic>
#include <string>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/params.hpp"

namespace izhinet {

/// q = dt (|v_reset| + dt v_peak^2) of a population (paper scheme).
double paper_reset_factor(double dt, double v_peak, double v_reset);
/// Largest dt with paper_reset_factor(dt, v_peak, v_reset) <= q.
double paper_dt_limit(double v_peak, double v_reset, double q);

/// Largest eta of population i's sample in a network of `replica.n` neurons
/// (seed replica.seed): closed form for quantiles, every draw for random
/// samples (polls `stop` every 2^20 draws; returns NaN when stopped).
double largest_eta(const model_spec& spec, int population, const replica_spec& replica,
                   const std::atomic<bool>* stop = nullptr);
/// Largest value the input of population i takes.
double largest_input(const input_spec& in);

/// The warnings (empty: none); one sentence each, naming the population, the
/// value, the bound and the dt that would satisfy it.
std::vector<std::string> scheme_warnings(const model_spec& spec, const replica_spec& replica,
                                         const std::atomic<bool>* stop = nullptr);

}  // namespace izhinet
