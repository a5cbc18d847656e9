/// \file periodic_orbits.cpp
/// Periodic orbits of the exact mean field by orthogonal collocation, continued
/// in one parameter from a Hopf point (continuation.hpp, docs/meanfield.md 5.3).
///
/// Time is scaled to tau = t / T in [0, 1]. The mesh 0 = t_0 < ... < t_N = 1 has
/// N intervals; on interval j the orbit is the polynomial of degree m through its
/// values at the m + 1 equally spaced nodes t_j + k h_j / m (k = 0..m; the end
/// nodes are shared), and u' = T f(u, p) holds at the m Gauss points of the
/// interval. With u(0) = u(1) and the integral phase condition
/// int_0^1 <u, u_ref'> dtau = 0 (u_ref the previous orbit) this gives
/// n (N m + 1) + 1 equations for the node values, T and p; pseudo-arclength
/// adds the last. The Jacobian is sparse (Eigen::SparseLU). Floquet multipliers
/// come from the same Jacobian: the collocation equations of interval j map
/// u(t_j) to u(t_{j+1}) linearly, M_j, and the monodromy matrix is M_{N-1} ... M_0
/// (eigenvalues by Eigen). The mesh is adapted every few steps so that it
/// equidistributes |u^(m)|^(1/(m+1)), as AUTO does.
#include <spdlog/spdlog.h>

#include <Eigen/Sparse>
#include <Eigen/SparseLU>
#include <algorithm>
#include <cmath>

#include "bif_internal.hpp"
#include "izhinet/continuation.hpp"
#include "izhinet/errors.hpp"

namespace izhinet {

namespace {

constexpr double two_pi = 6.283185307179586;

/// Gauss–Legendre points and weights on [0, 1] (Golub–Welsch by Eigen).
void gauss01(int m, std::vector<double>& z, std::vector<double>& w) {
  Eigen::MatrixXd T = Eigen::MatrixXd::Zero(m, m);
  for (int k = 1; k < m; ++k) T(k, k - 1) = T(k - 1, k) = k / std::sqrt(4.0 * k * k - 1.0);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(T);
  z.resize(m);
  w.resize(m);
  for (int i = 0; i < m; ++i) {
    z[i] = 0.5 * (es.eigenvalues()[i] + 1.0);
    w[i] = es.eigenvectors()(0, i) * es.eigenvectors()(0, i);  // (2 v0^2) / 2
  }
}

/// Lagrange basis on the nodes k/m (k = 0..m): values and derivatives at x.
void lagrange(int m, double x, double* L, double* D) {
  for (int k = 0; k <= m; ++k) {
    double num = 1, den = 1, dsum = 0;
    for (int i = 0; i <= m; ++i) {
      if (i == k) continue;
      num *= x - static_cast<double>(i) / m;
      den *= static_cast<double>(k - i) / m;
    }
    // derivative: sum over i != k of prod_{l != k, i} (x - x_l)
    for (int i = 0; i <= m; ++i) {
      if (i == k) continue;
      double pr = 1;
      for (int l = 0; l <= m; ++l)
        if (l != k && l != i) pr *= x - static_cast<double>(l) / m;
      dsum += pr;
    }
    L[k] = num / den;
    if (D) D[k] = dsum / den;
  }
}

/// Orthogonal collocation of periodic orbits in one parameter.
class collocation {
 public:
  collocation(parametrized_meanfield& s, int N, int m) : sys_(s), n_(s.n()), m_(m) {
    gauss01(m, z_, wg_);
    Lc_.assign(static_cast<size_t>(m * (m + 1)), 0.0);
    Dc_ = Lc_;
    for (int c = 0; c < m; ++c) lagrange(m, z_[c], &Lc_[c * (m + 1)], &Dc_[c * (m + 1)]);
    set_mesh(Eigen::VectorXd::LinSpaced(N + 1, 0.0, 1.0));
  }

