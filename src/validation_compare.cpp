/// \file validation_compare.cpp
/// Comparison of the network with a mean field and the verdict sentence
/// (definitions in validation.hpp; thresholds in validation_criteria.hpp).
#include <algorithm>
#include <complex>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "izhinet/validation.hpp"
#include "izhinet/hd.hpp"
#include "izhinet/validation_criteria.hpp"

namespace izhinet {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr const char* pretty_var[4] = {"r", "<v>", "<w>", "s"};

std::string num(double x) { return short_number(x); }

std::string signed_percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2g %%", 100.0 * x);
  return buf;
}

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g %%", 100.0 * x);
  return buf;
}

double tolerance_of(int v, int stat) {
  const auto& t = criteria::tol_shape[v];
  return stat == 0 ? t.mean : stat == 1 ? t.min : t.max;
}

}  // namespace

double deviation_stats::rms() const { return n > 0 ? std::sqrt(sum_sq / static_cast<double>(n)) : 0.0; }

stat_check check_period(double net, double ref) {
  stat_check s;
  s.net = net;
  s.ref = ref;
  s.tol = criteria::tol_period;
  if (std::isfinite(net) && std::isfinite(ref) && ref > 0) {
    s.rel_diff = (net - ref) / ref;
    s.judged = true;
    s.pass = std::fabs(s.rel_diff) <= s.tol;
  }
  return s;
}

void check_shape(const std::vector<std::array<variable_stats, 4>>& net,
                 const std::vector<std::array<variable_stats, 4>>& ref, std::vector<std::array<shape_check, 4>>& out) {
  out.assign(ref.size(), {});
  for (size_t i = 0; i < ref.size() && i < net.size(); ++i)
    for (int v = 0; v < 4; ++v) {
      const variable_stats& a = net[i][v];
      const variable_stats& b = ref[i][v];
      const double S = std::max(std::fabs(b.min), std::fabs(b.max));
      const double na[3] = {a.mean, a.min, a.max}, nb[3] = {b.mean, b.min, b.max};
      for (int k = 0; k < 3; ++k) {
        stat_check& s = out[i][v][k];
        s.net = na[k];
        s.ref = nb[k];
        s.tol = tolerance_of(v, k);
        const double den = std::max(std::fabs(nb[k]), criteria::rel_floor * S);
        if (std::isfinite(na[k]) && std::isfinite(nb[k]) && den > 0) s.rel_diff = (na[k] - nb[k]) / den;
        s.judged = std::isfinite(s.tol) && std::isfinite(s.rel_diff);
        s.pass = !s.judged || std::fabs(s.rel_diff) <= s.tol;
      }
    }
}

int nearest_attractor(const window_analysis& net, const std::vector<mf_attractor>& attractors) {
  if (attractors.empty()) return -1;
  const size_t P = net.pops.size();
  // scale per (population, variable): the largest |value| over all attractors
  std::vector<std::array<double, 4>> S(P, {0, 0, 0, 0});
  for (const auto& a : attractors)
    for (size_t i = 0; i < P && i < a.pops.size(); ++i)
      for (int v : {var_r, var_w}) {
        const double m = std::max(std::fabs(a.pops[i][v].min), std::fabs(a.pops[i][v].max));
        if (std::isfinite(m)) S[i][v] = std::max(S[i][v], m);
      }
  int best = -1;
  double best_d = INFINITY;
  for (size_t k = 0; k < attractors.size(); ++k) {
    double d = 0;
    for (size_t i = 0; i < P && i < attractors[k].pops.size(); ++i)
      for (int v : {var_r, var_w}) {
        if (!(S[i][v] > 0)) continue;
        const variable_stats &a = net.pops[i][v], &b = attractors[k].pops[i][v];
        for (auto [x, y] : {std::pair{a.mean, b.mean}, std::pair{a.min, b.min}, std::pair{a.max, b.max}})
          if (std::isfinite(x) && std::isfinite(y)) d += ((x - y) / S[i][v]) * ((x - y) / S[i][v]);
      }
    if (d < best_d) {
      best_d = d;
      best = static_cast<int>(k);
    }
  }
  return best;
}

