// CPU backend: OpenMP threads over a flat array of all replicas' neurons.
//
// Determinism: the neuron update is per-neuron independent and spike counts
// are integers, so results do not depend on the thread count. The floating
// sums behind <v> and <w> are taken in fixed blocks of k_block neurons whose
// partial sums are added in block order, whatever the thread count.
#include <linux/futex.h>
#include <omp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <thread>

#include "izhinet/backend.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/neuron.hpp"
#include "izhinet/recording.hpp"
#include "izhinet/sampling.hpp"

namespace izhinet {
namespace {

constexpr int64_t k_block = 4096;

/// Generation-counting barrier that spins briefly, then sleeps on a futex.
/// OpenMP's barrier spins for milliseconds, which collapses when the cores
/// are shared with other processes (a descheduled partner costs a time slice
/// per step); a purely passive one costs microseconds per step when idle.
class spin_barrier {
 public:
  explicit spin_barrier(int n) : n_(n) {}
  void wait() {
    const int gen = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
      count_.store(0, std::memory_order_relaxed);
      gen_.store(gen + 1, std::memory_order_release);
      if (sleepers_.load(std::memory_order_acquire) > 0)
        syscall(SYS_futex, reinterpret_cast<int*>(&gen_), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
      return;
    }
    for (int spins = 0; spins < 500; ++spins) {
      if (gen_.load(std::memory_order_acquire) != gen) return;
      __builtin_ia32_pause();
    }
    sleepers_.fetch_add(1, std::memory_order_acq_rel);
    while (gen_.load(std::memory_order_acquire) == gen)
      syscall(SYS_futex, reinterpret_cast<int*>(&gen_), FUTEX_WAIT_PRIVATE, gen, nullptr, nullptr, 0);
    sleepers_.fetch_sub(1, std::memory_order_acq_rel);
  }

 private:
  const int n_;
  std::atomic<int> count_{0};
  std::atomic<int> gen_{0};
  std::atomic<int> sleepers_{0};
};

/// A contiguous range of neurons of one population of one replica.
struct segment {
  int64_t begin, end;  // in the flat arrays
  int replica, pop;
};

class cpu_backend final : public backend {
 public:
  explicit cpu_backend(int threads) : threads_(threads > 0 ? threads : omp_get_max_threads()) {}

  std::string name() const override { return "cpu"; }

  std::string device() const override {
    std::string model = "unknown CPU";
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("model name", 0) == 0) {
        model = line.substr(line.find(':') + 2);
        break;
      }
    return model + ", " + std::to_string(threads_) + " OpenMP thread(s)";
  }

