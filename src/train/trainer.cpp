#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "ckpt/blob.h"
#include "ckpt/param_io.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/results.h"
#include "distributed/runtime.h"
#include "tasks/task_data.h"
#include "tasks/task_kind.h"
#include "train/head_prior.h"
#include "train/init_from.h"
#include "train/progress.h"
#include "train/schedule_registry.h"

namespace fs = std::filesystem;

namespace vlmt {

int64_t divide_batch(int64_t global, int world, const std::string& key, int accumulation) {
  const int64_t shards = static_cast<int64_t>(world) * accumulation;
  if (global % shards != 0) {
    const bool k = accumulation > 1;
    throw ConfigError(cat("tasks.", key, ".batch_size = ", global, " is not divisible by ", world, " ranks",
                          k ? cat(" x train.gradient_accumulation = ", accumulation) : std::string(),
                          " (each rank takes batch_size / ", k ? "(ranks x gradient_accumulation) per micro-batch" : "ranks",
                          ")"));
  }
  return global / shards;
}

int64_t run_iterations(int64_t configured, const std::vector<std::pair<int64_t, int64_t>>& epochs_batches) {
  if (configured > 0) return configured;
  int64_t derived = 0;
  for (const auto& [epochs, batches] : epochs_batches) derived = std::max(derived, epochs * batches);
  return derived;
}

namespace {

// The generators whose streams a resumed run must continue: the CPU one (data order, CPU dropout)
// and, on a GPU, the device's (its dropout masks), each under a name that says which.
std::vector<std::pair<std::string, at::Generator>> random_generators(torch::Device device) {
  std::vector<std::pair<std::string, at::Generator>> out{{"cpu", at::detail::getDefaultCPUGenerator()}};
  if (device.is_cuda()) out.emplace_back("cuda", at::globalContext().defaultGenerator(device));
  return out;
}

// One generator's state on every rank, gathered on all ranks (so rank 0 can store them all).
torch::Tensor gather_rng_states(Communicator& comm, at::Generator generator) {
  auto state = generator.get_state();
  auto all = torch::zeros({comm.size(), state.numel()}, torch::kInt64);
  all[comm.rank()].copy_(state.to(torch::kInt64));
  comm.all_reduce(all);
  return all.to(torch::kUInt8);
}

}  // namespace

Trainer::Trainer(TrainerParts parts)
    : parts_(std::move(parts)), cfg_(parts_.config), comm_(*parts_.control), phases_(parts_.device) {
  if (parts_.streams.empty()) throw ConfigError("the trainer needs at least one stream");
  // Identical initial weights on every rank; dropout streams differ per rank afterwards.
  DistRuntime::seed_model_init(cfg_.train.seed);
  model_ = MultiTaskModel(cfg_.model);
  model_->to(parts_.device);
  model_->bf16_trunk = cfg_.train.bf16;  // float32 master weights and AdamW state either way
  torch::manual_seed(DistRuntime::dropout_seed(cfg_.train.seed, comm_.rank()));
  log::info0(cat("model: preset ", cfg_.model.preset, ", ", model_->parameter_count(), " parameters, layers ",
                 describe_schedule(model_->bert->encoder->schedule), ", task token ",
                 task_token_mode_name(cfg_.model.task_token), ", trunk precision ",
                 cfg_.train.bf16 ? "bf16 autocast" : "float32"));
  build_streams();
  build_optimisation();
  if (comm_.size() > 1)
    sync_ = std::make_unique<GradientSynchronizer>(parts_.grad ? *parts_.grad : comm_, cfg_.dist.bucket_mb);
  if (parts_.stop_signals) install_stop_handlers();
}

double Trainer::loss_scale_of(const std::string& task) const {
  for (const auto& s : streams_)
    if (s.key == task) return s.loss_scale;
  throw ConfigError(cat("no stream ", task));
}

std::vector<NamedParameter> Trainer::trunk_and(const std::vector<std::string>& head_prefixes) const {
  std::vector<NamedParameter> out;
  for (const auto& [name, p] : model_->unique_named_parameters()) {
    bool take = name.rfind("bert.", 0) == 0;
    for (const auto& prefix : head_prefixes) take |= name.rfind(prefix, 0) == 0;
    if (take) out.push_back({name, p});
  }
  return out;
}

void Trainer::build_streams() {
  const int world = comm_.size(), rank = comm_.rank();
  const uint64_t seed = static_cast<uint64_t>(cfg_.train.seed);
  // The base LR: train.lr, else the smallest LR of the streams (pretraining has one stream).
  std::vector<double> lrs;
  for (const auto& t : parts_.streams) lrs.push_back(t.lr);
  base_lr_ = cfg_.train.lr > 0 ? cfg_.train.lr : base_learning_rate(lrs);
  for (const TrainingStream& t : parts_.streams) {
    Stream s;
    s.key = t.spec->key;
    s.spec = t.spec;
    s.epochs = t.epochs;
    s.loss_scale = loss_scale(t.lr, base_lr_);  // the released loss scaling: task LR / base LR
    s.val = t.val;
    s.sync_params = trunk_and({head_prefix(*t.spec)});
    const int k = cfg_.train.gradient_accumulation;
    s.rank_batch = divide_batch(t.global_batch, world, s.key, k);
    s.loss_part_sums.assign(kind_of(*t.spec).loss_part_names().size(), 0.0);
    // Micro-batch j of this rank reads shard rank·k + j of world·k (its items and its draws, which
    // are seeded by the shard): the data of the run at world·k ranks without accumulation.
    for (int j = 0; j < k; ++j) {
      DistributedSampler sampler(t.train->size(), s.rank_batch, rank * k + j, world * k, seed, /*shuffle=*/true,
                                 cfg_.train.drop_last);
      if (sampler.batches_per_epoch() == 0)
        throw DataError(cat(s.key, ": the train split has ", t.train->size(), " items, fewer than one global batch of ",
                            t.global_batch));
      s.loaders.push_back(std::make_unique<TaskLoader>(t.train, sampler, seed, cfg_.data.prefetch_batches,
                                                       /*pin_memory=*/parts_.device.is_cuda(),
                                                       cfg_.data.loader_threads,
                                                       thread_device_setup(parts_.device)));
    }
    for (const auto& [key, fp] : feature_fingerprints(t.train->context())) fingerprints_[key] = fp;
    log::info0(cat("stream ", s.key, ": ", t.train->size(), " train items, ", s.val->size(), " val items, batch ",
                   t.global_batch, " (", s.rank_batch, " per rank",
                   k > 1 ? cat(" and micro-batch, ", k, " micro-batches per step") : std::string(), "), ",
                   s.loader().batches_per_epoch(), " batches per epoch, loss scale ", s.loss_scale));
    streams_.push_back(std::move(s));
  }
}

void Trainer::build_optimisation() {
  std::vector<ScheduledTask> scheduled;
  std::vector<std::pair<int64_t, int64_t>> epochs_batches;
  for (const auto& s : streams_) {
    scheduled.push_back({s.key, group_index(s.spec->group), s.loader().batches_per_epoch()});
    epochs_batches.emplace_back(s.epochs, s.loader().batches_per_epoch());
  }
  const int64_t total = run_iterations(cfg_.train.iterations, epochs_batches);
  if (cfg_.train.iterations <= 0)
    log::info0(cat("train.iterations not set: ", total, " = the largest stream's epochs × batches per epoch"));
  state_.stage = cfg_.train.stage;
  state_.world_size = comm_.size();
  state_.gradient_accumulation = cfg_.train.gradient_accumulation;
  state_.total_iterations = total;
  lr_ = std::make_unique<WarmupLinearSchedule>(total, cfg_.train.warmup_proportion);
  schedule_ = parts_.make_schedule ? parts_.make_schedule(scheduled, total)
                                   : make_task_schedule(cfg_.train, scheduled, total);
  schedule_->set_communicator(&comm_);
  state_.schedule_name = schedule_->name();
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& p : model_->named_parameters(true)) named.emplace_back(p.key(), p.value());
  base_lr_ *= cfg_.train.lr_multiplier;
  const AdamWOptions options = adamw_options(cfg_.train, base_lr_);
  optimizer_ = std::make_unique<AdamW>(named, options);
  log::info0(cat("optimisation: ", total, " iterations, schedule ", schedule_->name(), ", base LR ", base_lr_,
                 ", head LR ", options.head_lr, ", warm-up ", cfg_.train.warmup_proportion * 100, "%"));
}

