#include "izhinet/params.hpp"

#include <algorithm>
#include <cmath>
#include <ostream>

#include "izhinet/errors.hpp"

namespace izhinet {

const char* to_string(scheme_kind s) { return s == scheme_kind::paper ? "paper" : "exact"; }
const char* to_string(sampling_kind s) { return s == sampling_kind::quantiles ? "quantiles" : "random"; }

std::ostream& operator<<(std::ostream& os, scheme_kind s) { return os << to_string(s); }
std::ostream& operator<<(std::ostream& os, sampling_kind s) { return os << to_string(s); }

double input_spec::at(double t) const {
  switch (type) {
    case kind::constant:
      return value;
    case kind::steps: {
      // values[i] holds on [times[i], times[i+1]); `value` before times[0].
      const auto it = std::upper_bound(times.begin(), times.end(), t);
      if (it == times.begin()) return value;
      return values[static_cast<size_t>(it - times.begin()) - 1];
    }
    case kind::table: {
      if (t <= times.front()) return values.front();
      if (t >= times.back()) return values.back();
      const auto it = std::upper_bound(times.begin(), times.end(), t);
      const size_t i = static_cast<size_t>(it - times.begin());
      const double f = (t - times[i - 1]) / (times[i] - times[i - 1]);
      return values[i - 1] + f * (values[i] - values[i - 1]);
    }
  }
  throw internal_error("input_spec::at: unknown kind");
}

int64_t model_spec::num_steps() const { return static_cast<int64_t>(std::floor(run.t_end / run.dt + 1e-9)); }

std::vector<int64_t> population_sizes(const model_spec& spec, int64_t n) {
  const int P = spec.num_populations();
  std::vector<int64_t> sizes(P);
  int64_t total = 0;
  int largest = 0;
  for (int i = 0; i < P; ++i) {
    sizes[i] = static_cast<int64_t>(std::llround(spec.populations[i].fraction * static_cast<double>(n)));
    total += sizes[i];
    if (spec.populations[i].fraction > spec.populations[largest].fraction) largest = i;
  }
  sizes[largest] += n - total;
  for (int i = 0; i < P; ++i)
    if (sizes[i] < 1)
      throw config_error("network.n",
                         "n = " + std::to_string(n) + " leaves population " + std::to_string(i) +
                             " with no neuron; n must be at least " +
                             std::to_string(static_cast<int64_t>(std::ceil(1.0 / spec.populations[i].fraction))));
  return sizes;
}

model_spec paper_one_population(double eta_bar) {
  model_spec m;
  population_params p;
  p.eta_bar = eta_bar;
  m.populations = {p};
  m.synapse.g = {{1.2308}};
  m.synapse.e_r = {1.0};
  m.synapse.tau_s = {2.6};
  m.synapse.s_jump = {1.2308};
  return m;
}

model_spec paper_two_populations(double eta_bar, double kappa) {
  model_spec m = paper_one_population(eta_bar);
  population_params p = m.populations[0], q = p;
  p.fraction = kappa;
  q.fraction = 1.0 - kappa;
  q.a = 0.077;
  q.w_jump = 0.0095;
  m.populations = {p, q};
  m.synapse.g = {{1.2308, 1.2308}, {1.2308, 1.2308}};
  m.synapse.e_r = {1.0, 1.0};
  m.synapse.tau_s = {2.6, 2.6};
  m.synapse.s_jump = {1.2308, 1.2308};
  return m;
}

dimensionless_params to_dimensionless(const dimensional_params& d) {
  const double vr = std::fabs(d.V_R);
  dimensionless_params p;
  p.alpha = 1.0 + d.V_T / vr;
  p.g = d.G_syn / (d.k * vr);
  p.e_r = 1.0 + d.E_r / vr;
  p.a = d.C / (d.tau_W * d.k * vr);
  p.b = d.beta / (d.k * vr);
  p.I = d.I_ext / (d.k * vr * vr);
  p.tau_s = d.tau_syn * d.k * vr / d.C;
  p.s_jump = d.S_jump * d.C / (d.k * vr);
  p.v_peak = 1.0 + d.V_peak / vr;
  p.v_reset = 1.0 + d.V_reset / vr;
  p.w_jump = d.W_jump / (d.k * vr * vr);
  p.time_unit_ms = d.C / (d.k * vr);
  return p;
}

dimensional_params to_dimensional(const dimensionless_params& p, const dimensional_params& ref) {
  const double vr = std::fabs(ref.V_R);
  dimensional_params d = ref;
  d.V_T = (p.alpha - 1.0) * vr;
  d.G_syn = p.g * d.k * vr;
  d.E_r = (p.e_r - 1.0) * vr;
  d.tau_W = d.C / (p.a * d.k * vr);
  d.beta = p.b * d.k * vr;
  d.I_ext = p.I * d.k * vr * vr;
  d.tau_syn = p.tau_s * d.C / (d.k * vr);
  d.S_jump = p.s_jump * d.k * vr / d.C;
  d.V_peak = (p.v_peak - 1.0) * vr;
  d.V_reset = (p.v_reset - 1.0) * vr;
  d.W_jump = p.w_jump * d.k * vr * vr;
  return d;
}

}  // namespace izhinet
