// CPU backend: OpenMP threads over a flat array of all replicas' neurons.
//
// Determinism: the neuron update is per-neuron independent, and spike counts
// and the exact scheme's spike weights are integers (weights in fixed point,
// units of 2^-32), so results do not depend on the thread count. The floating
// sums behind <v> and <w> are taken in fixed blocks of k_block neurons whose
// partial sums are added in block order, whatever the thread count. Over
// several ranks (distribute()) every population is cut at multiples of
// k_block (network_layout's partition), the per-step integers are summed over
// the ranks and the blocks keep their global numbering, so the results are
// also the same for every rank count.
#include <omp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <tuple>
#include <type_traits>

#include "izhinet/backend.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/network_layout.hpp"
#include "izhinet/partition.hpp"
#include "izhinet/scheme.hpp"
#include "step_barrier.hpp"

namespace izhinet {
namespace {

constexpr int64_t k_block = 4096;

/// A contiguous range of the flat arrays inside one (replica, population)
/// segment of the layout: a whole segment, or a fixed-size moment block.
struct segment {
  int64_t begin, end;  // in the flat arrays
  int replica, pop;
};

/// A thread's share of one segment.
struct piece {
  int64_t begin, end;
  size_t seg;
  size_t rec_begin, rec_end;  ///< the recorded neurons inside, as a range of layout_.recorded
};

class cpu_backend final : public backend {
 public:
  cpu_backend(int threads, bool adaptive)
      : threads_(threads > 0 ? threads : omp_get_max_threads()), adaptive_(adaptive) {
    candidates_.push_back(threads_);
    if (adaptive_ && threads_ > 1) {
      for (int t = threads_ / 2; t >= 1; t /= 2) candidates_.push_back(t);
    }
    rate_.assign(candidates_.size(), 0.0);
  }

  std::string name() const override { return "cpu"; }

  backend_capabilities capabilities() const override {
    backend_capabilities c;
    c.host_threads = threads_;
    c.batch_neuron_steps = 1e11;
    c.stops_within_call = true;
    c.distributes = true;
    return c;
  }

  void distribute(communicator* comm) override { comm_ = comm != nullptr && comm->size() > 1 ? comm : nullptr; }

  std::string device() const override {
    std::string model = "unknown CPU";
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("model name", 0) == 0) {
        model = line.substr(line.find(':') + 2);
        break;
      }
    return model + ", " + std::to_string(threads_) + " OpenMP thread(s)" +
           (candidates_.size() > 1 ? " (fewer when measured faster)" : "");
  }

  void setup(const model_spec& spec, const std::vector<replica_spec>& replicas) override {
    spec_ = spec;
    replicas_ = replicas;
    // This rank's slice of every population, cut at moment blocks (the whole
    // population in one process).
    const partition_spec part =
        comm_ ? partition_spec::ranks_of(comm_->rank(), comm_->size(), k_block) : partition_spec{};
    layout_ = network_layout::build(spec, replicas, 1, part);
    const network_layout& L = layout_;
    R_ = L.R;
    P_ = L.P;
    segs_.clear();
    for (const layout_segment& g : L.segments) segs_.push_back({g.offset, g.offset + g.count, g.replica, g.pop});
    const int64_t total = L.extent;
    total_ = total;
    // Three doubles per neuron (v or theta, w, eta): refuse before allocating
    // what the machine does not have, naming the key.
    const double need = 3.0 * sizeof(double) * static_cast<double>(total);
    const double have = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
    if (have > 0 && need > 0.9 * have)
      throw memory_error("network.n", std::to_string(total) + " neurons (all replicas) on the CPU backend", need,
                         0.9 * have, "90 % of this machine's memory");
    x_.assign(total, 0.0);
    w_.assign(total, 0.0);
    eta_.resize(total);
    s_.assign(static_cast<size_t>(R_) * P_, 0.0);
    s_drive_.assign(static_cast<size_t>(R_) * P_, 0.0);
    for (size_t si = 0; si < L.segments.size(); ++si)
      L.fill_eta(si, 0, L.segments[si].count, &eta_[L.segments[si].offset]);
    // Moment blocks: fixed-size pieces of each segment, numbered over the
    // whole network (all ranks): partial_ has a slot for every block, and this
    // rank fills its own (the others stay zero for the sum over ranks).
    blocks_.clear();
    block_id_.clear();
    global_block_seg_.clear();
    for (size_t si = 0; si < segs_.size(); ++si) {
      const layout_segment& g = L.segments[si];
      const size_t block0 = global_block_seg_.size() + static_cast<size_t>(g.first / k_block);
      for (int64_t b = segs_[si].begin; b < segs_[si].end; b += k_block) {
        block_id_.push_back(block0 + static_cast<size_t>((b - segs_[si].begin) / k_block));
        blocks_.push_back({b, std::min(b + k_block, segs_[si].end), segs_[si].replica, segs_[si].pop});
      }
      global_block_seg_.resize(global_block_seg_.size() + static_cast<size_t>((g.n + k_block - 1) / k_block), si);
    }
    partial_.assign(global_block_seg_.size(), moment_zero());
    pieces_.clear();
    for (int nt : candidates_) pieces_[nt] = split(nt);
    calls_ = 0;
    std::fill(rate_.begin(), rate_.end(), 0.0);
  }