void Trainer::write_metric(const nlohmann::json& record) {
  if (parts_.metrics && comm_.rank() == 0) parts_.metrics(record);
}

std::set<std::string> Trainer::initialise_from(const std::string& path) {
  return vlmt::initialise_from(*model_, path, cfg_.train.init_expect_missing);
}

void Trainer::record_provenance() {
  auto& stored = model_->provenance.head_answers;
  for (const auto& s : streams_) {
    const TaskKind& kind = kind_of(*s.spec);
    const auto* answers = kind.answer_vocabulary(s.loader().dataset());
    if (!answers) continue;
    auto it = stored.find(kind.head());
    if (it != stored.end() && it->second != *answers)
      throw DataError(cat(s.key, ": the answer vocabulary of its data (annotations/<task>/answers.json, ", answers->size(),
                          " answers) differs from the one ", kind.head(), " was trained with (", it->second.size(),
                          " answers, stored with ", model_->provenance.source.empty()
                              ? std::string("another task of this run") : model_->provenance.source,
                          "): its rows would be paired with the wrong answers"));
    stored[kind.head()] = *answers;
  }
  model_->provenance.feature_fingerprints = fingerprints_;
}

void Trainer::initialise_head_priors(const std::set<std::string>& loaded) {
  std::vector<HeadPriorSource> sources;
  for (const auto& s : streams_) sources.push_back({s.spec, &s.loader().dataset()});
  for (const auto& prior : set_head_bias_priors(*model_, sources, loaded)) {
    const std::string tasks = join_names(prior.tasks);
    log::info0(cat("train.head_bias_init = prior: ", prior.parameter, " = ", prior.bias, " (target base rate ",
                   prior.base_rate, " on ", tasks, ")"));
  }
}

