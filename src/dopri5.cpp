/// \file dopri5.cpp
/// The adaptive Dormand–Prince 5(4) integrator with dense output and the
/// trajectories of the mean fields (dopri5.hpp).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <type_traits>

#include "izhinet/dopri5.hpp"
#include "izhinet/errors.hpp"

namespace izhinet {

namespace {

std::string fmt(double x) {
  std::ostringstream o;
  o.precision(10);
  o << x;
  return o.str();
}

}  // namespace

dopri5_options dopri5_options_from(const meanfield_params& mf) {
  dopri5_options o;
  o.rtol = mf.rtol;
  o.atol = mf.atol;
  if (!(o.rtol > 0) || !std::isfinite(o.rtol))
    throw config_error("meanfield.rtol", "must be > 0 (typically 1e-6 to 1e-12), got " + fmt(o.rtol));
  if (!(o.atol > 0) || !std::isfinite(o.atol))
    throw config_error("meanfield.atol", "must be > 0 (typically 1e-8 to 1e-14), got " + fmt(o.atol));
  return o;
}

namespace {

/// e^{-1/5} for the step-size factor, e in (0, inf): exponent-field initial
/// guess and four Newton steps on y^{-5} = e (relative error < 1e-11 for e in
/// [1e-8, 1e8]; cheaper than libm's pow, see BENCHMARKS.md section 3). Only the
/// step size depends on it.
inline double inverse_fifth_root(double e) {
  int64_t i;
  std::memcpy(&i, &e, sizeof i);
  const double one_bits = 4607182418800017408.0;  // bit pattern of 1.0 (0x3FF0000000000000)
  int64_t j = static_cast<int64_t>(1.2 * one_bits - 0.2 * static_cast<double>(i));
  double y;
  std::memcpy(&y, &j, sizeof y);
  for (int k = 0; k < 4; ++k) {
    const double y2 = y * y;
    y = y * (1.2 - 0.2 * e * y2 * y2 * y);
  }
  return y;
}

/// The integrator proper, templated so that the right-hand side and the
/// observer inline (integrate_exact_flat); integrate_dopri5 wraps it.
/// N > 0 fixes the dimension at compile time (loops unroll); N = 0: y0.size().
template <int N, class F, class Obs>
dopri5_stats dopri5_core(F&& f, const std::vector<double>& y0, double t0, double t1, const std::vector<double>& t_out,
                         const dopri5_options& opt, Obs&& observer) {
  if (!(opt.rtol > 0) || !std::isfinite(opt.rtol))
    throw config_error("meanfield.rtol", "must be > 0, got " + fmt(opt.rtol));
  if (!(opt.atol > 0) || !std::isfinite(opt.atol))
    throw config_error("meanfield.atol", "must be > 0, got " + fmt(opt.atol));
  if (!(t1 > t0)) throw internal_error("integrate_dopri5: t1 <= t0");

  // Butcher tableau (Dormand & Prince 1980) and error weights e = b5 - b4.
  constexpr double c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9;
  constexpr double a21 = 1.0 / 5;
  constexpr double a31 = 3.0 / 40, a32 = 9.0 / 40;
  constexpr double a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9;
  constexpr double a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561, a54 = -212.0 / 729;
  constexpr double a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176,
                   a65 = -5103.0 / 18656;
  constexpr double a71 = 35.0 / 384, a73 = 500.0 / 1113, a74 = 125.0 / 192, a75 = -2187.0 / 6784, a76 = 11.0 / 84;
  constexpr double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200, e6 = 22.0 / 525,
                   e7 = -1.0 / 40;
  // Dense output (Hairer's dopri5.f, contd5).
  constexpr double d1 = -12715105075.0 / 11282082432.0, d3 = 87487479700.0 / 32700410799.0,
                   d4 = -10690763975.0 / 1880347072.0, d5 = 701980252875.0 / 199316789632.0,
                   d6 = -1453857185.0 / 822651844.0, d7 = 69997945.0 / 29380423.0;

  if (N > 0 && y0.size() != static_cast<size_t>(N)) throw internal_error("dopri5_core: dimension mismatch");
  const size_t n = N > 0 ? static_cast<size_t>(N) : y0.size();
  // work arrays: on the stack when the dimension is known at compile time
  using buf = std::conditional_t<(N > 0), std::array<double, (N > 0 ? N : 1)>, std::vector<double>>;
  auto make = [n] {
    buf b{};
    if constexpr (N == 0) b.assign(n, 0.0);
    return b;
  };
  buf y = make(), k1 = make(), k2 = make(), k3 = make(), k4 = make(), k5 = make(), k6 = make(), k7 = make(),
      yt = make(), ynew = make(), rc1 = make(), rc2 = make(), rc3 = make(), rc4 = make(), rc5 = make(), yout = make();
  std::copy(y0.begin(), y0.end(), y.begin());
  dopri5_stats st;
  const double rtol = opt.rtol, atol = opt.atol;
  const double h_max = opt.h_max > 0 ? opt.h_max : (t1 - t0);

  size_t iout = 0;
  while (iout < t_out.size() && t_out[iout] < t0) ++iout;  // outside the interval: ignored
  while (iout < t_out.size() && t_out[iout] == t0) observer(t_out[iout++], y.data());

  auto throw_numerical = [&](const std::string& why, double t) {
    throw numerical_error(
        "mean-field integration failed at t = " + fmt(t) + " (of [" + fmt(t0) + ", " + fmt(t1) + "]): " + why, t, t1,
        -1, -1);
  };

  double t = t0;
  f(t, y.data(), k1.data());
  ++st.rhs_evals;

  auto norm = [&](const buf& v, const buf& ref) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) {
      const double q = v[i] / (atol + rtol * std::fabs(ref[i]));
      s += q * q;
    }
    return std::sqrt(s / static_cast<double>(n));
  };

