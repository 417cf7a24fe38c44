// The kind registry and the behaviour kinds share unless they override it.
#include <algorithm>
#include <limits>

#include "config/toml_reader.h"
#include "core/error.h"
#include "core/log.h"
#include "tasks/evaluation_run.h"
#include "tasks/kind_util.h"
#include "tasks/kinds.h"

namespace vlmt {

const std::vector<const TaskKind*>& all_task_kinds() {
  // A new kind: its file, its accessor in tasks/kinds.h, and one line here.
  static const std::vector<const TaskKind*> kinds = {
      &vqa_classifier_kind(),    &gqa_classifier_kind(),   &retrieval_kind(),
      &region_grounding_kind(),  &region_choice_kind(),    &pair_verification_kind(),
      &tri_verification_kind(),  &pretraining_kind(),
  };
  return kinds;
}

const TaskKind& task_kind(const std::string& name) {
  for (const TaskKind* kind : all_task_kinds())
    if (kind->name() == name) return *kind;
  throw ConfigError(cat("unknown task kind \"", name, "\"; valid kinds: ",
                        join_names(all_task_kinds(), [](const TaskKind* k) { return k->name(); })));
}

const TaskKind& kind_of(const TaskSpec& spec) {
  try {
    return task_kind(spec.kind_name);
  } catch (const ConfigError& e) {
    throw ConfigError(cat("task \"", spec.key, "\": ", e.what()));
  }
}

std::string head_prefix(const TaskSpec& spec) { return kind_of(spec).head() + "."; }

std::string metric_of(const TaskSpec& spec) { return spec.metric.empty() ? kind_of(spec).default_metric() : spec.metric; }

void check_task_kinds(const TaskCatalog& catalog, ConfigIssues& issues) {
  for (const auto& spec : catalog.datasets()) {
    const std::string key = cat("tasks.", spec.key, ".kind");
    try {
      if (!task_kind(spec.kind_name).is_dataset_kind())  // the key names the task
        issues.add(spec.declared_in, key, cat("\"", spec.kind_name, "\" is not a dataset kind"));
    } catch (const ConfigError& e) {
      issues.add(spec.declared_in, key, e.what());
    }
    const auto formats = submission_format_names();
    if (!spec.submission.empty() && std::find(formats.begin(), formats.end(), spec.submission) == formats.end())
      issues.add(spec.declared_in, cat("tasks.", spec.key, ".submission"), not_one_of(spec.submission, formats));
  }
}

void check_task_kinds(const TaskCatalog& catalog) {
  ConfigIssues issues;
  check_task_kinds(catalog, issues);
  issues.throw_if_any();
}

ResultRecord TaskKind::evaluate(EvaluationRun& run) const { return evaluate_items(run); }

torch::Tensor TaskKind::choice_scores(const Batch& b, const ObjectiveResult& r) const {
  auto scores = b.target.to(torch::kCPU, torch::kFloat64);
  return scores.masked_fill(r.logits.to(torch::kCPU).le(-1000.0), std::numeric_limits<double>::quiet_NaN());
}

std::unique_ptr<ItemJudge> TaskKind::make_judge(const EvaluationRun&, const TaskDataset&) const {
  return std::make_unique<kind_util::ObjectiveJudge>(/*always=*/false);
}

std::vector<std::string> TaskKind::inference_images(const TaskSpec& spec, std::vector<std::string> requested,
                                                    const std::vector<std::string>&) const {
  if (requested.empty()) throw ConfigError(cat("infer --task ", spec.key, " needs --image-id"));
  if (requested.size() != 1) throw ConfigError(cat("infer --task ", spec.key, " takes one image"));
  return requested;
}

}  // namespace vlmt
