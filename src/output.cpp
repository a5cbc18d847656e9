#include "izhinet/output.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "izhinet/errors.hpp"

namespace fs = std::filesystem;

namespace izhinet {

void prepare_output_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw config_error("--out", "cannot create output folder '" + dir + "': " + (ec ? ec.message() : "not a folder"));
  const std::string probe = (fs::path(dir) / ".izhinet_write_test").string();
  std::FILE* f = std::fopen(probe.c_str(), "w");
  if (!f) throw config_error("--out", "output folder '" + dir + "' is not writable");
  std::fclose(f);
  fs::remove(probe, ec);
}

std::string csv_header(int P, bool with_v) {
  std::string h = "t";
  for (int i = 0; i < P; ++i) {
    const std::string k = std::to_string(i);
    h += ",r" + k + (with_v ? ",v" + k : "") + ",w" + k + ",s" + k;
  }
  return h;
}

std::string csv_line(const record_row& row, bool with_v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", row.t);
  std::string line = buf;
  for (size_t i = 0; i < row.r.size(); ++i) {
    if (with_v)
      std::snprintf(buf, sizeof buf, ",%.12g,%.12g", row.r[i], row.v[i]);
    else
      std::snprintf(buf, sizeof buf, ",%.12g", row.r[i]);
    line += buf;
    std::snprintf(buf, sizeof buf, ",%.12g,%.12g", row.w[i], row.s[i]);
    line += buf;
  }
  return line;
}

std::string csv_sink::timeseries_path(const std::string& dir, int replica, int replicas) {
  if (replicas <= 1) return (fs::path(dir) / "timeseries.csv").string();
  return (fs::path(dir) / ("replica_" + std::to_string(replica)) / "timeseries.csv").string();
}

csv_sink::csv_sink(const std::string& dir, const model_spec& spec, int replicas) : dt_(spec.run.dt) {
  const std::string header = csv_header(spec.num_populations());
  for (int r = 0; r < replicas; ++r) {
    const std::string path = timeseries_path(dir, r, replicas);
    if (replicas > 1) fs::create_directories(fs::path(path).parent_path());
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw config_error("--out", "cannot write '" + path + "'");
    std::fprintf(f, "%s\n%s\n", header.c_str(), csv_line(initial_row(spec)).c_str());
    files_.push_back(f);
  }
  if (spec.run.spike_neurons > 0) {
    const std::string path = (fs::path(dir) / "spikes.csv").string();
    spikes_ = std::fopen(path.c_str(), "w");
    if (!spikes_) throw config_error("--out", "cannot write '" + path + "'");
    std::fprintf(spikes_, "t,replica,population,neuron\n");
  }
}

csv_sink::~csv_sink() {
  for (auto* f : files_) std::fclose(f);
  if (spikes_) std::fclose(spikes_);
}

void csv_sink::on_rows(int replica, const std::vector<record_row>& rows) {
  std::FILE* f = files_.at(replica);
  for (const auto& row : rows) std::fprintf(f, "%s\n", csv_line(row).c_str());
  std::fflush(f);
}

void csv_sink::on_spikes(const std::vector<spike_event>& spikes) {
  if (!spikes_) return;
  for (const auto& e : spikes)
    std::fprintf(spikes_, "%.10g,%d,%d,%lld\n", (e.step + 1) * dt_, e.replica, e.population,
                 static_cast<long long>(e.neuron));
  std::fflush(spikes_);
}

std::string json_escape(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\t':
        o += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += c;
        }
    }
  }
  return o + "\"";
}

std::string json_number(double x) {
  if (!std::isfinite(x)) return "null";
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", x);
  return b;
}

json_object& json_object::set(const std::string& k, double x) {
  items_.emplace_back(k, json_number(x));
  return *this;
}
json_object& json_object::set(const std::string& k, int64_t x) {
  items_.emplace_back(k, std::to_string(x));
  return *this;
}
json_object& json_object::set(const std::string& k, bool x) {
  items_.emplace_back(k, x ? "true" : "false");
  return *this;
}
json_object& json_object::set(const std::string& k, const std::string& x) {
  items_.emplace_back(k, json_escape(x));
  return *this;
}
json_object& json_object::set(const std::string& k, const std::vector<double>& x) {
  std::string a = "[";
  for (size_t i = 0; i < x.size(); ++i) a += (i ? ", " : "") + json_number(x[i]);
  items_.emplace_back(k, a + "]");
  return *this;
}
json_object& json_object::set(const std::string& k, const json_object& x) {
  items_.emplace_back(k, x.str());
  return *this;
}
json_object& json_object::set_raw(const std::string& k, const std::string& json) {
  items_.emplace_back(k, json);
  return *this;
}

