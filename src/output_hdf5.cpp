// run.format = "hdf5": the run's time series, spikes and eta in one run.h5 (output_hdf5.hpp).
#include "izhinet/output_hdf5.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <tuple>

#include "izhinet/errors.hpp"
#include "izhinet/eta_table.hpp"
#include "izhinet/io.hpp"
#include "izhinet/json.hpp"
#include "izhinet/output.hpp"
#include "izhinet/config.hpp"

#ifdef IZHINET_HAVE_HDF5
#include <hdf5.h>
#endif

namespace fs = std::filesystem;

namespace izhinet {

std::string hdf5_sink::path(const std::string& dir) { return (fs::path(dir) / "run.h5").string(); }

#ifndef IZHINET_HAVE_HDF5

bool hdf5_available() { return false; }

struct hdf5_sink::impl {};

hdf5_sink::hdf5_sink(const std::string&, const model_spec&, const std::vector<replica_spec>&) {
  throw config_error("run.format", "\"hdf5\" needs a build with HDF5 (Debian: libhdf5-dev, then configure again)");
}
hdf5_sink::hdf5_sink(const std::string& dir, const model_spec& spec, const std::vector<replica_spec>& replicas,
                     append_at)
    : hdf5_sink(dir, spec, replicas) {}
hdf5_sink::~hdf5_sink() = default;
std::vector<std::pair<std::string, int64_t>> hdf5_sink::sync_sizes() { return {}; }
std::vector<record_row> read_hdf5_rows(const std::string&, const model_spec&, int, int64_t) { return {}; }
void restore_hdf5(const std::string&, const std::vector<std::pair<std::string, int64_t>>&) {
  throw config_error("run.format", "\"hdf5\" needs a build with HDF5 (Debian: libhdf5-dev, then configure again)");
}
void hdf5_sink::on_rows(int, const std::vector<record_row>&) {}
void hdf5_sink::on_spikes(const std::vector<spike_event>&) {}
void hdf5_sink::close() {}
double hdf5_sink::valid_until() const { return 0; }

#else

bool hdf5_available() { return true; }

namespace {

/// An HDF5 identifier closed by its own close function.
struct h5id {
  hid_t id = -1;
  herr_t (*closer)(hid_t) = nullptr;
  h5id() = default;
  h5id(hid_t i, herr_t (*c)(hid_t)) : id(i), closer(c) {}
  h5id(const h5id&) = delete;
  h5id& operator=(const h5id&) = delete;
  h5id(h5id&& o) noexcept : id(o.id), closer(o.closer) { o.id = -1; }
  h5id& operator=(h5id&& o) noexcept {
    std::swap(id, o.id);
    std::swap(closer, o.closer);
    return *this;
  }
  ~h5id() {
    if (id >= 0 && closer) closer(id);
  }
  operator hid_t() const { return id; }
};

}  // namespace

struct hdf5_sink::impl {
  std::string path;
  h5id file, ts;
  struct column {
    h5id set;
    hid_t type;
  };
  std::vector<column> spike_cols;
  int R = 0, C = 0;
  std::vector<hsize_t> rows_written;  // per replica
  hsize_t ts_len = 0, spikes_len = 0;
  std::vector<double> last_t;
  double spikes_until = 0, dt = 0;
  bool failed = false, closed = false;

