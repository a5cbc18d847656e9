#pragma once
/// \file fit.hpp
/// Convergence-exponent fits for finite-size studies (docs/finite_size.md).
///
/// Two models of a deviation D against network size N:
/// - power law  D = c N^-gamma: least squares of log D on log N;
/// - with plateau D = c N^-gamma + d, d >= 0: for each d the power law of
///   D - d is fitted in log space; d is chosen to minimise the residual sum
///   of squares of log D (golden-section search on (0, min D)).
/// The plateau model is preferred when it lowers the small-sample corrected
/// Akaike criterion (one extra parameter); a study must be able to show a
/// plateau rather than force a pure power law.
#include <string>
#include <vector>

namespace izhinet {

struct power_fit {
  std::string model;        ///< "power" or "power+plateau"
  double gamma = 0;         ///< convergence exponent
  double gamma_stderr = 0;  ///< standard error of gamma (NaN with < 3 distinct sizes)
  double c = 0;             ///< prefactor
  double d = 0;             ///< plateau (0 for "power")
  double rss_log = 0;       ///< residual sum of squares in log D
  int points = 0;
  bool ok = false;  ///< false when there are too few positive points
};

/// Pure power law D = c N^-gamma. Points with D <= 0 or non-finite are ignored.
power_fit fit_power(const std::vector<double>& n, const std::vector<double>& dev);
/// Power law plus plateau D = c N^-gamma + d.
power_fit fit_power_plateau(const std::vector<double>& n, const std::vector<double>& dev);
/// The better of the two by AICc (the plateau needs >= 4 points).
power_fit fit_convergence(const std::vector<double>& n, const std::vector<double>& dev);
/// Signed deviation delta = d + c N^-gamma (c and d of any sign): a deviation
/// that changes sign or approaches its plateau from below (finite-size and
/// closure errors of opposite sign) is fitted too. For each gamma, (c, d) by
/// linear least squares; gamma minimises the residual sum of squares
/// (scan of [0.02, 3], then golden section); gamma_stderr from the curvature
/// of the profile residual, sigma^2 = rss/(n - 3). model = "signed", rss_log
/// holds the plain residual sum of squares. Needs >= 4 points, 3 distinct N.
power_fit fit_signed_plateau(const std::vector<double>& n, const std::vector<double>& delta);

}  // namespace izhinet
