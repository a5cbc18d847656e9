/// \file meanfield.cpp
/// Mean-field right-hand sides and Jacobian, the DOPRI5 integrator, the
/// eigenvalue routine and the equilibrium search (see meanfield.hpp).
#include "izhinet/meanfield.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <sstream>

#include "izhinet/errors.hpp"

namespace izhinet {

namespace {

constexpr double pi = 3.14159265358979323846;

std::string fmt(double x) {
  std::ostringstream o;
  o.precision(10);
  o << x;
  return o.str();
}

void check_sizes(const model_spec& spec) {
  const size_t P = spec.populations.size();
  if (P == 0) throw config_error("populations", "at least one population is needed");
  const auto& syn = spec.synapse;
  if (syn.g.size() != P) throw config_error("synapse.g", "must have " + std::to_string(P) + " rows");
  for (const auto& row : syn.g)
    if (row.size() != P) throw config_error("synapse.g", "every row must have " + std::to_string(P) + " entries");
  if (syn.e_r.size() != P) throw config_error("synapse.e_r", "must have " + std::to_string(P) + " entries");
  if (syn.tau_s.size() != P) throw config_error("synapse.tau_s", "must have " + std::to_string(P) + " entries");
  if (syn.s_jump.size() != P) throw config_error("synapse.s_jump", "must have " + std::to_string(P) + " entries");
  for (size_t j = 0; j < P; ++j)
    if (!(syn.tau_s[j] > 0)) throw config_error("synapse.tau_s", "must be > 0");
}

}  // namespace

// ---------------------------------------------------------------------------
// exact mean field

exact_meanfield::exact_meanfield(const model_spec& spec) {
  check_sizes(spec);
  P_ = spec.num_populations();
  for (const auto& p : spec.populations) {
    delta_.push_back(p.delta);
    alpha_.push_back(p.alpha);
    a_.push_back(p.a);
    b_.push_back(p.b);
    w_jump_.push_back(p.w_jump);
    eta_bar_.push_back(p.eta_bar);
    input_.push_back(p.I_ext);
  }
  kg_.resize(static_cast<size_t>(P_ * P_));
  for (int i = 0; i < P_; ++i)
    for (int j = 0; j < P_; ++j) kg_[i * P_ + j] = spec.populations[j].fraction * spec.synapse.g[i][j];
  e_r_ = spec.synapse.e_r;
  tau_s_ = spec.synapse.tau_s;
  s_jump_ = spec.synapse.s_jump;
  for (int i = 0; i < P_; ++i) {
    inv_tau_s_.push_back(1.0 / tau_s_[i]);
    delta_over_pi_.push_back(delta_[i] / pi);
  }
  if (P_ == 1 && input_[0].type == input_spec::kind::constant) {
    one_.valid = true;
    one_.delta_over_pi = delta_over_pi_[0];
    one_.alpha = alpha_[0];
    one_.drive = eta_bar_[0] + input_[0].value;
    one_.kg = kg_[0];
    one_.e_r = e_r_[0];
    one_.a = a_[0];
    one_.ab = a_[0] * b_[0];
    one_.w_jump = w_jump_[0];
    one_.s_jump = s_jump_[0];
    one_.inv_tau_s = inv_tau_s_[0];
  }
}

void exact_meanfield::rhs_general(double t, const double* y, double* dydt) const {
  for (int i = 0; i < P_; ++i) {
    double G = 0, E = 0;
    for (int j = 0; j < P_; ++j) {
      const double c = kg_[i * P_ + j] * y[4 * j + 3];
      G += c;
      E += c * e_r_[j];
    }
    const double r = y[4 * i], v = y[4 * i + 1], w = y[4 * i + 2], s = y[4 * i + 3];
    const double I = input_[i].type == input_spec::kind::constant ? input_[i].value : input_[i].at(t);
    dydt[4 * i] = delta_[i] / pi + 2.0 * r * v - (alpha_[i] + G) * r;
    dydt[4 * i + 1] = v * v - alpha_[i] * v - w + eta_bar_[i] + I + E - G * v - pi * pi * r * r;
    dydt[4 * i + 2] = a_[i] * (b_[i] * v - w) + w_jump_[i] * r;
    dydt[4 * i + 3] = -s / tau_s_[i] + s_jump_[i] * r;
  }
}

void exact_meanfield::jacobian(double /*t*/, const double* y, double* J) const {
  const int n = dimension();
  std::fill(J, J + n * n, 0.0);
  for (int i = 0; i < P_; ++i) {
    double G = 0;
    for (int j = 0; j < P_; ++j) G += kg_[i * P_ + j] * y[4 * j + 3];
    const double r = y[4 * i], v = y[4 * i + 1];
    const int ri = 4 * i, vi = ri + 1, wi = ri + 2, si = ri + 3;
    // r' = Delta/pi + 2 r v - (alpha + G) r
    J[ri * n + ri] = 2.0 * v - (alpha_[i] + G);
    J[ri * n + vi] = 2.0 * r;
    // v' = v^2 - alpha v - w + eta + I + E - G v - pi^2 r^2
    J[vi * n + ri] = -2.0 * pi * pi * r;
    J[vi * n + vi] = 2.0 * v - alpha_[i] - G;
    J[vi * n + wi] = -1.0;
    // w' = a (b v - w) + w_jump r
    J[wi * n + ri] = w_jump_[i];
    J[wi * n + vi] = a_[i] * b_[i];
    J[wi * n + wi] = -a_[i];
    // s' = -s/tau_s + s_jump r
    J[si * n + ri] = s_jump_[i];
    J[si * n + si] = -1.0 / tau_s_[i];
    // coupling through s_j: dG_i/ds_j = kg_ij, dE_i/ds_j = kg_ij e_r_j
    for (int j = 0; j < P_; ++j) {
      const double k = kg_[i * P_ + j];
      J[ri * n + 4 * j + 3] += -k * r;
      J[vi * n + 4 * j + 3] += k * (e_r_[j] - v);
    }
  }
}

// ---------------------------------------------------------------------------
// slow-adaptation mean field

namespace {

/// Gauss–Legendre nodes and weights on [-1, 1] (Newton on P_n; Golub–Welsch not needed for n = 8).
void gauss_legendre(int n, std::vector<double>& x, std::vector<double>& w) {
  x.assign(n, 0.0);
  w.assign(n, 0.0);
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double z = std::cos(pi * (i + 0.75) / (n + 0.5)), dp = 0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1, p1 = 0;
      for (int k = 1; k <= n; ++k) {
        const double p2 = p1;
        p1 = p0;
        p0 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p2) / k;
      }
      dp = n * (z * p0 - p1) / (z * z - 1.0);
      const double dz = p0 / dp;
      z -= dz;
      if (std::fabs(dz) < 1e-15) break;
    }
    x[i] = -z;
    x[n - 1 - i] = z;
    w[i] = w[n - 1 - i] = 2.0 / ((1.0 - z * z) * dp * dp);
  }
}

}  // namespace