bool Trainer::resume() {
  auto found = parts_.checkpoints ? parts_.checkpoints->latest() : std::nullopt;
  if (!found) return false;
  const ckpt::CheckpointData& data = found->data;
  const std::string* latest = &found->where;
  auto saved = ckpt::from_blob<TrainerState>(data.trainer_state);
  if (saved.stage != cfg_.train.stage)
    throw CheckpointError(cat(*latest, ": checkpoint of stage ", saved.stage, ", not ", cfg_.train.stage,
                              " (use another run_dir)"));
  if (saved.world_size != comm_.size())
    throw CheckpointError(cat(*latest, ": written by ", saved.world_size, " ranks, resumed with ", comm_.size(),
                              "; data shards would differ — resume with the same number of ranks"));
  if (saved.gradient_accumulation != cfg_.train.gradient_accumulation)
    throw CheckpointError(cat(*latest, ": written with train.gradient_accumulation = ", saved.gradient_accumulation,
                              ", resumed with ", cfg_.train.gradient_accumulation,
                              "; data shards would differ — resume with the same value"));
  const auto changed = fingerprint_mismatches(data.fingerprints, fingerprints_);
  if (!changed.empty() && !cfg_.data.allow_fingerprint_mismatch)
    throw CheckpointError(cat(*latest, ": ", changed.front(), (changed.size() > 1 ? " (and more)" : ""),
                              "; set data.allow_fingerprint_mismatch = true to override"));
  ckpt::load_parameters(*model_, data.params, *latest, /*allow_partial=*/false);
  model_->provenance.head_answers = data.answers;
  model_->provenance.source = *latest;
  optimizer_->load_state_tensors(data.optim);
  lr_->set_step(saved.lr_step);
  schedule_->load_state(saved.schedule_blob);
  for (auto& s : streams_) {
    auto it = saved.streams.find(s.key);
    if (it == saved.streams.end()) throw CheckpointError(cat(*latest, ": no state for stream ", s.key));
    for (auto& loader : s.loaders) loader->restore(it->second.epoch, it->second.position);
  }
  for (auto& [name, generator] : random_generators(parts_.device)) {
    const std::string key = name + "_rank" + std::to_string(comm_.rank());
    if (auto it = data.rng.find(key); it != data.rng.end())
      generator.set_state(it->second.to(torch::kUInt8).contiguous());
    else
      log::warn(cat(*latest, ": no ", key, " random state; this rank's ", name, " stream restarts"));
  }
  if (saved.total_iterations != state_.total_iterations)
    log::info0(cat("note: the checkpoint planned ", saved.total_iterations, " iterations, the config now ",
                   state_.total_iterations, "; continuing to ", state_.total_iterations));
  saved.total_iterations = state_.total_iterations;
  state_ = saved;
  log::info0(cat("resumed from ", *latest, " at iteration ", state_.iteration, " of ", state_.total_iterations));
  return true;
}

