// Schedule policies: which task trains at which iteration and when each task validates.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "config/run_config.h"
#include "core/error.h"
#include "distributed/communicator.h"
#include "train/adamw_update.h"
#include "train/config_checks.h"
#include "train/curriculum_schedule.h"
#include "train/dsg_schedule.h"
#include "train/progress.h"
#include "train/schedule_registry.h"
#include "train/vanilla_schedule.h"
#include "test_paths.h"

namespace vlmt {
namespace {

// a: G1 with 4 batches per epoch, b: G3 with 2, c: G4 with 3.
std::vector<ScheduledTask> three_tasks() {
  return {{"a", 1, 4}, {"b", 3, 2}, {"c", 4, 3}};
}

// One character per iteration 1..n: 'T' when the task trains.
std::string timeline(const TaskSchedule& s, size_t task, int64_t n) {
  std::string out;
  for (int64_t i = 1; i <= n; ++i) out += s.weight(task, i) > 0 ? 'T' : '.';
  return out;
}

// Keeps what a schedule reports.
struct RecordingSink : ScheduleSink {
  std::vector<nlohmann::json> records;
  std::vector<std::string> lines;
  void record(const nlohmann::json& r) override { records.push_back(r); }
  void log(const std::string& line) override { lines.push_back(line); }
};

TEST(TrainSchedule, EpochsAndValidationTimes) {
  VanillaSchedule s(three_tasks());
  EXPECT_EQ(s.iterations_per_epoch(), 4);
  std::string validations;
  for (size_t t = 0; t < 3; ++t) {
    for (int64_t i = 1; i <= 8; ++i) validations += s.should_validate(t, i) ? 'V' : '.';
    validations += '|';
  }
  // Validated after iteration i when (i − 1) mod n_t = 0, i > 1 (train_tasks.py's 0-based iterId).
  EXPECT_EQ(validations, "....V...|..V.V.V.|...V..V.|");
  EXPECT_EQ(s.task_epoch(2, 7), 2);
  EXPECT_EQ(s.task_epoch(2, 6), 1);
  EXPECT_EQ(s.task_index("c"), 2u);
  EXPECT_THROW(s.task_index("zzz"), ConfigError);
  EXPECT_THROW(VanillaSchedule({{"a", 1, 0}}), ConfigError);
  EXPECT_THROW(VanillaSchedule(std::vector<ScheduledTask>{}), ConfigError);
}

TEST(TrainSchedule, VanillaTrainsEveryTaskEveryIteration) {
  VanillaSchedule s(three_tasks());
  for (size_t t = 0; t < 3; ++t) EXPECT_EQ(timeline(s, t, 8), "TTTTTTTT");
  RecordingSink sink;
  s.on_validation(0, 4, 0.5, sink);
  EXPECT_TRUE(sink.records.empty());
  EXPECT_TRUE(sink.lines.empty());
}

TEST(TrainSchedule, CurriculumStartsWithVerificationAntiCurriculumWithVocabVqa) {
  TrainConfig cfg;
  cfg.schedule = "curriculum";
  cfg.curriculum_iterations = 3;
  auto curriculum = make_task_schedule(cfg, three_tasks(), 100);
  EXPECT_EQ(curriculum->name(), "curriculum");
  EXPECT_EQ(timeline(*curriculum, 0, 6), "...TTT");
  EXPECT_EQ(timeline(*curriculum, 1, 6), "...TTT");
  EXPECT_EQ(timeline(*curriculum, 2, 6), "TTTTTT");  // c is G4
  EXPECT_EQ(curriculum->state_label(0, 2), "wait");
  EXPECT_EQ(curriculum->state_label(0, 4), "go");

  cfg.schedule = "anti_curriculum";
  auto anti = make_task_schedule(cfg, three_tasks(), 100);
  EXPECT_EQ(timeline(*anti, 0, 6), "TTTTTT");  // a is G1
  EXPECT_EQ(timeline(*anti, 1, 6), "...TTT");
  EXPECT_EQ(timeline(*anti, 2, 6), "...TTT");
}

TEST(TrainSchedule, CurriculumPhaseDefaultsToTenPercent) {
  TrainConfig cfg;
  cfg.schedule = "curriculum";
  auto s = make_task_schedule(cfg, three_tasks(), 50);
  EXPECT_EQ(dynamic_cast<CurriculumSchedule&>(*s).phase_iterations(), 5);
  EXPECT_FALSE(s->weight(0, 5) > 0);
  EXPECT_TRUE(s->weight(0, 6) > 0);
}

TEST(TrainSchedule, CurriculumNeedsATaskOfItsFirstGroup) {
  TrainConfig cfg;
  cfg.schedule = "curriculum";
  EXPECT_THROW(make_task_schedule(cfg, {{"a", 1, 4}, {"b", 3, 2}}, 100), ConfigError);
  cfg.schedule = "round_robin";
  EXPECT_THROW(make_task_schedule(cfg, three_tasks(), 100), ConfigError);
}

// Algorithm 1 driven end to end: b validates every 2 iterations with a plateauing score.
TEST(TrainSchedule, DsgTimelineFollowsAlgorithmOne) {
  TrainConfig cfg;  // dsg, Δ 4, defaults of the paper
  auto s = make_task_schedule(cfg, three_tasks(), 100);
  ASSERT_EQ(s->name(), "dsg");
  const std::map<size_t, std::vector<double>> scores = {
      {0, {0.1, 0.2, 0.3, 0.4, 0.5, 0.6}},                      // a improves: always go
      {1, {0.50, 0.60, 0.60, 0.60, 0.599, 0.58, 0.58, 0.58, 0.58, 0.58, 0.58, 0.58}},
      {2, {0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7}}};
  std::map<size_t, size_t> seen;
  std::vector<std::string> trained(3);
  std::vector<std::string> switches;
  RecordingSink sink;
  for (int64_t i = 1; i <= 24; ++i) {
    for (size_t t = 0; t < 3; ++t) {
      trained[t] += s->weight(t, i) > 0 ? 'T' : '.';
      if (s->should_validate(t, i)) {
        const size_t before = sink.records.size();
        s->on_validation(t, i, scores.at(t).at(seen[t]++), sink);
        ASSERT_EQ(sink.records.size(), before + 1);  // one dsg record per validation
        const nlohmann::json& event = sink.records.back();
        if (event["switched"].get<bool>())
          switches.push_back(s->tasks()[t].key + "@" + std::to_string(i) + ":" +
                             event["state"].get<std::string>());
      }
    }
  }
  EXPECT_EQ(trained[0], std::string(24, 'T'));
  // b (validated at 3, 5, ...; best 0.60 from iteration 5): bad at 7 and 9 → stop from 10;
  // 11 is the cooldown epoch (0.599 is within 0.5%); at 13, 0.58 < 0.597 → go from 14; 15 is
  // cooldown, bad at 17 and 19 → stop from 20; at 21 still 0.58 < 0.597 → go again from 22.
  // A decision taken after iteration i applies from i + 1; while stopped only iterations with
  // (i − 1) mod 4 = 0 train (13, 21).
  EXPECT_EQ(trained[1], "TTTTTTTTT...TTTTTTT.TTTT");
  // c plateaus from its first score: bad at 7 and 10 → stop from 11, and stays stopped (the
  // second pair of bad epochs at 16 and 19 re-enters stop without a switch).
  EXPECT_EQ(trained[2], "TTTTTTTTTT..T...T...T...");
  EXPECT_EQ(switches, (std::vector<std::string>{"b@9:stop", "c@10:stop", "b@13:go", "b@19:stop",
                                                "b@21:go"}));
  EXPECT_EQ(s->state_label(1, 24), "go");
  EXPECT_EQ(s->state_label(2, 24), "stop");
  EXPECT_EQ(dynamic_cast<DsgSchedule&>(*s).monitor(1).history().size(), 11u);
}

// train_tasks.py resets every monitor after its (0-based) epochs 5 and 7; vlmt after the
// configured completed multi-task epochs (here: after epoch 2 = iteration 8 of 4-iteration epochs).
TEST(TrainSchedule, DsgResetsEveryMonitorAfterTheConfiguredEpochs) {
  TrainConfig cfg;
  cfg.dsg_reset_after_epochs = {2};
  auto s = make_task_schedule(cfg, three_tasks(), 100);
  RecordingSink sink;
  for (double v : {0.3, 0.3, 0.3}) s->on_validation(1, 3, v, sink);
  auto& dsg = dynamic_cast<DsgSchedule&>(*s);
  ASSERT_EQ(dsg.monitor(1).mode(), DsgMode::kStop);
  for (int64_t i = 1; i <= 7; ++i) s->on_iteration_end(i, sink);
  EXPECT_EQ(dsg.monitor(1).mode(), DsgMode::kStop);
  const size_t records = sink.records.size();
  s->on_iteration_end(8, sink);
  EXPECT_EQ(dsg.monitor(1).mode(), DsgMode::kGo);
  EXPECT_FALSE(dsg.monitor(1).state().has_best);
  EXPECT_EQ(dsg.monitor(1).state().epochs, 3);  // validations seen are kept
  EXPECT_EQ(dsg.monitor(1).history().size(), 3u);
  ASSERT_EQ(sink.records.size(), records + 1);
  EXPECT_EQ(sink.records.back()["kind"], "dsg_reset");
  EXPECT_EQ(sink.records.back()["epoch"], 2);
  EXPECT_EQ(sink.lines.size(), 2u);  // the switch to stop, then the reset
  s->on_iteration_end(12, sink);     // epoch 3: not listed
  EXPECT_EQ(sink.records.size(), records + 1);

  cfg.dsg_reset_after_epochs = {};  // the paper's Algorithm 1
  auto never = make_task_schedule(cfg, three_tasks(), 100);
  for (double v : {0.3, 0.3, 0.3}) never->on_validation(1, 3, v, sink);
  for (int64_t i = 1; i <= 40; ++i) never->on_iteration_end(i, sink);
  EXPECT_EQ(dynamic_cast<DsgSchedule&>(*never).monitor(1).mode(), DsgMode::kStop);
}

TEST(TrainSchedule, DsgStateRoundTripAndMismatchChecks) {
  TrainConfig cfg;
  auto s = make_task_schedule(cfg, three_tasks(), 100);
  NullScheduleSink sink;
  for (double v : {0.3, 0.3, 0.3}) s->on_validation(1, 2, v, sink);
  const std::string blob = s->save_state();

  auto resumed = make_task_schedule(cfg, three_tasks(), 100);
  resumed->load_state(blob);
  const auto& m = dynamic_cast<DsgSchedule&>(*resumed).monitor(1);
  EXPECT_EQ(m.mode(), DsgMode::kStop);
  EXPECT_EQ(m.history().size(), 3u);
  EXPECT_EQ(m.options().gap, 4);
  EXPECT_EQ(timeline(*resumed, 1, 8), "T...T...");

  auto other_tasks = make_task_schedule(cfg, {{"a", 1, 4}, {"c", 4, 3}}, 100);
  EXPECT_THROW(other_tasks->load_state(blob), CheckpointError);
  cfg.schedule = "vanilla";
  auto vanilla = make_task_schedule(cfg, three_tasks(), 100);
  EXPECT_THROW(vanilla->load_state(blob), CheckpointError);
  EXPECT_NO_THROW(vanilla->load_state(vanilla->save_state()));
  EXPECT_THROW(resumed->load_state("garbage"), CheckpointError);
}

TEST(TrainSchedule, RegistryListsEveryPolicyOnceAndEachBuilds) {
  std::vector<std::string> names;
  for (const auto& entry : schedule_registry()) {
    names.push_back(entry.name);
    EXPECT_FALSE(entry.description.empty()) << entry.name;
    TrainConfig cfg;
    cfg.schedule = entry.name;
    // Every test task list has a G1 and a G4 task, so each curriculum has its first group.
    auto s = make_task_schedule(cfg, three_tasks(), 100);
    EXPECT_EQ(s->name(), entry.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"dsg", "vanilla", "curriculum", "anti_curriculum"}));
  try {
    find_schedule("round_robin");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("train.schedule"), std::string::npos) << msg;
    EXPECT_NE(msg.find("round_robin"), std::string::npos) << msg;
    EXPECT_NE(msg.find("dsg, vanilla, curriculum, anti_curriculum"), std::string::npos) << msg;
  }
}

