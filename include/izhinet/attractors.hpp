#pragma once
/// \file attractors.hpp
/// The attractors of a mean field at one parameter point (constant input),
/// found from the mean field itself rather than from a window of one
/// trajectory: it is cheap, so each start is integrated as long as it takes
/// to settle.
///
/// - Stable equilibria of the exact model come from find_equilibria (all
///   eigenvalues with negative real part): they are attractors whether or not
///   a start reaches them.
/// - From every start the model is integrated in chunks until it settles:
///   (a) it comes within 1e-4 (relative, per component) of a known stable
///   equilibrium, or its range over a chunk falls below 1e-6 of each
///   component (an equilibrium found by integration); or (b) its returns
///   to a Poincaré section — the hyperplane through a point y* of the
///   trajectory normal to f(y*), crossed in the direction of f(y*) within a
///   quarter of the trajectory's extent from y* — converge: successive return
///   points closer than 1e-6 (in units of each component's range), or a
///   geometric approach (ratio of successive distances mu < 0.95) whose
///   remaining distance d mu/(1 - mu) is below 1e-4; and the orbit keeps its
///   extent over the next two periods to 1e-3 (a spiral into a focus has
///   converging returns too, but shrinks). The period is the time between
///   the last two returns. A start that settles by neither before
///   `t_max` is reported as a note, not guessed.
/// - The shape of an orbit is measured over one more period sampled at
///   min(T/4000, 0.05): the time average of each variable, and min and max of
///   the series smoothed by the same moving average as the network's
///   (periodic), so that network and mean field are compared alike.
/// Orbits are stable in the sense that forward integration converges to them.
#include <array>
#include <atomic>
#include <complex>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "izhinet/meanfield.hpp"
#include "izhinet/series_analysis.hpp"

namespace izhinet {

/// A mean-field model seen by the search: dimension, right-hand side, and the
/// map from a state to the recorded variables (4P numbers: r, v, w, s per
/// population; NaN where the model has no such variable).
struct mf_system {
  int dim = 0;
  int populations = 0;
  std::function<void(double, const double*, double*)> rhs;
  std::function<void(double, const double*, double*)> to_row;
  std::vector<int> rhythm_var;  ///< per population: var_w or var_s (series_analysis.hpp)
};

/// The exact model (state = row: r, v, w, s per population).
mf_system exact_system(const exact_meanfield& model, const std::vector<int>& rhythm_var);
/// The slow-adaptation model (state s, w per population; r = R(s, w); no v).
mf_system slow_system(const slow_meanfield& model, const std::vector<int>& rhythm_var);

/// One attractor.
struct mf_attractor {
  std::string kind;  ///< "equilibrium" or "orbit"
  double period = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> state;                        ///< a point on it (model coordinates)
  std::vector<std::array<variable_stats, 4>> pops;  ///< per population: r, v, w, s
  std::vector<double> rel_amplitude;  ///< per population: of the rhythm variable (as in the window analysis)
  double amplitude = 0;               ///< largest rel_amplitude
  std::vector<std::complex<double>> eigenvalues;  ///< equilibria from find_equilibria
  std::vector<std::string> reached_from;          ///< labels of the starts that settled on it
};

/// Label of the start at the mean field's initial state (the network's, 0).
inline constexpr const char* k_initial_state_label = "the initial state (as the network)";

struct attractor_start {
  std::string label;
  std::vector<double> state;  ///< model coordinates
};

struct attractor_search_options {
  double t_max = 1e5;                       ///< longest integration per start (time units)
  double smoothing = 1.0;                   ///< moving-average width for the envelope (time units)
  dopri5_options ode;                       ///< tolerances (meanfield.rtol, atol)
  const std::atomic<bool>* stop = nullptr;  ///< a stop request ends the search at once (complete = false)
};

struct attractor_search_result {
  std::vector<mf_attractor> attractors;
  std::vector<std::string> notes;  ///< starts that did not settle, failures
  bool complete = true;            ///< false when a stop request ended it, or a stiff system (stiff)
  bool stiff = false;              ///< given up: the system is stiff (attractor_search_options::ode.stiff_max_steps)
};

/// Searches the attractors of `sys`: the stable ones of `equilibria` (exact
/// model: from find_equilibria; each is listed first) and whatever the
/// `starts` settle on (an equilibrium reached by integration takes the state
/// and eigenvalues of a listed one within 1e-4, e.g. one that is marginal
/// because a population without adaptation keeps w constant). Never throws
/// for a failed start (it becomes a note), except internal_error.
attractor_search_result find_attractors(const mf_system& sys, const std::vector<equilibrium>& equilibria,
                                        const std::vector<attractor_start>& starts,
                                        const attractor_search_options& options);

/// Starts for the exact model: its initial state (the network's, 0), each
/// unstable equilibrium nudged (r + 1e-3 r), and each stable equilibrium with
/// the w of every adapting population (rhythm_var == var_w) scaled by 0.5 and
/// by 1.5 (to reach a large orbit that coexists with it; without adaptation w
/// is a constant, 0 as in the network); plus `extra` (e.g. the network's
/// final state).
std::vector<attractor_start> exact_starts(const exact_meanfield& model, const std::vector<equilibrium>& equilibria,
                                          const std::vector<attractor_start>& extra,
                                          const std::vector<int>& rhythm_var);

}  // namespace izhinet
