/// \file mf_command.cpp
/// The `izhinet mf` command: the exact mean field alone, and its equilibria.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "izhinet/errors.hpp"
#include "izhinet/meanfield.hpp"
#include "mf_json.hpp"

namespace izhinet {

int run_mf_command(const model_spec& spec, const std::string& out_dir) {
  const dopri5_options opt = dopri5_options_from(spec.meanfield);
  const exact_meanfield model(spec);
  const int P = model.num_populations();
  const auto times = record_times(spec);
  std::filesystem::create_directories(out_dir);

  // trajectory, written row by row as the integrator delivers it
  const std::string csv = out_dir + "/meanfield.csv";
  std::ofstream f(csv);
  if (!f) throw user_error("cannot write " + csv);
  f << 't';
  for (int i = 0; i < P; ++i) f << ",r" << i << ",v" << i << ",w" << i << ",s" << i;
  f << '\n';
  char buf[256];
  const auto t0 = std::chrono::steady_clock::now();
  dopri5_stats st;
  bool failed = false;
  try {
    st = integrate_dopri5([&](double t, const double* y, double* d) { model.rhs(t, y, d); }, model.initial_state(), 0.0,
                          spec.run.t_end, times, opt,
                          [&](double t, const double* y) {
                            std::snprintf(buf, sizeof buf, "%.10g", t);
                            f << buf;
                            for (int k = 0; k < 4 * P; ++k) {
                              std::snprintf(buf, sizeof buf, ",%.10g", y[k]);
                              f << buf;
                            }
                            f << '\n';
                          });
  } catch (const numerical_error& e) {
    failed = true;
    spdlog::error("exact mean field: {}", e.what());  // the rows up to the failure are kept
  }
  f.close();
  if (!f) throw user_error("error while writing " + csv);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!failed)
    spdlog::info("exact mean field over [0, {}]: {} steps ({} rejected), {} rhs evaluations, {:.3g} s -> {}",
                 spec.run.t_end, st.accepted, st.rejected, st.rhs_evals, secs, csv);

  // equilibria
  equilibrium_options eo;
  bool constant_input = true;
  for (const auto& p : spec.populations) constant_input = constant_input && p.I_ext.type == input_spec::kind::constant;
  if (!constant_input) spdlog::info("inputs vary in time: equilibria are those of the inputs at t = 0");
  const auto eq = find_equilibria(spec, eo);
  spdlog::info("{} equilibri{} with r > 0", eq.size(), eq.size() == 1 ? "um" : "a");
  detail::json_writer j;
  j.begin_object();
  j.value("version", IZHINET_VERSION);
  j.value("git", IZHINET_GIT);
  detail::write_model(j, spec);
  j.value("t_input", eo.t_input);
  j.begin_array("equilibria");
  for (size_t k = 0; k < eq.size(); ++k) {
    const auto& e = eq[k];
    std::string state, ev;
    for (int i = 0; i < P; ++i) {
      std::snprintf(buf, sizeof buf, "%sr%d=%.6g v%d=%.6g w%d=%.6g s%d=%.6g", i ? ", " : "", i, e.state[4 * i], i,
                    e.state[4 * i + 1], i, e.state[4 * i + 2], i, e.state[4 * i + 3]);
      state += buf;
    }
    for (size_t m = 0; m < e.eigenvalues.size(); ++m) {
      std::snprintf(buf, sizeof buf, "%s%.4g%+.4gi", m ? ", " : "", e.eigenvalues[m].real(), e.eigenvalues[m].imag());
      ev += buf;
    }
    spdlog::info("equilibrium {}: {} ({}); eigenvalues {}", k, state, e.stable ? "stable" : "unstable", ev);
    j.begin_object();
    j.value("stable", e.stable);
    j.value("residual", e.residual);
    j.begin_array("populations");
    for (int i = 0; i < P; ++i) {
      j.begin_object();
      j.value("r", e.state[4 * i]);
      j.value("v", e.state[4 * i + 1]);
      j.value("w", e.state[4 * i + 2]);
      j.value("s", e.state[4 * i + 3]);
      j.end_object();
    }
    j.end_array();
    j.begin_array("eigenvalues");
    for (const auto& l : e.eigenvalues) {
      j.begin_object();
      j.value("re", l.real());
      j.value("im", l.imag());
      j.end_object();
    }
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.end_object();
  const std::string jpath = out_dir + "/equilibria.json";
  std::ofstream jf(jpath);
  jf << j.str();
  if (!jf) throw user_error("cannot write " + jpath);
  return 0;
}

}  // namespace izhinet