// config/ reads train.schedule as text; the stages check it against the registry
// (train/config_checks.h), in the config's own words and with its exit code, together with the
// config's own problems and the other registries' names.
TEST(TrainSchedule, AnUnknownNameInARunFileIsAConfigErrorNamingFileKeyValueAndTheNames) {
  const auto path = std::filesystem::temp_directory_path() / "vlmt_test_schedule" / "bad_schedule.toml";
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << "[train]\nschedule = \"roundrobin\"\nadamw_kernel = \"turbo\"\nwarmup_proportion = 2.0\n"
                          "[tasks.mine]\nkind = \"VL-nonsense\"\ngroup = 1\nid = 19\nimage_source = \"coco\"\n"
                          "batch_size = 8\nlr = 1e-5\nsubmission = \"fax\"\n[dist]\nbackend = \"carrier-pigeon\"\n";
  const std::string configs = std::string(VLMT_SOURCE_DIR) + "/configs";
  EXPECT_NO_THROW(load_run_config(path.string(), {"train.warmup_proportion=0.1"}, configs));  // names unchecked
  try {
    load_run_config(path.string(), {}, configs, check_registered_names);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("6 configuration errors"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path.string() + ": dist.backend: \"carrier-pigeon\" is not one of: auto, mpi, nccl, local"),
              std::string::npos) << msg;
    EXPECT_NE(msg.find(path.string() + ": train.warmup_proportion: 2 is outside"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path.string() + ": train.schedule: \"roundrobin\" is not one of: dsg, vanilla, "
                       "curriculum, anti_curriculum"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path.string() + ": train.adamw_kernel: \"turbo\" is not one of: fused, ops"),
              std::string::npos) << msg;
    EXPECT_NE(msg.find(path.string() + ": tasks.mine.kind: "), std::string::npos) << msg;
    EXPECT_NE(msg.find("VL-nonsense"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path.string() + ": tasks.mine.submission: \"fax\" is not one of: "), std::string::npos) << msg;
    EXPECT_EQ(msg.find("task \"mine\""), std::string::npos) << "the key names the task once: " << msg;
    EXPECT_EQ(static_cast<int>(e.code()), 2);
  }
  // A --set is reported against the command line, as the config's own errors are.
  try {
    load_run_config("", {"train.schedule=\"nope\""}, configs, check_registered_names);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("command line: train.schedule: \"nope\""), std::string::npos) << e.what();
  }
  for (const auto& entry : schedule_registry())
    EXPECT_NO_THROW(load_run_config("", {"train.schedule=\"" + entry.name + "\""}, configs, check_registered_names))
        << entry.name;
  for (const auto& name : communicator_backend_names())
    EXPECT_NO_THROW(load_run_config("", {"dist.backend=\"" + name + "\""}, configs, check_registered_names)) << name;
  for (const auto& name : adamw_kernel_names())
    EXPECT_NO_THROW(load_run_config("", {"train.adamw_kernel=\"" + name + "\""}, configs, check_registered_names))
        << name;
}

