/// \file validator.cpp
/// The validator's thread: mean fields integrated in chunks in step with the
/// network's rows, running and matched metrics, bounded recorders; finish()
/// hands the analysis to series_analysis / attractors / validation_compare and
/// the files to validation_output (see validator.hpp).
#include "izhinet/validator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

#include "izhinet/errors.hpp"
#include "izhinet/io.hpp"
#include "izhinet/json.hpp"
#include "izhinet/series_analysis.hpp"
#include "izhinet/meanfield.hpp"
#include "izhinet/numerical_checks.hpp"
#include "izhinet/output.hpp"
#include "izhinet/validation_criteria.hpp"
#include "izhinet/validation_output.hpp"

namespace izhinet {

namespace {
/// True when `e` holds an io_error (a file of the validator could not be written).
bool holds_io_error(const std::exception_ptr& e) {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const io_error&) {
    return true;
  } catch (...) {
  }
  return false;
}
}  // namespace

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// Thrown on the validator's thread when a stop is requested.
struct validator_stopped {};

std::string num(double x) { return short_number(x); }

/// Matched-row accumulators of one population and variable.
struct matched_acc {
  double d2 = 0, m2 = 0, net = 0, mf = 0;
  int64_t n = 0;
};

}  // namespace

/// One mean field on the validator's thread.
struct validator::mf_state {
  std::string name;
  bool is_slow = false;
  std::unique_ptr<exact_meanfield> exact;
  std::unique_ptr<slow_meanfield> slow;
  std::vector<double> y;  ///< model state at record k_done
  int64_t k_done = 0;     ///< rows exist for records 0..k_done
  bool failed = false;
  std::string failure;
  double failed_at = 0;
  std::vector<double> buf;  ///< rows (4P each) of records buf_first.. of the latest chunk
  int64_t buf_first = 1;
  std::unique_ptr<block_series> blocks;  ///< records 1, 2, ...
  std::unique_ptr<mf_csv_writer> csv;
  std::vector<std::array<matched_acc, 4>> matched;
  std::vector<double> row;  ///< scratch

  int dim() const { return is_slow ? slow->dimension() : exact->dimension(); }
  void rhs(double t, const double* s, double* d) const {
    if (is_slow)
      slow->rhs(t, s, d);
    else
      exact->rhs(t, s, d);
  }
  void to_row(double t, const double* s, double* r) const {
    if (!is_slow) {
      std::copy(s, s + exact->dimension(), r);
      return;
    }
    const int P = slow->num_populations();
    std::vector<double> R(static_cast<size_t>(P));
    slow->rates(t, s, R.data());
    for (int i = 0; i < P; ++i) {
      r[4 * i] = R[i];
      r[4 * i + 1] = nan;
      r[4 * i + 2] = s[2 * i + 1];
      r[4 * i + 3] = s[2 * i];
    }
  }
  /// Row of record k if the latest chunk holds it.
  const double* row_of(int64_t k, int P) const {
    if (k < buf_first || k > k_done) return nullptr;
    const size_t off = static_cast<size_t>(k - buf_first) * 4 * P;
    return off + 4 * P <= buf.size() ? &buf[off] : nullptr;
  }
};

run_outcome outcome_of(const simulation_result& res) {
  run_outcome o;
  o.t_reached = res.t_reached;
  o.state = res.state == simulation_result::status::completed     ? run_outcome::status::completed
            : res.state == simulation_result::status::interrupted ? run_outcome::status::interrupted
                                                                  : run_outcome::status::diverged;
  return o;
}