  [[noreturn]] void fail(const std::string& what) {
    failed = true;
    const int err = errno != 0 ? errno : EIO;
    throw io_error(path, err, what + " (HDF5)");
  }
  hid_t check(hid_t id, const std::string& what) {
    if (id < 0) fail(what);
    return id;
  }
  void check_status(herr_t s, const std::string& what) {
    if (s < 0) fail(what);
  }
  void string_attr(const char* name, const std::string& value) {
    h5id type(check(H5Tcopy(H5T_C_S1), "copy string type"), H5Tclose);
    check_status(H5Tset_size(type, H5T_VARIABLE), "set string size");
    check_status(H5Tset_cset(type, H5T_CSET_UTF8), "set string encoding");
    h5id space(check(H5Screate(H5S_SCALAR), "create dataspace"), H5Sclose);
    h5id attr(
        check(H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT), std::string("create attribute ") + name),
        H5Aclose);
    const char* p = value.c_str();
    check_status(H5Awrite(attr, type, &p), std::string("write attribute ") + name);
  }
  /// A growable 1-D dataset.
  h5id column_set(hid_t group, const char* name, hid_t type) {
    const hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {65536};
    h5id space(check(H5Screate_simple(1, dims, maxdims), "create dataspace"), H5Sclose);
    h5id plist(check(H5Pcreate(H5P_DATASET_CREATE), "create property list"), H5Pclose);
    check_status(H5Pset_chunk(plist, 1, chunk), "set chunk size");
    return h5id(check(H5Dcreate2(group, name, type, space, H5P_DEFAULT, plist, H5P_DEFAULT),
                      std::string("create dataset ") + name),
                H5Dclose);
  }
  /// Appends n values at `offset` of a growable 1-D dataset (grown to offset + n first).
  void append(hid_t set, hid_t type, const void* data, hsize_t offset, hsize_t n, const char* name) {
    const hsize_t size[1] = {offset + n}, start[1] = {offset}, count[1] = {n};
    check_status(H5Dset_extent(set, size), std::string("extend dataset ") + name);
    h5id fspace(check(H5Dget_space(set), "get dataspace"), H5Sclose);
    check_status(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, nullptr, count, nullptr), "select rows");
    h5id mspace(check(H5Screate_simple(1, count, nullptr), "create dataspace"), H5Sclose);
    errno = 0;
    check_status(H5Dwrite(set, type, mspace, fspace, H5P_DEFAULT, data), std::string("write dataset ") + name);
  }
  void write_rows(int replica, const std::vector<record_row>& rows) {
    const hsize_t n = rows.size();
    std::vector<double> buf(n * static_cast<size_t>(C));
    for (size_t k = 0; k < rows.size(); ++k) {
      double* b = &buf[k * C];
      b[0] = clean_time(rows[k].t);
      for (size_t i = 0; i < rows[k].r.size(); ++i) {
        b[1 + 4 * i] = rows[k].r[i];
        b[2 + 4 * i] = rows[k].v[i];
        b[3 + 4 * i] = rows[k].w[i];
        b[4 + 4 * i] = rows[k].s[i];
      }
    }
    const hsize_t offset = rows_written[replica];
    if (offset + n > ts_len) {
      const hsize_t size[3] = {static_cast<hsize_t>(R), offset + n, static_cast<hsize_t>(C)};
      check_status(H5Dset_extent(ts, size), "extend dataset timeseries");
      ts_len = offset + n;
    }
    const hsize_t start[3] = {static_cast<hsize_t>(replica), offset, 0};
    const hsize_t count[3] = {1, n, static_cast<hsize_t>(C)};
    h5id fspace(check(H5Dget_space(ts), "get dataspace"), H5Sclose);
    check_status(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, nullptr, count, nullptr), "select rows");
    h5id mspace(check(H5Screate_simple(3, count, nullptr), "create dataspace"), H5Sclose);
    errno = 0;
    check_status(H5Dwrite(ts, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf.data()), "write dataset timeseries");
    rows_written[replica] += n;
  }
  void flush() {
    errno = 0;
    check_status(H5Fflush(file, H5F_SCOPE_LOCAL), "flush");
  }
};

