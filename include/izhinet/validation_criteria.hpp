#pragma once
/// \file validation_criteria.hpp
/// Every number the validator's verdict depends on, in one place. The
/// `criteria` object of validation.json and the criteria table of README.md
/// are generated from `criteria_table()` (a test checks that README.md holds
/// the text `criteria_markdown()` produces), so code, output and
/// documentation cannot drift apart.
///
/// How the numbers are used (definitions in series_analysis.hpp,
/// attractors.hpp and validation.hpp):
/// - every series (network and mean field alike) is smoothed by a centred
///   moving average of `smooth_width` before its envelope and rhythm are taken;
/// - the *rhythm variable* of a population is <w> (s where the population
///   has no adaptation: a = b = w_jump = 0); its relative peak-to-peak over the
///   window decides between equilibrium and oscillation (`amp_equilibrium`);
/// - the period is the dominant lag of the autocorrelation of the rhythm
///   variables of all populations together (one period per network);
/// - a window holding fewer than `min_periods` periods, a rhythm with no
///   repeat, or an amplitude still growing or decaying gives "inconclusive";
/// - shape: late mean, min and max of each variable and the period, each with
///   its own tolerance below (NaN: reported, not judged, with the reason).
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace izhinet {
namespace criteria {

inline constexpr double not_judged = std::numeric_limits<double>::quiet_NaN();

/// Width (time units) of the centred moving average applied before envelopes
/// and rhythm are taken (removes the binning noise of a finite network's r).
inline constexpr double smooth_width = 1.0;
/// The attractor search gives up on a mean field that DOPRI5's stiffness test
/// finds stiff after this many steps of one integration (a few tenths of a
/// second; an inconclusive verdict, with a warning).
inline constexpr int64_t attractor_stiff_steps = 200000;
/// Relative peak-to-peak (max - min)/|mean| of the smoothed rhythm variable
/// below which a window is an equilibrium.
inline constexpr double amp_equilibrium = 0.02;
/// Lowest autocorrelation (Pearson, in [-1, 1]) that counts as a repeat.
inline constexpr double acf_min = 0.5;
/// The period is the smallest lag whose autocorrelation peak is at least this
/// fraction of the highest peak (rejects multiples 2T, 3T and the sub-peaks of
/// multi-peaked bursts, whose peaks are lower).
inline constexpr double acf_near_max = 0.9;
/// Largest lag searched, as a fraction of the window (the overlap at that lag
/// is 1 - this fraction of the window).
inline constexpr double max_lag_fraction = 0.75;
/// A window must hold at least this many periods for a regime and period.
inline constexpr double min_periods = 2.0;
/// Margin on the suggested t_end: transient + min_periods * margin * period.
inline constexpr double suggest_margin = 1.1;
/// Peak-to-peak of the second half of the window over that of the first half
/// outside [settle_ratio, 1/settle_ratio]: the oscillation is still growing or
/// decaying (inconclusive).
inline constexpr double settle_ratio = 0.5;
/// No repeat found: a window whose rhythm variable neither drifts (means of
/// its two halves differ by less than this fraction of its peak-to-peak) nor
/// anti-correlates (autocorrelation stays above -acf_min) is an equilibrium
/// with (finite-size) fluctuations; otherwise it is inconclusive.
inline constexpr double drift_max = 0.2;
/// Fewest samples in a window for any analysis.
inline constexpr int64_t min_samples = 32;
/// The validator keeps every recorded series as averages over blocks of
/// records at least `block_width` time units long (a tenth of the smoothing,
/// so the analysis sees the same series), and at most `max_blocks` of them:
/// a run longer than max_blocks x block_width (13107 time units) is averaged
/// in blocks twice, four times, ... as long (its resolution is then
/// t_end / max_blocks at worst). This bounds the memory per validator to
/// max_blocks x 12 bytes per variable, whatever t_end and record_every.
inline constexpr double block_width = 0.1;
inline constexpr int64_t max_blocks = 131072;
/// Rows the network may queue ahead of the validator's thread before push()
/// waits for it (bounds the queue's memory).
inline constexpr int64_t max_queued_rows = 32768;

/// Agreement tolerances: |relative difference| of the period and of each
/// variable's late mean, min and max. Relative differences are
/// (network - mean field)/max(|mean-field value|, rel_floor * S), S = the
/// variable's largest magnitude on the mean-field side (so values near 0,
/// such as the rate between bursts, are compared in units of S).
///
/// Measured (paper scheme, quantiles, against the mean-field attractor): at
/// the bursting point eta_bar = 0.12 the period differs by +1.6 % (N = 1e4)
/// and +0.9 % (N = 1e6), late means by < 0.3 %, but the lower edge of <w> by
/// -10 % (N = 1e4) and -8.5 % (N = 1e6): the moment closure <w_k> -> <w> of
/// the mean field, not finite size, so the edges of <w> get 15 %. Near the
/// upper Hopf point (eta_bar = 0.17, 0.18, 0.185; N = 1e4) the network's
/// period is 6.4-8.3 % longer than the mean field's (the paper's Fig. 2
/// disagreement), as in the two-population network (kappa = 0.8,
/// eta_bar = 0.12: +8.1 %): the period gets 5 %. At the tonic point
/// eta_bar = 0.25 the late means differ by 1.5-1.7 % (N = 1e4) and 4.4-4.7 %
/// (N = 1e3, random sampling): the means get 5 %.
inline constexpr double tol_period = 0.05;
inline constexpr double rel_floor = 0.1;
struct shape_tolerance {
  double mean, min, max;
  const char* why_not_judged;  ///< for the NaN entries
};
/// Per variable r, v, w, s.
inline constexpr shape_tolerance tol_shape[4] = {
    {0.05, not_judged, not_judged,
     "the network's min/max of r depend on N and the rate window (binning), not only on the dynamics"},
    {not_judged, not_judged, not_judged,
     "the paper scheme's <v> averages only neurons in [v_reset, v_peak] (13 % above the mean field at the tonic "
     "point), and <v> of the exact scheme is heavy-tailed in a finite network"},
    {0.05, 0.15, 0.15, ""},
    {0.05, not_judged, not_judged, "s follows the spike count: its min/max inherit the sharpness of r's peaks"},
};
/// For a time-varying input given as a table (linear interpolation): no
/// regime exists; the verdict is NRMS(<w>) <= this.
inline constexpr double tol_nrms_w = 0.05;

/// Numerical warnings. Paper scheme: after a reset a neuron sits at up to
/// |v_reset| + dt v_peak^2 (the reset mirrors the overshoot past v_peak), where
/// forward Euler on v' ~ v^2 amplifies errors by |1 + 2 v dt|: it is unstable
/// for q = dt (|v_reset| + dt v_peak^2) > 1. Measured at the tonic point
/// (v_peak = -v_reset = 200, N = 1e4): the network's late r and <w> stay within
/// 0.3 % of their small-dt values up to q = 0.96 (dt = 3e-3) and move by 8 %
/// at q = 1.05 (dt = 3.2e-3), 32 % at q = 1.44 (dt = 4e-3); a single neuron's
/// rate jumps from < 1 % to > 10 % error across q = 1
/// (tests/test_numerical_checks.cpp). The warning fires above:
inline constexpr double paper_reset_factor_warn = 0.9;
/// Exact scheme: its step turns the phase by 2 atan(x/2) instead of
/// x = dt sqrt(eta + I) (a Cayley map: never a lost spike, but a slower
/// neuron); warn when the largest eta of the sample fires slower than this
/// fraction (x about 0.78).
inline constexpr double exact_rate_error_warn = 0.05;

/// Exit statuses of `izhinet run --require-agreement` when the verdict is not
/// "agree" (the default stays 0).
inline constexpr int exit_disagreement = 10;
inline constexpr int exit_inconclusive = 11;

}  // namespace criteria

/// One documented criterion: name (JSON key), value, meaning.
struct criterion {
  std::string name;
  double value;
  std::string meaning;
};

/// All criteria, in the order README.md and validation.json list them.
std::vector<criterion> criteria_table();
/// The criteria as the Markdown table README.md holds.
std::string criteria_markdown();

}  // namespace izhinet
