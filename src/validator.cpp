/// \file validator.cpp
/// The mean-field validator thread and its metrics (definitions in validator.hpp).
#include "izhinet/validator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "izhinet/errors.hpp"
#include "izhinet/io.hpp"
#include "izhinet/meanfield.hpp"
#include "mf_json.hpp"

namespace izhinet {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Thresholds of the regime and agreement criteria (documented in validator.hpp).
constexpr double osc_ptp_rel = 0.05;
constexpr double osc_autocorr = 0.5;
constexpr int osc_min_periods = 2;
constexpr double agree_mean_rel = 0.05;
constexpr double agree_period_rel = 0.10;

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g %%", 100.0 * std::fabs(x));
  return buf;
}

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

}  // namespace

double deviation_stats::rms() const { return n > 0 ? std::sqrt(sum_sq / static_cast<double>(n)) : 0.0; }

series_analysis analyse_series(const std::vector<double>& t, const std::vector<double>& x, double transient) {
  series_analysis a;
  a.period = nan;
  std::vector<double> tt, xx;
  for (size_t k = 0; k < t.size() && k < x.size(); ++k)
    if (t[k] > transient && std::isfinite(x[k])) {
      tt.push_back(t[k]);
      xx.push_back(x[k]);
    }
  const size_t n = xx.size();
  a.samples = static_cast<int64_t>(n);
  if (n == 0) {
    a.mean = a.min = a.max = nan;
    return a;
  }
  double sum = 0;
  a.min = a.max = xx[0];
  for (double v : xx) {
    sum += v;
    a.min = std::min(a.min, v);
    a.max = std::max(a.max, v);
  }
  a.mean = sum / static_cast<double>(n);
  if (n < 16) return a;  // too short to call

  // centred moving average over ~1 time unit (<= span/50)
  const double span = tt.back() - tt.front();
  const double dts = span / static_cast<double>(n - 1);
  const double width = std::min(1.0, span / 50.0);
  const auto half = static_cast<size_t>(std::max(0.0, std::floor(0.5 * width / std::max(dts, 1e-300))));
  std::vector<double> prefix(n + 1, 0.0), sm(n);
  for (size_t k = 0; k < n; ++k) prefix[k + 1] = prefix[k] + xx[k];
  for (size_t k = 0; k < n; ++k) {
    const size_t lo = k >= half ? k - half : 0, hi = std::min(n - 1, k + half);
    sm[k] = (prefix[hi + 1] - prefix[lo]) / static_cast<double>(hi + 1 - lo);
  }
  double smean = 0, svar = 0;
  for (double v : sm) smean += v;
  smean /= static_cast<double>(n);
  for (double v : sm) svar += (v - smean) * (v - smean);
  svar /= static_cast<double>(n);

  // (1) late peak-to-peak relative to the mean
  double lmin = sm[3 * n / 4], lmax = lmin;
  for (size_t k = 3 * n / 4; k < n; ++k) {
    lmin = std::min(lmin, sm[k]);
    lmax = std::max(lmax, sm[k]);
  }
  a.late_ptp_rel = std::fabs(smean) > 0 ? (lmax - lmin) / std::fabs(smean) : (lmax > lmin ? INFINITY : 0.0);

  // (2) autocorrelation of the decimated smoothed series
  if (svar > 0) {
    const size_t stride = std::max<size_t>(1, n / 4000);
    std::vector<double> d;
    for (size_t k = 0; k < n; k += stride) d.push_back(sm[k] - smean);
    const size_t m = d.size();
    double c0 = 0;
    for (double v : d) c0 += v * v;
    bool past_zero = false;
    double peak = 0;
    for (size_t lag = 1; lag < m / 2; ++lag) {
      double c = 0;
      for (size_t k = 0; k + lag < m; ++k) c += d[k] * d[k + lag];
      c /= c0 * static_cast<double>(m - lag) / static_cast<double>(m);
      if (!past_zero) {
        if (c < 0) past_zero = true;
      } else {
        peak = std::max(peak, c);
      }
    }
    a.autocorr_peak = peak;
  }

  // (3) upward mean crossings with hysteresis
  std::vector<double> crossings;
  if (svar > 0) {
    const double h = 0.25 * std::sqrt(svar);
    bool armed = false;
    for (size_t k = 0; k < n; ++k) {
      if (sm[k] < smean - h) armed = true;
      if (armed && sm[k] > smean + h) {
        armed = false;
        // interpolate the crossing of the mean, searching back from k
        size_t j = k;
        while (j > 0 && sm[j - 1] >= smean) --j;
        double tc = tt[j];
        if (j > 0) {
          const double f = (smean - sm[j - 1]) / (sm[j] - sm[j - 1]);
          tc = tt[j - 1] + f * (tt[j] - tt[j - 1]);
        }
        crossings.push_back(tc);
      }
    }
  }
  a.periods = crossings.size() >= 2 ? static_cast<int>(crossings.size()) - 1 : 0;
  const bool osc = a.late_ptp_rel > osc_ptp_rel && a.autocorr_peak >= osc_autocorr && a.periods >= osc_min_periods;
  a.regime = osc ? "oscillation" : "equilibrium";
  if (osc) a.period = (crossings.back() - crossings.front()) / static_cast<double>(a.periods);
  return a;
}

