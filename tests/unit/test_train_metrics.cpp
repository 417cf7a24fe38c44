// metrics.jsonl writer and the progress line / record formatters.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <unistd.h>

#include "core/error.h"
#include "core/jsonl.h"
#include "train/phase_times.h"
#include "train/progress.h"

namespace vlmt {
namespace {

namespace fs = std::filesystem;

fs::path fresh_file(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("vlmt_train_metrics_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / name;
  fs::remove(file);
  return file;
}

TEST(TrainMetricsJsonl, AppendsAndContinuesAfterReopen) {
  const fs::path file = fresh_file("append.jsonl");
  {
    JsonlWriter w(file.string());
    w.write({{"kind", "train"}, {"iter", 1}});
    w.write({{"kind", "val"}, {"iter", 2}, {"score", std::nan("")}});
  }
  {
    JsonlWriter w(file.string());  // a resumed run
    w.write({{"kind", "train"}, {"iter", 3}});
  }
  const auto records = read_jsonl(file.string());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0]["iter"], 1);
  EXPECT_TRUE(records[1]["score"].is_null());  // NaN is written as null
  EXPECT_EQ(records[2]["iter"], 3);
}

TEST(TrainMetricsJsonl, RepairsAPartialLastLine) {
  const fs::path file = fresh_file("partial.jsonl");
  { std::ofstream(file) << "{\"kind\":\"train\",\"iter\":1}\n{\"kind\":\"tr"; }
  {
    JsonlWriter w(file.string());
    w.write({{"kind", "train"}, {"iter", 2}});
  }
  std::ifstream in(file);
  std::string first, broken, next;
  std::getline(in, first);
  std::getline(in, broken);
  std::getline(in, next);
  EXPECT_EQ(broken, "{\"kind\":\"tr");
  EXPECT_EQ(nlohmann::json::parse(next)["iter"], 2);
  try {
    read_jsonl(file.string());
    FAIL() << "a broken line was accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string() + ":2"), std::string::npos) << e.what();
  }
}

TEST(TrainMetricsJsonl, ConcurrentWritersProduceWholeLines) {
  const fs::path file = fresh_file("threads.jsonl");
  {
    JsonlWriter w(file.string());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&w, t] {
        for (int i = 0; i < 200; ++i)
          w.write({{"kind", "train"}, {"thread", t}, {"i", i}, {"pad", std::string(300, 'x')}});
      });
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(read_jsonl(file.string()).size(), 800u);
}

TEST(TrainMetricsJsonl, RejectsNonObjectsAndUnopenablePaths) {
  JsonlWriter w(fresh_file("reject.jsonl").string());
  EXPECT_THROW(w.write(nlohmann::json::array({1, 2})), Error);
  EXPECT_THROW(JsonlWriter("/nonexistent_dir_vlmt/x.jsonl"), Error);
  EXPECT_THROW(read_jsonl("/nonexistent_dir_vlmt/x.jsonl"), DataError);
}

TEST(TrainProgress, FormatsDurations) {
  EXPECT_EQ(format_duration(0), "0:00:00");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(100000), "27:46:40");
  EXPECT_EQ(format_duration(-1), "-:--:--");
  EXPECT_EQ(format_duration(std::nan("")), "-:--:--");
}

TEST(TrainProgress, ThroughputAndEtaCountOnlyThisProcess) {
  ThroughputMeter meter(100, 1000.0);  // resumed at iteration 100
  EXPECT_FALSE(meter.eta_s(200).has_value());
  meter.update(105, 320, 1010.0);
  meter.update(110, 320, 1020.0);
  EXPECT_DOUBLE_EQ(meter.samples_per_s(), 32.0);
  EXPECT_DOUBLE_EQ(*meter.eta_s(200), 180.0);  // 90 iterations × 2 s
}

ProgressSnapshot snapshot() {
  ProgressSnapshot s;
  s.iteration = 120;
  s.total = 4000;
  s.lr = 1.2e-5;
  s.samples_per_s = 85.3;
  s.eta_s = 3723;
  s.tasks = {{"vqa", 2.314, 0.412, "go", std::nullopt, {}}, {"refcoco", std::nullopt, std::nullopt, "stop", std::nullopt, {}}};
  return s;
}

