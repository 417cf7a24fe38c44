// Warm-up + linear decay schedule of the released run.
#include <gtest/gtest.h>

#include <sstream>

#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>

#include "core/error.h"
#include "train/lr_schedule.h"

namespace vlmt {
namespace {

TEST(TrainLrSchedule, WarmupThenLinearDecay) {
  WarmupLinearSchedule s(1000, 0.1);
  EXPECT_DOUBLE_EQ(s.warmup_steps(), 100.0);
  EXPECT_DOUBLE_EQ(s.factor_at(0), 0.0);     // first iteration, as released
  EXPECT_DOUBLE_EQ(s.factor_at(50), 0.5);
  EXPECT_DOUBLE_EQ(s.factor_at(100), 1.0);   // end of warm-up
  EXPECT_DOUBLE_EQ(s.factor_at(550), 0.5);   // middle of the decay
  EXPECT_DOUBLE_EQ(s.factor_at(999), 1.0 / 900.0);
  EXPECT_DOUBLE_EQ(s.factor_at(1000), 0.0);  // end
  EXPECT_DOUBLE_EQ(s.factor_at(1500), 0.0);  // never negative
}

TEST(TrainLrSchedule, AdvancesOncePerIterationAndResumes) {
  WarmupLinearSchedule s(10, 0.2);
  EXPECT_DOUBLE_EQ(s.factor(), 0.0);
  s.advance();
  EXPECT_EQ(s.step(), 1);
  EXPECT_DOUBLE_EQ(s.factor(), 0.5);
  s.advance();
  EXPECT_DOUBLE_EQ(s.factor(), 1.0);

  std::ostringstream out;
  {
    boost::archive::text_oarchive archive(out);
    archive << s;
  }
  WarmupLinearSchedule resumed(10, 0.2);
  std::istringstream in(out.str());
  {
    boost::archive::text_iarchive archive(in);
    archive >> resumed;
  }
  EXPECT_EQ(resumed.step(), 2);
  resumed.set_step(6);
  EXPECT_DOUBLE_EQ(resumed.factor(), 0.5);
  EXPECT_THROW(resumed.set_step(-1), CheckpointError);
}

TEST(TrainLrSchedule, ZeroWarmupStartsAtFullRate) {
  WarmupLinearSchedule s(4, 0.0);
  EXPECT_DOUBLE_EQ(s.factor_at(0), 1.0);
  EXPECT_DOUBLE_EQ(s.factor_at(2), 0.5);
}

// train.warmup_proportion's range is the config's (Config.TrainRangesAreCheckedOnceWhereTheConfigIsRead);
// a run length of 0 is a derived value, checked here.
TEST(TrainLrSchedule, RejectsARunWithoutSteps) { EXPECT_THROW(WarmupLinearSchedule(0, 0.1), ConfigError); }

}  // namespace
}  // namespace vlmt
