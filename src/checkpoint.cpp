// Checkpoint files (checkpoint.hpp): writer, verifying reader, checks against a configuration.
#include "izhinet/checkpoint.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>

#include "izhinet/config.hpp"
#include "izhinet/io.hpp"
#include "izhinet/json.hpp"

namespace izhinet {
namespace {

constexpr char k_magic[8] = {'I', 'Z', 'H', 'I', 'C', 'K', 'P', 'T'};
constexpr uint32_t k_order_tag = 0x01020304u;
constexpr size_t k_fixed = 32, k_digest = 32;

/// Streaming SHA-256 (OpenSSL EVP).
class sha256 {
 public:
  sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw internal_error("SHA-256 initialisation failed (OpenSSL)");
  }
  void add(const void* p, size_t n) {
    if (n && EVP_DigestUpdate(ctx_.get(), p, n) != 1) throw internal_error("SHA-256 update failed (OpenSSL)");
  }
  std::string digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), md, &len) != 1 || len != k_digest)
      throw internal_error("SHA-256 final failed (OpenSSL)");
    return std::string(reinterpret_cast<char*>(md), len);
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

std::string hex(const std::string& bytes) {
  static const char* h = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += h[c >> 4];
    out += h[c & 15];
  }
  return out;
}

size_t padded(size_t n) { return (n + 7) / 8 * 8; }

const char* extent_name(state_array::extent e) {
  return e == state_array::extent::per_neuron ? "per_neuron" : "per_population";
}

/// One raw array of the payload.
struct blob {
  std::string name;
  std::string type;  ///< "f64", "u32", "u64"
  const void* data;
  size_t count;
  size_t elem;
};

}  // namespace

namespace {
std::string config_identity(const model_spec& spec, bool legacy) {
  model_spec s = spec;
  s.run.t_end = 0;             // a resume may extend the run
  s.meanfield.enabled = true;  // the validator is rebuilt on resume, with or without --no-meanfield
  sha256 h;
  const std::string text = legacy ? to_toml_legacy(s) : to_toml(s);
  h.add(text.data(), text.size());
  return hex(h.digest());
}
}  // namespace

std::string config_identity(const model_spec& spec) { return config_identity(spec, false); }

int64_t write_checkpoint(const std::string& path, const checkpoint_data& c) {
  std::vector<blob> blobs;
  for (const auto& a : c.state.arrays) blobs.push_back({"state." + a.name, "f64", a.values.data(), a.values.size(), 8});
  blobs.push_back({"rate_ring", "u32", c.rate_ring.data(), c.rate_ring.size(), 4});
  blobs.push_back({"rate_ring_sum", "u64", c.rate_ring_sum.data(), c.rate_ring_sum.size(), 8});

  json meta;
  meta["config_hash"] = c.config_hash;
  meta["backend"] = c.backend;
  meta["replicas"] = c.replicas;
  meta["populations"] = c.populations;
  meta["neurons"] = c.neurons;
  meta["steps_done"] = c.steps_done;
  meta["records_done"] = c.records_done;
  meta["spikes_written"] = c.spikes_written;
  meta["spikes_capped"] = c.spikes_capped;
  meta["files"] = json::array();
  for (const auto& [p, size] : c.files) meta["files"].push_back({{"path", p}, {"bytes", size}});
  if (!c.datasets.empty()) {
    meta["hdf5_datasets"] = json::array();
    for (const auto& [name, len] : c.datasets) meta["hdf5_datasets"].push_back({{"name", name}, {"rows", len}});
  }
  meta["arrays"] = json::array();
  uint64_t offset = 0;
  for (const auto& b : blobs) {
    json a{{"name", b.name}, {"type", b.type}, {"count", b.count}, {"offset", offset}};
    if (b.name.rfind("state.", 0) == 0)
      for (const auto& s : c.state.arrays)
        if ("state." + s.name == b.name) a["extent"] = extent_name(s.per);
    meta["arrays"].push_back(a);
    offset += padded(b.count * b.elem);
  }
  const std::string text = meta.dump();
  const uint64_t H = text.size(), D = offset;
  char fixed[k_fixed];
  std::memcpy(fixed, k_magic, 8);
  std::memcpy(fixed + 8, &checkpoint_format_version, 4);
  std::memcpy(fixed + 12, &k_order_tag, 4);
  std::memcpy(fixed + 16, &H, 8);
  std::memcpy(fixed + 24, &D, 8);

  sha256 h;
  atomic_binary_file f(path);
  auto put = [&](const void* p, size_t n) {
    h.add(p, n);
    f.write(p, n);
  };
  put(fixed, k_fixed);
  put(text.data(), text.size());
  static const char zeros[8] = {0};
  for (const auto& b : blobs) {
    const size_t n = b.count * b.elem;
    put(b.data, n);
    put(zeros, padded(n) - n);
  }
  const std::string d = h.digest();
  f.write(d.data(), d.size());
  f.commit();
  return f.bytes();
}

