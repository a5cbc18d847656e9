#pragma once
/// \file observables.hpp
/// One recorded row of population observables (what timeseries.csv holds).
#include <vector>

namespace izhinet {

/// Observables of all P populations of one network at time t.
/// r: spikes per neuron per unit time (over the recording interval, or the
/// sliding window); v, w: population means (see simulation.hpp for which
/// neurons enter them in each scheme); s: the synaptic gating variable.
struct record_row {
  double t = 0;
  std::vector<double> r, v, w, s;
};

}  // namespace izhinet
