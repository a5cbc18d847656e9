#pragma once
/// \file series_analysis.hpp
/// Analysis of recorded population series, the same for the network and the
/// mean field: a bounded recorder (`block_series`), and the window analysis
/// (regime, period, envelope) whose thresholds are in validation_criteria.hpp.
///
/// Window analysis of the series x_c(t) (channel c = 4 i + v for population
/// i and variable v in r, v, w, s) over a window [t_from, t_to]:
/// 1. every channel is smoothed by a centred moving average of width
///    max(criteria::smooth_width, block width) (shorter at the window's edges);
/// 2. the rhythm channel of population i is w_i (s_i without adaptation); its
///    relative amplitude is A_i = (max - min)/max(|mean|, std) of the smoothed
///    series over the window's second half (a transient that has died out is
///    not a rhythm); A = max_i A_i. A < criteria::amp_equilibrium: equilibrium;
/// 3. otherwise the rhythm channels, each relative to its own scale
///    (z_i = (x_i - mean_i)/max(|mean_i|, std_i)), give one autocorrelation
///    \f[ C(L) = \frac{\sum_i \mathrm{cov}(z_i[0, n-L), z_i[L, n))}
///       {\sqrt{\sum_i \mathrm{var}\, z_i[0, n-L) \sum_i \mathrm{var}\, z_i[L, n)}} \f]
///    (Pearson over the overlap, so |C| <= 1 and peaks at T, 2T, ... are of
///    similar height) for lags L <= criteria::max_lag_fraction n. The peaks
///    after C first drops below 0 that reach criteria::acf_min are the repeat
///    candidates; the period is the smallest lag whose peak is at least
///    criteria::acf_near_max times the highest (refined by a parabola through
///    three lags): a multiple 2T is as high as T, not higher, and the sub-peaks
///    of a multi-peaked burst are lower, so neither is taken;
/// 4. no repeat: inconclusive (a period longer than the lags searched, or a
///    slow transient); fewer than criteria::min_periods periods in the window:
///    inconclusive, with the t_end that would hold enough; the peak-to-peak of
///    the rhythm in the window's second half over its first half outside
///    [criteria::settle_ratio, 1/criteria::settle_ratio]: inconclusive (still
///    growing or decaying); otherwise oscillation with that period;
/// 5. statistics per channel: mean (for an oscillation over the last whole
///    number of periods, so that a partial period does not bias it), and min
///    and max of the smoothed series over the whole window.
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace izhinet {

/// Index of the variables in the per-population arrays.
enum variable_index : int { var_r = 0, var_v = 1, var_w = 2, var_s = 3 };
constexpr const char* variable_names[4] = {"r", "v", "w", "s"};

/// Mean, min and max of one variable over a window (NaN when not available).
struct variable_stats {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};

/// A uniformly sampled series of `channels` values per sample (sample n at
/// t_first + n dt), kept as averages over blocks of `first_block_length` x 2^j
/// consecutive samples: when `max_blocks` blocks are full, neighbouring blocks
/// are merged and the block length doubles. Memory grows with the blocks in
/// use and is bounded by max_blocks x channels x 12 bytes whatever the number
/// of samples; non-finite values are left out of the averages.
class block_series {
 public:
  block_series(int channels, double t_first, double dt, int64_t max_blocks, int64_t first_block_length = 1);
  /// Appends one sample (`channels` values).
  void add(const double* x);
  int channels() const { return C_; }
  /// Complete blocks (a partly filled last block is not counted).
  int64_t size() const { return blocks_; }
  int64_t samples() const { return n_; }
  /// Samples per block.
  int64_t block_length() const { return per_block_; }
  /// Block length in time units.
  double block_width() const { return dt_ * static_cast<double>(per_block_); }
  /// Time of the first sample of block b.
  double block_start(int64_t b) const;
  /// Time of the last sample of block b.
  double block_end(int64_t b) const;
  /// Average of channel c over block b (NaN when the block has no finite value).
  double value(int64_t b, int c) const;

 private:
  int C_;
  double t0_, dt_;
  int64_t max_, per_block_ = 1, n_ = 0, blocks_ = 0, in_partial_ = 0;
  std::vector<double> sum_;    ///< (max_ + 1) x C: complete blocks, then the partial one
  std::vector<uint32_t> cnt_;  ///< finite samples per block and channel
};

/// A window of a multi-channel series on a uniform grid: ch[c][k] at t0 + k h.
struct uniform_window {
  double t0 = 0, h = 1;
  std::vector<std::vector<double>> ch;
  int64_t samples() const { return ch.empty() ? 0 : static_cast<int64_t>(ch[0].size()); }
};

/// The blocks of `s` that lie wholly in (t_from, t_to] (t_to < 0: to the end).
uniform_window extract_window(const block_series& s, double t_from, double t_to = -1);

/// What the window analysis says about one side (network or a mean-field trajectory).
struct window_analysis {
  std::string regime = "inconclusive";                       ///< "equilibrium", "oscillation" or "inconclusive"
  std::string reason;                                        ///< for inconclusive: why, and what to do
  double t_from = 0, t_to = 0;                               ///< the window analysed
  int64_t samples = 0;                                       ///< points in it (blocks)
  double resolution = 0;                                     ///< spacing of the points (time units)
  double smoothing = 0;                                      ///< width of the moving average (time units)
  double period = std::numeric_limits<double>::quiet_NaN();  ///< dominant period when one was found
  double periods_in_window = std::numeric_limits<double>::quiet_NaN();
  double acf_peak = std::numeric_limits<double>::quiet_NaN();  ///< C at the period, in [-1, 1]
  double amplitude = 0;                                        ///< A: largest relative peak-to-peak of a rhythm channel
  double settle_ratio = std::numeric_limits<double>::quiet_NaN();  ///< second-half / first-half peak-to-peak
  double t_end_needed = std::numeric_limits<double>::quiet_NaN();  ///< suggested t_end when too short
  std::vector<std::array<variable_stats, 4>> pops;                 ///< per population: r, v, w, s
  std::vector<double> rel_amplitude;                               ///< per population: A_i of its rhythm channel
};

/// Which variable carries the rhythm of each population: var_w, or var_s
/// where `has_adaptation[i]` is false.
std::vector<int> rhythm_variables(const std::vector<bool>& has_adaptation);

/// The analysis of `w` (channels 4 i + v, P = channels/4 populations) defined
/// in the file comment. `period_hint` (a mean-field period, NaN if none) only
/// sharpens the advice given when the window shows no repeat; `t_start` is
/// where the analysed stretch began (the transient), for the suggested t_end.
window_analysis analyse_window(const uniform_window& w, const std::vector<int>& rhythm_var, double t_start,
                               double period_hint = std::numeric_limits<double>::quiet_NaN());

/// x rounded up to two significant digits (980.6 -> 990, 65682 -> 66000).
double round_up_2(double x);
/// A number for a log line: 4 significant digits, whole numbers from 1e4 up.
std::string short_number(double x);

/// Centred moving average of width `half` points either side (shorter at the edges).
std::vector<double> moving_average(const std::vector<double>& x, int64_t half);

/// Pearson autocorrelation over the overlap (defined in the file comment) of
/// the channels `z` together, for lags 0..max_lag (by FFT: O(n log n)).
std::vector<double> joint_autocorrelation(const std::vector<std::vector<double>>& z, int64_t max_lag);

}  // namespace izhinet
