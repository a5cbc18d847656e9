// izhinet._core: the compiled part of the Python module (docs/python.md).
//
// run() and mf() parse the configuration on the caller's thread (a bad key
// raises ConfigError at once), then do the work on a worker thread while the
// calling thread, without the GIL, waits in steps of 50 ms and checks for
// Python signals: Ctrl-C sets the simulation's stop flag, the worker ends
// within one backend chunk (about 0.2 s), and KeyboardInterrupt is raised.
// Results are numpy arrays (owned by capsules, no copies) and JSON text
// that the pure-Python part turns into dicts.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <spdlog/spdlog.h>

#include <sched.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "izhinet/backend.hpp"
#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/eta_table.hpp"
#include "izhinet/io.hpp"
#include "izhinet/json.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/output.hpp"
#include "izhinet/simulation.hpp"
#include "izhinet/validation_output.hpp"
#include "izhinet/validator.hpp"

namespace nb = nanobind;
using namespace izhinet;

namespace {

// Python exception types (created in NB_MODULE).
PyObject* g_error = nullptr;            // izhinet.Error(RuntimeError)
PyObject* g_config_error = nullptr;     // izhinet.ConfigError(Error, ValueError)
PyObject* g_output_error = nullptr;     // izhinet.OutputError(Error, OSError)
PyObject* g_device_error = nullptr;     // izhinet.DeviceError(Error)
PyObject* g_numerical_error = nullptr;  // izhinet.NumericalError(Error, ArithmeticError)

/// A numpy array that owns `data` (moved into a capsule).
template <class T>
nb::object to_numpy(std::vector<T>&& data, std::initializer_list<size_t> shape) {
  auto* owned = new std::vector<T>(std::move(data));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::cast(nb::ndarray<nb::numpy, T>(owned->data(), shape, owner));
}

/// The model from TOML text (`path` only names it in provenance and messages).
model_spec load_spec(const std::string& text, const std::string& path, const std::vector<std::string>& overrides) {
  set_config_source(path.empty() ? "<dict>" : path, text);  // provenance: the path (or <dict>) and the text's hash
  return load_config_string(text, overrides, path.empty() ? "<dict>" : path);
}

/// Runs `work` on a worker thread; the caller waits without the GIL and
/// turns a pending signal (Ctrl-C) into `stop` and then KeyboardInterrupt.
template <class F>
void run_interruptible(std::atomic<bool>& stop, F&& work) {
  std::exception_ptr error;
  std::atomic<bool> done{false};
  std::thread worker([&] {
    try {
      work();
    } catch (...) {
      error = std::current_exception();
    }
    done.store(true);
  });
  while (true) {
    {
      nb::gil_scoped_release release;
      for (int i = 0; i < 5 && !done.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (done.load()) break;
    if (PyErr_CheckSignals() != 0) {  // KeyboardInterrupt (or another handler's error) is set
      stop.store(true);
      {
        nb::gil_scoped_release release;  // the worker may be waiting for nothing else: no GIL needed
        worker.join();
      }
      throw nb::python_error();  // fetches the pending KeyboardInterrupt (needs the GIL)
    }
  }
  worker.join();
  if (error) std::rethrow_exception(error);
}

struct memory_sink final : record_sink {
  std::vector<std::vector<record_row>> rows;
  std::vector<spike_event> spikes;
  explicit memory_sink(int replicas) : rows(replicas) {}
  void on_rows(int replica, const std::vector<record_row>& r) override {
    auto& v = rows.at(replica);
    v.insert(v.end(), r.begin(), r.end());
  }
  void on_spikes(const std::vector<spike_event>& s) override { spikes.insert(spikes.end(), s.begin(), s.end()); }
};

struct mf_trajectory {
  std::vector<double> t, y;  // y: row-major, 4 P per row
  dopri5_stats stats;
  std::string failure;
};

/// The exact mean field on the record grid (the rows `izhinet mf` writes).
mf_trajectory integrate_mf(const model_spec& spec, const std::atomic<bool>& stop) {
  const exact_meanfield model(spec);
  const int P = model.num_populations();
  mf_trajectory out;
  try {
    out.stats = integrate_dopri5(
        [&](double t, const double* y, double* d) {
          if (stop.load(std::memory_order_relaxed)) throw interrupted_error("interrupted");
          model.rhs(t, y, d);
        },
        model.initial_state(), 0.0, spec.run.t_end, record_times(spec), dopri5_options_from(spec.meanfield),
        [&](double t, const double* y) {
          out.t.push_back(t);
          out.y.insert(out.y.end(), y, y + 4 * P);
        });
  } catch (const numerical_error& e) {
    out.failure = e.what();  // rows up to the failure are kept
  }
  return out;
}

/// {"t": (K,), "r","v","w","s": (K, P)} from a trajectory.
nb::dict mf_arrays(mf_trajectory& m, int P) {
  const size_t K = m.t.size();
  nb::dict d;
  const char* names[4] = {"r", "v", "w", "s"};
  for (int q = 0; q < 4; ++q) {
    std::vector<double> a(K * P);
    for (size_t k = 0; k < K; ++k)
      for (int i = 0; i < P; ++i) a[k * P + i] = m.y[k * 4 * P + 4 * i + q];
    d[names[q]] = to_numpy(std::move(a), {K, static_cast<size_t>(P)});
  }
  d["t"] = to_numpy(std::move(m.t), {K});
  return d;
}

std::unique_ptr<backend> make_backend(const std::string& which, int threads) {
  if (which == "cpu") return make_cpu_backend(threads, threads == 0);
  if (which == "cuda") {
    std::string why;
    if (!cuda_available(&why)) throw device_error("backend='cuda': " + why);
    return make_cuda_backend();
  }
  if (which == "auto") return cuda_available() ? make_cuda_backend() : make_cpu_backend(threads, threads == 0);
  throw config_error("backend", "'" + shorten(which) + "' is not one of cpu, cuda, auto");
}

nb::dict py_run(const std::string& text, const std::string& path, const std::vector<std::string>& overrides,
                const std::string& which, int threads, bool meanfield) {
  model_spec spec = load_spec(text, path, overrides);
  if (!meanfield) spec.meanfield.enabled = false;
  if (threads < 0 || threads > 4096) throw config_error("threads", std::to_string(threads) + " is not in [0, 4096]");
  if (which != "cpu" && which != "cuda" && which != "auto")
    throw config_error("backend", "'" + shorten(which) + "' is not one of cpu, cuda, auto");
  const auto replicas = default_replicas(spec);
  const int R = static_cast<int>(replicas.size());
  const int P = spec.num_populations();

  if (which != "cuda") threads = cap_threads(threads, "threads=" + std::to_string(threads));
  std::atomic<bool> stop{false};
  memory_sink mem(R);
  int host_threads = 0;
  simulation_result res;
  std::string validation_text, backend_name, device;
  mf_trajectory traj;
  run_interruptible(stop, [&] {
    auto be = make_backend(which, threads);
    backend_name = be->name();
    device = be->device();
    host_threads = be->capabilities().host_threads;
    set_device(backend_name, device);
    be->setup(spec, replicas);
    for (int r = 0; r < R; ++r) mem.rows[r].push_back(initial_row(spec));  // t = 0, as in timeseries.csv
    std::unique_ptr<validator> val;
    std::unique_ptr<validating_sink> vsink;
    std::vector<record_sink*> sinks{&mem};
    if (spec.meanfield.enabled) {
      validator_options vo;  // no out_dir: no files
      vo.stop = &stop;
      vo.replica = replicas.front();
      val = std::make_unique<validator>(spec, vo);
      vsink = std::make_unique<validating_sink>(std::vector<validator*>{val.get()});
      sinks.push_back(vsink.get());
    }
    fanout_sink sink(sinks);
    simulation_options so;
    so.progress_seconds = 0;
    so.stop = &stop;
    res = simulate(spec, *be, replicas, sink, so);
    if (val) {
      validation_text = validation_json(spec, val->finish(outcome_of(res))).dump();
      if (res.state == simulation_result::status::completed) traj = integrate_mf(spec, stop);
    }
  });
  if (res.state == simulation_result::status::interrupted) {
    PyErr_SetNone(PyExc_KeyboardInterrupt);  // a stop from elsewhere (not a Python signal)
    throw nb::python_error();
  }
  if (res.state == simulation_result::status::diverged) {
    std::string msg = res.message;  // "...; outputs up to t = X are kept (try ...)": nothing is kept here
    const size_t a = msg.find("; outputs up to"), b = msg.find(" (try");
    if (a != std::string::npos && b != std::string::npos && b > a) msg.erase(a, b - a);
    throw numerical_error(msg, 0, res.t_reached, -1, -1);
  }

  nb::dict out;
  const size_t K = mem.rows.at(0).size();
  std::vector<double> t(K);
  std::vector<double> q[4];
  for (auto& a : q) a.resize(static_cast<size_t>(R) * K * P);
  for (size_t k = 0; k < K; ++k) t[k] = clean_time(mem.rows[0][k].t);
  for (int r = 0; r < R; ++r) {
    if (mem.rows[r].size() != K) throw internal_error("replicas recorded different numbers of rows");
    for (size_t k = 0; k < K; ++k) {
      const record_row& row = mem.rows[r][k];
      for (int i = 0; i < P; ++i) {
        const size_t at = (static_cast<size_t>(r) * K + k) * P + i;
        q[0][at] = row.r[i];
        q[1][at] = row.v[i];
        q[2][at] = row.w[i];
        q[3][at] = row.s[i];
      }
    }
  }
  mem.rows.clear();
  out["t"] = to_numpy(std::move(t), {K});
  const char* names[4] = {"r", "v", "w", "s"};
  for (int j = 0; j < 4; ++j)
    out[names[j]] = to_numpy(std::move(q[j]), {static_cast<size_t>(R), K, static_cast<size_t>(P)});

  const size_t S = mem.spikes.size();
  std::vector<double> st(S);
  std::vector<int32_t> sr(S), sp(S);
  std::vector<int64_t> sn(S);
  for (size_t k = 0; k < S; ++k) {
    const auto& e = mem.spikes[k];
    st[k] = clean_time(static_cast<double>(e.step + 1) * spec.run.dt);
    sr[k] = e.replica;
    sp[k] = e.population;
    sn[k] = e.neuron;
  }
  nb::dict spikes;
  spikes["t"] = to_numpy(std::move(st), {S});
  spikes["replica"] = to_numpy(std::move(sr), {S});
  spikes["population"] = to_numpy(std::move(sp), {S});
  spikes["neuron"] = to_numpy(std::move(sn), {S});
  out["spikes"] = spikes;

  const auto etas = recorded_etas(spec, replicas);
  const size_t E = etas.size();
  std::vector<int32_t> er(E), ep(E);
  std::vector<int64_t> en(E);
  std::vector<double> ev(E);
  for (size_t k = 0; k < E; ++k) {
    er[k] = etas[k].replica;
    ep[k] = etas[k].population;
    en[k] = etas[k].neuron;
    ev[k] = etas[k].eta;
  }
  nb::dict eta;
  eta["replica"] = to_numpy(std::move(er), {E});
  eta["population"] = to_numpy(std::move(ep), {E});
  eta["neuron"] = to_numpy(std::move(en), {E});
  eta["eta"] = to_numpy(std::move(ev), {E});
  out["eta"] = eta;

  if (!traj.t.empty()) out["meanfield"] = mf_arrays(traj, P);
  out["validation_json"] = validation_text;
  json summary;
  summary["provenance"] = provenance();
  summary["command"] = "run";
  summary["backend"] = backend_name;
  summary["device"] = device;
  summary["threads"] = host_threads;  // CPU threads (0: a GPU computed), as izhinet run's summary.json
  summary["status"] = to_string(res.state);
  summary["message"] = res.message;
  summary["steps"] = res.steps_done;
  summary["t_reached"] = clean_time(res.t_reached);
  summary["wall_seconds"] = res.wall_seconds;
  summary["neuron_steps_per_second"] = res.neuron_steps_per_second;
  summary["spikes_written"] = res.spikes_written;
  summary["spikes_capped"] = res.spikes_capped;
  summary["parameters"] = spec_to_json(spec);
  out["summary_json"] = summary.dump();
  out["config_toml"] = to_toml(spec);
  return out;
}

nb::dict py_mf(const std::string& text, const std::string& path, const std::vector<std::string>& overrides) {
  const model_spec spec = load_spec(text, path, overrides);
  const int P = spec.num_populations();
  std::atomic<bool> stop{false};
  mf_trajectory traj;
  std::vector<equilibrium> eq;
  run_interruptible(stop, [&] {
    traj = integrate_mf(spec, stop);
    if (traj.failure.empty()) eq = find_equilibria(spec, {});
  });
  if (!traj.failure.empty()) throw numerical_error("exact mean field: " + traj.failure, 0, 0, -1, -1);
  json eqs = json::array();
  for (const auto& e : eq) {
    json o;
    o["stable"] = e.stable;
    o["residual"] = e.residual;
    json pops = json::array();
    for (int i = 0; i < P; ++i)
      pops.push_back(
          {{"r", e.state[4 * i]}, {"v", e.state[4 * i + 1]}, {"w", e.state[4 * i + 2]}, {"s", e.state[4 * i + 3]}});
    o["populations"] = pops;
    json ev = json::array();
    for (const auto& l : e.eigenvalues) ev.push_back({{"re", l.real()}, {"im", l.imag()}});
    o["eigenvalues"] = ev;
    eqs.push_back(o);
  }
  json summary;
  summary["provenance"] = provenance();
  summary["command"] = "mf";
  summary["status"] = "completed";
  summary["integration"] = {{"accepted_steps", traj.stats.accepted},
                            {"rejected_steps", traj.stats.rejected},
                            {"rhs_evaluations", traj.stats.rhs_evals}};
  summary["parameters"] = spec_to_json(spec);
  nb::dict out;
  out["meanfield"] = mf_arrays(traj, P);
  out["equilibria_json"] = eqs.dump();
  out["summary_json"] = summary.dump();
  out["config_toml"] = to_toml(spec);
  return out;
}

void translate(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const config_error& e) {
    PyErr_SetString(g_config_error, e.what());
  } catch (const io_error& e) {
    PyErr_SetString(g_output_error, e.what());
  } catch (const device_error& e) {
    PyErr_SetString(g_device_error, e.what());
  } catch (const numerical_error& e) {
    PyErr_SetString(g_numerical_error, e.what());
  } catch (const interrupted_error& e) {
    PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
  } catch (const user_error& e) {
    PyErr_SetString(g_error, e.what());
  } catch (const std::bad_alloc&) {
    PyErr_SetString(PyExc_MemoryError,
                    "out of memory (a smaller network.n, network.replicas or run.t_end / record_every needs less)");
  }
  // anything else: nanobind's own translators (std::exception -> RuntimeError)
}

PyObject* new_error(const char* name, PyObject* bases, const char* doc) {
  PyObject* e = PyErr_NewExceptionWithDoc(name, doc, bases, nullptr);
  if (!e) throw nb::python_error();
  return e;
}

}  // namespace

NB_MODULE(_core, m) {
  m.doc() = "izhinet's compiled core: run() and mf() over the C++ library (see the izhinet package)";
  spdlog::set_level(spdlog::level::warn);  // the library's info lines would flood a notebook
  g_error = new_error("izhinet.Error", PyExc_RuntimeError, "An error izhinet reports (its one-line message).");
  g_config_error = new_error("izhinet.ConfigError",
                             nb::make_tuple(nb::handle(g_error), nb::handle(PyExc_ValueError)).release().ptr(),
                             "A bad configuration key or option; the message names it and its valid range.");
  g_output_error =
      new_error("izhinet.OutputError", nb::make_tuple(nb::handle(g_error), nb::handle(PyExc_OSError)).release().ptr(),
                "A file could not be written.");
  g_device_error = new_error("izhinet.DeviceError", g_error, "The CUDA backend was asked for and cannot run.");
  g_numerical_error = new_error("izhinet.NumericalError",
                                nb::make_tuple(nb::handle(g_error), nb::handle(PyExc_ArithmeticError)).release().ptr(),
                                "The state became non-finite (try a smaller run.dt).");
  m.attr("Error") = nb::handle(g_error);
  m.attr("ConfigError") = nb::handle(g_config_error);
  m.attr("OutputError") = nb::handle(g_output_error);
  m.attr("DeviceError") = nb::handle(g_device_error);
  m.attr("NumericalError") = nb::handle(g_numerical_error);
  nb::register_exception_translator(translate);
  m.attr("version") = IZHINET_VERSION;
  m.def("cuda_available", [] { return cuda_available(); });
  m.def("set_log_level", [](const std::string& level) { spdlog::set_level(spdlog::level::from_str(level)); });
  m.def("run", &py_run, nb::arg("toml"), nb::arg("path"), nb::arg("overrides"), nb::arg("backend"), nb::arg("threads"),
        nb::arg("meanfield"));
  m.def("mf", &py_mf, nb::arg("toml"), nb::arg("path"), nb::arg("overrides"));
}
