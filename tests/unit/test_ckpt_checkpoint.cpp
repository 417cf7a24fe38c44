// Training checkpoints: full round trip (tensors, Boost blob, config, fingerprints, RNG),
// corruption detection, atomic replacement and resume fallback.
#include <gtest/gtest.h>

#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <cerrno>
#include <cstring>
#include <regex>

#include "ckpt/blob.h"
#include "ckpt/checkpoint.h"
#include "core/error.h"
#include "test_ckpt_util.h"

namespace vlmt::ckpt {
namespace {

using test_util::checkpoint_error;
using test_util::TempDir;
namespace fs = std::filesystem;

struct TrainerState {
  int64_t step = 0;
  std::map<std::string, double> task_loss_ema;
  std::vector<int64_t> sampler_cursor;
  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar& step& task_loss_ema& sampler_cursor;
  }
  bool operator==(const TrainerState& o) const {
    return step == o.step && task_loss_ema == o.task_loss_ema && sampler_cursor == o.sampler_cursor;
  }
};

CheckpointData make_data(int64_t step) {
  torch::manual_seed(static_cast<uint64_t>(step));
  CheckpointData data;
  data.stage = "mt_train";
  data.config_toml = "[train]\nlr = 4e-5\nname = \"caf\u00e9\"\n";
  data.fingerprints = {{"vqa/train.jsonl", "sha:1234"}, {"features/coco.h5", "size:99"}};
  data.params = {{"bert.embeddings.word_embeddings.weight", torch::randn({8, 4})},
                 {"cls.predictions.decoder.weight", torch::randn({8, 4})}};
  data.optim = {{"bert.embeddings.word_embeddings.weight.exp_avg", torch::randn({8, 4})},
                {"bert.embeddings.word_embeddings.weight.exp_avg_sq", torch::rand({8, 4})},
                {"step", torch::tensor(step)}};
  TrainerState state{step, {{"vqa", 0.5}, {"refcoco", 1.25}}, {3, 1, 4, 1, 5}};
  data.trainer_state = to_blob(state);
  data.rng = {{"cpu", at::detail::getDefaultCPUGenerator().get_state()},
              {"sampler", torch::arange(16, torch::kUInt8)}};
  return data;
}

void expect_same_tensors(const NamedTensors& a, const NamedTensors& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  }
}

TEST(CkptCheckpoint, WriteReadRoundTripsEverything) {
  TempDir dir;
  CheckpointData written = make_data(7);
  std::string path = write_checkpoint(dir.str(), "latest", written);
  EXPECT_EQ(path, dir.file("latest.h5"));
  EXPECT_FALSE(fs::exists(dir.file("latest.h5.tmp")));
  CheckpointData read = read_checkpoint(path);
  EXPECT_EQ(read.stage, "mt_train");
  EXPECT_EQ(read.format_version, kCheckpointFormatVersion);
  EXPECT_EQ(read.config_toml, written.config_toml);
  EXPECT_EQ(read.fingerprints, written.fingerprints);
  expect_same_tensors(read.params, written.params);
  expect_same_tensors(read.optim, written.optim);
  ASSERT_EQ(read.rng.size(), 2u);
  EXPECT_TRUE(torch::equal(read.rng.at("cpu"), written.rng.at("cpu")));
  EXPECT_EQ(from_blob<TrainerState>(read.trainer_state),
            (TrainerState{7, {{"vqa", 0.5}, {"refcoco", 1.25}}, {3, 1, 4, 1, 5}}));

  // The restored generator state reproduces the random stream that followed the save.
  torch::Tensor expected = torch::randn({5});
  torch::randn({3});
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // shares the default state
  generator.set_state(read.rng.at("cpu"));
  EXPECT_TRUE(torch::equal(torch::randn({5}), expected));
}

TEST(CkptCheckpoint, GarbageBlobIsACheckpointError) {
  EXPECT_THROW(from_blob<TrainerState>("definitely not an archive"), CheckpointError);
  std::string blob = to_blob(TrainerState{1, {{"a", 1.0}}, {1, 2, 3}});
  EXPECT_THROW(from_blob<TrainerState>(blob.substr(0, blob.size() / 2)), CheckpointError);
}

TEST(CkptCheckpoint, CorruptOptimiserTensorIsNamed) {
  TempDir dir;
  std::string path = write_checkpoint(dir.str(), "latest", make_data(3));
  test_util::xor_byte(path, test_util::dataset_offset(
                              path, "/optim/bert.embeddings.word_embeddings.weight.exp_avg_sq") + 9);
  std::string message = checkpoint_error([&] { read_checkpoint(path); });
  EXPECT_NE(message.find("bert.embeddings.word_embeddings.weight.exp_avg_sq"), std::string::npos)
      << message;
  EXPECT_NE(message.find("checksum mismatch"), std::string::npos) << message;
}

TEST(CkptCheckpoint, CorruptTrainerStateIsNamed) {
  TempDir dir;
  std::string path = write_checkpoint(dir.str(), "latest", make_data(3));
  test_util::xor_byte(path, test_util::dataset_offset(path, "/trainer_state") + 2, 0x01);
  EXPECT_NE(checkpoint_error([&] { read_checkpoint(path); }).find("trainer_state"),
            std::string::npos);
}