validator::validator(const model_spec& spec, validator_options options)
    : spec_(spec), opt_(std::move(options)), P_(spec.num_populations()) {
  dopri5_options_from(spec_.meanfield);  // validate the tolerances now, on the caller's thread
  exact_meanfield check(spec_);          // and the sizes
  num_records_ = spec_.num_records();
  rec_dt_ = static_cast<double>(spec_.run.record_every) * spec_.run.dt;
  if (opt_.replica.n <= 0) opt_.replica = {spec_.network.n, spec_.network.seed};
  std::vector<bool> adapt;
  for (const auto& p : spec_.populations) adapt.push_back(p.a != 0 || p.b != 0 || p.w_jump != 0);
  rhythm_var_ = rhythm_variables(adapt);
  if (!opt_.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opt_.out_dir, ec);
    if (ec) throw io_error(opt_.out_dir, ec.value(), "create folder");
  }

  const int64_t keep = std::clamp<int64_t>(std::llround(criteria::smooth_width / rec_dt_), 1, 1000);
  last_rows_.assign(static_cast<size_t>(keep), std::vector<double>(4 * P_, nan));
  const int64_t first_block =
      std::max<int64_t>(1, static_cast<int64_t>(std::floor(criteria::block_width / rec_dt_ + 1e-9)));
  const int64_t max_blocks = opt_.max_blocks > 0 ? opt_.max_blocks : criteria::max_blocks;
  net_blocks_ = std::make_unique<block_series>(4 * P_, rec_dt_, rec_dt_, max_blocks, first_block);
  for (int side = 0; side < 2; ++side) {
    auto s = std::make_unique<mf_state>();
    s->is_slow = side == 1;
    s->name = side == 0 ? "exact mean field" : "slow-adaptation mean field";
    s->blocks = std::make_unique<block_series>(4 * P_, rec_dt_, rec_dt_, max_blocks, first_block);
    s->matched.resize(P_);
    s->row.assign(4 * P_, nan);
    (side == 0 ? exact_ : slow_) = std::move(s);
  }
  // The CSV files are opened here, so that an unwritable folder is an error before the run.
  if (!opt_.out_dir.empty()) {
    exact_->csv = std::make_unique<mf_csv_writer>(opt_.out_dir + "/meanfield.csv", P_, true);
    slow_->csv = std::make_unique<mf_csv_writer>(opt_.out_dir + "/meanfield_slow.csv", P_, false);
  }
  running_.exact.resize(P_);
  running_.slow.resize(P_);
  worker_ = std::thread([this] { run(); });
}

validator::~validator() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lk(m_);
      finishing_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
}

bool validator::stop_requested() const { return opt_.stop && opt_.stop->load(std::memory_order_relaxed); }

void validator::push(const record_row& row) { push(std::vector<record_row>{row}); }

void validator::push(const std::vector<record_row>& rows) {
  if (rows.empty()) return;
  {
    std::unique_lock<std::mutex> lk(m_);
    // Bounded queue: wait for the thread (it is far faster than the network; this only bounds memory).
    while (!worker_done_ && static_cast<int64_t>(queue_.size()) >= criteria::max_queued_rows && !stop_requested())
      cv_space_.wait_for(lk, std::chrono::milliseconds(50));
    // A file of the validator could not be written: the run stops with that error (exit_io).
    if (worker_done_ && holds_io_error(worker_error_)) std::rethrow_exception(worker_error_);
    if (worker_done_ || stop_requested()) return;
    queue_.insert(queue_.end(), rows.begin(), rows.end());
  }
  cv_.notify_one();  // one wake-up per chunk: the thread competes less with the network's threads
}

running_deviation validator::current() const {
  std::lock_guard<std::mutex> lk(m_);
  return running_;
}

std::string validator::progress_line() const {
  const running_deviation d = current();
  std::ostringstream o;
  o << "mean-field deviation (" << d.rows << " rows, population 0 vs exact):";
  if (!d.exact.empty())
    for (int v = 0; v < 4; ++v)
      o << ' ' << variable_names[v] << " max " << num(d.exact[0][v].max_abs) << " rms " << num(d.exact[0][v].rms());
  return o.str();
}

