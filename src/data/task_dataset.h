#pragma once
// Task datasets: each turns item indices into one collated Batch (data/batch.h documents the
// layout of every task type). All randomness comes from the Draws passed in (data/draws.h), so
// a batch is a pure function of (items, draws); the loader seeds them per batch.
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "catalog/task_spec.h"
#include "config/run_config.h"
#include "data/batch.h"
#include "data/draws.h"
#include "data/feature_store.h"
#include "text/wordpiece.h"

namespace vlmt {

// Everything a dataset reads, resolved and opened once (stores and vocab are shared).
struct DatasetContext {
  std::string task_key;         // TaskSpec::key ("pretrain" for pretraining)
  int task_id = 0;
  TaskGroup task_group = TaskGroup::kPretraining;
  std::string split;
  std::string annotation_path;  // <root>/annotations/<task>/<split>.jsonl
  int max_text = 0, max_regions = 0;
  std::shared_ptr<const WordPiece> vocab;
  std::shared_ptr<FeatureStore> features;     // features/<source>.h5
  std::shared_ptr<FeatureStore> gt_features;  // features/<source>_gt.h5 (pointing tasks only)
  std::shared_ptr<const std::vector<std::string>> removed_images;  // clean split; may be null
};

class TaskDataset {
 public:
  virtual ~TaskDataset() = default;
  virtual int64_t size() const = 0;
  // Identity of item `index` (question / caption / ref / pair id).
  virtual std::string item_id(int64_t index) const = 0;
  // Every image id item `index` needs (for checks and analysis).
  virtual std::vector<std::string> item_images(int64_t index) const = 0;
  // One collated batch of the given items.
  virtual Batch get_batch(const std::vector<int64_t>& indices, Draws& draws) const = 0;

  const DatasetContext& context() const { return ctx_; }
  const std::string& task_key() const { return ctx_.task_key; }
  const std::string& split() const { return ctx_.split; }

 protected:
  explicit TaskDataset(DatasetContext ctx) : ctx_(std::move(ctx)) {}
  // Allocates the model inputs of `rows` rows and the identity fields. Text rows start as
  // padding; region tensors are uninitialised: every row must get set_regions().
  Batch start_batch(int64_t size, int rows_per_item) const;
  void set_text(Batch& b, int64_t row, const EncodedText& text) const;
  void set_regions(Batch& b, int64_t row, const RegionInput& regions) const;
  // Keeps items whose images all survive the clean split (logs how many were dropped).
  template <class Record, class ImagesOf>
  std::vector<Record> apply_clean_split(std::vector<Record> records, ImagesOf images_of) const;
  // DataError naming the annotation file and the first missing id, if a store lacks an image.
  void require_images(const FeatureStore& store, const std::vector<std::string>& ids) const;

  DatasetContext ctx_;
};

// Retrieval evaluation scores every caption of the split against every image. The two sides are
// built apart, so that each caption's text and each image's regions are built (and encoded,
// tasks/kind_retrieval.cpp) once, not once per pair.
class RetrievalScoring {
 public:
  virtual ~RetrievalScoring() = default;
  // One text row per caption (size = rows = captions); region tensors undefined; image_ids[k] =
  // caption k's own image.
  virtual Batch caption_rows(const std::vector<int64_t>& caption_indices) const = 0;
  // One region row per image (size = rows = images); text tensors undefined.
  virtual Batch image_rows(const std::vector<std::string>& image_ids) const = 0;
  // The distinct images of the split, in first-seen order.
  virtual const std::vector<std::string>& split_images() const = 0;
};

// Data root: DataConfig.root, else $VLMT_DATA_ROOT, else ./data (logs which one and why).
std::string resolve_data_root(const DataConfig& data);
// Vocabulary shared per path within the process.
std::shared_ptr<const WordPiece> open_vocab(const std::string& path);

// The common context of a dataset: <root>/annotations/<annotation_dir>/<split>.jsonl, the
// vocabulary and features/<source>.h5 opened and checked against the model (DataError naming
// the file), and the clean split's removed images (train and val splits only). The datasets of
// tasks are made by their kinds (tasks/task_data.h: make_task_dataset).
DatasetContext open_dataset_context(const std::string& root, const DataConfig& data, const ModelConfig& model,
                                    const std::string& annotation_dir, const std::string& split,
                                    const std::string& source, int max_text, int max_regions);
// Adds features/<gt_source>.h5 (ground-truth box features, usually "<source>_gt") to a context.
void open_gt_features(DatasetContext& ctx, const std::string& root, const DataConfig& data,
                      const std::string& gt_source);

// The fingerprints of a context's feature files under the keys checkpoints record them by:
// "<task>" for features/<source>.h5, "<task>_gt" for the ground-truth boxes' file.
std::map<std::string, std::string> feature_fingerprints(const DatasetContext& ctx);
// One line per key whose fingerprint differs between `trained` (a model's provenance or a
// checkpoint) and `now`, naming the key and both fingerprints; keys missing on either side are
// not compared (unknown is not different).
std::vector<std::string> fingerprint_mismatches(const std::map<std::string, std::string>& trained,
                                                const std::map<std::string, std::string>& now);

}  // namespace vlmt