slow_meanfield::slow_meanfield(const model_spec& spec, bool finite_peak, int quadrature_panels)
    : base_(spec), finite_peak_(finite_peak) {
  for (const auto& p : spec.populations) {
    v_peak_.push_back(p.v_peak);
    v_reset_.push_back(p.v_reset);
  }
  if (finite_peak_) {
    if (quadrature_panels < 1) throw internal_error("slow_meanfield: quadrature_panels < 1");
    std::vector<double> gx, gw;
    gauss_legendre(8, gx, gw);
    std::vector<double> u;
    const double h = 1.0 / quadrature_panels;
    // u = sin^2(pi x / 2): nodes cluster at both ends like x^2, which makes the
    // (1 - u)^{-1/2} tail of sqrt(eta) smooth in x.
    for (int k = 0; k < quadrature_panels; ++k)
      for (int q = 0; q < 8; ++q) {
        const double x = h * (k + 0.5 * (gx[q] + 1.0));
        const double sx = std::sin(0.5 * pi * x);
        u.push_back(sx * sx);
        u_weights_.push_back(0.5 * h * gw[q] * 0.5 * pi * std::sin(pi * x));
      }
    for (int i = 0; i < base_.P_; ++i) {
      if (!(spec.populations[i].v_peak > spec.populations[i].v_reset))
        throw config_error("populations.v_peak", "must be > v_reset for the finite-peak slow mean field");
      std::vector<double> eta;
      for (double uk : u) eta.push_back(base_.eta_bar_[i] + base_.delta_[i] * std::tan(pi * (uk - 0.5)));
      eta_at_.push_back(std::move(eta));
    }
  }
}