// ---------------------------------------------------------------------------

validator::validator(const model_spec& spec, std::vector<double> record_times)
    : spec_(spec), times_(std::move(record_times)), P_(spec.num_populations()) {
  dopri5_options_from(spec_.meanfield);  // validate the tolerances now, on the caller's thread
  exact_meanfield check(spec_);          // and the sizes
  std::sort(times_.begin(), times_.end());
  running_.exact.resize(P_);
  running_.slow.resize(P_);
  worker_ = std::thread([this] { run(); });
}

validator::~validator() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lk(m_);
      finishing_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
}

void validator::push(const record_row& row) {
  {
    std::lock_guard<std::mutex> lk(m_);
    net_rows_.push_back(row);
  }
  cv_.notify_one();
}

void validator::push(const std::vector<record_row>& rows) {
  if (rows.empty()) return;
  {
    std::lock_guard<std::mutex> lk(m_);
    net_rows_.insert(net_rows_.end(), rows.begin(), rows.end());
  }
  cv_.notify_one();  // one wake-up per chunk: the worker competes less with the network's threads
}

running_deviation validator::current() const {
  std::lock_guard<std::mutex> lk(m_);
  return running_;
}

std::string validator::progress_line() const {
  const running_deviation d = current();
  std::ostringstream o;
  o << "mean-field deviation (" << d.rows << " rows, population 0 vs exact):";
  if (!d.exact.empty())
    for (int v = 0; v < 4; ++v)
      o << ' ' << variable_names[v] << " max " << num(d.exact[0][v].max_abs) << " rms " << num(d.exact[0][v].rms());
  return o.str();
}

int validator::nearest_record(double t) const {
  if (times_.empty()) return -1;
  auto it = std::lower_bound(times_.begin(), times_.end(), t);
  size_t k = static_cast<size_t>(it - times_.begin());
  if (k == times_.size() || (k > 0 && std::fabs(times_[k - 1] - t) < std::fabs(times_[k] - t))) --k;
  if (std::fabs(times_[k] - t) > 1e-6 * (1.0 + std::fabs(t))) return -1;
  return static_cast<int>(k);
}