/// Integrates every mean field that has not failed up to record k (in whole
/// chunks: the chunk boundaries depend only on the spec, so results do not
/// depend on how rows arrive). False when a stop was requested.
bool validator::integrate_to(int64_t k) {
  const int64_t chunk =
      std::max<int64_t>(1, std::min<int64_t>(4096, static_cast<int64_t>(std::floor(100.0 / rec_dt_))));
  const dopri5_options ode = dopri5_options_from(spec_.meanfield);
  auto t_of = [&](int64_t j) { return static_cast<double>(j * spec_.run.record_every) * spec_.run.dt; };
  for (auto* s : {exact_.get(), slow_.get()}) {
    while (!s->failed && s->k_done < k && s->k_done < num_records_) {
      if (stop_requested()) return false;
      const int64_t k0 = s->k_done, k1 = std::min(k0 + chunk, num_records_);
      std::vector<double> t_out(static_cast<size_t>(k1 - k0));
      for (int64_t j = k0 + 1; j <= k1; ++j) t_out[static_cast<size_t>(j - k0 - 1)] = t_of(j);
      s->buf.clear();
      s->buf_first = k0 + 1;
      std::vector<double> y_last = s->y;
      int64_t produced = 0;
      try {
        integrate_dopri5([s](double t, const double* y, double* d) { s->rhs(t, y, d); }, s->y, t_of(k0), t_of(k1),
                         t_out, ode,
                         [&](double t, const double* y) {
                           if (stop_requested()) throw validator_stopped{};
                           s->to_row(t, y, s->row.data());
                           s->buf.insert(s->buf.end(), s->row.begin(), s->row.end());
                           s->blocks->add(s->row.data());
                           if (s->csv) s->csv->row(t, s->row.data());
                           std::copy(y, y + s->dim(), y_last.begin());
                           ++produced;
                         });
      } catch (const numerical_error& e) {
        s->failed = true;
        s->failure = e.what();
        s->failed_at = e.t_lo;
      }
      s->k_done = k0 + produced;
      s->y = y_last;
    }
  }
  return true;
}

void validator::run() {
  try {
    exact_->exact = std::make_unique<exact_meanfield>(spec_);
    exact_->y = exact_->exact->initial_state();
    try {
      slow_->slow = std::make_unique<slow_meanfield>(spec_, spec_.meanfield.slow_finite_peak);
      slow_->y = slow_->slow->initial_state();
    } catch (const std::exception& e) {  // this model cannot be built: keep the other one
      slow_->failed = true;
      slow_->failure = e.what();
      slow_->failed_at = 0;
    }
    for (auto* s : {exact_.get(), slow_.get()})
      if (!s->failed && s->csv) {
        s->to_row(0.0, s->y.data(), s->row.data());
        s->csv->row(0.0, s->row.data());
      }
    warnings_ = scheme_warnings(spec_, opt_.replica, opt_.stop);
    for (const auto& w : warnings_) spdlog::warn("{}", w);

    std::vector<record_row> batch;
    while (true) {
      {
        std::unique_lock<std::mutex> lk(m_);
        while (queue_.empty() && !finishing_ && !stop_requested()) cv_.wait_for(lk, std::chrono::milliseconds(50));
        if (stop_requested()) break;
        if (queue_.empty() && finishing_) break;
        const size_t take = std::min<size_t>(queue_.size(), 4096);
        batch.assign(std::make_move_iterator(queue_.begin()),
                     std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(take)));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
      }
      cv_space_.notify_all();
      process(batch);
    }
  } catch (const validator_stopped&) {
    // a stop request: what was compared so far stays
  } catch (...) {
    worker_error_ = std::current_exception();
  }
  try {
    for (auto* s : {exact_.get(), slow_.get()})
      if (s->csv) s->csv->close();
  } catch (...) {
    if (!worker_error_) worker_error_ = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lk(m_);
    worker_done_ = true;
    queue_.clear();
  }
  cv_space_.notify_all();
}

