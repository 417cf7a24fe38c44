#include "train/adamw.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "config/run_config.h"
#include "core/error.h"
#include "core/log.h"
#include "train/adamw_update.h"

namespace vlmt {
namespace {

bool contains_any(const std::string& name, const std::vector<std::string>& parts) {
  return std::any_of(parts.begin(), parts.end(),
                     [&](const std::string& part) { return name.find(part) != std::string::npos; });
}

// The three checkpoint entries of one parameter's state.
const char* const kExpAvg = ".exp_avg";
const char* const kExpAvgSq = ".exp_avg_sq";
const char* const kStep = ".step";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

AdamWOptions adamw_options(const TrainConfig& train, double base_lr) {
  AdamWOptions o;
  o.base_lr = base_lr;
  o.head_lr = train.head_lr * train.lr_multiplier;
  o.weight_decay = train.weight_decay;
  o.beta1 = train.adam_beta1;
  o.beta2 = train.adam_beta2;
  o.eps = train.adam_eps;
  o.bias_correction = train.adam_bias_correction;
  o.grad_clip = train.grad_clip;
  o.kernel = adamw_kernel_named(train.adamw_kernel);
  return o;
}

double base_learning_rate(const TaskConfig& tasks) {
  if (tasks.active.empty()) throw ConfigError("no active task: cannot derive the base LR");
  std::vector<double> lrs;
  for (const auto& key : tasks.active) lrs.push_back(tasks.of(key).lr);
  return base_learning_rate(lrs);
}

double base_learning_rate(const std::vector<double>& task_lrs) {
  if (task_lrs.empty()) throw ConfigError("no active task: cannot derive the base LR");
  double base = 0.0;
  for (const double lr : task_lrs) base = base == 0.0 ? lr : std::min(base, lr);
  return base;
}

double loss_scale(double task_lr, double base_lr) { return task_lr / base_lr; }

AdamW::AdamW(const NamedTensors& named_parameters, AdamWOptions options)
    : options_(std::move(options)) {
  std::unordered_map<const c10::TensorImpl*, size_t> index_of;
  for (const auto& [name, tensor] : named_parameters) {
    if (!tensor.defined() || !tensor.is_floating_point())
      throw Error(ExitCode::kFailure, cat("parameter ", name, " is not a floating-point tensor"));
    const bool decay = !contains_any(name, options_.no_decay_substrings);
    const bool head = name.find(options_.head_substring) != std::string::npos;
    auto found = index_of.find(tensor.unsafeGetTensorImpl());
    if (found != index_of.end()) {
      Param& first = params_[found->second];
      if (first.decay != decay || first.head != head)
        throw Error(ExitCode::kFailure, cat("tied parameter names ", first.name, " and ", name,
                                            " fall into different optimiser groups"));
      first.aliases.push_back(name);
      continue;
    }
    index_of.emplace(tensor.unsafeGetTensorImpl(), params_.size());
    Param p;
    p.name = name;
    p.value = tensor;
    p.decay = decay;
    p.head = head;
    params_.push_back(std::move(p));
  }
}

std::optional<double> AdamW::clip_gradients() {
  if (options_.grad_clip <= 0.0) return std::nullopt;
  // One host synchronisation for the whole norm, not one per parameter.
  std::vector<torch::Tensor> norms;
  for (const auto& p : params_)
    if (p.value.grad().defined()) norms.push_back(p.value.grad().to(torch::kFloat64).norm());
  if (norms.empty()) return 0.0;
  const double norm = torch::stack(norms).norm().item<double>();
  if (norm > options_.grad_clip) {
    const double scale = options_.grad_clip / (norm + 1e-6);
    for (auto& p : params_)
      if (p.value.grad().defined()) p.value.mutable_grad().mul_(scale);
  }
  return norm;
}

AdamW::StepResult AdamW::step(double lr_factor) {
  torch::NoGradGuard no_grad;
  StepResult result;
  result.grad_norm = clip_gradients();
  const double b1 = options_.beta1, b2 = options_.beta2;
  for (auto& p : params_) {
    const torch::Tensor& g = p.value.grad();
    if (!g.defined() && !p.exp_avg.defined()) continue;  // never had a gradient (PyTorch: grad None)
    if (!p.exp_avg.defined()) {
      p.exp_avg = torch::zeros_like(p.value);
      p.exp_avg_sq = torch::zeros_like(p.value);
    }
    ++p.steps;
    const double lr = lr_of(p) * lr_factor;
    AdamWCoefficients c;
    c.beta1 = b1;
    c.beta2 = b2;
    c.eps = options_.eps;
    c.step_size = lr;
    if (options_.bias_correction)
      c.step_size *= std::sqrt(1.0 - std::pow(b2, static_cast<double>(p.steps))) /
                     (1.0 - std::pow(b1, static_cast<double>(p.steps)));
    c.decay = lr * decay_of(p);
    // A missing gradient is PyTorch 1.x's zero gradient of zero_grad(): the moments only decay.
    adamw_update(p.value, g, p.exp_avg, p.exp_avg_sq, c, options_.kernel);
    ++result.updated;
  }
  return result;
}

void AdamW::zero_grad() {
  for (auto& p : params_)
    if (p.value.grad().defined()) p.value.mutable_grad().reset();
}

AdamW::Param* AdamW::find(const std::string& name) {
  for (auto& p : params_)
    if (p.name == name || std::find(p.aliases.begin(), p.aliases.end(), name) != p.aliases.end())
      return &p;
  return nullptr;
}

const AdamW::Param& AdamW::param(const std::string& name) const {
  const Param* p = const_cast<AdamW*>(this)->find(name);
  if (p == nullptr) throw Error(ExitCode::kFailure, cat("the optimiser has no parameter ", name));
  return *p;
}

NamedTensors AdamW::state_tensors() const {
  NamedTensors state;
  for (const auto& p : params_) {
    if (p.steps == 0) continue;
    state.emplace_back(p.name + kExpAvg, p.exp_avg);
    state.emplace_back(p.name + kExpAvgSq, p.exp_avg_sq);
    state.emplace_back(p.name + kStep, torch::tensor(p.steps, torch::kInt64));
  }
  return state;
}

void AdamW::load_state_tensors(const NamedTensors& state) {
  struct Entry {
    torch::Tensor exp_avg, exp_avg_sq, step;
  };
  std::map<std::string, Entry> entries;
  for (const auto& [key, tensor] : state) {
    if (ends_with(key, kExpAvgSq)) {
      entries[key.substr(0, key.size() - std::string(kExpAvgSq).size())].exp_avg_sq = tensor;
    } else if (ends_with(key, kExpAvg)) {
      entries[key.substr(0, key.size() - std::string(kExpAvg).size())].exp_avg = tensor;
    } else if (ends_with(key, kStep)) {
      entries[key.substr(0, key.size() - std::string(kStep).size())].step = tensor;
    } else {
      throw CheckpointError(cat("unexpected optimiser state entry ", key));
    }
  }
  // Validate everything before touching the live state.
  std::vector<std::pair<Param*, const Entry*>> plan;
  for (const auto& [name, e] : entries) {
    Param* found = find(name);
    if (found == nullptr)
      throw CheckpointError(cat("optimiser state names unknown parameter ", name));
    Param& p = *found;
    if (!e.exp_avg.defined() || !e.exp_avg_sq.defined() || !e.step.defined())
      throw CheckpointError(cat("optimiser state of ", name, " lacks one of ", kExpAvg, ", ",
                                kExpAvgSq, ", ", kStep));
    if (!e.exp_avg.sizes().equals(p.value.sizes()) || !e.exp_avg_sq.sizes().equals(p.value.sizes()))
      throw CheckpointError(cat("optimiser state of ", name, " has shape ", e.exp_avg.sizes(),
                                " but the parameter has ", p.value.sizes()));
    if (e.step.numel() != 1 || e.step.item<int64_t>() < 1)
      throw CheckpointError(cat("optimiser state ", name, kStep, " must be one positive count"));
    plan.emplace_back(&p, &e);
  }
  for (auto& p : params_) {
    p.exp_avg = torch::Tensor();
    p.exp_avg_sq = torch::Tensor();
    p.steps = 0;
  }
  for (auto& [p, e] : plan) {
    p->exp_avg = e->exp_avg.to(p->value.options()).clone();
    p->exp_avg_sq = e->exp_avg_sq.to(p->value.options()).clone();
    p->steps = e->step.item<int64_t>();
  }
}

}  // namespace vlmt
