#pragma once
/// \file sweep.hpp
/// Parameter sweeps of networks (`izhinet sweep`): one network per value of a
/// configuration key, each analysed after the transient like the validator
/// analyses a run (series_analysis.hpp) and set beside the mean field's
/// prediction at the same value (its attractor nearest to the network,
/// attractors.hpp), so that the dots can be drawn on a bifurcation diagram.
///
/// Directions:
/// - `none` (default): every value starts from the network's initial state
///   (v = w = s = 0), as `izhinet run` would;
/// - `up` / `down`: the values in increasing / decreasing order, each network
///   starting from the final per-neuron state of the previous value (same
///   neurons: same N, seed and sampling; eta is redrawn for the new value when
///   the key changes the input distribution), as one slowly swept experiment;
/// - `both`: `up` then `down` (the down sweep starting from the up sweep's
///   last state), so that bistable windows show as hysteresis.
///
/// Output folder: `sweep.csv`, one row per (value, direction), appended
/// atomically when its network is done (a killed sweep loses no finished
/// value; a rerun with the same arguments skips them), `sweep.txt` (what
/// identifies the sweep: a rerun with other parameters is refused), and for
/// `up`/`down`/`both` `state_<direction>_<value>.bin`, the backend's state
/// after the last finished value (so that a resumed sweep continues from it).
///
/// Columns of sweep.csv: `KEY,direction,regime,period`, then per population
/// i and variable x in r, v, w, s: `x<i>_min,x<i>_max,x<i>_mean` (after the
/// transient meanfield.transient, smoothed as in the validator: a finite
/// network at an equilibrium still fluctuates a little around it),
/// then the same with an `mf_` prefix for the mean field, then `verdict`
/// (the validator's outcome against the exact mean field), `attractors` (how
/// many the mean field has at that value) and `wall_seconds`.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/params.hpp"

namespace izhinet {

enum class sweep_direction { none, up, down, both };
const char* to_string(sweep_direction d);
/// Parses none|up|down|both (config_error("--direction") otherwise).
sweep_direction parse_sweep_direction(const std::string& text);

/// Parses "A:B:K" (K >= 1 evenly spaced values from A to B inclusive) or a
/// comma-separated list of numbers; config_error("--values") on bad input.
std::vector<double> parse_sweep_values(const std::string& text);

struct sweep_params {
  std::string key;             ///< dotted configuration key; `population.*.x` moves every population
  std::vector<double> values;  ///< in the order given (up/down sort them)
  sweep_direction direction = sweep_direction::none;
  int64_t n = 0;  ///< network size (0: network.n of the configuration)
};

/// The `--set` assignments that put `key` at `value` for a model with
/// `populations` populations (`population.*.x` expands to every population).
std::vector<std::string> sweep_assignments(const std::string& key, double value, int populations);
/// Same, for a model `base`: `population.K.fraction` = x also rescales the
/// other populations' fractions to keep the sum 1, as `bif` does: fraction i
/// becomes base_i (1 - x) / (1 - base_K) (the last one 1 minus the others, so
/// that the sum is 1 to rounding).
std::vector<std::string> sweep_assignments(const std::string& key, double value, const model_spec& base);

/// The header of sweep.csv for P populations and the swept key.
std::string sweep_csv_header(const std::string& key, int P);

/// Runs (or resumes) a sweep into `out_dir`. `config_text` and `overrides`
/// are the configuration and its --set values (the swept key is applied on
/// top). Returns exit_ok, or exit_interrupted when stopped by `stop` (the
/// value being run is redone on resume). Throws config_error for a key the
/// configuration does not have or that is not numeric, io_error when a file
/// cannot be written.
///
/// Over the ranks of `comm` (default: world(); docs/mpi.md) every rank calls
/// run_sweep with the same arguments. `--direction none`: rank 0 owns the
/// folder and is the only writer; the pending values are dealt to the ranks
/// in batches, each rank runs whole networks (one per value) with their
/// validators, and rank 0 appends the rows in the values' order, so that the
/// rows equal those of one process (wall_seconds aside) and a sweep resumes
/// over any number of ranks. Carried directions (up, down, both) are
/// sequential: over several ranks they are refused (config_error("--direction")).
int run_sweep(const std::string& config_text, const std::string& config_source,
              const std::vector<std::string>& overrides, const sweep_params& sweep, const std::string& out_dir,
              const std::function<std::unique_ptr<backend>()>& make_backend, const std::atomic<bool>* stop,
              double progress_seconds = 10.0, bool overwrite = false, communicator* comm = nullptr);

}  // namespace izhinet
