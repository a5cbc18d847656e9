/// \file equilibria.cpp
/// All equilibria with r > 0 of the exact mean field at one parameter set
/// (equilibria.hpp), classified by the eigenvalues of the analytic Jacobian.
#include <algorithm>
#include <cmath>

#include "izhinet/equilibria.hpp"
#include "izhinet/hd.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/linalg.hpp"

namespace izhinet {

namespace {

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
      const double v = ((p.alpha + G) * r[i] - p.delta / k_pi) / (2.0 * r[i]);
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
        const double dv = 0.5 * dG + (i == k ? p.delta / (2.0 * k_pi * r[i] * r[i]) : 0.0);
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
    if (!solve_dense(J, dr, P)) return false;
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
