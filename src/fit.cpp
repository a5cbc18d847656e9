#include "izhinet/fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace izhinet {
namespace {

struct linreg {
  double slope = 0, intercept = 0, slope_se = std::nan(""), rss = 0;
};

linreg regress(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = x.size();
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  linreg r;
  r.slope = sxx > 0 ? sxy / sxx : 0;
  r.intercept = my - r.slope * mx;
  for (size_t i = 0; i < n; ++i) {
    const double e = y[i] - r.intercept - r.slope * x[i];
    r.rss += e * e;
  }
  if (n > 2 && sxx > 0) r.slope_se = std::sqrt(r.rss / (n - 2) / sxx);
  return r;
}

void positive_points(const std::vector<double>& n, const std::vector<double>& dev, std::vector<double>& ln,
                     std::vector<double>& d) {
  for (size_t i = 0; i < std::min(n.size(), dev.size()); ++i)
    if (n[i] > 0 && dev[i] > 0 && std::isfinite(dev[i]) && std::isfinite(n[i])) {
      ln.push_back(std::log(n[i]));
      d.push_back(dev[i]);
    }
}

double aicc(double rss, int n, int k) {
  if (n - k - 1 <= 0) return std::numeric_limits<double>::infinity();
  const double r = std::max(rss, 1e-20 * n);  // below rounding level all fits are equal
  return n * std::log(r / n) + 2.0 * k + 2.0 * k * (k + 1) / (n - k - 1);
}

}  // namespace

power_fit fit_power(const std::vector<double>& n, const std::vector<double>& dev) {
  std::vector<double> x, d;
  positive_points(n, dev, x, d);
  power_fit f;
  f.model = "power";
  f.points = static_cast<int>(x.size());
  if (x.size() < 2 || *std::min_element(x.begin(), x.end()) == *std::max_element(x.begin(), x.end()))
    return f;  // needs two distinct sizes
  std::vector<double> y(d.size());
  for (size_t i = 0; i < d.size(); ++i) y[i] = std::log(d[i]);
  const linreg r = regress(x, y);
  f.gamma = -r.slope;
  f.gamma_stderr = r.slope_se;
  f.c = std::exp(r.intercept);
  f.rss_log = r.rss;
  f.ok = true;
  return f;
}

power_fit fit_power_plateau(const std::vector<double>& n, const std::vector<double>& dev) {
  std::vector<double> x, d;
  positive_points(n, dev, x, d);
  power_fit best;
  best.model = "power+plateau";
  best.points = static_cast<int>(x.size());
  if (x.size() < 4) return best;
  const double dmin = *std::min_element(d.begin(), d.end());
  // rss in log D of the model with plateau p (the power law fitted to D - p)
  auto evaluate = [&](double p, power_fit& out) {
    std::vector<double> y(d.size());
    for (size_t i = 0; i < d.size(); ++i) y[i] = std::log(d[i] - p);
    const linreg r = regress(x, y);
    double rss = 0;
    const double c = std::exp(r.intercept);
    for (size_t i = 0; i < d.size(); ++i) {
      const double model = c * std::exp(r.slope * x[i]) + p;
      const double e = std::log(d[i]) - std::log(model);
      rss += e * e;
    }
    out.gamma = -r.slope;
    out.gamma_stderr = r.slope_se;
    out.c = c;
    out.d = p;
    out.rss_log = rss;
    return rss;
  };
  // Coarse scan of p/dmin in [0, 1), then golden-section refinement.
  double best_u = 0, best_rss = std::numeric_limits<double>::infinity();
  power_fit tmp = best;
  for (int k = 0; k < 200; ++k) {
    const double u = 1.0 - std::pow(10.0, -4.0 * k / 199.0);  // dense near 1 (plateau ~ min D)
    const double rss = evaluate(u * dmin, tmp);
    if (rss < best_rss) {
      best_rss = rss;
      best_u = u;
    }
  }
  double lo = std::max(0.0, best_u - 0.05), hi = std::min(1.0 - 1e-9, best_u + 0.05);
  const double g = 0.5 * (std::sqrt(5.0) - 1.0);
  for (int it = 0; it < 80; ++it) {
    const double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
    if (evaluate(a * dmin, tmp) < evaluate(b * dmin, tmp))
      hi = b;
    else
      lo = a;
  }
  const double u = 0.5 * (lo + hi);
  const double u_final = evaluate(u * dmin, tmp) < best_rss ? u : best_u;
  evaluate(u_final * dmin, best);
  best.ok = true;
  return best;
}

power_fit fit_convergence(const std::vector<double>& n, const std::vector<double>& dev) {
  const power_fit p = fit_power(n, dev);
  const power_fit q = fit_power_plateau(n, dev);
  if (!q.ok) return p;
  if (!p.ok) return q;
  // the plateau must earn its parameter: AICc lower by more than 2
  return aicc(q.rss_log, q.points, 3) < aicc(p.rss_log, p.points, 2) - 2.0 ? q : p;
}

power_fit fit_signed_plateau(const std::vector<double>& n, const std::vector<double>& delta) {
  std::vector<double> x, y;
  for (size_t i = 0; i < std::min(n.size(), delta.size()); ++i)
    if (n[i] > 0 && std::isfinite(n[i]) && std::isfinite(delta[i])) {
      x.push_back(n[i]);
      y.push_back(delta[i]);
    }
  power_fit f;
  f.model = "signed";
  f.points = static_cast<int>(x.size());
  std::vector<double> distinct = x;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  if (x.size() < 4 || distinct.size() < 3) return f;
  // rss(gamma) with (c, d) eliminated by linear least squares on u = N^-gamma
  auto solve = [&](double gamma, double& c, double& d) {
    std::vector<double> u(x.size());
    for (size_t i = 0; i < x.size(); ++i) u[i] = std::pow(x[i], -gamma);
    const linreg r = regress(u, y);
    c = r.slope;
    d = r.intercept;
    return r.rss;
  };
  double c, d, best_g = 0.02, best = std::numeric_limits<double>::infinity();
  for (int k = 0; k <= 300; ++k) {
    const double g = 0.02 + (3.0 - 0.02) * k / 300.0;
    const double rss = solve(g, c, d);
    if (rss < best) {
      best = rss;
      best_g = g;
    }
  }
  double lo = std::max(0.02, best_g - 0.01), hi = std::min(3.0, best_g + 0.01);
  const double gr = 0.5 * (std::sqrt(5.0) - 1.0);
  for (int it = 0; it < 60; ++it) {
    const double a = hi - gr * (hi - lo), b = lo + gr * (hi - lo);
    if (solve(a, c, d) < solve(b, c, d))
      hi = b;
    else
      lo = a;
  }
  f.gamma = 0.5 * (lo + hi);
  f.rss_log = solve(f.gamma, f.c, f.d);
  const double h = 1e-3 * std::max(1.0, f.gamma);
  const double curv = (solve(f.gamma + h, c, d) - 2 * f.rss_log + solve(f.gamma - h, c, d)) / (h * h);
  const double sigma2 = f.rss_log / static_cast<double>(x.size() - 3);
  f.gamma_stderr = curv > 0 ? std::sqrt(2.0 * sigma2 / curv) : std::nan("");
  f.ok = true;
  return f;
}

}  // namespace izhinet
