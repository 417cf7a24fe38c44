#include "jobs/evaluator.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/log.h"
#include "data/task_dataset.h"
#include "tasks/evaluation_run.h"
#include "tasks/task_kind.h"

namespace fs = std::filesystem;

namespace vlmt {

std::vector<std::string> available_splits(const std::string& data_root, const std::string& task_key) {
  std::vector<std::string> splits;
  const fs::path dir = fs::path(data_root) / "annotations" / task_key;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".jsonl") splits.push_back(e.path().stem().string());
  std::sort(splits.begin(), splits.end());
  return splits;
}

Evaluator::Evaluator(const RunConfig& config, MultiTaskModel model, Communicator& comm, torch::Device device)
    : config_(config), model_(std::move(model)), comm_(comm), device_(device),
      data_root_(resolve_data_root(config.data)) {
  model_->eval();
}

std::string Evaluator::protocol_split(const TaskSpec& spec, const std::string& split) const {
  if (split != "test" || spec.paper_split() == "test") return split;
  log::info0(cat(spec.key, ": --split test evaluates ", spec.paper_split(), ", the split the paper's Table 2 reports"));
  return spec.paper_split();
}

std::string Evaluator::split_file(const TaskSpec& spec, const std::string& split) const {
  const std::string name = split == "val" ? config_.tasks.of(spec.key).val_split : split;
  const auto path = fs::path(data_root_) / "annotations" / spec.key / (name + ".jsonl");
  if (!fs::exists(path)) {
    const std::string have = join_names(available_splits(data_root_, spec.key));
    throw DataError(cat(spec.key, ": split \"", split, "\" not found (", path.string(), "); available: ",
                        have.empty() ? "none" : have));
  }
  return name;
}

ResultRecord Evaluator::evaluate(const std::string& task_key, const EvaluationOptions& o) {
  const TaskSpec& spec = config_.catalog.by_key(task_key);
  const std::string label = protocol_split(spec, o.split);
  const std::string split = split_file(spec, label);
  torch::NoGradGuard no_grad;
  EvaluationRun run(config_, spec, *model_, comm_, device_, split, label, o.out_dir, o.max_items);
  ResultRecord r = kind_of(spec).evaluate(run);
  r.run = o.run_name;
  r.task = spec.key;
  r.split = label;
  if (run.truncated()) {  // a smoke-sized score: the record and the log say so
    r.extras["items_evaluated"] = run.evaluated_items();
    r.extras["items_in_split"] = run.split_items();
    if (comm_.rank() == 0)
      log::warn(cat("evaluate ", spec.key, " ", label, ": ", run.evaluated_items(), " of ", run.split_items(),
                    " items (--max-items); not the split's score"));
  }
  if (comm_.rank() == 0) {
    append_result((fs::path(o.out_dir) / "results.jsonl").string(), r);
    log::info0(cat("evaluate ", spec.key, " ", label, ": ", r.metric, " = ", r.score, " (n = ", r.n, ")"));
  }
  return r;
}

}  // namespace vlmt
