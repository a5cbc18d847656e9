/// \file cuda_backend.cu
/// The CUDA backend: every replica and population of the all-to-all
/// Izhikevich network advanced on one GPU, in double precision, with the
/// per-neuron arithmetic of neuron.hpp (the same functions the CPU backend runs).
///
/// Design (why, in short):
/// - Structure of arrays v, w, eta for all replicas and populations, one
///   *segment* per (replica, population), each starting on a 256-byte boundary
///   so that a thread moves two neurons with one 16-byte access.
/// - One launch per step advances every neuron of every replica. A block
///   never straddles a segment (a small block -> segment table), so it computes
///   its step coefficients once and adds one spike count to one counter.
///   The last block to finish (a ticket counter, the threadFenceReduction
///   pattern) updates the P*R gating variables s. That keeps one kernel per
///   step instead of two: at N = 1e6 the data sit in the 50 MB L2 of an H100
///   and a step takes a few microseconds, so a second launch would cost a
///   visible share. A persistent grid with a grid-wide barrier would save the
///   launches too but needs cooperative launch and gives up graph replay.
/// - The step index, the input, the output buffers and the spike counter live
///   in a device-side `control` block, so the kernels' parameters never change:
///   the steps of a recording interval (and the moments reduction after them)
///   are captured once in a CUDA graph at setup and replayed. There is no host
///   round trip per step and only one synchronisation per advance() call.
/// - Moments: one pass over the neurons, CUB BlockReduce of all sums at once,
///   one atomicAdd per sum and block into [record][replica][pop]. Double
///   atomics make the last bits of the sums depend on block order (rounding
///   only); they are outputs and never feed back into the dynamics, so the
///   trajectory itself is bitwise reproducible.
/// - One network over K MPI ranks (distribute(), docs/mpi.md): each rank holds
///   its slice of every population (network_layout's partition, cut on the
///   4096-neuron moment blocks) and runs the same step kernel without its
///   last-block gating update. After every step the R*P spike counts (and a
///   weighted scheme's fixed-point weights) are copied to pinned host memory,
///   summed over the ranks by the communicator (host-staged MPI), copied back,
///   and a one-block kernel updates s with the sums: the same integers and the
///   same arithmetic as in one process, so the trajectory is bit-identical for
///   any K. Moments at recording times are summed per global 4096-neuron block
///   (one CUDA block each, a fixed reduction order), summed over the ranks and
///   added in global block order on the host, as the CPU backend does: the
///   moments are bit-identical for every K >= 2. No graphs on this path (a
///   host round trip per step). With one rank none of this runs.
#include <cuda_runtime.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <cub/block/block_reduce.cuh>
#include <sstream>
#include <tuple>

#include "cuda_check.cuh"
#include "izhinet/backend.hpp"
#include "izhinet/communicator.hpp"
#include "izhinet/errors.hpp"
#include "izhinet/network_layout.hpp"
#include "izhinet/params.hpp"
#include "izhinet/recording.hpp"
#include "izhinet/scheme.hpp"

