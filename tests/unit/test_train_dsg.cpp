// Dynamic Stop-and-Go state machine on scripted validation curves.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>

#include "core/error.h"
#include "train/dsg.h"

namespace vlmt {
namespace {

// Defaults of the paper's model: improve 0.1%, diverge 0.5%, patience 1, cooldown 1, Δ 4.
DsgMonitor monitor() { return DsgMonitor("refcoco", DsgOptions{}); }

TEST(TrainDsg, ConvergedAfterTwoBadEpochsThenCooldownThenDivergence) {
  DsgMonitor m = monitor();
  EXPECT_EQ(m.observe(10, 0.50).mode, DsgMode::kGo);  // first score is always the best
  EXPECT_EQ(m.observe(20, 0.60).mode, DsgMode::kGo);
  // 0.6005 < 0.6 × 1.001: bad epoch 1 (patience 1 tolerates it).
  const DsgEvent& bad1 = m.observe(30, 0.6005);
  EXPECT_EQ(bad1.mode, DsgMode::kGo);
  EXPECT_EQ(m.state().num_bad_epochs, 1);
  // Second bad epoch in a row: converged → stop, counters reset, cooldown 1.
  const DsgEvent& stop = m.observe(40, 0.6003);
  EXPECT_EQ(stop.mode, DsgMode::kStop);
  EXPECT_TRUE(stop.switched);
  EXPECT_EQ(m.state().num_bad_epochs, 0);
  EXPECT_EQ(m.state().cooldown_counter, 1);
  EXPECT_DOUBLE_EQ(m.state().best, 0.60);

  // Cooldown epoch: its bad epoch is ignored; 0.599 is within 0.5% of best, stays stopped.
  EXPECT_EQ(m.observe(50, 0.599).mode, DsgMode::kStop);
  EXPECT_EQ(m.state().num_bad_epochs, 0);
  EXPECT_EQ(m.state().cooldown_counter, 0);
  // Bad epoch 1 (counted now), still within 0.5%.
  EXPECT_EQ(m.observe(60, 0.5995).mode, DsgMode::kStop);
  EXPECT_EQ(m.state().num_bad_epochs, 1);
  // Bad epoch 2 while stopped: re-enters stop (counters reset, new cooldown), no switch.
  const DsgEvent& restop = m.observe(70, 0.598);
  EXPECT_EQ(restop.mode, DsgMode::kStop);
  EXPECT_FALSE(restop.switched);
  EXPECT_EQ(m.state().cooldown_counter, 1);
  // 0.596 < 0.6 × 0.995 = 0.597: diverged → go (even in a cooldown epoch).
  const DsgEvent& go = m.observe(80, 0.596);
  EXPECT_EQ(go.mode, DsgMode::kGo);
  EXPECT_TRUE(go.switched);
  EXPECT_EQ(m.state().cooldown_counter, 1);

  ASSERT_EQ(m.history().size(), 8u);
  EXPECT_EQ(m.history()[3].iteration, 40);
  EXPECT_EQ(m.history()[3].epoch, 4);
  EXPECT_DOUBLE_EQ(m.history()[7].score, 0.596);
  EXPECT_EQ(m.state().epochs, 8);
}

TEST(TrainDsg, CooldownAfterGoIgnoresOneBadEpoch) {
  DsgMonitor m = monitor();
  for (double s : {0.8, 0.8, 0.8}) m.observe(0, s);  // → stop
  ASSERT_EQ(m.mode(), DsgMode::kStop);
  m.observe(0, 0.7);  // diverged → go, cooldown 1
  ASSERT_EQ(m.mode(), DsgMode::kGo);
  m.observe(0, 0.7);  // bad but in cooldown: ignored
  EXPECT_EQ(m.state().num_bad_epochs, 0);
  m.observe(0, 0.7);  // bad 1
  EXPECT_EQ(m.mode(), DsgMode::kGo);
  m.observe(0, 0.7);  // bad 2 → stop
  EXPECT_EQ(m.mode(), DsgMode::kStop);
}

TEST(TrainDsg, ImprovementThresholdIsExactlyOneTenthPercentRelative) {
  const double best = 0.8;
  const double edge = best * (1.0 + 0.001);
  DsgMonitor at_edge = monitor();
  at_edge.observe(1, best);
  at_edge.observe(2, edge);  // exactly +0.1%: not better
  EXPECT_EQ(at_edge.state().num_bad_epochs, 1);
  EXPECT_DOUBLE_EQ(at_edge.state().best, best);

  DsgMonitor above = monitor();
  above.observe(1, best);
  above.observe(2, std::nextafter(edge, 1.0));  // just above: better
  EXPECT_EQ(above.state().num_bad_epochs, 0);
  EXPECT_DOUBLE_EQ(above.state().best, std::nextafter(edge, 1.0));
}

TEST(TrainDsg, DivergenceThresholdIsExactlyHalfPercentBelowBest) {
  auto stopped = [] {
    DsgMonitor m = monitor();
    for (double s : {0.8, 0.8, 0.8}) m.observe(0, s);
    m.observe(0, 0.8);  // cooldown epoch
    return m;
  };
  const double edge = 0.8 * (1.0 - 0.005);
  DsgMonitor at_edge = stopped();
  ASSERT_EQ(at_edge.mode(), DsgMode::kStop);
  at_edge.observe(0, edge);  // exactly −0.5%: not diverged
  EXPECT_EQ(at_edge.mode(), DsgMode::kStop);
  DsgMonitor below = stopped();
  below.observe(0, std::nextafter(edge, 0.0));
  EXPECT_EQ(below.mode(), DsgMode::kGo);
}

TEST(TrainDsg, StoppedTaskTrainsOnlyEveryGapIterations) {
  DsgMonitor m = monitor();
  std::string timeline;
  for (int64_t i = 1; i <= 12; ++i) timeline += m.trains_at(i) ? 'T' : '.';
  EXPECT_EQ(timeline, "TTTTTTTTTTTT");
  for (double s : {0.5, 0.5, 0.5}) m.observe(0, s);
  ASSERT_EQ(m.mode(), DsgMode::kStop);
  timeline.clear();
  for (int64_t i = 1; i <= 12; ++i) timeline += m.trains_at(i) ? 'T' : '.';
  EXPECT_EQ(timeline, "T...T...T...");  // released: 0-based iterId mod 4 = 0

  DsgOptions gap3;
  gap3.gap = 3;
  DsgMonitor g("vqa", gap3);
  for (double s : {0.5, 0.5, 0.5}) g.observe(0, s);
  timeline.clear();
  for (int64_t i = 1; i <= 9; ++i) timeline += g.trains_at(i) ? 'T' : '.';
  EXPECT_EQ(timeline, "T..T..T..");
}

// Option ranges are the config's (Config.TrainRangesAreCheckedOnceWhereTheConfigIsRead).
TEST(TrainDsg, RejectsNonFiniteScores) {
  DsgMonitor m = monitor();
  EXPECT_THROW(m.observe(1, std::nan("")), Error);
  EXPECT_THROW(m.observe(1, std::numeric_limits<double>::infinity()), Error);
}

template <class OArchive, class IArchive>
DsgMonitor round_trip(const DsgMonitor& m) {
  std::stringstream buffer;
  {
    OArchive out(buffer);
    out << m;
  }
  DsgMonitor back;
  {
    IArchive in(buffer);
    in >> back;
  }
  return back;
}

TEST(TrainDsg, BoostRoundTripKeepsStateAndHistory) {
  DsgMonitor m = monitor();
  for (double s : {0.41, 0.52, 0.52, 0.1 + 0.2}) m.observe(7, s);
  DsgMonitor fresh = monitor();  // no best yet: must round-trip too
  for (const DsgMonitor* original : {&m, &fresh}) {
    for (const DsgMonitor& back :
         {round_trip<boost::archive::text_oarchive, boost::archive::text_iarchive>(*original),
          round_trip<boost::archive::binary_oarchive, boost::archive::binary_iarchive>(
              *original)}) {
      EXPECT_EQ(back.task(), "refcoco");
      EXPECT_TRUE(back.state() == original->state())
          << back.state().describe() << " vs " << original->state().describe();
      ASSERT_EQ(back.history().size(), original->history().size());
      for (size_t i = 0; i < back.history().size(); ++i) {
        EXPECT_EQ(back.history()[i].score, original->history()[i].score);  // bit exact
        EXPECT_EQ(back.history()[i].mode, original->history()[i].mode);
        EXPECT_EQ(back.history()[i].epoch, original->history()[i].epoch);
        EXPECT_EQ(back.history()[i].switched, original->history()[i].switched);
      }
    }
  }
}

}  // namespace
}  // namespace vlmt