  int N() const { return N_; }
  int nodes() const { return N_ * m_ + 1; }
  int dim() const { return n_ * nodes() + 2; }
  int iT() const { return n_ * nodes(); }
  int ip() const { return n_ * nodes() + 1; }
  const Eigen::VectorXd& mesh() const { return mesh_; }
  double wT = 1.0;      ///< arclength weight of the period
  Eigen::VectorXd ref;  ///< node values of the reference orbit (phase condition)

  void set_mesh(const Eigen::VectorXd& mesh) {
    mesh_ = mesh;
    N_ = static_cast<int>(mesh.size()) - 1;
    analysed_ = false;
    W_.resize(dim());
    W_.setZero();
    for (int j = 0; j < N_; ++j) {
      const double h = mesh_[j + 1] - mesh_[j];
      for (int k = 0; k <= m_; ++k) {
        const double w = (k == 0 || k == m_) ? h / (2.0 * m_) : h / m_;
        for (int i = 0; i < n_; ++i) W_[(j * m_ + k) * n_ + i] += w;
      }
    }
    W_[iT()] = wT;
    W_[ip()] = 1.0;
  }
  void set_period_weight(double w) {
    wT = w;
    W_[iT()] = w;
  }
  double wdot(const Eigen::VectorXd& a, const Eigen::VectorXd& b) const {
    return (W_.array() * a.array() * b.array()).sum();
  }

  /// State at the collocation point (j, c) of the node values U.
  void at_point(const Eigen::VectorXd& X, int j, int c, double* u, double* du) const {
    const double h = mesh_[j + 1] - mesh_[j];
    for (int i = 0; i < n_; ++i) {
      u[i] = 0;
      if (du) du[i] = 0;
    }
    for (int k = 0; k <= m_; ++k) {
      const double* node = X.data() + (j * m_ + k) * n_;
      const double l = Lc_[c * (m_ + 1) + k], d = Dc_[c * (m_ + 1) + k] / h;
      for (int i = 0; i < n_; ++i) {
        u[i] += l * node[i];
        if (du) du[i] += d * node[i];
      }
    }
  }

  /// Residual (dim()-1 rows) and, if J, the sparse Jacobian (dim()-1 + 1 rows: the last row
  /// is left for the arclength condition, filled by the caller with `tan`).
  void assemble(const Eigen::VectorXd& X, Eigen::VectorXd& G, Eigen::SparseMatrix<double>* J,
                const Eigen::VectorXd* tan) {
    const int n = n_, rows = dim() - 1;
    const double T = X[iT()], p = X[ip()];
    G.resize(rows);
    std::vector<Eigen::Triplet<double>> trip;
    if (J) trip.reserve(static_cast<size_t>(N_ * m_ * n * ((m_ + 1) * n + 2) + 2 * n + 2 * dim()));
    std::vector<double> u(n), du(n), f(n), fpp(n), fmm(n), Jm(static_cast<size_t>(n * n)), ur(n), dur(n);
    const double hp = 1e-6 * (1.0 + std::fabs(p));
    double phase = 0;
    Eigen::VectorXd phase_row;
    if (J) phase_row = Eigen::VectorXd::Zero(dim());
    for (int j = 0; j < N_; ++j) {
      const double h = mesh_[j + 1] - mesh_[j];
      for (int c = 0; c < m_; ++c) {
        at_point(X, j, c, u.data(), du.data());
        sys_.set(&p);
        sys_.f(u.data(), f.data());
        const int row = (j * m_ + c) * n;
        for (int i = 0; i < n; ++i) G[row + i] = du[i] - T * f[i];
        // phase condition: int <u, u_ref'> dtau
        at_point(ref, j, c, ur.data(), dur.data());
        const double wq = h * wg_[c];
        for (int i = 0; i < n; ++i) phase += wq * u[i] * dur[i];
        if (!J) continue;
        sys_.jac(u.data(), Jm.data());
        double q = p + hp;
        sys_.set(&q);
        sys_.f(u.data(), fpp.data());
        q = p - hp;
        sys_.set(&q);
        sys_.f(u.data(), fmm.data());
        sys_.set(&p);
        for (int k = 0; k <= m_; ++k) {
          const double l = Lc_[c * (m_ + 1) + k], d = Dc_[c * (m_ + 1) + k] / h;
          const int col = (j * m_ + k) * n;
          for (int i = 0; i < n; ++i)
            for (int a = 0; a < n; ++a) {
              const double v = (i == a ? d : 0.0) - T * Jm[i * n + a] * l;
              if (v != 0) trip.emplace_back(row + i, col + a, v);
            }
          for (int i = 0; i < n; ++i) phase_row[col + i] += wq * l * dur[i];
        }
        for (int i = 0; i < n; ++i) {
          trip.emplace_back(row + i, iT(), -f[i]);
          trip.emplace_back(row + i, ip(), -T * (fpp[i] - fmm[i]) / (2 * hp));
        }
      }
    }
    const int prow = N_ * m_ * n;
    for (int i = 0; i < n; ++i) {
      G[prow + i] = X[i] - X[(nodes() - 1) * n + i];
      if (J) {
        trip.emplace_back(prow + i, i, 1.0);
        trip.emplace_back(prow + i, (nodes() - 1) * n + i, -1.0);
      }
    }
    G[rows - 1] = phase;
    if (J) {
      for (int k = 0; k < dim(); ++k)
        if (phase_row[k] != 0) trip.emplace_back(rows - 1, k, phase_row[k]);
      for (int k = 0; k < dim(); ++k) trip.emplace_back(rows, k, W_[k] * (*tan)[k]);  // explicit zeros keep the pattern
      J->resize(dim(), dim());
      J->setFromTriplets(trip.begin(), trip.end());
    }
  }

