/// \file meanfield_model.cpp
/// The mean-field models: right-hand sides and the analytic Jacobian of the
/// exact mean field, the slow-adaptation model (meanfield_model.hpp).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "izhinet/errors.hpp"
#include "izhinet/hd.hpp"
#include "izhinet/meanfield_model.hpp"

namespace izhinet {

namespace {

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
    delta_over_pi_.push_back(delta_[i] / k_pi);
  }
  if (P_ == 1 && input_[0].type == input_spec::kind::constant) {
    one_population_.valid = true;
    one_population_.delta_over_pi = delta_over_pi_[0];
    one_population_.alpha = alpha_[0];
    one_population_.drive = eta_bar_[0] + input_[0].value;
    one_population_.kg = kg_[0];
    one_population_.e_r = e_r_[0];
    one_population_.a = a_[0];
    one_population_.ab = a_[0] * b_[0];
    one_population_.w_jump = w_jump_[0];
    one_population_.s_jump = s_jump_[0];
    one_population_.inv_tau_s = inv_tau_s_[0];
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
    dydt[4 * i] = delta_[i] / k_pi + 2.0 * r * v - (alpha_[i] + G) * r;
    dydt[4 * i + 1] = v * v - alpha_[i] * v - w + eta_bar_[i] + I + E - G * v - k_pi * k_pi * r * r;
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
    J[vi * n + ri] = -2.0 * k_pi * k_pi * r;
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
    double z = std::cos(k_pi * (i + 0.75) / (n + 0.5)), dp = 0;
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
        const double sx = std::sin(0.5 * k_pi * x);
        u.push_back(sx * sx);
        u_weights_.push_back(0.5 * h * gw[q] * 0.5 * k_pi * std::sin(k_pi * x));
      }
    for (int i = 0; i < base_.P_; ++i) {
      if (!(spec.populations[i].v_peak > spec.populations[i].v_reset))
        throw config_error("populations.v_peak", "must be > v_reset for the finite-peak slow mean field");
      std::vector<double> eta;
      for (double uk : u) eta.push_back(base_.eta_bar_[i] + base_.delta_[i] * std::tan(k_pi * (uk - 0.5)));
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
      R[i] = std::sqrt(std::complex<double>(base_.eta_bar_[i] + H0, base_.delta_[i])).real() / k_pi;
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

}  // namespace izhinet