  void setup(const model_spec& spec, const std::vector<replica_spec>& replicas) override {
    spec_ = spec;
    R_ = static_cast<int>(replicas.size());
    P_ = spec.num_populations();
    exact_ = spec.run.scheme == scheme_kind::exact;
    segs_.clear();
    pop_n_.assign(static_cast<size_t>(R_) * P_, 0);
    kg_.assign(static_cast<size_t>(R_) * P_ * P_, 0.0);
    int64_t total = 0;
    for (int r = 0; r < R_; ++r) {
      const auto sizes = population_sizes(spec, replicas[r].n);
      for (int i = 0; i < P_; ++i) {
        segs_.push_back({total, total + sizes[i], r, i});
        pop_n_[r * P_ + i] = sizes[i];
        total += sizes[i];
      }
      for (int i = 0; i < P_; ++i)
        for (int j = 0; j < P_; ++j)
          kg_[(static_cast<size_t>(r) * P_ + i) * P_ + j] =
              static_cast<double>(sizes[j]) / static_cast<double>(replicas[r].n) * spec.synapse.g[i][j];
    }
    total_ = total;
    // Three doubles per neuron (v or theta, w, eta): refuse before allocating
    // what the machine does not have, naming the key.
    const double need = 3.0 * sizeof(double) * static_cast<double>(total);
    const double have = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
    if (have > 0 && need > 0.9 * have)
      throw config_error("network.n",
                         std::to_string(total) + " neurons (all replicas) need " + std::to_string(need / (1 << 30)) +
                             " GiB on the CPU backend; this machine has " + std::to_string(have / (1 << 30)) + " GiB");
    x_.assign(total, 0.0);
    w_.assign(total, 0.0);
    eta_.resize(total);
    s_.assign(static_cast<size_t>(R_) * P_, 0.0);
    const bool random = spec.network.sampling == sampling_kind::random;
    for (const segment& g : segs_) {
      const auto& p = spec.populations[g.pop];
      const uint64_t seed = replicas[g.replica].seed;
      const int64_t n = g.end - g.begin;
      fill_eta(random, p.eta_bar, p.delta, seed, n, static_cast<uint32_t>(g.pop), 0, n, &eta_[g.begin]);
    }
    // Moment blocks: fixed-size pieces of each segment.
    blocks_.clear();
    for (size_t si = 0; si < segs_.size(); ++si)
      for (int64_t b = segs_[si].begin; b < segs_[si].end; b += k_block)
        blocks_.push_back({b, std::min(b + k_block, segs_[si].end), segs_[si].replica, segs_[si].pop});
    partial_.resize(blocks_.size());
    // Recorded neurons (spike output), in flat indices.
    recorded_.clear();
    if (spec.run.spike_neurons > 0)
      for (const segment& g : segs_) {
        const int64_t n = g.end - g.begin;
        for (int64_t k = 0; k < n; ++k)
          if (is_recorded(k, n, spec.run.spike_neurons)) recorded_.push_back({g.begin + k, g.replica, g.pop, k});
      }
    // Static split of the flat index range among threads.
    thread_pieces_.assign(threads_, {});
    for (int t = 0; t < threads_; ++t) {
      const int64_t lo = total_ * t / threads_, hi = total_ * (t + 1) / threads_;
      for (size_t si = 0; si < segs_.size(); ++si) {
        const int64_t a = std::max(lo, segs_[si].begin), b = std::min(hi, segs_[si].end);
        if (a < b) thread_pieces_[t].push_back({a, b, si});
      }
    }
  }