void Trainer::save_checkpoint() {
  std::map<std::string, torch::Tensor> rng;  // collectives: every rank takes part
  for (auto& [name, generator] : random_generators(parts_.device)) {
    auto states = gather_rng_states(comm_, generator);
    for (int r = 0; r < comm_.size(); ++r) rng[name + "_rank" + std::to_string(r)] = states[r].clone();
  }
  for (auto& s : streams_) {
    auto& st = state_.streams[s.key];
    st.epoch = s.loader().epoch();
    st.position = s.loader().position();
  }
  state_.lr_step = lr_->step();
  state_.schedule_blob = schedule_->save_state();
  if (comm_.rank() == 0) {
    ckpt::CheckpointData data;
    data.stage = cfg_.train.stage;
    data.config_toml = cfg_.resolved_toml();
    data.fingerprints = fingerprints_;
    data.answers = model_->provenance.head_answers;
    data.params = ckpt::module_tensors(*model_);
    data.optim = optimizer_->state_tensors();
    data.trainer_state = ckpt::to_blob(state_);
    data.rng = std::move(rng);
    const auto path = parts_.checkpoints->write(data);
    log::info0(cat("checkpoint ", path, " at iteration ", state_.iteration));
  }
  comm_.barrier();
}

Trainer::StepStats Trainer::train_step(Stream& s, double weight) {
  model_->train();
  const int k = static_cast<int>(s.loaders.size());
  optimizer_->zero_grad();
  // With k micro-batches the synchroniser sums k backward passes and reduces once.
  if (sync_) sync_->begin_step(s.sync_params, k);
  double loss_sum = 0;  // of the micro-batches' losses
  int64_t rows = 0;
  for (auto& loader : s.loaders) {
    // Pinned batches on CUDA: the copy is asynchronous and ordered on the current stream.
    Batch batch = loader->next().to(parts_.device, /*non_blocking=*/parts_.device.is_cuda());
    rows += batch.rows();
    phases_.lap(PhaseTimes::kData);
    const ObjectiveResult result = kind_of(*s.spec).compute(*model_, batch);
    const torch::Tensor& loss = result.loss;
    phases_.lap(PhaseTimes::kForward);
    // A schedule weight of 1 and k = 1 leave the graph (and so every bit of the run) as it was;
    // 1/k makes the summed gradient the mean over the micro-batches, as the batch's at k = 1.
    torch::Tensor scaled = (weight == 1.0 ? loss : loss * weight) * s.loss_scale;
    (k == 1 ? scaled : scaled / k).backward();
    phases_.lap(PhaseTimes::kBackward);
    loss_sum += loss.item<double>();
    s.score_sum += result.score_sum;
    s.score_count += result.count;
    for (size_t p = 0; p < result.loss_parts.size() && p < s.loss_part_sums.size(); ++p)
      s.loss_part_sums[p] += result.loss_parts[p] / k;
  }
  if (sync_) sync_->finish();
  phases_.lap(PhaseTimes::kSync);
  // The step's loss is the mean over its micro-batches (the batch's loss at k = 1). Checked
  // before the step: a non-finite loss never reaches the weights (or a checkpoint).
  const double value = loss_sum / k;
  if (!std::isfinite(value))
    throw Error(ExitCode::kFailure, cat(s.key, ": loss is ", value, " at iteration ", state_.iteration + 1,
                                        " (diverged; lower the LR or check the data); the weights were not updated"));
  optimizer_->step(lr_->factor());
  phases_.lap(PhaseTimes::kOptimizer);
  s.loss_sum += value;
  ++s.loss_steps;
  ++state_.streams[s.key].updates;
  return {value, rows};
}

