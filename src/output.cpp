#include "izhinet/output.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>

#include "izhinet/errors.hpp"

namespace fs = std::filesystem;

namespace izhinet {

std::string csv_header(int P, bool with_v) {
  std::string h = "t";
  for (int i = 0; i < P; ++i) {
    const std::string k = std::to_string(i);
    h += ",r" + k + (with_v ? ",v" + k : "") + ",w" + k + ",s" + k;
  }
  return h;
}

std::string csv_line(const record_row& row, bool with_v) {
  std::string line = format_time(row.t);
  for (size_t i = 0; i < row.r.size(); ++i) {
    csv_append(line, row.r[i]);
    if (with_v) csv_append(line, row.v[i]);
    csv_append(line, row.w[i]);
    csv_append(line, row.s[i]);
  }
  return line;
}

std::string csv_sink::timeseries_path(const std::string& dir, int replica, int replicas) {
  if (replicas <= 1 || replicas > max_replica_folders) return (fs::path(dir) / "timeseries.csv").string();
  return (fs::path(dir) / ("replica_" + std::to_string(replica)) / "timeseries.csv").string();
}

void csv_sink::check_open_file_limit(int replicas) {
  if (replicas <= 1 || replicas > max_replica_folders) return;
  const rlim_t need = static_cast<rlim_t>(replicas) + 64;  // + spikes, logs, the validator, the library's own
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= need) return;
  if (lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= need) {
    lim.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &lim) == 0) return;
  }
  throw config_error("network.replicas", std::to_string(replicas) + " replicas write " + std::to_string(replicas) +
                                             " time-series files at once and need about " + std::to_string(need) +
                                             " open files; this process may open " + std::to_string(lim.rlim_cur) +
                                             " (ulimit -n). Raise the limit, or use more than " +
                                             std::to_string(max_replica_folders) +
                                             " replicas (they share one file with a replica column)");
}

std::vector<std::string> csv_sink::file_names(const model_spec& spec, int replicas) {
  std::vector<std::string> out;
  const int files = replicas > max_replica_folders ? 1 : replicas;
  for (int r = 0; r < files; ++r) out.push_back(timeseries_path("", r, replicas));
  if (spec.run.spike_neurons > 0) out.push_back("spikes.csv");
  return out;
}

csv_sink::csv_sink(const std::string& dir, const model_spec& spec, int replicas, append_at from)
    : last_t_(replicas, from.t), dt_(spec.run.dt), one_file_(replicas > max_replica_folders) {
  dir_ = dir;
  check_open_file_limit(replicas);
  const int files = one_file_ ? 1 : replicas;
  for (int r = 0; r < files; ++r)
    files_.push_back(std::make_unique<line_file>(timeseries_path(dir, r, replicas), line_file::open_mode::append));
  if (spec.run.spike_neurons > 0)
    spikes_ = std::make_unique<line_file>((fs::path(dir) / "spikes.csv").string(), line_file::open_mode::append);
  spikes_until_ = from.t;
}

std::vector<std::pair<std::string, int64_t>> csv_sink::sync_sizes() {
  std::vector<std::pair<std::string, int64_t>> out;
  auto one = [&](line_file& f) {
    f.sync();
    std::error_code ec;
    const auto size = fs::file_size(f.path(), ec);
    if (ec) throw io_error(f.path(), ec.value(), "stat");
    out.emplace_back(fs::relative(f.path(), dir_).string(), static_cast<int64_t>(size));
  };
  for (auto& f : files_) one(*f);
  if (spikes_) one(*spikes_);
  return out;
}

csv_sink::csv_sink(const std::string& dir, const model_spec& spec, int replicas)
    : last_t_(replicas, 0.0), dt_(spec.run.dt), one_file_(replicas > max_replica_folders) {
  dir_ = dir;
  check_open_file_limit(replicas);
  const std::string header = csv_header(spec.num_populations());
  const int files = one_file_ ? 1 : replicas;
  for (int r = 0; r < files; ++r) {
    const std::string path = timeseries_path(dir, r, replicas);
    if (replicas > 1 && !one_file_) {
      std::error_code ec;
      fs::create_directories(fs::path(path).parent_path(), ec);
      if (ec) throw io_error(fs::path(path).parent_path().string(), ec.value(), "create folder");
    }
    files_.push_back(std::make_unique<line_file>(path));
    files_.back()->line(one_file_ ? "replica," + header : header);
  }
  // The row at t = 0 (on the mean field's time grid), then the files are well-formed from the start.
  const std::string first = csv_line(initial_row(spec));
  for (int r = 0; r < replicas; ++r)
    files_.at(one_file_ ? 0 : r)->line(one_file_ ? std::to_string(r) + "," + first : first);
  for (auto& f : files_) f->flush();  // a full disk shows up now
  if (spec.run.spike_neurons > 0) {
    spikes_ = std::make_unique<line_file>((fs::path(dir) / "spikes.csv").string());
    spikes_->line("t,replica,population,neuron");
    spikes_->flush();
  }
}

