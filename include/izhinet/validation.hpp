#pragma once
/// \file validation.hpp
/// The validator's report and how its verdict is reached (the worker thread
/// that gathers the data is in validator.hpp, the files in validation_output.hpp).
///
/// Sides: the network (replica 0), and each mean field (exact and slow
/// adaptation, docs/meanfield.md) in two forms: its trajectory from
/// the network's initial state at the network's record times (meanfield.csv),
/// and — for a constant input — its attractors at this parameter point
/// (attractors.hpp).
///
/// Verdict of the network against one mean field (`comparison::outcome`):
/// - "no verdict": the run was interrupted or diverged at t; only the running
///   deviations up to the last row both sides reached are reported;
/// - "unavailable": the mean field failed (its failure is reported);
/// - constant input: the network's late window (t > meanfield.transient) is
///   analysed (series_analysis.hpp) and compared with the mean-field attractor
///   nearest to it (distance: the late mean, min and max of r and w of every
///   population, each in units of the largest |value| of that variable over
///   all attractors); if several attractors coexist the sentence says which
///   one and where the mean field goes from the network's initial state. If
///   the search found none, the trajectory's window is the reference.
///   "inconclusive" when the network's window is (the reason says why and
///   which t_end would do); "disagree" when the regimes differ; otherwise
///   "agree" iff every judged statistic is within its tolerance
///   (validation_criteria.hpp): the period (oscillations) and the late mean,
///   min and max of each variable;
/// - input with steps: the same per segment of constant input, on the part of
///   each segment after min(meanfield.transient, half its length), against
///   the trajectory over the same part; disagree if a segment disagrees, else
///   inconclusive if one is, else agree. The response to each step (onset of
///   the first burst, segment_comparison) is reported, not judged;
/// - input given as a table (varying continuously): no regime exists; only
///   NRMS(<w>) over t > transient is compared (criteria::tol_nrms_w), and the
///   sentence says so.
/// Matched metrics (against the trajectory, row by row at the same times,
/// t > transient): NRMS = RMS(x_net - x_mf)/RMS(x_mf) and the relative
/// difference of the means over those rows. Running deviations cover every
/// row, the transient included.
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "izhinet/attractors.hpp"
#include "izhinet/series_analysis.hpp"

