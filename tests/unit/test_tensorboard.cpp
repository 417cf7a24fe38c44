// TensorBoard event files: the CRC, the wire format of the events, the framing, cutting a file for a
// resumed run, and the scalars each metrics.jsonl record gives. tests/integration/test_tensorboard.sh
// reads real runs' files back with an independent reader.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/event_file.h"
#include "eval/results.h"
#include "train/progress.h"
#include "train/tensorboard.h"

namespace fs = std::filesystem;
using namespace vlmt;
using namespace vlmt::tfevents;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / "vlmt_test_tensorboard" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<int64_t> steps_of(const std::string& path) {
  std::vector<int64_t> steps;
  for (const auto& r : scan_event_file(path).records) steps.push_back(event_step(r.data));
  return steps;
}

std::vector<std::string> event_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(TensorBoard, Crc32cIsCastagnoliMasked) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the CRC-32C check value
  EXPECT_EQ(crc32c("", 0), 0u);
  EXPECT_EQ(masked_crc32c("", 0), 0xA282EAD8u);
  const uint32_t crc = crc32c("123456789", 9);
  EXPECT_EQ(masked_crc32c("123456789", 9), ((crc >> 15) | (crc << 17)) + 0xA282EAD8u);
}

// The bytes protobuf's encoding gives these Event messages, field by field.
TEST(TensorBoard, EventsAreEncodedAsTheProtobufWireFormat) {
  const std::string one = bytes({0xf0, 0x3f});  // the high bytes of the double 1.0, little-endian
  EXPECT_EQ(file_version_event(1.0), bytes({0x09, 0, 0, 0, 0, 0, 0}) + one + bytes({0x1a, 13}) + "brain.Event:2");
  // wall_time 1.0 (field 1, fixed64), step 300 (field 2, varint ac 02), summary (field 5) holding
  // one value (field 1) of tag "a" (field 1) and simple_value 1.0f (field 2, fixed32 00 00 80 3f).
  const std::string value = bytes({0x0a, 1}) + "a" + bytes({0x15, 0, 0, 0x80, 0x3f});
  const std::string summary = bytes({0x0a, static_cast<int>(value.size())}) + value;
  EXPECT_EQ(scalars_event(1.0, 300, {{"a", 1.0f}}), bytes({0x09, 0, 0, 0, 0, 0, 0}) + one + bytes({0x10, 0xac, 0x02}) +
                                                     bytes({0x2a, static_cast<int>(summary.size())}) + summary);
  EXPECT_EQ(event_step(scalars_event(1.0, 300, {{"a", 1.0f}})), 300);
  EXPECT_EQ(event_step(file_version_event(1.0)), 0);
}

TEST(TensorBoard, RecordsAreFramedWithMaskedCrcs) {
  const std::string data = "abc";
  const std::string record = frame_record(data);
  ASSERT_EQ(record.size(), 8 + 4 + data.size() + 4);
  EXPECT_EQ(record.substr(0, 8), bytes({3, 0, 0, 0, 0, 0, 0, 0}));
  uint32_t length_crc, data_crc;
  std::memcpy(&length_crc, record.data() + 8, 4);
  std::memcpy(&data_crc, record.data() + 12 + data.size(), 4);
  EXPECT_EQ(length_crc, masked_crc32c(record.data(), 8));
  EXPECT_EQ(record.substr(12, 3), data);
  EXPECT_EQ(data_crc, masked_crc32c(data.data(), data.size()));
}