  bool factor(Eigen::SparseMatrix<double>& A) {
    A.makeCompressed();
    if (!analysed_) {
      lu_.analyzePattern(A);
      analysed_ = true;
    }
    lu_.factorize(A);
    return lu_.info() == Eigen::Success;
  }

  /// Newton on the collocation system + arclength row t.(X - X_pred) = 0; iterations or -1.
  int correct(Eigen::VectorXd& X, const Eigen::VectorXd& t, int max_iter, double tol) {
    const Eigen::VectorXd Xp = X;
    Eigen::VectorXd G, R(dim());
    Eigen::SparseMatrix<double> A;
    for (int it = 1; it <= max_iter; ++it) {
      assemble(X, G, &A, &t);
      if (!G.allFinite()) return -1;
      if (!factor(A)) return -1;
      R.head(dim() - 1) = G;
      R[dim() - 1] = wdot(t, X - Xp);
      const Eigen::VectorXd dX = lu_.solve(R);
      if (!dX.allFinite()) return -1;
      X -= dX;
      if (X[iT()] <= 0) return -1;
      double step = 0;
      for (int k = 0; k < dim(); ++k) step = std::max(step, std::fabs(dX[k]) / (1.0 + std::fabs(X[k])));
      if (step < tol) {
        // the tangent from the last factorisation ([dG/dX; W t] at the last iterate)
        Eigen::VectorXd e = Eigen::VectorXd::Zero(dim());
        e[dim() - 1] = 1;
        last_tangent = lu_.solve(e);
        last_tangent /= std::sqrt(wdot(last_tangent, last_tangent));
        if (wdot(last_tangent, t) < 0) last_tangent = -last_tangent;
        return it;
      }
    }
    return -1;
  }
  Eigen::VectorXd last_tangent;  ///< set by a converged correct()

  Eigen::VectorXd tangent(const Eigen::VectorXd& X, const Eigen::VectorXd& prev) {
    Eigen::VectorXd G;
    Eigen::SparseMatrix<double> A;
    assemble(X, G, &A, &prev);
    Eigen::VectorXd e = Eigen::VectorXd::Zero(dim());
    e[dim() - 1] = 1;
    Eigen::VectorXd t = factor(A) ? Eigen::VectorXd(lu_.solve(e)) : prev;
    t /= std::sqrt(wdot(t, t));
    if (wdot(t, prev) < 0) t = -t;
    return t;
  }