TEST(TrainProgress, LineShowsEveryNumber) {
  EXPECT_EQ(format_progress_line(snapshot()),
            "iter 120/4000 (3.0%) | lr 1.20e-05 | 85.3 samples/s | ETA 1:02:03 | "
            "vqa loss 2.3140 score 0.4120 go | refcoco loss - score - stop");
  ProgressSnapshot timed = snapshot();
  timed.time_split = {{"data", 0.0021}, {"forward", 0.31}, {"other", 0.0}};
  EXPECT_EQ(format_progress_line(timed),
            "iter 120/4000 (3.0%) | lr 1.20e-05 | 85.3 samples/s | ETA 1:02:03 | "
            "vqa loss 2.3140 score 0.4120 go | refcoco loss - score - stop | "
            "s/iter data 0.002 forward 0.310 other 0.000");
  EXPECT_DOUBLE_EQ(progress_record(timed)["time_s"]["forward"].get<double>(), 0.31);
  EXPECT_FALSE(progress_record(snapshot()).contains("time_s"));
}

// Each lap goes to the phase it names; what no lap names (skip) is "other"; all per iteration.
TEST(TrainProgress, PhaseTimesSplitTheWallTime) {
  using namespace std::chrono_literals;
  PhaseTimes phases(torch::kCPU);
  std::this_thread::sleep_for(40ms);
  phases.lap(PhaseTimes::kData);
  std::this_thread::sleep_for(20ms);
  phases.skip();
  std::this_thread::sleep_for(60ms);
  phases.lap(PhaseTimes::kBackward);
  const auto split = phases.per_iteration(2);
  ASSERT_EQ(split.size(), 7u);
  std::map<std::string, double> by_name(split.begin(), split.end());
  // Sleeps last at least as long as asked; a loaded machine may add to them.
  EXPECT_GE(by_name["data"], 0.020);
  EXPECT_LT(by_name["data"], 0.080);
  EXPECT_GE(by_name["backward"], 0.030);
  EXPECT_LT(by_name["backward"], 0.090);
  EXPECT_GE(by_name["other"], 0.009);
  EXPECT_LT(by_name["other"], 0.060);
  EXPECT_EQ(by_name["forward"], 0.0);
  EXPECT_EQ(split.front().first, "data");
  EXPECT_EQ(split.back().first, "other");
  phases.restart();
  for (const auto& [name, seconds] : phases.per_iteration(1)) EXPECT_LT(seconds, 0.020) << name;
}

// A fake device timeline: every mark is 0.5 s after the previous one; counts the waits.
struct FakeTimeline : DeviceTimeline {
  int marks = 0, pending = 0, settles = 0;
  void mark() override { ++marks, ++pending; }
  std::vector<double> settle() override {
    ++settles;
    std::vector<double> out(pending, 0.5);
    pending = 0;
    return out;
  }
};

// A step's five laps wait for the device once (at its end), not once per phase; skipped time
// counts nowhere; a report settles what is left.
TEST(TrainProgress, PhaseTimesWaitOncePerStep) {
  auto owned = std::make_unique<FakeTimeline>();
  FakeTimeline& timeline = *owned;
  PhaseTimes phases(std::move(owned));
  const int waits_at_start = timeline.settles;
  for (int step = 0; step < 3; ++step) {
    phases.skip();
    for (auto phase : {PhaseTimes::kData, PhaseTimes::kForward, PhaseTimes::kBackward, PhaseTimes::kSync})
      phases.lap(phase);
    EXPECT_EQ(timeline.settles, waits_at_start + step);
    phases.lap(PhaseTimes::kOptimizer);
    EXPECT_EQ(timeline.settles, waits_at_start + step + 1);
  }
  phases.lap(PhaseTimes::kData);
  std::map<std::string, double> by_name;
  for (const auto& [name, seconds] : phases.per_iteration(3)) by_name[name] = seconds;
  EXPECT_DOUBLE_EQ(by_name["data"], 4 * 0.5 / 3);
  EXPECT_DOUBLE_EQ(by_name["forward"], 0.5);
  EXPECT_DOUBLE_EQ(by_name["optimizer"], 0.5);
  EXPECT_EQ(by_name["validation"], 0.0);
  EXPECT_EQ(timeline.settles, waits_at_start + 4);
  EXPECT_EQ(timeline.pending, 0);
}