// A run resumed from the checkpoint of iteration 6 cuts the steps after 6 (and a torn tail),
// keeping the file_version event and the steps up to 6.
TEST(TensorBoard, TruncateAfterStepKeepsTheStepsUpToTheCheckpoint) {
  const auto path = (fresh_dir("truncate") / "events.out.tfevents.1.host").string();
  {
    EventFileWriter writer(path);
    for (int step = 1; step <= 10; ++step) writer.write_scalars(step, 100.0 + step, {{"train/lr", 0.1f * step}});
  }
  std::ofstream(path, std::ios::app | std::ios::binary) << frame_record(scalars_event(111, 11, {{"x", 1}})).substr(0, 9);
  EXPECT_EQ(scan_event_file(path).problem, "torn record header at byte " + std::to_string(scan_event_file(path).intact_bytes));
  EXPECT_GT(truncate_after_step(path, 6), 0u);
  EXPECT_EQ(steps_of(path), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(scan_event_file(path).problem, "");
  EXPECT_EQ(truncate_after_step(path, 6), 0u);  // nothing more to cut
  EXPECT_GT(truncate_after_step(path, 0), 0u);  // a fresh start keeps the header only
  EXPECT_EQ(steps_of(path), (std::vector<int64_t>{0}));
  // A corrupt record ends the file there.
  { EventFileWriter(path).write_scalars(1, 101.0, {{"train/lr", 0.5f}}); }
  { EventFileWriter(path).write_scalars(2, 102.0, {{"train/lr", 0.5f}}); }
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(-6, std::ios::end);
  f.put('\x7f');
  f.close();
  const FileScan scan = scan_event_file(path);
  EXPECT_EQ(scan.records.size(), 2u);
  EXPECT_NE(scan.problem.find("data CRC mismatch"), std::string::npos) << scan.problem;
}

TEST(TensorBoard, TagsFollowTheReleasedNames) {
  EXPECT_EQ(tensorboard_task_name("refcoco+"), "refcocoplus");
  EXPECT_EQ(tensorboard_task_name("my task"), "my_task");
  auto scalars = [](const nlohmann::json& record) {
    std::map<std::string, float> out;
    for (const auto& s : tensorboard_scalars(record)) out[s.tag] = s.value;
    return out;
  };
  TaskProgress p;
  p.task = "refcoco+";
  p.loss = 1.5;
  p.score = 0.25;  // the last validation score: not a training scalar
  p.batch_score = 0.5;
  p.losses = {{"masked_loss_t", 2.0}};
  EXPECT_EQ(scalars(train_record(7, p, 2e-5, 40.0)),
            (std::map<std::string, float>{{"train/refcocoplus_loss", 1.5f}, {"train/refcocoplus_score", 0.5f},
                                          {"train/refcocoplus_masked_loss_t", 2.0f}}));
  ValidationSummary v{0.75, 0.5, {{"masked_word_accuracy", 0.25}}, {{"next_sentence_loss", 0.125}}};
  EXPECT_EQ(scalars(val_record(9, "pretrain", 1, v)),
            (std::map<std::string, float>{{"val/pretrain_score", 0.75f}, {"val/pretrain_loss", 0.5f},
                                          {"val/pretrain_masked_word_accuracy", 0.25f},
                                          {"val/pretrain_next_sentence_loss", 0.125f}}));
  ProgressSnapshot snap;
  snap.iteration = 10;
  snap.lr = 1e-4;
  snap.samples_per_s = 80;
  snap.tasks = {{"vqa", 1.0, std::nullopt, "go", std::nullopt, {}},
                {"gqa", std::nullopt, std::nullopt, "stop", std::nullopt, {}},
                {"nlvr2", 1.0, std::nullopt, "wait", std::nullopt, {}}};
  snap.time_split = {{"forward", 0.25}};
  EXPECT_EQ(scalars(progress_record(snap)),
            (std::map<std::string, float>{{"train/lr", 1e-4f}, {"train/samples_per_s", 80.0f}, {"time/forward", 0.25f},
                                          {"dsg/vqa_go", 1.0f}, {"dsg/gqa_go", 0.0f}, {"dsg/nlvr2_go", 0.0f}}));
  DsgEvent event;
  event.iteration = 40;
  event.mode = DsgMode::kStop;
  event.best = 0.5;
  EXPECT_EQ(scalars(dsg_record("vqa", event)),
            (std::map<std::string, float>{{"val/vqa_early_stop", 1.0f}, {"dsg/vqa_best", 0.5f}}));
  EXPECT_EQ(scalars(dsg_reset_record(60, 6)), (std::map<std::string, float>{{"dsg/reset_epoch", 6.0f}}));
  RunInfo info;
  info.run = "r";
  EXPECT_TRUE(scalars(to_json(info)).empty());
  // A null number (a NaN loss) is left out.
  p.loss = std::nullopt;
  EXPECT_EQ(scalars(train_record(7, p, 2e-5, 40.0)).count("train/refcocoplus_loss"), 0u);
}

// Across a stop and a resume from an earlier checkpoint, every step is in the files once.
TEST(TensorBoard, ResumedLogCutsTheStepsAfterItsCheckpoint) {
  const auto dir = fresh_dir("resume");
  auto run = [&](int64_t start, int64_t last) {
    TensorBoardLog log(dir.string());
    RunInfo info;
    info.run = "r";
    info.start_iteration = start;
    log.record(to_json(info));
    for (int64_t it = start + 1; it <= last; ++it) {
      ProgressSnapshot snap;
      snap.iteration = it;
      snap.lr = 0.001 * it;
      log.record(progress_record(snap));
    }
  };
  run(0, 7);
  ASSERT_EQ(event_files(dir).size(), 1u);
  const std::string first = event_files(dir)[0];
  fs::rename(first, dir / "events.out.tfevents.1.host");  // the second run's file has another name
  run(4, 9);
  std::vector<int64_t> steps;
  for (const auto& file : event_files(dir))
    for (const int64_t s : steps_of(file))
      if (s > 0) steps.push_back(s);
  std::sort(steps.begin(), steps.end());
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
}