namespace izhinet {
namespace {

constexpr int k_threads = 256;                                 ///< threads per block
constexpr int k_pairs = 2;                                     ///< double2 pairs per thread per sweep
constexpr int64_t k_sweep = int64_t{k_threads} * k_pairs * 2;  ///< neurons per block per sweep
constexpr int64_t k_align = 32;                                ///< segment alignment (doubles): 256 B
constexpr int k_max_graph_steps = 128;                         ///< steps captured in one graph
/// Moment block over ranks: the slices are cut on multiples of it, and each
/// block's sums are taken in one fixed order (the CPU backend's k_block).
constexpr int64_t k_moment_block = 4096;

/// One (replica, population) of the network_layout on the device: a
/// contiguous, aligned range of the SoA arrays and its neuron constants.
struct segment {
  int64_t offset;       ///< first owned neuron in v/w/eta (multiple of k_align)
  int64_t n;            ///< owned neurons of the population (all unless partitioned)
  int64_t first;        ///< population index of the first owned neuron
  int64_t pop_n;        ///< neurons in the whole population (recording selection)
  int64_t first_block;  ///< first block of the step/moment kernels on it
  segment_params p;     ///< neuron constants (with the replica's overrides)
  int replica;
  int pop;
};

/// Constants of presynaptic population j's gating variable.
struct gating_consts {
  double tau_s, decay, s_jump;
};

/// Device-resident state of one advance() call. Kernels read their step
/// index and buffers from here instead of from launch parameters, which is
/// what lets one captured graph serve every recording interval and chunk.
struct control {
  int64_t step;        ///< steps completed in this advance() call
  int64_t first_step;  ///< global index of step 0 of the call
  int64_t steps_per_record;
  unsigned int ticket;  ///< blocks finished in the current step kernel
  unsigned int pad;
  unsigned long long n_spikes;  ///< recorded spike events (may exceed spike_cap)
  unsigned long long spike_cap;
  const double* input;        ///< [step][P]
  unsigned int* step_spikes;  ///< [step][R*P]
  pop_moments* moments;       ///< [record][R*P]
  spike_event* spikes;        ///< [spike_cap]
};

/// Everything a kernel needs, passed by value (fixed after setup).
struct net_view {
  double* x;  ///< paper: v; exact: the state p of exact_step (v = p/(1 - |p|))
  double* w;
  double* eta;
  const segment* seg;
  const int* block_seg;     ///< segment of each block
  const double* kg;         ///< [replica][i * P + j] = kappa_j g_ij
  const double* e_r;        ///< [P]
  const gating_consts* gc;  ///< [P]
  const double* inv_n;      ///< [R * P] 1 / N_j
  double* s;                ///< [R * P]
  control* ctl;
  int P;
  int RP;
  int64_t sweeps;         ///< sweeps of k_sweep neurons per block
  int64_t spike_neurons;  ///< run.spike_neurons (0: none)
  double dt;
  double* s_drive;           ///< [R * P] the next step's drive value (a scheme with drive_state)
  unsigned long long* wacc;  ///< [R * P] this step's spike weights (weighted schemes), units of S::weight_unit
};

// ---------------------------------------------------------------------------
// kernels
// ---------------------------------------------------------------------------

/// One neuron's step of scheme S; a weighted scheme also adds the spike's
/// weight (fixed point) to `wsum`. `frac`: the spike's time inside the step
/// (1, the step's end, for the paper scheme).
template <class S>
__device__ __forceinline__ int scheme_step(double& x, double& w, double eta, const typename S::coeffs& k,
                                           unsigned long long& wsum, double& frac) {
  if constexpr (S::weighted) {
    int64_t wt;
    const int sp = S::step(x, w, eta, k, wt, frac);
    wsum += static_cast<unsigned long long>(wt);
    return sp;
  } else {
    frac = 1.0;
    return S::step(x, w, eta, k);
  }
}

/// Rare path (a recorded neuron spiked): append one event. The counter keeps
/// counting past the cap so that the host can report how many were dropped.
__device__ __forceinline__ void record_spike(control* ctl, int64_t spike_neurons, int64_t n, int replica, int pop,
                                             int64_t k, int64_t row, double frac) {
  if (!is_recorded(k, n, spike_neurons)) return;
  const unsigned long long slot = atomicAdd(&ctl->n_spikes, 1ull);
  if (slot < ctl->spike_cap) ctl->spikes[slot] = spike_event{ctl->first_step + row, replica, pop, k, frac};
}

/// One step of every neuron of every replica (see the file comment).
/// Full sweeps issue all 3 * k_pairs 16-byte loads before the arithmetic so
/// that several are in flight per thread; the tail of a segment goes neuron by
/// neuron. The gating variables are read at the start of the step by every
/// block and written only by the last block, after all others have counted.
/// A weighted scheme's spike weights are integers (fixed point), summed per
/// block and added atomically: order-free, the same sums as the CPU backend.
/// `Distributed` (one network over ranks): only this rank's counts and
/// weights are added; the host sums them over the ranks and gating_kernel
/// updates s.
template <class S, bool Distributed = false>
__global__ void __launch_bounds__(k_threads) step_kernel(net_view nv) {
  using block_reduce = cub::BlockReduce<unsigned int, k_threads>;
  using weight_reduce = cub::BlockReduce<unsigned long long, k_threads>;
  __shared__ typename block_reduce::TempStorage reduce_storage;
  __shared__ typename weight_reduce::TempStorage weight_storage;
  __shared__ bool is_last_block;

  control* ctl = nv.ctl;
  const int sid = nv.block_seg[blockIdx.x];
  const segment sg = nv.seg[sid];
  const int P = nv.P;
  const int64_t row = ctl->step;
  const segment_params& pc = sg.p;
  double G, E;
  S::drive(P, sg.pop, nv.kg + static_cast<int64_t>(sg.replica) * P * P, nv.e_r,
           nv.s + static_cast<int64_t>(sg.replica) * P, nv.s_drive + static_cast<int64_t>(sg.replica) * P, G, E);
  const double I = pc.fixed_input ? pc.input_value : ctl->input[row * P + sg.pop];
  const typename S::coeffs k = S::make_coeffs(
      step_coeffs{pc.alpha + G, I + E, pc.a, pc.b, pc.w_jump, pc.v_peak, pc.v_reset, nv.dt}, nv.gc[sg.pop].tau_s);

  const int64_t tile = nv.sweeps * k_sweep;
  const int64_t begin = (static_cast<int64_t>(blockIdx.x) - sg.first_block) * tile;
  const int64_t end = min(sg.n, begin + tile);
  double* __restrict__ v = nv.x + sg.offset;
  double* __restrict__ w = nv.w + sg.offset;
  const double* __restrict__ eta = nv.eta + sg.offset;
  const bool record = nv.spike_neurons > 0;

  unsigned int count = 0;
  unsigned long long wsum = 0;
  double f0, f1;
  for (int64_t base = begin; base < end; base += k_sweep) {
    if (base + k_sweep <= end) {
      double2 vv[k_pairs], ww[k_pairs], ee[k_pairs];
#pragma unroll
      for (int j = 0; j < k_pairs; ++j) {
        const int64_t p = (base >> 1) + j * k_threads + threadIdx.x;  // pair index (base is even)
        vv[j] = reinterpret_cast<const double2*>(v)[p];
        ww[j] = reinterpret_cast<const double2*>(w)[p];
        ee[j] = __ldg(reinterpret_cast<const double2*>(eta) + p);
      }
#pragma unroll
      for (int j = 0; j < k_pairs; ++j) {
        const int s0 = scheme_step<S>(vv[j].x, ww[j].x, ee[j].x, k, wsum, f0);
        const int s1 = scheme_step<S>(vv[j].y, ww[j].y, ee[j].y, k, wsum, f1);
        count += s0 + s1;
        const int64_t p = (base >> 1) + j * k_threads + threadIdx.x;
        reinterpret_cast<double2*>(v)[p] = vv[j];
        reinterpret_cast<double2*>(w)[p] = ww[j];
        if (record && (s0 | s1)) {
          if (s0) record_spike(ctl, nv.spike_neurons, sg.pop_n, sg.replica, sg.pop, sg.first + 2 * p, row, f0);
          if (s1) record_spike(ctl, nv.spike_neurons, sg.pop_n, sg.replica, sg.pop, sg.first + 2 * p + 1, row, f1);
        }
      }
    } else {
      for (int64_t n = base + threadIdx.x; n < end; n += k_threads) {
        double x = v[n], y = w[n];
        const int sp = scheme_step<S>(x, y, eta[n], k, wsum, f0);
        v[n] = x;
        w[n] = y;
        count += sp;
        if (record && sp) record_spike(ctl, nv.spike_neurons, sg.pop_n, sg.replica, sg.pop, sg.first + n, row, f0);
      }
    }
  }

  const unsigned int total = block_reduce(reduce_storage).Sum(count);
  unsigned long long wtotal = 0;
  if constexpr (S::weighted) wtotal = weight_reduce(weight_storage).Sum(wsum);
  if (threadIdx.x == 0) {
    if (total) atomicAdd(&ctl->step_spikes[row * nv.RP + sid], total);
    if (S::weighted && wtotal) atomicAdd(&nv.wacc[sid], wtotal);  // integers: order-free
    if constexpr (!Distributed) {
      __threadfence();  // our count is visible before our ticket
      const unsigned int ticket = atomicAdd(&ctl->ticket, 1u);
      is_last_block = ticket == gridDim.x - 1;
    }
  }
  if constexpr (Distributed) return;  // the counts go over the ranks first
  __syncthreads();
  if (!is_last_block) return;

  // Last block: every count of this step is in; update s for the next step.
  __threadfence();
  for (int g = threadIdx.x; g < nv.RP; g += k_threads) {
    const unsigned int c = __ldcg(&ctl->step_spikes[row * nv.RP + g]);
    const gating_consts pj = nv.gc[g % P];
    int64_t weight = static_cast<int64_t>(c);  // unweighted: every spike weighs one unit
    if constexpr (S::weighted) {               // the spikes' weights, each decayed from its own time
      weight = static_cast<int64_t>(__ldcg(&nv.wacc[g]));
      nv.wacc[g] = 0;
    }
    const double s_old = nv.s[g];
    nv.s[g] = S::gating(s_old, nv.dt, pj.tau_s, pj.decay, pj.s_jump, weight, nv.inv_n[g]);
    if constexpr (S::drive_state)
      nv.s_drive[g] = S::next_drive(s_old, nv.s[g], nv.s_drive[g], nv.dt, pj.tau_s, pj.decay, pj.s_jump,
                                    static_cast<int64_t>(c), weight, nv.inv_n[g]);
  }
  if (threadIdx.x == 0) {
    ctl->ticket = 0;
    ctl->step = row + 1;
  }
}

struct moment_sum_op {
  __device__ __forceinline__ moment_sums operator()(const moment_sums& a, const moment_sums& b) const { return a + b; }
};

/// One network over ranks: the gating update of step_kernel's last block,
/// from the counts and weights summed over the ranks (`global`: counts
/// [0, RP), weights [RP, 2 RP), units of S::weight_unit; for an unweighted
/// scheme the weights are the counts). One block.
template <class S>
__global__ void __launch_bounds__(k_threads) gating_kernel(net_view nv, const int64_t* global) {
  control* ctl = nv.ctl;
  for (int g = threadIdx.x; g < nv.RP; g += k_threads) {
    const gating_consts pj = nv.gc[g % nv.P];
    const int64_t weight = S::weighted ? global[nv.RP + g] : global[g];
    if constexpr (S::weighted) nv.wacc[g] = 0;
    const double s_old = nv.s[g];
    nv.s[g] = S::gating(s_old, nv.dt, pj.tau_s, pj.decay, pj.s_jump, weight, nv.inv_n[g]);
    if constexpr (S::drive_state)
      nv.s_drive[g] = S::next_drive(s_old, nv.s[g], nv.s_drive[g], nv.dt, pj.tau_s, pj.decay, pj.s_jump, global[g],
                                    weight, nv.inv_n[g]);
  }
  if (threadIdx.x == 0) ctl->step += 1;
}

/// One network over ranks: the moment sums of this rank's moment blocks
/// (k_moment_block neurons of one segment, starting at `mbegin`), one CUDA
/// block each, in a fixed order (strided per thread, then CUB's block
/// reduction): a block's sums do not depend on the rank count.
template <class S>
__global__ void __launch_bounds__(k_threads)
    block_moments_kernel(net_view nv, const int* mseg, const int64_t* mbegin, moment_sums* out) {
  using block_reduce = cub::BlockReduce<moment_sums, k_threads>;
  __shared__ typename block_reduce::TempStorage reduce_storage;
  const segment sg = nv.seg[mseg[blockIdx.x]];
  const int64_t begin = mbegin[blockIdx.x];
  const int64_t end = min(sg.n, begin + k_moment_block);
  const double* __restrict__ x = nv.x + sg.offset;
  const double* __restrict__ w = nv.w + sg.offset;
  moment_sums acc = moment_zero();
  for (int64_t n = begin + threadIdx.x; n < end; n += k_threads)
    S::accumulate(acc, x[n], w[n], sg.p.v_reset, sg.p.v_peak);
  const moment_sums total = block_reduce(reduce_storage).Reduce(acc, moment_sum_op{});
  if (threadIdx.x == 0) out[blockIdx.x] = total;
}

/// Moments after the last step of a recording interval, into
/// moments[record][replica * P + pop], the same sums as the CPU backend:
/// the scheme's accumulate() (scheme.hpp), written once for both backends.
template <class S>
__global__ void __launch_bounds__(k_threads) moments_kernel(net_view nv) {
  using block_reduce = cub::BlockReduce<moment_sums, k_threads>;
  __shared__ typename block_reduce::TempStorage reduce_storage;

  const control* ctl = nv.ctl;
  const int sid = nv.block_seg[blockIdx.x];
  const segment sg = nv.seg[sid];
  const segment_params& pc = sg.p;
  const int64_t record = ctl->step / ctl->steps_per_record - 1;
  const int64_t tile = nv.sweeps * k_sweep;
  const int64_t block_in_seg = static_cast<int64_t>(blockIdx.x) - sg.first_block;
  const int64_t begin = block_in_seg * tile;
  const int64_t end = min(sg.n, begin + tile);
  const double* __restrict__ x = nv.x + sg.offset;
  const double* __restrict__ w = nv.w + sg.offset;

  moment_sums acc = moment_zero();
  for (int64_t n = begin + threadIdx.x; n < end; n += k_threads) S::accumulate(acc, x[n], w[n], pc.v_reset, pc.v_peak);
  const moment_sums total = block_reduce(reduce_storage).Reduce(acc, moment_sum_op{});
  if (threadIdx.x == 0) {
    pop_moments* out = ctl->moments + record * nv.RP + sid;
    if (block_in_seg == 0) out->s = nv.s[sid];
    atomicAdd(&out->sum_w, total.w);
    atomicAdd(&out->sum_state, total.x_all);
    if (S::kind == scheme_kind::exact) {
      atomicAdd(&out->sum_cos, total.cos);
      atomicAdd(&out->sum_sin, total.sin);
    } else {
      atomicAdd(&out->sum_v_in, total.v_in);
      atomicAdd(&out->sum_w_in, total.w_in);
      atomicAdd(&out->n_in, total.n_in);
    }
  }
}

// ---------------------------------------------------------------------------
// host-side buffers
// ---------------------------------------------------------------------------

/// Owning device array; frees without throwing (destructors must not).
template <class T>
class device_buffer {
 public:
  device_buffer() = default;
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  ~device_buffer() { reset(); }
  void reset() {
    if (ptr_) cudaFree(ptr_);
    ptr_ = nullptr;
    size_ = 0;
  }
  /// (Re)allocate `count` elements; adds the bytes to `counter`.
  void allocate(size_t count, size_t& counter) {
    reset();
    if (count == 0) return;
    IZH_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), count * sizeof(T)));
    size_ = count;
    counter += count * sizeof(T);
  }
  /// Grow to at least `count` elements (contents are not kept).
  void reserve(size_t count, size_t& counter) {
    if (count <= size_) return;
    counter -= size_ * sizeof(T);
    allocate(count, counter);
  }
  T* get() const { return ptr_; }
  size_t size() const { return size_; }

 private:
  T* ptr_ = nullptr;
  size_t size_ = 0;
};