  void advance(int records, int64_t first_step, const std::vector<double>& input, chunk_result& out) override {
    const int64_t spr = spec_.run.record_every;
    const int64_t steps = records * spr;
    if (static_cast<int64_t>(input.size()) < steps * P_) throw internal_error("cpu_backend::advance: input too short");
    out.records = records;
    out.steps_per_record = spr;
    out.step_spikes.assign(static_cast<size_t>(steps) * R_ * P_, 0u);
    out.moments.assign(static_cast<size_t>(records) * R_ * P_, pop_moments{});
    out.spikes.clear();

    const size_t nseg = segs_.size();
    coeffs_.resize(nseg);
    counts_.assign(static_cast<size_t>(threads_) * nseg, 0);
    decay_.resize(P_);
    for (int j = 0; j < P_; ++j) decay_[j] = std::exp(-spec_.run.dt / spec_.synapse.tau_s[j]);
    rec_before_.resize(recorded_.size());

    // Serial work between neuron updates: the drive of step m from s, and
    // after the step the spike totals, s and the recorded spikes.
    auto prepare = [&](int64_t m) {
      for (size_t si = 0; si < nseg; ++si) {
        const segment& g = segs_[si];
        const auto& p = spec_.populations[g.pop];
        double G, E;
        synaptic_drive(P_, g.pop, &kg_[static_cast<size_t>(g.replica) * P_ * P_], spec_.synapse.e_r.data(),
                       &s_[static_cast<size_t>(g.replica) * P_], G, E);
        coeffs_[si] =
            step_coeffs{p.alpha + G, input[m * P_ + g.pop] + E, p.a, p.b, p.w_jump, p.v_peak, p.v_reset, spec_.run.dt};
      }
      for (size_t q = 0; q < recorded_.size(); ++q) rec_before_[q] = x_[recorded_[q].flat];
    };
    auto finish = [&](int64_t m) {
      for (size_t si = 0; si < nseg; ++si) {
        int64_t c = 0;
        for (int t = 0; t < threads_; ++t) c += counts_[t * nseg + si];  // integers: order-free
        const segment& g = segs_[si];
        out.step_spikes[(static_cast<size_t>(m) * R_ + g.replica) * P_ + g.pop] = static_cast<uint32_t>(c);
      }
      for (int r = 0; r < R_; ++r)
        for (int j = 0; j < P_; ++j) {
          const size_t idx = static_cast<size_t>(r) * P_ + j;
          const double c = out.step_spikes[(static_cast<size_t>(m) * R_ + r) * P_ + j];
          s_[idx] = gating_step(exact_, s_[idx], spec_.run.dt, spec_.synapse.tau_s[j], decay_[j],
                                spec_.synapse.s_jump[j], c, 1.0 / static_cast<double>(pop_n_[idx]));
        }
      for (size_t q = 0; q < recorded_.size(); ++q) {
        const auto& rn = recorded_[q];
        const bool spiked =
            exact_ ? x_[rn.flat] < rec_before_[q] - k_pi : rec_before_[q] >= spec_.populations[rn.pop].v_peak;
        if (spiked) out.spikes.push_back({first_step + m, rn.replica, rn.pop, rn.local});
      }
    };
    // One parallel region for the whole call; per step two barriers (after
    // the neuron update, and after the serial s update). One thread: no
    // OpenMP at all (a region costs about a microsecond).
    spin_barrier barrier(threads_);
    auto run = [&](int t) {
      for (int rec = 0; rec < records; ++rec) {
        for (int64_t st = 0; st < spr; ++st) {
          const int64_t m = rec * spr + st;
          if (t == 0) prepare(m);
          if (threads_ > 1) barrier.wait();
          if (exact_)
            step_range<true>(t);
          else
            step_range<false>(t);
          if (threads_ > 1) barrier.wait();
          if (t == 0) finish(m);
        }
        moment_blocks(t);
        if (threads_ > 1) barrier.wait();
        if (t == 0) combine_moments(&out.moments[static_cast<size_t>(rec) * R_ * P_]);
      }
    };
    if (threads_ == 1) {
      run(0);
    } else {
#pragma omp parallel num_threads(threads_)
      run(omp_get_thread_num());
    }
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

 private:
  struct recorded_neuron {
    int64_t flat;
    int replica, pop;
    int64_t local;
  };

  std::pair<int64_t, int64_t> replica_range(int replica) const {
    if (replica < 0 || replica >= R_) throw internal_error("cpu_backend: replica index out of range");
    return {segs_[static_cast<size_t>(replica) * P_].begin, segs_[static_cast<size_t>(replica) * P_ + P_ - 1].end};
  }

  /// Neuron update of thread t's static share of the flat arrays.
  template <bool Exact>
  void step_range(int t) {
    const size_t nseg = segs_.size();
    double* __restrict x = x_.data();
    double* __restrict w = w_.data();
    const double* __restrict eta = eta_.data();
    int64_t* my = &counts_[t * nseg];
    for (size_t q = 0; q < nseg; ++q) my[q] = 0;
    for (const piece& pc : thread_pieces_[t]) {
      const step_coeffs k = coeffs_[pc.seg];
      int64_t c = 0;
      if constexpr (Exact) {
        for (int64_t i = pc.begin; i < pc.end; ++i) c += exact_step(x[i], w[i], eta[i], k);
      } else {
#pragma omp simd reduction(+ : c)
        for (int64_t i = pc.begin; i < pc.end; ++i) c += paper_step(x[i], w[i], eta[i], k);
      }
      my[pc.seg] = c;
    }
  }

  /// Partial sums of fixed blocks, blocks dealt round-robin-free in a static
  /// split (which thread sums a block does not change the result).
  void moment_blocks(int t) {
    const double* x = x_.data();
    const double* w = w_.data();
    const size_t nb = blocks_.size();
    const size_t lo = nb * t / threads_, hi = nb * (t + 1) / threads_;
    for (size_t bi = lo; bi < hi; ++bi) {
      const segment& b = blocks_[bi];
      const auto& p = spec_.populations[b.pop];
      pop_moments m;
      if (!exact_) {
        // Branch-free and vectorised: a scalar pass here every record_every
        // steps cost 10-12 % of the paper scheme at record_every = 10
        // (BENCHMARKS-cpu.md). The simd lanes split each fixed block the
        // same way whatever the thread count, so results stay
        // thread-count independent; excluded neurons add exact zeros.
        double sw = 0, sva = 0, svi = 0, swi = 0, ni = 0;
        const double lo_v = p.v_reset, hi_v = p.v_peak;
#pragma omp simd reduction(+ : sw, sva, svi, swi, ni)
        for (int64_t i = b.begin; i < b.end; ++i) {
          const double xi = x[i], wi = w[i];
          const bool in = xi >= lo_v && xi <= hi_v;
          sw += wi;
          sva += xi;
          svi += in ? xi : 0.0;
          swi += in ? wi : 0.0;
          ni += in ? 1.0 : 0.0;
        }
        m.sum_w = sw;
        m.sum_v_all = sva;
        m.sum_v_in = svi;
        m.sum_w_in = swi;
        m.n_in = ni;
        partial_[bi] = m;
        continue;
      }
      for (int64_t i = b.begin; i < b.end; ++i) {
        const double xi = x[i], wi = w[i];
        m.sum_w += wi;
        m.sum_v_all += xi;
        if (exact_) {
          m.sum_cos += std::cos(xi);
          m.sum_sin += std::sin(xi);
        } else if (xi >= p.v_reset && xi <= p.v_peak) {
          m.sum_v_in += xi;
          m.sum_w_in += wi;
          m.n_in += 1.0;
        }
      }
      partial_[bi] = m;
    }
  }

  /// Block partial sums added in block order: independent of the thread count.
  void combine_moments(pop_moments* out) {
    for (int r = 0; r < R_; ++r)
      for (int i = 0; i < P_; ++i) out[r * P_ + i] = pop_moments{};
    for (size_t bi = 0; bi < blocks_.size(); ++bi) {
      pop_moments& o = out[blocks_[bi].replica * P_ + blocks_[bi].pop];
      const pop_moments& m = partial_[bi];
      o.sum_v_in += m.sum_v_in;
      o.sum_w_in += m.sum_w_in;
      o.n_in += m.n_in;
      o.sum_w += m.sum_w;
      o.sum_cos += m.sum_cos;
      o.sum_sin += m.sum_sin;
      o.sum_v_all += m.sum_v_all;
    }
    for (int r = 0; r < R_; ++r)
      for (int i = 0; i < P_; ++i) out[r * P_ + i].s = s_[static_cast<size_t>(r) * P_ + i];
  }

  model_spec spec_;
  int threads_;
  int R_ = 0, P_ = 0;
  bool exact_ = false;
  int64_t total_ = 0;
  std::vector<segment> segs_, blocks_;
  /// A thread's share of one segment.
  struct piece {
    int64_t begin, end;
    size_t seg;
  };
  std::vector<std::vector<piece>> thread_pieces_;
  std::vector<step_coeffs> coeffs_;
  std::vector<int64_t> counts_;
  std::vector<double> decay_, rec_before_;
  std::vector<int64_t> pop_n_;
  std::vector<double> kg_, x_, w_, eta_, s_;
  std::vector<pop_moments> partial_;
  std::vector<recorded_neuron> recorded_;
};

}  // namespace

std::unique_ptr<backend> make_cpu_backend(int threads) { return std::make_unique<cpu_backend>(threads); }

}  // namespace izhinet
