#pragma once
// AdamW as the released 12-in-1 model was trained (train_tasks.py: AdamW, correct_bias=False):
// BERT-style, without bias correction, decoupled weight decay applied after the Adam step:
//   m ← β1 m + (1 − β1) g          v ← β2 v + (1 − β2) g²
//   p ← p − lr · m / (√v + ε)      p ← p − lr · wd · p        (wd = 0 for no-decay groups)
// (the released optimizer decays the already-updated p; BertAdam's "update += wd·p" differs
// from it by lr²·wd·m/(√v+ε), see docs/TRAINING.md).
//
// Groups come from parameter names: no weight decay for names containing any of
// `no_decay_substrings` (train_tasks.py's list: "bias", "LayerNorm.bias", "LayerNorm.weight"; so
// the co-attention LayerNorm1/2 weights and the heads' Sequential LayerNorm "logit_fc.2.weight"
// ARE decayed, as released);
// names containing `head_substring` ("vil_") use head_lr, everything else base_lr. A tensor that
// appears under two names (the tied word-embedding / decoder matrix) is one parameter, updated
// once.
//
// Which parameters step: the released code runs PyTorch 1.x, whose zero_grad() leaves a zero
// gradient on every parameter that ever had one. So a parameter steps once it has had a
// gradient, at every step after, of any task: a head trained earlier still takes the momentum
// update and the decoupled weight decay while other tasks train (issue 12, row 5). A parameter
// that never had a gradient is left alone. zero_grad() drops gradients (cheaper than zeroing)
// and step() treats a missing gradient of a stepped parameter as zero.
//
// Pretraining (train_concap.py) uses the same update with bias correction on:
// step size = lr · √(1 − β2^t) / (1 − β1^t), t = the parameter's own step count.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "train/adamw_update.h"

namespace vlmt {

struct TaskConfig;
struct TrainConfig;

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct AdamWOptions {
  double base_lr = 2e-5;
  double head_lr = 1e-4;
  double weight_decay = 0.01;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-6;
  bool bias_correction = false;  // on for pretraining (train_concap.py)
  double grad_clip = 0.0;  // max global L2 norm of the stepped gradients; 0 = off
  std::vector<std::string> no_decay_substrings = {"bias", "LayerNorm.bias", "LayerNorm.weight"};
  std::string head_substring = "vil_";
  // The update's implementation (train/adamw_update.h): kAuto = one fused pass on the CPU.
  AdamWKernel kernel = AdamWKernel::kAuto;
};

// Optimiser options of a run: betas, eps, decay, clipping and the head LR (train.head_lr ×
// train.lr_multiplier) from train.*, and the given base LR (see base_learning_rate; the caller
// applies the multiplier to it, as the loss scales derive from the unscaled one).
AdamWOptions adamw_options(const TrainConfig& train, double base_lr);

// Base LR of a multi-task run = the smallest LR among the active tasks; throws ConfigError when
// no task is active. LRs are positive: tasks.<key>.lr and train.lr are checked where the config
// is read.
double base_learning_rate(const TaskConfig& tasks);
// The same rule over the LRs of a run's streams (what the trainer calls).
double base_learning_rate(const std::vector<double>& task_lrs);
// Multiplier of a task's loss so that its effective LR is its own: task_lr / base_lr.
double loss_scale(double task_lr, double base_lr);

class AdamW {
 public:
  struct Param {
    std::string name;                  // first name the tensor was listed under
    std::vector<std::string> aliases;  // further names of the same tensor (tied weights)
    torch::Tensor value;
    bool decay = true;
    bool head = false;
    torch::Tensor exp_avg;     // m; undefined until the first step with a gradient
    torch::Tensor exp_avg_sq;  // v
    int64_t steps = 0;         // steps this parameter has taken
  };
  struct StepResult {
    int64_t updated = 0;               // parameters stepped
    std::optional<double> grad_norm;   // global norm before clipping (only when clipping)
  };

  // Throws vlmt::Error for a non-floating parameter or when two names of one tensor fall
  // into different groups.
  AdamW(const NamedTensors& named_parameters, AdamWOptions options);

  // One step of every parameter that has a gradient now or had one before, at LR × lr_factor.
  StepResult step(double lr_factor);
  // Drops all gradients (sets them undefined).
  void zero_grad();

  double lr_of(const Param& p) const { return p.head ? options_.head_lr : options_.base_lr; }
  double decay_of(const Param& p) const { return p.decay ? options_.weight_decay : 0.0; }
  const std::vector<Param>& params() const { return params_; }
  const Param& param(const std::string& name) const;  // by any of its names
  const AdamWOptions& options() const { return options_; }
  void set_base_lr(double lr) { options_.base_lr = lr; }

  // Checkpoint state: for every parameter that has taken a step, "<name>.exp_avg",
  // "<name>.exp_avg_sq" (same dtype/shape as the parameter) and "<name>.step" (int64 scalar).
  NamedTensors state_tensors() const;
  // Restores the above; parameters absent from `state` start fresh. Throws CheckpointError
  // naming the entry for an unknown parameter, a missing companion or a wrong shape.
  void load_state_tensors(const NamedTensors& state);

 private:
  Param* find(const std::string& name);  // by any of its names; nullptr if none
  std::optional<double> clip_gradients();
  AdamWOptions options_;
  std::vector<Param> params_;
};

}  // namespace vlmt