void slow_meanfield::rates(double t, const double* y, double* R) const {
  const int P = base_.P_;
  for (int i = 0; i < P; ++i) {
    double G = 0, E = 0;
    for (int j = 0; j < P; ++j) {
      const double c = base_.kg_[i * P + j] * y[2 * j];
      G += c;
      E += c * base_.e_r_[j];
    }
    const double w = y[2 * i + 1];
    const double I = base_.input_[i].at(t);
    const double A = base_.alpha_[i] + G;
    // H(eta) = eta + I - w + E - A^2/4; the centre value:
    const double H0 = I - w + E - 0.25 * A * A;
    if (!finite_peak_) {
      R[i] = std::sqrt(std::complex<double>(base_.eta_bar_[i] + H0, base_.delta_[i])).real() / pi;
    } else {
      const double up = v_peak_[i] - 0.5 * A, lo = v_reset_[i] - 0.5 * A;
      double sum = 0;
      const auto& eta = eta_at_[i];
      for (size_t k = 0; k < eta.size(); ++k) {
        const double H = eta[k] + H0;
        if (H <= 0) continue;
        const double sq = std::sqrt(H);
        sum += u_weights_[k] * sq / (std::atan(up / sq) - std::atan(lo / sq));
      }
      R[i] = sum;
    }
  }
}

void slow_meanfield::rhs(double t, const double* y, double* dydt) const {
  const int P = base_.P_;
  double Rbuf[16];
  std::vector<double> Rvec;
  double* R = Rbuf;
  if (P > 16) {
    Rvec.resize(P);
    R = Rvec.data();
  }
  rates(t, y, R);
  for (int i = 0; i < P; ++i) {
    dydt[2 * i] = -y[2 * i] / base_.tau_s_[i] + base_.s_jump_[i] * R[i];
    dydt[2 * i + 1] = -base_.a_[i] * y[2 * i + 1] + base_.w_jump_[i] * R[i];
  }
}

// ---------------------------------------------------------------------------
// Dormand–Prince 5(4)

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
/// [1e-8, 1e8]; libm's pow took 15 % of a step). Only the step size depends on it.
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

// ---------------------------------------------------------------------------
// eigenvalues: balance + elmhes + hqr (Wilkinson & Reinsch; as in Numerical Recipes)