TEST(TrainProgress, RecordsFollowTheDocumentedSchema) {
  const auto progress = progress_record(snapshot());
  EXPECT_EQ(progress["kind"], "progress");
  EXPECT_EQ(progress["iter"], 120);
  EXPECT_EQ(progress["total"], 4000);
  EXPECT_DOUBLE_EQ(progress["eta_s"].get<double>(), 3723);
  EXPECT_EQ(progress["tasks"]["refcoco"]["state"], "stop");
  EXPECT_TRUE(progress["tasks"]["refcoco"]["loss"].is_null());
  EXPECT_DOUBLE_EQ(progress["tasks"]["vqa"]["loss"].get<double>(), 2.314);
  EXPECT_GT(progress["time"].get<double>(), 1.6e9);

  TaskProgress vqa;
  vqa.task = "vqa";
  vqa.loss = 1.5;
  vqa.batch_score = 0.25;
  const auto train = train_record(7, vqa, 2e-5, 40.0);
  for (const char* key : {"kind", "iter", "time", "task", "loss", "batch_score", "score", "lr", "samples_per_s"})
    EXPECT_TRUE(train.contains(key)) << key;
  EXPECT_EQ(train["kind"], "train");
  EXPECT_DOUBLE_EQ(train["batch_score"].get<double>(), 0.25);
  EXPECT_TRUE(train["score"].is_null());
  EXPECT_FALSE(train.contains("losses"));
  TaskProgress pretrain;
  pretrain.task = "pretrain";
  pretrain.loss = 3.0;
  pretrain.losses = {{"masked_loss_t", 2.0}, {"next_sentence_loss", 1.0}};
  EXPECT_DOUBLE_EQ(train_record(7, pretrain, 2e-5, 40.0)["losses"]["masked_loss_t"].get<double>(), 2.0);

  const auto val = val_record(8, "gqa", 2, ValidationSummary{0.61, 1.25, {}, {}});
  EXPECT_EQ(val["kind"], "val");
  EXPECT_EQ(val["epoch"], 2);
  EXPECT_DOUBLE_EQ(val["score"].get<double>(), 0.61);
  EXPECT_DOUBLE_EQ(val["loss"].get<double>(), 1.25);
  EXPECT_FALSE(val.contains("metrics"));
  EXPECT_FALSE(val.contains("losses"));
  const auto pretrain_val = val_record(9, "pretrain", 1,
                                       ValidationSummary{0.75, 2.0, {{"masked_word_accuracy", 0.5}, {"masked_region_kl", 1.25}},
                                                         {{"masked_loss_v", 0.5}}});
  EXPECT_DOUBLE_EQ(pretrain_val["metrics"]["masked_word_accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(pretrain_val["metrics"]["masked_region_kl"].get<double>(), 1.25);
  EXPECT_DOUBLE_EQ(pretrain_val["losses"]["masked_loss_v"].get<double>(), 0.5);
  EXPECT_EQ(format_validation_line(9, "pretrain", 0.75, {{"masked_word_accuracy", 0.5}}),
            "val pretrain at iter 9: score 0.7500 | masked_word_accuracy 0.5000");

  DsgEvent event;
  event.iteration = 40;
  event.epoch = 4;
  event.score = 0.6003;
  event.mode = DsgMode::kStop;
  event.switched = true;
  event.best = 0.6;
  const auto dsg = dsg_record("refcoco", event);
  EXPECT_EQ(dsg["kind"], "dsg");
  EXPECT_EQ(dsg["iter"], 40);
  EXPECT_EQ(dsg["state"], "stop");
  EXPECT_DOUBLE_EQ(dsg["best"].get<double>(), 0.6);
  EXPECT_EQ(dsg["switched"], true);
}

}  // namespace
}  // namespace vlmt