namespace {

/// The verdict of `net` against reference statistics (see validation.hpp).
void judge(const window_analysis& net, const std::string& ref_regime, const std::string& ref_reason, double ref_period,
           double ref_amplitude, const std::vector<std::array<variable_stats, 4>>& ref, comparison& c) {
  std::vector<std::array<shape_check, 4>> shape;
  check_shape(net.pops, ref, shape);
  c.pops.resize(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) c.pops[i].shape = shape[i];
  c.regime_net = net.regime;
  c.regime_ref = ref_regime;
  const bool osc = net.regime == "oscillation" && ref_regime == "oscillation";
  c.period = check_period(net.period, ref_period);
  if (!osc) {
    c.period.judged = false;
    c.period.pass = true;
  }

  // every failing shape statistic, and the one closest to its tolerance
  std::vector<std::string> failing;
  std::string largest;
  double largest_frac = -1;
  for (size_t i = 0; i < shape.size(); ++i)
    for (int v = 0; v < 4; ++v)
      for (int k = 0; k < 3; ++k) {
        const stat_check& s = shape[i][v][k];
        if (!s.judged) continue;
        const std::string what = std::string(pretty_var[v]) + (shape.size() > 1 ? std::to_string(i) : "") + " " +
                                 stat_names[k] + " " + signed_percent(s.rel_diff);
        if (!s.pass) failing.push_back(what + " (tol " + percent(s.tol) + ")");
        const double frac = std::fabs(s.rel_diff) / s.tol;
        if (frac > largest_frac) {
          largest_frac = frac;
          largest = what + " of " + percent(s.tol);
        }
      }
  std::ostringstream o;
  if (net.regime == "inconclusive") {
    c.outcome = "inconclusive";
    c.reason = "network: " + net.reason;
    o << "inconclusive: " << net.reason;
  } else if (ref_regime == "inconclusive") {
    c.outcome = "inconclusive";
    c.reason = "mean field: " + ref_reason;
    o << "inconclusive: the mean field's window: " << ref_reason;
  } else if (net.regime != ref_regime) {
    c.outcome = "disagree";
    o << "disagree: network " << net.regime;
    if (net.regime == "oscillation") o << " (period " << num(net.period) << ")";
    o << ", mean field " << ref_regime;
    if (ref_regime == "oscillation") o << " (period " << num(ref_period) << ")";
    if (ref_regime == "equilibrium" && std::isfinite(ref_period))
      o << " (an orbit of period " << num(ref_period) << " and relative amplitude " << percent(ref_amplitude)
        << ", below " << percent(criteria::amp_equilibrium) << ")";
    if (!shape.empty() && shape[0][var_w][0].judged) o << "; <w> mean " << signed_percent(shape[0][var_w][0].rel_diff);
  } else {
    const bool ok = failing.empty() && c.period.pass;
    c.outcome = ok ? "agree" : "disagree";
    o << c.outcome << ": both " << net.regime;
    if (osc)
      o << ", period " << num(net.period) << " vs " << num(ref_period) << " (" << signed_percent(c.period.rel_diff)
        << ", tol " << percent(c.period.tol) << ")";
    // the envelope of the rhythm variable of every population, judged or not
    for (size_t i = 0; i < shape.size(); ++i) {
      const int v = i < c.rhythm_var.size() ? c.rhythm_var[i] : var_w;
      const shape_check& sc = shape[i][v];
      if (!std::isfinite(sc[0].rel_diff)) continue;
      o << "; " << pretty_var[v] << (shape.size() > 1 ? std::to_string(i) : "") << " mean "
        << signed_percent(sc[0].rel_diff) << ", min " << signed_percent(sc[1].rel_diff) << ", max "
        << signed_percent(sc[2].rel_diff);
    }
    if (ok) {
      if (!largest.empty()) o << "; all within tolerance (closest: " << largest << ")";
    } else {
      if (!c.period.pass)
        failing.insert(failing.begin(),
                       "period " + signed_percent(c.period.rel_diff) + " (tol " + percent(c.period.tol) + ")");
      o << "; out of tolerance: ";
      for (size_t k = 0; k < failing.size(); ++k) o << (k ? ", " : "") << failing[k];
    }
  }
  c.sentence = o.str();
}

/// Time from `a` until r of population 0 (smoothed) first crosses the middle
/// of its late range upwards, when `late` is an oscillation; NaN otherwise.
double burst_onset(const block_series& blocks, double a, double b, const window_analysis& late) {
  if (late.regime != "oscillation" || late.pops.empty()) return nan;
  const double mid = 0.5 * (late.pops[0][var_r].min + late.pops[0][var_r].max);
  const uniform_window w = extract_window(blocks, a, b);
  if (w.samples() < 2) return nan;
  const auto half = static_cast<int64_t>(std::floor(0.5 * std::max(criteria::smooth_width, w.h) / w.h + 1e-9));
  const std::vector<double> r = moving_average(w.ch[var_r], half);
  for (size_t k = 1; k < r.size(); ++k)
    if (r[k - 1] < mid && r[k] >= mid) return w.t0 + static_cast<double>(k) * w.h - a;
  return nan;
}

std::string describe(const mf_attractor& a) {
  if (a.kind == "orbit") return "the stable orbit of period " + num(a.period);
  std::string s = "the stable equilibrium";
  if (!a.pops.empty() && std::isfinite(a.pops[0][var_r].mean))
    s += std::string(" (r") + (a.pops.size() > 1 ? "0" : "") + " = " + num(a.pops[0][var_r].mean) + ")";
  return s;
}

}  // namespace