ValidationSummary Trainer::validate(Stream& s) {
  torch::NoGradGuard no_grad;
  model_->eval();
  // As training, this rank validates shards rank·k + j of world·k at the micro-batch size, each
  // with that shard's draws: the batches (and so the sums) of the run at world·k ranks.
  const int k = static_cast<int>(s.loaders.size());
  const int64_t n = s.val->size(), shards = static_cast<int64_t>(comm_.size()) * k;
  // sums = {score, count, loss, batches, then sum and count of each of the kind's further metrics,
  // then the sum of each loss term}.
  const std::vector<std::string> names = kind_of(*s.spec).metric_names();
  const std::vector<std::string> parts = kind_of(*s.spec).loss_part_names();
  const size_t parts_at = 4 + 2 * names.size();
  std::vector<double> sums(parts_at + parts.size(), 0.0);
  for (int64_t shard = comm_.rank() * k; shard < (comm_.rank() + 1) * k; ++shard) {
    std::vector<int64_t> mine;
    for (int64_t i = shard; i < n; i += shards) mine.push_back(i);
    RngDraws draws(DistRuntime::validation_seed(cfg_.train.seed, static_cast<int>(shard)));  // same batches every time
    int64_t batches = 0;
    for (size_t start = 0; start < mine.size(); start += s.rank_batch, ++batches) {
      if (cfg_.train.val_max_batches > 0 && batches >= cfg_.train.val_max_batches) break;
      std::vector<int64_t> idx(mine.begin() + start, mine.begin() + std::min(mine.size(), start + s.rank_batch));
      Batch b = s.val->get_batch(idx, draws).to(parts_.device);
      auto r = kind_of(*s.spec).compute(*model_, b);
      sums[0] += r.score_sum;
      sums[1] += r.count;
      sums[2] += r.loss.item<double>();
      sums[3] += 1;
      for (size_t m = 0; m < r.metrics.size() && m < names.size(); ++m) {
        sums[4 + 2 * m] += r.metrics[m].sum;
        sums[5 + 2 * m] += r.metrics[m].count;
      }
      for (size_t p = 0; p < r.loss_parts.size() && p < parts.size(); ++p) sums[parts_at + p] += r.loss_parts[p];
    }
  }
  auto totals = comm_.all_reduce_vector(sums);
  if (totals[1] == 0) throw DataError(cat(s.key, ": the validation split is empty"));
  ValidationSummary v;
  v.score = totals[0] / totals[1];
  v.loss = totals[2] / totals[3];
  for (size_t k = 0; k < names.size(); ++k)
    if (totals[5 + 2 * k] > 0) v.metrics.emplace_back(names[k], totals[4 + 2 * k] / totals[5 + 2 * k]);
  for (size_t k = 0; k < parts.size(); ++k) v.losses.emplace_back(parts[k], totals[parts_at + k] / totals[3]);
  return v;
}

double Trainer::validate_and_record(size_t t, int64_t iteration) {
  auto& s = streams_[t];
  const ValidationSummary v = validate(s);
  state_.streams[s.key].last_score = v.score;
  write_metric(val_record(iteration, s.key, schedule_->task_epoch(t, iteration), v));
  if (!v.metrics.empty()) log::info0(format_validation_line(iteration, s.key, v.score, v.metrics));
  return v.score;
}

void Trainer::report_progress(int64_t iteration, ThroughputMeter& meter) {
  // One collective: per stream its loss sum and steps, batch score sum and count and the sums of
  // its loss terms; then each rank's time split (averaged over ranks).
  auto time_split = phases_.per_iteration(iteration - last_report_iteration_);
  std::vector<double> sums;
  for (const auto& s : streams_) {
    sums.insert(sums.end(), {s.loss_sum, static_cast<double>(s.loss_steps), s.score_sum,
                             static_cast<double>(s.score_count)});
    sums.insert(sums.end(), s.loss_part_sums.begin(), s.loss_part_sums.end());
  }
  const size_t split_at = sums.size();
  for (const auto& [phase, seconds] : time_split) sums.push_back(seconds);
  sums = comm_.all_reduce_vector(sums);
  for (size_t k = 0; k < time_split.size(); ++k) time_split[k].second = sums[split_at + k] / comm_.size();
  ProgressSnapshot snap;
  snap.iteration = iteration;
  snap.total = state_.total_iterations;
  snap.lr = base_lr_ * lr_->factor_at(std::max<int64_t>(0, lr_->step() - 1));  // the last first step's LR
  snap.samples_per_s = meter.samples_per_s();
  snap.eta_s = meter.eta_s(state_.total_iterations);
  snap.time_split = std::move(time_split);
  const double* stream_sums = sums.data();
  for (size_t i = 0; i < streams_.size(); ++i) {
    auto& s = streams_[i];
    const double loss_sum = stream_sums[0], steps = stream_sums[1], score_sum = stream_sums[2], items = stream_sums[3];
    TaskProgress p;
    p.task = s.key;
    if (steps > 0) {
      p.loss = loss_sum / steps;
      const auto names = kind_of(*s.spec).loss_part_names();
      for (size_t k = 0; k < s.loss_part_sums.size(); ++k) p.losses.emplace_back(names[k], stream_sums[4 + k] / steps);
    }
    if (items > 0) p.batch_score = score_sum / items;
    stream_sums += 4 + s.loss_part_sums.size();
    const double last = state_.streams[s.key].last_score;
    if (last >= 0) p.score = last;
    p.state = schedule_->state_label(i, iteration);
    if (p.loss) write_metric(train_record(iteration, p, snap.lr, snap.samples_per_s));
    snap.tasks.push_back(p);
    s.loss_sum = 0;
    s.loss_steps = 0;
    s.score_sum = 0;
    s.score_count = 0;
    std::fill(s.loss_part_sums.begin(), s.loss_part_sums.end(), 0.0);
  }
  log::info0(format_progress_line(snap));
  write_metric(progress_record(snap));
  last_report_iteration_ = iteration;
  phases_.restart();
}