  void advance(int records, int64_t first_step, const std::vector<double>& input, chunk_result& out,
               const std::atomic<bool>* stop) override {
    const int64_t steps_per_record = layout_.record_every;
    const int64_t steps = records * steps_per_record;
    if (static_cast<int64_t>(input.size()) < steps * P_) throw internal_error("cpu_backend::advance: input too short");
    const size_t RP = static_cast<size_t>(R_) * P_;
    const size_t nseg = segs_.size();  // segment r * P + i is population i of replica r
    out.records = 0;
    out.steps_per_record = steps_per_record;
    out.step_spikes.assign(static_cast<size_t>(steps) * RP, 0u);
    out.moments.assign(static_cast<size_t>(records) * RP, pop_moments{});
    out.spikes.clear();

    // Per-thread rows padded to a cache line, so that threads writing their
    // counts every step do not share lines.
    stride_ = (nseg + 7) / 8 * 8;
    counts_.assign(2 * static_cast<size_t>(threads_) * stride_, 0);
    weights_.assign(counts_.size(), 0);
    coeffs_.resize(static_cast<size_t>(threads_) * nseg);
    ecoeffs_.resize(static_cast<size_t>(threads_) * nseg);
    s_local_.resize(static_cast<size_t>(threads_) * 2 * RP);
    thread_spikes_.assign(threads_, {});
    global_counts_.assign(2 * RP + 2, 0);

    // The call runs as one or more regions; each region has a fixed thread
    // count. Only the adaptive backend uses more than one: a short region
    // measures another thread count now and then (see choose_candidate).
    int64_t m = 0;
    bool stopped = false;
    while (m < steps && !stopped) {
      const auto [which, budget] = choose_candidate();
      const auto start = std::chrono::steady_clock::now();
      const int64_t m0 = m;
      m = run_region(candidates_[which], m0, steps, budget, first_step, input, out, stop, &stopped);
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      // Regions under 5 ms (the first calls of a run are a record or two)
      // say more about thread start-up than about the rate.
      if (wall > 0.005 && m > m0) {
        const double r = static_cast<double>(total_) * static_cast<double>(m - m0) / wall;
        rate_[which] = rate_[which] > 0 ? 0.5 * (rate_[which] + r) : r;
        if (candidates_.size() > 1)
          spdlog::debug("cpu backend: {} thread(s), {} steps in {:.4f} s: {:.3g} neuron-steps/s", candidates_[which],
                        m - m0, wall, r);
      }
    }
    out.records = static_cast<int>(m / steps_per_record);
    // Recorded spikes in the order (step, replica, population, neuron),
    // whichever thread saw them.
    for (auto& ts : thread_spikes_) out.spikes.insert(out.spikes.end(), ts.begin(), ts.end());
    std::sort(out.spikes.begin(), out.spikes.end(), [](const spike_event& a, const spike_event& b) {
      return std::tie(a.step, a.replica, a.population, a.neuron) < std::tie(b.step, b.replica, b.population, b.neuron);
    });
  }