  // Initial step (Hairer, Nørsett & Wanner, Solving ODEs I, II.4).
  double h = opt.h_initial;
  if (!(h > 0)) {
    const double dn0 = norm(y, y), dn1 = norm(k1, y);
    double h0 = (dn0 < 1e-5 || dn1 < 1e-5) ? 1e-6 : 0.01 * dn0 / dn1;
    h0 = std::min(h0, h_max);
    for (size_t i = 0; i < n; ++i) yt[i] = y[i] + h0 * k1[i];
    f(t + h0, yt.data(), k2.data());
    ++st.rhs_evals;
    double dn2 = 0;
    for (size_t i = 0; i < n; ++i) {
      const double q = (k2[i] - k1[i]) / (atol + rtol * std::fabs(y[i]));
      dn2 += q * q;
    }
    dn2 = std::sqrt(dn2 / static_cast<double>(n)) / h0;
    const double dmax = std::max(dn1, dn2);
    const double h1 = dmax <= 1e-15 ? std::max(1e-6, h0 * 1e-3) : std::pow(0.01 / dmax, 0.2);
    h = std::min({100 * h0, h1, h_max});
  }

  bool last_rejected = false;
  int stiff_run = 0, non_stiff_run = 0;  // Hairer's stiffness test (stiff_max_steps > 0)
  bool stiff = false;
  while (t < t1) {
    if (st.accepted + st.rejected >= opt.max_steps) throw_numerical("more than max_steps steps", t);
    if (t + 1.01 * h >= t1) h = t1 - t;
    if (h < 16.0 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::fabs(t)))
      throw_numerical("step size underflow (h = " + fmt(h) + ")", t);

