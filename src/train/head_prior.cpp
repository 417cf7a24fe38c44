#include "train/head_prior.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "core/error.h"
#include "core/log.h"
#include "tasks/task_kind.h"

namespace vlmt {
namespace {

// The output layer's bias of a head module: its last registered bias (Linear: "bias";
// SimpleClassifier: "logit_fc.3.bias").
torch::Tensor output_bias(MultiTaskModelImpl& model, const std::string& head, std::string& name) {
  torch::Tensor found;
  for (const auto& p : model.named_parameters()) {
    const std::string& key = p.key();
    if (key.rfind(head + ".", 0) == 0 && key.size() >= 4 && key.compare(key.size() - 4, 4, "bias") == 0) {
      found = p.value();
      name = key;
    }
  }
  if (!found.defined()) throw Error(ExitCode::kFailure, cat("head ", head, " has no bias parameter"));
  return found;
}

}  // namespace

std::vector<HeadPrior> set_head_bias_priors(MultiTaskModelImpl& model, const std::vector<HeadPriorSource>& sources,
                                            const std::set<std::string>& keep, int64_t items) {
  std::map<std::string, std::pair<double, std::vector<std::string>>> by_head;  // head -> (sum of rates, tasks)
  for (const auto& source : sources) {
    const TaskKind& kind = kind_of(*source.spec);
    std::string parameter;
    output_bias(model, kind.head(), parameter);
    if (keep.count(parameter)) continue;  // loaded from train.init_from: not measured, not set
    const int64_t n = std::min<int64_t>(items, source.train->size());
    if (n == 0) continue;
    std::vector<int64_t> indices(n);
    for (int64_t i = 0; i < n; ++i) indices[i] = i;
    RngDraws draws(0);  // fixed: every rank measures the same batch
    const auto rate = kind.target_base_rate(source.train->get_batch(indices, draws));
    if (!rate) continue;
    auto& [sum, tasks] = by_head[kind.head()];
    sum += *rate;
    tasks.push_back(source.spec->key);
  }
  std::vector<HeadPrior> set;
  torch::NoGradGuard no_grad;
  for (const auto& [head, entry] : by_head) {
    HeadPrior prior;
    torch::Tensor bias = output_bias(model, head, prior.parameter);
    prior.base_rate = entry.first / static_cast<double>(entry.second.size());
    prior.tasks = entry.second;
    const double p = std::clamp(prior.base_rate, 1e-4, 1 - 1e-4);
    prior.bias = std::log(p / (1 - p));
    bias.fill_(prior.bias);
    set.push_back(std::move(prior));
  }
  return set;
}

}  // namespace vlmt
