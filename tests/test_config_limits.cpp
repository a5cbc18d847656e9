// Configuration limits added with the reliability work: tolerances bounded,
// --set values that are not TOML named, long user text shortened.
#include <gtest/gtest.h>

#include "izhinet/config.hpp"
#include "izhinet/errors.hpp"

using namespace izhinet;

namespace {

const std::string k_base = R"(
[[population]]
fraction = 1.0
eta_bar = 0.12
delta = 0.02
[synapse]
g = [[1.2308]]
e_r = [1.0]
tau_s = [2.6]
s_jump = [1.2308]
[run]
t_end = 1.0
)";

/// "key | message" of the config_error thrown, or "<no error>".
std::string error_of(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    load_config_string(text, sets);
  } catch (const config_error& e) {
    return e.key() + " | " + e.what();
  }
  return "<no error>";
}

}  // namespace

TEST(ConfigLimits, MeanFieldTolerancesAreBounded) {
  EXPECT_EQ(error_of(k_base, {"meanfield.rtol=1e-3", "meanfield.atol=1e-16"}), "<no error>");
  EXPECT_EQ(error_of(k_base, {"meanfield.rtol=1e-14", "meanfield.atol=1e-3"}), "<no error>");
  for (const char* s : {"meanfield.rtol=1e300", "meanfield.rtol=2e-3", "meanfield.rtol=1e-15", "meanfield.rtol=0"})
    EXPECT_EQ(error_of(k_base, {s}).rfind("meanfield.rtol | meanfield.rtol: must be in [1e-14, 1e-3]", 0), 0u) << s;
  for (const char* s : {"meanfield.atol=1", "meanfield.atol=1e-17", "meanfield.atol=-1"})
    EXPECT_EQ(error_of(k_base, {s}).rfind("meanfield.atol | meanfield.atol: must be in [1e-16, 1e-3]", 0), 0u) << s;
}

TEST(ConfigLimits, SetValuesThatAreNotTomlAreNamed) {
  // too large for int64: named as such, not "got a string"
  const std::string big = error_of(k_base, {"network.n=99999999999999999999"});
  EXPECT_EQ(big.rfind("network.n | ", 0), 0u) << big;
  EXPECT_NE(big.find("64 bits"), std::string::npos) << big;
  EXPECT_EQ(error_of(k_base, {"run.t_end=1.5.2"}).rfind("run.t_end | ", 0), 0u);
  // a bare word is still a string (run.scheme=exact)
  EXPECT_EQ(error_of(k_base, {"run.scheme=exact"}), "<no error>");
  // arrays with commas and inline tables
  const model_spec s = load_config_string(
      k_base,
      {"population.0.I_ext={ kind = \"table\", times = [0.0, 1.0], values = [0.0, 2.0] }", "synapse.e_r=[0.5]"});
  EXPECT_EQ(s.populations[0].I_ext.values, (std::vector<double>{0.0, 2.0}));
  EXPECT_EQ(s.synapse.e_r, (std::vector<double>{0.5}));
}

TEST(ConfigLimits, LongUserTextIsShortenedInMessages) {
  const std::string key(10 << 20, 'k');
  const std::string msg = error_of(key + " = 1\n" + k_base);
  EXPECT_LT(msg.size(), 10u * 1024 * 1024 + 2000) << "the key is kept whole in e.key()";
  const auto bar = msg.find(" | ");
  ASSERT_NE(bar, std::string::npos);
  const std::string what = msg.substr(bar + 3);
  EXPECT_LT(what.size(), 600u) << what.substr(0, 600);
  EXPECT_NE(what.find("(10485760 characters)"), std::string::npos) << what.substr(0, 600);
  EXPECT_EQ(shorten("short"), "short");
  EXPECT_EQ(shorten(std::string(100, 'a') + std::string(100, 'b'), 40).substr(0, 18), std::string(18, 'a'));
}