    // Sums ordered oldest stage first, with h folded into the coefficients: the
    // newest k_j enters by one FMA, which shortens the latency chain per stage.
    const double h21 = h * a21, h31 = h * a31, h32 = h * a32, h41 = h * a41, h42 = h * a42, h43 = h * a43;
    const double h51 = h * a51, h52 = h * a52, h53 = h * a53, h54 = h * a54;
    const double h61 = h * a61, h62 = h * a62, h63 = h * a63, h64 = h * a64, h65 = h * a65;
    const double h71 = h * a71, h73 = h * a73, h74 = h * a74, h75 = h * a75, h76 = h * a76;
    for (size_t i = 0; i < n; ++i) yt[i] = y[i] + h21 * k1[i];
    f(t + c2 * h, yt.data(), k2.data());
    for (size_t i = 0; i < n; ++i) yt[i] = y[i] + h31 * k1[i] + h32 * k2[i];
    f(t + c3 * h, yt.data(), k3.data());
    for (size_t i = 0; i < n; ++i) yt[i] = y[i] + h41 * k1[i] + h42 * k2[i] + h43 * k3[i];
    f(t + c4 * h, yt.data(), k4.data());
    for (size_t i = 0; i < n; ++i) yt[i] = y[i] + h51 * k1[i] + h52 * k2[i] + h53 * k3[i] + h54 * k4[i];
    f(t + c5 * h, yt.data(), k5.data());
    for (size_t i = 0; i < n; ++i) yt[i] = y[i] + h61 * k1[i] + h62 * k2[i] + h63 * k3[i] + h64 * k4[i] + h65 * k5[i];
    const double tnew = t + h;
    f(tnew, yt.data(), k6.data());
    for (size_t i = 0; i < n; ++i) ynew[i] = y[i] + h71 * k1[i] + h73 * k3[i] + h74 * k4[i] + h75 * k5[i] + h76 * k6[i];
    f(tnew, ynew.data(), k7.data());
    st.rhs_evals += 6;

    double e = 0;
    for (size_t i = 0; i < n; ++i) {
      const double ei = h * (e1 * k1[i] + e3 * k3[i] + e4 * k4[i] + e5 * k5[i] + e6 * k6[i] + e7 * k7[i]);
      const double sk = atol + rtol * std::max(std::fabs(y[i]), std::fabs(ynew[i]));
      e += (ei / sk) * (ei / sk);
    }
    e = std::sqrt(e / static_cast<double>(n));

    if (!std::isfinite(e)) {  // non-finite stage: retry much smaller, eventually underflow
      ++st.rejected;
      h *= 0.1;
      last_rejected = true;
      continue;
    }
    const double fac = e < 1e-8 ? 5.0 : std::min(5.0, std::max(0.2, 0.9 * inverse_fifth_root(e)));
    if (e <= 1.0) {
      ++st.accepted;
      if (opt.stiff_max_steps > 0) {
        double num2 = 0, den2 = 0;  // yt: the 6th stage's point; k6, k7: f there and at ynew
        for (size_t i = 0; i < n; ++i) {
          num2 += (k7[i] - k6[i]) * (k7[i] - k6[i]);
          den2 += (ynew[i] - yt[i]) * (ynew[i] - yt[i]);
        }
        if (den2 > 0 && h * std::sqrt(num2 / den2) > 3.25) {
          non_stiff_run = 0;
          if (++stiff_run >= 15) stiff = true;
        } else if (++non_stiff_run >= 6) {
          stiff_run = 0;
          stiff = false;
        }
        if (stiff && st.accepted > opt.stiff_max_steps)
          throw stiff_error("mean-field integration given up at t = " + fmt(t) + " (of [" + fmt(t0) + ", " + fmt(t1) +
                                "]): the system is stiff (the step size is held at h = " + fmt(h) +
                                " by stability, not accuracy; " + std::to_string(st.accepted) + " steps)",
                            t, t1, -1, -1);
      }
      if (iout < t_out.size() && t_out[iout] <= tnew) {
        // contd5: y(t + th h) = c1 + th (c2 + (1-th) (c3 + th (c4 + (1-th) c5))), expanded
        // to monomials in th for a 4-FMA Horner evaluation per component and output.
        for (size_t i = 0; i < n; ++i) {
          const double ydiff = ynew[i] - y[i], bspl = h * k1[i] - ydiff;
          const double c3 = bspl, c4 = ydiff - h * k7[i] - bspl;
          const double c5 = h * (d1 * k1[i] + d3 * k3[i] + d4 * k4[i] + d5 * k5[i] + d6 * k6[i] + d7 * k7[i]);
          rc1[i] = y[i];
          rc2[i] = ydiff + c3;
          rc3[i] = c4 + c5 - c3;
          rc4[i] = -(c4 + 2.0 * c5);
          rc5[i] = c5;
        }
        const double inv_h = 1.0 / h;
        while (iout < t_out.size() && t_out[iout] <= tnew) {
          const double th = (t_out[iout] - t) * inv_h;
          for (size_t i = 0; i < n; ++i) yout[i] = rc1[i] + th * (rc2[i] + th * (rc3[i] + th * (rc4[i] + th * rc5[i])));
          observer(t_out[iout], yout.data());
          ++iout;
        }
      }
      std::swap(y, ynew);
      std::swap(k1, k7);  // FSAL
      t = tnew;
      for (size_t i = 0; i < n; ++i)
        if (!std::isfinite(y[i])) throw_numerical("non-finite state", t);
      h = std::min(h * (last_rejected ? std::min(1.0, fac) : fac), h_max);
      last_rejected = false;
    } else {
      ++st.rejected;
      h *= std::max(0.2, fac);
      last_rejected = true;
    }
  }
  return st;
}

}  // namespace