  void get_eta(int replica, std::vector<double>& eta) override {
    const auto [lo, hi] = replica_range(replica);
    eta.assign(eta_.begin() + lo, eta_.begin() + hi);
  }
  void get_state(int replica, std::vector<double>& x, std::vector<double>& w) override {
    const auto [lo, hi] = replica_range(replica);
    x.assign(x_.begin() + lo, x_.begin() + hi);
    w.assign(w_.begin() + lo, w_.begin() + hi);
  }
  std::vector<double> get_s(int replica) override {
    return std::vector<double>(s_.begin() + replica * P_, s_.begin() + (replica + 1) * P_);
  }
  // The flat arrays (alignment 1) are already in the global order of
  // backend_state; over several ranks they hold this rank's slice only.
  void get_state(backend_state& out) override {
    out = state_layout(spec_);
    for (auto& a : out.arrays) {
      const std::vector<double>& from = a.name == "w" ? w_ : a.name == "s" ? s_ : a.name == "s_drive" ? s_drive_ : x_;
      a.values = from;
    }
  }
  // Over ranks `in` holds the whole network or this rank's slices (state_part cuts and checks).
  void set_state(const backend_state& in) override {
    const std::vector<population_slice> h = held();
    const backend_state part = h.empty() ? backend_state{} : state_part(in, spec_, replicas_, h);
    if (h.empty()) check_state(in, spec_, replicas_);
    const backend_state& use = h.empty() ? in : part;
    if (static_cast<int64_t>(use.find(state_x_name(spec_))->values.size()) != total_)
      throw internal_error("cpu_backend::set_state: the state does not fit this backend's arrays");
    x_ = use.find(state_x_name(spec_))->values;
    w_ = use.find("w")->values;
    s_ = use.find("s")->values;
    if (const state_array* sd = use.find("s_drive")) s_drive_ = sd->values;
  }
  std::vector<population_slice> held() const override {
    std::vector<population_slice> h;
    if (comm_)
      for (const layout_segment& g : layout_.segments) h.push_back({g.first, g.count});
    return h;
  }

 private:
  std::pair<int64_t, int64_t> replica_range(int replica) const {
    if (replica < 0 || replica >= R_) throw internal_error("cpu_backend: replica index out of range");
    return {segs_[static_cast<size_t>(replica) * P_].begin, segs_[static_cast<size_t>(replica) * P_ + P_ - 1].end};
  }

  /// Steps [m0, steps) of the current call with `nt` threads, leaving early
  /// at a step boundary when `budget` seconds have passed or `stop` is set
  /// (then *stopped). Returns the step reached.
  ///
  /// One barrier per step: every thread updates its share, publishes its
  /// integer spike counts and, for a weighted scheme, spike weights (double
  /// buffered by step parity), meets the others, then sums them and updates
  /// its own copy of s (and of s one step earlier, for a scheme whose drive
  /// is taken at mid-step). The copies agree bit for bit (same integers, same
  /// arithmetic), so no serial section is needed between steps. Over ranks
  /// thread 0 sums the integers over the ranks first (one more barrier). A second barrier is taken only at recording
  /// times, before the moment blocks are combined. One thread: no OpenMP region at all.
  int64_t run_region(int nt, int64_t m0, int64_t steps, double budget, int64_t first_step,
                     const std::vector<double>& input, chunk_result& out, const std::atomic<bool>* stop,
                     bool* stopped) {
    return with_scheme(layout_.scheme, [&](auto scheme) {
      return run_region_as<decltype(scheme)>(nt, m0, steps, budget, first_step, input, out, stop, stopped);
    });
  }