void validator::run() {
  try {
    const dopri5_options opt = dopri5_options_from(spec_.meanfield);
    const double t_end = spec_.run.t_end;
    {
      try {
        const exact_meanfield model(spec_);
        const int n = model.dimension();
        integrate_dopri5([&](double t, const double* y, double* d) { model.rhs(t, y, d); }, model.initial_state(), 0.0,
                         t_end, times_, opt, [&](double, const double* y) { exact_rows_.emplace_back(y, y + n); });
      } catch (const numerical_error& e) {
        exact_failure_ = e.what();
        exact_failed_at_ = e.t_lo;
      } catch (const std::exception& e) {  // any other failure of this model: keep the other one
        exact_failure_ = e.what();
        exact_failed_at_ = exact_rows_.empty() ? 0.0 : times_[exact_rows_.size() - 1];
      }
    }
    {
      try {
        const slow_meanfield model(spec_, spec_.meanfield.slow_finite_peak);
        std::vector<double> R(P_);
        integrate_dopri5([&](double t, const double* y, double* d) { model.rhs(t, y, d); }, model.initial_state(), 0.0,
                         t_end, times_, opt,
                         [&](double t, const double* y) {
                           model.rates(t, y, R.data());
                           std::vector<double> row(4 * P_);
                           for (int i = 0; i < P_; ++i) {
                             row[4 * i] = R[i];
                             row[4 * i + 1] = nan;
                             row[4 * i + 2] = y[2 * i + 1];
                             row[4 * i + 3] = y[2 * i];
                           }
                           slow_rows_.push_back(std::move(row));
                         });
      } catch (const numerical_error& e) {
        slow_failure_ = e.what();
        slow_failed_at_ = e.t_lo;
      } catch (const std::exception& e) {  // any other failure of this model: keep the other one
        slow_failure_ = e.what();
        slow_failed_at_ = slow_rows_.empty() ? 0.0 : times_[slow_rows_.size() - 1];
      }
    }
    std::unique_lock<std::mutex> lk(m_);
    while (true) {
      compare_pending(lk);
      if (finishing_ && processed_ == net_rows_.size()) break;
      cv_.wait(lk, [&] { return finishing_ || net_rows_.size() > processed_; });
    }
  } catch (...) {
    worker_error_ = std::current_exception();
  }
}

void validator::compare_pending(std::unique_lock<std::mutex>& lk) {
  // Collect stable pointers (deque elements do not move on push_back), compare unlocked.
  std::vector<const record_row*> rows;
  for (size_t k = processed_; k < net_rows_.size(); ++k) rows.push_back(&net_rows_[k]);
  if (rows.empty()) return;
  running_deviation delta;
  delta.exact.resize(P_);
  delta.slow.resize(P_);
  lk.unlock();
  for (const record_row* row : rows) {
    const int k = nearest_record(row->t);
    if (k < 0) continue;
    ++delta.rows;
    const std::vector<double>* vals[4] = {&row->r, &row->v, &row->w, &row->s};
    for (int side = 0; side < 2; ++side) {
      const auto& mf = side == 0 ? exact_rows_ : slow_rows_;
      if (static_cast<size_t>(k) >= mf.size()) continue;
      auto& acc = side == 0 ? delta.exact : delta.slow;
      for (int i = 0; i < P_; ++i)
        for (int v = 0; v < 4; ++v) {
          if (static_cast<int>(vals[v]->size()) <= i) continue;
          const double m = mf[k][4 * i + v];
          const double net = (*vals[v])[i];
          if (!std::isfinite(m) || !std::isfinite(net)) continue;
          const double d = std::fabs(net - m);
          auto& s = acc[i][v];
          s.max_abs = std::max(s.max_abs, d);
          s.sum_sq += d * d;
          ++s.n;
        }
    }
  }
  lk.lock();
  processed_ += rows.size();
  running_.rows += delta.rows;
  for (int i = 0; i < P_; ++i)
    for (int v = 0; v < 4; ++v) {
      for (int side = 0; side < 2; ++side) {
        auto& to = side == 0 ? running_.exact[i][v] : running_.slow[i][v];
        const auto& from = side == 0 ? delta.exact[i][v] : delta.slow[i][v];
        to.max_abs = std::max(to.max_abs, from.max_abs);
        to.sum_sq += from.sum_sq;
        to.n += from.n;
      }
    }
}

// ---------------------------------------------------------------------------
// final report