void judge_constant(const window_analysis& net, const window_analysis& ref, comparison& c) {
  judge(net, ref.regime, ref.reason, ref.regime == "oscillation" ? ref.period : nan, ref.amplitude, ref.pops, c);
}

void judge_constant(const window_analysis& net, const mf_attractor& ref, comparison& c) {
  // an orbit smaller than the equilibrium threshold is what the window analysis would call an equilibrium
  const bool osc = ref.kind == "orbit" && ref.amplitude >= criteria::amp_equilibrium;
  judge(net, osc ? "oscillation" : "equilibrium", "", ref.kind == "orbit" ? ref.period : nan, ref.amplitude, ref.pops,
        c);
  // A network that oscillates at the own frequency of a stable focus: the focus's damped oscillation.
  if (c.outcome != "disagree" || net.regime != "oscillation" || ref.kind != "equilibrium") return;
  const std::complex<double>* lead = nullptr;
  for (const auto& z : ref.eigenvalues)
    if (std::fabs(z.imag()) > 1e-12 && (!lead || z.real() > lead->real())) lead = &z;
  if (!lead || !(lead->real() < 0)) return;
  const double T_f = 2 * k_pi / std::fabs(lead->imag()), tau = -1.0 / lead->real();
  if (std::fabs(net.period / T_f - 1) > criteria::tol_period) return;
  const double W = net.t_to - net.t_from;
  std::ostringstream o;
  if (W < 3 * tau) {
    c.outcome = "inconclusive";
    const double t_need = round_up_2(net.t_from + 3 * tau);
    c.reason = "network: oscillates at the period of the stable focus's damped oscillation (" + num(T_f) +
               "), which decays in " + num(tau) + " time units, longer than a third of the window";
    o << "inconclusive: the network oscillates with period " << num(net.period)
      << ", the period of the damped oscillation around the mean field's stable focus (" << num(T_f) << ", decay time "
      << num(tau) << "): still settling, or sustained by finite-size fluctuations; run to t_end >= " << num(t_need)
      << " to tell";
    c.sentence = o.str();
  } else {
    c.sentence += " (at the period of the stable focus's own damped oscillation, " + num(T_f) + ", decay time " +
                  num(tau) + ": an oscillation the finite network sustains)";
  }
}

