#pragma once
// Multi-task visual grounding consistency (supplement 8.8, equation 5). For every image that has
// both VQA questions and RefCOCO/+ referring expressions, every (question, expression) pair is
// weighted by d(q, r), the number of visual concepts (nouns/adjectives) they share, and
//   MT-VGC = Σ d(q, r) · 1[q answered right and r localised right] / Σ d(q, r).
// The paper used a part-of-speech tagger; vlmt uses a built-in lexicon of common nouns,
// adjectives, colours, shapes and materials, with a documented fallback (docs/EVALUATION.md):
// a word outside the lexicon still counts as a concept when it is not in the stop-word list
// (articles, pronouns, question words, auxiliaries, prepositions, common verbs, numbers).
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace vlmt {

// Lower-cased concept words of a text (plural "-s"/"-es" folded to the singular when that
// singular is in the lexicon or the word is not a stop word), as a set.
std::set<std::string> visual_concepts(const std::string& text, bool use_fallback = true);
// d(q, r): size of the intersection of the two concept sets.
int shared_concepts(const std::string& question, const std::string& expression,
                    bool use_fallback = true);

struct GroundingItem {
  std::string image_id;
  std::string text;
  bool correct = false;  // VQA: vqa_answer_right(accuracy); RefCOCO/+: IoU > 0.5
};

// y(q) = 1: the answer is fully right under the official metric, i.e. at least 3 of 10 humans
// gave it (leave-one-out accuracy >= 0.9) or, for single-answer data, it matches exactly.
inline constexpr double kVqaRightAccuracy = 0.9;
inline bool vqa_answer_right(double vqa_accuracy) { return vqa_accuracy >= kVqaRightAccuracy - 1e-9; }

struct MtVgcResult {
  double score = 0.0;      // percent; 0 when total_weight is 0
  double total_weight = 0; // Σ d
  int64_t pairs = 0;       // (question, expression) pairs on shared images
  int64_t images = 0;      // images with at least one question and one expression
};

MtVgcResult mt_vgc(const std::vector<GroundingItem>& questions,
                   const std::vector<GroundingItem>& expressions, bool use_fallback = true);

}  // namespace vlmt