namespace {

side_summary summarise(const std::string& name, const std::vector<double>& t,
                       const std::vector<std::vector<double>>& rows, int P, double transient, bool has_v) {
  side_summary s;
  s.name = name;
  s.rows = static_cast<int64_t>(rows.size());
  s.vars.resize(P);
  std::vector<double> tt(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(std::min(t.size(), rows.size())));
  for (int i = 0; i < P; ++i)
    for (int v = 0; v < 4; ++v) {
      if (v == var_v && !has_v) {
        s.vars[i][v].mean = s.vars[i][v].min = s.vars[i][v].max = s.vars[i][v].period = nan;
        continue;
      }
      std::vector<double> x(tt.size());
      for (size_t k = 0; k < tt.size(); ++k) x[k] = rows[k][4 * i + v];
      s.vars[i][v] = analyse_series(tt, x, transient);
    }
  s.available = !s.vars.empty() && s.vars[0][var_r].samples >= 16;
  return s;
}

comparison compare(const side_summary& net, const side_summary& mf, const std::vector<double>& net_t,
                   const std::vector<std::vector<double>>& net_rows, const std::vector<double>& mf_t,
                   const std::vector<std::vector<double>>& mf_rows, int P, double transient,
                   const std::string& mf_label) {
  comparison c;
  c.mf_name = mf.name;
  c.populations.resize(P);
  c.available = net.available && mf.available;
  if (!c.available) {
    for (auto& p : c.populations) {
      p.nrms.fill(nan);
      p.rel_mean_diff.fill(nan);
      p.rel_period_diff = nan;
    }
    if (!mf.failure.empty())
      c.verdict = mf_label + " failed at t = " + num(mf.failed_at) + ", no comparison";
    else if (!net.available)
      c.verdict = "too few network rows after the transient to compare with the " + mf_label;
    else
      c.verdict = mf_label + " has too few rows after the transient to compare";
    return c;
  }
  // NRMS over matched rows (same time within 1e-6 (1 + |t|)), t > transient
  for (int i = 0; i < P; ++i) {
    auto& p = c.populations[i];
    for (int v = 0; v < 4; ++v) {
      double dd = 0, mm = 0;
      int64_t cnt = 0;
      size_t j = 0;
      for (size_t k = 0; k < net_rows.size(); ++k) {
        const double t = net_t[k];
        if (t <= transient) continue;
        while (j < mf_rows.size() && j < mf_t.size() && mf_t[j] < t - 1e-6 * (1 + std::fabs(t))) ++j;
        if (j >= mf_rows.size() || j >= mf_t.size() || std::fabs(mf_t[j] - t) > 1e-6 * (1 + std::fabs(t))) continue;
        const double a = net_rows[k][4 * i + v], b = mf_rows[j][4 * i + v];
        if (!std::isfinite(a) || !std::isfinite(b)) continue;
        dd += (a - b) * (a - b);
        mm += b * b;
        ++cnt;
      }
      p.nrms[v] = (cnt > 0 && mm > 0) ? std::sqrt(dd / mm) : nan;
      const double m_net = net.vars[i][v].mean, m_mf = mf.vars[i][v].mean;
      p.rel_mean_diff[v] =
          (std::isfinite(m_net) && std::isfinite(m_mf) && m_mf != 0) ? (m_net - m_mf) / std::fabs(m_mf) : nan;
    }
    const auto& rn = net.vars[i][var_r];
    const auto& rm = mf.vars[i][var_r];
    p.same_regime = rn.regime == rm.regime;
    p.rel_period_diff =
        (rn.regime == "oscillation" && rm.regime == "oscillation") ? (rn.period - rm.period) / rm.period : nan;
    if (p.same_regime && rn.regime == "equilibrium")
      p.agree =
          std::fabs(p.rel_mean_diff[var_r]) <= agree_mean_rel && std::fabs(p.rel_mean_diff[var_w]) <= agree_mean_rel;
    else if (p.same_regime && rn.regime == "oscillation")
      p.agree = std::fabs(p.rel_period_diff) <= agree_period_rel;
  }
  c.agree = true;
  for (const auto& p : c.populations) c.agree = c.agree && p.agree;

  // verdict sentence
  std::ostringstream o;
  o << "network and " << mf_label << (c.agree ? " agree: " : " disagree: ");
  for (int i = 0; i < P; ++i) {
    const auto& p = c.populations[i];
    const auto& rn = net.vars[i][var_r];
    const auto& rm = mf.vars[i][var_r];
    if (i > 0) o << "; ";
    if (P > 1) o << "population " << i << ": ";
    if (p.same_regime) {
      o << "both " << rn.regime;
      if (rn.regime == "oscillation")
        o << ", period " << num(rn.period) << " vs " << num(rm.period) << " differs by " << percent(p.rel_period_diff)
          << ", late-time <w> by " << percent(p.rel_mean_diff[var_w]);
      else
        o << ", late-time r differs by " << percent(p.rel_mean_diff[var_r]) << ", <w> by "
          << percent(p.rel_mean_diff[var_w]);
    } else {
      o << "network " << rn.regime;
      if (rn.regime == "oscillation") o << " (period " << num(rn.period) << ")";
      o << ", mean field " << rm.regime;
      if (rm.regime == "oscillation") o << " (period " << num(rm.period) << ")";
      o << ", late-time r differs by " << percent(p.rel_mean_diff[var_r]);
    }
  }
  c.verdict = o.str();
  return c;
}

void write_csv(const std::string& path, const std::vector<double>& t, const std::vector<std::vector<double>>& rows,
               int P, bool has_v) {
  line_file f(path);
  std::string line = "t";
  for (int i = 0; i < P; ++i)
    for (int v = 0; v < 4; ++v)
      if (has_v || v != var_v) line += std::string(",") + variable_names[v] + std::to_string(i);
  f.line(line);
  for (size_t k = 0; k < rows.size() && k < t.size(); ++k) {
    line = format_time(t[k]);
    for (int i = 0; i < P; ++i)
      for (int v = 0; v < 4; ++v)
        if (has_v || v != var_v) csv_append(line, rows[k][4 * i + v]);
    f.line(line);
  }
  f.close();
}

void json_side(detail::json_writer& j, const std::string& key, const side_summary& s) {
  j.begin_object(key);
  j.value("available", s.available);
  j.value("rows", static_cast<long long>(s.rows));
  if (!s.failure.empty()) {
    j.value("failure", s.failure);
    j.value("failed_at", s.failed_at);
  } else {
    j.null("failure");
  }
  j.begin_array("populations");
  for (const auto& pop : s.vars) {
    j.begin_object();
    j.value("regime", pop[var_r].regime);
    j.value("period", pop[var_r].period);
    j.value("periods_detected", pop[var_r].periods);
    j.value("late_ptp_rel_r", pop[var_r].late_ptp_rel);
    j.value("autocorr_peak_r", pop[var_r].autocorr_peak);
    for (int v = 0; v < 4; ++v) {
      if (pop[v].samples == 0 && v == var_v) continue;
      j.begin_object(variable_names[v]);
      j.value("mean", pop[v].mean);
      j.value("min", pop[v].min);
      j.value("max", pop[v].max);
      j.end_object();
    }
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

void json_comparison(detail::json_writer& j, const std::string& key, const comparison& c, const running_deviation& rd,
                     bool exact) {
  j.begin_object(key);
  j.value("available", c.available);
  j.value("agree", c.agree);
  j.value("verdict", c.verdict);
  j.begin_array("populations");
  for (size_t i = 0; i < c.populations.size(); ++i) {
    const auto& p = c.populations[i];
    j.begin_object();
    j.value("same_regime", p.same_regime);
    j.value("agree", p.agree);
    j.value("rel_period_diff", p.rel_period_diff);
    for (int v = 0; v < 4; ++v) {
      if (!exact && v == var_v) continue;
      const auto& dev = exact ? rd.exact[i][v] : rd.slow[i][v];
      j.begin_object(variable_names[v]);
      j.value("nrms", p.nrms[v]);
      j.value("rel_mean_diff", p.rel_mean_diff[v]);
      j.value("running_max_abs", dev.max_abs);
      j.value("running_rms", dev.rms());
      j.end_object();
    }
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

}  // namespace

std::string validation_report::verdict() const {
  std::string s = vs_exact.verdict;
  if (!vs_slow.verdict.empty())
    s += " (slow-adaptation mean field: " +
         (vs_slow.available ? std::string(vs_slow.agree ? "agrees" : "disagrees") : vs_slow.verdict) + ")";
  if (!error.empty()) s += " [validator error: " + error + "]";
  return s;
}

validation_report validator::finish(const std::string& out_dir) {
  validation_report rep;
  rep.transient = spec_.meanfield.transient;
  if (finished_) {
    rep.error = "finish() called twice";
    return rep;
  }
  finished_ = true;
  {
    std::lock_guard<std::mutex> lk(m_);
    finishing_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (worker_error_) {
    try {
      std::rethrow_exception(worker_error_);
    } catch (const std::exception& e) {
      rep.error = e.what();
    } catch (...) {
      rep.error = "unknown exception in the validator thread";
    }
    spdlog::error("mean-field validator: {}", rep.error);
  }
  try {
    rep.running = running_;
    const double tr = spec_.meanfield.transient;
    // network rows as [r,v,w,s]*P at their own times
    std::vector<double> net_t;
    std::vector<std::vector<double>> net_rows;
    for (const auto& row : net_rows_) {
      net_t.push_back(row.t);
      std::vector<double> x(4 * P_, nan);
      const std::vector<double>* vals[4] = {&row.r, &row.v, &row.w, &row.s};
      for (int i = 0; i < P_; ++i)
        for (int v = 0; v < 4; ++v)
          if (static_cast<int>(vals[v]->size()) > i) x[4 * i + v] = (*vals[v])[i];
      net_rows.push_back(std::move(x));
    }
    rep.network = summarise("network", net_t, net_rows, P_, tr, true);
    rep.exact = summarise("exact mean field", times_, exact_rows_, P_, tr, true);
    rep.slow = summarise("slow-adaptation mean field", times_, slow_rows_, P_, tr, false);
    rep.exact.failure = exact_failure_;
    rep.exact.failed_at = exact_failed_at_;
    rep.slow.failure = slow_failure_;
    rep.slow.failed_at = slow_failed_at_;
    if (!exact_failure_.empty()) spdlog::warn("exact mean field: {}", exact_failure_);
    if (!slow_failure_.empty()) spdlog::warn("slow-adaptation mean field: {}", slow_failure_);
    rep.vs_exact = compare(rep.network, rep.exact, net_t, net_rows, times_, exact_rows_, P_, tr, "exact mean field");
    rep.vs_slow =
        compare(rep.network, rep.slow, net_t, net_rows, times_, slow_rows_, P_, tr, "slow-adaptation mean field");

    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) throw io_error(out_dir, ec.value(), "create folder");
    write_csv(out_dir + "/meanfield.csv", times_, exact_rows_, P_, true);
    write_csv(out_dir + "/meanfield_slow.csv", times_, slow_rows_, P_, false);

    detail::json_writer j;
    j.begin_object();
    detail::write_model(j, spec_);
    j.begin_object("criteria");
    j.value("regime",
            "oscillation iff late peak-to-peak of smoothed r > 5 % of mean, autocorrelation peak >= 0.5, >= 2 periods");
    j.value("period", "mean spacing of upward mean crossings (hysteresis std/4) of r smoothed over 1 time unit");
    j.value("nrms", "RMS(net - mf) / RMS(mf) over t > transient");
    j.value("agreement", "same regime; equilibria: late mean r and w within 5 %; oscillations: periods within 10 %");
    j.end_object();
    j.value("verdict", rep.verdict());
    j.value("running_rows", static_cast<long long>(rep.running.rows));
    json_side(j, "network", rep.network);
    json_side(j, "exact", rep.exact);
    json_side(j, "slow", rep.slow);
    json_comparison(j, "network_vs_exact", rep.vs_exact, rep.running, true);
    json_comparison(j, "network_vs_slow", rep.vs_slow, rep.running, false);
    if (!rep.error.empty())
      j.value("error", rep.error);
    else
      j.null("error");
    j.end_object();
    write_json(out_dir + "/validation.json", j.root());
  } catch (const io_error&) {
    throw;  // a file could not be written: the caller stops (exit_io)
  } catch (const std::exception& e) {
    rep.error += (rep.error.empty() ? "" : "; ") + std::string(e.what());
    spdlog::error("mean-field validator: {}", e.what());
  }
  return rep;
}

}  // namespace izhinet
