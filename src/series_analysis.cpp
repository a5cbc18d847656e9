/// \file series_analysis.cpp
/// Bounded block recorder and the window analysis (definitions in series_analysis.hpp).
#include "izhinet/series_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <unsupported/Eigen/FFT>

#include "izhinet/errors.hpp"
#include "izhinet/validation_criteria.hpp"

namespace izhinet {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::string num(double x) { return short_number(x); }

std::string two_digits(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", x);
  return buf;
}

}  // namespace

double round_up_2(double x) {
  if (!(x > 0) || !std::isfinite(x)) return x;
  const double step = std::pow(10.0, std::floor(std::log10(x)) - 1);
  return std::ceil(x / step - 1e-9) * step;
}

namespace {

/// Replaces non-finite values by linear interpolation between finite
/// neighbours (nearest finite value at the ends). False if none is finite.
bool fill_gaps(std::vector<double>& x) {
  const size_t n = x.size();
  size_t last = n;  // index of the last finite value seen
  for (size_t k = 0; k < n; ++k) {
    if (!std::isfinite(x[k])) continue;
    if (last == n) {
      for (size_t j = 0; j < k; ++j) x[j] = x[k];
    } else if (k > last + 1) {
      for (size_t j = last + 1; j < k; ++j)
        x[j] = x[last] + (x[k] - x[last]) * static_cast<double>(j - last) / static_cast<double>(k - last);
    }
    last = k;
  }
  if (last == n) return false;
  for (size_t j = last + 1; j < n; ++j) x[j] = x[last];
  return true;
}

double mean_of(const std::vector<double>& x, size_t from = 0) {
  double s = 0;
  for (size_t k = from; k < x.size(); ++k) s += x[k];
  return x.size() > from ? s / static_cast<double>(x.size() - from) : nan;
}

double std_of(const std::vector<double>& x, double m) {
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return x.empty() ? nan : std::sqrt(s / static_cast<double>(x.size()));
}

double ptp(const std::vector<double>& x, size_t from, size_t to) {
  if (to <= from) return 0;
  const auto [lo, hi] =
      std::minmax_element(x.begin() + static_cast<std::ptrdiff_t>(from), x.begin() + static_cast<std::ptrdiff_t>(to));
  return *hi - *lo;
}

}  // namespace