/// Owning page-locked host array, so that copies are truly asynchronous.
template <class T>
class pinned_buffer {
 public:
  pinned_buffer() = default;
  pinned_buffer(const pinned_buffer&) = delete;
  pinned_buffer& operator=(const pinned_buffer&) = delete;
  ~pinned_buffer() { reset(); }
  void reset() {
    if (ptr_) cudaFreeHost(ptr_);
    ptr_ = nullptr;
    size_ = 0;
  }
  void reserve(size_t count) {
    if (count <= size_) return;
    reset();
    IZH_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&ptr_), count * sizeof(T)));
    size_ = count;
  }
  T* get() const { return ptr_; }

 private:
  T* ptr_ = nullptr;
  size_t size_ = 0;
};

template <class T>
void upload(device_buffer<T>& d, const std::vector<T>& h, size_t& counter, cudaStream_t stream) {
  d.allocate(h.size(), counter);
  if (!h.empty())
    IZH_CUDA_CHECK(cudaMemcpyAsync(d.get(), h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice, stream));
}

std::string gib(double bytes) {
  std::ostringstream os;
  os.precision(3);
  os << bytes / (1024.0 * 1024.0 * 1024.0) << " GiB";
  return os.str();
}

// ---------------------------------------------------------------------------
// the backend
// ---------------------------------------------------------------------------

