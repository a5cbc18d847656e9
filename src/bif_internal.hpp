#pragma once
/// \file bif_internal.hpp
/// Pieces shared by continuation.cpp, periodic_orbits.cpp and two_parameter.cpp.
#include <complex>
#include <functional>
#include <vector>

#include "izhinet/continuation.hpp"

namespace izhinet {

using test_fn = std::function<double(const Eigen::VectorXd&, const Eigen::VectorXd&)>;

/// From (Xa, ta) with test value ga, and the step ds_b that gave gb of the other sign,
/// finds the step s in (0, ds_b) where the test vanishes (Illinois regula falsi in the
/// arclength, each trial corrected by Newton); X, t at it.
bool locate_on_curve(curve_problem& prob, const Eigen::VectorXd& Xa, const Eigen::VectorXd& ta, double ga, double ds_b,
                     double gb, const test_fn& test, const continuation_options& o, Eigen::VectorXd& X,
                     Eigen::VectorXd& t);

/// Eigenvalues of J, sorted by real part, largest first.
std::vector<std::complex<double>> eig_of(const Eigen::MatrixXd& J);
/// Product over pairs of (lambda_i + lambda_j): zero at a Hopf point (and a neutral saddle).
double hopf_test(const std::vector<std::complex<double>>& ev);

/// The Hopf system in (x, p..., kappa, v): f = 0, (J^2 + kappa) v = 0, v.v = 1, v.L = 0.
/// With np free parameters the unknowns are x (n), p (np), kappa, v (n).
struct hopf_problem : curve_problem {
  parametrized_meanfield& sys;
  int np;
  Eigen::VectorXd L;
  hopf_problem(parametrized_meanfield& s, int nparams) : sys(s), np(nparams) {}
  int dim() const override { return 2 * sys.n() + np + 1; }
  void residual(const Eigen::VectorXd& X, Eigen::VectorXd& G) override {
    const int n = sys.n();
    sys.set(X.data() + n);
    const Eigen::VectorXd x = X.head(n), v = X.tail(n);
    const double kappa = X[n + np];
    const Eigen::MatrixXd J = sys.jac(x);
    G.resize(2 * n + 2);
    G.head(n) = sys.f(x);
    G.segment(n, n) = J * (J * v) + kappa * v;
    G[2 * n] = v.dot(v) - 1.0;
    G[2 * n + 1] = v.dot(L);
  }
  void accepted(Eigen::VectorXd& X) override {
    // keep v.L = 0 well conditioned: L = the part of J v orthogonal to v
    const int n = sys.n();
    sys.set(X.data() + n);
    const Eigen::VectorXd v = X.tail(n);
    Eigen::VectorXd Jv = sys.jac(X.head(n)) * v;
    Jv -= Jv.dot(v) * v;
    if (Jv.norm() > 0) L = Jv / Jv.norm();
  }
};

/// The fold system in (x, p..., v): f = 0, J v = 0, v.v_ref = 1.
struct fold_problem : curve_problem {
  parametrized_meanfield& sys;
  int np;
  Eigen::VectorXd vref;
  fold_problem(parametrized_meanfield& s, int nparams) : sys(s), np(nparams) {}
  int dim() const override { return 2 * sys.n() + np; }
  void residual(const Eigen::VectorXd& X, Eigen::VectorXd& G) override {
    const int n = sys.n();
    sys.set(X.data() + n);
    const Eigen::VectorXd x = X.head(n), v = X.tail(n);
    G.resize(2 * n + 1);
    G.head(n) = sys.f(x);
    G.segment(n, n) = sys.jac(x) * v;
    G[2 * n] = v.dot(vref) - 1.0;
  }
  void accepted(Eigen::VectorXd& X) override {
    const int n = sys.n();
    Eigen::VectorXd v = X.tail(n);
    v /= v.norm();
    X.tail(n) = v;
    vref = v;
  }
};

}  // namespace izhinet