void validator::process(std::vector<record_row>& rows) {
  running_deviation delta;
  delta.exact.resize(P_);
  delta.slow.resize(P_);
  std::vector<double> x(4 * P_), gap(4 * P_, nan);
  const double tr = spec_.meanfield.transient;
  for (const record_row& row : rows) {
    const int64_t k = std::llround(row.t / rec_dt_);
    if (k <= last_k_ || k > num_records_ ||
        std::fabs(static_cast<double>(k) * rec_dt_ - row.t) > 1e-6 * (1 + std::fabs(row.t)))
      continue;  // not a record time, or out of order
    if (!integrate_to(k)) throw validator_stopped{};
    const std::vector<double>* vals[4] = {&row.r, &row.v, &row.w, &row.s};
    for (int i = 0; i < P_; ++i)
      for (int v = 0; v < 4; ++v) x[4 * i + v] = static_cast<int>(vals[v]->size()) > i ? (*vals[v])[i] : nan;
    for (int64_t j = last_k_ + 1; j < k; ++j) net_blocks_->add(gap.data());  // keep the grid uniform
    net_blocks_->add(x.data());
    last_rows_[last_pos_] = x;
    last_pos_ = (last_pos_ + 1) % last_rows_.size();
    last_k_ = k;
    ++delta.rows;
    for (int side = 0; side < 2; ++side) {
      mf_state& s = side == 0 ? *exact_ : *slow_;
      const double* m = s.row_of(k, P_);
      if (!m) continue;
      auto& acc = side == 0 ? delta.exact : delta.slow;
      for (int i = 0; i < P_; ++i)
        for (int v = 0; v < 4; ++v) {
          const double a = x[4 * i + v], b = m[4 * i + v];
          if (!std::isfinite(a) || !std::isfinite(b)) continue;
          const double d = a - b;
          auto& st = acc[i][v];
          st.max_abs = std::max(st.max_abs, std::fabs(d));
          st.sum_sq += d * d;
          ++st.n;
          if (row.t > tr) {
            auto& ma = s.matched[i][v];
            ma.d2 += d * d;
            ma.m2 += b * b;
            ma.net += a;
            ma.mf += b;
            ++ma.n;
          }
        }
    }
  }
  std::lock_guard<std::mutex> lk(m_);
  running_.rows += delta.rows;
  for (int i = 0; i < P_; ++i)
    for (int v = 0; v < 4; ++v)
      for (int side = 0; side < 2; ++side) {
        auto& to = side == 0 ? running_.exact[i][v] : running_.slow[i][v];
        const auto& from = side == 0 ? delta.exact[i][v] : delta.slow[i][v];
        to.max_abs = std::max(to.max_abs, from.max_abs);
        to.sum_sq += from.sum_sq;
        to.n += from.n;
      }
}

// ---------------------------------------------------------------------------
// finish

