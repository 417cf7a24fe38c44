// core/env.h: environment variables parse strictly. Unset or empty gives the default; anything
// else that is not entirely a value of the expected kind and range is a ConfigError naming the
// variable and the value.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/env.h"
#include "core/error.h"

using namespace vlmt;

namespace {

constexpr const char* kVar = "VLMT_TEST_ENV_VALUE";

// Sets kVar for one test and unsets it after.
struct EnvValue {
  explicit EnvValue(const std::string& value) { setenv(kVar, value.c_str(), 1); }
  ~EnvValue() { unsetenv(kVar); }
};

// The ConfigError `f` throws with kVar=value; fails the test when it throws none.
template <class F>
std::string rejection(const std::string& value, F f) {
  EnvValue set(value);
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << kVar << "=\"" << value << "\" was accepted";
  return "";
}

}  // namespace

TEST(CoreEnv, UnsetOrEmptyGivesTheDefault) {
  unsetenv(kVar);
  EXPECT_EQ(env::integer(kVar, 7, 0, 10), 7);
  EXPECT_EQ(env::seconds(kVar, 600, 1, 1000), 600);
  EXPECT_EQ(env::choice(kVar, "torch", {"torch", "fused"}), "torch");
  EXPECT_FALSE(env::text(kVar));
  EnvValue empty("");
  EXPECT_EQ(env::integer(kVar, 7, 0, 10), 7);
  EXPECT_FALSE(env::text(kVar));
}

TEST(CoreEnv, WellFormedValuesAreTaken) {
  {
    EnvValue v("2048");
    EXPECT_EQ(env::integer(kVar, 7, 0, 999999999), 2048);
  }
  {
    EnvValue v("0");
    EXPECT_EQ(env::integer(kVar, 7, 0, 10), 0);
  }
  {
    EnvValue v("2.5");
    EXPECT_DOUBLE_EQ(env::seconds(kVar, 600, 0, 1000), 2.5);
  }
  {
    EnvValue v("1e3");
    EXPECT_DOUBLE_EQ(env::seconds(kVar, 600, 0, 1000), 1000);
  }
  {
    EnvValue v("fused");
    EXPECT_EQ(env::choice(kVar, "torch", {"torch", "fused"}), "fused");
    EXPECT_EQ(*env::text(kVar), "fused");
  }
}

TEST(CoreEnv, GarbageIsAnErrorNamingTheVariableAndTheValue) {
  const auto seconds = [] { env::seconds(kVar, 600, 1, 86400); };
  // atof read these as 600 (garbage → 0 → the default), 10, 10, inf, nan and 3.
  for (const std::string value : {"garbage", "10m", "10s", "inf", "nan", " 3", "0x10", "1e999", "-5", "0.5", "1e6"}) {
    const std::string what = rejection(value, seconds);
    EXPECT_NE(what.find(std::string(kVar) + "=\"" + value + "\""), std::string::npos) << what;
    EXPECT_NE(what.find("seconds"), std::string::npos) << what;
  }
  const auto integer = [] { env::integer(kVar, 7, 0, 100); };
  for (const std::string value : {"abc", "12abc", "1.5", "+3", " 3", "-1", "101", "99999999999999999999"}) {
    const std::string what = rejection(value, integer);
    EXPECT_NE(what.find(std::string(kVar) + "=\"" + value + "\""), std::string::npos) << what;
    EXPECT_NE(what.find("[0, 100]"), std::string::npos) << what;
  }
  const std::string what = rejection("fsued", [] { env::choice(kVar, "torch", {"torch", "fused"}); });
  EXPECT_NE(what.find(std::string(kVar) + "=\"fsued\""), std::string::npos) << what;
  EXPECT_NE(what.find("torch, fused"), std::string::npos) << what;
  EXPECT_EQ(ConfigError("").code(), ExitCode::kConfig);  // exit 2
}