  /// Floquet multipliers (the monodromy matrix from the collocation blocks), sorted by modulus, largest first.
  std::vector<std::complex<double>> multipliers(const Eigen::VectorXd& X) {
    const int n = n_;
    const double T = X[iT()], p = X[ip()];
    sys_.set(&p);
    Eigen::MatrixXd M = Eigen::MatrixXd::Identity(n, n);
    Eigen::MatrixXd blk(m_ * n, (m_ + 1) * n);
    std::vector<double> u(n), Jm(static_cast<size_t>(n * n));
    for (int j = 0; j < N_; ++j) {
      const double h = mesh_[j + 1] - mesh_[j];
      for (int c = 0; c < m_; ++c) {
        at_point(X, j, c, u.data(), nullptr);
        sys_.jac(u.data(), Jm.data());
        for (int k = 0; k <= m_; ++k) {
          const double l = Lc_[c * (m_ + 1) + k], d = Dc_[c * (m_ + 1) + k] / h;
          for (int i = 0; i < n; ++i)
            for (int a = 0; a < n; ++a) blk(c * n + i, k * n + a) = (i == a ? d : 0.0) - T * Jm[i * n + a] * l;
        }
      }
      const Eigen::MatrixXd S = blk.rightCols(m_ * n).partialPivLu().solve(blk.leftCols(n));
      M = (-S.bottomRows(n)) * M;
    }
    Eigen::EigenSolver<Eigen::MatrixXd> es(M, false);
    std::vector<std::complex<double>> mu(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) mu[static_cast<size_t>(i)] = es.eigenvalues()[i];
    std::sort(mu.begin(), mu.end(), [](auto a, auto b) { return std::abs(a) > std::abs(b); });
    return mu;
  }

  /// Min, max and mean over the orbit of every variable.
  void stats(const Eigen::VectorXd& X, Eigen::VectorXd& mn, Eigen::VectorXd& mx, Eigen::VectorXd& mean) const {
    const int n = n_;
    mn = Eigen::VectorXd::Constant(n, 1e300);
    mx = Eigen::VectorXd::Constant(n, -1e300);
    mean = Eigen::VectorXd::Zero(n);
    std::vector<double> u(n);
    std::vector<double> L(static_cast<size_t>(m_ + 1));
    for (int j = 0; j < N_; ++j) {
      const double h = mesh_[j + 1] - mesh_[j];
      for (int c = 0; c < m_; ++c) {
        at_point(X, j, c, u.data(), nullptr);
        for (int i = 0; i < n; ++i) mean[i] += h * wg_[c] * u[i];
      }
      for (int q = 0; q < 4 * m_; ++q) {  // dense sampling for the extremes
        lagrange(m_, q / (4.0 * m_), L.data(), nullptr);
        for (int i = 0; i < n; ++i) {
          double s = 0;
          for (int k = 0; k <= m_; ++k) s += L[k] * X[(j * m_ + k) * n + i];
          mn[i] = std::min(mn[i], s);
          mx[i] = std::max(mx[i], s);
        }
      }
    }
  }

  /// Value of the piecewise polynomial of X (node values) at tau in [0, 1].
  Eigen::VectorXd eval(const Eigen::VectorXd& X, const Eigen::VectorXd& mesh, int m, double tau) const {
    const int N = static_cast<int>(mesh.size()) - 1;
    int j = static_cast<int>(std::upper_bound(mesh.data(), mesh.data() + N + 1, tau) - mesh.data()) - 1;
    j = std::clamp(j, 0, N - 1);
    const double x = (tau - mesh[j]) / (mesh[j + 1] - mesh[j]);
    std::vector<double> L(static_cast<size_t>(m + 1));
    lagrange(m, x, L.data(), nullptr);
    Eigen::VectorXd u = Eigen::VectorXd::Zero(n_);
    for (int k = 0; k <= m; ++k) u += L[k] * X.segment((j * m + k) * n_, n_);
    return u;
  }

