// Pathwise convergence of a scheme (issue 16): one population of N
// quantile-sampled neurons (default model), run over a short horizon at
// several dt and at a tiny reference dt; the recorded time series (r, <v>,
// <w>, s, sampled at the same times whatever dt) and the spike times of every
// neuron are compared with the reference's. For each observable: the mean
// absolute difference over the rows (relative to the reference's mean
// absolute value), and the local order between successive dts. Spike times:
// mean and median absolute difference over the spikes of the neurons that
// fire equally often in both runs (the others are counted as left out).
//
// Usage: bench_exact_paths [--n 1000] [--eta-bar 0.25] [--t-end 20] [--record 0.2]
//                          [--scheme exact] [--dts 0.2,0.1,0.05,0.025] [--ref-dt 1.25e-3] [--threads 1]
//                          [--g-scale 1] (scales the coupling g; 0: uncoupled) [--from 0] (compare rows and spikes
//                          after t)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
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

struct sink_all : record_sink {
  std::vector<record_row> rows;
  std::vector<spike_event> spikes;
  void on_rows(int replica, const std::vector<record_row>& r) override {
    if (replica == 0) rows.insert(rows.end(), r.begin(), r.end());
  }
  void on_spikes(const std::vector<spike_event>& s) override { spikes.insert(spikes.end(), s.begin(), s.end()); }
};

struct path {
  std::vector<record_row> rows;
  std::map<int64_t, std::vector<double>> times;  ///< spike times per neuron
};

double g_scale = 1.0;

path run(scheme_kind scheme, double dt, int64_t n, double eta_bar, double t_end, double rec, int threads) {
  model_spec m = paper_one_population(eta_bar);
  m.synapse.g[0][0] *= g_scale;
  m.network.n = n;
  m.run.scheme = scheme;
  m.run.dt = dt;
  m.run.t_end = t_end;
  m.run.record_every = std::max<int64_t>(1, std::llround(rec / dt));
  m.run.spike_neurons = n;
  m.run.max_spikes = 100000000;
  auto be = make_cpu_backend(threads);
  const auto reps = default_replicas(m);
  be->setup(m, reps);
  sink_all sink;
  simulation_options o;
  o.progress_seconds = 0;
  simulate(m, *be, reps, sink, o);
  path p;
  p.rows = sink.rows;
  for (const auto& e : sink.spikes) p.times[e.neuron].push_back((static_cast<double>(e.step) + e.frac) * dt);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  double n = 1000, eta_bar = 0.25, t_end = 20, rec = 0.2, ref_dt = 1.25e-3, t_from = 0;
  int threads = 1;
  std::string scheme = "exact";
  std::vector<double> dts{0.2, 0.1, 0.05, 0.025};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--n")
      n = std::stod(v);
    else if (k == "--eta-bar")
      eta_bar = std::stod(v);
    else if (k == "--t-end")
      t_end = std::stod(v);
    else if (k == "--record")
      rec = std::stod(v);
    else if (k == "--scheme")
      scheme = v;
    else if (k == "--dts")
      dts = parse_list(v);
    else if (k == "--ref-dt")
      ref_dt = std::stod(v);
    else if (k == "--from")
      t_from = std::stod(v);
    else if (k == "--g-scale")
      g_scale = std::stod(v);
    else if (k == "--threads")
      threads = std::stoi(v);
    else {
      std::fprintf(stderr, "[error] unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const scheme_kind sk = scheme == "paper" ? scheme_kind::paper : scheme_kind::exact;
  const path ref = run(sk, ref_dt, static_cast<int64_t>(n), eta_bar, t_end, rec, threads);
  auto scale = [&](auto get) {
    double a = 0;
    size_t k = 0;
    for (const auto& r : ref.rows)
      if (r.t > t_from) {
        a += std::fabs(get(r));
        ++k;
      }
    return a / static_cast<double>(k);
  };
  auto gr = [](const record_row& x) { return x.r[0]; };
  auto gv = [](const record_row& x) { return x.v[0]; };
  auto gw = [](const record_row& x) { return x.w[0]; };
  auto gs = [](const record_row& x) { return x.s[0]; };
  const double sr = scale(gr), sv = scale(gv), sw = scale(gw), ss = scale(gs);
  std::printf("%s scheme, eta_bar = %g, N = %g, t_end = %g, rows every %g, reference dt = %g (%zu spikes)\n",
              scheme.c_str(), eta_bar, n, t_end, rec, ref_dt, [&] {
                size_t c = 0;
                for (const auto& kv : ref.times) c += kv.second.size();
                return c;
              }());
  std::printf(
      "| dt | r | <v> | <w> | s | spike times (mean abs) | unmatched neurons |\n|---|---|---|---|---|---|---|\n");
  std::vector<std::vector<double>> errs;
  for (double dt : dts) {
    const path p = run(sk, dt, static_cast<int64_t>(n), eta_bar, t_end, rec, threads);
    const size_t K = std::min(p.rows.size(), ref.rows.size());
    double er = 0, ev = 0, ew = 0, es = 0;
    size_t used = 0;
    for (size_t k = 0; k < K; ++k) {
      if (ref.rows[k].t <= t_from) continue;
      ++used;
      er += std::fabs(gr(p.rows[k]) - gr(ref.rows[k]));
      ev += std::fabs(gv(p.rows[k]) - gv(ref.rows[k]));
      ew += std::fabs(gw(p.rows[k]) - gw(ref.rows[k]));
      es += std::fabs(gs(p.rows[k]) - gs(ref.rows[k]));
    }
    er /= used * sr;
    ev /= used * sv;
    ew /= used * sw;
    es /= used * ss;
    double et = 0;
    size_t nt = 0, unmatched = 0;
    std::vector<double> d;
    for (const auto& kv : ref.times) {
      auto it = p.times.find(kv.first);
      if (it == p.times.end() || it->second.size() != kv.second.size()) {
        ++unmatched;
        continue;
      }
      for (size_t j = 0; j < kv.second.size(); ++j) {
        if (kv.second[j] <= t_from) continue;
        et += std::fabs(it->second[j] - kv.second[j]);
        d.push_back(std::fabs(it->second[j] - kv.second[j]));
        ++nt;
      }
    }
    et /= std::max<size_t>(1, nt);
    std::sort(d.begin(), d.end());
    const double med = d.empty() ? NAN : d[d.size() / 2];
    errs.push_back({er, ev, ew, es, et, med});
    std::printf("| %g | %.3g | %.3g | %.3g | %.3g | %.3g | %.3g | %zu |\n", dt, er, ev, ew, es, et, med, unmatched);
  }
  std::printf("\nlocal orders (log2 of successive error ratios / log2 of dt ratios):\n");
  for (size_t i = 0; i + 1 < errs.size(); ++i) {
    const double l = std::log(dts[i] / dts[i + 1]);
    std::printf("%g -> %g:", dts[i], dts[i + 1]);
    const char* names[6] = {"r", "<v>", "<w>", "s", "t_spike mean", "t_spike median"};
    for (int j = 0; j < 6; ++j) std::printf(" %s %.2f", names[j], std::log(errs[i][j] / errs[i + 1][j]) / l);
    std::printf("\n");
  }
  return 0;
}
