#include "tasks/task_data.h"

#include "core/log.h"
#include "tasks/task_kind.h"

namespace vlmt {

FeatureSources feature_sources(const TaskSpec& spec, const TaskHyper& hyper) {
  FeatureSources out;
  out.detections = hyper.features.empty() ? spec.image_source : hyper.features;
  out.ground_truth = hyper.gt_features.empty() ? out.detections + "_gt" : hyper.gt_features;
  return out;
}

std::unique_ptr<TaskDataset> make_task_dataset(const TaskSpec& spec, const std::string& split,
                                               const DataConfig& data, const TaskHyper& hyper,
                                               const ModelConfig& model, const TrainConfig& train) {
  const TaskKind& kind = kind_of(spec);
  const std::string root = resolve_data_root(data);
  const FeatureSources sources = feature_sources(spec, hyper);
  DatasetContext ctx = open_dataset_context(root, data, model, spec.key, split, sources.detections,
                                            hyper.max_text > 0 ? hyper.max_text : spec.released.max_text,
                                            hyper.max_regions > 0 ? hyper.max_regions : spec.released.max_regions);
  ctx.task_key = spec.key;
  ctx.task_id = spec.id;
  ctx.task_group = spec.group;
  if (kind.reads_gt_features(split, train)) open_gt_features(ctx, root, data, sources.ground_truth);
  auto out = kind.make_dataset(std::move(ctx), spec, DatasetSources{root, data, model, train});
  log::info0(cat("task ", spec.key, "/", split, ": ", out->size(), " items from ", out->context().annotation_path));
  return out;
}

std::unique_ptr<TaskDataset> make_pretrain_dataset(const std::string& split, const DataConfig& data,
                                                   const TrainConfig& train, const ModelConfig& model,
                                                   int max_text, int max_regions) {
  TaskHyper hyper;
  hyper.max_text = max_text;
  hyper.max_regions = max_regions;
  return make_task_dataset(TaskCatalog::builtin().pretraining(), split, data, hyper, model, train);
}

}  // namespace vlmt