namespace izhinet {

/// Max |difference| and running sum of squares.
struct deviation_stats {
  double max_abs = 0, sum_sq = 0;
  int64_t n = 0;
  double rms() const;
};

/// Running deviations network vs mean fields, per population and variable (r, v, w, s).
struct running_deviation {
  int64_t rows = 0;  ///< network rows compared
  std::vector<std::array<deviation_stats, 4>> exact;
  std::vector<std::array<deviation_stats, 4>> slow;  ///< v unused
};

/// One judged (or reported) statistic.
struct stat_check {
  double net = std::numeric_limits<double>::quiet_NaN();
  double ref = std::numeric_limits<double>::quiet_NaN();
  double rel_diff = std::numeric_limits<double>::quiet_NaN();  ///< (net - ref)/max(|ref|, rel_floor S)
  double tol = std::numeric_limits<double>::quiet_NaN();       ///< NaN: reported, not judged
  bool judged = false;                                         ///< tol and both values finite
  bool pass = true;
};

/// Statistics of one variable compared: mean, min, max.
using shape_check = std::array<stat_check, 3>;
constexpr const char* stat_names[3] = {"mean", "min", "max"};

struct population_comparison {
  std::array<shape_check, 4> shape;           ///< per variable r, v, w, s
  std::array<double, 4> nrms{};               ///< matched rows, t > transient (NaN where not defined)
  std::array<double, 4> matched_mean_diff{};  ///< (mean_net - mean_mf)/|mean_mf| over the matched rows
};

/// One segment of constant input (steps input).
struct segment_comparison {
  double t_start = 0;           ///< where the segment's input begins
  double t_from = 0, t_to = 0;  ///< the part compared
  window_analysis network, meanfield;
  std::string outcome, sentence;
  stat_check period;
  std::vector<std::array<shape_check, 4>> shape;  ///< per population and variable
  /// Response to the step (reported, not judged): time from t_start until r
  /// of population 0, smoothed, first crosses the middle of its late range
  /// upwards (the first burst) — only where that side oscillates in the
  /// segment; NaN otherwise.
  double onset_network = std::numeric_limits<double>::quiet_NaN();
  double onset_meanfield = std::numeric_limits<double>::quiet_NaN();
};

/// Network compared with one mean field.
struct comparison {
  std::string mf_name;
  std::string outcome = "unavailable";  ///< agree | disagree | inconclusive | no verdict | unavailable
  std::string reference;                ///< what the network was compared with, in words
  int attractor = -1;                   ///< index into the mean field's attractors (-1: its trajectory)
  std::string regime_net, regime_ref;
  std::string reason;  ///< for inconclusive / unavailable / no verdict
  stat_check period;
  std::vector<population_comparison> pops;
  std::vector<segment_comparison> segments;
  std::string sentence;         ///< one sentence for the closing log line
  std::vector<int> rhythm_var;  ///< per population, for the sentence (var_w when empty)
  bool agree() const { return outcome == "agree"; }
};

/// One mean field's side.
struct meanfield_side {
  std::string name;
  bool available = false;  ///< integrated over the whole compared span
  std::string failure;     ///< empty, or what went wrong
  double failed_at = 0;
  int64_t rows = 0;            ///< trajectory rows produced (record times)
  window_analysis trajectory;  ///< its late window, analysed as the network's
  bool searched = false;       ///< attractors searched (constant input, completed run)
  std::string search_note;     ///< why not searched, or empty
  attractor_search_result attractors;
  int from_initial_state = -1;  ///< attractor reached from the network's initial state (-1: unknown)
};

/// Everything finish() found out.
struct validation_report {
  std::string status = "completed";  ///< completed | interrupted | diverged (the run's outcome)
  double t_end = 0, t_reached = 0;
  double t_compared = 0;  ///< last time both sides reached (running deviations up to here)
  double transient = 0;
  std::string input = "constant";     ///< constant | steps | table
  std::vector<std::string> warnings;  ///< numerical warnings about the network's scheme
  window_analysis network;
  meanfield_side exact, slow;
  comparison vs_exact, vs_slow;
  running_deviation running;
  std::string error;  ///< unexpected failure of the validator itself (empty if none)
  /// One sentence for the closing log line: the verdict against the exact
  /// mean field with its shape, then the slow model's in brackets.
  std::string verdict() const;
  /// Exit status for `--require-agreement`: 0 when the network agrees with
  /// the exact mean field, criteria::exit_disagreement, or
  /// criteria::exit_inconclusive (also for an unavailable mean field).
  int require_agreement_status() const;
};

/// What the run's loop reports to the validator at the end.
struct run_outcome {
  enum class status { completed, interrupted, diverged };
  status state = status::completed;
  double t_reached = 0;
};

/// Inputs of the comparison beyond the two sides' analyses.
struct comparison_inputs {
  std::string input_kind = "constant";
  std::vector<double> segment_starts;  ///< steps input: start of each constant segment (first 0)
  double transient = 0;
  std::vector<int> rhythm_var;
};

/// Nearest attractor to the network's window statistics (-1 if none); see the file comment.
int nearest_attractor(const window_analysis& net, const std::vector<mf_attractor>& attractors);

/// Shape and period checks of `net` against reference statistics.
void check_shape(const std::vector<std::array<variable_stats, 4>>& net,
                 const std::vector<std::array<variable_stats, 4>>& ref, std::vector<std::array<shape_check, 4>>& out);
stat_check check_period(double net, double ref);

/// Regime, shape and period verdict of a network window against a reference
/// (an attractor or a trajectory window), filling c.outcome, c.period, c.pops[*].shape,
/// c.regime_*, c.reason and c.sentence (without the leading "network and ... ").
void judge_constant(const window_analysis& net, const window_analysis& ref_window, comparison& c);
/// The same against an attractor.
void judge_constant(const window_analysis& net, const mf_attractor& ref, comparison& c);

/// The whole comparison of the network with one mean field (see the file
/// comment): `net_blocks` and `mf_blocks` are the recorded series (for the
/// segments of a steps input), `matched` the matched metrics per population.
comparison compare_network(const validation_report& rep, const meanfield_side& mf, const comparison_inputs& in,
                           const block_series& net_blocks, const block_series& mf_blocks,
                           const std::vector<population_comparison>& matched);

}  // namespace izhinet
