// Tests of `izhinet bif` (continuation.hpp): every located point is checked by
// an independent path (eigenvalues of the analytic Jacobian at equilibria found
// by the scan of find_equilibria, DOPRI5 simulations), never against a number
// copied from an output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <filesystem>
#include <vector>

#include "cli_helpers.hpp"
#include "izhinet/continuation.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/params.hpp"

using namespace izhinet;

namespace {

bif_options one_param(const std::string& key, double from, double to, bool orbits) {
  bif_options o;
  o.keys = {key};
  o.from = from;
  o.to = to;
  o.periodic = orbits;
  return o;
}

std::vector<special_point> of_type(const bif_result& r, const std::string& type) {
  std::vector<special_point> out;
  for (const auto& s : r.special)
    if (s.type == type) out.push_back(s);
  return out;
}

/// Largest real part among the complex eigenvalues of the equilibrium closest to `x` at `spec`.
double critical_real_part(const model_spec& spec, const Eigen::VectorXd& x) {
  const auto eqs = find_equilibria(spec);
  EXPECT_FALSE(eqs.empty());
  size_t best = 0;
  double dist = 1e300;
  for (size_t k = 0; k < eqs.size(); ++k) {
    double d = 0;
    for (int i = 0; i < x.size(); ++i) d += std::pow(eqs[k].state[i] - x[i], 2);
    if (d < dist) {
      dist = d;
      best = k;
    }
  }
  double re = -1e300;
  for (const auto& l : eqs[best].eigenvalues)
    if (std::fabs(l.imag()) > 1e-9) re = std::max(re, l.real());
  return re;
}

/// Integrates the exact mean field of `spec` from y0 over [0, t_end]; states every `dt`.
std::vector<std::vector<double>> simulate(const model_spec& spec, std::vector<double> y0, double t_end, double dt) {
  const exact_meanfield m(spec);
  std::vector<double> tout;
  for (double t = 0; t <= t_end; t += dt) tout.push_back(t);
  std::vector<std::vector<double>> rows;
  dopri5_options o;
  o.rtol = 1e-12;
  o.atol = 1e-14;
  integrate_dopri5([&](double t, const double* y, double* d) { m.rhs(t, y, d); }, y0, 0.0, t_end, tout, o,
                   [&](double, const double* y) { rows.emplace_back(y, y + m.dimension()); });
  return rows;
}

/// Peak-to-peak of r over the rows after `from`.
double late_amplitude(const std::vector<std::vector<double>>& rows, size_t from) {
  double lo = 1e300, hi = -1e300;
  for (size_t k = from; k < rows.size(); ++k) {
    lo = std::min(lo, rows[k][0]);
    hi = std::max(hi, rows[k][0]);
  }
  return hi - lo;
}

}  // namespace

TEST(Bifurcation, OnePopulationHopfPointsLocatedTo1e8CheckedByEigenvalueSignChange) {
  const model_spec spec = paper_one_population(0.12);
  const bif_result r = run_bifurcation(spec, one_param("population.0.eta_bar", 0.0, 0.3, false));
  const auto h = of_type(r, "H");
  // the paper (Fig. 1a): two Hopf points in eta_bar in [0, 0.3], the bursting point 0.12 between them
  ASSERT_EQ(h.size(), 2u);
  EXPECT_LT(h[0].params[0], 0.12);
  EXPECT_GT(h[1].params[0], 0.12);
  for (const auto& s : h) {
    const double p = s.params[0];
    const double below = critical_real_part(paper_one_population(p - 1e-7), s.state);
    const double above = critical_real_part(paper_one_population(p + 1e-7), s.state);
    EXPECT_LT(below * above, 0) << "no sign change of Re(lambda) across the Hopf point at " << p;
    // to 1e-8: at +-1e-8 the real parts are (nearly) 10 times smaller, still of opposite signs
    const double b8 = critical_real_part(paper_one_population(p - 1e-8), s.state);
    const double a8 = critical_real_part(paper_one_population(p + 1e-8), s.state);
    EXPECT_LT(b8 * a8, 0) << "Hopf point at " << p << " is not located to 1e-8";
    EXPECT_GT(s.frequency, 0);
    EXPECT_TRUE(std::isfinite(s.lyapunov));
  }
  // stability along the branch agrees with `izhinet mf`'s classification (find_equilibria)
  int checked = 0;
  for (const auto& b : r.points) {
    if (b.kind != "EP" || checked > 40 || (&b - &r.points[0]) % 2) continue;
    bool at_special = false;  // on a Hopf point itself the sign of Re(lambda) is rounding
    for (const auto& s : r.special) at_special = at_special || std::fabs(s.params[0] - b.params[0]) < 1e-9;
    if (at_special) continue;
    const auto eqs = find_equilibria(paper_one_population(b.params[0]));
    for (const auto& e : eqs)
      if (std::fabs(e.state[0] - b.mean[0]) < 1e-7 * (1 + b.mean[0])) {
        EXPECT_EQ(e.stable, b.stable == 1) << "eta_bar " << b.params[0];
        ++checked;
      }
  }
  EXPECT_GT(checked, 10);
}