int Trainer::run() {
  if (!resume()) {
    std::set<std::string> loaded;
    if (!cfg_.train.init_from.empty()) loaded = initialise_from(cfg_.train.init_from);
    if (cfg_.train.head_bias_init == "prior") initialise_head_priors(loaded);
  }
  record_provenance();
  RunInfo info;
  info.run = parts_.run_name;
  info.stage = cfg_.train.stage;
  info.params = model_->parameter_count();
  info.world_size = comm_.size();
  info.schedule = schedule_->name();
  info.seed = cfg_.train.seed;
  info.total_iterations = state_.total_iterations;
  info.start_iteration = state_.iteration;
  for (const auto& s : streams_) info.task_sizes.emplace_back(s.key, s.loader().dataset().size());
  write_metric(to_json(info));

  // The schedule reports its decisions into metrics.jsonl and rank 0's log.
  struct MetricsAndLogSink : ScheduleSink {
    explicit MetricsAndLogSink(Trainer& t) : trainer(t) {}
    void record(const nlohmann::json& r) override { trainer.write_metric(r); }
    void log(const std::string& line) override { vlmt::log::info0(line); }
    Trainer& trainer;
  } schedule_sink(*this);
  const double start_s = parts_.clock();
  const double deadline_s = cfg_.train.max_hours > 0 ? start_s + cfg_.train.max_hours * 3600.0
                                                      : std::numeric_limits<double>::infinity();
  ThroughputMeter meter(state_.iteration, start_s);
  const bool trained_last_iteration = state_.iteration < state_.total_iterations;
  last_report_iteration_ = state_.iteration;
  phases_.restart();
  for (int64_t it = state_.iteration + 1; it <= state_.total_iterations; ++it) {
    phases_.skip();  // reports and checkpoints of the previous iteration are "other"
    int64_t rows = 0;
    bool lr_advanced = false;
    for (size_t t = 0; t < streams_.size(); ++t) {
      const double weight = schedule_->weight(t, it);
      if (weight <= 0) continue;
      rows += train_step(streams_[t], weight).rows;
      // train_tasks.py steps the LR schedule once per iteration, right after the first task that
      // stepped: later tasks of the iteration already use the next LR, and an iteration in which
      // no task steps leaves the schedule where it is.
      if (!lr_advanced) {
        lr_->advance();
        lr_advanced = true;
      }
    }
    for (size_t t = 0; t < streams_.size(); ++t) {
      if (!schedule_->should_validate(t, it)) continue;
      schedule_->on_validation(t, it, validate_and_record(t, it), schedule_sink);
    }
    schedule_->on_iteration_end(it, schedule_sink);
    phases_.lap(PhaseTimes::kValidation);
    state_.iteration = it;
    meter.update(it, rows * comm_.size(), parts_.clock());
    if (it % cfg_.train.log_every == 0 || it == state_.total_iterations) report_progress(it, meter);
    if (it % cfg_.train.checkpoint_every == 0 && it != state_.total_iterations) save_checkpoint();
    const bool planned_stop = it == cfg_.train.stop_after_iteration;
    if (it != state_.total_iterations && (agree_to_stop(comm_, parts_.clock() >= deadline_s) || planned_stop)) {
      log::info0(cat("stop requested (", planned_stop ? "train.stop_after_iteration" : "signal or --max-hours",
                     "): checkpointing at iteration ", it));
      save_checkpoint();
      return static_cast<int>(ExitCode::kPreempted);
    }
  }
  // As the released loop, every stream is validated after the last iteration, so a run that ends
  // mid-epoch (the quickstart's pretraining) still has a score; a stream validated at it already
  // is not validated twice, nor is a run that had finished before this process resumed it. No
  // schedule decision follows (nothing is left to train).
  for (size_t t = 0; t < streams_.size() && trained_last_iteration; ++t)
    if (!schedule_->should_validate(t, state_.total_iterations)) validate_and_record(t, state_.total_iterations);
  save_checkpoint();
  log::info0(cat(cfg_.train.stage, " finished: ", state_.total_iterations, " iterations (run ", parts_.run_name, ")"));
  return 0;
}

}  // namespace vlmt
