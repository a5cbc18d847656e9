/// \file linalg.cpp
/// Dense solves and eigenvalues through Eigen (linalg.hpp).
#include "izhinet/linalg.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "izhinet/errors.hpp"

namespace izhinet {

std::vector<std::complex<double>> eigenvalues(std::vector<double> A, int n) {
  if (n <= 0 || static_cast<int>(A.size()) != n * n) throw internal_error("eigenvalues: matrix is not n x n");
  for (double x : A)
    if (!std::isfinite(x)) throw internal_error("eigenvalues: non-finite matrix entry");
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> M(A.data(), n, n);
  Eigen::EigenSolver<Eigen::MatrixXd> es(M, false);
  if (es.info() != Eigen::Success) throw internal_error("eigenvalues: QR iteration did not converge");
  std::vector<std::complex<double>> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out[static_cast<size_t>(i)] = es.eigenvalues()[i];
  return out;
}

std::vector<std::complex<double>> sorted_eigenvalues(const std::vector<double>& A, int n) {
  auto ev = eigenvalues(A, n);
  std::sort(ev.begin(), ev.end(),
            [](auto p, auto q) { return p.real() != q.real() ? p.real() > q.real() : p.imag() > q.imag(); });
  return ev;
}

bool solve_dense(const std::vector<double>& A, std::vector<double>& b, int n) {
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> M(A.data(), n, n);
  Eigen::PartialPivLU<Eigen::MatrixXd> lu(M);
  if (!(std::fabs(lu.determinant()) > 0)) return false;
  Eigen::Map<Eigen::VectorXd> x(b.data(), n);
  const Eigen::VectorXd sol = lu.solve(x);
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(sol[i])) return false;
  x = sol;
  return true;
}

}  // namespace izhinet