  /// Node values on `mesh` of the orbit X given on the current mesh (T and p kept).
  Eigen::VectorXd resample(const Eigen::VectorXd& X, const Eigen::VectorXd& newmesh) const {
    const int Nn = static_cast<int>(newmesh.size()) - 1;
    Eigen::VectorXd Y(n_ * (Nn * m_ + 1) + 2);
    for (int j = 0; j < Nn; ++j)
      for (int k = 0; k < m_; ++k)
        Y.segment((j * m_ + k) * n_, n_) = eval(X, mesh_, m_, newmesh[j] + k * (newmesh[j + 1] - newmesh[j]) / m_);
    Y.segment(Nn * m_ * n_, n_) = X.segment((nodes() - 1) * n_, n_);
    Y[Y.size() - 2] = X[iT()];
    Y[Y.size() - 1] = X[ip()];
    return Y;
  }

  /// A mesh of the same size equidistributing |u^(m)|^(1/(m+1)) of X.
  Eigen::VectorXd adapted_mesh(const Eigen::VectorXd& X) const {
    Eigen::VectorXd rho(N_);
    for (int j = 0; j < N_; ++j) {
      const double h = mesh_[j + 1] - mesh_[j];
      double dm = 0;
      for (int i = 0; i < n_; ++i) {
        // m-th forward difference of the m+1 node values = h_node^m u^(m)
        double s = 0, binom = 1;
        for (int k = 0; k <= m_; ++k) {
          s += ((m_ - k) % 2 ? -1.0 : 1.0) * binom * X[(j * m_ + k) * n_ + i];
          binom = binom * (m_ - k) / (k + 1);
        }
        dm = std::max(dm, std::fabs(s) / std::pow(h / m_, m_));
      }
      rho[j] = std::pow(dm, 1.0 / (m_ + 1));
    }
    const double floor = 0.02 * rho.maxCoeff() + 1e-300;
    Eigen::VectorXd cum(N_ + 1);
    cum[0] = 0;
    for (int j = 0; j < N_; ++j) cum[j + 1] = cum[j] + std::max(rho[j], floor) * (mesh_[j + 1] - mesh_[j]);
    Eigen::VectorXd nm(N_ + 1);
    nm[0] = 0;
    nm[N_] = 1;
    int j = 0;
    for (int k = 1; k < N_; ++k) {
      const double target = cum[N_] * k / N_;
      while (j < N_ - 1 && cum[j + 1] < target) ++j;
      nm[k] = mesh_[j] + (target - cum[j]) / (cum[j + 1] - cum[j]) * (mesh_[j + 1] - mesh_[j]);
    }
    return nm;
  }