void validator::search_attractors(validation_report& rep) {
  const double tr = spec_.meanfield.transient;
  attractor_search_options ao;
  ao.t_max = opt_.attractor_t_max;
  ao.smoothing = rep.network.smoothing > 0 ? rep.network.smoothing : criteria::smooth_width;
  ao.ode = dopri5_options_from(spec_.meanfield);
  ao.stop = opt_.stop;
  // A stiff mean field (a very short synaptic time constant, say) would hold explicit DOPRI5 at its stability
  // limit for hours: the search gives up after this many steps of one integration once it is found stiff.
  ao.ode.stiff_max_steps = criteria::attractor_stiff_steps;
  spdlog::info("mean-field analysis: searching the attractors of the mean fields (a stop ends it)");
  const auto t_search = std::chrono::steady_clock::now();
  // the network's final state (its last rows averaged over the smoothing width)
  std::vector<double> final_row(4 * P_, 0.0);
  std::vector<int> cnt(4 * P_, 0);
  for (const auto& r : last_rows_)
    for (int c = 0; c < 4 * P_; ++c)
      if (std::isfinite(r[c])) {
        final_row[c] += r[c];
        ++cnt[c];
      }
  bool final_ok = true;
  for (int c = 0; c < 4 * P_; ++c) {
    final_ok = final_ok && cnt[c] > 0;
    if (cnt[c] > 0) final_row[c] /= cnt[c];
  }
  if (exact_->exact && rep.exact.available) {
    std::vector<equilibrium> eqs;
    try {
      eqs = find_equilibria(spec_);
    } catch (const std::exception& e) {
      rep.exact.attractors.notes.push_back(std::string("equilibrium search failed: ") + e.what());
    }
    std::vector<attractor_start> extra;
    if (final_ok) extra.push_back({"the network's final state", final_row});
    const mf_system sys = exact_system(*exact_->exact, rhythm_var_);
    rep.exact.attractors = find_attractors(sys, eqs, exact_starts(*exact_->exact, eqs, extra, rhythm_var_), ao);
    rep.exact.searched = rep.exact.attractors.complete;
  }
  if (slow_->slow && rep.slow.available) {
    std::vector<attractor_start> starts{{k_initial_state_label, slow_->slow->initial_state()}};
    if (final_ok) {
      std::vector<double> y(2 * P_);
      for (int i = 0; i < P_; ++i) {
        y[2 * i] = final_row[4 * i + var_s];
        y[2 * i + 1] = final_row[4 * i + var_w];
      }
      starts.push_back({"the network's final state", y});
    }
    const mf_system sys = slow_system(*slow_->slow, rhythm_var_);
    rep.slow.attractors = find_attractors(sys, {}, starts, ao);
    rep.slow.searched = rep.slow.attractors.complete;
  }
  for (auto* side : {&rep.exact, &rep.slow})
    if (side->attractors.stiff) {
      side->search_note = side->attractors.notes.empty() ? "the system is stiff" : side->attractors.notes.back();
      spdlog::warn("{}: {}", side->name, side->search_note);
    }
  spdlog::info("mean-field analysis: attractor search done in {:.1f} s",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_search).count());
  for (auto* side : {&rep.exact, &rep.slow})
    for (size_t k = 0; k < side->attractors.attractors.size(); ++k)
      for (const auto& l : side->attractors.attractors[k].reached_from)
        if (l == k_initial_state_label) side->from_initial_state = static_cast<int>(k);
  // No repeat in the network's window: say how long the nearest mean-field orbit needs.
  if (rep.network.regime == "inconclusive" && !std::isfinite(rep.network.period) && rep.exact.searched) {
    const int k = nearest_attractor(rep.network, rep.exact.attractors.attractors);
    if (k >= 0 && rep.exact.attractors.attractors[static_cast<size_t>(k)].kind == "orbit")
      rep.network = analyse_window(extract_window(*net_blocks_, tr, rep.t_compared), rhythm_var_, tr,
                                   rep.exact.attractors.attractors[static_cast<size_t>(k)].period);
  }
  if (stop_requested()) rep.status = "interrupted";
}

validation_report validator::finish() {
  run_outcome o;
  o.t_reached = static_cast<double>(num_records_) * rec_dt_;
  return finish(o);
}

