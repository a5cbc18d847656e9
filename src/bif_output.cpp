/// \file bif_output.cpp
/// branches.csv and special_points.json of `izhinet bif` (continuation.hpp).
#include <cmath>

#include "izhinet/continuation.hpp"
#include "izhinet/io.hpp"
#include "izhinet/json.hpp"
#include "izhinet/output.hpp"

namespace izhinet {

namespace {

json complex_list(const std::vector<std::complex<double>>& v) {
  json a = json::array();
  for (const auto& z : v) a.push_back({{"re", z.real()}, {"im", z.imag()}});
  return a;
}

}  // namespace

void write_bifurcation(const std::string& dir, const model_spec& spec, const bif_options& o, const bif_result& r,
                       double seconds) {
  const int P = spec.num_populations();
  const char* vars = "rvws";
  line_file f(dir + "/branches.csv");
  std::string h = "branch,kind";
  for (const auto& k : o.keys) h += "," + k;
  h += ",stable,period";
  for (int i = 0; i < P; ++i)
    for (int v = 0; v < 4; ++v)
      for (const char* s : {"_min", "_max", "_mean"}) h += "," + std::string(1, vars[v]) + std::to_string(i) + s;
  h += ",leading_re,leading_im";
  f.line(h);
  for (const auto& b : r.points) {
    std::string l = b.branch + "," + b.kind;
    for (size_t k = 0; k < o.keys.size(); ++k) {
      l += ",";
      if (k < b.params.size()) l += format_number(b.params[k]);
    }
    l += b.stable < 0 ? "," : b.stable ? ",1" : ",0";
    l += ",";
    if (b.period > 0) l += format_number(b.period);
    for (int i = 0; i < 4 * P; ++i) {
      csv_append(l, b.min[i]);
      csv_append(l, b.max[i]);
      csv_append(l, b.mean[i]);
    }
    if (b.has_leading) {
      csv_append(l, b.leading.real());
      csv_append(l, b.leading.imag());
    } else {
      l += ",,";
    }
    f.line(l);
  }
  f.close();

  json list = json::array();
  for (const auto& s : r.special) {
    json j;
    j["type"] = s.type;
    j["branch"] = s.branch;
    for (size_t k = 0; k < s.params.size() && k < o.keys.size(); ++k) j[o.keys[k]] = s.params[k];
    json st;
    for (int i = 0; i < P; ++i)
      for (int v = 0; v < 4; ++v) st[std::string(1, vars[v]) + std::to_string(i)] = s.state[4 * i + v];
    j["state"] = st;
    j[s.multipliers ? "multipliers" : "eigenvalues"] = complex_list(s.eigenvalues);
    if (s.type == "H" || s.type == "GH" || s.type == "ZH") {
      j["frequency"] = s.frequency;
      j["period"] = s.period;
    }
    if (s.type == "H" || s.type == "GH") j["first_lyapunov_coefficient"] = s.lyapunov;
    if (s.multipliers) j["period"] = s.period;
    if (!s.note.empty()) j["note"] = s.note;
    list.push_back(j);
  }
  json body;
  body["command"] = "bif";
  json keys = json::array();
  for (size_t k = 0; k < o.keys.size(); ++k)
    keys.push_back({{"key", o.keys[k]}, {"from", k == 0 ? o.from : o.from2}, {"to", k == 0 ? o.to : o.to2}});
  body["parameters_continued"] = keys;
  body["collocation"] = {{"mesh_intervals", o.mesh}, {"gauss_points", o.ncol}};
  body["special_points"] = list;
  body["messages"] = r.messages;
  body["points"] = r.points.size();
  body["wall_seconds"] = seconds;
  body["model"] = spec_to_json(spec);
  write_json(dir + "/special_points.json", body);
}

}  // namespace izhinet