TEST(Bifurcation, TwoPopulationFoldsCheckedByCountingEquilibria) {
  model_spec spec = paper_two_populations(0.05, 0.6);
  const bif_result r = run_bifurcation(spec, one_param("population.*.eta_bar", 0.0, 0.1, false));
  const auto lp = of_type(r, "LP");
  ASSERT_EQ(lp.size(), 2u);
  for (const auto& s : lp) {
    // independent: the equilibrium count (Newton from a grid, find_equilibria) differs by two across the fold
    const auto below = find_equilibria(paper_two_populations(s.params[0] - 1e-6, 0.6));
    const auto above = find_equilibria(paper_two_populations(s.params[0] + 1e-6, 0.6));
    EXPECT_EQ(std::abs(static_cast<int>(below.size()) - static_cast<int>(above.size())), 2)
        << "fold at " << s.params[0] << ": " << below.size() << " vs " << above.size();
    // and the Jacobian at the located state is singular
    const Eigen::JacobiSVD<Eigen::MatrixXd> svd(
        [&] {
          parametrized_meanfield sys(spec, {bind_parameter(spec, "population.*.eta_bar")});
          sys.set(s.params.data());
          return sys.jac(s.state);
        }(),
        0);
    EXPECT_LT(svd.singularValues().minCoeff() / svd.singularValues().maxCoeff(), 1e-9);
  }
  // the two-population Hopf points pass the same sign-change test
  for (const auto& s : of_type(r, "H")) {
    const double below = critical_real_part(paper_two_populations(s.params[0] - 1e-7, 0.6), s.state);
    const double above = critical_real_part(paper_two_populations(s.params[0] + 1e-7, 0.6), s.state);
    EXPECT_LT(below * above, 0) << s.params[0];
  }
}

TEST(Bifurcation, PeriodOfTheBurstingOrbitMatchesALongDopri5RunAndMeshRefinement) {
  const model_spec spec = paper_one_population(0.12);
  double periods[2];
  Eigen::VectorXd on_orbit;
  for (int k = 0; k < 2; ++k) {
    bif_options o = one_param("population.0.eta_bar", 0.0, 0.3, true);
    o.mesh = k == 0 ? 80 : 160;
    o.user_points = {0.12};
    const bif_result r = run_bifurcation(spec, o);
    const auto uz = of_type(r, "UZ");
    ASSERT_GE(uz.size(), 1u);
    EXPECT_NEAR(uz[0].params[0], 0.12, 1e-12);
    periods[k] = uz[0].period;
    on_orbit = uz[0].state;
    // a stable orbit: every multiplier but the trivial one inside the unit circle
    int outside = 0;
    for (const auto& m : uz[0].eigenvalues) outside += std::abs(m) > 1 + 1e-6;
    EXPECT_EQ(outside, 0);
  }
  EXPECT_LT(std::fabs(periods[0] - periods[1]), 1e-8) << "mesh 80 vs 160";
  // independent: a long DOPRI5 run from a point of the orbit; mean spacing of upward crossings of r's mid level
  const double dt = 0.005;
  const auto rows = simulate(spec, std::vector<double>(on_orbit.data(), on_orbit.data() + 4), 20 * periods[1], dt);
  const double level = 0.5 * (on_orbit[0] + 0.05);
  std::vector<double> cross;
  for (size_t k = 1; k < rows.size(); ++k)
    if (rows[k - 1][0] < level && rows[k][0] >= level) {
      const double th = (level - rows[k - 1][0]) / (rows[k][0] - rows[k - 1][0]);
      cross.push_back((k - 1 + th) * dt);
    }
  ASSERT_GE(cross.size(), 10u);
  const double T_sim = (cross.back() - cross.front()) / static_cast<double>(cross.size() - 1);
  EXPECT_NEAR(T_sim, periods[1], 1e-6 * periods[1]);
}