validation_report validator::finish(const run_outcome& outcome) {
  validation_report rep;
  rep.transient = spec_.meanfield.transient;
  rep.t_end = static_cast<double>(num_records_) * rec_dt_;
  rep.t_reached = outcome.t_reached;
  rep.status = outcome.state == run_outcome::status::completed     ? "completed"
               : outcome.state == run_outcome::status::interrupted ? "interrupted"
                                                                   : "diverged";
  rep.vs_exact.mf_name = "exact mean field";
  rep.vs_slow.mf_name = "slow-adaptation mean field";
  if (finished_) {
    rep.error = "finish() called twice";
    return rep;
  }
  finished_ = true;
  {
    std::lock_guard<std::mutex> lk(m_);
    finishing_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (holds_io_error(worker_error_)) std::rethrow_exception(worker_error_);  // see validator.hpp
  if (worker_error_) {
    try {
      std::rethrow_exception(worker_error_);
    } catch (const std::exception& e) {
      rep.error = e.what();
    } catch (...) {
      rep.error = "unknown exception in the validator thread";
    }
    spdlog::error("mean-field validator: {}", rep.error);
  }
  try {
    rep.running = running_;
    rep.warnings = warnings_;
    rep.t_compared = static_cast<double>(last_k_) * rec_dt_;
    const double tr = spec_.meanfield.transient;
    const bool completed = rep.status == "completed" && !stop_requested();
    if (rep.status == "completed" && stop_requested()) rep.status = "interrupted";

    bool any_steps = false, any_table = false;
    comparison_inputs in;
    in.transient = tr;
    in.rhythm_var = rhythm_var_;
    in.segment_starts = {0.0};
    for (const auto& p : spec_.populations) {
      any_steps = any_steps || p.I_ext.type == input_spec::kind::steps;
      any_table = any_table || p.I_ext.type == input_spec::kind::table;
      if (p.I_ext.type == input_spec::kind::steps)
        for (double t : p.I_ext.times)
          if (t > 0 && t < rep.t_end) in.segment_starts.push_back(t);
    }
    std::sort(in.segment_starts.begin(), in.segment_starts.end());
    in.segment_starts.erase(std::unique(in.segment_starts.begin(), in.segment_starts.end()), in.segment_starts.end());
    rep.input = any_table ? "table" : any_steps ? "steps" : "constant";
    in.input_kind = rep.input;

    // Sides: trajectories and their windows.
    auto side_of = [&](const mf_state& s, meanfield_side& side) {
      side.name = s.name;
      side.rows = (s.exact || s.slow) ? s.k_done + 1 : 0;
      side.failure = s.failure;
      side.failed_at = s.failed_at;
      side.available = !s.failed || s.k_done >= last_k_;
      if (s.failed && !s.failure.empty()) spdlog::warn("{}: {}", s.name, s.failure);
      if (completed) side.trajectory = analyse_window(extract_window(*s.blocks, tr, rep.t_compared), rhythm_var_, tr);
    };
    side_of(*exact_, rep.exact);
    side_of(*slow_, rep.slow);
    if (!slow_->slow) rep.slow.available = false;
    if (completed)
      rep.network = analyse_window(extract_window(*net_blocks_, tr, rep.t_compared), rhythm_var_, tr);
    else
      rep.network.reason = "not analysed: the run " + rep.status + " at t = " + num(rep.t_reached);

    // Attractors of each mean field (constant input, completed run).
    if (completed && rep.input == "constant") {
      search_attractors(rep);
    } else {
      rep.exact.search_note = rep.slow.search_note =
          completed ? "the input varies in time: attractors are not defined" : "the run did not complete";
    }

    // Matched metrics and the comparisons.
    auto matched_of = [&](const mf_state& s) {
      std::vector<population_comparison> m(P_);
      for (int i = 0; i < P_; ++i)
        for (int v = 0; v < 4; ++v) {
          const matched_acc& a = s.matched[i][v];
          m[i].nrms[v] = a.n > 0 && a.m2 > 0 ? std::sqrt(a.d2 / a.m2) : nan;
          m[i].matched_mean_diff[v] = a.n > 0 && a.mf != 0 ? (a.net - a.mf) / std::fabs(a.mf) : nan;
        }
      return m;
    };
    rep.vs_exact = compare_network(rep, rep.exact, in, *net_blocks_, *exact_->blocks, matched_of(*exact_));
    rep.vs_slow = compare_network(rep, rep.slow, in, *net_blocks_, *slow_->blocks, matched_of(*slow_));

    if (!opt_.out_dir.empty()) write_json(opt_.out_dir + "/validation.json", validation_json(spec_, rep));
  } catch (const io_error&) {
    throw;  // a file could not be written: the caller stops (exit_io)
  } catch (const std::exception& e) {
    rep.error += (rep.error.empty() ? "" : "; ") + std::string(e.what());
    spdlog::error("mean-field validator: {}", e.what());
  }
  return rep;
}

}  // namespace izhinet
