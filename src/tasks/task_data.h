#pragma once
// The dataset of a task on one split, made by the task's kind from the common context
// (data/task_dataset.h). Pretraining is the task "pretrain" (catalog/task_catalog.h).
#include <memory>
#include <string>

#include "catalog/task_spec.h"
#include "config/run_config.h"
#include "data/task_dataset.h"

namespace vlmt {

// The feature files a task reads (TaskHyper::features / gt_features, else the task's own).
struct FeatureSources {
  std::string detections;    // features/<detections>.h5
  std::string ground_truth;  // features/<ground_truth>.h5
};
FeatureSources feature_sources(const TaskSpec& spec, const TaskHyper& hyper);

// max_text / max_regions come from `hyper` (the task's released defaults where 0); pretraining's
// masking from `train`. Throws ConfigError for an unregistered kind and DataError for
// missing/malformed files, answer vocabularies larger than the model's head, feature
// dimensions other than model.v_feature_size, or images missing from the features.
std::unique_ptr<TaskDataset> make_task_dataset(const TaskSpec& spec, const std::string& split,
                                               const DataConfig& data, const TaskHyper& hyper,
                                               const ModelConfig& model, const TrainConfig& train = TrainConfig{});

// Pretraining on annotations/pretrain/<split>.jsonl over features/cc.h5 (needs /cls_prob with
// model.v_target_size classes). Masking follows train.mask_prob and train.region_mask_iou.
std::unique_ptr<TaskDataset> make_pretrain_dataset(const std::string& split, const DataConfig& data,
                                                   const TrainConfig& train, const ModelConfig& model,
                                                   int max_text = 0, int max_regions = 0);

}  // namespace vlmt
