#pragma once
// One annotation item per call for each synthetic dataset, in the canonical JSONL schemas of
// docs/DATA.md. Answers are a deterministic function of the scene, then label noise is applied
// the way the real data has it (VQA: 10 human answers, a few wrong; others: a small flip rate).
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "synth/synth_rng.h"
#include "synth/synth_scene.h"

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

// Everything an item maker sees: the item's id and its image(s).
struct SynthItemContext {
  std::string item_id;
  std::vector<const SynthScene*> scenes;  // SynthItemKind::scenes_per_item of them
  SynthRng* rng;
};

// The item, or nullopt when this image cannot host this kind of item (e.g. Visual7W needs four
// objects); the caller then tries another draw or image.
using SynthItem = std::optional<nlohmann::ordered_json>;

// What a dataset's items are and what the world writes around them. The plan table of
// synth_world.cpp gives each dataset one kind, built by the functions below.
struct SynthItemKind {
  std::function<SynthItem(const SynthItemContext&)> make;
  int scenes_per_item = 1;                              // 2: an image pair (NLVR2)
  const std::vector<std::string>* answers = nullptr;    // written as the dataset's answers.json
  bool hard_negatives = false;     // retrieval: train_hard_pool.jsonl lists each image's nearest images
  bool ground_truth_regions = false;  // pointing: the image source also gets a _gt feature file
  bool captions_corpus = false;    // the pretraining corpus: train and val only, not a task
};

// Question answering over an answer vocabulary: `annotators` raw answers, each wrong with
// probability `noise`, scored min(1, #/3) (a single answer scores 1).
enum class SynthQuestions {
  kAttributes,           // VQA phrasing: "what color is the ...?"
  kAttributesVgPhrasing,  // VG QA phrasing: "what is the color of the ...?"
  kRelations,            // GQA: left / right of, which side
};
SynthItemKind synth_question_items(SynthQuestions questions, int annotators, double noise,
                                   const std::vector<std::string>& answers);
// Captions of one image: retrieval items (with caption id and hard negatives) or the
// pretraining corpus (image and caption only).
SynthItemKind synth_retrieval_items();
SynthItemKind synth_captions_corpus();
// Referring expressions with a box.
enum class SynthReferring {
  kShortWithLocation,   // RefCOCO: short, with location words
  kAppearanceOnly,      // RefCOCO+: no location words
  kLongWithNeighbour,   // RefCOCOg: every attribute plus a neighbour
};
SynthItemKind synth_referring_items(SynthReferring style);
SynthItemKind synth_pointing_items();    // Visual7W: pick one of 4 boxes
SynthItemKind synth_dialog_items();      // GuessWhat: yes/no dialog, pick the object
SynthItemKind synth_pair_statement_items();  // NLVR2: a statement about two images
SynthItemKind synth_entailment_items();  // SNLI-VE: hypothesis and label

// Every text field of an item (for the vocabulary check).
std::vector<std::string> synth_item_texts(const nlohmann::ordered_json& item);

}  // namespace vlmt
