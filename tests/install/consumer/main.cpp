// Uses the installed library as a user would: a configuration from TOML, the
// paper's physical parameters converted, a short network run on the CPU
// backend and the mean field at the same times. Prints one line and returns
// 0 when the values are the expected ones.
#include <izhinet/backend.hpp>
#include <izhinet/config.hpp>
#include <izhinet/meanfield.hpp>
#include <izhinet/params.hpp>
#include <izhinet/simulation.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

namespace {
struct last_row : izhinet::record_sink {
  izhinet::record_row row;
  void on_rows(int, const std::vector<izhinet::record_row>& rows) override { row = rows.back(); }
};
}  // namespace

int main() {
  const izhinet::dimensionless_params d = izhinet::to_dimensionless(izhinet::dimensional_params{});
  if (std::fabs(d.alpha - 0.6215) > 1e-4 || std::fabs(d.g - 1.2308) > 1e-4) {
    std::printf("conversion: alpha %g g %g\n", d.alpha, d.g);
    return 1;
  }
  const izhinet::model_spec spec = izhinet::load_config_string(R"(
[network]
n = 2000
[[population]]
eta_bar = 0.25
[synapse]
g = [[1.2308]]
e_r = [1.0]
tau_s = [2.6]
s_jump = [1.2308]
[run]
t_end = 5.0
dt = 1e-3
record_every = 100
)");
  auto be = izhinet::make_cpu_backend(1);
  be->setup(spec, izhinet::default_replicas(spec));
  last_row sink;
  izhinet::simulation_options opts;
  opts.progress_seconds = 0;
  const izhinet::simulation_result res = izhinet::simulate(spec, *be, izhinet::default_replicas(spec), sink, opts);
  const auto mf = izhinet::integrate_exact(izhinet::exact_meanfield(spec), spec.run.t_end, {spec.run.t_end},
                                           izhinet::dopri5_options{});
  std::printf("izhinet %s: t = %g, network <w> = %.5f, mean field <w> = %.5f\n", IZHINET_VERSION, sink.row.t,
              sink.row.w[0], mf[0][2]);
  const bool ok = res.state == izhinet::simulation_result::status::completed && sink.row.t == spec.run.t_end &&
                  std::fabs(sink.row.w[0] - mf[0][2]) < 0.1 * std::fabs(mf[0][2]) + 1e-3;
  return ok ? 0 : 1;
}