  template <class S>
  int64_t run_region_as(int nt, int64_t m0, int64_t steps, double budget, int64_t first_step,
                        const std::vector<double>& input, chunk_result& out, const std::atomic<bool>* stop,
                        bool* stopped) {
    nt_ = nt;
    const network_layout& L = layout_;
    const auto& thread_pieces = pieces_.at(nt);
    const int64_t steps_per_record = L.record_every;
    const size_t RP = static_cast<size_t>(R_) * P_;
    const size_t nseg = segs_.size();
    const auto start = std::chrono::steady_clock::now();
    int leave_at[2] = {0, 0};  // 0: go on; 1: budget spent; 2: stop requested
    int64_t reached = m0;
    detail::step_barrier barrier(nt);
    using coeffs = typename S::coeffs;
    auto run = [&](int t) {
      double* s = &s_local_[static_cast<size_t>(t) * 2 * RP];
      double* s_drive = s + RP;
      std::copy(s_.begin(), s_.end(), s);
      std::copy(s_drive_.begin(), s_drive_.end(), s_drive);
      coeffs* co = coeff_rows<S>() + static_cast<size_t>(t) * nseg;
      for (int64_t m = m0; m < steps; ++m) {
        const int par = static_cast<int>(m & 1);
        for (const piece& pc : thread_pieces[t]) {
          const segment& g = segs_[pc.seg];
          const segment_params& p = L.params[pc.seg];
          const size_t r0 = static_cast<size_t>(g.replica) * P_;
          double G, E;
          S::drive(P_, g.pop, &L.kg[r0 * P_], L.e_r.data(), &s[r0], &s_drive[r0], G, E);
          const double I = p.fixed_input ? p.input_value : input[m * P_ + g.pop];
          co[pc.seg] = S::make_coeffs(step_coeffs{p.alpha + G, I + E, p.a, p.b, p.w_jump, p.v_peak, p.v_reset, L.dt},
                                      L.tau_s[g.pop]);
        }
        step_range<S>(thread_pieces[t], t, par, first_step + m, co);
        if (t == 0) {
          if (stop != nullptr && stop->load(std::memory_order_relaxed))
            leave_at[par] = 2;
          else
            leave_at[par] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > budget;
        }
        if (nt > 1) barrier.wait();
        // Slot `par` (counts and leave_at) is written again two steps later,
        // after the next barrier, which every thread reaches only after
        // reading it here.
        const int64_t* cnt = &counts_[static_cast<size_t>(par) * nt * stride_];
        const int64_t* wgt = S::weighted ? &weights_[static_cast<size_t>(par) * nt * stride_] : cnt;
        // This rank's count and weight of segment idx (integers: order-free).
        auto local_sums = [&](size_t idx, int64_t& c, int64_t& wsum) {
          c = 0;
          wsum = 0;
          for (int u = 0; u < nt; ++u) c += cnt[static_cast<size_t>(u) * stride_ + idx];
          if constexpr (S::weighted) {
            for (int u = 0; u < nt; ++u) wsum += wgt[static_cast<size_t>(u) * stride_ + idx];
          } else {
            wsum = c;  // every spike weighs one unit
          }
        };
        if (comm_) {
          // Over ranks: thread 0 sums this rank's counts, weights and leave
          // flags over the ranks (one integer all-reduce per step: exact, so
          // every rank continues with the same numbers); the flags make every
          // rank leave after the same step. Layout: counts [0, RP), weights
          // [RP, 2 RP), the two flags.
          if (t == 0) {
            for (size_t idx = 0; idx < RP; ++idx) local_sums(idx, global_counts_[idx], global_counts_[RP + idx]);
            global_counts_[2 * RP] = leave_at[par] == 1;
            global_counts_[2 * RP + 1] = leave_at[par] == 2;
            comm_->sum(global_counts_.data(), 2 * RP + 2);
            leave_at[par] = global_counts_[2 * RP + 1] > 0 ? 2 : global_counts_[2 * RP] > 0 ? 1 : 0;
          }
          if (nt > 1) barrier.wait();
        }
        for (size_t idx = 0; idx < RP; ++idx) {
          int64_t c, wsum;
          if (comm_) {
            c = global_counts_[idx];
            wsum = global_counts_[RP + idx];
          } else {
            local_sums(idx, c, wsum);
          }
          const int j = static_cast<int>(idx % P_);
          const double s_old = s[idx];
          s[idx] = S::gating(s_old, L.dt, L.tau_s[j], L.decay[j], L.s_jump[j], wsum, L.inv_n[idx]);
          if constexpr (S::drive_state)
            s_drive[idx] = S::next_drive(s_old, s[idx], s_drive[idx], L.dt, L.tau_s[j], L.decay[j], L.s_jump[j], c,
                                         wsum, L.inv_n[idx]);
          if (t == 0) out.step_spikes[static_cast<size_t>(m) * RP + idx] = static_cast<uint32_t>(c);
        }
        if ((m + 1) % steps_per_record == 0) {
          moment_blocks<S>(t);
          if (nt > 1) barrier.wait();
          if (t == 0) combine_moments(&out.moments[static_cast<size_t>((m + 1) / steps_per_record - 1) * RP], s);
        }
        // Every thread reads the same flag: all leave after the same step.
        if (leave_at[par] != 0 || m + 1 == steps) {
          if (t == 0) {
            reached = m + 1;
            *stopped = leave_at[par] == 2;
            std::copy(s, s + RP, s_.begin());
            std::copy(s_drive, s_drive + RP, s_drive_.begin());
          }
          break;
        }
      }
    };
    if (nt == 1) {
      run(0);
    } else {
#pragma omp parallel num_threads(nt)
      run(omp_get_thread_num());
    }
    return reached;
  }

