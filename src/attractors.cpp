/// \file attractors.cpp
/// Attractor search of a mean field by integration from several starts
/// (definitions in attractors.hpp).
#include "izhinet/attractors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "izhinet/errors.hpp"
#include "izhinet/series_analysis.hpp"

namespace izhinet {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// Thrown from the integrator's observer when a stop is requested.
struct search_stopped {};

std::string num(double x) { return short_number(x); }

/// Integrates from (t0, y) to t0 + K h, K = ceil(len / h); `samples` gets the
/// states at t0, t0 + h, ..., t0 + K h (row-major, dim each) and y the last.
void integrate_chunk(const mf_system& sys, std::vector<double>& y, double t0, double len, double h,
                     const attractor_search_options& o, std::vector<double>& samples) {
  const int64_t K = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(len / h - 1e-9)));
  std::vector<double> t_out(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) t_out[k] = t0 + static_cast<double>(k + 1) * h;
  samples.assign(y.begin(), y.end());
  samples.reserve(static_cast<size_t>(K + 1) * y.size());
  const size_t n = y.size();
  integrate_dopri5(sys.rhs, y, t0, t_out.back(), t_out, o.ode, [&](double, const double* s) {
    if (o.stop && o.stop->load(std::memory_order_relaxed)) throw search_stopped{};
    samples.insert(samples.end(), s, s + n);
  });
  std::copy(samples.end() - static_cast<std::ptrdiff_t>(n), samples.end(), y.begin());
}

/// Per-component range over the samples (floored so that it can divide).
std::vector<double> ranges(const std::vector<double>& samples, size_t n) {
  std::vector<double> lo(n, INFINITY), hi(n, -INFINITY);
  for (size_t k = 0; k < samples.size(); k += n)
    for (size_t i = 0; i < n; ++i) {
      lo[i] = std::min(lo[i], samples[k + i]);
      hi[i] = std::max(hi[i], samples[k + i]);
    }
  std::vector<double> r(n);
  for (size_t i = 0; i < n; ++i) r[i] = hi[i] - lo[i];
  return r;
}

double scaled_distance(const double* a, const double* b, const std::vector<double>& scale) {
  double d = 0;
  for (size_t i = 0; i < scale.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]) / scale[i]);
  return d;
}

/// Relative distance of y to an equilibrium, per component floored at 1e-3.
double equilibrium_distance(const std::vector<double>& y, const std::vector<double>& eq) {
  double d = 0;
  for (size_t i = 0; i < y.size(); ++i) d = std::max(d, std::fabs(y[i] - eq[i]) / std::max(std::fabs(eq[i]), 1e-3));
  return d;
}

mf_attractor equilibrium_attractor(const mf_system& sys, const std::vector<double>& state) {
  mf_attractor a;
  a.kind = "equilibrium";
  a.state = state;
  std::vector<double> row(static_cast<size_t>(4 * sys.populations));
  sys.to_row(0.0, state.data(), row.data());
  a.pops.resize(sys.populations);
  a.rel_amplitude.assign(sys.populations, 0.0);
  for (int i = 0; i < sys.populations; ++i)
    for (int v = 0; v < 4; ++v) a.pops[i][v] = {row[4 * i + v], row[4 * i + v], row[4 * i + v]};
  return a;
}

