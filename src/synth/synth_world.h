#pragma once
// The synthetic world: a seeded, deterministic stand-in for the 12 datasets of 12-in-1 and the
// captions corpus, written in exactly the layout of docs/DATA.md (feature files, JSONL
// annotations, answers.json, vocab.txt, world.json). Image pools are shared across datasets the
// way the real ones are (COCO under VQA, RefCOCO*, GuessWhat, COCO retrieval; VG overlapping
// COCO; ...), so that test images of one dataset appear in train/val of another (paper Table 1).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "synth/synth_tasks.h"

namespace vlmt {

// Default least number of items in each val/test split.
inline constexpr int kSynthMinHeldOut = 128;

struct SynthWorldOptions {
  std::string out_dir;
  double scale = 0.001;  // fraction of the paper's Table 8 training-set sizes
  std::uint64_t seed = 1;
  int feature_dim = 64;
  int num_classes = 64;  // detector classes in /cls_prob (class 0 = background)
  bool float16 = false;  // store features as float16
  // Detected regions per image: the scene's own (objects, proposals, background; at most
  // max_regions) or, with min_regions > 0, filled with more background boxes up to a count
  // drawn per image from [min_regions, max_regions] — the release's adaptive 10–100.
  int min_regions = 0, max_regions = 36;
  int min_held_out = kSynthMinHeldOut;  // items in each val/test split at least
};

// How one dataset is drawn: its image pool, Table 8 training size (thousands), annotations per
// image, whether it owns the pool (its train+val images are the pool, its test images are
// extra images no other dataset uses — like VQA's test2015 on COCO), and its kind of items.
// The table of plans (synth_task_plans) is the one place that names datasets: whatever differs
// between them is a field here or in its SynthItemKind.
struct SynthTaskPlan {
  std::string key;          // task key, or "pretrain" for the captions corpus
  std::string source;       // image pool = feature file
  double paper_train_k;
  int per_image;
  bool owns_pool;
  SynthItemKind items;
  std::string split_like = "";  // draws its split images as this dataset does ("": as itself)
};
const std::vector<SynthTaskPlan>& synth_task_plans();

// Item counts per split: train = max(32, scale·Table 8), val = test = max(min_held_out, train / 10).
struct SynthSplitSizes {
  int train, val, test;
};
SynthSplitSizes synth_split_sizes(const SynthTaskPlan& plan, double scale,
                                  int min_held_out = kSynthMinHeldOut);

struct SynthWorldSummary {
  std::map<std::string, std::map<std::string, int>> items;   // task -> split file -> items
  std::map<std::string, int> images;                         // source -> images in its file
  std::string settings_hash;
};

// Writes the whole world under options.out_dir (created if missing). Throws ConfigError for bad
// options and DataError when a file cannot be written.
SynthWorldSummary write_synth_world(const SynthWorldOptions& options);

}  // namespace vlmt