 private:
  parametrized_meanfield& sys_;
  int n_, m_, N_ = 0;
  std::vector<double> z_, wg_, Lc_, Dc_;
  Eigen::VectorXd mesh_, W_;
  Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<int>> lu_;
  bool analysed_ = false;
};

double pd_test(const std::vector<std::complex<double>>& mu) {
  std::complex<double> pr = 1;
  for (const auto& z : mu)
    if (std::abs(z) > 1e-2 && std::abs(z) < 1e2) pr *= z + 1.0;
  return pr.real();
}

/// Index of the trivial multiplier (closest to 1).
size_t trivial(const std::vector<std::complex<double>>& mu) {
  size_t k = 0;
  for (size_t i = 1; i < mu.size(); ++i)
    if (std::abs(mu[i] - 1.0) < std::abs(mu[k] - 1.0)) k = i;
  return k;
}

double ns_test(const std::vector<std::complex<double>>& mu) {
  const size_t tr = trivial(mu);
  std::complex<double> pr = 1;
  for (size_t i = 0; i < mu.size(); ++i)
    for (size_t j = i + 1; j < mu.size(); ++j) {
      if (i == tr || j == tr) continue;
      if (std::abs(mu[i]) < 1e-2 || std::abs(mu[i]) > 1e2 || std::abs(mu[j]) < 1e-2 || std::abs(mu[j]) > 1e2) continue;
      pr *= mu[i] * mu[j] - 1.0;
    }
  return pr.real();
}

branch_point po_row(collocation& col, const std::string& name, const Eigen::VectorXd& X,
                    const std::vector<std::complex<double>>& mu) {
  branch_point b;
  b.branch = name;
  b.kind = "PO";
  b.params = {X[col.ip()]};
  b.period = X[col.iT()];
  col.stats(X, b.min, b.max, b.mean);
  const size_t tr = trivial(mu);
  b.stable = 1;
  for (size_t i = 0; i < mu.size(); ++i)
    if (i != tr && !(std::abs(mu[i]) < 1)) b.stable = 0;
  for (size_t i = 0; i < mu.size(); ++i)
    if (i != tr) {
      b.leading = mu[i];
      b.has_leading = true;
      break;
    }
  return b;
}

}  // namespace

void periodic_branch(parametrized_meanfield& sys, const special_point& hopf, const std::string& name,
                     const bif_options& o, bif_result& out) {
  const int n = sys.n();
  const double lo = std::min(o.from, o.to), hi = std::max(o.from, o.to);
  const std::string& key = sys.params()[0].key;
  // already covered: a computed periodic branch that ended at this Hopf point
  for (const auto& m : out.messages)
    if (m.find("ends at the Hopf point at " + key + " = " + std::to_string(hopf.params[0])) != std::string::npos) {
      return;
    }
  collocation col(sys, o.mesh, o.ncol);
  const double pH = hopf.params[0];
  sys.set(&pH);
  const Eigen::VectorXd x0 = hopf.state;
  const Eigen::MatrixXd A = sys.jac(x0);
  Eigen::EigenSolver<Eigen::MatrixXd> es(A);
  int k = -1;
  for (int i = 0; i < n; ++i)
    if (es.eigenvalues()[i].imag() > 0 &&
        (k < 0 || std::fabs(es.eigenvalues()[i].real()) < std::fabs(es.eigenvalues()[k].real())))
      k = i;
  if (k < 0) return;
  const double omega = es.eigenvalues()[k].imag(), TH = two_pi / omega;
  const Eigen::VectorXcd q = es.eigenvectors().col(k);
  col.set_period_weight(1.0 / (TH * TH));
  Eigen::VectorXd X(col.dim()), t(col.dim());
  const int nodes = col.nodes();
  for (int j = 0; j < col.N(); ++j)
    for (int kk = 0; kk <= o.ncol; ++kk) {
      if (j > 0 && kk == 0) continue;
      const double tau = col.mesh()[j] + kk * (col.mesh()[j + 1] - col.mesh()[j]) / o.ncol;
      const int node = j * o.ncol + kk;
      X.segment(node * n, n) = x0;
      t.segment(node * n, n) = q.real() * std::cos(two_pi * tau) - q.imag() * std::sin(two_pi * tau);
    }
  (void)nodes;
  X[col.iT()] = TH;
  X[col.ip()] = pH;
  t[col.iT()] = 0;
  t[col.ip()] = 0;
  t /= std::sqrt(col.wdot(t, t));
  col.ref = t;  // phase condition against the Hopf mode
  double ds = o.po.ds;
  // the first orbit: predictor along the Hopf mode, corrected with that mode as tangent
  Eigen::VectorXd Xc = X + ds * t;
  if (col.correct(Xc, t, 20, o.po.newton_tol) < 0) {
    out.messages.push_back(name + ": no periodic orbit found near the Hopf point at " + key + " = " +
                           std::to_string(pH));
    return;
  }
  // direction: away from the Hopf point
  Eigen::VectorXd tn = col.tangent(Xc, t);
  if (col.wdot(tn, Xc - X) < 0) tn = -tn;
  X = Xc;
  t = tn;
  col.ref = X;
  std::vector<branch_point> rows;
  rows.push_back(hopf.state.size() ? [&] {
    branch_point b;
    b.branch = name;
    b.kind = "PO";
    b.params = {pH};
    b.period = TH;
    b.min = b.max = b.mean = x0;
    b.stable = -1;
    return b;
  }()
                                   : branch_point{});
  auto mu = col.multipliers(X);
  rows.push_back(po_row(col, name, X, mu));
  double g_lpc = t[col.ip()], g_pd = pd_test(mu), g_ns = ns_test(mu);
  int since_adapt = 0;
  double amp_max = 0;
  std::string stop;
  for (int step = 0; step < o.po.max_steps; ++step) {
    if (++since_adapt >= 3) {  // adapt the mesh to the current orbit
      since_adapt = 0;
      const Eigen::VectorXd nm = col.adapted_mesh(X);
      const Eigen::VectorXd Xn = col.resample(X, nm), tn2 = col.resample(t, nm);
      col.set_mesh(nm);
      col.set_period_weight(1.0 / (TH * TH));
      X = Xn;
      col.ref = X;
      t = tn2 / std::sqrt(col.wdot(tn2, tn2));
      Eigen::VectorXd Xr = X;
      if (col.correct(Xr, t, 10, o.po.newton_tol) > 0) X = Xr;
      col.ref = X;
      t = col.tangent(X, t);
    }
    Eigen::VectorXd Xn = X + ds * t;
    const int it = col.correct(Xn, t, o.po.newton_max, o.po.newton_tol);
    if (it < 0) {
      ds /= 2;
      if (ds < o.po.ds_min) {
        stop = "continuation stopped (Newton fails even at the smallest step)";
        break;
      }
      continue;
    }
    const Eigen::VectorXd tn = col.last_tangent;
    if (std::acos(std::clamp(col.wdot(tn, t), -1.0, 1.0)) > o.po.max_angle && ds > 4 * o.po.ds_min) {
      ds /= 2;
      continue;
    }
    const auto mun = col.multipliers(Xn);
    const double gl = tn[col.ip()], gp = pd_test(mun), gn = ns_test(mun);
    const double pn = Xn[col.ip()];
    const bool leave = pn < lo || pn > hi;
    // special points between X and Xn: located by Illinois regula falsi in the arclength
    auto locate = [&](double ga, double gb,
                      const std::function<double(const Eigen::VectorXd&, const Eigen::VectorXd&,
                                                 const std::vector<std::complex<double>>&)>& g,
                      Eigen::VectorXd& Xs, Eigen::VectorXd& ts) {
      double sa = 0, sb = ds;
      int side = 0;
      for (int i = 0; i < 40; ++i) {
        const double s = (sa * gb - sb * ga) / (gb - ga);
        Xs = X + s * t;
        col.ref = X;
        if (col.correct(Xs, t, 12, 1e-11) < 0) return false;
        ts = col.tangent(Xs, t);
        const double gv = g(Xs, ts, col.multipliers(Xs));
        if (gv == 0 || std::fabs(sb - sa) < 1e-12 * ds) return true;
        if ((gv < 0) == (ga < 0)) {
          sa = s;
          ga = gv;
          if (side == -1) gb /= 2;
          side = -1;
        } else {
          sb = s;
          gb = gv;
          if (side == 1) ga /= 2;
          side = 1;
        }
      }
      return true;
    };
    auto add_special = [&](const std::string& type, const Eigen::VectorXd& Xs) {
      // the same fold found again (a period that keeps growing at a parameter fixed to rounding,
      // near a homoclinic orbit): reported once
      for (const auto& q : out.special)
        if (q.branch == name && q.type == type && type != "UZ" &&
            std::fabs(q.params[0] - Xs[col.ip()]) < 1e-9 * (1 + std::fabs(Xs[col.ip()])))
          return;
      special_point sp;
      sp.type = type;
      sp.branch = name;
      sp.params = {Xs[col.ip()]};
      sp.state = Xs.head(n);
      sp.eigenvalues = col.multipliers(Xs);
      sp.multipliers = true;
      sp.period = Xs[col.iT()];
      out.special.push_back(sp);
      rows.push_back(po_row(col, name, Xs, sp.eigenvalues));
    };
    if (!leave) {
      Eigen::VectorXd Xs, ts;
      if ((g_lpc < 0) != (gl < 0) &&
          locate(
              g_lpc, gl, [&](const Eigen::VectorXd&, const Eigen::VectorXd& tt, const auto&) { return tt[col.ip()]; },
              Xs, ts))
        add_special("LPC", Xs);
      if ((g_pd < 0) != (gp < 0) &&
          locate(
              g_pd, gp, [](const Eigen::VectorXd&, const Eigen::VectorXd&, const auto& m) { return pd_test(m); }, Xs,
              ts)) {
        // a multiplier at -1, not a multiplier entering or leaving the window of the test
        bool at_minus_one = false;
        for (const auto& z : col.multipliers(Xs)) at_minus_one = at_minus_one || std::abs(z + 1.0) < 1e-4;
        if (at_minus_one) add_special("PD", Xs);
      }
      if ((g_ns < 0) != (gn < 0) &&
          locate(
              g_ns, gn, [](const Eigen::VectorXd&, const Eigen::VectorXd&, const auto& m) { return ns_test(m); }, Xs,
              ts)) {
        const auto m = col.multipliers(Xs);
        bool cplx = false;
        for (const auto& z : m) cplx = cplx || (std::fabs(z.imag()) > 1e-6 && std::fabs(std::abs(z) - 1) < 1e-3);
        if (cplx) add_special("NS", Xs);
      }
      for (double u : o.user_points)
        if ((X[col.ip()] - u < 0) != (pn - u < 0) &&
            locate(
                X[col.ip()] - u, pn - u,
                [&](const Eigen::VectorXd& Y, const Eigen::VectorXd&, const auto&) { return Y[col.ip()] - u; }, Xs, ts))
          add_special("UZ", Xs);
    }
    if (leave) {
      const double bound = pn < lo ? lo : hi;
      Eigen::VectorXd Xs, ts;
      if (locate(
              X[col.ip()] - bound, pn - bound,
              [&](const Eigen::VectorXd& Y, const Eigen::VectorXd&, const auto&) { return Y[col.ip()] - bound; }, Xs,
              ts))
        rows.push_back(po_row(col, name, Xs, col.multipliers(Xs)));
      break;
    }
    rows.push_back(po_row(col, name, Xn, mun));
    col.ref = Xn;
    X = Xn;
    t = tn;
    g_lpc = gl;
    g_pd = gp;
    g_ns = gn;
    const double T = X[col.iT()];
    if (T > o.max_period_factor * TH) {
      stop = "period grew from " + std::to_string(TH) + " at the Hopf point to " + std::to_string(T) + " at " + key +
             " = " + std::to_string(X[col.ip()]) + ": the branch approaches a homoclinic orbit (stopped there)";
      break;
    }
    {
      // shrinking back onto an equilibrium: the branch ends at a Hopf point
      const branch_point& b = rows.back();
      const double amp = (b.max - b.min).maxCoeff();
      amp_max = std::max(amp_max, amp);
      if (amp < 0.05 * amp_max) {
        const double pa = rows[rows.size() - 2].params[0], pb = b.params[0];
        for (const auto& s : out.special) {
          if (s.type != "H") continue;
          const double ph = s.params[0];
          if (std::fabs(ph - pb) < 5 * std::fabs(pb - pa) + 1e-6) {
            stop = "ends at the Hopf point at " + key + " = " + std::to_string(ph);
            break;
          }
        }
        if (!stop.empty()) break;
      }
    }
    if (it <= 3)
      ds = std::min(ds * (it <= 2 ? 2.0 : 1.5), o.po.ds_max);
    else if (it >= 6)
      ds *= 0.6;
  }
  if (stop.empty() && rows.size() >= static_cast<size_t>(o.po.max_steps))
    stop = "stopped after " + std::to_string(o.po.max_steps) + " steps";
  if (!stop.empty())
    out.messages.push_back(name + " (from the Hopf point at " + key + " = " + std::to_string(pH) + "): " + stop);
  out.points.insert(out.points.end(), rows.begin(), rows.end());
}

}  // namespace izhinet