TEST(CkptCheckpoint, VersionMismatchAndParameterFileAreRejected) {
  TempDir dir;
  CheckpointData future = make_data(1);
  future.format_version = kCheckpointFormatVersion + 1;
  std::string path = write_checkpoint(dir.str(), "future", future);
  std::string message = checkpoint_error([&] { read_checkpoint(path); });
  EXPECT_NE(message.find("format version 2"), std::string::npos) << message;

  write_tensors(dir.file("params.h5"), {{"w", torch::ones({2})}});
  EXPECT_NE(checkpoint_error([&] { read_checkpoint(dir.file("params.h5")); }).find("parameters"),
            std::string::npos);
}

int64_t step_of(const std::string& path) {
  return from_blob<TrainerState>(read_checkpoint(path).trainer_state).step;
}

TEST(CkptCheckpoint, SecondWriteKeepsThePreviousAsPrev) {
  TempDir dir;
  write_checkpoint(dir.str(), "latest", make_data(1));
  write_checkpoint(dir.str(), "latest", make_data(2));
  EXPECT_EQ(step_of(dir.file("latest.h5")), 2);
  EXPECT_EQ(step_of(dir.file("latest_prev.h5")), 1);
  write_checkpoint(dir.str(), "latest", make_data(3));
  EXPECT_EQ(step_of(dir.file("latest.h5")), 3);
  EXPECT_EQ(step_of(dir.file("latest_prev.h5")), 2);
}

TEST(CkptCheckpoint, KilledWriteNeverReplacesLatest) {
  TempDir dir;
  write_checkpoint(dir.str(), "latest", make_data(1));
  // A process killed mid-write leaves a partial tmp file; resume ignores it.
  {
    std::string tmp = write_checkpoint(dir.str(), "scratch", make_data(2));
    fs::rename(tmp, dir.file("latest.h5.tmp"));
    test_util::truncate_to(dir.file("latest.h5.tmp"), fs::file_size(dir.file("latest.h5.tmp")) / 3);
  }
  EXPECT_EQ(find_latest(dir.str()), dir.file("latest.h5"));
  EXPECT_EQ(step_of(dir.file("latest.h5")), 1);

  // A write that fails part-way (here: an invalid tensor name) leaves latest.h5 untouched and
  // cleans up its tmp file.
  CheckpointData bad = make_data(3);
  bad.optim.emplace_back("bad/name", torch::ones({1}));
  EXPECT_THROW(write_checkpoint(dir.str(), "latest", bad), CheckpointError);
  EXPECT_FALSE(fs::exists(dir.file("latest.h5.tmp")));
  EXPECT_EQ(step_of(dir.file("latest.h5")), 1);
  EXPECT_FALSE(fs::exists(dir.file("latest_prev.h5")));
}

// A disk that fills during the write (the tmp file is a link to /dev/full, where every write
// fails with ENOSPC): the error carries the system's reason and the bytes the checkpoint needs,
// and the existing checkpoint stays as it was.
TEST(CkptCheckpoint, AFullDiskIsReportedWithTheReasonAndTheSizeNeeded) {
  CheckpointData big = make_data(2);
  big.params.emplace_back("bert.big", torch::randn({1 << 20}));  // 4 MiB: written before the flush
  TempDir reference;
  const auto needs = fs::file_size(write_checkpoint(reference.str(), "latest", big));

  TempDir dir;
  write_checkpoint(dir.str(), "latest", make_data(1));
  fs::create_symlink("/dev/full", dir.file("latest.h5.tmp"));
  const std::string message = checkpoint_error([&] { write_checkpoint(dir.str(), "latest", big); });
  EXPECT_NE(message.find("latest.h5.tmp"), std::string::npos) << message;
  EXPECT_NE(message.find(std::strerror(ENOSPC)), std::string::npos) << message;  // "No space left on device"
  std::smatch bytes;
  ASSERT_TRUE(std::regex_search(message, bytes, std::regex("needs at least ([0-9]+) bytes"))) << message;
  const double stated = std::stod(bytes[1]);
  EXPECT_LE(stated, static_cast<double>(needs)) << message;        // a lower bound of the file's size,
  EXPECT_GE(stated, 0.99 * static_cast<double>(needs)) << message;  // and a close one
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir.file("latest.h5.tmp"))));
  EXPECT_EQ(step_of(dir.file("latest.h5")), 1);
  EXPECT_FALSE(fs::exists(dir.file("latest_prev.h5")));
}

TEST(CkptCheckpoint, FindLatestFallsBackToPrev) {
  TempDir dir;
  EXPECT_FALSE(find_latest(dir.str()).has_value());
  write_checkpoint(dir.str(), "latest", make_data(1));
  write_checkpoint(dir.str(), "latest", make_data(2));
  EXPECT_EQ(find_latest(dir.str()), dir.file("latest.h5"));

  // Corrupt latest -> prev.
  std::string latest = dir.file("latest.h5");
  test_util::xor_byte(latest, test_util::dataset_offset(
                                latest, "/params/bert.embeddings.word_embeddings.weight") + 1);
  EXPECT_EQ(find_latest(dir.str()), dir.file("latest_prev.h5"));

  // Killed between the two renames: only prev exists.
  fs::remove(latest);
  EXPECT_EQ(find_latest(dir.str()), dir.file("latest_prev.h5"));

  // Nothing usable although checkpoints exist: refuse rather than restart silently.
  test_util::truncate_to(dir.file("latest_prev.h5"), 100);
  std::string message = checkpoint_error([&] { find_latest(dir.str()); });
  EXPECT_NE(message.find("latest_prev.h5"), std::string::npos) << message;
}

}  // namespace
}  // namespace vlmt::ckpt