class cuda_backend final : public backend {
 public:
  cuda_backend() {
    IZH_CUDA_CHECK(cudaGetDevice(&device_));
    IZH_CUDA_CHECK(cudaGetDeviceProperties(&props_, device_));
    IZH_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }

  ~cuda_backend() override {
    // No throwing here: release what exists, ignore late errors.
    if (stream_) cudaStreamSynchronize(stream_);
    destroy_graphs();
    if (stream_) cudaStreamDestroy(stream_);
  }

  std::string name() const override { return "cuda"; }

  backend_capabilities capabilities() const override {
    backend_capabilities c;
    c.host_threads = 0;
    c.batch_neuron_steps = 3e12;  // a GPU is filled only by many replicas per call
    c.stops_within_call = false;
    c.distributes = true;
    return c;
  }

  /// One network over the ranks of `comm` (the file comment; docs/mpi.md).
  void distribute(communicator* comm) override { comm_ = comm != nullptr && comm->size() > 1 ? comm : nullptr; }

  std::string device() const override {
    std::ostringstream os;
    os << props_.name << " (sm_" << props_.major << props_.minor << ", " << props_.multiProcessorCount << " SMs, "
       << gib(static_cast<double>(props_.totalGlobalMem)) << ")";
    return os.str();
  }

  void setup(const model_spec& spec, const std::vector<replica_spec>& replicas) override {
    cudaStreamSynchronize(stream_);
    destroy_graphs();
    ready_ = false;
    // Over ranks: this rank's slice of every population, cut on moment blocks.
    const partition_spec part =
        comm_ ? partition_spec::ranks_of(comm_->rank(), comm_->size(), k_moment_block) : partition_spec{};
    layout_ = network_layout::build(spec, replicas, k_align, part);
    spec_ = spec;
    replicas_ = replicas;
    const network_layout& L = layout_;
    P_ = L.P;
    R_ = L.R;
    segments_ = L.RP();
    spr_ = L.record_every;

    // Segments, replica-major so that segment id == replica * P + pop.
    std::vector<segment> segs;
    for (size_t si = 0; si < L.segments.size(); ++si) {
      const layout_segment& g = L.segments[si];
      segs.push_back(segment{g.offset, g.count, g.first, g.n, 0, L.params[si], g.replica, g.pop});
    }
    const int64_t padded = L.extent, total = L.owned;
    // Enough blocks for ~32 per SM (several waves, good balance), each block
    // looping over `sweeps` of k_sweep neurons; at least one block per segment.
    const int64_t target_blocks = static_cast<int64_t>(props_.multiProcessorCount) * 32;
    sweeps_ = std::max<int64_t>(1, (total + k_sweep * target_blocks - 1) / (k_sweep * target_blocks));
    const int64_t tile = sweeps_ * k_sweep;
    int64_t blocks = 0;
    for (auto& sg : segs) {
      sg.first_block = blocks;
      blocks += std::max<int64_t>(1, (sg.n + tile - 1) / tile);
    }
    if (blocks > 0x7fffffff)
      throw device_error("izhinet cuda: network too large for one grid (" + std::to_string(blocks) + " blocks)");
    blocks_ = static_cast<int>(blocks);
    std::vector<int> block_seg(blocks_);
    for (int g = 0; g < segments_; ++g)
      std::fill(block_seg.begin() + segs[g].first_block,
                block_seg.begin() + segs[g].first_block + std::max<int64_t>(1, (segs[g].n + tile - 1) / tile), g);

    std::vector<gating_consts> gc(P_);
    for (int j = 0; j < P_; ++j) gc[j] = gating_consts{L.tau_s[j], L.decay[j], L.s_jump[j]};

    // Refuse politely before cudaMalloc fails half-way (old arrays freed first).
    d_x_.reset();
    d_w_.reset();
    d_eta_.reset();
    const size_t state_bytes = static_cast<size_t>(padded) * 3 * sizeof(double);
    size_t free_bytes = 0, total_bytes = 0;
    IZH_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    if (state_bytes + (64u << 20) > free_bytes)
      throw memory_error("network.n", std::to_string(total) + " neurons (all replicas) on the CUDA backend",
                         static_cast<double>(state_bytes + (64u << 20)), static_cast<double>(free_bytes),
                         std::string("the free memory of ") + props_.name);

    device_bytes_ = 0;
    d_x_.allocate(padded, device_bytes_);
    d_w_.allocate(padded, device_bytes_);
    d_eta_.allocate(padded, device_bytes_);
    if (padded > 0) {  // over ranks a rank may hold no neuron at all
      IZH_CUDA_CHECK(cudaMemsetAsync(d_x_.get(), 0, padded * sizeof(double), stream_));
      IZH_CUDA_CHECK(cudaMemsetAsync(d_w_.get(), 0, padded * sizeof(double), stream_));
      IZH_CUDA_CHECK(cudaMemsetAsync(d_eta_.get(), 0, padded * sizeof(double), stream_));
    }
    upload(d_seg_, segs, device_bytes_, stream_);
    upload(d_block_seg_, block_seg, device_bytes_, stream_);
    upload(d_kg_, L.kg, device_bytes_, stream_);
    upload(d_e_r_, L.e_r, device_bytes_, stream_);
    upload(d_gc_, gc, device_bytes_, stream_);
    upload(d_inv_n_, L.inv_n, device_bytes_, stream_);
    d_s_.allocate(2 * static_cast<size_t>(segments_), device_bytes_);  // s, then the next step's drive value (s_drive)
    IZH_CUDA_CHECK(cudaMemsetAsync(d_s_.get(), 0, 2 * static_cast<size_t>(segments_) * sizeof(double), stream_));
    d_wacc_.allocate(segments_, device_bytes_);
    IZH_CUDA_CHECK(cudaMemsetAsync(d_wacc_.get(), 0, segments_ * sizeof(unsigned long long), stream_));
    d_ctl_.allocate(1, device_bytes_);
    IZH_CUDA_CHECK(cudaMemsetAsync(d_ctl_.get(), 0, sizeof(control), stream_));
    spike_cap_ = L.spike_neurons > 0 ? static_cast<size_t>(std::max<int64_t>(spec.run.max_spikes, 0)) : 0;
    d_spikes_.allocate(spike_cap_, device_bytes_);
    h_ctl_.reserve(1);
    // Output buffers grow with the chunk size, in advance(); drop old ones.
    d_input_.reset();
    d_step_spikes_.reset();
    d_moments_.reset();

    seg_host_ = segs;
    view_ = net_view{d_x_.get(),   d_w_.get(),   d_eta_.get(), d_seg_.get(),   d_block_seg_.get(),
                     d_kg_.get(),  d_e_r_.get(), d_gc_.get(),  d_inv_n_.get(), d_s_.get(),
                     d_ctl_.get(), P_,           segments_,    sweeps_,        L.spike_neurons,
                     L.dt,         nullptr,      nullptr};
    view_.s_drive = d_s_.get() + segments_;
    view_.wacc = d_wacc_.get();

    // eta is computed on the host by the CPU backend's own function and
    // uploaded in chunks: bit-identical on both backends (device tan() may
    // differ by an ulp, hundreds of ulp of eta in the Lorentzian's tails).
    {
      IZH_CUDA_CHECK(cudaStreamSynchronize(stream_));
      const int64_t chunk = int64_t(1) << 22;
      pinned_buffer<double> h_eta;
      h_eta.reserve(static_cast<size_t>(chunk));
      for (size_t si = 0; si < segs.size(); ++si) {
        const segment& sg = segs[si];
        for (int64_t b = 0; b < sg.n; b += chunk) {
          const int64_t c = std::min(chunk, sg.n - b);
          L.fill_eta(si, b, c, h_eta.get());
          IZH_CUDA_CHECK(cudaMemcpy(d_eta_.get() + sg.offset + b, h_eta.get(), static_cast<size_t>(c) * sizeof(double),
                                    cudaMemcpyHostToDevice));
        }
      }
    }
    if (comm_)
      setup_distributed();
    else
      build_graphs();
    IZH_CUDA_CHECK(cudaStreamSynchronize(stream_));
    ready_ = true;
    spdlog::info(
        "cuda backend on {}: {} replicas x {} populations, {} neurons, {} blocks x {} threads, "
        "{} sweeps/block, {} steps per graph; device memory {}",
        props_.name, R_, P_, total, blocks_, k_threads, sweeps_, graph_steps_, gib(static_cast<double>(device_bytes_)));
  }

