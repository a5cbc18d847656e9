/// \file continuation.cpp
/// Parameter keys, the parametrised mean field, the pseudo-arclength engine,
/// branches of equilibria with their folds, Hopf and branch points, and the
/// first Lyapunov coefficient (continuation.hpp, docs/meanfield.md section 5).
#include "izhinet/continuation.hpp"
#include "izhinet/hd.hpp"

#include <spdlog/spdlog.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "izhinet/equilibria.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/linalg.hpp"
#include "bif_internal.hpp"

namespace izhinet {

namespace {

const std::vector<std::string> k_pop_fields = {"eta_bar", "delta", "alpha", "a", "b", "w_jump", "I_ext", "fraction"};
const char* k_valid_keys =
    "population.K.{eta_bar,delta,alpha,a,b,w_jump,I_ext,fraction} (K a population index or * for all), "
    "synapse.g.I.J, synapse.{e_r,tau_s,s_jump}.J";

int parse_index(const std::string& key, const std::string& text, int P) {
  char* end = nullptr;
  const long k = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end || k < 0 || k >= P)
    throw config_error(key, "index '" + text + "' is not a population in [0, " + std::to_string(P - 1) + "]");
  return static_cast<int>(k);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == '.') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// parameter keys

param_binding bind_parameter(const model_spec& spec, const std::string& key) {
  const int P = spec.num_populations();
  const auto parts = split(key);
  param_binding b;
  b.key = key;
  if (parts.size() == 3 && parts[0] == "population") {
    const std::string& f = parts[2];
    if (std::find(k_pop_fields.begin(), k_pop_fields.end(), f) == k_pop_fields.end()) {
      if (f == "v_peak" || f == "v_reset")
        throw config_error(key, "the exact mean field does not depend on it (v_peak, v_reset -> infinity); valid: " +
                                    std::string(k_valid_keys));
      throw config_error(key, "not a numeric parameter of the mean field; valid: " + std::string(k_valid_keys));
    }
    b.field = f;
    b.index = parts[1] == "*" ? -1 : parse_index(key, parts[1], P);
    for (int i = 0; i < P; ++i)
      if ((b.index < 0 || b.index == i) && f == "I_ext" &&
          spec.populations[static_cast<size_t>(i)].I_ext.type != input_spec::kind::constant)
        throw config_error(key, "I_ext of population " + std::to_string(i) +
                                    " varies in time: only a constant input can be a continuation parameter");
    if (f == "fraction") {
      if (P < 2) throw config_error(key, "with one population the fraction is 1 and cannot be varied");
      if (b.index < 0) throw config_error(key, "the fractions sum to 1: name one population (population.K.fraction)");
      b.what = param_binding::kind::fraction;
      for (const auto& p : spec.populations) b.base_fractions.push_back(p.fraction);
      b.lo = 0;
      b.hi = 1;
      b.lo_open = true;
    }
    if (f == "delta") {
      b.lo = 0;  // the mean field needs delta > 0
      b.lo_open = true;
    }
    return b;
  }
  if (parts.size() >= 3 && parts[0] == "synapse") {
    const std::string& f = parts[1];
    if (f == "g" && parts.size() == 4) {
      b.what = param_binding::kind::g;
      b.index = parse_index(key, parts[2], P);
      b.index2 = parse_index(key, parts[3], P);
      return b;
    }
    if (parts.size() == 3 && (f == "e_r" || f == "tau_s" || f == "s_jump")) {
      b.what = f == "e_r"     ? param_binding::kind::e_r
               : f == "tau_s" ? param_binding::kind::tau_s
                              : param_binding::kind::s_jump;
      b.index = parse_index(key, parts[2], P);
      if (f == "tau_s") {
        b.lo = 0;
        b.lo_open = true;
      }
      return b;
    }
  }
  throw config_error(key, "not a numeric parameter of the mean field; valid: " + std::string(k_valid_keys));
}

namespace {
double& pop_field(population_params& p, const std::string& f) {
  if (f == "eta_bar") return p.eta_bar;
  if (f == "delta") return p.delta;
  if (f == "alpha") return p.alpha;
  if (f == "a") return p.a;
  if (f == "b") return p.b;
  if (f == "w_jump") return p.w_jump;
  if (f == "I_ext") return p.I_ext.value;
  return p.fraction;
}
}  // namespace

double param_binding::get(const model_spec& s) const {
  switch (what) {
    case kind::population:
    case kind::fraction: {
      auto p = s.populations[static_cast<size_t>(std::max(index, 0))];
      return pop_field(p, field);
    }
    case kind::g:
      return s.synapse.g[static_cast<size_t>(index)][static_cast<size_t>(index2)];
    case kind::e_r:
      return s.synapse.e_r[static_cast<size_t>(index)];
    case kind::tau_s:
      return s.synapse.tau_s[static_cast<size_t>(index)];
    case kind::s_jump:
      return s.synapse.s_jump[static_cast<size_t>(index)];
  }
  return 0;
}

void param_binding::set(model_spec& s, double x) const {
  switch (what) {
    case kind::population:
      for (size_t i = 0; i < s.populations.size(); ++i)
        if (index < 0 || static_cast<int>(i) == index) pop_field(s.populations[i], field) = x;
      return;
    case kind::fraction: {
      const double rest0 = 1.0 - base_fractions[static_cast<size_t>(index)];
      for (size_t i = 0; i < s.populations.size(); ++i)
        s.populations[i].fraction =
            static_cast<int>(i) == index ? x : base_fractions[i] * (1.0 - x) / (rest0 > 0 ? rest0 : 1.0);
      return;
    }
    case kind::g:
      s.synapse.g[static_cast<size_t>(index)][static_cast<size_t>(index2)] = x;
      return;
    case kind::e_r:
      s.synapse.e_r[static_cast<size_t>(index)] = x;
      return;
    case kind::tau_s:
      s.synapse.tau_s[static_cast<size_t>(index)] = x;
      return;
    case kind::s_jump:
      s.synapse.s_jump[static_cast<size_t>(index)] = x;
      return;
  }
}

// ---------------------------------------------------------------------------
// the parametrised model

parametrized_meanfield::parametrized_meanfield(const model_spec& base, std::vector<param_binding> params)
    : base_(base), params_(std::move(params)) {
  for (auto& p : base_.populations)
    if (p.I_ext.type != input_spec::kind::constant) {
      p.I_ext.value = p.I_ext.at(0.0);
      p.I_ext.type = input_spec::kind::constant;
    }
  model_ = std::make_unique<exact_meanfield>(base_);
  n_ = model_->dimension();
  for (const auto& b : params_) current_.push_back(b.get(base_));
}

model_spec parametrized_meanfield::spec_at(const double* p) const {
  model_spec s = base_;
  for (size_t k = 0; k < params_.size(); ++k) params_[k].set(s, p[k]);
  return s;
}

void parametrized_meanfield::set(const double* p) {
  bool same = true;
  for (size_t k = 0; k < params_.size(); ++k) same = same && current_[k] == p[k];
  if (same) return;
  for (size_t k = 0; k < params_.size(); ++k) current_[k] = p[k];
  model_ = std::make_unique<exact_meanfield>(spec_at(p));
}

Eigen::VectorXd parametrized_meanfield::f(const Eigen::VectorXd& x) const {
  Eigen::VectorXd out(n_);
  f(x.data(), out.data());
  return out;
}

Eigen::MatrixXd parametrized_meanfield::jac(const Eigen::VectorXd& x) const {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> J(n_, n_);
  jac(x.data(), J.data());
  return J;
}

Eigen::VectorXd parametrized_meanfield::dfdp(const Eigen::VectorXd& x, const double* p, int k) {
  std::vector<double> q(p, p + params_.size());
  const double h = 1e-6 * (1.0 + std::fabs(p[k]));
  q[static_cast<size_t>(k)] = p[k] + h;
  set(q.data());
  const Eigen::VectorXd fp = f(x);
  q[static_cast<size_t>(k)] = p[k] - h;
  set(q.data());
  const Eigen::VectorXd fm = f(x);
  set(p);
  return (fp - fm) / (2 * h);
}

Eigen::VectorXd parametrized_meanfield::Breal(const Eigen::VectorXd& u, const Eigen::VectorXd& v) const {
  // f is a polynomial of degree two in x: J(x + v) - J(x) = D^2 f (., v) exactly, at any x.
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(n_);
  return (jac(v) - jac(zero)) * u;
}

Eigen::VectorXcd parametrized_meanfield::B(const Eigen::VectorXcd& u, const Eigen::VectorXcd& v) const {
  const Eigen::VectorXd ur = u.real(), ui = u.imag(), vr = v.real(), vi = v.imag();
  const Eigen::VectorXd re = Breal(ur, vr) - Breal(ui, vi);
  const Eigen::VectorXd im = Breal(ur, vi) + Breal(ui, vr);
  return re.cast<std::complex<double>>() + std::complex<double>(0, 1) * im.cast<std::complex<double>>();
}

// ---------------------------------------------------------------------------
// pseudo-arclength engine

void curve_problem::jacobian(const Eigen::VectorXd& X, Eigen::MatrixXd& JG) {
  const int d = dim();
  JG.resize(d - 1, d);
  Eigen::VectorXd Xp = X, Gp(d - 1), Gm(d - 1);
  for (int j = 0; j < d; ++j) {
    const double h = 1e-7 * (1.0 + std::fabs(X[j]));
    Xp[j] = X[j] + h;
    residual(Xp, Gp);
    Xp[j] = X[j] - h;
    residual(Xp, Gm);
    Xp[j] = X[j];
    JG.col(j) = (Gp - Gm) / (2 * h);
  }
}

namespace {
double wdot(const curve_problem& p, const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  double s = 0;
  for (int i = 0; i < a.size(); ++i) s += p.weight(i) * a[i] * b[i];
  return s;
}
}  // namespace

int correct(curve_problem& prob, Eigen::VectorXd& X, const Eigen::VectorXd& t, const continuation_options& o) {
  const int d = prob.dim();
  const Eigen::VectorXd Xp = X;
  Eigen::VectorXd G(d - 1), R(d);
  Eigen::MatrixXd JG, A(d, d);
  for (int it = 1; it <= o.newton_max; ++it) {
    prob.residual(X, G);
    if (!G.allFinite()) return -1;
    prob.jacobian(X, JG);
    A.topRows(d - 1) = JG;
    for (int j = 0; j < d; ++j) A(d - 1, j) = prob.weight(j) * t[j];
    R.head(d - 1) = G;
    R[d - 1] = wdot(prob, t, X - Xp);
    Eigen::PartialPivLU<Eigen::MatrixXd> lu(A);
    const Eigen::VectorXd dX = lu.solve(R);
    if (!dX.allFinite()) return -1;
    X -= dX;
    const double step = dX.lpNorm<Eigen::Infinity>() / (1.0 + X.lpNorm<Eigen::Infinity>());
    if (step < o.newton_tol) {
      prob.residual(X, G);
      if (G.lpNorm<Eigen::Infinity>() < 1e3 * o.newton_tol) return it;
    }
  }
  return -1;
}

bool newton_square(curve_problem& prob, Eigen::VectorXd& X, int fixed, double tol, int max_iter) {
  const int d = prob.dim();
  Eigen::VectorXd G(d - 1);
  Eigen::MatrixXd JG;
  for (int it = 0; it < max_iter; ++it) {
    prob.residual(X, G);
    if (!G.allFinite()) return false;
    prob.jacobian(X, JG);
    Eigen::MatrixXd A(d - 1, d - 1);
    int c = 0;
    for (int j = 0; j < d; ++j)
      if (j != fixed) A.col(c++) = JG.col(j);
    const Eigen::VectorXd dx = A.partialPivLu().solve(G);
    if (!dx.allFinite()) return false;
    c = 0;
    for (int j = 0; j < d; ++j)
      if (j != fixed) X[j] -= dx[c++];
    if (dx.lpNorm<Eigen::Infinity>() < tol * (1.0 + X.lpNorm<Eigen::Infinity>())) {
      prob.residual(X, G);
      return G.lpNorm<Eigen::Infinity>() < 1e-8;
    }
  }
  return false;
}

Eigen::VectorXd tangent(curve_problem& prob, const Eigen::VectorXd& X, const Eigen::VectorXd& previous) {
  const int d = prob.dim();
  Eigen::MatrixXd JG, A(d, d);
  prob.jacobian(X, JG);
  A.topRows(d - 1) = JG;
  for (int j = 0; j < d; ++j) A(d - 1, j) = prob.weight(j) * previous[j];
  Eigen::VectorXd e = Eigen::VectorXd::Zero(d);
  e[d - 1] = 1;
  Eigen::VectorXd t = A.partialPivLu().solve(e);
  t /= std::sqrt(wdot(prob, t, t));
  if (wdot(prob, t, previous) < 0) t = -t;
  return t;
}

// ---------------------------------------------------------------------------
// locating a zero of a test function along a curve (Illinois regula falsi in the arclength)

/// From (Xa, ta) with test value ga, and the step ds_b that gave gb of the other sign,
/// finds the step s in (0, ds_b) where the test vanishes; X, t at it.
bool locate_on_curve(curve_problem& prob, const Eigen::VectorXd& Xa, const Eigen::VectorXd& ta, double ga, double ds_b,
                     double gb, const test_fn& test, const continuation_options& o, Eigen::VectorXd& X,
                     Eigen::VectorXd& t) {
  double sa = 0, sb = ds_b;
  int side = 0;
  continuation_options oc = o;
  oc.newton_max = 12;
  oc.newton_tol = 1e-12;
  for (int it = 0; it < 60; ++it) {
    const double s = (sa * gb - sb * ga) / (gb - ga);
    X = Xa + s * ta;
    if (correct(prob, X, ta, oc) < 0) return false;
    t = tangent(prob, X, ta);
    const double g = test(X, t);
    if (g == 0 || std::fabs(sb - sa) < 1e-13 * std::fabs(ds_b)) return true;
    if ((g < 0) == (ga < 0)) {
      sa = s;
      ga = g;
      if (side == -1) gb /= 2;
      side = -1;
    } else {
      sb = s;
      gb = g;
      if (side == 1) ga /= 2;
      side = 1;
    }
    if (std::fabs(g) < 1e-15) return true;
  }
  return true;
}

// ---------------------------------------------------------------------------
// equilibria

namespace {

/// G(x, p) = f(x, p) for one free parameter (the first binding); X = (x, p).
struct eq_problem : curve_problem {
  parametrized_meanfield& sys;
  explicit eq_problem(parametrized_meanfield& s) : sys(s) {}
  int dim() const override { return sys.n() + 1; }
  void residual(const Eigen::VectorXd& X, Eigen::VectorXd& G) override {
    const double p = X[sys.n()];
    sys.set(&p);
    G = sys.f(X.head(sys.n()));
  }
  void jacobian(const Eigen::VectorXd& X, Eigen::MatrixXd& JG) override {
    const int n = sys.n();
    double p = X[n];
    sys.set(&p);
    JG.resize(n, n + 1);
    JG.leftCols(n) = sys.jac(X.head(n));
    JG.col(n) = sys.dfdp(X.head(n), &p, 0);
  }
};

}  // namespace

std::vector<std::complex<double>> eig_of(const Eigen::MatrixXd& J) {
  std::vector<double> a(static_cast<size_t>(J.size()));
  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(a.data(), J.rows(), J.cols()) = J;
  return sorted_eigenvalues(a, static_cast<int>(J.rows()));
}

/// Product over pairs of (lambda_i + lambda_j): zero at a Hopf point (and a neutral saddle).
double hopf_test(const std::vector<std::complex<double>>& ev) {
  std::complex<double> prod = 1;
  for (size_t i = 0; i < ev.size(); ++i)
    for (size_t j = i + 1; j < ev.size(); ++j) prod *= ev[i] + ev[j];
  return prod.real();
}

double first_lyapunov(const parametrized_meanfield& sys, const Eigen::VectorXd& x, double* omega_out) {
  using cd = std::complex<double>;
  const int n = sys.n();
  const Eigen::MatrixXd A = sys.jac(x);
  Eigen::EigenSolver<Eigen::MatrixXd> es(A);
  int k = -1;
  for (int i = 0; i < n; ++i)
    if (es.eigenvalues()[i].imag() > 0 &&
        (k < 0 || std::fabs(es.eigenvalues()[i].real()) < std::fabs(es.eigenvalues()[k].real())))
      k = i;
  if (k < 0) return std::nan("");
  const double omega = es.eigenvalues()[k].imag();
  if (omega_out) *omega_out = omega;
  Eigen::VectorXcd q = es.eigenvectors().col(k);
  q /= q.norm();
  Eigen::EigenSolver<Eigen::MatrixXd> et(A.transpose());
  int m = -1;
  for (int i = 0; i < n; ++i)
    if (m < 0 || std::abs(et.eigenvalues()[i] - cd(0, -omega)) < std::abs(et.eigenvalues()[m] - cd(0, -omega))) m = i;
  Eigen::VectorXcd p = et.eigenvectors().col(m);
  p /= std::conj(p.dot(q));  // Eigen's dot is conjugate-linear in the first argument: <p, q> = 1
  const Eigen::VectorXcd qb = q.conjugate();
  const Eigen::MatrixXcd Ac = A.cast<cd>();
  const Eigen::VectorXcd a = A.partialPivLu().solve(sys.B(q, qb).real()).cast<cd>();  // B(q, qbar) is real
  const Eigen::MatrixXcd M = cd(0, 2 * omega) * Eigen::MatrixXcd::Identity(n, n) - Ac;
  const Eigen::VectorXcd bb = M.partialPivLu().solve(sys.B(q, q));
  // Kuznetsov (Elements of Applied Bifurcation Theory, eq. 3.20); C = 0 (f is quadratic).
  const cd c = -2.0 * p.dot(sys.B(q, a)) + p.dot(sys.B(qb, bb));
  return c.real() / (2 * omega);
}

namespace {

branch_point ep_row(const std::string& name, const Eigen::VectorXd& x, std::vector<double> params,
                    const std::vector<std::complex<double>>& ev) {
  branch_point b;
  b.branch = name;
  b.kind = "EP";
  b.params = std::move(params);
  b.min = b.max = b.mean = x;
  b.stable = 1;
  for (const auto& l : ev)
    if (!(l.real() < 0)) b.stable = 0;
  b.leading = ev.front();
  b.has_leading = true;
  return b;
}

special_point make_special(const std::string& type, const std::string& branch, const Eigen::VectorXd& x,
                           std::vector<double> params, std::vector<std::complex<double>> ev) {
  special_point s;
  s.type = type;
  s.branch = branch;
  s.state = x;
  s.params = std::move(params);
  s.eigenvalues = std::move(ev);
  return s;
}

/// Locates a Hopf point near x (parameter p) by Newton on the Hopf system; false if none (e.g. neutral saddle).
bool locate_hopf(parametrized_meanfield& sys, const Eigen::VectorXd& x, double p, special_point& out,
                 const std::string& branch) {
  const int n = sys.n();
  sys.set(&p);
  Eigen::EigenSolver<Eigen::MatrixXd> es(sys.jac(x));
  int k = -1;
  for (int i = 0; i < n; ++i)
    if (es.eigenvalues()[i].imag() > 0 &&
        (k < 0 || std::fabs(es.eigenvalues()[i].real()) < std::fabs(es.eigenvalues()[k].real())))
      k = i;
  if (k < 0) return false;
  const Eigen::VectorXcd q = es.eigenvectors().col(k);
  Eigen::VectorXd v = q.real(), w = q.imag();
  v /= v.norm();
  w -= w.dot(v) * v;
  if (w.norm() == 0) return false;
  hopf_problem hp(sys, 1);
  hp.L = w / w.norm();
  Eigen::VectorXd X(2 * n + 2);  // x, p, kappa, v
  X.head(n) = x;
  X[n] = p;
  X[n + 1] = es.eigenvalues()[k].imag() * es.eigenvalues()[k].imag();
  X.tail(n) = v;
  // square system: the curve problem with np = 1 has dim 2n+2 unknowns and 2n+2 equations;
  // newton_square needs one extra coordinate to hold fixed: append a dummy.
  struct square : curve_problem {
    hopf_problem& h;
    explicit square(hopf_problem& hh) : h(hh) {}
    int dim() const override { return h.dim() + 1; }
    void residual(const Eigen::VectorXd& X, Eigen::VectorXd& G) override { h.residual(X.head(h.dim()), G); }
  } sq(hp);
  Eigen::VectorXd Y(X.size() + 1);
  Y << X, 0.0;
  if (!newton_square(sq, Y, static_cast<int>(Y.size()) - 1, 1e-14)) return false;
  const double kappa = Y[n + 1];
  if (!(kappa > 0)) return false;  // a neutral saddle (real pair +-mu), not a Hopf point
  const double ph = Y[n];
  sys.set(&ph);
  const Eigen::VectorXd xh = Y.head(n);
  out = make_special("H", branch, xh, {ph}, eig_of(sys.jac(xh)));
  double omega = std::sqrt(kappa);
  out.lyapunov = first_lyapunov(sys, xh, &omega);
  out.frequency = omega;
  out.period = 2 * k_pi / omega;
  out.note = out.lyapunov < 0 ? "supercritical" : "subcritical";
  return true;
}

bool locate_fold(parametrized_meanfield& sys, const Eigen::VectorXd& x, double p, special_point& out,
                 const std::string& branch) {
  const int n = sys.n();
  sys.set(&p);
  const Eigen::MatrixXd J = sys.jac(x);
  // right null vector guess: the singular vector of the smallest singular value
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(J, Eigen::ComputeFullV);
  Eigen::VectorXd v = svd.matrixV().col(n - 1);
  fold_problem fp(sys, 1);
  fp.vref = v;
  struct square : curve_problem {
    fold_problem& h;
    explicit square(fold_problem& hh) : h(hh) {}
    int dim() const override { return h.dim() + 1; }
    void residual(const Eigen::VectorXd& X, Eigen::VectorXd& G) override { h.residual(X.head(h.dim()), G); }
  } sq(fp);
  Eigen::VectorXd Y(2 * n + 2);
  Y << x, p, v, 0.0;
  if (!newton_square(sq, Y, 2 * n + 1, 1e-14)) return false;
  const double pf = Y[n];
  sys.set(&pf);
  const Eigen::VectorXd xf = Y.head(n);
  out = make_special("LP", branch, xf, {pf}, eig_of(sys.jac(xf)));
  return true;
}

}  // namespace

void equilibrium_branches(parametrized_meanfield& sys, const bif_options& o, bif_result& out) {
  const int n = sys.n();
  const double lo = std::min(o.from, o.to), hi = std::max(o.from, o.to);
  const model_spec at_a = sys.spec_at(&o.from);
  const auto eqs = find_equilibria(at_a);
  if (eqs.empty()) {
    out.messages.push_back("no equilibrium with r > 0 at " + sys.params()[0].key + " = " + std::to_string(o.from));
    return;
  }
  std::vector<std::vector<Eigen::VectorXd>> branches;  // computed points (x, p) of each branch
  int number = 0;
  for (const auto& e : eqs) {
    Eigen::VectorXd x0 = Eigen::Map<const Eigen::VectorXd>(e.state.data(), n);
    // already on a computed branch? (a point of it at p = from, interpolated)
    bool seen = false;
    for (const auto& br : branches)
      for (size_t i = 1; i < br.size() && !seen; ++i) {
        const double pa = br[i - 1][n], pb = br[i][n];
        if ((pa - o.from) * (pb - o.from) > 0 || pa == pb) continue;
        const double th = (o.from - pa) / (pb - pa);
        const Eigen::VectorXd xi = (1 - th) * br[i - 1].head(n) + th * br[i].head(n);
        if ((xi - x0).norm() < 1e-3 * (1 + x0.norm())) seen = true;
      }
    if (seen) continue;
    const std::string name = "EP" + std::to_string(++number);
    eq_problem prob(sys);
    Eigen::VectorXd X0(n + 1);
    X0 << x0, o.from;
    Eigen::VectorXd e_p = Eigen::VectorXd::Zero(n + 1);
    e_p[n] = 1;
    const Eigen::VectorXd t0 = tangent(prob, X0, e_p);
    std::vector<branch_point> rows[2];
    std::vector<special_point> specials[2];
    std::vector<Eigen::VectorXd> pts[2];
    for (int dir = 0; dir < 2; ++dir) {
      Eigen::VectorXd X = X0, t = dir == 0 ? t0 : Eigen::VectorXd(-t0);
      double ds = o.eq.ds;
      auto J = [&](const Eigen::VectorXd& Y) {
        const double p = Y[n];
        sys.set(&p);
        return sys.jac(Y.head(n));
      };
      auto ev = eig_of(J(X));
      double g_lp = t[n], g_h = hopf_test(ev);
      auto bp_test = [&](const Eigen::VectorXd& Y, const Eigen::VectorXd& tt) {
        Eigen::MatrixXd JG, A(n + 1, n + 1);
        prob.jacobian(Y, JG);
        A.topRows(n) = JG;
        A.row(n) = tt.transpose();
        return A.determinant();
      };
      double g_bp = bp_test(X, t);
      if (dir == 0) rows[dir].push_back(ep_row(name, X.head(n), {X[n]}, ev));
      pts[dir].push_back(X);
      for (int step = 0; step < o.eq.max_steps; ++step) {
        Eigen::VectorXd Xn = X + ds * t;
        const int it = correct(prob, Xn, t, o.eq);
        if (it < 0) {
          ds /= 2;
          if (std::fabs(ds) < o.eq.ds_min) {
            out.messages.push_back(name + ": continuation stopped at " + sys.params()[0].key + " = " +
                                   std::to_string(X[n]) + " (Newton fails even at the smallest step)");
            break;
          }
          continue;
        }
        const Eigen::VectorXd tn = tangent(prob, Xn, t);
        if (std::acos(std::clamp(tn.dot(t), -1.0, 1.0)) > o.eq.max_angle && ds > 4 * o.eq.ds_min) {
          ds /= 2;
          continue;
        }
        const auto evn = eig_of(J(Xn));
        const double gl = tn[n], gh = hopf_test(evn), gb = bp_test(Xn, tn);
        // leaving the interval: end exactly on its boundary
        bool leave = Xn[n] < lo || Xn[n] > hi;
        bool negative = false;
        for (int i = 0; i < n; i += 4) negative = negative || !(Xn[i] > 0);
        // special points between X and Xn
        std::vector<std::pair<double, special_point>> found;  // (arc position, point)
        if ((g_lp < 0) != (gl < 0) && !leave) {
          special_point sp;
          Eigen::VectorXd Xs, ts;
          if (locate_on_curve(
                  prob, X, t, g_lp, ds, gl, [n](const Eigen::VectorXd&, const Eigen::VectorXd& tt) { return tt[n]; },
                  o.eq, Xs, ts) &&
              locate_fold(sys, Xs.head(n), Xs[n], sp, name))
            found.push_back({(sp.state - X.head(n)).norm(), sp});
        }
        if ((g_bp < 0) != (gb < 0) && (g_lp < 0) == (gl < 0) && !leave) {
          Eigen::VectorXd Xs, ts;
          if (locate_on_curve(prob, X, t, g_bp, ds, gb, bp_test, o.eq, Xs, ts)) {
            const double p = Xs[n];
            sys.set(&p);
            found.push_back({(Xs.head(n) - X.head(n)).norm(),
                             make_special("BP", name, Xs.head(n), {p}, eig_of(sys.jac(Xs.head(n))))});
          }
        }
        if ((g_h < 0) != (gh < 0) && !leave) {
          special_point sp;
          const bool near_b = std::fabs(gh) < std::fabs(g_h);
          if (locate_hopf(sys, near_b ? Xn.head(n) : X.head(n), near_b ? Xn[n] : X[n], sp, name))
            found.push_back({(sp.state - X.head(n)).norm(), sp});
        }
        std::sort(found.begin(), found.end(), [](auto& a, auto& b) { return a.first < b.first; });
        for (auto& f : found) {
          sys.set(f.second.params.data());
          rows[dir].push_back(ep_row(name, f.second.state, f.second.params, eig_of(sys.jac(f.second.state))));
          specials[dir].push_back(f.second);
        }
        if (leave) {
          const double bound = Xn[n] < lo ? lo : hi;
          Eigen::VectorXd Xs, ts;
          auto gt = [n, bound](const Eigen::VectorXd& Y, const Eigen::VectorXd&) { return Y[n] - bound; };
          if (locate_on_curve(prob, X, t, X[n] - bound, ds, Xn[n] - bound, gt, o.eq, Xs, ts)) {
            rows[dir].push_back(ep_row(name, Xs.head(n), {Xs[n]}, eig_of(J(Xs))));
            pts[dir].push_back(Xs);
          }
          break;
        }
        if (negative) {
          out.messages.push_back(name + ": stopped where a rate r reaches 0 (" + sys.params()[0].key + " = " +
                                 std::to_string(Xn[n]) + ")");
          break;
        }
        rows[dir].push_back(ep_row(name, Xn.head(n), {Xn[n]}, evn));
        pts[dir].push_back(Xn);
        X = Xn;
        t = tn;
        g_lp = gl;
        g_h = gh;
        g_bp = gb;
        if (it <= 3)
          ds = std::min(ds * (it <= 2 ? 2.0 : 1.5), o.eq.ds_max);
        else if (it >= 6)
          ds *= 0.6;
      }
    }
    // one branch from the far end of direction 1 to the far end of direction 0
    std::vector<branch_point> merged(rows[1].rbegin(), rows[1].rend());
    merged.insert(merged.end(), rows[0].begin(), rows[0].end());
    out.points.insert(out.points.end(), merged.begin(), merged.end());
    for (int d : {1, 0}) out.special.insert(out.special.end(), specials[d].begin(), specials[d].end());
    std::vector<Eigen::VectorXd> all(pts[1].rbegin(), pts[1].rend());
    all.insert(all.end(), pts[0].begin(), pts[0].end());
    branches.push_back(all);
  }
}

bif_options::bif_options() {
  eq.ds = 1e-3;
  eq.ds_max = 2e-2;
  eq.max_steps = 5000;
  po.ds = 1e-3;
  po.ds_max = 0.5;
  po.max_steps = 600;
  po.newton_tol = 1e-9;
  po.max_angle = 0.25;
  curve.ds = 1e-3;
  curve.ds_max = 2e-2;
  curve.max_steps = 3000;
}

bif_result run_bifurcation(const model_spec& spec, const bif_options& o) {
  std::vector<param_binding> b{bind_parameter(spec, o.keys.at(0))};
  parametrized_meanfield sys(spec, b);
  bif_result r;
  equilibrium_branches(sys, o, r);
  if (o.periodic) {
    int k = 0;
    const auto hopfs = r.special;  // copy: periodic_branch appends
    for (const auto& s : hopfs)
      if (s.type == "H") periodic_branch(sys, s, "PO" + std::to_string(++k), o, r);
  }
  if (o.keys.size() > 1) {
    std::vector<param_binding> b2{b[0], bind_parameter(spec, o.keys[1])};
    parametrized_meanfield sys2(spec, b2);
    bif_options o2 = o;
    o2.p2_config = b2[1].get(spec);
    two_parameter_curves(sys2, o2, r);
  }
  return r;
}

}  // namespace izhinet