  /// Neuron update of thread t's static share of the flat arrays, writing
  /// its spike count (and, for a weighted scheme, its gating weight) per
  /// segment into the parity-`par` slot. Recorded neurons take the same step
  /// one at a time, so that their spike comes from the step function itself;
  /// the vectorised loop runs between them.
  template <class S>
  void step_range(const std::vector<piece>& my_pieces, int t, int par, int64_t global_step,
                  const typename S::coeffs* co) {
    double* __restrict x = x_.data();
    double* __restrict w = w_.data();
    const double* __restrict eta = eta_.data();
    const size_t row = (static_cast<size_t>(par) * nt_ + t) * stride_;
    int64_t* my = &counts_[row];
    int64_t* my_w = S::weighted ? &weights_[row] : nullptr;
    for (size_t q = 0; q < segs_.size(); ++q) my[q] = 0;
    if (my_w)
      for (size_t q = 0; q < segs_.size(); ++q) my_w[q] = 0;
    const std::vector<layout_recorded>& rec = layout_.recorded;
    for (const piece& pc : my_pieces) {
      const typename S::coeffs k = co[pc.seg];
      int64_t c = 0, wsum = 0, i = pc.begin;
      for (size_t q = pc.rec_begin; q < pc.rec_end; ++q) {
        const layout_recorded& rn = rec[q];
        c += step_run<S>(x, w, eta, i, rn.flat, k, wsum);
        int64_t wt;
        double f;
        const int spiked = S::step(x[rn.flat], w[rn.flat], eta[rn.flat], k, wt, f);
        c += spiked;
        wsum += wt;
        if (spiked) thread_spikes_[t].push_back({global_step, rn.replica, rn.pop, rn.local, f});
        i = rn.flat + 1;
      }
      c += step_run<S>(x, w, eta, i, pc.end, k, wsum);
      my[pc.seg] = c;
      if (my_w) my_w[pc.seg] = wsum;
    }
  }