/// Shape of the orbit through y with period T (see the file comment of attractors.hpp).
mf_attractor measure_orbit(const mf_system& sys, std::vector<double> y, double T, const attractor_search_options& o) {
  mf_attractor a;
  a.kind = "orbit";
  a.period = T;
  a.state = y;
  const int64_t K = std::max<int64_t>(64, static_cast<int64_t>(std::ceil(T / 0.05)));
  const int64_t K2 = std::min<int64_t>(std::max<int64_t>(K, 4000), 400000);
  const double h = T / static_cast<double>(K2);
  std::vector<double> samples;
  integrate_chunk(sys, y, 0.0, T - 0.5 * h, h, o, samples);  // states at 0, h, ..., (K2 - 1) h
  const size_t n = static_cast<size_t>(sys.dim), m = samples.size() / n;
  const int P = sys.populations;
  std::vector<std::vector<double>> ch(static_cast<size_t>(4 * P), std::vector<double>(m));
  std::vector<double> row(static_cast<size_t>(4 * P));
  for (size_t k = 0; k < m; ++k) {
    sys.to_row(0.0, &samples[k * n], row.data());
    for (int c = 0; c < 4 * P; ++c) ch[c][k] = row[c];
  }
  const int64_t half = static_cast<int64_t>(std::floor(0.5 * o.smoothing / h + 1e-9));
  a.pops.resize(P);
  a.rel_amplitude.assign(P, 0.0);
  for (int i = 0; i < P; ++i)
    for (int v = 0; v < 4; ++v) {
      const auto& x = ch[4 * i + v];
      if (!std::isfinite(x[0])) continue;  // the slow model has no v
      double s = 0;
      for (double q : x) s += q;
      const double mean = s / static_cast<double>(m);
      // periodic moving average
      std::vector<double> sm(m);
      const int64_t M = static_cast<int64_t>(m), w = std::min<int64_t>(half, M / 2);
      double acc = 0;
      for (int64_t j = -w; j <= w; ++j) acc += x[static_cast<size_t>((j % M + M) % M)];
      for (int64_t k = 0; k < M; ++k) {
        sm[k] = acc / static_cast<double>(2 * w + 1);
        acc += x[static_cast<size_t>((k + w + 1) % M)] - x[static_cast<size_t>(((k - w) % M + M) % M)];
      }
      const auto [lo, hi] = std::minmax_element(sm.begin(), sm.end());
      a.pops[i][v] = {mean, *lo, *hi};
      if (v == sys.rhythm_var[static_cast<size_t>(i)]) {
        double var = 0;
        for (double q : sm) var += (q - mean) * (q - mean);
        const double scale = std::max({std::fabs(mean), std::sqrt(var / static_cast<double>(m)), 1e-300});
        a.rel_amplitude[i] = (*hi - *lo) / scale;
        a.amplitude = std::max(a.amplitude, a.rel_amplitude[i]);
      }
    }
  return a;
}

/// The same orbit: equal min / mean / max of every variable, and periods equal
/// or one an integer multiple of the other (an orbit measured over k of its
/// periods, when its returns converged slowly, is still that orbit).
bool same_orbit(const mf_attractor& a, const mf_attractor& b) {
  if (a.kind != "orbit" || b.kind != "orbit") return false;
  const double lo = std::min(a.period, b.period), hi = std::max(a.period, b.period);
  if (!(lo > 0)) return false;
  const double k = std::round(hi / lo);
  if (k < 1 || std::fabs(hi - k * lo) > 1e-3 * hi) return false;
  for (size_t i = 0; i < a.pops.size(); ++i)
    for (int v = 0; v < 4; ++v) {
      const auto &x = a.pops[i][v], &y = b.pops[i][v];
      if (!std::isfinite(x.mean)) continue;
      const double s = std::max({std::fabs(x.min), std::fabs(x.max), 1e-12});
      if (std::fabs(x.mean - y.mean) > 1e-3 * s || std::fabs(x.min - y.min) > 1e-3 * s ||
          std::fabs(x.max - y.max) > 1e-3 * s)
        return false;
    }
  return true;
}

/// Adds `a` (reached from `label`) unless it is already listed; returns its index.
size_t register_attractor(std::vector<mf_attractor>& list, mf_attractor a, const std::string& label) {
  for (size_t k = 0; k < list.size(); ++k) {
    const bool same = a.kind == "orbit"
                          ? same_orbit(list[k], a)
                          : list[k].kind == "equilibrium" && equilibrium_distance(a.state, list[k].state) < 1e-4;
    if (same) {
      list[k].reached_from.push_back(label);
      if (a.kind == "orbit" && a.period < list[k].period * (1 - 1e-3)) {  // keep the orbit's own (shortest) period
        a.reached_from = std::move(list[k].reached_from);
        list[k] = std::move(a);
      }
      return k;
    }
  }
  a.reached_from = {label};
  list.push_back(std::move(a));
  return list.size() - 1;
}

}  // namespace

mf_system exact_system(const exact_meanfield& model, const std::vector<int>& rhythm_var) {
  mf_system s;
  s.dim = model.dimension();
  s.populations = model.num_populations();
  s.rhs = [&model](double t, const double* y, double* d) { model.rhs(t, y, d); };
  const int n = s.dim;
  s.to_row = [n](double, const double* y, double* row) { std::copy(y, y + n, row); };
  s.rhythm_var = rhythm_var;
  return s;
}

