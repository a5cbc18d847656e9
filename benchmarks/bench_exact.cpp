// The two schemes side by side at equal accuracy (issue: "an exact scheme
// that pays for itself"). One population at eta_bar (default the tonic point
// 0.25), N quantile-sampled neurons, run to t_end on the CPU backend; for each
// scheme and dt: the late means (t > t_from) of r and <w>, their relative
// error against the same scheme's smallest-dt run, neuron-steps/s and wall
// time. Then, per scheme, the dt that reaches 1 % and 0.1 % (log-log
// interpolation between the measured steps), the wall time a run at that dt
// takes (from the measured rate), and the exact/paper ratios. Last, the cost
// of a step alone: both schemes recording every 100 steps, alternating, the
// median of the per-round ratios (--cost-reps rounds of --cost-steps steps).
//
// Usage: bench_exact [--n 1e4] [--eta-bar 0.25] [--t-end 300] [--t-from 200] [--threads 1]
//                    [--paper-dts 2e-3,1e-3,5e-4,2.5e-4] [--exact-dts 0.1,0.05,0.02,0.01,5e-3,2.5e-3]
//                    [--cost-reps 5] [--cost-steps 3000] [--md FILE]
// The last dt of each list is the reference. The machine may be shared: the
// neuron-steps/s are the rate of each whole run (recording included).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/params.hpp"
#include "izhinet/simulation.hpp"

namespace {

using namespace izhinet;

std::vector<double> parse_list(const std::string& s) {
  std::vector<double> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(std::stod(item));
  return out;
}

struct rows_sink : record_sink {
  std::vector<record_row> rows;
  void on_rows(int replica, const std::vector<record_row>& r) override {
    if (replica == 0) rows.insert(rows.end(), r.begin(), r.end());
  }
};

struct result {
  double dt, r, w, rate, wall, err_r = 0, err_w = 0;
};

result run(scheme_kind scheme, double dt, int64_t n, double eta_bar, double t_end, double t_from, int threads,
           int64_t record_every = 0) {
  model_spec m = paper_one_population(eta_bar);
  m.network.n = n;
  m.run.scheme = scheme;
  m.run.dt = dt;
  m.run.t_end = t_end;
  m.run.record_every = record_every > 0 ? record_every : std::max<int64_t>(1, std::llround(0.1 / dt));
  auto be = make_cpu_backend(threads);
  const auto reps = default_replicas(m);
  be->setup(m, reps);
  rows_sink sink;
  simulation_options o;
  o.progress_seconds = 0;
  const auto t0 = std::chrono::steady_clock::now();
  simulate(m, *be, reps, sink, o);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double r = 0, w = 0;
  int k = 0;
  for (const auto& row : sink.rows)
    if (row.t > t_from) {
      r += row.r[0];
      w += row.w[0];
      ++k;
    }
  if (k == 0) k = 1;
  const double steps = std::round(t_end / dt);
  return {dt, r / k, w / k, static_cast<double>(n) * steps / wall, wall};
}

/// The largest dt whose error (max of r and <w>) is at most `target`: log-log
/// interpolation between the measured dts; NaN when none reaches it.
double dt_for(const std::vector<result>& rs, double target) {
  // rs: by decreasing dt, the last is the reference (excluded).
  for (size_t i = 0; i + 1 < rs.size(); ++i) {
    const double e = std::max(rs[i].err_r, rs[i].err_w);
    if (e <= target) {
      if (i == 0) return rs[0].dt;  // already the coarsest
      const double e0 = std::max(rs[i - 1].err_r, rs[i - 1].err_w);
      const double a = std::log(e0 / e) / std::log(rs[i - 1].dt / rs[i].dt);  // local order
      return rs[i].dt * std::pow(target / e, 1.0 / a);
    }
  }
  return NAN;
}

}  // namespace

