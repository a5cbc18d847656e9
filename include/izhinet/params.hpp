#pragma once
/// \file params.hpp
/// The model description ("recipe"): what is simulated, independent of how.
/// All quantities dimensionless (docs/model.md section 2); `dimensional_params`
/// converts from and to the physical units (pF, nS, mV, ms, pA).
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace izhinet {

enum class scheme_kind { paper, exact };
enum class sampling_kind { quantiles, random };

const char* to_string(scheme_kind s);
const char* to_string(sampling_kind s);
/// The names above, so that GoogleTest parameters and logs print readably.
std::ostream& operator<<(std::ostream& os, scheme_kind s);
std::ostream& operator<<(std::ostream& os, sampling_kind s);

/// External input I(t) of one population (dimensionless).
/// - constant: `value` at all times;
/// - steps: piecewise constant, `values[i]` on [times[i], times[i+1]), `value` before times[0];
/// - table: linear interpolation of (times, values), held constant outside.
struct input_spec {
  enum class kind { constant, steps, table };
  kind type = kind::constant;
  double value = 0.0;
  std::vector<double> times;
  std::vector<double> values;
  double at(double t) const;
};

/// Per-population neuron parameters (dimensionless, docs/model.md section 2).
struct population_params {
  double fraction = 1.0;    ///< kappa_i, share of the n neurons
  double eta_bar = 0.12;    ///< centre of the Lorentzian excitability
  double delta = 0.02;      ///< half width of the Lorentzian
  double alpha = 0.6215;    ///< 1 + V_T/|V_R|
  double a = 0.0077;        ///< adaptation rate C/(tau_W k |V_R|)
  double b = -0.0062;       ///< adaptation coupling beta/(k |V_R|)
  double w_jump = 0.0189;   ///< W_jump/(k V_R^2)
  input_spec I_ext;         ///< I_ext/(k V_R^2)
  double v_peak = 200.0;    ///< paper scheme cut-off
  double v_reset = -200.0;  ///< paper scheme reset
};

/// Synapses: one gating variable s_j per presynaptic population j.
struct synapse_params {
  std::vector<std::vector<double>> g;  ///< g[i][j]: onto population i from population j
  std::vector<double> e_r;             ///< reversal potential, per presynaptic j
  std::vector<double> tau_s;           ///< decay time, per presynaptic j
  std::vector<double> s_jump;          ///< jump per spike (normalised by N_j), per presynaptic j
};

struct network_params {
  int64_t n = 10000;  ///< total neurons
  sampling_kind sampling = sampling_kind::quantiles;
  uint64_t seed = 1;
  int replicas = 1;  ///< independent copies (seeds seed, seed+1, ...)
};

struct run_params {
  double t_end = 800.0;
  double dt = 1e-3;
  scheme_kind scheme = scheme_kind::paper;
  int64_t record_every = 10;     ///< steps between recorded rows
  double rate_window = 0.0;      ///< 0: r over the recording interval; > 0: sliding window of this width
  int64_t spike_neurons = 0;     ///< neurons per population whose spikes are written (0 = none)
  int64_t max_spikes = 1000000;  ///< cap on written spike events
  std::string format = "csv";    ///< outputs of `izhinet run`: "csv" or "hdf5" (one run.h5, output_hdf5.hpp)
};

struct meanfield_params {
  bool enabled = true;
  double rtol = 1e-8;
  double atol = 1e-10;
  double transient = 200.0;       ///< validation metrics use t > transient
  bool slow_finite_peak = false;  ///< slow-adaptation model with finite v_peak/v_reset
};

/// Physical units of an experiment written in them (`[population.dimensional]`,
/// docs/units.md). They only label outputs (times in ms = t * time_unit_ms);
/// everything is simulated in the dimensionless form.
struct units_params {
  bool dimensional = false;    ///< false: the configuration was dimensionless
  double time_unit_ms = 0;     ///< C/(k |V_R|), ms per dimensionless time unit
  double voltage_unit_mV = 0;  ///< |V_R|: v = 1 + V/|V_R|
  double current_unit_pA = 0;  ///< k V_R^2: eta = I/(k V_R^2), w = W/(k V_R^2)
  std::string source;          ///< the physical values as given, "key = value unit" per line
};

/// A whole validated experiment.
struct model_spec {
  network_params network;
  std::vector<population_params> populations;
  synapse_params synapse;
  run_params run;
  meanfield_params meanfield;
  units_params units;

  int num_populations() const { return static_cast<int>(populations.size()); }
  int64_t num_steps() const;
  int64_t num_records() const { return num_steps() / run.record_every; }
};

/// Population sizes N_i for a network of n neurons: round(fraction_i * n),
/// the rounding remainder going to the largest population; all >= 1.
std::vector<int64_t> population_sizes(const model_spec& spec, int64_t n);

/// The paper's one-population set (docs/model.md section 2) at the given eta_bar.
model_spec paper_one_population(double eta_bar);
/// The paper's two-population set (strongly/weakly adapting), kappa = share of p.
model_spec paper_two_populations(double eta_bar, double kappa);

/// Physical parameters of one population (units pF, nS, mV, ms, pA).
struct dimensional_params {
  double C = 250, k = 2.5, V_R = -65, V_T = -24.6, beta = -1, tau_W = 200, W_jump = 200;
  double G_syn = 200, E_r = 0, tau_syn = 4, S_jump = 0.8, V_peak = 30, V_reset = -55;
  double I_ext = 0;  ///< pA
};

/// The dimensionless values of one population and its synapse onto itself.
struct dimensionless_params {
  double alpha, g, e_r, a, b, I, tau_s, s_jump, v_peak, v_reset, w_jump;
  double time_unit_ms;  ///< C/(k |V_R|)
};

dimensionless_params to_dimensionless(const dimensional_params& d);
/// Inverse map; C, k and V_R are kept from `reference` (they fix the units).
dimensional_params to_dimensional(const dimensionless_params& p, const dimensional_params& reference);

}  // namespace izhinet
