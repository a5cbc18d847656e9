#pragma once
/// \file config.hpp
/// Loading and validating an experiment from TOML, with `--set` overrides.
///
/// Keys (all dimensionless; defaults in params.hpp):
///   [network]    n, sampling ("quantiles" | "random"), seed, replicas
///   [[population]] fraction, eta_bar, delta, alpha, a, b, w_jump, I_ext, v_peak, v_reset
///                I_ext is a number (constant) or an inline table
///                { kind = "steps", times = [...], values = [...], before = 0.0 }  (values[i] from times[i] on)
///                { kind = "table", times = [...], values = [...] }                (linear interpolation)
///   [synapse]    g (P x P, onto i from j), e_r, tau_s, s_jump (P each, per presynaptic population)
///   [run]        t_end, dt, scheme ("paper" | "exact"), record_every, rate_window, spike_neurons, max_spikes
///   [meanfield]  enabled, rtol, atol, transient, slow_finite_peak
#include <string>
#include <vector>

#include "izhinet/params.hpp"

namespace izhinet {

/// Parse `text` (TOML), apply overrides "dotted.path=value" in order, validate.
/// Throws config_error naming the key on any problem.
model_spec load_config_string(const std::string& text, const std::vector<std::string>& overrides = {},
                              const std::string& source = "<string>");
/// Largest configuration file read (64 MiB).
constexpr long long max_config_bytes = 64LL << 20;
/// The bytes of a configuration file: config_error("--config") when it is
/// missing, not a regular file (a folder, FIFO, device such as /dev/zero) or
/// larger than max_config_bytes. Never blocks on a FIFO.
std::string read_config_file(const std::string& path);
/// Same, reading the file at `path` (read_config_file).
model_spec load_config_file(const std::string& path, const std::vector<std::string>& overrides = {});
/// Check ranges and shapes of an already-built spec (used by the loader, and
/// by code that builds specs programmatically).
void validate(const model_spec& spec);
/// The spec as TOML (every key, after overrides): the provenance of outputs.
std::string to_toml(const model_spec& spec);

/// to_toml with numbers at 17 significant digits (0.62150000000000005), as
/// izhinet wrote them before it wrote the shortest form: folders (study.txt,
/// sweep.txt, checkpoints) written then compare against this text.
std::string to_toml_legacy(const model_spec& spec);
/// The closest of `candidates` to `word` (edit distance), or "" when none is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace izhinet
