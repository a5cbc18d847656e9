/// \file mf_command.cpp
/// The `izhinet mf` command: the exact mean field alone, and its equilibria.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "izhinet/errors.hpp"
#include "izhinet/io.hpp"
#include "izhinet/json.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/output.hpp"
#include "mf_json.hpp"

namespace izhinet {

int run_mf_command(const model_spec& spec, const std::string& out_dir, const std::atomic<bool>* stop) {
  const dopri5_options opt = dopri5_options_from(spec.meanfield);
  const exact_meanfield model(spec);
  const int P = model.num_populations();
  const auto times = record_times(spec);
  const auto stopped = [stop] { return stop && stop->load(std::memory_order_relaxed); };
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw io_error(out_dir, ec.value(), "create folder");
  const std::string summary_path = out_dir + "/summary.json";
  json summary;
  summary["command"] = "mf";
  summary["status"] = "running";
  summary["parameters"] = spec_to_json(spec);
  write_json(summary_path, summary);

  // trajectory, written row by row as the integrator delivers it
  const std::string csv = out_dir + "/meanfield.csv";
  line_file f(csv);
  std::string line = "t";
  for (int i = 0; i < P; ++i) {
    const std::string k = std::to_string(i);
    line += ",r" + k + ",v" + k + ",w" + k + ",s" + k;
  }
  f.line(line);
  char buf[256];
  const auto t0 = std::chrono::steady_clock::now();
  dopri5_stats st;
  std::string failure;
  double t_last = 0;
  bool interrupted = false;
  std::unique_ptr<io_error> io_failure;
  try {
    st = integrate_dopri5(
        [&](double t, const double* y, double* d) {
          if (stopped()) throw interrupted_error("interrupted by signal");  // checked at every rhs evaluation
          model.rhs(t, y, d);
        },
        model.initial_state(), 0.0, spec.run.t_end, times, opt,
        [&](double t, const double* y) {
          line = format_time(t);
          for (int k = 0; k < 4 * P; ++k) csv_append(line, y[k]);
          f.line(line);
          t_last = t;
          if (f.pending() >= 4096) f.flush();
        });
  } catch (const numerical_error& e) {
    failure = e.what();  // the rows up to the failure are kept
  } catch (const interrupted_error&) {
    interrupted = true;
  } catch (const io_error& e) {
    io_failure = std::make_unique<io_error>(e);
  }
  const auto finish = [&](const std::string& status, const std::string& message, bool after_error = false) {
    summary["status"] = status;
    summary["message"] = message;
    summary["t_reached"] = clean_time(t_last);
    summary["integration"] = {
        {"accepted_steps", st.accepted}, {"rejected_steps", st.rejected}, {"rhs_evaluations", st.rhs_evals}};
    summary["outputs"] = {"meanfield.csv", "equilibria.json"};
    if (after_error)
      write_json_after_error(summary_path, summary);
    else
      write_json(summary_path, summary);
  };
  if (!io_failure) try {
      f.close();
    } catch (const io_error& e) {
      io_failure = std::make_unique<io_error>(e);
    }
  if (io_failure) {
    // meanfield.csv ends in complete rows at the first record times: say how far it is valid.
    const int64_t rows = f.lines() - 1;
    summary["valid_until_t"] = rows > 0 ? json(clean_time(times[static_cast<size_t>(rows) - 1])) : json(nullptr);
    finish("io_error", io_failure->what(), true);  // the first error is the one reported
    throw *io_failure;
  }
  if (interrupted) {
    spdlog::warn("interrupted by signal at t = {}; meanfield.csv holds the trajectory up to there",
                 format_time(t_last));
    finish("interrupted", "interrupted by signal at t = " + format_time(t_last));
    return exit_interrupted;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (failure.empty())
    spdlog::info("exact mean field over [0, {}]: {} steps ({} rejected), {} rhs evaluations, {:.3g} s -> {}",
                 spec.run.t_end, st.accepted, st.rejected, st.rhs_evals, secs, csv);
  else
    spdlog::error("exact mean field: {}", failure);

  // equilibria
  equilibrium_options eo;
  bool constant_input = true;
  for (const auto& p : spec.populations) constant_input = constant_input && p.I_ext.type == input_spec::kind::constant;
  if (!constant_input) spdlog::info("inputs vary in time: equilibria are those of the inputs at t = 0");
  const auto eq = find_equilibria(spec, eo);
  spdlog::info("{} equilibri{} with r > 0", eq.size(), eq.size() == 1 ? "um" : "a");
  if (stopped()) {
    finish("interrupted", "interrupted by signal after the integration");
    return exit_interrupted;
  }
  detail::json_writer j;
  j.begin_object();
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
  write_json(out_dir + "/equilibria.json", j.root());
  if (!failure.empty()) {
    finish("failed", failure);
    return exit_runtime;  // one [error] line was printed above
  }
  finish("completed", "");
  return exit_ok;
}

}  // namespace izhinet