std::string short_number(double x) {
  char buf[32];
  if (std::isfinite(x) && std::fabs(x) >= 1e4 && std::fabs(x) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", x);
  else
    std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

// ---------------------------------------------------------------------------
// block_series

block_series::block_series(int channels, double t_first, double dt, int64_t max_blocks, int64_t first_block_length)
    : C_(channels),
      t0_(t_first),
      dt_(dt),
      max_(std::max<int64_t>(2, max_blocks + (max_blocks & 1))),
      per_block_(std::max<int64_t>(1, first_block_length)) {
  if (channels <= 0) throw internal_error("block_series: no channels");
  sum_.assign(static_cast<size_t>(C_), 0.0);  // grows block by block up to max_ + 1
  cnt_.assign(static_cast<size_t>(C_), 0u);
}

void block_series::add(const double* x) {
  const size_t base = static_cast<size_t>(blocks_) * C_;
  for (int c = 0; c < C_; ++c)
    if (std::isfinite(x[c])) {
      sum_[base + c] += x[c];
      ++cnt_[base + c];
    }
  ++n_;
  if (++in_partial_ < per_block_) return;
  in_partial_ = 0;
  if (++blocks_ < max_) {
    sum_.resize(static_cast<size_t>(blocks_ + 1) * C_, 0.0);
    cnt_.resize(static_cast<size_t>(blocks_ + 1) * C_, 0u);
    return;
  }
  // Full: merge neighbours, halving the number of blocks.
  for (int64_t b = 0; b < max_ / 2; ++b)
    for (int c = 0; c < C_; ++c) {
      const size_t to = static_cast<size_t>(b) * C_ + c, a = static_cast<size_t>(2 * b) * C_ + c, d = a + C_;
      const double s = sum_[a] + sum_[d];
      const uint32_t k = cnt_[a] + cnt_[d];
      sum_[to] = s;
      cnt_[to] = k;
    }
  blocks_ = max_ / 2;
  sum_.resize(static_cast<size_t>(blocks_ + 1) * C_);
  cnt_.resize(static_cast<size_t>(blocks_ + 1) * C_);
  std::fill(sum_.end() - C_, sum_.end(), 0.0);
  std::fill(cnt_.end() - C_, cnt_.end(), 0u);
  per_block_ *= 2;
}

double block_series::block_start(int64_t b) const { return t0_ + static_cast<double>(b * per_block_) * dt_; }

double block_series::block_end(int64_t b) const { return t0_ + static_cast<double>((b + 1) * per_block_ - 1) * dt_; }

double block_series::value(int64_t b, int c) const {
  const size_t k = static_cast<size_t>(b) * C_ + c;
  return cnt_[k] ? sum_[k] / cnt_[k] : nan;
}

uniform_window extract_window(const block_series& s, double t_from, double t_to) {
  uniform_window w;
  w.h = s.block_width();
  w.ch.assign(s.channels(), {});
  int64_t b0 = 0;
  while (b0 < s.size() && !(s.block_start(b0) > t_from)) ++b0;
  int64_t b1 = s.size();
  if (t_to >= 0)
    while (b1 > b0 && s.block_end(b1 - 1) > t_to) --b1;
  if (b1 <= b0) return w;
  w.t0 = 0.5 * (s.block_start(b0) + s.block_end(b0));
  for (int c = 0; c < s.channels(); ++c) {
    w.ch[c].resize(static_cast<size_t>(b1 - b0));
    for (int64_t b = b0; b < b1; ++b) w.ch[c][static_cast<size_t>(b - b0)] = s.value(b, c);
  }
  return w;
}

// ---------------------------------------------------------------------------
// analysis

std::vector<int> rhythm_variables(const std::vector<bool>& has_adaptation) {
  std::vector<int> r;
  for (bool a : has_adaptation) r.push_back(a ? var_w : var_s);
  return r;
}

std::vector<double> moving_average(const std::vector<double>& x, int64_t half) {
  const int64_t n = static_cast<int64_t>(x.size());
  if (half <= 0 || n == 0) return x;
  std::vector<double> prefix(static_cast<size_t>(n + 1), 0.0), out(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) prefix[k + 1] = prefix[k] + x[k];
  for (int64_t k = 0; k < n; ++k) {
    const int64_t lo = std::max<int64_t>(0, k - half), hi = std::min(n - 1, k + half);
    out[k] = (prefix[hi + 1] - prefix[lo]) / static_cast<double>(hi + 1 - lo);
  }
  return out;
}

std::vector<double> joint_autocorrelation(const std::vector<std::vector<double>>& z, int64_t max_lag) {
  if (z.empty()) return {};
  const int64_t n = static_cast<int64_t>(z[0].size());
  max_lag = std::min(max_lag, n - 2);
  if (max_lag < 0) return {};
  size_t m = 1;
  while (m < static_cast<size_t>(2 * n)) m <<= 1;
  Eigen::FFT<double> fft;
  std::vector<double> cov(static_cast<size_t>(max_lag + 1), 0.0), va(cov.size(), 0.0), vb(cov.size(), 0.0);
  std::vector<double> pad(m), back;
  std::vector<std::complex<double>> spec;
  for (const auto& x : z) {
    std::fill(pad.begin(), pad.end(), 0.0);
    std::copy(x.begin(), x.end(), pad.begin());
    fft.fwd(spec, pad);
    for (auto& c : spec) c = std::norm(c);
    fft.inv(back, spec);  // back[L] = sum_k x[k] x[k + L]
    std::vector<double> p(static_cast<size_t>(n + 1), 0.0), q(static_cast<size_t>(n + 1), 0.0);
    for (int64_t k = 0; k < n; ++k) {
      p[k + 1] = p[k] + x[k];
      q[k + 1] = q[k] + x[k] * x[k];
    }
    for (int64_t L = 0; L <= max_lag; ++L) {
      const double len = static_cast<double>(n - L);
      const double sa = p[n - L], sb = p[n] - p[L];
      const double qa = q[n - L], qb = q[n] - q[L];
      cov[L] += back[L] - sa * sb / len;
      va[L] += qa - sa * sa / len;
      vb[L] += qb - sb * sb / len;
    }
  }
  std::vector<double> c(cov.size(), 0.0);
  for (size_t L = 0; L < c.size(); ++L) {
    const double d = std::sqrt(std::max(0.0, va[L]) * std::max(0.0, vb[L]));
    c[L] = d > 0 ? std::clamp(cov[L] / d, -1.0, 1.0) : 0.0;
  }
  return c;
}

window_analysis analyse_window(const uniform_window& w, const std::vector<int>& rhythm_var, double t_start,
                               double period_hint) {
  window_analysis a;
  const int C = static_cast<int>(w.ch.size());
  const int P = C / 4;
  const int64_t n = w.samples();
  a.samples = n;
  a.resolution = w.h;
  a.t_from = t_start;
  a.t_to = n > 0 ? w.t0 + (static_cast<double>(n) - 0.5) * w.h : t_start;
  a.smoothing = std::max(criteria::smooth_width, w.h);
  a.pops.resize(P);
  a.rel_amplitude.assign(P, 0.0);
  if (n == 0) {
    a.reason = "no rows after t = " + num(t_start) + ": run longer than meanfield.transient";
    return a;
  }
  const int64_t half = static_cast<int64_t>(std::floor(0.5 * a.smoothing / w.h + 1e-9));
  std::vector<std::vector<double>> raw(C), sm(C);
  std::vector<bool> ok(C, false);
  for (int c = 0; c < C; ++c) {
    raw[c] = w.ch[c];
    ok[c] = fill_gaps(raw[c]);
    if (ok[c]) sm[c] = moving_average(raw[c], half);
  }
  for (int i = 0; i < P; ++i)
    for (int v = 0; v < 4; ++v) {
      const int c = 4 * i + v;
      if (!ok[c]) continue;
      auto& s = a.pops[i][v];
      s.mean = mean_of(raw[c]);
      s.min = *std::min_element(sm[c].begin(), sm[c].end());
      s.max = *std::max_element(sm[c].begin(), sm[c].end());
    }
  if (n < criteria::min_samples) {
    a.reason = "only " + std::to_string(n) + " points after t = " + num(t_start) + " (at least " +
               std::to_string(criteria::min_samples) + " needed): run longer";
    return a;
  }

  // Rhythm channels and their relative amplitudes.
  std::vector<std::vector<double>> z;
  int main_channel = -1;
  for (int i = 0; i < P; ++i) {
    const int c = 4 * i + rhythm_var[static_cast<size_t>(i)];
    if (!ok[c]) continue;
    const double m = mean_of(sm[c]), sd = std_of(sm[c], m);
    const double scale = std::max({std::fabs(m), sd, 1e-300});
    a.rel_amplitude[i] =
        ptp(sm[c], sm[c].size() / 2, sm[c].size()) / scale;  // second half: a decayed transient is not a rhythm
    if (a.rel_amplitude[i] > a.amplitude) {
      a.amplitude = a.rel_amplitude[i];
      main_channel = c;
    }
    std::vector<double> zi(sm[c].size());
    for (size_t k = 0; k < zi.size(); ++k) zi[k] = (sm[c][k] - m) / scale;
    z.push_back(std::move(zi));
  }
  if (a.amplitude < criteria::amp_equilibrium) {
    a.regime = "equilibrium";
    return a;
  }

  const double W = static_cast<double>(n) * w.h;
  auto suggest = [&](double T) { return round_up_2(t_start + criteria::min_periods * criteria::suggest_margin * T); };
  const int64_t max_lag = static_cast<int64_t>(std::floor(criteria::max_lag_fraction * static_cast<double>(n - 1)));
  const std::vector<double> acf = joint_autocorrelation(z, max_lag);
  int64_t L0 = 1;
  while (L0 < static_cast<int64_t>(acf.size()) && acf[L0] >= 0) ++L0;
  std::vector<int64_t> peaks;
  double cmax = -1;
  for (int64_t L = L0 + 1; L + 1 < static_cast<int64_t>(acf.size()); ++L)
    if (acf[L] >= acf[L - 1] && acf[L] > acf[L + 1] && acf[L] >= criteria::acf_min) {
      peaks.push_back(L);
      cmax = std::max(cmax, acf[L]);
    }
  if (peaks.empty()) {
    // Stationary fluctuations (no drift, no anti-correlation) are an equilibrium with noise.
    const size_t mid = static_cast<size_t>(n / 2);
    const auto& x = sm[main_channel];
    double m1 = 0, m2 = 0;
    for (size_t k = 0; k < mid; ++k) m1 += x[k];
    for (size_t k = mid; k < x.size(); ++k) m2 += x[k];
    m1 /= static_cast<double>(mid);
    m2 /= static_cast<double>(x.size() - mid);
    const double drift = std::fabs(m2 - m1) / std::max(ptp(x, 0, x.size()), 1e-300);
    const double acf_lowest = acf.size() > 1 ? *std::min_element(acf.begin() + 1, acf.end()) : 0.0;
    if (drift < criteria::drift_max && acf_lowest > -criteria::acf_min) {
      a.regime = "equilibrium";
      a.reason = "fluctuates by " + two_digits(100 * a.amplitude) +
                 " % (peak-to-peak) with no repeat and no drift: an equilibrium with finite-size fluctuations";
      return a;
    }
    a.regime = "inconclusive";
    const double lag_w = criteria::max_lag_fraction * W;
    if (std::isfinite(period_hint) && period_hint > 0) {
      a.t_end_needed = suggest(period_hint);
      a.periods_in_window = W / period_hint;
      a.reason = "the late window (t > " + num(t_start) + ", " + num(W) + " time units) varies by " +
                 two_digits(100 * a.amplitude) + " % but shows no repeat: it holds " + two_digits(a.periods_in_window) +
                 " periods of the mean field's " + num(period_hint) + "; run to t_end >= " + num(a.t_end_needed);
    } else {
      a.t_end_needed = round_up_2(t_start + 2.0 * W);
      a.reason = "the late window (t > " + num(t_start) + ", " + num(W) + " time units) varies by " +
                 two_digits(100 * a.amplitude) + " % but shows no repeat within lags up to " + num(lag_w) +
                 " (a longer period, or still settling); run to t_end >= " + num(a.t_end_needed);
    }
    return a;
  }
  int64_t Lp = peaks.front();
  for (int64_t L : peaks)
    if (acf[L] >= criteria::acf_near_max * cmax) {
      Lp = L;
      break;
    }
  double delta = 0;
  {
    const double cm = acf[Lp - 1], c0 = acf[Lp], cp = acf[Lp + 1];
    const double den = cm - 2 * c0 + cp;
    if (den < 0) delta = std::clamp(0.5 * (cm - cp) / den, -0.5, 0.5);
  }
  a.period = (static_cast<double>(Lp) + delta) * w.h;
  a.acf_peak = acf[Lp];
  a.periods_in_window = W / a.period;
  if (a.periods_in_window < criteria::min_periods) {
    a.regime = "inconclusive";
    a.t_end_needed = suggest(a.period);
    a.reason = "the late window (t > " + num(t_start) + ") holds " + two_digits(a.periods_in_window) + " periods of " +
               num(a.period) + " (at least " + num(criteria::min_periods) +
               " needed); run to t_end >= " + num(a.t_end_needed);
    return a;
  }
  if (a.period < 8 * w.h) {
    a.regime = "inconclusive";
    a.reason = "the period " + num(a.period) + " spans fewer than 8 analysis points of " + num(w.h) +
               " time units (the run is too long for the validator's block resolution; shorten run.t_end)";
    return a;
  }
  // Still growing or decaying?
  const size_t mid = static_cast<size_t>(n / 2);
  const double p1 = ptp(sm[main_channel], 0, mid), p2 = ptp(sm[main_channel], mid, static_cast<size_t>(n));
  a.settle_ratio = p1 > 0 ? p2 / p1 : nan;
  if (!(a.settle_ratio >= criteria::settle_ratio && a.settle_ratio <= 1.0 / criteria::settle_ratio)) {
    a.regime = "inconclusive";
    a.t_end_needed = round_up_2(t_start + 2.0 * W);
    a.reason = std::string("the oscillation is still ") + (a.settle_ratio < 1 ? "decaying" : "growing") +
               " (peak-to-peak of the window's second half is " + num(a.settle_ratio) +
               " times that of the first); run to t_end >= " + num(a.t_end_needed) + " or raise meanfield.transient";
    return a;
  }
  a.regime = "oscillation";
  // Means over the last whole number of periods.
  const double whole = std::floor(a.periods_in_window) * a.period;
  const size_t from = static_cast<size_t>(std::max<int64_t>(0, n - std::llround(whole / w.h)));
  for (int i = 0; i < P; ++i)
    for (int v = 0; v < 4; ++v)
      if (ok[4 * i + v]) a.pops[i][v].mean = mean_of(raw[4 * i + v], from);
  return a;
}

}  // namespace izhinet
