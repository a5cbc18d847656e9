/// \file validation_criteria.cpp
/// The criteria table that validation.json and README.md show (values from
/// validation_criteria.hpp).
#include "izhinet/validation_criteria.hpp"

#include <cmath>
#include <cstdio>

#include "izhinet/series_analysis.hpp"

namespace izhinet {

std::vector<criterion> criteria_table() {
  using namespace criteria;
  std::vector<criterion> t = {
      {"smooth_width", smooth_width,
       "time units of the centred moving average applied to every series (both sides) before envelopes and rhythm"},
      {"amp_equilibrium", amp_equilibrium,
       "equilibrium iff the relative peak-to-peak (max - min)/abs(mean) of the smoothed rhythm variable (<w>; s "
       "without adaptation) over the window's second half is below this in every population"},
      {"acf_min", acf_min,
       "an autocorrelation peak (Pearson over the overlap, in [-1, 1]) counts as a repeat from this"},
      {"acf_near_max", acf_near_max,
       "period = smallest lag whose peak reaches this fraction of the highest (rejects multiples and burst sub-peaks)"},
      {"max_lag_fraction", max_lag_fraction, "largest lag searched, as a fraction of the window"},
      {"min_periods", min_periods,
       "fewer periods than this in the late window: inconclusive, with the t_end that would hold them"},
      {"suggest_margin", suggest_margin, "margin on the suggested t_end = transient + min_periods x margin x period"},
      {"settle_ratio", settle_ratio,
       "peak-to-peak of the window's second half over its first outside [this, 1/this]: still settling, inconclusive"},
      {"drift_max", drift_max,
       "no repeat: equilibrium (with fluctuations) iff the two halves' means differ by less than this x peak-to-peak "
       "and the autocorrelation stays above -acf_min; else inconclusive"},
      {"min_samples", static_cast<double>(min_samples), "fewest points in a window for any analysis"},
      {"block_width", block_width,
       "series are kept as averages over blocks of records at least this long (time units)"},
      {"max_blocks", static_cast<double>(max_blocks),
       "most blocks kept per series: longer runs are averaged in blocks 2^j times as long (memory bound)"},
      {"tol_period", tol_period, "agreement: the periods differ by at most this fraction"},
      {"rel_floor", rel_floor,
       "relative differences divide by max(abs(mean-field value), this x the variable's largest mean-field magnitude)"},
  };
  for (int v = 0; v < 4; ++v) {
    const auto& s = tol_shape[v];
    const double vals[3] = {s.mean, s.min, s.max};
    const char* stat[3] = {"mean", "min", "max"};
    for (int k = 0; k < 3; ++k) {
      std::string meaning = std::isfinite(vals[k]) ? std::string("agreement: the late ") + stat[k] + " of " +
                                                         variable_names[v] + " differs by at most this fraction"
                                                   : std::string("late ") + stat[k] + " of " + variable_names[v] +
                                                         " reported, not judged: " + s.why_not_judged;
      t.push_back({std::string("tol_") + variable_names[v] + "_" + stat[k], vals[k], meaning});
    }
  }
  t.push_back(
      {"tol_nrms_w", tol_nrms_w, "input given as a table (varies continuously): agreement iff NRMS(<w>) <= this"});
  t.push_back(
      {"paper_reset_factor_warn", paper_reset_factor_warn,
       "paper scheme warning when dt (abs(v_reset) + dt v_peak^2) exceeds this (Euler is unstable after a reset "
       "above 1)"});
  t.push_back({"exact_rate_error_warn", exact_rate_error_warn,
               "exact scheme warning when the largest eta fires slower than this fraction (1 - 2 atan(x/2)/x, "
               "x = dt sqrt(eta + I))"});
  t.push_back({"exit_disagreement", static_cast<double>(exit_disagreement),
               "exit status of izhinet run --require-agreement on a disagreement"});
  t.push_back({"exit_inconclusive", static_cast<double>(exit_inconclusive),
               "exit status of izhinet run --require-agreement on an inconclusive verdict, an unavailable mean field, "
               "or no verdict"});
  return t;
}

std::string criteria_markdown() {
  std::string s = "| criterion | value | meaning |\n|---|---|---|\n";
  for (const auto& c : criteria_table()) {
    char buf[32];
    if (std::isfinite(c.value))
      std::snprintf(buf, sizeof buf, "%g", c.value);
    else
      std::snprintf(buf, sizeof buf, "—");
    s += "| `" + c.name + "` | " + buf + " | " + c.meaning + " |\n";
  }
  return s;
}

}  // namespace izhinet
