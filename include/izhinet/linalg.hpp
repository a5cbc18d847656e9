#pragma once
/// \file linalg.hpp
/// Small dense linear algebra on row-major std::vector matrices, done by Eigen
/// (solves: partial-pivoting LU; eigenvalues: Eigen::EigenSolver, Hessenberg
/// reduction and the Francis double-shift QR iteration).
#include <complex>
#include <vector>

namespace izhinet {

/// Eigenvalues of a real n x n matrix (row-major). Complex pairs come out as
/// exact conjugates. Throws internal_error for a matrix that is not n x n or
/// holds a non-finite entry, or when the QR iteration does not converge.
std::vector<std::complex<double>> eigenvalues(std::vector<double> A, int n);

/// The same, sorted by real part, largest first (ties: larger imaginary part first).
std::vector<std::complex<double>> sorted_eigenvalues(const std::vector<double>& A, int n);

/// Solves A x = b (A n x n row-major) in place of b by LU with partial
/// pivoting; false when A is singular or the result is not finite.
bool solve_dense(const std::vector<double>& A, std::vector<double>& b, int n);

}  // namespace izhinet