TEST(TrainSchedule, OnlyDsgWritesDsgRecords) {
  for (const auto& entry : schedule_registry()) {
    if (entry.name == "dsg") continue;
    TrainConfig cfg;
    cfg.schedule = entry.name;
    cfg.curriculum_iterations = 3;
    auto s = make_task_schedule(cfg, three_tasks(), 100);
    RecordingSink sink;
    for (int64_t i = 1; i <= 12; ++i)
      for (size_t t = 0; t < 3; ++t)
        if (s->should_validate(t, i)) s->on_validation(t, i, 0.5, sink);
    for (const auto& r : sink.records) EXPECT_NE(r["kind"], "dsg") << entry.name << ": " << r;
  }
}

// The record and log line DSG reports are the ones the trainer wrote before schedules reported
// for themselves: dsg_record of the monitor's event, and a line only when the mode changes.
TEST(TrainSchedule, DsgReportsItsRecordAndSwitchLine) {
  DsgSchedule s(three_tasks(), DsgOptions{});
  DsgMonitor reference("b", DsgOptions{});
  RecordingSink sink;
  const std::vector<double> scores = {0.5, 0.5, 0.5};
  for (size_t k = 0; k < scores.size(); ++k) {
    const int64_t iteration = 2 * static_cast<int64_t>(k + 1);
    s.on_validation(1, iteration, scores[k], sink);
    const DsgEvent& event = reference.observe(iteration, scores[k]);
    ASSERT_EQ(sink.records.size(), k + 1);
    nlohmann::json written = sink.records.back(), expected = dsg_record("b", event);
    written.erase("time");  // the moment of writing
    expected.erase("time");
    EXPECT_EQ(written.dump(), expected.dump());
  }
  // 0.5 three times: bad at 4 and 6 → stop after iteration 6.
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"DSG b: go → stop after iteration 6 (val score 0.5)"}));
}

}  // namespace
}  // namespace vlmt