dopri5_stats integrate_dopri5(const ode_rhs& f, std::vector<double> y0, double t0, double t1,
                              const std::vector<double>& t_out, const dopri5_options& options,
                              const ode_observer& observer) {
  return dopri5_core<0>(f, y0, t0, t1, t_out, options, observer);
}

size_t integrate_exact_into(const exact_meanfield& model, double t_end, const std::vector<double>& t_out,
                            const dopri5_options& options, double* out, dopri5_stats* stats) {
  const size_t n = static_cast<size_t>(model.dimension());
  double* o = out;
  auto f = [&model](double t, const double* y, double* d) { model.rhs(t, y, d); };
  auto obs = [&o, n](double, const double* y) {
    for (size_t i = 0; i < n; ++i) o[i] = y[i];
    o += n;
  };
  const auto y0 = model.initial_state();
  const dopri5_stats st = n == 4   ? dopri5_core<4>(f, y0, 0.0, t_end, t_out, options, obs)
                          : n == 8 ? dopri5_core<8>(f, y0, 0.0, t_end, t_out, options, obs)
                                   : dopri5_core<0>(f, y0, 0.0, t_end, t_out, options, obs);
  if (stats) *stats = st;
  return static_cast<size_t>(o - out) / n;
}

std::vector<double> integrate_exact_flat(const exact_meanfield& model, double t_end, const std::vector<double>& t_out,
                                         const dopri5_options& options, dopri5_stats* stats) {
  const size_t n = static_cast<size_t>(model.dimension());
  std::vector<double> out(n * t_out.size());
  out.resize(n * integrate_exact_into(model, t_end, t_out, options, out.data(), stats));
  return out;
}

namespace {

/// Trajectory of any model with rhs(), dimension() and initial_state(), one row per output time.
template <class Model>
std::vector<std::vector<double>> integrate_rows(const Model& model, double t_end, const std::vector<double>& t_out,
                                                const dopri5_options& options, dopri5_stats* stats) {
  std::vector<std::vector<double>> out;
  out.reserve(t_out.size());
  const int n = model.dimension();
  auto st = integrate_dopri5([&](double t, const double* y, double* d) { model.rhs(t, y, d); }, model.initial_state(),
                             0.0, t_end, t_out, options, [&](double, const double* y) { out.emplace_back(y, y + n); });
  if (stats) *stats = st;
  return out;
}

}  // namespace

std::vector<std::vector<double>> integrate_exact(const exact_meanfield& model, double t_end,
                                                 const std::vector<double>& t_out, const dopri5_options& options,
                                                 dopri5_stats* stats) {
  return integrate_rows(model, t_end, t_out, options, stats);
}

std::vector<std::vector<double>> integrate_slow(const slow_meanfield& model, double t_end,
                                                const std::vector<double>& t_out, const dopri5_options& options,
                                                dopri5_stats* stats) {
  return integrate_rows(model, t_end, t_out, options, stats);
}

std::vector<double> record_times(const model_spec& spec) {
  const int64_t n = spec.num_records();
  std::vector<double> t(static_cast<size_t>(n + 1));
  for (int64_t k = 0; k <= n; ++k)
    t[static_cast<size_t>(k)] = static_cast<double>(k * spec.run.record_every) * spec.run.dt;
  return t;
}

}  // namespace izhinet