  void advance(int records, int64_t first_step, const std::vector<double>& input, chunk_result& out,
               const std::atomic<bool>* /*stop*/) override {
    if (!ready_) throw internal_error("cuda backend: advance() before a successful setup()");
    if (records < 0) throw internal_error("cuda backend: advance() with records = " + std::to_string(records));
    const int64_t steps = static_cast<int64_t>(records) * spr_;
    if (static_cast<int64_t>(input.size()) < steps * P_)  // longer is fine (as the CPU backend)
      throw internal_error("cuda backend: advance() input has " + std::to_string(input.size()) +
                           " values, needs steps * P = " + std::to_string(steps * P_));
    out.records = records;
    out.steps_per_record = spr_;
    out.step_spikes.assign(static_cast<size_t>(steps) * segments_, 0u);
    out.moments.assign(static_cast<size_t>(records) * segments_, pop_moments{});
    out.spikes.clear();  // as the CPU backend: the spikes of this chunk only
    if (records == 0) return;

    // Chunk buffers grow on demand (their addresses reach the kernels through
    // `control`, so the graphs stay valid).
    d_input_.reserve(steps * P_, device_bytes_);
    d_step_spikes_.reserve(steps * segments_, device_bytes_);
    d_moments_.reserve(static_cast<size_t>(records) * segments_, device_bytes_);
    h_input_.reserve(steps * P_);
    h_step_spikes_.reserve(steps * segments_);
    h_moments_.reserve(static_cast<size_t>(records) * segments_);

    std::memcpy(h_input_.get(), input.data(), steps * P_ * sizeof(double));
    control& c = *h_ctl_.get();
    c = control{};
    c.step = 0;
    c.first_step = first_step;
    c.steps_per_record = spr_;
    c.spike_cap = spike_cap_;
    c.input = d_input_.get();
    c.step_spikes = d_step_spikes_.get();
    c.moments = d_moments_.get();
    c.spikes = d_spikes_.get();
    IZH_CUDA_CHECK(
        cudaMemcpyAsync(d_input_.get(), h_input_.get(), steps * P_ * sizeof(double), cudaMemcpyHostToDevice, stream_));
    IZH_CUDA_CHECK(cudaMemcpyAsync(d_ctl_.get(), &c, sizeof(control), cudaMemcpyHostToDevice, stream_));
    IZH_CUDA_CHECK(cudaMemsetAsync(d_step_spikes_.get(), 0, steps * segments_ * sizeof(unsigned int), stream_));
    IZH_CUDA_CHECK(
        cudaMemsetAsync(d_moments_.get(), 0, static_cast<size_t>(records) * segments_ * sizeof(pop_moments), stream_));

    if (comm_) {
      // One network over ranks: a host round trip per step; out.step_spikes
      // and out.moments are filled with the sums over the ranks.
      with_scheme(layout_.scheme, [&](auto scheme) { advance_distributed<decltype(scheme)>(steps, out); });
    } else {
      for (int rec = 0; rec < records; ++rec) {
        for (int64_t q = 0; q < spr_ / graph_steps_; ++q) IZH_CUDA_CHECK(cudaGraphLaunch(steps_graph_, stream_));
        if (moments_graph_) IZH_CUDA_CHECK(cudaGraphLaunch(moments_graph_, stream_));
      }
    }

    if (!comm_) {
      IZH_CUDA_CHECK(cudaMemcpyAsync(h_step_spikes_.get(), d_step_spikes_.get(),
                                     steps * segments_ * sizeof(unsigned int), cudaMemcpyDeviceToHost, stream_));
      IZH_CUDA_CHECK(cudaMemcpyAsync(h_moments_.get(), d_moments_.get(),
                                     static_cast<size_t>(records) * segments_ * sizeof(pop_moments),
                                     cudaMemcpyDeviceToHost, stream_));
    }
    IZH_CUDA_CHECK(cudaMemcpyAsync(&c, d_ctl_.get(), sizeof(control), cudaMemcpyDeviceToHost, stream_));
    IZH_CUDA_CHECK(cudaStreamSynchronize(stream_));
    if (c.step != steps)
      throw internal_error("cuda backend: the device ran " + std::to_string(c.step) + " steps, expected " +
                           std::to_string(steps));

    if (!comm_) {
      std::copy(h_step_spikes_.get(), h_step_spikes_.get() + steps * segments_, out.step_spikes.begin());
      std::copy(h_moments_.get(), h_moments_.get() + static_cast<size_t>(records) * segments_, out.moments.begin());
    }

    if (c.n_spikes > 0 && spike_cap_ > 0) {
      // Second (rare) synchronisation: only the events that exist cross.
      const size_t n = static_cast<size_t>(std::min<unsigned long long>(c.n_spikes, spike_cap_));
      h_spikes_.reserve(n);
      IZH_CUDA_CHECK(
          cudaMemcpyAsync(h_spikes_.get(), d_spikes_.get(), n * sizeof(spike_event), cudaMemcpyDeviceToHost, stream_));
      IZH_CUDA_CHECK(cudaStreamSynchronize(stream_));
      out.spikes.assign(h_spikes_.get(), h_spikes_.get() + n);
      // Atomics append in any order; give the CPU backend's order.
      std::sort(out.spikes.begin(), out.spikes.end(), [](const spike_event& a, const spike_event& b) {
        return std::tie(a.step, a.replica, a.population, a.neuron) <
               std::tie(b.step, b.replica, b.population, b.neuron);
      });
      if (c.n_spikes > spike_cap_)
        spdlog::warn(
            "cuda backend: {} recorded spikes in this chunk, kept {} (run.max_spikes); which ones were "
            "kept is not defined",
            c.n_spikes, spike_cap_);
    }
  }

