#pragma once
/// \file finite_size.hpp
/// Finite-size studies (docs/finite_size.md): how a network of
/// N neurons converges to the exact mean field, across N, seeds and the
/// sampling of eta (random Lorentzian draws or deterministic quantiles).
///
/// Every (N, sampling, seed) network is run and validated against the mean
/// field; all seeds of one (N, sampling) run together as replicas of one
/// backend (one launch per step on a GPU). Quantile networks do not depend
/// on the seed, so quantiles run once per N (seed column = network.seed).
///
/// Deviation metrics of a run, per population i and variable x in r, v, w, s:
/// - `nrms_<x><i>`: RMS(x_net - x_mf) / RMS(x_mf) over t > meanfield.transient;
/// - `dmean_<x><i>`: |mean_net - mean_mf| / |mean_mf| of the late-time means;
/// - `sdiff_<x><i>`: the same with its sign (fitted by fit_signed_plateau).
/// Output folder: `finite_size.csv` (one row per run, appended atomically as
/// each run ends: a killed study loses no finished run), `study.txt` (the
/// study's parameters: a rerun with the same ones resumes, different ones
/// are refused), `finite_size.json` (per N and sampling: mean and standard
/// deviation of each metric; per sampling: the convergence fit of fit.hpp).
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/fit.hpp"
#include "izhinet/json.hpp"
#include "izhinet/params.hpp"

namespace izhinet {

struct study_params {
  std::vector<int64_t> n;               ///< network sizes
  int seeds = 1;                        ///< K seeds per (N, random): network.seed .. network.seed + K - 1
  std::vector<sampling_kind> sampling;  ///< random and/or quantiles
};

/// One finished run.
struct study_row {
  int64_t n = 0;
  sampling_kind sampling = sampling_kind::quantiles;
  uint64_t seed = 0;
  std::string status;  ///< completed | diverged
  std::string regime_net, regime_mf;
  double period_net = 0, period_mf = 0;
  std::vector<double> nrms, dmean;  ///< [pop * 4 + var], var = r, v, w, s
  std::vector<double> sdiff;        ///< signed (mean_net - mean_mf)/|mean_mf|, [pop * 4 + var]
  double wall_seconds = 0;
};

/// Parses "100,1000,1e4" (throws config_error("--n") on bad input).
std::vector<int64_t> parse_n_list(const std::string& text);
/// Parses "random,quantiles" (throws config_error("--sampling")).
std::vector<sampling_kind> parse_sampling_list(const std::string& text);

/// The CSV header of finite_size.csv for P populations.
std::string study_csv_header(int P);
std::string study_csv_line(const study_row& row);
/// Reads finite_size.csv. A partly written last line (no newline) is
/// ignored; any other bad line is a config_error("--out") naming the file
/// and the line.
std::vector<study_row> read_study_csv(const std::string& path, int P);

/// Runs (or resumes) a study into `out_dir`, with backends from `make_backend`.
/// The folder is locked (busy_error when another process has it); a folder
/// holding anything but a study with the same parameters is refused
/// (config_error("--out")) unless `overwrite`, which empties it first.
/// Returns exit_ok when complete, exit_interrupted when stopped by `stop`
/// (checked between batches and between the write-ups of finished runs);
/// throws io_error when a file cannot be written: the run being written up is
/// then not marked done (no row in finite_size.csv), so a rerun redoes it.
/// Over the ranks of `comm` (default: world(); docs/mpi.md) every rank calls
/// run_study: the pending batches are dealt to the ranks (largest first, to
/// the least loaded), each rank runs whole networks on its own backend, and
/// rank 0 alone touches the folder, writing each round's finished runs; the
/// rows of finite_size.csv are then in finishing order, and finite_size.json
/// is computed from them in the study's own order (the same for any rank count).
int run_study(const model_spec& spec, const study_params& study, const std::string& out_dir,
              const std::function<std::unique_ptr<backend>()>& make_backend, const std::atomic<bool>* stop,
              double progress_seconds = 10.0, bool overwrite = false, communicator* comm = nullptr);

/// Aggregates rows into finite_size.json's body (write_json adds the provenance).
json study_summary_json(const model_spec& spec, const study_params& study, const std::vector<study_row>& rows);

}  // namespace izhinet