// A policy's rule on the active tasks is asked while the config loads, before any data is read:
// a curriculum whose first group has no active task is refused with the config's exit code.
TEST(TrainSchedule, ACurriculumWithoutATaskOfItsFirstGroupIsRefusedWhenTheConfigLoads) {
  const std::string configs = std::string(VLMT_SOURCE_DIR) + "/configs";
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"curriculum", "G4"}, {"anti_curriculum", "G1"}};
  for (const auto& [schedule, group] : refused) {
    const std::string active = schedule == "curriculum" ? "vqa" : "nlvr2";
    try {
      load_run_config("", {"train.schedule=\"" + schedule + "\"", "tasks.active=[\"" + active + "\"]"}, configs,
                      check_registered_names);
      FAIL() << schedule << ": expected ConfigError";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("train.schedule: schedule " + schedule + " starts with group " + group +
                                           " but none of the active tasks [" + active + "] is in it"),
                std::string::npos) << e.what();
      EXPECT_EQ(static_cast<int>(e.code()), 2);
    }
  }
  EXPECT_NO_THROW(load_run_config("", {"train.schedule=\"curriculum\"", "tasks.active=[\"nlvr2\"]"}, configs,
                                  check_registered_names));
  EXPECT_NO_THROW(load_run_config("", {"train.schedule=\"anti_curriculum\"", "tasks.active=[\"vqa\"]"}, configs,
                                  check_registered_names));
}