checkpoint_data read_checkpoint(const std::string& path) {
  auto fail = [&](const std::string& why) { return checkpoint_error("checkpoint '" + path + "': " + why); };
  std::ifstream in(path, std::ios::binary);
  if (!in) throw fail(std::string("cannot be read: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  char fixed[k_fixed];
  if (size < k_fixed + k_digest || !in.read(fixed, k_fixed))
    throw fail("truncated (" + std::to_string(size) + " bytes, not even a header)");
  if (std::memcmp(fixed, k_magic, 8) != 0) throw fail("not an izhinet checkpoint (foreign file: no IZHICKPT magic)");
  uint32_t version = 0, tag = 0;
  uint64_t H = 0, D = 0;
  std::memcpy(&version, fixed + 8, 4);
  std::memcpy(&tag, fixed + 12, 4);
  std::memcpy(&H, fixed + 16, 8);
  std::memcpy(&D, fixed + 24, 8);
  if (tag != k_order_tag) throw fail("written on a machine of the other byte order; it cannot be read here");
  if (version != checkpoint_format_version)
    throw fail("format version " + std::to_string(version) + "; this izhinet reads version " +
               std::to_string(checkpoint_format_version));
  if (H > size || D > size || k_fixed + H + D + k_digest != size)
    throw fail(k_fixed + H + D + k_digest > size || H > size || D > size
                   ? "truncated (" + std::to_string(size) + " bytes; its header promises more)"
                   : "corrupt (" + std::to_string(size) + " bytes; its header promises " +
                         std::to_string(k_fixed + H + D + k_digest) + ")");
  sha256 h;
  h.add(fixed, k_fixed);
  std::string text(H, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(H))) throw fail("truncated (metadata)");
  h.add(text.data(), text.size());
  // Everything is checked against the checksum before any value is used;
  // the metadata only sizes the arrays, and sizes are checked against D first.
  json meta;
  try {
    meta = json::parse(text);
  } catch (const std::exception&) {
    meta = json();
  }
  checkpoint_data c;
  struct target {
    std::string type;
    void* data;
    size_t count;
  };
  std::vector<target> targets;
  bool meta_ok = meta.is_object() && meta.contains("arrays") && meta["arrays"].is_array();
  uint64_t expect = 0;
  if (meta_ok) {
    try {
      for (const auto& a : meta["arrays"]) {
        const std::string name = a.at("name").get<std::string>(), type = a.at("type").get<std::string>();
        const uint64_t count = a.at("count").get<uint64_t>(), off = a.at("offset").get<uint64_t>();
        const size_t elem = type == "u32" ? 4 : 8;
        if (off != expect || count > D / elem || (type != "f64" && type != "u32" && type != "u64")) {
          meta_ok = false;
          break;
        }
        expect += padded(count * elem);
        if (expect > D) {
          meta_ok = false;
          break;
        }
        if (name == "rate_ring" && type == "u32") {
          c.rate_ring.resize(count);
          targets.push_back({type, c.rate_ring.data(), count});
        } else if (name == "rate_ring_sum" && type == "u64") {
          c.rate_ring_sum.resize(count);
          targets.push_back({type, c.rate_ring_sum.data(), count});
        } else if (name.rfind("state.", 0) == 0 && type == "f64") {
          state_array s;
          s.name = name.substr(6);
          s.per = a.value("extent", "") == "per_population" ? state_array::extent::per_population
                                                            : state_array::extent::per_neuron;
          s.values.resize(count);
          c.state.arrays.push_back(std::move(s));
          targets.push_back({type, nullptr, count});  // pointer set below (the vector may move)
        } else {
          meta_ok = false;
          break;
        }
      }
    } catch (const std::exception&) {
      meta_ok = false;
    }
  }
  if (!meta_ok || expect != D) {
    // Tell damage from a foreign layout by the checksum where it can be read.
    throw fail("corrupt (its metadata cannot be read; the file is damaged or was not written by izhinet)");
  }
  size_t k = 0;
  for (auto& t : targets)
    if (!t.data) t.data = c.state.arrays[k++].values.data();
  static char pad[8];
  for (const auto& t : targets) {
    const size_t n = t.count * (t.type == "u32" ? 4 : 8);
    if (!in.read(static_cast<char*>(t.data), static_cast<std::streamsize>(n))) throw fail("truncated (arrays)");
    h.add(t.data, n);
    if (padded(n) > n) {
      if (!in.read(pad, static_cast<std::streamsize>(padded(n) - n))) throw fail("truncated (arrays)");
      h.add(pad, padded(n) - n);
    }
  }
  std::string stored(k_digest, '\0');
  if (!in.read(stored.data(), k_digest)) throw fail("truncated (checksum)");
  if (h.digest() != stored) throw fail("corrupt (its SHA-256 checksum does not match its contents)");
  try {
    c.config_hash = meta.at("config_hash").get<std::string>();
    c.backend = meta.at("backend").get<std::string>();
    c.replicas = meta.at("replicas").get<int64_t>();
    c.populations = meta.at("populations").get<int64_t>();
    c.neurons = meta.at("neurons").get<int64_t>();
    c.steps_done = meta.at("steps_done").get<int64_t>();
    c.records_done = meta.at("records_done").get<int64_t>();
    c.spikes_written = meta.at("spikes_written").get<int64_t>();
    c.spikes_capped = meta.at("spikes_capped").get<bool>();
    for (const auto& f : meta.at("files"))
      c.files.emplace_back(f.at("path").get<std::string>(), f.at("bytes").get<int64_t>());
    if (meta.contains("hdf5_datasets"))
      for (const auto& d : meta.at("hdf5_datasets"))
        c.datasets.emplace_back(d.at("name").get<std::string>(), d.at("rows").get<int64_t>());
  } catch (const std::exception& e) {
    throw fail(std::string("corrupt metadata (") + e.what() + ")");
  }
  return c;
}

void check_checkpoint(const checkpoint_data& c, const std::string& path, const model_spec& spec,
                      const std::vector<replica_spec>& replicas) {
  auto fail = [&](const std::string& why) { return checkpoint_error("checkpoint '" + path + "': " + why); };
  // Checkpoints written before the shortest number form hashed the configuration with 17 digits.
  if (c.config_hash != config_identity(spec) && c.config_hash != config_identity(spec, true))
    throw fail(
        "written for another configuration (its hash differs from this run's; on --resume only run.t_end may "
        "change)");
  int64_t n = 0;
  for (const auto& r : replicas) n += r.n;
  if (c.replicas != static_cast<int64_t>(replicas.size()) || c.populations != spec.num_populations() || c.neurons != n)
    throw fail("holds " + std::to_string(c.replicas) + " replica(s), " + std::to_string(c.populations) +
               " population(s), " + std::to_string(c.neurons) + " neurons; this run has " +
               std::to_string(replicas.size()) + ", " + std::to_string(spec.num_populations()) + ", " +
               std::to_string(n));
  try {
    check_state(c.state, spec, replicas);
  } catch (const user_error& e) {
    throw fail(e.what());
  }
  const int64_t window =
      spec.run.rate_window > 0 ? std::max<int64_t>(1, std::llround(spec.run.rate_window / spec.run.dt)) : 0;
  const size_t rp = replicas.size() * static_cast<size_t>(spec.num_populations());
  if (c.rate_ring.size() != static_cast<size_t>(std::max<int64_t>(window, 1)) * rp || c.rate_ring_sum.size() != rp)
    throw fail("its sliding-window state does not fit run.rate_window = " + format_number(spec.run.rate_window));
  const int64_t steps_per_record = spec.run.record_every;
  if (c.records_done < 0 || c.steps_done != c.records_done * steps_per_record || c.records_done > spec.num_records())
    throw fail("stopped at step " + std::to_string(c.steps_done) +
               ", beyond run.t_end = " + format_number(spec.run.t_end) + " (" + std::to_string(spec.num_steps()) +
               " steps): give a later run.t_end");
}

namespace {

/// Every rank's held() slices on rank 0 (rank order; empty elsewhere); a rank holding the whole
/// network (empty held()) is given its populations whole.
std::vector<std::vector<population_slice>> gather_held(backend& be, communicator& comm, const model_spec& spec,
                                                       const std::vector<replica_spec>& replicas) {
  std::vector<population_slice> mine = be.held();
  // A backend that splits a network over ranks says which neurons it holds; an empty held() over ranks
  // would put every rank's slice at the start of its populations.
  if (mine.empty() && comm.size() > 1 && be.capabilities().distributes)
    throw internal_error("the " + be.name() + " backend distributes a network over ranks but its held() is empty");
  if (mine.empty())
    for (const auto& r : replicas)
      for (int64_t n : population_sizes(spec, r.n)) mine.push_back({0, n});
  std::vector<int64_t> flat;
  for (const auto& h : mine) flat.insert(flat.end(), {h.first, h.count});
  const std::vector<int64_t> all = comm.gather(flat);
  std::vector<std::vector<population_slice>> out;
  if (!comm.root()) return out;
  if (all.size() != flat.size() * static_cast<size_t>(comm.size()))
    throw internal_error("gather_state: the ranks hold different numbers of segments");
  for (int r = 0; r < comm.size(); ++r) {
    std::vector<population_slice> h;
    for (size_t k = 0; k < mine.size(); ++k)
      h.push_back({all[(r * mine.size() + k) * 2], all[(r * mine.size() + k) * 2 + 1]});
    out.push_back(std::move(h));
  }
  return out;
}

int64_t held_total(const std::vector<population_slice>& h) {
  int64_t n = 0;
  for (const auto& s : h) n += s.count;
  return n;
}

}  // namespace

backend_state gather_state(backend& be, communicator& comm, const model_spec& spec,
                           const std::vector<replica_spec>& replicas) {
  backend_state mine;
  be.get_state(mine);
  if (comm.size() == 1) return mine;
  const auto held = gather_held(be, comm, spec, replicas);
  // The per-population arrays (s, s_drive) are the same numbers on every rank (every rank updates them
  // from the summed spike counts): rank 0's. The per-neuron ones one at a time (rank 0's memory peak:
  // the whole state and one array more).
  backend_state whole;
  for (auto& a : mine.arrays) {
    if (a.per == state_array::extent::per_population) {
      whole.arrays.push_back(a);
      continue;
    }
    const std::vector<double> all = comm.gather(a.values);  // the ranks' slices one after another
    a.values = std::vector<double>();
    if (!comm.root()) continue;
    whole.arrays.push_back(
        {a.name, a.per, std::vector<double>(static_cast<size_t>(state_length(a.per, spec, replicas)))});
    size_t from = 0;
    for (int r = 0; r < comm.size(); ++r) {
      const size_t n = static_cast<size_t>(held_total(held[r]));
      if (from + n > all.size()) throw internal_error("gather_state: fewer values than the ranks' slices");
      const backend_state part{
          {state_array{a.name, a.per, std::vector<double>(all.begin() + from, all.begin() + from + n)}}};
      put_state_part(whole, part, spec, replicas, held[r]);
      from += n;
    }
  }
  if (!comm.root()) return {};
  return whole;
}

void scatter_state(backend& be, communicator& comm, const backend_state& whole, const model_spec& spec,
                   const std::vector<replica_spec>& replicas) {
  if (comm.size() == 1) {
    be.set_state(whole);
    return;
  }
  const auto held = gather_held(be, comm, spec, replicas);
  if (comm.root()) check_state(whole, spec, replicas);  // check_checkpoint did; a failure here is a bug (abort)
  // Every rank walks the arrays of the layout in the same order; rank 0 cuts one array at a time.
  backend_state mine;
  for (const auto& want : state_layout(spec).arrays) {
    std::vector<std::vector<double>> parts;
    if (comm.root()) {
      const std::vector<double>& v = whole.find(want.name)->values;
      for (int r = 0; r < comm.size(); ++r)
        parts.push_back(want.per == state_array::extent::per_population ? v : held_values(v, spec, replicas, held[r]));
    }
    mine.arrays.push_back({want.name, want.per, comm.scatter(parts)});
  }
  be.set_state(mine);
}

void broadcast_checkpoint(checkpoint_data& c, communicator& comm) {
  if (comm.size() == 1) return;
  json meta;
  if (comm.root())
    meta = json{{"config_hash", c.config_hash},
                {"backend", c.backend},
                {"replicas", c.replicas},
                {"populations", c.populations},
                {"neurons", c.neurons},
                {"steps_done", c.steps_done},
                {"records_done", c.records_done},
                {"spikes_written", c.spikes_written},
                {"spikes_capped", c.spikes_capped}};
  std::string text = comm.root() ? meta.dump() : std::string();
  comm.broadcast(text);
  std::string ring(reinterpret_cast<const char*>(c.rate_ring.data()), c.rate_ring.size() * sizeof(uint32_t));
  std::string ring_sum(reinterpret_cast<const char*>(c.rate_ring_sum.data()),
                       c.rate_ring_sum.size() * sizeof(uint64_t));
  comm.broadcast(ring);
  comm.broadcast(ring_sum);
  if (comm.root()) return;
  meta = json::parse(text);
  c.config_hash = meta.at("config_hash").get<std::string>();
  c.backend = meta.at("backend").get<std::string>();
  c.replicas = meta.at("replicas").get<int64_t>();
  c.populations = meta.at("populations").get<int64_t>();
  c.neurons = meta.at("neurons").get<int64_t>();
  c.steps_done = meta.at("steps_done").get<int64_t>();
  c.records_done = meta.at("records_done").get<int64_t>();
  c.spikes_written = meta.at("spikes_written").get<int64_t>();
  c.spikes_capped = meta.at("spikes_capped").get<bool>();
  c.rate_ring.resize(ring.size() / sizeof(uint32_t));
  std::memcpy(c.rate_ring.data(), ring.data(), c.rate_ring.size() * sizeof(uint32_t));
  c.rate_ring_sum.resize(ring_sum.size() / sizeof(uint64_t));
  std::memcpy(c.rate_ring_sum.data(), ring_sum.data(), c.rate_ring_sum.size() * sizeof(uint64_t));
}

void restore_outputs(const checkpoint_data& c, const std::string& dir, const std::string& checkpoint_path) {
  namespace fs = std::filesystem;
  for (const auto& [rel, size] : c.files) {
    const fs::path p = fs::path(dir) / rel;
    std::error_code ec;
    const auto have = fs::file_size(p, ec);
    if (ec)
      throw checkpoint_error("checkpoint '" + checkpoint_path + "': its output '" + p.string() +
                             "' cannot be read: " + ec.message());
    if (static_cast<int64_t>(have) < size)
      throw checkpoint_error("checkpoint '" + checkpoint_path + "': its output '" + p.string() + "' has " +
                             std::to_string(have) + " bytes, fewer than the " + std::to_string(size) +
                             " it had at the checkpoint (the outputs were changed since)");
  }
  for (const auto& [rel, size] : c.files) truncate_file((fs::path(dir) / rel).string(), size);
}

std::vector<record_row> read_recorded_rows(const std::string& path, const model_spec& spec, int replica,
                                           bool replica_column, int64_t records) {
  const int P = spec.num_populations();
  std::ifstream in(path);
  if (!in) throw checkpoint_error("'" + path + "' cannot be read: " + std::strerror(errno));
  std::vector<record_row> rows;
  std::string line;
  std::getline(in, line);  // header
  int64_t k = -1;          // the row at t = 0 comes first
  std::vector<double> x(static_cast<size_t>(4 * P + 1 + (replica_column ? 1 : 0)));
  while (static_cast<int64_t>(rows.size()) < records && std::getline(in, line)) {
    size_t col = 0;
    const char* p = line.data();
    const char* end = p + line.size();
    bool ok = true;
    while (col < x.size() && ok) {
      const char* comma = std::find(p, end, ',');
      auto r = std::from_chars(p, comma, x[col]);
      ok = r.ec == std::errc() && r.ptr == comma;
      ++col;
      p = comma == end ? end : comma + 1;
    }
    if (!ok || col != x.size()) throw checkpoint_error("'" + path + "': cannot read row '" + shorten(line) + "' back");
    if (replica_column && static_cast<int>(x[0]) != replica) continue;
    if (++k == 0) continue;
    const size_t o = replica_column ? 2 : 1;
    record_row row;
    row.t = static_cast<double>(k * spec.run.record_every) * spec.run.dt;
    for (int i = 0; i < P; ++i) {
      row.r.push_back(x[o + 4 * i]);
      row.v.push_back(x[o + 4 * i + 1]);
      row.w.push_back(x[o + 4 * i + 2]);
      row.s.push_back(x[o + 4 * i + 3]);
    }
    rows.push_back(std::move(row));
  }
  if (static_cast<int64_t>(rows.size()) < records)
    throw checkpoint_error("'" + path + "' holds " + std::to_string(rows.size()) +
                           " rows after t = 0, the checkpoint " + std::to_string(records));
  return rows;
}

}  // namespace izhinet