void csv_sink::on_rows(int replica, const std::vector<record_row>& rows) {
  if (rows.empty()) return;
  line_file& f = *files_.at(one_file_ ? 0 : replica);
  if (replica == 0) spikes_until_ = last_t_[0];  // the previous chunk's spikes were written (or there were none)
  const int64_t before = f.lines() + static_cast<int64_t>(f.pending());
  const std::string prefix = one_file_ ? std::to_string(replica) + "," : "";
  try {
    for (const auto& row : rows) f.line(prefix + csv_line(row));
    f.flush();
  } catch (const io_error&) {
    const int64_t written = f.lines() - before;  // complete rows of this batch in the file
    if (written > 0) last_t_[replica] = rows[static_cast<size_t>(written) - 1].t;
    throw;
  }
  last_t_[replica] = rows.back().t;
}

void csv_sink::on_spikes(const std::vector<spike_event>& spikes) {
  if (!spikes_) return;
  std::string l;
  for (const auto& e : spikes) {
    l = format_time((static_cast<double>(e.step) + e.frac) * dt_);
    csv_append(l, static_cast<int64_t>(e.replica));
    csv_append(l, static_cast<int64_t>(e.population));
    csv_append(l, static_cast<int64_t>(e.neuron));
    spikes_->line(l);
  }
  spikes_->flush();
  spikes_until_ = last_t_[0];
}

void csv_sink::close() {
  for (auto& f : files_) f->close();
  if (spikes_) spikes_->close();
}

double csv_sink::valid_until() const {
  double t = *std::min_element(last_t_.begin(), last_t_.end());
  // After a failure the spikes of the chunk being written are missing: they come after its rows.
  bool failed = spikes_ && spikes_->failed();
  for (const auto& f : files_) failed = failed || f->failed();
  if (spikes_ && failed) t = std::min(t, spikes_until_);
  return t;
}

json spec_to_json(const model_spec& spec) {
  json net;
  net["n"] = spec.network.n;
  net["sampling"] = to_string(spec.network.sampling);
  net["seed"] = spec.network.seed;
  net["replicas"] = spec.network.replicas;
  json pops = json::array();
  for (const auto& p : spec.populations) {
    json o;
    o["fraction"] = p.fraction;
    o["eta_bar"] = p.eta_bar;
    o["delta"] = p.delta;
    o["alpha"] = p.alpha;
    o["a"] = p.a;
    o["b"] = p.b;
    o["w_jump"] = p.w_jump;
    o["v_peak"] = p.v_peak;
    o["v_reset"] = p.v_reset;
    json in;
    in["kind"] = p.I_ext.type == input_spec::kind::constant ? "constant"
                 : p.I_ext.type == input_spec::kind::steps  ? "steps"
                                                            : "table";
    in["value"] = p.I_ext.value;
    in["times"] = p.I_ext.times;
    in["values"] = p.I_ext.values;
    o["I_ext"] = in;
    pops.push_back(o);
  }
  json syn;
  syn["g"] = spec.synapse.g;
  syn["e_r"] = spec.synapse.e_r;
  syn["tau_s"] = spec.synapse.tau_s;
  syn["s_jump"] = spec.synapse.s_jump;
  json run;
  run["t_end"] = spec.run.t_end;
  run["dt"] = spec.run.dt;
  run["scheme"] = to_string(spec.run.scheme);
  run["record_every"] = spec.run.record_every;
  run["rate_window"] = spec.run.rate_window;
  run["spike_neurons"] = spec.run.spike_neurons;
  run["max_spikes"] = spec.run.max_spikes;
  run["format"] = spec.run.format;
  json mf;
  mf["enabled"] = spec.meanfield.enabled;
  mf["rtol"] = spec.meanfield.rtol;
  mf["atol"] = spec.meanfield.atol;
  mf["transient"] = spec.meanfield.transient;
  mf["slow_finite_peak"] = spec.meanfield.slow_finite_peak;
  json o;
  o["network"] = net;
  o["population"] = pops;
  o["synapse"] = syn;
  o["run"] = run;
  o["meanfield"] = mf;
  if (spec.units.dimensional)  // physical-units input: times in ms = t * time_unit_ms (docs/units.md)
    o["units"] = {{"time_unit_ms", spec.units.time_unit_ms},
                  {"voltage_unit_mV", spec.units.voltage_unit_mV},
                  {"current_unit_pA", spec.units.current_unit_pA}};
  return o;
}

}  // namespace izhinet