int main(int argc, char** argv) {
  double n = 1e4, eta_bar = 0.25, t_end = 300, t_from = 200;
  int threads = 1, cost_reps = 5;
  double cost_steps = 3000;
  std::vector<double> paper_dts{2e-3, 1e-3, 5e-4, 2.5e-4}, exact_dts{0.1, 0.05, 0.02, 0.01, 5e-3, 2.5e-3};
  std::string md;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--n")
      n = std::stod(v);
    else if (k == "--eta-bar")
      eta_bar = std::stod(v);
    else if (k == "--t-end")
      t_end = std::stod(v);
    else if (k == "--t-from")
      t_from = std::stod(v);
    else if (k == "--threads")
      threads = std::stoi(v);
    else if (k == "--paper-dts")
      paper_dts = parse_list(v);
    else if (k == "--exact-dts")
      exact_dts = parse_list(v);
    else if (k == "--cost-reps")
      cost_reps = std::stoi(v);
    else if (k == "--cost-steps")
      cost_steps = std::stod(v);
    else if (k == "--md")
      md = v;
    else {
      std::fprintf(stderr, "[error] unknown option %s\n", k.c_str());
      return 2;
    }
  }
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line,
                "eta_bar = %g, N = %g (quantiles), t_end = %g, late means over t > %g, %d thread(s); errors against "
                "each scheme's smallest dt\n\n",
                eta_bar, n, t_end, t_from, threads);
  out << line;
  out << "| scheme | dt | late r | late <w> | err r | err <w> | neuron-steps/s | wall (s) |\n";
  out << "|---|---|---|---|---|---|---|---|\n";
  std::vector<result> all[2];
  const scheme_kind schemes[2] = {scheme_kind::paper, scheme_kind::exact};
  for (int s = 0; s < 2; ++s) {
    auto& rs = all[s];
    for (double dt : s == 0 ? paper_dts : exact_dts) {
      rs.push_back(run(schemes[s], dt, static_cast<int64_t>(n), eta_bar, t_end, t_from, threads));
      std::fprintf(stderr, "%s dt = %g: %.3f s\n", to_string(schemes[s]), dt, rs.back().wall);
    }
    const result& ref = rs.back();
    for (auto& r : rs) {
      r.err_r = std::fabs(r.r / ref.r - 1);
      r.err_w = std::fabs(r.w / ref.w - 1);
      std::snprintf(line, sizeof line, "| %s | %g | %.6f | %.6f | %s | %s | %.3g | %.2f |\n", to_string(schemes[s]),
                    r.dt, r.r, r.w, &r == &ref ? "ref" : (std::to_string(100 * r.err_r).substr(0, 6) + " %").c_str(),
                    &r == &ref ? "ref" : (std::to_string(100 * r.err_w).substr(0, 6) + " %").c_str(), r.rate, r.wall);
      out << line;
    }
  }
  // Per-step cost: the paper rate over the exact rate, from the runs at the
  // steps each scheme would use (medians over each scheme's runs).
  auto median_rate = [](std::vector<result> rs) {
    std::sort(rs.begin(), rs.end(), [](const result& a, const result& b) { return a.rate < b.rate; });
    return rs[rs.size() / 2].rate;
  };
  const double rp = median_rate(all[0]), re = median_rate(all[1]);
  out << "\n| target | paper dt | paper wall (s) | exact dt | exact wall (s) | exact speed-up "
         "|\n|---|---|---|---|---|---|\n";
  for (double target : {1e-2, 1e-3}) {
    const double dp = dt_for(all[0], target), de = dt_for(all[1], target);
    const double wp = n * std::round(t_end / dp) / rp, we = n * std::round(t_end / de) / re;
    std::snprintf(line, sizeof line, "| %g %% | %.3g | %.3g | %.3g | %.3g | %.2fx |\n", 100 * target, dp, wp, de, we,
                  wp / we);
    out << line;
  }
  std::snprintf(line, sizeof line,
                "\nper-step cost exact/paper from the table (median neuron-steps/s %.3g vs %.3g, each scheme recording "
                "every 0.1 time units, i.e. every step at exact dt = 0.1): %.2fx\n",
                re, rp, rp / re);
  out << line;
  // The step itself: both schemes recording every 100 steps (recording < 1 %
  // of the work), the paper scheme at its first dt and the exact scheme at
  // each of its dts (the share of neurons its common case leaves to the full
  // step grows with dt), alternating, `cost_reps` rounds; the median of the
  // per-round ratios (the machine may be shared: ratios within a round).
  if (cost_reps > 0) {
    std::vector<double> edts(exact_dts.begin(), exact_dts.end() - 1);
    std::vector<std::vector<double>> ratio(edts.size());
    std::vector<double> prate;
    for (int rep = 0; rep < cost_reps; ++rep) {
      for (size_t e = 0; e < edts.size(); ++e) {
        // the exact runs reach the tonic state (t >= 30) whatever dt; the paper step's cost does not depend on it
        const double tp = cost_steps * paper_dts[0], te = std::max(cost_steps * edts[e], 30.0);
        const result a = run(scheme_kind::paper, paper_dts[0], static_cast<int64_t>(n), eta_bar, tp, tp, threads, 100);
        const result b = run(scheme_kind::exact, edts[e], static_cast<int64_t>(n), eta_bar, te, te, threads, 100);
        ratio[e].push_back(a.rate / b.rate);
        prate.push_back(a.rate);
      }
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::snprintf(line, sizeof line,
                  "\nper-step cost, recording every 100 steps, %d rounds (paper: %g steps at dt = %g from rest, "
                  "exact: %g steps or to t = 30 if longer; paper "
                  "median %.3g neuron-steps/s):\n\n| exact dt | exact/paper, median | min | max |\n|---|---|---|---|\n",
                  cost_reps, cost_steps, paper_dts[0], cost_steps, median(prate));
    out << line;
    for (size_t e = 0; e < edts.size(); ++e) {
      const auto mm = std::minmax_element(ratio[e].begin(), ratio[e].end());
      std::snprintf(line, sizeof line, "| %g | %.2fx | %.2fx | %.2fx |\n", edts[e], median(ratio[e]), *mm.first,
                    *mm.second);
      out << line;
    }
  }
  std::fputs(out.str().c_str(), stdout);
  if (!md.empty()) {
    std::ofstream f(md);
    f << out.str();
    if (!f) {
      std::fprintf(stderr, "[error] --md: cannot write %s\n", md.c_str());
      return 1;
    }
  }
  return 0;
}