mf_system slow_system(const slow_meanfield& model, const std::vector<int>& rhythm_var) {
  mf_system s;
  s.dim = model.dimension();
  s.populations = model.num_populations();
  s.rhs = [&model](double t, const double* y, double* d) { model.rhs(t, y, d); };
  const int P = s.populations;
  s.to_row = [&model, P](double t, const double* y, double* row) {
    std::vector<double> R(static_cast<size_t>(P));
    model.rates(t, y, R.data());
    for (int i = 0; i < P; ++i) {
      row[4 * i] = R[i];
      row[4 * i + 1] = nan;
      row[4 * i + 2] = y[2 * i + 1];
      row[4 * i + 3] = y[2 * i];
    }
  };
  s.rhythm_var = rhythm_var;
  return s;
}

std::vector<attractor_start> exact_starts(const exact_meanfield& model, const std::vector<equilibrium>& equilibria,
                                          const std::vector<attractor_start>& extra,
                                          const std::vector<int>& rhythm_var) {
  std::vector<attractor_start> s;
  s.push_back({k_initial_state_label, model.initial_state()});
  for (const auto& x : extra) s.push_back(x);
  const int P = model.num_populations();
  for (size_t k = 0; k < equilibria.size(); ++k) {
    const auto& e = equilibria[k];
    if (!e.stable) {
      auto y = e.state;
      for (int i = 0; i < P; ++i) y[4 * i] *= 1.001;
      s.push_back({"unstable equilibrium " + std::to_string(k) + " nudged", y});
    } else {
      bool adapts = false;
      for (int i = 0; i < P; ++i) adapts = adapts || rhythm_var[static_cast<size_t>(i)] == var_w;
      if (!adapts) continue;  // w is then a constant (0, as in the network): nothing to vary
      for (double f : {0.5, 1.5}) {
        auto y = e.state;
        for (int i = 0; i < P; ++i)
          if (rhythm_var[static_cast<size_t>(i)] == var_w) y[4 * i + 2] *= f;
        s.push_back({"stable equilibrium " + std::to_string(k) + " with w x " + num(f), y});
      }
    }
  }
  return s;
}

