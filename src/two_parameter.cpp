/// \file two_parameter.cpp
/// Curves of Hopf points and folds in two parameters, with their
/// codimension-two points (continuation.hpp, docs/meanfield.md 5.4).
///
/// Hopf curve: unknowns (x, p1, p2, kappa, v), equations f = 0,
/// (J^2 + kappa I) v = 0, v.v = 1, v.L = 0 (kappa = omega^2; the system stays
/// regular through a Bogdanov–Takens point, where kappa changes sign and the
/// curve goes on as a neutral saddle). Tests: BT kappa; GH the first Lyapunov
/// coefficient; ZH det J / kappa (another eigenvalue through zero).
/// Fold curve: unknowns (x, p1, p2, v), equations f = 0, J v = 0, v.v_ref = 1.
/// Tests: CP the normal-form coefficient <w, B(v, v)> (w the left null vector);
/// BT <w, v>; ZH the product of (lambda_i + lambda_j) over the other eigenvalues.
/// Each zero is located by Illinois regula falsi in the arclength.
#include <spdlog/spdlog.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>

#include "bif_internal.hpp"
#include "izhinet/continuation.hpp"
#include "izhinet/hd.hpp"

namespace izhinet {

namespace {

struct box {
  double lo1, hi1, lo2, hi2;
  bool inside(double p1, double p2) const { return p1 >= lo1 && p1 <= hi1 && p2 >= lo2 && p2 <= hi2; }
};

branch_point curve_row(const std::string& name, const std::string& kind, const Eigen::VectorXd& x, double p1, double p2,
                       double period) {
  branch_point b;
  b.branch = name;
  b.kind = kind;
  b.params = {p1, p2};
  b.min = b.max = b.mean = x;
  b.period = period;
  return b;
}

/// Left null vector of J (unit, oriented along `prev` when given).
Eigen::VectorXd left_null(const Eigen::MatrixXd& J) {
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(J, Eigen::ComputeFullU);
  return svd.matrixU().col(J.rows() - 1);
}

/// Follows one curve in both directions from X0; `tests` returns the test values at a point,
/// `label` names a zero of test k (empty: ignore), `row` makes the output row.
void follow(curve_problem& prob, const Eigen::VectorXd& X0, int ip1, const box& bx, const continuation_options& o,
            const std::function<std::vector<double>(const Eigen::VectorXd&)>& tests,
            const std::function<std::string(int, const Eigen::VectorXd&)>& label,
            const std::function<branch_point(const Eigen::VectorXd&)>& row,
            const std::function<special_point(const std::string&, const Eigen::VectorXd&)>& special, bif_result& out,
            const std::string& name) {
  const int d = prob.dim();
  Eigen::VectorXd e = Eigen::VectorXd::Zero(d);
  e[ip1] = 1;
  Eigen::VectorXd X = X0;
  prob.accepted(X);
  const Eigen::VectorXd t0 = tangent(prob, X, e);
  std::vector<branch_point> rows[2];
  std::vector<special_point> sps[2];
  for (int dir = 0; dir < 2; ++dir) {
    Eigen::VectorXd Y = X0, t = dir ? Eigen::VectorXd(-t0) : t0;
    prob.accepted(Y);
    if (dir == 0) rows[0].push_back(row(Y));
    std::vector<double> g = tests(Y);
    double ds = o.ds;
    for (int step = 0; step < o.max_steps; ++step) {
      Eigen::VectorXd Yn = Y + ds * t;
      const int it = correct(prob, Yn, t, o);
      if (it < 0) {
        ds /= 2;
        if (ds < o.ds_min) {
          out.messages.push_back(name + ": stopped at (" + std::to_string(Y[ip1]) + ", " + std::to_string(Y[ip1 + 1]) +
                                 "): Newton fails at the smallest step");
          break;
        }
        continue;
      }
      Eigen::VectorXd tn = tangent(prob, Yn, t);
      if (std::acos(std::clamp(tn.dot(t), -1.0, 1.0)) > o.max_angle && ds > 4 * o.ds_min) {
        ds /= 2;
        continue;
      }
      const std::vector<double> gn = tests(Yn);
      if (!bx.inside(Yn[ip1], Yn[ip1 + 1])) break;  // left the box
      for (size_t k = 0; k < g.size(); ++k)
        if ((g[k] < 0) != (gn[k] < 0) && std::isfinite(g[k]) && std::isfinite(gn[k])) {
          Eigen::VectorXd Xs, ts;
          const size_t kk = k;
          if (!locate_on_curve(
                  prob, Y, t, g[k], ds, gn[k],
                  [&](const Eigen::VectorXd& Z, const Eigen::VectorXd&) { return tests(Z)[kk]; }, o, Xs, ts))
            continue;
          const std::string type = label(static_cast<int>(k), Xs);
          if (type.empty()) continue;
          sps[dir].push_back(special(type, Xs));
          rows[dir].push_back(row(Xs));
        }
      prob.accepted(Yn);
      tn = tangent(prob, Yn, tn);
      rows[dir].push_back(row(Yn));
      Y = Yn;
      t = tn;
      g = tests(Y);
      if (it <= 3)
        ds = std::min(ds * (it <= 2 ? 2.0 : 1.5), o.ds_max);
      else if (it >= 6)
        ds *= 0.6;
      // closed curve: back at the start
      if (step > 10 && (Y - X0).norm() < 0.5 * ds) break;
    }
  }
  out.points.insert(out.points.end(), rows[1].rbegin(), rows[1].rend());
  out.points.insert(out.points.end(), rows[0].begin(), rows[0].end());
  for (int d2 : {1, 0}) out.special.insert(out.special.end(), sps[d2].begin(), sps[d2].end());
}

}  // namespace

void two_parameter_curves(parametrized_meanfield& sys, const bif_options& o, bif_result& out) {
  const int n = sys.n();
  const box bx{std::min(o.from, o.to), std::max(o.from, o.to), std::min(o.from2, o.to2), std::max(o.from2, o.to2)};
  const std::vector<special_point> start = out.special;
  int nh = 0, nl = 0;
  std::vector<Eigen::VectorXd> done_h, done_lp;  // states already on a computed curve
  // a start point already on a computed curve: within 1e-6 of a segment between consecutive points
  auto on_curve = [&](const std::vector<Eigen::VectorXd>& pts, const Eigen::VectorXd& x, double p1, double p2) {
    Eigen::VectorXd z(n + 2);
    z << x, p1, p2;
    for (size_t k = 0; k < pts.size(); ++k) {
      if ((pts[k] - z).norm() < 1e-6) return true;
      if (k + 1 == pts.size()) break;
      const Eigen::VectorXd d = pts[k + 1] - pts[k];
      const double dd = d.squaredNorm();
      if (dd == 0 || dd > 1e-2) continue;
      const double th = std::clamp((z - pts[k]).dot(d) / dd, 0.0, 1.0);
      if ((pts[k] + th * d - z).norm() < 1e-6 + 3e-2 * std::sqrt(dd)) return true;
    }
    return false;
  };
  // H and LP points of the one-parameter diagram (KEY2 at its configured value), then the
  // Bogdanov-Takens points found on Hopf curves, where fold curves start too.
  std::vector<special_point> queue = start;
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    const special_point sp = queue[qi];
    const bool from_bt = qi >= start.size();
    if (!from_bt && sp.type != "H" && sp.type != "LP") continue;
    const double p1 = sp.params[0];
    const double p2 = from_bt ? sp.params[1] : o.p2_config;
    if (sp.type == "H" && !from_bt) {
      if (on_curve(done_h, sp.state, p1, p2)) continue;
      const std::string name = "H" + std::to_string(++nh);
      hopf_problem hp(sys, 2);
      double pp[2] = {p1, p2};
      sys.set(pp);
      Eigen::EigenSolver<Eigen::MatrixXd> es(sys.jac(sp.state));
      int k = -1;
      for (int i = 0; i < n; ++i)
        if (es.eigenvalues()[i].imag() > 0 &&
            (k < 0 || std::fabs(es.eigenvalues()[i].real()) < std::fabs(es.eigenvalues()[k].real())))
          k = i;
      if (k < 0) continue;
      Eigen::VectorXd v = es.eigenvectors().col(k).real(), w = es.eigenvectors().col(k).imag();
      v /= v.norm();
      w -= w.dot(v) * v;
      hp.L = w / w.norm();
      Eigen::VectorXd X(2 * n + 3);
      X << sp.state, p1, p2, sp.frequency * sp.frequency, v;
      auto tests = [&](const Eigen::VectorXd& Y) {
        const double kappa = Y[n + 2];
        sys.set(Y.data() + n);
        const Eigen::MatrixXd J = sys.jac(Y.head(n));
        double l1 = std::nan("");
        if (kappa > 0) l1 = first_lyapunov(sys, Y.head(n), nullptr);
        return std::vector<double>{kappa, kappa > 0 ? l1 : 1.0, J.determinant() / kappa};
      };
      auto label = [&](int k2, const Eigen::VectorXd& Y) -> std::string {
        if (k2 == 0) return "BT";
        if (k2 == 1) return Y[n + 2] > 0 ? "GH" : "";
        return Y[n + 2] > 0 ? "ZH" : "";
      };
      auto row = [&](const Eigen::VectorXd& Y) {
        done_h.push_back(Y.head(n + 2));
        const double kappa = Y[n + 2];
        return curve_row(name, "H-curve", Y.head(n), Y[n], Y[n + 1], kappa > 0 ? 2 * k_pi / std::sqrt(kappa) : 0.0);
      };
      auto special = [&](const std::string& type, const Eigen::VectorXd& Y) {
        special_point s;
        s.type = type;
        s.branch = name;
        s.params = {Y[n], Y[n + 1]};
        s.state = Y.head(n);
        sys.set(Y.data() + n);
        s.eigenvalues = eig_of(sys.jac(s.state));
        if (Y[n + 2] > 0) {
          s.frequency = std::sqrt(Y[n + 2]);
          s.period = 2 * k_pi / s.frequency;
          if (type == "GH") s.lyapunov = 0;
        }
        return s;
      };
      const size_t before = out.special.size();
      follow(hp, X, n, bx, o.curve, tests, label, row, special, out, name);
      for (size_t k = before; k < out.special.size(); ++k)
        if (out.special[k].type == "BT") queue.push_back(out.special[k]);
    } else {
      if (on_curve(done_lp, sp.state, p1, p2)) continue;
      const std::string name = "LP" + std::to_string(++nl);
      fold_problem fp(sys, 2);
      double pp[2] = {p1, p2};
      sys.set(pp);
      Eigen::JacobiSVD<Eigen::MatrixXd> svd(sys.jac(sp.state), Eigen::ComputeFullV);
      Eigen::VectorXd v = svd.matrixV().col(n - 1);
      fp.vref = v;
      Eigen::VectorXd X(2 * n + 2);
      X << sp.state, p1, p2, v;
      Eigen::VectorXd wprev = Eigen::VectorXd::Zero(0);
      auto tests = [&](const Eigen::VectorXd& Y) {
        sys.set(Y.data() + n);
        const Eigen::MatrixXd J = sys.jac(Y.head(n));
        Eigen::VectorXd vv = Y.tail(n);
        vv /= vv.norm();
        Eigen::VectorXd w = left_null(J);
        if (wprev.size() && w.dot(wprev) < 0) w = -w;
        if (!wprev.size() && w.dot(vv) < 0) w = -w;
        const double a = w.dot(sys.B(vv.cast<std::complex<double>>(), vv.cast<std::complex<double>>()).real());
        // other eigenvalues: drop the one closest to zero
        auto ev = eig_of(J);
        size_t z = 0;
        for (size_t i = 1; i < ev.size(); ++i)
          if (std::abs(ev[i]) < std::abs(ev[z])) z = i;
        ev.erase(ev.begin() + static_cast<long>(z));
        return std::vector<double>{a, w.dot(vv), hopf_test(ev)};
      };
      auto label = [&](int k2, const Eigen::VectorXd& Y) -> std::string {
        if (k2 == 0) return "CP";
        if (k2 == 1) return "BT";
        sys.set(Y.data() + n);
        for (const auto& l : eig_of(sys.jac(Y.head(n))))
          if (std::fabs(l.imag()) > 1e-8 && std::fabs(l.real()) < 1e-6) return "ZH";
        return "";
      };
      auto row = [&](const Eigen::VectorXd& Y) {
        done_lp.push_back(Y.head(n + 2));
        sys.set(Y.data() + n);
        wprev = left_null(sys.jac(Y.head(n)));
        return curve_row(name, "LP-curve", Y.head(n), Y[n], Y[n + 1], 0.0);
      };
      auto special = [&](const std::string& type, const Eigen::VectorXd& Y) {
        special_point s;
        s.type = type;
        s.branch = name;
        s.params = {Y[n], Y[n + 1]};
        s.state = Y.head(n);
        sys.set(Y.data() + n);
        s.eigenvalues = eig_of(sys.jac(s.state));
        return s;
      };
      follow(fp, X, n, bx, o.curve, tests, label, row, special, out, name);
    }
  }
}

}  // namespace izhinet
