#pragma once
// MT-VGC over the per-item predictions that `evaluate` writes (docs/EVALUATION.md): the VQA
// questions and the RefCOCO / RefCOCO+ expressions of one split, each with its `correct` flag
// from predictions/<task>_<split>.jsonl, their texts from the annotation files the results
// record names, scored with eval/mt_vgc.h.
#include <string>

#include "eval/results.h"

namespace vlmt {

inline constexpr const char* kMtVgcTask = "mt_vgc";  // "task" of the result record

struct MtVgcOptions {
  std::string results_dir;  // holds results.jsonl and predictions/ (evaluate --out)
  std::string split = "val";
  std::string data_root;     // "" = the annotation paths recorded by evaluate
  bool use_fallback = true;  // see visual_concepts()
};

// Builds the record {"task":"mt_vgc","metric":"mt_vgc","score","n" = pairs, extras: images,
// total_weight, refcoco / refcoco+ scores on their own}. Uses the last vqa result of the split
// and the last refcoco and refcoco+ results (at least one of them). Throws DataError naming the
// file when a record, a predictions file or an annotation is missing.
ResultRecord mt_vgc_from_results(const MtVgcOptions& options);

}  // namespace vlmt
