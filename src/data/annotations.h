#pragma once
// Readers of the canonical JSONL annotation schemas (docs/DATA.md "Annotations"), one struct per
// task group. Every reader throws DataError naming the file, the 1-based line number and the
// missing or mistyped field. Fields that test splits may omit are optional here.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vlmt {

using Box = std::array<float, 4>;  // x1, y1, x2, y2 in pixels

struct VqaRecord {  // vqa, vgqa, gqa
  std::string question_id, image_id, question;
  std::vector<std::string> answers;  // raw human answers (optional)
  std::vector<int64_t> labels;       // indices into answers.json (optional)
  std::vector<float> scores;         // soft score of each label (same length as labels)
};

struct RetrievalRecord {  // retrieval_coco, retrieval_flickr30k
  std::string caption_id, image_id, caption;
};

// One line of a retrieval task's <split>_hard_pool.jsonl: the offline hard-negative pool of a
// training image (the released hard_negative.pkl row without the image itself: its nearest
// images by feature, tools/convert/retrieval.py --hard-pool).
struct HardPoolRecord {
  std::string image_id;
  std::vector<std::string> pool;
};

struct ReferringRecord {  // refcoco, refcoco+, refcocog
  std::string ref_id, image_id, expression;
  Box box{};
};

struct PointingRecord {  // visual7w, guesswhat
  std::string id, image_id, text;
  std::vector<Box> candidates;
  int64_t answer = -1;  // -1 when absent (test)
};

struct Nlvr2Record {
  std::string pair_id;
  std::array<std::string, 2> image_ids;
  std::string sentence;
  int label = -1;  // 0 false, 1 true, -1 absent
};

struct SnliVeRecord {
  std::string pair_id, image_id, hypothesis;
  int label = -1;  // index in kSnliVeLabels, -1 absent
};

struct CaptionRecord {  // pretraining
  std::string image_id, caption;
};

std::vector<VqaRecord> read_vqa_jsonl(const std::string& path);
std::vector<RetrievalRecord> read_retrieval_jsonl(const std::string& path);
std::vector<HardPoolRecord> read_hard_pool_jsonl(const std::string& path);
// "<split>_hard_pool.jsonl", next to the split's annotation file.
inline constexpr const char* kHardPoolSuffix = "_hard_pool.jsonl";
std::vector<ReferringRecord> read_referring_jsonl(const std::string& path);
std::vector<PointingRecord> read_pointing_jsonl(const std::string& path);
std::vector<Nlvr2Record> read_nlvr2_jsonl(const std::string& path);
std::vector<SnliVeRecord> read_snli_ve_jsonl(const std::string& path);
std::vector<CaptionRecord> read_caption_jsonl(const std::string& path);

// answers.json = {"answers": [...]}; index = label.
std::vector<std::string> read_answer_vocab(const std::string& path);
// splits/clean_split.json = {"removed_image_ids": {"<image source>": [...], ...}}: the ids
// datasets of `source` drop (data/clean_split.h). A file of the earlier format (one flat list
// for every source, ids of different collections mixed) is read with a warning.
std::vector<std::string> read_removed_image_ids(const std::string& path, const std::string& source);

// Every image id an annotation line references ("image_id" and "image_ids"), for checks.
std::vector<std::string> read_referenced_image_ids(const std::string& path);

// SNLI-VE classes in the order of the released vil_tri_prediction rows
// (visual_entailment_dataset.py: contradiction 0, neutral 1, entailment 2), so that released
// weights answer with the right names.
inline constexpr std::array<const char*, 3> kSnliVeLabels = {"contradiction", "neutral", "entailment"};
int snli_label_index(const std::string& label);  // index in kSnliVeLabels; -1 if not one of them

}  // namespace vlmt