  /// Steps neurons [begin, end); returns their spikes and adds their gating
  /// weight to `wsum` (weighted schemes only; unweighted ones use the count).
  /// Both schemes' steps are branch-free and the loops vectorise (the integer
  /// reductions are order-free); a scheme with split_step runs its two parts
  /// (each neuron's result is that of S::step, whatever the chunking).
  template <class S>
  static int64_t step_run(double* __restrict x, double* __restrict w, const double* __restrict eta, int64_t begin,
                          int64_t end, const typename S::coeffs& k, int64_t& wsum) {
    int64_t c = 0;
    if constexpr (S::split_step) {
      // The common case vectorised over a chunk, then the neurons it left
      // (spikes, v far from the step's mean) gathered and stepped, also
      // vectorised: a few per cent of them.
      constexpr int64_t chunk = 512;
      int64_t left[chunk], at[chunk];
      double lx[chunk], lw[chunk], le[chunk];
      int64_t ws = 0;
      for (int64_t b = begin; b < end; b += chunk) {
        const int64_t e = std::min(b + chunk, end);
        int64_t n_left = 0;
#pragma omp simd reduction(+ : n_left)
        for (int64_t i = b; i < e; ++i) {
          const int l = S::step_common(x[i], w[i], eta[i], k);
          left[i - b] = l;
          n_left += l;
        }
        if (n_left == 0) continue;
        // Their indices, skipping groups of 8 with none (most groups).
        int64_t m = 0, j0 = 0;
        const int64_t len = e - b;
        for (; j0 + 8 <= len; j0 += 8) {
          if ((left[j0] | left[j0 + 1] | left[j0 + 2] | left[j0 + 3] | left[j0 + 4] | left[j0 + 5] | left[j0 + 6] |
               left[j0 + 7]) == 0)
            continue;
          for (int64_t j = j0; j < j0 + 8; ++j) {
            at[m] = b + j;
            m += left[j];
          }
        }
        for (int64_t j = j0; j < len; ++j) {
          at[m] = b + j;
          m += left[j];
        }
        for (int64_t j = 0; j < m; ++j) {
          lx[j] = x[at[j]];
          lw[j] = w[at[j]];
          le[j] = eta[at[j]];
        }
#pragma omp simd reduction(+ : c, ws)
        for (int64_t j = 0; j < m; ++j) {
          int64_t wt;
          double f;
          c += S::step_rest(lx[j], lw[j], le[j], k, wt, f);
          ws += wt;
        }
        for (int64_t j = 0; j < m; ++j) {
          x[at[j]] = lx[j];
          w[at[j]] = lw[j];
        }
      }
      wsum += ws;
    } else if constexpr (S::weighted) {
      int64_t ws = 0;
#pragma omp simd reduction(+ : c, ws)
      for (int64_t i = begin; i < end; ++i) {
        int64_t wt;
        double f;
        c += S::step(x[i], w[i], eta[i], k, wt, f);
        ws += wt;
      }
      wsum += ws;
    } else {
      // Each neuron's 0/1 spike into a buffer in the vectorised loop, the
      // buffer summed after it, chunk by chunk. With the count as an `omp
      // simd` reduction instead, GCC 12 stored the reduction vector to the
      // stack every iteration and the engine's loop ran at about 2/3 of this
      // one's speed (BENCHMARKS.md section 1). The buffer is int64_t (an int
      // buffer measured slower) and k is copied to a local (through the
      // reference GCC does not vectorise this loop: "no vectype" for the
      // loads of its fields). The count is an integer either way: the same
      // for every chunking and thread count.
      constexpr int64_t chunk = 512;
      int64_t spiked[chunk];
      const typename S::coeffs kc = k;
      for (int64_t b = begin; b < end; b += chunk) {
        const int64_t e = std::min(b + chunk, end);
#pragma omp simd
        for (int64_t i = b; i < e; ++i) spiked[i - b] = S::step(x[i], w[i], eta[i], kc);
        int64_t n = 0;
        for (int64_t j = 0; j < e - b; ++j) n += spiked[j];
        c += n;
      }
    }
    return c;
  }