TEST(Bifurcation, FoldOfCyclesCheckedBySimulationOnBothSides) {
  const model_spec spec = paper_one_population(0.07);
  const bif_result r = run_bifurcation(spec, one_param("population.0.eta_bar", 0.0, 0.3, true));
  const auto lpc = of_type(r, "LPC");
  ASSERT_EQ(lpc.size(), 2u);
  const auto h = of_type(r, "H");
  ASSERT_EQ(h.size(), 2u);
  // the lower fold of cycles lies below the lower (subcritical) Hopf point: between them the equilibrium
  // and the large orbit both attract; below the fold only the equilibrium does.
  const special_point& f = lpc[0].params[0] < lpc[1].params[0] ? lpc[0] : lpc[1];
  ASSERT_LT(f.params[0], h[0].params[0]);
  const double d = 1e-6;
  for (int side : {+1, -1}) {
    const double p = f.params[0] + side * d;
    const model_spec s = paper_one_population(p);
    const auto eq = find_equilibria(s);
    ASSERT_EQ(eq.size(), 1u);
    EXPECT_TRUE(eq[0].stable);
    // from a point of the fold orbit
    const auto rows = simulate(s, std::vector<double>(f.state.data(), f.state.data() + 4), 60000, 1.0);
    const double amp = late_amplitude(rows, rows.size() - 3000);
    if (side > 0)
      EXPECT_GT(amp, 0.05) << "the orbit should persist at LPC + 1e-6";
    else
      EXPECT_LT(amp, 1e-3) << "the orbit should be gone at LPC - 1e-6";
    // from near the equilibrium: it stays there
    std::vector<double> y0 = eq[0].state;
    y0[0] *= 1.001;
    const auto rows_eq = simulate(s, y0, 5000, 1.0);
    EXPECT_LT(late_amplitude(rows_eq, rows_eq.size() - 1000), 1e-4);
  }
}

TEST(Bifurcation, TwoParameterCurvesMeetAtBogdanovTakensAndCusp) {
  const model_spec spec = paper_two_populations(0.12, 0.8);
  bif_options o = one_param("population.*.eta_bar", 0.0, 0.3, false);
  o.keys.push_back("population.0.fraction");
  o.from2 = 0.05;
  o.to2 = 0.95;
  const bif_result r = run_bifurcation(spec, o);
  const auto bt = of_type(r, "BT");
  const auto cp = of_type(r, "CP");
  ASSERT_GE(bt.size(), 1u);
  ASSERT_GE(cp.size(), 1u);
  parametrized_meanfield sys(
      spec, {bind_parameter(spec, "population.*.eta_bar"), bind_parameter(spec, "population.0.fraction")});
  for (const auto& s : bt) {
    // independent: a double zero eigenvalue of the Jacobian at the located point
    sys.set(s.params.data());
    Eigen::EigenSolver<Eigen::MatrixXd> es(sys.jac(s.state), false);
    std::vector<double> mods;
    for (int i = 0; i < es.eigenvalues().size(); ++i) mods.push_back(std::abs(es.eigenvalues()[i]));
    std::sort(mods.begin(), mods.end());
    EXPECT_LT(mods[1], 1e-5);
    EXPECT_LT(sys.f(s.state).lpNorm<Eigen::Infinity>(), 1e-10);
  }
  for (const auto& s : cp) {
    // at a cusp three equilibria merge: on the LP curve near it the count changes 1 <-> 3 only inside the wedge
    sys.set(s.params.data());
    const Eigen::JacobiSVD<Eigen::MatrixXd> svd(sys.jac(s.state), 0);
    EXPECT_LT(svd.singularValues().minCoeff() / svd.singularValues().maxCoeff(), 1e-8);
  }
  int hcurve = 0, lpcurve = 0;
  for (const auto& b : r.points) {
    hcurve += b.kind == "H-curve";
    lpcurve += b.kind == "LP-curve";
  }
  EXPECT_GT(hcurve, 20);
  EXPECT_GT(lpcurve, 20);
}

TEST(Bifurcation, ParameterKeysAreChecked) {
  const model_spec one = paper_one_population(0.1), two = paper_two_populations(0.1, 0.8);
  EXPECT_THROW(bind_parameter(one, "population.0.v_peak"), config_error);
  EXPECT_THROW(bind_parameter(one, "network.n"), config_error);
  EXPECT_THROW(bind_parameter(one, "population.1.eta_bar"), config_error);
  EXPECT_THROW(bind_parameter(one, "population.0.fraction"), config_error);
  EXPECT_THROW(bind_parameter(one, "synapse.g.0"), config_error);
  // population.* moves every population; a fraction keeps the sum 1
  model_spec s = two;
  bind_parameter(s, "population.*.w_jump").set(s, 0.03);
  EXPECT_EQ(s.populations[0].w_jump, 0.03);
  EXPECT_EQ(s.populations[1].w_jump, 0.03);
  bind_parameter(two, "population.0.fraction").set(s, 0.3);
  EXPECT_NEAR(s.populations[0].fraction + s.populations[1].fraction, 1.0, 1e-15);
  bind_parameter(two, "synapse.g.0.1").set(s, 2.0);
  EXPECT_EQ(s.synapse.g[0][1], 2.0);
}

