#pragma once
// One annotation item per call for each synthetic dataset, in the canonical JSONL schemas of
// docs/DATA.md. Answers are a deterministic function of the scene, then label noise is applied
// the way the real data has it (VQA: 10 human answers, a few wrong; others: a small flip rate).
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/synth_rng.h"
#include "data/synth_scene.h"

namespace vlmt {

// Scenes by image id, built on first use.
class SynthSceneCache {
 public:
  explicit SynthSceneCache(std::uint64_t world_seed) : seed_(world_seed) {}
  const SynthScene& get(const std::string& image_id);

 private:
  std::uint64_t seed_;
  std::unordered_map<std::string, SynthScene> scenes_;
};

// Answer vocabularies (answers.json): VQA and VG QA share one, GQA has its own.
const std::vector<std::string>& synth_vqa_answers();
const std::vector<std::string>& synth_gqa_answers();

// Everything an item maker sees: the task, the split, the item's id and its image(s).
struct SynthItemContext {
  std::string task;      // task key, or "pretrain" for the captions corpus
  std::string item_id;
  std::vector<const SynthScene*> scenes;  // one, or two for nlvr2
  SynthRng* rng;
};

// The item, or nullopt when this image cannot host this kind of item (e.g. Visual7W needs four
// objects); the caller then tries another draw or image. Throws Error for an unknown task.
std::optional<nlohmann::ordered_json> make_synth_item(const SynthItemContext& ctx);

// The 3 images of `pool` most similar to `image` by shared attributes (hard negatives), ties
// broken by pool order.
std::vector<std::string> synth_hard_negatives(const SynthScene& image,
                                              const std::vector<const SynthScene*>& pool);

// Every text field of an item (for the vocabulary check).
std::vector<std::string> synth_item_texts(const nlohmann::ordered_json& item);

}  // namespace vlmt