hdf5_sink::hdf5_sink(const std::string& dir, const model_spec& spec, const std::vector<replica_spec>& replicas)
    : p_(std::make_unique<impl>()) {
  impl& s = *p_;
  s.path = path(dir);
  s.R = static_cast<int>(replicas.size());
  const int P = spec.num_populations();
  s.C = 1 + 4 * P;
  s.rows_written.assign(s.R, 0);
  s.last_t.assign(s.R, 0.0);
  s.dt = spec.run.dt;
  // No HDF5 clean-up at exit: after a failed write the library cannot close the file, and its exit
  // handler then crashes (HDF5 1.10) instead of letting the process exit with status 5. Files are closed
  // by close(); after a failure the file holds what was flushed (valid_until()). Must precede H5open.
  static const bool no_atexit = (H5dont_atexit(), true);
  (void)no_atexit;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become io_error, not HDF5's stack on stderr
  errno = 0;
  s.file = h5id(s.check(H5Fcreate(s.path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create file"), H5Fclose);
  s.string_attr("format", "izhinet run 1");
  s.string_attr("provenance", provenance().dump());
  s.string_attr("parameters", spec_to_json(spec).dump());
  s.string_attr("config_toml", to_toml(spec));
  {
    const hsize_t dims[3] = {static_cast<hsize_t>(s.R), 0, static_cast<hsize_t>(s.C)};
    const hsize_t maxdims[3] = {static_cast<hsize_t>(s.R), H5S_UNLIMITED, static_cast<hsize_t>(s.C)};
    const hsize_t chunk[3] = {1, std::max<hsize_t>(1, 65536 / static_cast<hsize_t>(s.C)), static_cast<hsize_t>(s.C)};
    h5id space(s.check(H5Screate_simple(3, dims, maxdims), "create dataspace"), H5Sclose);
    h5id plist(s.check(H5Pcreate(H5P_DATASET_CREATE), "create property list"), H5Pclose);
    s.check_status(H5Pset_chunk(plist, 3, chunk), "set chunk size");
    s.ts = h5id(s.check(H5Dcreate2(s.file, "timeseries", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, plist, H5P_DEFAULT),
                        "create dataset timeseries"),
                H5Dclose);
    // the columns, as in timeseries.csv
    h5id type(s.check(H5Tcopy(H5T_C_S1), "copy string type"), H5Tclose);
    s.check_status(H5Tset_size(type, H5T_VARIABLE), "set string size");
    h5id aspace(s.check(H5Screate(H5S_SCALAR), "create dataspace"), H5Sclose);
    h5id attr(s.check(H5Acreate2(s.ts, "columns", type, aspace, H5P_DEFAULT, H5P_DEFAULT), "create attribute columns"),
              H5Aclose);
    const std::string header = csv_header(P);
    const char* hp = header.c_str();
    s.check_status(H5Awrite(attr, type, &hp), "write attribute columns");
  }
  const std::vector<record_row> first{initial_row(spec)};
  for (int r = 0; r < s.R; ++r) s.write_rows(r, first);
  // eta of the recorded neurons (eta.csv)
  {
    h5id g(s.check(H5Gcreate2(s.file, "eta", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group eta"), H5Gclose);
    const auto etas = recorded_etas(spec, replicas);
    std::vector<int32_t> rep, pop;
    std::vector<int64_t> neu;
    std::vector<double> eta;
    for (const auto& e : etas) {
      rep.push_back(e.replica);
      pop.push_back(e.population);
      neu.push_back(e.neuron);
      eta.push_back(e.eta);
    }
    const hsize_t n = etas.size();
    h5id a = s.column_set(g, "replica", H5T_NATIVE_INT32), b = s.column_set(g, "population", H5T_NATIVE_INT32),
         c = s.column_set(g, "neuron", H5T_NATIVE_INT64), d = s.column_set(g, "eta", H5T_NATIVE_DOUBLE);
    if (n > 0) {
      s.append(a, H5T_NATIVE_INT32, rep.data(), 0, n, "eta/replica");
      s.append(b, H5T_NATIVE_INT32, pop.data(), 0, n, "eta/population");
      s.append(c, H5T_NATIVE_INT64, neu.data(), 0, n, "eta/neuron");
      s.append(d, H5T_NATIVE_DOUBLE, eta.data(), 0, n, "eta/eta");
    }
  }
  {
    h5id g(s.check(H5Gcreate2(s.file, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group spikes"),
           H5Gclose);
    s.spike_cols.push_back({s.column_set(g, "t", H5T_NATIVE_DOUBLE), H5T_NATIVE_DOUBLE});
    s.spike_cols.push_back({s.column_set(g, "replica", H5T_NATIVE_INT32), H5T_NATIVE_INT32});
    s.spike_cols.push_back({s.column_set(g, "population", H5T_NATIVE_INT32), H5T_NATIVE_INT32});
    s.spike_cols.push_back({s.column_set(g, "neuron", H5T_NATIVE_INT64), H5T_NATIVE_INT64});
  }
  s.flush();
}

namespace {

const char* const k_spike_columns[4] = {"spikes/t", "spikes/replica", "spikes/population", "spikes/neuron"};

/// The length of a dataset along its growing dimension (`dim`), or -1 when it cannot be read.
int64_t dataset_length(hid_t file, const char* name, int dim) {
  h5id set(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  if (set.id < 0) return -1;
  h5id space(H5Dget_space(set), H5Sclose);
  if (space.id < 0) return -1;
  hsize_t dims[3] = {0, 0, 0};
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank <= dim || rank > 3 || H5Sget_simple_extent_dims(space, dims, nullptr) < 0) return -1;
  return static_cast<int64_t>(dims[dim]);
}

}  // namespace

void restore_hdf5(const std::string& dir, const std::vector<std::pair<std::string, int64_t>>& sizes) {
  const std::string p = hdf5_sink::path(dir);
  static const bool no_atexit = (H5dont_atexit(), true);
  (void)no_atexit;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  std::error_code ec;
  if (!fs::exists(p, ec))
    throw user_error("its output '" + p + "' is missing (moved or deleted since the checkpoint was written)");
  h5id file(H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
  if (file.id < 0)
    throw user_error("its output '" + p + "' cannot be opened as HDF5 (damaged by a kill during a write?)");
  // (dataset, growing dimension, length at the checkpoint)
  std::vector<std::tuple<std::string, int, int64_t>> cut;
  for (const auto& [name, len] : sizes) {
    if (name == "timeseries") {
      cut.emplace_back("timeseries", 1, len);
    } else if (name == "spikes") {
      for (const char* c : k_spike_columns) cut.emplace_back(c, 0, len);
    } else {
      throw user_error("names an unknown dataset '" + shorten(name) + "' of '" + p + "'");
    }
  }
  for (const auto& [name, dim, len] : cut) {
    const int64_t have = dataset_length(file, name.c_str(), dim);
    if (have < 0) throw user_error("its output '" + p + "' has no readable dataset /" + name);
    if (have < len)
      throw user_error("its output '" + p + "' has " + std::to_string(have) + " rows in /" + name +
                       ", fewer than the " + std::to_string(len) +
                       " it had at the checkpoint (the outputs were changed since)");
  }
  for (const auto& [name, dim, len] : cut) {
    h5id set(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
    h5id space(H5Dget_space(set), H5Sclose);
    hsize_t dims[3] = {0, 0, 0};
    const int rank = H5Sget_simple_extent_ndims(space);
    H5Sget_simple_extent_dims(space, dims, nullptr);
    dims[dim] = static_cast<hsize_t>(len);
    errno = 0;
    if (set.id < 0 || rank < 1 || H5Dset_extent(set, dims) < 0)
      throw io_error(p, errno != 0 ? errno : EIO, "cut dataset /" + name + " back (HDF5)");
  }
  errno = 0;
  const hid_t f = file.id;
  file.id = -1;
  if (H5Fclose(f) < 0) throw io_error(p, errno != 0 ? errno : EIO, "close (HDF5)");
}

std::vector<record_row> read_hdf5_rows(const std::string& dir, const model_spec& spec, int replica, int64_t records) {
  const std::string p = hdf5_sink::path(dir);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  h5id file(H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (file.id < 0) throw user_error("'" + p + "' cannot be opened as HDF5");
  const int P = spec.num_populations();
  const hsize_t C = static_cast<hsize_t>(1 + 4 * P);
  const int64_t have = dataset_length(file, "timeseries", 1);
  if (have < records + 1)
    throw user_error("'" + p + "' holds " + std::to_string(std::max<int64_t>(0, have - 1)) +
                     " rows after t = 0, the checkpoint " + std::to_string(records));
  std::vector<double> buf(static_cast<size_t>(records) * C);
  h5id set(H5Dopen2(file, "timeseries", H5P_DEFAULT), H5Dclose);
  h5id fspace(H5Dget_space(set), H5Sclose);
  const hsize_t start[3] = {static_cast<hsize_t>(replica), 1, 0}, count[3] = {1, static_cast<hsize_t>(records), C};
  h5id mspace(H5Screate_simple(3, count, nullptr), H5Sclose);
  if (records > 0 && (set.id < 0 || fspace.id < 0 || mspace.id < 0 ||
                      H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, nullptr, count, nullptr) < 0 ||
                      H5Dread(set, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf.data()) < 0))
    throw user_error("'" + p + "': the rows of dataset timeseries cannot be read back");
  std::vector<record_row> rows(static_cast<size_t>(records));
  for (int64_t k = 0; k < records; ++k) {
    record_row& row = rows[static_cast<size_t>(k)];
    const double* b = &buf[static_cast<size_t>(k) * C];
    row.t = static_cast<double>((k + 1) * spec.run.record_every) * spec.run.dt;
    for (int i = 0; i < P; ++i) {
      row.r.push_back(b[1 + 4 * i]);
      row.v.push_back(b[2 + 4 * i]);
      row.w.push_back(b[3 + 4 * i]);
      row.s.push_back(b[4 + 4 * i]);
    }
  }
  return rows;
}

hdf5_sink::hdf5_sink(const std::string& dir, const model_spec& spec, const std::vector<replica_spec>& replicas,
                     append_at from)
    : p_(std::make_unique<impl>()) {
  impl& s = *p_;
  s.path = path(dir);
  s.R = static_cast<int>(replicas.size());
  s.C = 1 + 4 * spec.num_populations();
  s.dt = spec.run.dt;
  static const bool no_atexit = (H5dont_atexit(), true);
  (void)no_atexit;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  errno = 0;
  s.file = h5id(s.check(H5Fopen(s.path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), "open file"), H5Fclose);
  s.ts = h5id(s.check(H5Dopen2(s.file, "timeseries", H5P_DEFAULT), "open dataset timeseries"), H5Dclose);
  const int64_t rows = dataset_length(s.file, "timeseries", 1);
  if (rows < 0) s.fail("read the size of dataset timeseries");
  s.ts_len = static_cast<hsize_t>(rows);
  s.rows_written.assign(s.R, s.ts_len);
  s.last_t.assign(s.R, from.t);
  s.spikes_until = from.t;
  const hid_t types[4] = {H5T_NATIVE_DOUBLE, H5T_NATIVE_INT32, H5T_NATIVE_INT32, H5T_NATIVE_INT64};
  for (int c = 0; c < 4; ++c)
    s.spike_cols.push_back({h5id(s.check(H5Dopen2(s.file, k_spike_columns[c], H5P_DEFAULT),
                                         std::string("open dataset ") + k_spike_columns[c]),
                                 H5Dclose),
                            types[c]});
  const int64_t spikes = dataset_length(s.file, "spikes/t", 0);
  if (spikes < 0) s.fail("read the size of dataset spikes/t");
  s.spikes_len = static_cast<hsize_t>(spikes);
}

std::vector<std::pair<std::string, int64_t>> hdf5_sink::sync_sizes() {
  impl& s = *p_;
  if (s.failed) s.fail("sync after an earlier error");
  s.flush();
  errno = 0;
  const int fd = ::open(s.path.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    throw io_error(s.path, err != 0 ? err : EIO, "fsync");
  }
  ::close(fd);
  // Every replica has the same rows at a checkpoint (a recording time).
  return {{"timeseries", static_cast<int64_t>(*std::min_element(s.rows_written.begin(), s.rows_written.end()))},
          {"spikes", static_cast<int64_t>(s.spikes_len)}};
}

hdf5_sink::~hdf5_sink() {
  if (p_ && !p_->closed && !p_->failed) try {
      close();
    } catch (const std::exception&) {
      // the destructor cannot report it; close() does
    }
}

void hdf5_sink::on_rows(int replica, const std::vector<record_row>& rows) {
  impl& s = *p_;
  if (rows.empty()) return;
  if (s.failed) s.fail("write after an earlier error");
  if (replica == 0) s.spikes_until = s.last_t[0];
  s.write_rows(replica, rows);
  if (replica == s.R - 1) s.flush();
  s.last_t[replica] = rows.back().t;
}

void hdf5_sink::on_spikes(const std::vector<spike_event>& spikes) {
  impl& s = *p_;
  if (spikes.empty()) return;
  if (s.failed) s.fail("write after an earlier error");
  const size_t n = spikes.size();
  std::vector<double> t(n);
  std::vector<int32_t> rep(n), pop(n);
  std::vector<int64_t> neu(n);
  for (size_t k = 0; k < n; ++k) {
    t[k] = clean_time(static_cast<double>(spikes[k].step + 1) * s.dt);
    rep[k] = spikes[k].replica;
    pop[k] = spikes[k].population;
    neu[k] = spikes[k].neuron;
  }
  const void* data[4] = {t.data(), rep.data(), pop.data(), neu.data()};
  for (int c = 0; c < 4; ++c)
    s.append(s.spike_cols[c].set, s.spike_cols[c].type, data[c], s.spikes_len, n, k_spike_columns[c]);
  s.spikes_len += n;
  s.flush();
  s.spikes_until = s.last_t[0];
}

void hdf5_sink::close() {
  impl& s = *p_;
  if (s.closed) return;
  if (s.failed) s.fail("close after an earlier error");
  s.flush();
  s.spike_cols.clear();
  s.ts = h5id();
  const hid_t f = s.file.id;
  s.file.id = -1;
  s.closed = true;
  errno = 0;
  if (H5Fclose(f) < 0) s.fail("close");
}

double hdf5_sink::valid_until() const {
  const impl& s = *p_;
  double t = *std::min_element(s.last_t.begin(), s.last_t.end());
  if (s.failed) t = std::min(t, s.spikes_until);
  return t;
}

#endif

}  // namespace izhinet