attractor_search_result find_attractors(const mf_system& sys, const std::vector<equilibrium>& equilibria,
                                        const std::vector<attractor_start>& starts, const attractor_search_options& o) {
  attractor_search_result res;
  const size_t n = static_cast<size_t>(sys.dim);
  std::vector<equilibrium> stable_equilibria;
  for (const auto& e : equilibria)
    if (e.stable) stable_equilibria.push_back(e);
  for (const auto& e : stable_equilibria) {
    mf_attractor a = equilibrium_attractor(sys, e.state);
    a.eigenvalues = e.eigenvalues;
    res.attractors.push_back(std::move(a));
  }
  const double h = 0.05;  // sampling of the search (time units)
  try {
    for (const auto& start : starts) {
      if (start.state.size() != n) throw internal_error("find_attractors: start of wrong dimension");
      std::vector<double> y = start.state, samples, f(n);
      double t = 0, chunk = 500;
      bool have_section = false;
      std::vector<double> y_star(n), normal(n), scale(n);
      double t_section = 0, last_period = 0;
      std::vector<std::pair<double, std::vector<double>>> returns;
      bool settled = false;
      try {
        while (t < o.t_max && !settled) {
          integrate_chunk(sys, y, t, chunk, h, o, samples);
          const double t_chunk = t;
          t += static_cast<double>(samples.size() / n - 1) * h;
          // (a) a known stable equilibrium
          for (const auto& e : stable_equilibria)
            if (equilibrium_distance(y, e.state) < 1e-4) {
              register_attractor(res.attractors, equilibrium_attractor(sys, e.state), start.label);
              settled = true;
              break;
            }
          if (settled) break;
          const std::vector<double> range = ranges(samples, n);
          bool still = true;
          for (size_t i = 0; i < n; ++i) still = still && range[i] <= 1e-6 * std::max(std::fabs(y[i]), 1e-6);
          if (still) {  // an equilibrium reached by integration (one with a zero eigenvalue, say): a known one if close
            mf_attractor a = equilibrium_attractor(sys, y);
            for (const auto& e : equilibria)
              if (equilibrium_distance(y, e.state) < 1e-4) {
                a = equilibrium_attractor(sys, e.state);
                a.eigenvalues = e.eigenvalues;
                break;
              }
            register_attractor(res.attractors, std::move(a), start.label);
            settled = true;
            break;
          }
          // (b) returns to the section
          if (!have_section || (t - t_section > std::max(2000.0, 4 * last_period) && returns.size() < 2)) {
            for (size_t i = 0; i < n; ++i) scale[i] = std::max(range[i], 1e-9 * (std::fabs(y[i]) + 1e-3));
            y_star = y;
            sys.rhs(t, y.data(), f.data());
            for (size_t i = 0; i < n; ++i) normal[i] = f[i] / scale[i];
            have_section = true;
            t_section = t;
            returns.clear();
            chunk = std::min(2 * chunk, 1e4);
            continue;
          }
          auto g = [&](const double* s) {
            double v = 0;
            for (size_t i = 0; i < n; ++i) v += normal[i] * (s[i] - y_star[i]) / scale[i];
            return v;
          };
          const size_t m = samples.size() / n;
          double g_prev = g(&samples[0]);
          for (size_t k = 1; k < m; ++k) {
            const double gk = g(&samples[k * n]);
            if (g_prev < 0 && gk >= 0) {
              const double a = g_prev / (g_prev - gk);
              std::vector<double> p(n);
              for (size_t i = 0; i < n; ++i)
                p[i] = samples[(k - 1) * n + i] + a * (samples[k * n + i] - samples[(k - 1) * n + i]);
              const double tc = t_chunk + (static_cast<double>(k - 1) + a) * h;
              if (scaled_distance(p.data(), y_star.data(), scale) < 0.25) returns.emplace_back(tc, std::move(p));
            }
            g_prev = gk;
          }
          // convergence of the return map, allowing 1-, 2- and 3-cycles of returns
          const size_t R = returns.size();
          for (size_t j = 1; j <= 3 && !settled; ++j) {
            if (R < 2 * j + 1) break;
            const auto& pk = returns[R - 1].second;
            const double d = scaled_distance(pk.data(), returns[R - 1 - j].second.data(), scale);
            const double d_prev =
                scaled_distance(returns[R - 1 - j].second.data(), returns[R - 1 - 2 * j].second.data(), scale);
            const double mu = d_prev > 0 ? d / d_prev : 0;
            if (d < 1e-6 || (mu < 0.95 && d * mu / (1 - mu) < 1e-4)) {
              // A spiral into a focus also has converging returns: an orbit must
              // keep its extent from one period to the next.
              // Prefer the shortest cycle: a 1-cycle whose returns converge slowly can pass the
              // test as a 2- or 3-cycle first; when the returns one apart already nearly agree it
              // is tried as that 1-cycle (one period, not j) first, then as the j-cycle.
              std::vector<size_t> cycles = {j};
              if (j > 1 && scaled_distance(pk.data(), returns[R - 2].second.data(), scale) < 1e-2)
                cycles.insert(cycles.begin(), 1);
              for (size_t jj : cycles) {
                const double T = returns[R - 1].first - returns[R - 1 - jj].first, hT = std::min(h, T / 64);
                std::vector<double> s1, s2;
                integrate_chunk(sys, y, t, T, hT, o, s1);
                t += static_cast<double>(s1.size() / n - 1) * hT;
                integrate_chunk(sys, y, t, T, hT, o, s2);
                t += static_cast<double>(s2.size() / n - 1) * hT;
                const std::vector<double> r1 = ranges(s1, n), r2 = ranges(s2, n);
                size_t big = 0;
                for (size_t i = 0; i < n; ++i)
                  if (r1[i] / scale[i] > r1[big] / scale[big]) big = i;
                if (r1[big] > 0 && std::fabs(r2[big] / r1[big] - 1) < 1e-3) {
                  register_attractor(res.attractors, measure_orbit(sys, y, T, o), start.label);
                  settled = true;
                  break;
                }
              }
              if (!settled) {
                returns.clear();  // not yet: keep integrating
                break;
              }
            }
          }
          if (returns.size() >= 2) last_period = returns.back().first - returns[returns.size() - 2].first;
          if (returns.size() > 64) returns.erase(returns.begin(), returns.end() - 8);
        }
      } catch (const stiff_error& e) {
        // The other starts are as stiff: the search ends here, incomplete (an inconclusive verdict).
        res.complete = false;
        res.stiff = true;
        res.notes.push_back("from " + start.label + ": " + e.what() +
                            "; attractor search given up (an implicit integrator would be needed)");
        return res;
      } catch (const numerical_error& e) {
        res.notes.push_back("from " + start.label + ": integration failed: " + e.what());
        continue;
      }
      if (!settled)
        res.notes.push_back("from " + start.label + ": not settled after t = " + num(o.t_max) +
                            " (neither an equilibrium nor a converged orbit)");
    }
  } catch (const search_stopped&) {
    res.complete = false;
    res.notes.push_back("attractor search interrupted by a stop request");
  }
  return res;
}

}  // namespace izhinet