  /// The per-thread, per-segment coefficient rows of scheme S.
  template <class S>
  typename S::coeffs* coeff_rows() {
    if constexpr (std::is_same_v<typename S::coeffs, exact_coeffs>)
      return ecoeffs_.data();
    else
      return coeffs_.data();
  }

  /// Partial sums of fixed blocks, blocks dealt round-robin-free in a static
  /// split (which thread sums a block does not change the result).
  template <class S>
  void moment_blocks(int t) {
    const double* x = x_.data();
    const double* w = w_.data();
    const size_t nb = blocks_.size();
    const size_t lo = nb * t / nt_, hi = nb * (t + 1) / nt_;
    for (size_t bi = lo; bi < hi; ++bi) {
      const segment& b = blocks_[bi];
      const segment_params& p = layout_.params[static_cast<size_t>(b.replica) * P_ + b.pop];
      moment_sums m = moment_zero();
      if constexpr (S::kind == scheme_kind::paper) {
        // Vectorised: the simd lanes split each fixed block the same way
        // whatever the thread count, so results stay thread-count
        // independent; neurons outside the window add exact zeros. The
        // terms come by value (moment_of): a per-lane moment_sums filled
        // through S::accumulate's reference left this loop scalar and
        // branchy under GCC 12, about 10 % of the step at record_every = 10
        // (BENCHMARKS.md section 1).
        double sw = 0, sx = 0, svi = 0, swi = 0, ni = 0;
        const double lo_v = p.v_reset, hi_v = p.v_peak;
#pragma omp simd reduction(+ : sw, sx, svi, swi, ni)
        for (int64_t i = b.begin; i < b.end; ++i) {
          const moment_sums e = S::moment_of(x[i], w[i], lo_v, hi_v);
          sw += e.w;
          sx += e.x_all;
          svi += e.v_in;
          swi += e.w_in;
          ni += e.n_in;
        }
        m.w = sw;
        m.x_all = sx;
        m.v_in = svi;
        m.w_in = swi;
        m.n_in = ni;
      } else {
        // exact: cos and sin rationally from p (p_cos_sin), vectorised like
        // the paper's sums, same fixed blocks; the terms by value
        // (moment_of) for the same reason (through accumulate this loop was
        // scalar too).
        double sw = 0, sx = 0, sc = 0, ss = 0;
#pragma omp simd reduction(+ : sw, sx, sc, ss)
        for (int64_t i = b.begin; i < b.end; ++i) {
          const moment_sums e = S::moment_of(x[i], w[i], p.v_reset, p.v_peak);
          sw += e.w;
          sx += e.x_all;
          sc += e.cos;
          ss += e.sin;
        }
        m.w = sw;
        m.x_all = sx;
        m.cos = sc;
        m.sin = ss;
      }
      partial_[block_id_[bi]] = m;
    }
  }

  /// Block partial sums added in global block order: independent of the
  /// thread count. Over ranks, the block sums are first summed over the
  /// ranks: each block lies on one rank and the others add zeros, so this is
  /// exact and independent of the rank count.
  void combine_moments(pop_moments* out, const double* s) {
    static_assert(sizeof(moment_sums) == 7 * sizeof(double), "moment_sums is summed as doubles");
    const moment_sums* blocks = partial_.data();
    if (comm_) {
      reduced_ = partial_;
      comm_->sum(reinterpret_cast<double*>(reduced_.data()), 7 * reduced_.size());
      blocks = reduced_.data();
    }
    std::vector<moment_sums>& acc = combined_;
    acc.assign(static_cast<size_t>(R_) * P_, moment_zero());
    for (size_t bi = 0; bi < global_block_seg_.size(); ++bi) {
      moment_sums& o = acc[global_block_seg_[bi]];
      o = o + blocks[bi];
    }
    for (size_t idx = 0; idx < acc.size(); ++idx) out[idx] = to_pop_moments(acc[idx], s[idx]);
  }