TEST(BifurcationCli, BadKeysAndIntervalsGiveOneErrorLine) {
  using namespace izhinet::testing;
  const auto dir = fresh_temp_dir("bif_cli");
  const std::string cfg = std::string(IZHINET_SOURCE_DIR) + "/configs/paper_bursting.toml";
  const std::string base = "bif --config " + cfg + " --out " + (dir / "o").string() + " ";
  for (const std::string& bad :
       {std::string("--param population.0.v_peak --from 0 --to 1"), std::string("--param run.dt --from 0 --to 1"),
        std::string("--param population.0.eta_bar --from 0.1 --to 0.1"),
        std::string("--param population.0.eta_bar --from 0 --to x"),
        std::string("--param synapse.tau_s.0 --from -1 --to 1"),
        std::string("--param population.0.eta_bar --from 0 --to 0.3 --param2 population.0.a --from2 0.1 --to2 0.2")}) {
    const auto res = run_izhinet(base + bad);
    EXPECT_EQ(res.status, 2) << bad << "\n" << res.out;
    EXPECT_EQ(count_lines_with(res.out, "[error]"), 1) << bad << "\n" << res.out;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "o" / "branches.csv"));
  // a good run writes both files, and the CSV header carries the key
  const auto ok = run_izhinet(base + "--param population.0.eta_bar --from 0 --to 0.3 --no-orbits");
  ASSERT_EQ(ok.status, 0) << ok.out;
  const auto lines = read_lines(dir / "o" / "branches.csv");
  ASSERT_GT(lines.size(), 10u);
  EXPECT_EQ(lines[0].rfind("branch,kind,population.0.eta_bar,stable,period,r0_min,r0_max,r0_mean,v0_min", 0), 0u);
  EXPECT_NE(read_text(dir / "o" / "special_points.json").find("\"first_lyapunov_coefficient\""), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Bifurcation, OnePopulationHopfCurveInEtaAndWjumpHasPurelyImaginaryPairs) {
  const model_spec spec = paper_one_population(0.12);
  bif_options o = one_param("population.0.eta_bar", 0.0, 0.3, false);
  o.keys.push_back("population.0.w_jump");
  o.from2 = 0.0;
  o.to2 = 0.05;
  const bif_result r = run_bifurcation(spec, o);
  parametrized_meanfield sys(
      spec, {bind_parameter(spec, "population.0.eta_bar"), bind_parameter(spec, "population.0.w_jump")});
  int checked = 0;
  for (const auto& b : r.points) {
    if (b.kind != "H-curve" || b.period <= 0) continue;
    // independent: the eigenvalues (Eigen) at the curve's point have a pair on the imaginary axis
    sys.set(b.params.data());
    Eigen::EigenSolver<Eigen::MatrixXd> es(sys.jac(b.mean), false);
    double closest = 1e300;
    for (int i = 0; i < es.eigenvalues().size(); ++i)
      if (std::fabs(es.eigenvalues()[i].imag()) > 1e-9)
        closest = std::min(closest, std::fabs(es.eigenvalues()[i].real()));
    EXPECT_LT(closest, 1e-8) << b.params[0] << ", " << b.params[1];
    EXPECT_LT(sys.f(b.mean).lpNorm<Eigen::Infinity>(), 1e-9);
    ++checked;
  }
  EXPECT_GT(checked, 20);
  // a Bautin point: the first Lyapunov coefficient changes sign along the curve through it
  const auto gh = of_type(r, "GH");
  ASSERT_GE(gh.size(), 1u);
  double lmin = 1e300, lmax = -1e300;
  for (const auto& b : r.points) {
    if (b.kind != "H-curve" || b.period <= 0 || std::fabs(b.params[1] - gh[0].params[1]) > 5e-3) continue;
    sys.set(b.params.data());
    const double l1 = first_lyapunov(sys, b.mean, nullptr);
    lmin = std::min(lmin, l1);
    lmax = std::max(lmax, l1);
  }
  EXPECT_LT(lmin, 0);
  EXPECT_GT(lmax, 0);
}