comparison compare_network(const validation_report& rep, const meanfield_side& mf, const comparison_inputs& in,
                           const block_series& net_blocks, const block_series& mf_blocks,
                           const std::vector<population_comparison>& matched) {
  comparison c;
  c.mf_name = mf.name;
  c.pops = matched;
  c.rhythm_var = in.rhythm_var;
  if (rep.status != "completed") {
    c.outcome = "no verdict";
    c.reason = "the run " + rep.status + " at t = " + num(rep.t_reached);
    c.sentence = "no verdict: the run " + rep.status + " at t = " + num(rep.t_reached) + " of " + num(rep.t_end) +
                 " (running deviations up to t = " + num(rep.t_compared) + " only)";
    c.reference = "nothing (no verdict on a truncated run)";
    return c;
  }
  if (!mf.available) {
    c.outcome = "unavailable";
    c.reason = mf.failure.empty() ? "no rows" : mf.failure;
    c.sentence = mf.failure.empty() ? "cannot be compared: no mean-field rows"
                                    : "cannot be compared: the mean field failed at t = " + num(mf.failed_at);
    return c;
  }
  if (in.input_kind == "table") {
    bool ok = true, any = false;
    std::ostringstream o;
    for (size_t i = 0; i < matched.size(); ++i) {
      const double e = matched[i].nrms[var_w];
      if (!std::isfinite(e)) continue;
      any = true;
      ok = ok && e <= criteria::tol_nrms_w;
      o << (i ? ", " : "") << "NRMS(<w>" << (matched.size() > 1 ? std::to_string(i) : "") << ") = " << num(e);
    }
    c.outcome = !any ? "inconclusive" : ok ? "agree" : "disagree";
    c.reference = "the mean field's trajectory, row by row";
    c.sentence = c.outcome + ": the input varies continuously (a table), so no regime is compared, only NRMS over " +
                 "t > " + num(in.transient) + ": " + (any ? o.str() : "no rows") + " (tol " +
                 percent(criteria::tol_nrms_w) + ")";
    return c;
  }
  if (in.input_kind == "steps") {
    c.reference = "the mean field's trajectory over the same part of each segment of constant input";
    int disagree = 0, inconclusive = 0;
    std::ostringstream o;
    for (size_t k = 0; k < in.segment_starts.size(); ++k) {
      const double a = in.segment_starts[k];
      if (a >= rep.t_reached) break;
      const double b =
          k + 1 < in.segment_starts.size() ? std::min(in.segment_starts[k + 1], rep.t_reached) : rep.t_reached;
      segment_comparison seg;
      seg.t_from = a + std::min(in.transient, 0.5 * (b - a));
      seg.t_to = b;
      seg.network = analyse_window(extract_window(net_blocks, seg.t_from, b), in.rhythm_var, seg.t_from);
      seg.meanfield = analyse_window(extract_window(mf_blocks, seg.t_from, b), in.rhythm_var, seg.t_from);
      for (auto* w : {&seg.network, &seg.meanfield})
        if (w->regime == "inconclusive" && k + 1 < in.segment_starts.size())
          w->reason += " (this segment ends at t = " + num(b) + ": lengthen it)";
      seg.t_start = a;
      if (k > 0) {
        seg.onset_network = burst_onset(net_blocks, a, b, seg.network);
        seg.onset_meanfield = burst_onset(mf_blocks, a, b, seg.meanfield);
      }
      comparison sc;
      sc.rhythm_var = in.rhythm_var;
      judge_constant(seg.network, seg.meanfield, sc);
      seg.outcome = sc.outcome;
      seg.sentence = sc.sentence;
      seg.period = sc.period;
      for (const auto& p : sc.pops) seg.shape.push_back(p.shape);
      disagree += seg.outcome == "disagree";
      inconclusive += seg.outcome == "inconclusive";
      o << (k ? "; " : "") << "segment [" << num(a) << ", " << num(b) << ") from t = " << num(seg.t_from) << ": "
        << seg.sentence;
      if (std::isfinite(seg.onset_network) || std::isfinite(seg.onset_meanfield))
        o << "; first burst " << num(seg.onset_network) << " vs " << num(seg.onset_meanfield) << " after the step";
      c.segments.push_back(std::move(seg));
    }
    c.outcome = disagree ? "disagree" : inconclusive || c.segments.empty() ? "inconclusive" : "agree";
    c.regime_net = c.regime_ref = "per segment";
    c.sentence = c.outcome + " (per segment of constant input): " + o.str();
    return c;
  }
  // constant input
  const auto& atts = mf.attractors.attractors;
  if (mf.searched && !atts.empty()) {
    const int k = nearest_attractor(rep.network, atts);
    c.attractor = k;
    judge_constant(rep.network, atts[static_cast<size_t>(k)], c);
    for (size_t i = 0; i < c.pops.size() && i < matched.size(); ++i) {
      c.pops[i].nrms = matched[i].nrms;
      c.pops[i].matched_mean_diff = matched[i].matched_mean_diff;
    }
    std::ostringstream r;
    r << describe(atts[static_cast<size_t>(k)]);
    if (atts.size() == 1) {
      r << ", the mean field's only attractor found here";
    } else {
      r << ", the nearest to the network of " << atts.size() << " coexisting attractors (";
      for (size_t j = 0; j < atts.size(); ++j) r << (j ? ", " : "") << describe(atts[j]);
      r << ")";
    }
    if (mf.from_initial_state >= 0 && mf.from_initial_state != k)
      r << "; from the network's initial state the mean field goes to "
        << describe(atts[static_cast<size_t>(mf.from_initial_state)]) << " instead";
    c.reference = r.str();
    if (atts.size() > 1 || (mf.from_initial_state >= 0 && mf.from_initial_state != k))
      c.sentence += " [compared with " + c.reference + "]";
  } else {
    judge_constant(rep.network, mf.trajectory, c);
    for (size_t i = 0; i < c.pops.size() && i < matched.size(); ++i) {
      c.pops[i].nrms = matched[i].nrms;
      c.pops[i].matched_mean_diff = matched[i].matched_mean_diff;
    }
    c.reference = "the mean field's trajectory over the same window" +
                  (mf.search_note.empty() ? std::string() : " (" + mf.search_note + ")");
    c.sentence += " [compared with " + c.reference + "]";
  }
  return c;
}

std::string validation_report::verdict() const {
  std::string s = "network and " + vs_exact.mf_name + " " + vs_exact.sentence;
  if (!vs_slow.sentence.empty()) {
    std::string short_slow = vs_slow.outcome;
    if (vs_slow.outcome == "agree") short_slow = "agrees";
    if (vs_slow.outcome == "disagree") short_slow = "disagrees";
    if (vs_slow.outcome == "unavailable") short_slow = vs_slow.sentence;
    s += " (" + vs_slow.mf_name + ": " + short_slow + ")";
  }
  if (!warnings.empty()) s += " [" + std::to_string(warnings.size()) + " numerical warning(s): see validation.json]";
  if (!error.empty()) s += " [validator error: " + error + "]";
  return s;
}

int validation_report::require_agreement_status() const {
  if (vs_exact.outcome == "agree") return 0;
  if (vs_exact.outcome == "disagree") return criteria::exit_disagreement;
  return criteria::exit_inconclusive;
}

}  // namespace izhinet
