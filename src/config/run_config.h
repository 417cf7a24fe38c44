#pragma once
// Typed configuration of a vlmt run, one struct per concern. A run file (e.g.
// configs/synthetic/at.toml) names a model preset (configs/model/<preset>.toml) and may override
// any key; task hyper-parameters are the catalogue's released values (catalog/builtin_tasks.cpp),
// overridden by configs/tasks.toml and the run file's [tasks.<key>]. `--set section.key=value`
// overrides anything after that. Validation happens once, while loading: syntax, types and ranges
// here, the names that registries above own through `check` (load_run_config); the rest of the
// code trusts these structs.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "catalog/task_catalog.h"
#include "config/model_config.h"

namespace vlmt {

class ConfigIssues;  // config/toml_reader.h

struct DataConfig {
  std::string root;            // data root; "" = $VLMT_DATA_ROOT, then ./data
  std::string vocab = "vocab.txt";  // relative to root unless absolute
  int feature_cache_mb = 512;       // decoded images kept per rank, all feature files together (MiB)
  int prefetch_batches = 2;         // batches built ahead per task and rank
  int loader_threads = 1;           // workers building a task's batches, per task and rank
  bool clean_split = true;          // drop other datasets' test images (splits/clean_split.json) from train
  bool clean_val_split = false;     // ... and from val too (the paper's text; released: train only)
  bool allow_fingerprint_mismatch = false;
};

// A task's hyper-parameters in a run: the catalogue's released values ← configs/tasks.toml ← the
// run file's [tasks.<key>].
struct TaskHyper : TaskHyperParams {
  // Region-feature files: features/<features>.h5 and, for the kinds that read ground-truth
  // boxes, features/<gt_features>.h5. "" = the task's own (TaskSpec::image_source, and
  // "<that>_gt"). The released data ships one LMDB per dataset (RefCOCO's, GQA's, Visual7W's
  // detections are files of their own; GuessWhat reads COCO's detections and its own gt boxes):
  // jobs/release_eval.sh names them here.
  std::string features;
  std::string gt_features;
};

struct TaskConfig {
  std::vector<std::string> active;          // task keys, in round-robin order
  std::map<std::string, TaskHyper> hyper;   // every dataset: catalogue values ← tasks.toml ← run file
  const TaskHyper& of(const std::string& key) const;
};

struct TrainConfig {
  std::string stage = "mt_train";   // pretrain | mt_train | finetune
  std::string run_dir;              // "" = checkpoints/<config name>
  std::string init_from;            // parameters to start from (earlier stage's checkpoint)
  // Parameter-name prefixes that init_from may lack; any other parameter the file lacks, or a
  // tensor of the file the model does not have, is an error. Default: the task heads and the task
  // token table (a pretrained model has none); the pretrain stage also allows the visual stream,
  // co-attention, poolers and image-side pretraining heads (a text-only BERT import has none).
  std::vector<std::string> init_expect_missing = {"vil_", "vision_logit.", "linguisic_logit.",
                                                  "bert.embeddings.task_embeddings."};
  int64_t seed = 42;
  bool deterministic = false;
  int64_t iterations = 0;           // 0 = derived (largest task's epochs × iterations per epoch)
  double warmup_proportion = 0.1;
  double head_lr = 1e-4;            // parameters named vil_* (task heads)
  double weight_decay = 0.01;
  // AdamW as train_tasks.py builds it (pytorch_transformers AdamW, correct_bias=False); the
  // pretrain stage defaults to train_concap.py's instead: β2 0.98, ε 1e-8, bias correction on.
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-6;
  bool adam_bias_correction = false;
  // fused: one pass per parameter on the CPU (train/adamw_update.h); ops: LibTorch op by op,
  // the update before the fused pass existed (float32 rounding apart, the same numbers).
  std::string adamw_kernel = "fused";
  double grad_clip = 0.0;           // 0 = off (the released 12-in-1 run does not clip)
  std::string schedule = "dsg";     // a policy of train/schedule_registry.cpp (checked there)
  int64_t curriculum_iterations = 0;// first phase length for (anti-)curriculum; 0 = 10% of total
  int dsg_gap = 4;                  // Δ: a stopped task trains when iteration mod Δ = 0
  double dsg_improve = 0.001;       // better = score > best × (1 + this)
  double dsg_diverge = 0.005;       // back to go when score < best × (1 − this)
  int dsg_patience = 1;             // stop after more than this many bad epochs in a row
  int dsg_cooldown = 1;             // epochs after a stop in which bad epochs are not counted
  // Every monitor is reset (go, no best, counters 0) after these multi-task epochs (1-based
  // counts of completed epochs). train_tasks.py resets after its 0-based epochs 5 and 7; the
  // paper's Algorithm 1 never resets: [].
  std::vector<int64_t> dsg_reset_after_epochs = {6, 8};
  int64_t val_max_batches = 0;      // cap validation batches per task (0 = all)
  // false (released DataLoaders): an epoch is ceil(items / batch) batches, the last one partial;
  // true: floor, every batch full (data/sampler.h). Sets epochs, run length and DSG cadence.
  bool drop_last = false;
  // k micro-batches per task step (train_tasks.py --gradient_accumulation_steps): each rank
  // trains batch / (ranks × k) items k times and all-reduces the summed gradient once, so a
  // task's batch per optimiser step stays its batch_size with fewer ranks (docs/TRAINING.md).
  int gradient_accumulation = 1;
  int64_t log_every = 10;
  // TensorBoard event files in the run directory, written by rank 0 (train/tensorboard.h).
  bool tensorboard = true;
  int64_t checkpoint_every = 500;
  double max_hours = 0.0;           // checkpoint and exit before this wall time (0 = off)
  int64_t stop_after_iteration = 0; // checkpoint and exit (code 75) after this iteration (0 = off)
  int num_threads = 0;              // intra-op threads per rank (0 = cores / ranks)
  double lr = 0.0;                  // base LR; 0 = min of the active tasks' LRs (pretraining: 1e-4)
  double lr_multiplier = 1.0;       // scales every LR (base, head, tasks); ratios and loss scales kept.
                                    // The tiny synthetic configs use 5 (docs/TRAINING.md).
  // Pretraining (the captions corpus is one stream with its own batch size and epochs).
  int batch_size = 512;
  int epochs = 10;
  double mask_prob = 0.15;
  double region_mask_iou = 0.4;
  std::string region_masking = "released";  // released | paper (data/task_datasets.h PretrainMasking)
  // Referring expressions (V-logit) train on the detections plus the image's ground-truth boxes
  // (features/<source>_gt.h5), as released; false = detections only.
  bool referring_gt_regions = true;
  // Output biases of the BCE-trained heads at the start of a run: "zero" as released, or
  // "prior" = log-odds of the task's target base rate (docs/TRAINING.md "Head bias prior").
  std::string head_bias_init = "zero";
  // Mixed precision on GPUs.
  bool bf16 = false;
};

// Defaults that depend on train.stage (set before a file's keys are read): the pretrain stage
// uses train_concap.py's optimiser settings.
void apply_stage_defaults(TrainConfig& train);

struct DistConfig {
  std::string backend = "auto";  // auto | mpi | nccl | local
  double bucket_mb = 25.0;
};

struct RunConfig {
  std::string file;       // the run file this came from ("" = defaults only)
  std::string configs_dir;
  ModelConfig model;
  DataConfig data;
  TaskConfig tasks;
  TaskCatalog catalog;    // the built-in datasets and those this config declares
  TrainConfig train;
  DistConfig dist;
  toml::table resolved;   // every value used, defaults included
  std::string resolved_toml() const;
};

// Loads a run file (or only presets when `file` is empty), applies overrides, validates.
// Throws ConfigError naming every bad key, value and file.
// `check`: the checks the layers above config own, of the names their registries hold (task
// kinds, schedules, AdamW kernels: train/config_checks.h). They run on the values read and add
// to the same issues, so one ConfigError (exit 2) lists every problem of the file and the
// command line, the config's own and the registries'.
using RegistryCheck = std::function<void(const RunConfig&, ConfigIssues&)>;
RunConfig load_run_config(const std::string& file, const std::vector<std::string>& overrides,
                          const std::string& configs_dir = "", const RegistryCheck& check = {});

// Rebuilds a RunConfig from a resolved table (as stored in a checkpoint).
RunConfig run_config_from_table(const toml::table& resolved, const std::string& origin,
                                const RegistryCheck& check = {});

// Reads a model preset file alone (configs/model/<name>.toml or a path).
ModelConfig load_model_preset(const std::string& name_or_path, const std::string& configs_dir = "");

// Where configs/ is: $VLMT_CONFIG_DIR, the ancestor of `near` that holds model/, ./configs,
// or the source tree's configs/.
std::string find_configs_dir(const std::string& near = "");

// A relative config path that does not exist here, such as configs/at.toml outside the
// repository, is looked up beside the configs directory (VLMT_CONFIG_DIR of an installed vlmt),
// so the documented commands work from any directory. Logs where it found it.
std::string locate_config(const std::string& path);

}  // namespace vlmt
