// VQA / VG QA / GQA: question + image → soft scores over the answer vocabulary.
#include "core/error.h"
#include "data/task_datasets.h"

namespace vlmt {

VqaDataset::VqaDataset(DatasetContext ctx, const std::string& answers_path, int num_answers)
    : TaskDataset(std::move(ctx)), answers_(read_answer_vocab(answers_path)),
      num_answers_(num_answers) {
  const auto& answers = answers_;
  if (static_cast<int64_t>(answers.size()) > num_answers_)
    throw DataError(cat(answers_path, " lists ", answers.size(), " answers but the model's head has ",
                        num_answers_, " (model.num_vqa_answers / num_gqa_answers)"));
  records_ = apply_clean_split(read_vqa_jsonl(ctx_.annotation_path),
                               [](const VqaRecord& r) { return std::vector<std::string>{r.image_id}; });
  std::vector<std::string> ids;
  for (const auto& r : records_) {
    for (int64_t label : r.labels)
      if (label >= static_cast<int64_t>(answers.size()))
        throw DataError(cat(ctx_.annotation_path, ": question ", r.question_id, " has label ", label,
                            " outside ", answers_path, " (", answers.size(), " answers)"));
    ids.push_back(r.image_id);
  }
  require_images(*ctx_.features, ids);
}

Batch VqaDataset::get_batch(const std::vector<int64_t>& indices, Draws&) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  Batch b = start_batch(n, 1);
  b.target = torch::zeros({n, num_answers_});
  auto target = b.target.accessor<float, 2>();
  for (int64_t k = 0; k < n; ++k) {
    const VqaRecord& r = records_.at(indices[k]);
    set_text(b, k, ctx_.vocab->encode_framed(r.question, ctx_.max_text));
    set_regions(b, k, make_region_input(ctx_.features->get(r.image_id), ctx_.max_regions));
    for (size_t j = 0; j < r.labels.size(); ++j) target[k][r.labels[j]] = r.scores[j];
    b.item_ids.push_back(r.question_id);
    b.image_ids.push_back(r.image_id);
  }
  return b;
}

}  // namespace vlmt