std::vector<std::complex<double>> eigenvalues(std::vector<double> A, int n) {
  if (n <= 0 || static_cast<int>(A.size()) != n * n) throw internal_error("eigenvalues: matrix is not n x n");
  auto a = [&](int i, int j) -> double& { return A[static_cast<size_t>(i) * n + j]; };
  for (double x : A)
    if (!std::isfinite(x)) throw internal_error("eigenvalues: non-finite matrix entry");

  // Balancing (Parlett & Reinsch): similarity by powers of 2 to equalise row/column norms.
  {
    const double radix = 2.0, sqrdx = radix * radix;
    bool done = false;
    while (!done) {
      done = true;
      for (int i = 0; i < n; ++i) {
        double r = 0, c = 0;
        for (int j = 0; j < n; ++j)
          if (j != i) {
            c += std::fabs(a(j, i));
            r += std::fabs(a(i, j));
          }
        if (c != 0 && r != 0) {
          double g = r / radix, f = 1, s = c + r;
          while (c < g) {
            f *= radix;
            c *= sqrdx;
          }
          g = r * radix;
          while (c > g) {
            f /= radix;
            c /= sqrdx;
          }
          if ((c + r) / f < 0.95 * s) {
            done = false;
            g = 1 / f;
            for (int j = 0; j < n; ++j) a(i, j) *= g;
            for (int j = 0; j < n; ++j) a(j, i) *= f;
          }
        }
      }
    }
  }
  // Reduction to upper Hessenberg form by stabilised elementary similarity transforms.
  for (int m = 1; m < n - 1; ++m) {
    double x = 0;
    int i = m;
    for (int j = m; j < n; ++j)
      if (std::fabs(a(j, m - 1)) > std::fabs(x)) {
        x = a(j, m - 1);
        i = j;
      }
    if (i != m) {
      for (int j = m - 1; j < n; ++j) std::swap(a(i, j), a(m, j));
      for (int j = 0; j < n; ++j) std::swap(a(j, i), a(j, m));
    }
    if (x != 0) {
      for (i = m + 1; i < n; ++i) {
        double y = a(i, m - 1);
        if (y != 0) {
          y /= x;
          a(i, m - 1) = 0;
          for (int j = m; j < n; ++j) a(i, j) -= y * a(m, j);
          for (int j = 0; j < n; ++j) a(j, m) += y * a(j, i);
        }
      }
    }
  }
  for (int i = 2; i < n; ++i)
    for (int j = 0; j < i - 1; ++j) a(i, j) = 0;

  // Francis double-shift QR on the Hessenberg matrix.
  std::vector<std::complex<double>> wri(n);
  const double eps = std::numeric_limits<double>::epsilon();
  auto sign = [](double x, double s) { return s >= 0 ? std::fabs(x) : -std::fabs(x); };
  double anorm = 0;
  for (int i = 0; i < n; ++i)
    for (int j = std::max(i - 1, 0); j < n; ++j) anorm += std::fabs(a(i, j));
  int nn = n - 1, l = 0;
  double t = 0;
  double p = 0, q = 0, r = 0, s, w, x, y, z;
  while (nn >= 0) {
    int its = 0;
    do {
      for (l = nn; l > 0; --l) {
        s = std::fabs(a(l - 1, l - 1)) + std::fabs(a(l, l));
        if (s == 0) s = anorm;
        if (std::fabs(a(l, l - 1)) <= eps * s) {
          a(l, l - 1) = 0;
          break;
        }
      }
      x = a(nn, nn);
      if (l == nn) {
        wri[nn--] = x + t;
      } else {
        y = a(nn - 1, nn - 1);
        w = a(nn, nn - 1) * a(nn - 1, nn);
        if (l == nn - 1) {
          p = 0.5 * (y - x);
          q = p * p + w;
          z = std::sqrt(std::fabs(q));
          x += t;
          if (q >= 0) {
            z = p + sign(z, p);
            wri[nn - 1] = wri[nn] = x + z;
            if (z != 0) wri[nn] = x - w / z;
          } else {
            wri[nn] = std::complex<double>(x + p, -z);
            wri[nn - 1] = std::conj(wri[nn]);
          }
          nn -= 2;
        } else {
          if (its == 30) throw internal_error("eigenvalues: QR iteration did not converge");
          if (its == 10 || its == 20) {  // exceptional shift
            t += x;
            for (int i = 0; i < nn + 1; ++i) a(i, i) -= x;
            s = std::fabs(a(nn, nn - 1)) + std::fabs(a(nn - 1, nn - 2));
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          ++its;
          int m;
          for (m = nn - 2; m >= l; --m) {
            z = a(m, m);
            r = x - z;
            s = y - z;
            p = (r * s - w) / a(m + 1, m) + a(m, m + 1);
            q = a(m + 1, m + 1) - z - r - s;
            r = a(m + 2, m + 1);
            s = std::fabs(p) + std::fabs(q) + std::fabs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m == l) break;
            const double u = std::fabs(a(m, m - 1)) * (std::fabs(q) + std::fabs(r));
            const double v = std::fabs(p) * (std::fabs(a(m - 1, m - 1)) + std::fabs(z) + std::fabs(a(m + 1, m + 1)));
            if (u <= eps * v) break;
          }
          for (int i = m; i < nn - 1; ++i) {
            a(i + 2, i) = 0;
            if (i != m) a(i + 2, i - 1) = 0;
          }
          for (int k = m; k < nn; ++k) {
            if (k != m) {
              p = a(k, k - 1);
              q = a(k + 1, k - 1);
              r = 0;
              if (k + 1 != nn) r = a(k + 2, k - 1);
              if ((x = std::fabs(p) + std::fabs(q) + std::fabs(r)) != 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            if ((s = sign(std::sqrt(p * p + q * q + r * r), p)) != 0) {
              if (k == m) {
                if (l != m) a(k, k - 1) = -a(k, k - 1);
              } else {
                a(k, k - 1) = -s * x;
              }
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              for (int j = k; j < nn + 1; ++j) {
                p = a(k, j) + q * a(k + 1, j);
                if (k + 1 != nn) {
                  p += r * a(k + 2, j);
                  a(k + 2, j) -= p * z;
                }
                a(k + 1, j) -= p * y;
                a(k, j) -= p * x;
              }
              const int mmin = nn < k + 3 ? nn : k + 3;
              for (int i = l; i < mmin + 1; ++i) {
                p = x * a(i, k) + y * a(i, k + 1);
                if (k + 1 != nn) {
                  p += z * a(i, k + 2);
                  a(i, k + 2) -= p * r;
                }
                a(i, k + 1) -= p * q;
                a(i, k) -= p;
              }
            }
          }
        }
      }
    } while (l + 1 < nn);
  }
  return wri;
}

// ---------------------------------------------------------------------------
// equilibria

namespace {

/// Dense LU solve with partial pivoting (n small); returns false if singular.
bool solve_linear(std::vector<double> A, std::vector<double>& b, int n) {
  for (int c = 0; c < n; ++c) {
    int piv = c;
    for (int i = c + 1; i < n; ++i)
      if (std::fabs(A[i * n + c]) > std::fabs(A[piv * n + c])) piv = i;
    if (A[piv * n + c] == 0 || !std::isfinite(A[piv * n + c])) return false;
    if (piv != c) {
      for (int j = 0; j < n; ++j) std::swap(A[c * n + j], A[piv * n + j]);
      std::swap(b[c], b[piv]);
    }
    for (int i = c + 1; i < n; ++i) {
      const double f = A[i * n + c] / A[c * n + c];
      for (int j = c; j < n; ++j) A[i * n + j] -= f * A[c * n + j];
      b[i] -= f * b[c];
    }
  }
  for (int i = n - 1; i >= 0; --i) {
    double s = b[i];
    for (int j = i + 1; j < n; ++j) s -= A[i * n + j] * b[j];
    b[i] = s / A[i * n + i];
  }
  return true;
}

/// The equilibrium reduced to the rates r (see find_equilibria).
class reduced_system {
 public:
  reduced_system(const model_spec& spec, double t_input) : spec_(spec), model_(spec), t_(t_input) {
    P_ = spec.num_populations();
    for (int i = 0; i < P_; ++i) {
      const auto& p = spec.populations[i];
      if (p.a == 0 && p.w_jump != 0) no_equilibrium_ = true;
    }
  }
  bool impossible() const { return no_equilibrium_; }
  int P() const { return P_; }
  const exact_meanfield& model() const { return model_; }

  /// Full state from rates r (all > 0).
  std::vector<double> state(const std::vector<double>& r) const {
    std::vector<double> y(4 * P_);
    for (int j = 0; j < P_; ++j) {
      y[4 * j] = r[j];
      y[4 * j + 3] = spec_.synapse.tau_s[j] * spec_.synapse.s_jump[j] * r[j];
    }
    for (int i = 0; i < P_; ++i) {
      const auto& p = spec_.populations[i];
      double G = 0;
      for (int j = 0; j < P_; ++j) G += p_kappa(j) * spec_.synapse.g[i][j] * y[4 * j + 3];
      const double v = ((p.alpha + G) * r[i] - p.delta / pi) / (2.0 * r[i]);
      y[4 * i + 1] = v;
      y[4 * i + 2] = p.a != 0 ? p.b * v + p.w_jump * r[i] / p.a : 0.0;
    }
    return y;
  }

  /// F_i(r) = v_i' at state(r).
  std::vector<double> residual(const std::vector<double>& r) const {
    const auto y = state(r);
    std::vector<double> d(y.size());
    model_.rhs(t_, y.data(), d.data());
    std::vector<double> F(P_);
    for (int i = 0; i < P_; ++i) F[i] = d[4 * i + 1];
    return F;
  }

  /// dF/dr (P x P, row-major) by the chain rule through state(r) and the analytic Jacobian.
  std::vector<double> jacobian(const std::vector<double>& r) const {
    const auto y = state(r);
    const int n = 4 * P_;
    std::vector<double> J(static_cast<size_t>(n) * n);
    model_.jacobian(t_, y.data(), J.data());
    std::vector<double> dy(static_cast<size_t>(n) * P_, 0.0);  // dy_m/dr_k
    for (int k = 0; k < P_; ++k) {
      for (int j = 0; j < P_; ++j) {
        dy[(4 * j) * P_ + k] = j == k ? 1.0 : 0.0;
        dy[(4 * j + 3) * P_ + k] = j == k ? spec_.synapse.tau_s[j] * spec_.synapse.s_jump[j] : 0.0;
      }
      for (int i = 0; i < P_; ++i) {
        const auto& p = spec_.populations[i];
        const double dG = p_kappa(k) * spec_.synapse.g[i][k] * spec_.synapse.tau_s[k] * spec_.synapse.s_jump[k];
        const double dv = 0.5 * dG + (i == k ? p.delta / (2.0 * pi * r[i] * r[i]) : 0.0);
        dy[(4 * i + 1) * P_ + k] = dv;
        dy[(4 * i + 2) * P_ + k] = p.a != 0 ? p.b * dv + (i == k ? p.w_jump / p.a : 0.0) : 0.0;
      }
    }
    std::vector<double> JF(static_cast<size_t>(P_) * P_, 0.0);
    for (int i = 0; i < P_; ++i)
      for (int k = 0; k < P_; ++k) {
        double s = 0;
        for (int m = 0; m < n; ++m) s += J[(4 * i + 1) * n + m] * dy[m * P_ + k];
        JF[i * P_ + k] = s;
      }
    return JF;
  }

 private:
  double p_kappa(int j) const { return spec_.populations[j].fraction; }
  const model_spec& spec_;
  exact_meanfield model_;
  double t_;
  int P_ = 0;
  bool no_equilibrium_ = false;
};

/// Newton on F(r) = 0 with step halving and positivity; returns success.
bool newton(const reduced_system& sys, std::vector<double>& r) {
  const int P = sys.P();
  auto fnorm = [](const std::vector<double>& F) {
    double m = 0;
    for (double x : F) m = std::max(m, std::fabs(x));
    return m;
  };
  auto F = sys.residual(r);
  double nf = fnorm(F);
  for (int it = 0; it < 100; ++it) {
    if (!std::isfinite(nf)) return false;
    auto J = sys.jacobian(r);
    std::vector<double> dr(F.begin(), F.end());
    if (!solve_linear(J, dr, P)) return false;
    double lambda = 1.0;
    bool improved = false;
    for (int half = 0; half < 40; ++half, lambda *= 0.5) {
      std::vector<double> rn(P);
      bool pos = true;
      for (int i = 0; i < P; ++i) {
        rn[i] = r[i] - lambda * dr[i];
        if (!(rn[i] > 0)) pos = false;
      }
      if (!pos) continue;
      auto Fn = sys.residual(rn);
      const double nfn = fnorm(Fn);
      if (nfn < nf || nfn < 1e-14) {
        double step = 0;
        for (int i = 0; i < P; ++i) step = std::max(step, std::fabs(rn[i] - r[i]) / r[i]);
        r = rn;
        F = Fn;
        nf = nfn;
        improved = true;
        if (step < 1e-14) return nf < 1e-9;
        break;
      }
    }
    if (!improved) return nf < 1e-10;
    if (nf < 1e-15) return true;
  }
  return nf < 1e-10;
}

equilibrium classify(const exact_meanfield& model, std::vector<double> y, double t) {
  equilibrium e;
  const int n = model.dimension();
  std::vector<double> J(static_cast<size_t>(n) * n), d(n);
  model.jacobian(t, y.data(), J.data());
  model.rhs(t, y.data(), d.data());
  for (double x : d) e.residual = std::max(e.residual, std::fabs(x));
  e.eigenvalues = eigenvalues(J, n);
  std::sort(e.eigenvalues.begin(), e.eigenvalues.end(),
            [](auto p, auto q) { return p.real() != q.real() ? p.real() > q.real() : p.imag() > q.imag(); });
  e.stable = true;
  for (const auto& l : e.eigenvalues)
    if (!(l.real() < 0)) e.stable = false;
  e.state = std::move(y);
  return e;
}

}  // namespace

std::vector<equilibrium> find_equilibria(const model_spec& spec, const equilibrium_options& opt) {
  reduced_system sys(spec, opt.t_input);
  std::vector<equilibrium> out;
  if (sys.impossible()) return out;
  const int P = sys.P();
  std::vector<std::vector<double>> roots;

  double r_max = opt.r_max;
  if (!(r_max > 0)) {
    r_max = 10.0;
    for (int k = 0; k < 20; ++k) {
      bool all_neg = true;
      for (double x : sys.residual(std::vector<double>(P, r_max)))
        if (!(x < 0)) all_neg = false;
      if (all_neg) break;
      r_max *= 2;
    }
  }
  const double lmin = std::log(opt.r_min), lmax = std::log(r_max);

  if (P == 1) {
    const int N = std::max(opt.scan_points, 10);
    auto F = [&](double r) { return sys.residual({r})[0]; };
    double rp = opt.r_min, fp = F(rp);
    for (int k = 1; k < N; ++k) {
      const double rc = std::exp(lmin + (lmax - lmin) * k / (N - 1));
      const double fc = F(rc);
      if (fc == 0) {
        roots.push_back({rc});
      } else if (std::isfinite(fp) && std::isfinite(fc) && ((fp < 0) != (fc < 0)) && fp != 0) {
        double lo = rp, hi = rc, flo = fp;
        for (int it = 0; it < 200 && hi - lo > 1e-16 * hi; ++it) {
          const double mid = 0.5 * (lo + hi), fm = F(mid);
          if ((fm < 0) == (flo < 0)) {
            lo = mid;
            flo = fm;
          } else {
            hi = mid;
          }
        }
        roots.push_back({0.5 * (lo + hi)});
      }
      rp = rc;
      fp = fc;
    }
  } else {
    const int per_axis = P == 2 ? 24 : P == 3 ? 10 : 6;
    std::vector<int> idx(P, 0);
    const double slo = std::log(1e-5), shi = std::log(std::min(r_max, 5.0));
    while (true) {
      std::vector<double> r(P);
      for (int i = 0; i < P; ++i) r[i] = std::exp(slo + (shi - slo) * idx[i] / (per_axis - 1));
      if (newton(sys, r)) {
        bool dup = false;
        for (const auto& q : roots) {
          double d = 0;
          for (int i = 0; i < P; ++i) d = std::max(d, std::fabs(q[i] - r[i]) / std::max(q[i], r[i]));
          if (d < 1e-7) dup = true;
        }
        if (!dup) roots.push_back(r);
      }
      int k = 0;
      while (k < P && ++idx[k] == per_axis) idx[k++] = 0;
      if (k == P) break;
    }
    std::sort(roots.begin(), roots.end());
  }
  for (const auto& r : roots) out.push_back(classify(sys.model(), sys.state(r), opt.t_input));
  return out;
}

}  // namespace izhinet
