#pragma once
/// \file meanfield.hpp
/// The mean fields in one include: models (meanfield_model.hpp), the DOPRI5
/// integrator (dopri5.hpp), dense linear algebra (linalg.hpp), equilibria
/// (equilibria.hpp), and the `mf` command.
#include <atomic>
#include <string>

#include "izhinet/dopri5.hpp"
#include "izhinet/equilibria.hpp"
#include "izhinet/linalg.hpp"
#include "izhinet/meanfield_model.hpp"

namespace izhinet {

/// The `izhinet mf` command: integrates the exact mean field alone over
/// [0, t_end] (out_dir/meanfield.csv at the record times, header
/// t,r0,v0,w0,s0,r1,...), lists all equilibria with eigenvalues and stability
/// through spdlog and writes out_dir/equilibria.json and out_dir/summary.json
/// (status, how far it got). Returns exit_ok, exit_runtime when the
/// integration failed (the rows before the failure are kept), or
/// exit_interrupted when `stop` was set (checked at every right-hand-side
/// evaluation); throws io_error when a file cannot be written,
/// config_error on bad tolerances. `out_dir` is created if needed.
int run_mf_command(const model_spec& spec, const std::string& out_dir, const std::atomic<bool>* stop = nullptr);

}  // namespace izhinet