  void get_eta(int replica, std::vector<double>& eta) override { copy_replica(replica, d_eta_, eta); }

  void get_state(int replica, std::vector<double>& x, std::vector<double>& w) override {
    copy_replica(replica, d_x_, x);
    copy_replica(replica, d_w_, w);
  }

  std::vector<double> get_s(int replica) override {
    check_replica(replica);
    std::vector<double> s(P_);
    IZH_CUDA_CHECK(cudaMemcpyAsync(s.data(), d_s_.get() + static_cast<size_t>(replica) * P_, P_ * sizeof(double),
                                   cudaMemcpyDeviceToHost, stream_));
    IZH_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return s;
  }

  // Device arrays are padded per segment; the global order has no padding.
  void get_state(backend_state& out) override {
    check_replica(0);
    out = state_layout(spec_);
    for (auto& a : out.arrays) {
      if (a.name == "s" || a.name == "s_drive") {  // d_s_ holds s, then the next step's drive value
        a.values.resize(segments_);
        IZH_CUDA_CHECK(cudaMemcpyAsync(a.values.data(), d_s_.get() + (a.name == "s" ? 0 : segments_),
                                       segments_ * sizeof(double), cudaMemcpyDeviceToHost, stream_));
        continue;
      }
      const device_buffer<double>& d = a.name == "w" ? d_w_ : d_x_;
      // This rank's slice over ranks (as the CPU backend), the whole network otherwise.
      a.values.resize(static_cast<size_t>(comm_ ? layout_.owned : state_length(a.per, spec_, replicas_)));
      int64_t at = 0;
      for (const segment& sg : seg_host_) {
        if (sg.n == 0) continue;  // a rank's empty slice (no device array behind it)
        IZH_CUDA_CHECK(cudaMemcpyAsync(a.values.data() + at, d.get() + sg.offset, sg.n * sizeof(double),
                                       cudaMemcpyDeviceToHost, stream_));
        at += sg.n;
      }
    }
    IZH_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  // Over ranks `in` holds the whole network or this rank's slices (state_part cuts and checks).
  void set_state(const backend_state& in) override {
    check_replica(0);
    const std::vector<population_slice> h = held();
    const backend_state part = h.empty() ? backend_state{} : state_part(in, spec_, replicas_, h);
    if (h.empty()) check_state(in, spec_, replicas_);
    const backend_state& use = h.empty() ? in : part;
    IZH_CUDA_CHECK(cudaStreamSynchronize(stream_));
    IZH_CUDA_CHECK(
        cudaMemcpy(d_s_.get(), use.find("s")->values.data(), segments_ * sizeof(double), cudaMemcpyHostToDevice));
    if (const state_array* sp = use.find("s_drive"))
      IZH_CUDA_CHECK(
          cudaMemcpy(d_s_.get() + segments_, sp->values.data(), segments_ * sizeof(double), cudaMemcpyHostToDevice));
    for (const char* name : {state_x_name(spec_), "w"}) {
      const std::vector<double>& vals = use.find(name)->values;
      const device_buffer<double>& d = std::string(name) == "w" ? d_w_ : d_x_;
      int64_t at = 0;
      for (const segment& sg : seg_host_) {
        if (sg.n == 0) continue;  // a rank's empty slice
        IZH_CUDA_CHECK(
            cudaMemcpy(d.get() + sg.offset, vals.data() + at, sg.n * sizeof(double), cudaMemcpyHostToDevice));
        at += sg.n;
      }
    }
  }

  std::vector<population_slice> held() const override {
    std::vector<population_slice> h;
    if (comm_)
      for (const layout_segment& g : layout_.segments) h.push_back({g.first, g.count});
    return h;
  }

 private:
  void check_replica(int replica) const {
    if (!ready_) throw internal_error("cuda backend: state requested before setup()");
    if (replica < 0 || replica >= R_)
      throw internal_error("cuda backend: replica " + std::to_string(replica) + " out of range [0, " +
                           std::to_string(R_) + ")");
  }

  /// Populations of one replica, concatenated in population order.
  void copy_replica(int replica, const device_buffer<double>& d, std::vector<double>& h) {
    check_replica(replica);
    int64_t n = 0;
    for (int i = 0; i < P_; ++i) n += seg_host_[replica * P_ + i].n;
    h.resize(n);
    int64_t at = 0;
    for (int i = 0; i < P_; ++i) {
      const segment& sg = seg_host_[replica * P_ + i];
      if (sg.n == 0) continue;  // a rank's empty slice
      IZH_CUDA_CHECK(
          cudaMemcpyAsync(h.data() + at, d.get() + sg.offset, sg.n * sizeof(double), cudaMemcpyDeviceToHost, stream_));
      at += sg.n;
    }
    IZH_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  /// One network over ranks: this rank's moment blocks (numbered over the
  /// whole network, as the CPU backend's), their device arrays, and the
  /// pinned buffers of the per-step exchange.
  void setup_distributed() {
    const network_layout& L = layout_;
    std::vector<int> mseg;
    std::vector<int64_t> mbegin;
    mblock_id_.clear();
    global_block_seg_.clear();
    for (size_t si = 0; si < L.segments.size(); ++si) {
      const layout_segment& g = L.segments[si];
      if (g.first % k_moment_block != 0)
        throw internal_error("cuda backend: a rank's slice does not start on a moment block");
      const size_t block0 = global_block_seg_.size() + static_cast<size_t>(g.first / k_moment_block);
      for (int64_t b = 0; b < g.count; b += k_moment_block) {
        mseg.push_back(static_cast<int>(si));
        mbegin.push_back(b);
        mblock_id_.push_back(block0 + static_cast<size_t>(b / k_moment_block));
      }
      global_block_seg_.resize(
          global_block_seg_.size() + static_cast<size_t>((g.n + k_moment_block - 1) / k_moment_block), si);
    }
    if (mseg.size() > 0x7fffffff) throw device_error("izhinet cuda: too many moment blocks for one grid");
    upload(d_mseg_, mseg, device_bytes_, stream_);
    upload(d_mbegin_, mbegin, device_bytes_, stream_);
    d_mpartial_.allocate(mseg.size(), device_bytes_);
    d_global_.allocate(2 * static_cast<size_t>(segments_), device_bytes_);
    h_mpartial_.reserve(mseg.size());
    h_counts_.reserve(segments_);
    h_wacc_.reserve(segments_);
    h_global_.reserve(2 * static_cast<size_t>(segments_));
    h_s_.reserve(segments_);
    partial_.assign(global_block_seg_.size(), moment_zero());
  }

  /// `steps` steps over ranks (the file comment): per step, the kernel, the
  /// counts (and weights) to the host, their sum over the ranks, back to the
  /// device, the gating update; at recording times the moment blocks.
  template <class S>
  void advance_distributed(int64_t steps, chunk_result& out) {
    const size_t RP = static_cast<size_t>(segments_);
    int64_t* global = h_global_.get();
    for (int64_t m = 0; m < steps; ++m) {
      step_kernel<S, true><<<blocks_, k_threads, 0, stream_>>>(view_);
      IZH_CUDA_CHECK_LAUNCH("step_kernel (over ranks)", stream_);
      IZH_CUDA_CHECK(cudaMemcpyAsync(h_counts_.get(), d_step_spikes_.get() + m * RP, RP * sizeof(unsigned int),
                                     cudaMemcpyDeviceToHost, stream_));
      if (S::weighted)
        IZH_CUDA_CHECK(cudaMemcpyAsync(h_wacc_.get(), d_wacc_.get(), RP * sizeof(unsigned long long),
                                       cudaMemcpyDeviceToHost, stream_));
      IZH_CUDA_CHECK(cudaStreamSynchronize(stream_));
      for (size_t g = 0; g < RP; ++g) {
        global[g] = h_counts_.get()[g];
        global[RP + g] = S::weighted ? static_cast<int64_t>(h_wacc_.get()[g]) : global[g];
      }
      comm_->sum(global, 2 * RP);  // integers: exact, the same on every rank
      for (size_t g = 0; g < RP; ++g)
        out.step_spikes[static_cast<size_t>(m) * RP + g] = static_cast<uint32_t>(global[g]);
      IZH_CUDA_CHECK(
          cudaMemcpyAsync(d_global_.get(), global, 2 * RP * sizeof(int64_t), cudaMemcpyHostToDevice, stream_));
      gating_kernel<S><<<1, k_threads, 0, stream_>>>(view_, d_global_.get());
      IZH_CUDA_CHECK_LAUNCH("gating_kernel", stream_);
      if ((m + 1) % spr_ == 0) record_moments<S>(static_cast<size_t>((m + 1) / spr_ - 1), out);
    }
  }

  /// The moments of record `rec` over ranks: this rank's block sums, summed
  /// over the ranks (each block lies on one rank, the others add zeros:
  /// exact), added in global block order; s after the record's last step.
  template <class S>
  void record_moments(size_t rec, chunk_result& out) {
    static_assert(sizeof(moment_sums) == 7 * sizeof(double), "moment_sums is summed as doubles");
    const size_t RP = static_cast<size_t>(segments_);
    const size_t nm = mblock_id_.size();
    if (nm > 0) {
      block_moments_kernel<S><<<static_cast<unsigned int>(nm), k_threads, 0, stream_>>>(
          view_, d_mseg_.get(), d_mbegin_.get(), d_mpartial_.get());
      IZH_CUDA_CHECK_LAUNCH("block_moments_kernel", stream_);
      IZH_CUDA_CHECK(cudaMemcpyAsync(h_mpartial_.get(), d_mpartial_.get(), nm * sizeof(moment_sums),
                                     cudaMemcpyDeviceToHost, stream_));
    }
    IZH_CUDA_CHECK(cudaMemcpyAsync(h_s_.get(), d_s_.get(), RP * sizeof(double), cudaMemcpyDeviceToHost, stream_));
    IZH_CUDA_CHECK(cudaStreamSynchronize(stream_));
    std::fill(partial_.begin(), partial_.end(), moment_zero());
    for (size_t b = 0; b < nm; ++b) partial_[mblock_id_[b]] = h_mpartial_.get()[b];
    comm_->sum(reinterpret_cast<double*>(partial_.data()), 7 * partial_.size());
    std::vector<moment_sums> acc(RP, moment_zero());
    for (size_t bi = 0; bi < global_block_seg_.size(); ++bi)
      acc[global_block_seg_[bi]] = acc[global_block_seg_[bi]] + partial_[bi];
    for (size_t idx = 0; idx < RP; ++idx) out.moments[rec * RP + idx] = to_pop_moments(acc[idx], h_s_.get()[idx]);
  }

  void launch_step() {
    with_scheme(layout_.scheme,
                [&](auto scheme) { step_kernel<decltype(scheme)><<<blocks_, k_threads, 0, stream_>>>(view_); });
    IZH_CUDA_CHECK_LAUNCH("step_kernel", stream_);
  }

  void launch_moments() {
    with_scheme(layout_.scheme,
                [&](auto scheme) { moments_kernel<decltype(scheme)><<<blocks_, k_threads, 0, stream_>>>(view_); });
    IZH_CUDA_CHECK_LAUNCH("moments_kernel", stream_);
  }

  /// Capture `fn`'s launches on the stream into an executable graph.
  template <class F>
  cudaGraphExec_t capture(F fn) {
    IZH_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    try {
      fn();
    } catch (...) {
      cudaGraph_t broken = nullptr;
      cudaStreamEndCapture(stream_, &broken);  // leave the stream usable
      if (broken) cudaGraphDestroy(broken);
      throw;
    }
    cudaGraph_t graph = nullptr;
    IZH_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    cudaGraphExec_t exec = nullptr;
    const cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    IZH_CUDA_CHECK(err);
    return exec;
  }

  /// One graph of `graph_steps_` steps (the largest divisor of record_every
  /// up to k_max_graph_steps), ending with the moments reduction when it holds
  /// a whole recording interval; otherwise a second one-kernel graph for it.
  void build_graphs() {
    graph_steps_ = 1;
    for (int64_t d = std::min<int64_t>(spr_, k_max_graph_steps); d >= 1; --d)
      if (spr_ % d == 0) {
        graph_steps_ = d;
        break;
      }
    const bool whole = graph_steps_ == spr_;
    steps_graph_ = capture([&] {
      for (int64_t l = 0; l < graph_steps_; ++l) launch_step();
      if (whole) launch_moments();
    });
    if (!whole) moments_graph_ = capture([&] { launch_moments(); });
  }

  void destroy_graphs() {
    if (steps_graph_) cudaGraphExecDestroy(steps_graph_);
    if (moments_graph_) cudaGraphExecDestroy(moments_graph_);
    steps_graph_ = nullptr;
    moments_graph_ = nullptr;
  }

  int device_ = 0;
  cudaDeviceProp props_{};
  cudaStream_t stream_ = nullptr;
  cudaGraphExec_t steps_graph_ = nullptr;
  cudaGraphExec_t moments_graph_ = nullptr;
  int64_t graph_steps_ = 1;

  network_layout layout_;
  model_spec spec_;
  std::vector<replica_spec> replicas_;
  bool ready_ = false;
  int P_ = 0, R_ = 0, segments_ = 0, blocks_ = 0;
  int64_t spr_ = 1, sweeps_ = 1;
  size_t spike_cap_ = 0;
  std::vector<segment> seg_host_;
  net_view view_{};
  size_t device_bytes_ = 0;

  device_buffer<double> d_x_, d_w_, d_eta_, d_kg_, d_e_r_, d_inv_n_, d_s_, d_input_;
  device_buffer<segment> d_seg_;
  device_buffer<int> d_block_seg_;
  device_buffer<gating_consts> d_gc_;
  device_buffer<control> d_ctl_;
  device_buffer<spike_event> d_spikes_;
  device_buffer<unsigned int> d_step_spikes_;
  device_buffer<pop_moments> d_moments_;
  device_buffer<unsigned long long> d_wacc_;
  pinned_buffer<control> h_ctl_;
  pinned_buffer<double> h_input_;
  pinned_buffer<unsigned int> h_step_spikes_;
  pinned_buffer<pop_moments> h_moments_;
  pinned_buffer<spike_event> h_spikes_;

  // One network over ranks (distribute(); null otherwise).
  communicator* comm_ = nullptr;
  device_buffer<int> d_mseg_;              ///< segment of each of this rank's moment blocks
  device_buffer<int64_t> d_mbegin_;        ///< its first neuron within the segment's slice
  device_buffer<moment_sums> d_mpartial_;  ///< its sums at a recording time
  device_buffer<int64_t> d_global_;        ///< this step's counts and weights summed over the ranks
  pinned_buffer<moment_sums> h_mpartial_;
  pinned_buffer<unsigned int> h_counts_;
  pinned_buffer<unsigned long long> h_wacc_;
  pinned_buffer<int64_t> h_global_;
  pinned_buffer<double> h_s_;
  std::vector<size_t> mblock_id_;         ///< global block index of each of this rank's moment blocks
  std::vector<size_t> global_block_seg_;  ///< segment of every global moment block (all ranks)
  std::vector<moment_sums> partial_;      ///< per global moment block
};

}  // namespace

namespace {
/// Under MPI (several ranks) the device of this rank: its index among the
/// ranks of its node modulo the `count` devices it sees (docs/mpi.md, "GPU
/// ranks"); -1 in one process (CUDA's current device, 0 unless changed).
int rank_device(int count) {
  const communicator& w = world();
  return w.size() > 1 && count > 0 ? w.local_rank() % count : -1;
}
}  // namespace

bool cuda_available(std::string* why) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    if (why) *why = std::string("no usable CUDA device: cudaGetDeviceCount: ") + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return false;
  }
  if (count == 0) {
    if (why) *why = "no CUDA device found";
    return false;
  }
  // Select this rank's device before anything creates a context (a context
  // on device 0 for every rank would take memory there from each of them).
  if (const int dev = rank_device(count); dev >= 0) {
    err = cudaSetDevice(dev);
    if (err != cudaSuccess) {
      cudaGetLastError();
      if (why) *why = "cudaSetDevice(" + std::to_string(dev) + ") for this MPI rank: " + cudaGetErrorString(err);
      return false;
    }
  }
  // The kernels are built for CMAKE_CUDA_ARCHITECTURES only; a device they
  // cannot run on is "not available", not a crash at the first launch.
  cudaFuncAttributes attr{};
  err = cudaFuncGetAttributes(&attr, step_kernel<paper_scheme>);
  if (err != cudaSuccess) {
    cudaGetLastError();
    int dev = 0;
    cudaDeviceProp p{};
    std::string name = "device 0";
    if (cudaGetDevice(&dev) == cudaSuccess && cudaGetDeviceProperties(&p, dev) == cudaSuccess)
      name = std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) + ")";
    if (why)
      *why = "the CUDA kernels cannot run on " + name + ": " + cudaGetErrorString(err) +
             " (rebuild with -DCMAKE_CUDA_ARCHITECTURES matching the device)";
    return false;
  }
  if (why) why->clear();
  return true;
}

std::unique_ptr<backend> make_cuda_backend() {
  std::string why;
  if (!cuda_available(&why)) throw device_error("--backend cuda: " + why);
  // Under MPI each rank takes the device of its rank on the node, modulo the
  // devices it sees (docs/mpi.md: one GPU per rank; with
  // CUDA_VISIBLE_DEVICES set to one device per rank, that device).
  int count = 0;
  IZH_CUDA_CHECK(cudaGetDeviceCount(&count));
  if (const int dev = rank_device(count); dev >= 0) {
    const communicator& w = world();
    IZH_CUDA_CHECK(cudaSetDevice(dev));  // cuda_available() did; again in case a caller changed it since
    static int logged = -1;
    if (logged != dev) {
      logged = dev;
      cudaDeviceProp p{};
      IZH_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
      spdlog::info("MPI rank {} (rank {} on its node): CUDA device {} of {} ({})", w.rank(), w.local_rank(), dev, count,
                   p.name);
    }
  }
  return std::make_unique<cuda_backend>();
}

}  // namespace izhinet