std::string json_object::str(int indent) const {
  const std::string pad(indent + 2, ' '), end_pad(indent, ' ');
  std::string o = "{\n";
  for (size_t i = 0; i < items_.size(); ++i) {
    std::string v = items_[i].second;
    // re-indent nested objects
    std::string nested;
    for (char c : v) {
      nested += c;
      if (c == '\n') nested += std::string(indent + 2, ' ');
    }
    o += pad + json_escape(items_[i].first) + ": " + nested + (i + 1 < items_.size() ? ",\n" : "\n");
  }
  return o + "}";
}

json_object spec_to_json(const model_spec& spec) {
  json_object net;
  net.set("n", static_cast<int64_t>(spec.network.n))
      .set("sampling", to_string(spec.network.sampling))
      .set("seed", static_cast<int64_t>(spec.network.seed))
      .set("replicas", spec.network.replicas);
  std::string pops = "[";
  for (size_t i = 0; i < spec.populations.size(); ++i) {
    const auto& p = spec.populations[i];
    json_object o;
    o.set("fraction", p.fraction).set("eta_bar", p.eta_bar).set("delta", p.delta).set("alpha", p.alpha);
    o.set("a", p.a).set("b", p.b).set("w_jump", p.w_jump).set("v_peak", p.v_peak).set("v_reset", p.v_reset);
    json_object in;
    in.set("kind", p.I_ext.type == input_spec::kind::constant ? "constant"
                   : p.I_ext.type == input_spec::kind::steps  ? "steps"
                                                              : "table");
    in.set("value", p.I_ext.value).set("times", p.I_ext.times).set("values", p.I_ext.values);
    o.set("I_ext", in);
    pops += (i ? ", " : "") + o.str(2);
  }
  pops += "]";
  std::string g = "[";
  for (size_t i = 0; i < spec.synapse.g.size(); ++i) {
    g += i ? ", [" : "[";
    for (size_t j = 0; j < spec.synapse.g[i].size(); ++j) g += (j ? ", " : "") + json_number(spec.synapse.g[i][j]);
    g += "]";
  }
  g += "]";
  json_object syn;
  syn.set_raw("g", g).set("e_r", spec.synapse.e_r).set("tau_s", spec.synapse.tau_s).set("s_jump", spec.synapse.s_jump);
  json_object run;
  run.set("t_end", spec.run.t_end).set("dt", spec.run.dt).set("scheme", to_string(spec.run.scheme));
  run.set("record_every", static_cast<int64_t>(spec.run.record_every)).set("rate_window", spec.run.rate_window);
  run.set("spike_neurons", static_cast<int64_t>(spec.run.spike_neurons))
      .set("max_spikes", static_cast<int64_t>(spec.run.max_spikes));
  json_object mf;
  mf.set("enabled", spec.meanfield.enabled).set("rtol", spec.meanfield.rtol).set("atol", spec.meanfield.atol);
  mf.set("transient", spec.meanfield.transient).set("slow_finite_peak", spec.meanfield.slow_finite_peak);
  json_object o;
  o.set("network", net).set_raw("population", pops).set("synapse", syn).set("run", run).set("meanfield", mf);
  if (spec.units.dimensional) {  // physical-units input: times in ms = t * time_unit_ms (docs/units.md)
    json_object u;
    u.set("time_unit_ms", spec.units.time_unit_ms).set("voltage_unit_mV", spec.units.voltage_unit_mV);
    o.set("units", u.set("current_unit_pA", spec.units.current_unit_pA));
  }
  return o;
}

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw user_error("cannot write '" + tmp + "'");
    out << text;
    out.flush();
    if (!out) throw user_error("error while writing '" + tmp + "'");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw user_error("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
}

}  // namespace izhinet