  network_layout layout_;
  model_spec spec_;
  std::vector<replica_spec> replicas_;
  int threads_;
  int R_ = 0, P_ = 0;
  int64_t total_ = 0;
  std::vector<segment> segs_, blocks_;
  /// Static split of the flat arrays for each thread count that may run.
  std::map<int, std::vector<std::vector<piece>>> pieces_;
  /// Thread counts this backend may use (the first is the one asked for);
  /// several only when adaptive, and their measured rates.
  std::vector<int> candidates_;
  std::vector<double> rate_;
  bool adaptive_ = false;
  int nt_ = 1;  ///< threads of the current advance() call
  int64_t calls_ = 0;
  bool probed_ = false;

  /// The thread count of the next region and how long it may run. A fixed
  /// backend always runs its one count to the end of the call. An adaptive
  /// one measures every candidate in a short region first, then runs the
  /// fastest, and at the start of every 16th call re-measures another one in
  /// a 30 ms region (the load of a shared machine changes). Results never
  /// depend on the choice.
  std::pair<size_t, double> choose_candidate() {
    constexpr double unlimited = std::numeric_limits<double>::infinity();
    if (candidates_.size() == 1) return {0, unlimited};
    for (size_t c = 0; c < candidates_.size(); ++c)
      if (rate_[c] <= 0) return {c, 0.05};
    const size_t best = static_cast<size_t>(std::max_element(rate_.begin(), rate_.end()) - rate_.begin());
    const int64_t k = calls_++;
    if (k % 16 == 15 && !probed_) {
      probed_ = true;
      const size_t other = static_cast<size_t>((k / 16) % static_cast<int64_t>(candidates_.size() - 1));
      return {other >= best ? other + 1 : other, 0.03};
    }
    probed_ = false;
    return {best, unlimited};
  }

  std::vector<std::vector<piece>> split(int nt) const {
    std::vector<std::vector<piece>> out(nt);
    for (int t = 0; t < nt; ++t) {
      const int64_t lo = total_ * t / nt, hi = total_ * (t + 1) / nt;
      for (size_t si = 0; si < segs_.size(); ++si) {
        const int64_t a = std::max(lo, segs_[si].begin), b = std::min(hi, segs_[si].end);
        if (a < b) {
          auto lower = [&](int64_t f) {
            return static_cast<size_t>(
                std::lower_bound(layout_.recorded.begin(), layout_.recorded.end(), f,
                                 [](const layout_recorded& rn, int64_t v) { return rn.flat < v; }) -
                layout_.recorded.begin());
          };
          out[t].push_back({a, b, si, lower(a), lower(b)});
        }
      }
    }
    return out;
  }
  std::vector<step_coeffs> coeffs_;    ///< paper: per thread, per segment
  std::vector<exact_coeffs> ecoeffs_;  ///< exact: per thread, per segment
  size_t stride_ = 0;                  ///< per-thread row length of counts_
  std::vector<int64_t> counts_;        ///< [parity][thread][segment] spikes
  std::vector<int64_t> weights_;       ///< [parity][thread][segment] gating weights (weighted schemes only)
  std::vector<double> s_local_;
  std::vector<std::vector<spike_event>> thread_spikes_;
  std::vector<double> x_;  ///< v (paper) or p (exact, v = p/(1 - |p|)) of every owned neuron
  std::vector<double> w_, eta_, s_;
  std::vector<double> s_drive_;                 ///< the next step's drive value (a scheme with drive_state)
  std::vector<moment_sums> partial_, reduced_;  ///< per global block (all ranks)
  std::vector<moment_sums> combined_;
  std::vector<size_t> block_id_;          ///< global index of each of this rank's blocks
  std::vector<size_t> global_block_seg_;  ///< segment (replica * P + pop) of each global block
  communicator* comm_ = nullptr;          ///< set when one network spans several ranks
  std::vector<int64_t> global_counts_;    ///< per-step counts over ranks, spike weights, the two leave flags
};

}  // namespace

std::unique_ptr<backend> make_cpu_backend(int threads, bool adaptive) {
  return std::make_unique<cpu_backend>(threads, adaptive);
}

}  // namespace izhinet
