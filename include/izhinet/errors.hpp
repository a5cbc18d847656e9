#pragma once
/// \file errors.hpp
/// Two kinds of error: a user/runtime problem (bad config, unwritable folder,
/// numerical blow-up, missing GPU) and an internal bug.
#include <stdexcept>
#include <string>

namespace izhinet {

/// A problem the user can fix: bad input, missing device, unwritable output.
class user_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Raised when the configuration is invalid; names the key.
class config_error : public user_error {
 public:
  config_error(const std::string& key, const std::string& what)
      : user_error(key.empty() ? what : key + ": " + what), key_(key) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

/// The CUDA backend was asked for and cannot run (no device, driver error).
class device_error : public user_error {
 public:
  using user_error::user_error;
};

/// A state that became non-finite during a run.
class numerical_error : public user_error {
 public:
  numerical_error(const std::string& what, double t_lo, double t_hi, int population, int replica)
      : user_error(what), t_lo(t_lo), t_hi(t_hi), population(population), replica(replica) {}
  double t_lo, t_hi;
  int population, replica;
};

/// An internal inconsistency: a bug in izhinet, not in the input.
class internal_error : public std::logic_error {
 public:
  explicit internal_error(const std::string& what) : std::logic_error("internal error (bug): " + what) {}
};

}  // namespace izhinet
