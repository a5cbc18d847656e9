#include "izhinet/simulation.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <complex>
#include <tuple>

#include "izhinet/errors.hpp"
#include "izhinet/io.hpp"

namespace izhinet {

const char* to_string(simulation_result::status s) {
  switch (s) {
    case simulation_result::status::completed:
      return "completed";
    case simulation_result::status::interrupted:
      return "interrupted";
    case simulation_result::status::diverged:
      return "diverged";
  }
  return "?";
}

std::vector<replica_spec> default_replicas(const model_spec& spec) {
  std::vector<replica_spec> r(spec.network.replicas);
  for (int k = 0; k < spec.network.replicas; ++k) r[k] = {spec.network.n, spec.network.seed + static_cast<uint64_t>(k)};
  return r;
}

void check_host_memory(const model_spec& spec, int ranks) {
  const double neurons = static_cast<double>(spec.network.n) * static_cast<double>(spec.network.replicas);
  const double need = 3.0 * sizeof(double) * neurons / std::max(1, ranks);
  const double have = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (have > 0 && need > 0.9 * have)
    throw memory_error("network.n",
                       fmt::format("{:.0f} neurons (network.n = {} x network.replicas = {}) on the CPU backend{}",
                                   neurons, spec.network.n, spec.network.replicas,
                                   ranks > 1 ? fmt::format(", over {} MPI ranks", ranks) : std::string()),
                       need, 0.9 * have, "90 % of this machine's memory");
}

record_row initial_row(const model_spec& spec) {
  const size_t P = static_cast<size_t>(spec.num_populations());
  record_row row;
  row.t = 0.0;
  row.r.assign(P, 0.0);
  row.v.assign(P, 0.0);
  row.w.assign(P, 0.0);
  row.s.assign(P, 0.0);
  return row;
}

void moments_to_row(const model_spec& spec, const pop_moments* m, const std::vector<int64_t>& pop_n, double t,
                    record_row& row) {
  const int P = spec.num_populations();
  row.t = t;
  row.v.resize(P);
  row.w.resize(P);
  row.s.resize(P);
  for (int i = 0; i < P; ++i) {
    const double n = static_cast<double>(pop_n[i]);
    row.s[i] = m[i].s;
    if (spec.run.scheme == scheme_kind::paper) {
      // No neuron inside [v_reset, v_peak] (nearly identical neurons, delta ~ 0, all outside together):
      // the means over all neurons, not 0/0.
      row.v[i] = m[i].n_in > 0 ? m[i].sum_v_in / m[i].n_in : m[i].sum_state / n;
      row.w[i] = m[i].n_in > 0 ? m[i].sum_w_in / m[i].n_in : m[i].sum_w / n;
    } else {
      const std::complex<double> zc(m[i].sum_cos / n, -m[i].sum_sin / n);  // conj(Z)
      const std::complex<double> W = (1.0 - zc) / (1.0 + zc);
      row.v[i] = W.imag();
      row.w[i] = m[i].sum_w / n;
    }
  }
}

namespace {

/// The buffers simulate() needs at least (one recording interval per backend
/// call, the sliding-window ring), estimated before anything is allocated and
/// refused with the key that sizes them when above the limit.
void check_memory(const model_spec& spec, int R, int64_t ring_len, bool windowed, const simulation_options& opts) {
  double limit = opts.memory_limit_bytes;
  std::string limit_name = "simulation_options.memory_limit_bytes";
  if (limit <= 0) {
    const double phys = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
    limit = phys > 0 ? 0.25 * phys : 4.0 * (1 << 30);
    limit_name = "a quarter of this machine's memory";
  }
  const double P = spec.num_populations();
  const double steps_per_record = static_cast<double>(spec.run.record_every);
  // Per step: the input (P doubles) and the spike counts (R * P 32-bit counts)
  // on the host, and again in the backend's own buffers.
  const double per_record = 2.0 * steps_per_record * (P * sizeof(double) + R * P * sizeof(uint32_t));
  if (per_record > limit)
    throw memory_error("run.record_every",
                       "one recording interval of " + std::to_string(spec.run.record_every) + " steps (" +
                           std::to_string(R) + " replica(s) x " + std::to_string(spec.num_populations()) +
                           " population(s)): its input and per-step spike counts",
                       per_record, limit, limit_name);
  const double ring = windowed ? static_cast<double>(ring_len) * R * P * sizeof(uint32_t) : 0.0;
  if (ring > limit)
    throw memory_error("run.rate_window",
                       "a sliding window of " + std::to_string(ring_len) + " steps over " + std::to_string(R) +
                           " replica(s) x " + std::to_string(spec.num_populations()) + " population(s)",
                       ring, limit, limit_name);
}

/// Rank 0 gets every rank's spikes in the order of one process (step,
/// replica, population, neuron); the other ranks are left none.
void gather_spikes(communicator& comm, std::vector<spike_event>& spikes) {
  // Five integers per spike; the spike's fraction of the step (exact scheme) travels as its bits.
  std::vector<int64_t> mine;
  mine.reserve(5 * spikes.size());
  for (const auto& e : spikes) {
    int64_t frac_bits;
    std::memcpy(&frac_bits, &e.frac, sizeof frac_bits);
    mine.insert(mine.end(), {e.step, e.replica, e.population, e.neuron, frac_bits});
  }
  const std::vector<int64_t> all = comm.gather(mine);
  spikes.clear();
  for (size_t k = 0; k + 4 < all.size(); k += 5) {
    spike_event e{all[k], static_cast<int32_t>(all[k + 1]), static_cast<int32_t>(all[k + 2]), all[k + 3]};
    std::memcpy(&e.frac, &all[k + 4], sizeof e.frac);
    spikes.push_back(e);
  }
  std::sort(spikes.begin(), spikes.end(), [](const spike_event& a, const spike_event& b) {
    return std::tie(a.step, a.replica, a.population, a.neuron) < std::tie(b.step, b.replica, b.population, b.neuron);
  });
}

bool finite_moments(const pop_moments& m) {
  return std::isfinite(m.sum_w) && std::isfinite(m.sum_state) && std::isfinite(m.s);
}

}  // namespace

simulation_result simulate(const model_spec& spec, backend& be, const std::vector<replica_spec>& replicas,
                           record_sink& sink, const simulation_options& opts) {
  using clock = std::chrono::steady_clock;
  const int P = spec.num_populations();
  const int R = static_cast<int>(replicas.size());
  const int64_t steps_per_record = spec.run.record_every;
  const int64_t total_records = spec.num_records();
  const double dt = spec.run.dt;
  std::vector<std::vector<int64_t>> pop_n(R);
  int64_t neurons = 0;
  for (int r = 0; r < R; ++r) {
    pop_n[r] = population_sizes(spec, replicas[r].n);
    neurons += replicas[r].n;
  }
  // Sliding-window rate: ring buffer of per-step counts per (replica,
  // population). A window longer than the run needs no more slots than the
  // run has steps: no slot is then overwritten, and the sum is the cumulative count.
  const int64_t window = spec.run.rate_window > 0 ? std::max<int64_t>(1, std::llround(spec.run.rate_window / dt)) : 0;
  const int64_t ring_len = std::max<int64_t>(1, std::min<int64_t>(window, spec.num_steps()));
  check_memory(spec, R, ring_len, window > 0, opts);
  std::vector<uint32_t> ring(static_cast<size_t>(ring_len) * R * P, 0u);
  std::vector<uint64_t> ring_sum(static_cast<size_t>(R) * P, 0);

  simulation_result res;
  const auto t0 = clock::now();
  auto last_progress = t0;
  int64_t rec_done = 0;
  if (opts.resume) {
    const checkpoint_data& c = *opts.resume;
    if (c.rate_ring.size() != ring.size() || c.rate_ring_sum.size() != ring_sum.size() || c.records_done < 0 ||
        c.records_done > total_records)
      throw internal_error("simulate: the checkpoint does not fit this run (check_checkpoint first)");
    ring = c.rate_ring;
    ring_sum = c.rate_ring_sum;
    rec_done = c.records_done;
    res.spikes_written = c.spikes_written;
    res.spikes_capped = c.spikes_capped;
    res.steps_done = rec_done * steps_per_record;
    res.t_reached = res.steps_done * dt;
  }
  const int64_t rec_start = rec_done;
  int64_t last_checkpoint = -1;  // records_done of the last checkpoint written by this run
  auto checkpoint = [&] {
    if (rec_done == last_checkpoint) return;  // a stop right after a periodic checkpoint: it is already written
    last_checkpoint = rec_done;
    checkpoint_data c;
    c.records_done = rec_done;
    c.steps_done = rec_done * steps_per_record;
    c.rate_ring = ring;
    c.rate_ring_sum = ring_sum;
    c.spikes_written = res.spikes_written;
    c.spikes_capped = res.spikes_capped;
    opts.checkpoint(c);
  };
  // With checkpoints the backend always ends a call on a recording time.
  const std::atomic<bool>* backend_stop = opts.checkpoint ? nullptr : opts.stop;
  int chunk = 1;
  chunk_result cr;
  std::vector<double> input;
  std::vector<std::vector<record_row>> rows(R);

  communicator* comm = opts.comm != nullptr && opts.comm->size() > 1 ? opts.comm : nullptr;
  while (rec_done < total_records) {
    bool stop_now = opts.stop && opts.stop->load();
    if (comm) {
      // Over ranks: stop when any rank was asked to, and take rank 0's call length.
      int64_t agree[2] = {stop_now ? 1 : 0, comm->root() ? chunk : 0};
      comm->sum(agree, 2);
      stop_now = agree[0] > 0;
      chunk = static_cast<int>(agree[1]);
    }
    if (stop_now) {
      if (opts.checkpoint) checkpoint();
      res.state = simulation_result::status::interrupted;
      res.message = "interrupted by signal at t = " + format_time(rec_done * steps_per_record * dt);
      break;
    }
    int64_t upto = total_records;
    if (opts.checkpoint && opts.checkpoint_every > 0)
      upto = std::min(upto, (rec_done / opts.checkpoint_every + 1) * opts.checkpoint_every);
    const int records = static_cast<int>(std::min<int64_t>(chunk, upto - rec_done));
    const int64_t first_step = rec_done * steps_per_record;
    input.resize(static_cast<size_t>(records * steps_per_record) * P);
    // paper: I_ext at the start of each step; exact (second order): at mid-step.
    const double at = spec.run.scheme == scheme_kind::exact ? 0.5 : 0.0;
    for (int64_t m = 0; m < records * steps_per_record; ++m)
      for (int i = 0; i < P; ++i)
        input[m * P + i] = spec.populations[i].I_ext.at((static_cast<double>(first_step + m) + at) * dt);
    const auto c0 = clock::now();
    be.advance(records, first_step, input, cr, backend_stop);
    const int got = std::min(cr.records, records);  // fewer when a stop request ended the call early
    const double call_s = std::chrono::duration<double>(clock::now() - c0).count();

    int bad_record = -1, bad_replica = -1, bad_pop = -1;
    for (int rec = 0; rec < got && bad_record < 0; ++rec)
      for (int r = 0; r < R && bad_record < 0; ++r)
        for (int i = 0; i < P; ++i)
          if (!finite_moments(cr.moments[(static_cast<size_t>(rec) * R + r) * P + i])) {
            bad_record = rec;
            bad_replica = r;
            bad_pop = i;
            break;
          }
    const int good = bad_record < 0 ? got : bad_record;
    for (int r = 0; r < R; ++r) rows[r].assign(good, record_row{});
    for (int rec = 0; rec < good; ++rec) {
      const int64_t end_step = first_step + (rec + 1) * steps_per_record;
      for (int r = 0; r < R; ++r) {
        record_row& row = rows[r][rec];
        moments_to_row(spec, &cr.moments[(static_cast<size_t>(rec) * R + r) * P], pop_n[r], end_step * dt, row);
        row.r.assign(P, 0.0);
      }
      // Rates from the per-step counts.
      for (int64_t st = 0; st < steps_per_record; ++st) {
        const int64_t g = first_step + rec * steps_per_record + st;  // global step
        for (int r = 0; r < R; ++r)
          for (int i = 0; i < P; ++i) {
            const uint32_t c = cr.step_spikes[((static_cast<size_t>(rec) * steps_per_record + st) * R + r) * P + i];
            rows[r][rec].r[i] += c;
            if (window) {
              uint32_t& slot = ring[(static_cast<size_t>(g % ring_len) * R + r) * P + i];
              ring_sum[r * P + i] += c;
              ring_sum[r * P + i] -= slot;
              slot = c;
            }
          }
      }
      for (int r = 0; r < R; ++r)
        for (int i = 0; i < P; ++i) {
          const double n = static_cast<double>(pop_n[r][i]);
          if (window) {
            const int64_t span = std::min<int64_t>(window, end_step);
            rows[r][rec].r[i] = static_cast<double>(ring_sum[r * P + i]) / (n * span * dt);
          } else {
            rows[r][rec].r[i] /= n * steps_per_record * dt;
          }
        }
    }
    for (int r = 0; r < R; ++r)
      if (good > 0) sink.on_rows(r, rows[r]);
    if (comm) gather_spikes(*comm, cr.spikes);
    if (!cr.spikes.empty()) {
      std::vector<spike_event> keep;
      const int64_t last_good_step = first_step + good * steps_per_record;
      for (const auto& e : cr.spikes) {
        if (e.step >= last_good_step) continue;
        if (res.spikes_written >= spec.run.max_spikes) {
          res.spikes_capped = true;
          break;
        }
        keep.push_back(e);
        ++res.spikes_written;
      }
      if (!keep.empty()) sink.on_spikes(keep);
    }
    rec_done += good;
    res.steps_done = rec_done * steps_per_record;
    res.t_reached = res.steps_done * dt;
    if (bad_record >= 0) {
      const double t_hi = (first_step + (bad_record + 1) * steps_per_record) * dt;
      const double t_lo = std::max(0.0, t_hi - steps_per_record * dt);  // never "-0"
      res.state = simulation_result::status::diverged;
      res.message = "state became non-finite between t = " + format_time(t_lo) + " and t = " + format_time(t_hi) +
                    " in population " + std::to_string(bad_pop) +
                    (R > 1 ? " of replica " + std::to_string(bad_replica) : "") +
                    "; outputs up to t = " + format_time(t_lo) + " are kept (try a smaller run.dt)";
      break;
    }
    if (got < records) {
      res.state = simulation_result::status::interrupted;
      res.message = "interrupted by signal at t = " + format_time(res.t_reached);
      break;
    }
    if (opts.checkpoint && opts.checkpoint_every > 0 &&
        (rec_done % opts.checkpoint_every == 0 || rec_done == total_records))
      checkpoint();
    // Size the next call so that it takes about chunk_seconds.
    const double per_record = call_s / records;
    const double want = per_record > 0 ? opts.chunk_seconds / per_record : 2.0 * chunk;
    chunk = static_cast<int>(std::clamp(want, 1.0, std::min(4.0 * chunk + 1, 100000.0)));

    const auto now = clock::now();
    if (opts.progress_seconds > 0 &&
        std::chrono::duration<double>(now - last_progress).count() >= opts.progress_seconds) {
      last_progress = now;
      const double el = std::chrono::duration<double>(now - t0).count();
      const double frac = static_cast<double>(rec_done - rec_start) / std::max<int64_t>(1, total_records - rec_start);
      spdlog::info("{}t = {:.1f} / {:.1f} ({:.0f} %), {:.3g} neuron-steps/s, about {:.0f} s left", opts.label,
                   res.t_reached, total_records * steps_per_record * dt,
                   100.0 * static_cast<double>(rec_done) / total_records,
                   neurons * static_cast<double>((rec_done - rec_start) * steps_per_record) / el,
                   el * (1 - frac) / std::max(frac, 1e-9));
      if (opts.progress_extra) spdlog::info("{}{}", opts.label, opts.progress_extra());
    }
  }
  res.wall_seconds = std::chrono::duration<double>(clock::now() - t0).count();
  res.steps_this_run = (rec_done - rec_start) * steps_per_record;
  res.neuron_steps_per_second =
      res.wall_seconds > 0 ? static_cast<double>(neurons) * static_cast<double>(res.steps_this_run) / res.wall_seconds
                           : 0;
  return res;
}

}  // namespace izhinet
