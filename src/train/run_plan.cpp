#include "train/run_plan.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/allocator.h"
#include "core/error.h"
#include "core/log.h"
#include "core/resident_memory.h"
#include "core/timing.h"
#include "data/sampler.h"
#include "model/multitask_model.h"
#include "tasks/random_batch.h"
#include "tasks/task_data.h"
#include "tasks/task_kind.h"
#include "train/adamw.h"
#include "train/memory_estimate.h"
#include "train/progress.h"
#include "train/stage_context.h"
#include "train/trainer.h"
#include "train/trainer_parts.h"

namespace vlmt {
namespace {


struct PlannedTask {
  const TaskSpec* spec = nullptr;
  TaskHyper hyper;
  int64_t items = 0;
  std::string items_from;  // "data", "--items", "--items-per-task"
  int64_t rank_batch = 0, batches_per_epoch = 0;  // rank_batch: per rank and micro-batch
  int64_t text_len = 0, regions = 0, rows = 0;  // per rank and micro-batch
  double activation_bytes = 0;
  double queue_bytes = 0;  // batches its loaders hold ahead, per rank
  double step_s = 0;  // forward + backward of each micro-batch + AdamW
};

// The task whose step keeps the most activations (what peaks a rank's memory).
const PlannedTask& largest_step(const std::vector<PlannedTask>& tasks) {
  const PlannedTask* peak = &tasks.front();
  for (const auto& t : tasks)
    if (t.activation_bytes > peak->activation_bytes) peak = &t;
  return *peak;
}

// Host memory a rank holds besides the model (train/memory_estimate.h covers the model's).
struct HostMemory {
  double base_bytes = 0;         // the process before any data: libraries, MPI, LibTorch
  double annotations_bytes = -1;  // measured growth while every train and val split was loaded; -1 = no data
  // CPU only: the peak growth of the process from before the model was built through the timing
  // steps, the largest task by activations stepped at its whole rank batch (weights, gradients,
  // activations, what the allocator keeps); -1 = not measured (GPU, or that step is too slow).
  double cpu_model_bytes = -1;
  std::string cpu_model_task;
};

// The train split's items; the datasets made from data (train and val split, as the trainer
// loads them) are kept in `loaded` so that their memory can be measured together.
int64_t train_items(const RunConfig& cfg, const TaskSpec& spec, const TaskHyper& hyper, const PlanOptions& options,
                    std::string& from, std::vector<std::unique_ptr<TaskDataset>>& loaded) {
  if (auto it = options.items.find(spec.key); it != options.items.end()) {
    from = "--items";
    return it->second;
  }
  if (options.items_per_task > 0) {
    from = "--items-per-task";
    return options.items_per_task;
  }
  from = "data";
  try {
    loaded.push_back(make_task_dataset(spec, "train", cfg.data, hyper, cfg.model, cfg.train));
    const int64_t items = loaded.back()->size();
    loaded.push_back(make_task_dataset(spec, hyper.val_split, cfg.data, hyper, cfg.model, cfg.train));
    return items;
  } catch (const std::exception& e) {
    throw DataError(cat(e.what(), "\n--plan without data: give the train items as --items-per-task N or --items ",
                        spec.key, "=N,..."));
  }
}

double gigabytes(double bytes) { return bytes / 1e9; }


// AdamW's step is elementwise over the parameters, so its time is linear in their number: it is
// timed on the trunk's first parameters (about an eighth of the model; the second step, after
// the first allocated the moments) and scaled to all of them. Needs the gradients of a backward.
double adamw_step_seconds(MultiTaskModelImpl& model, const torch::Device& device) {
  std::vector<std::pair<std::string, torch::Tensor>> subset;
  int64_t numel = 0;
  const int64_t total = model.parameter_count();
  for (const auto& p : model.named_parameters()) {
    if (numel * 8 >= total) break;
    if (p.key().rfind("bert.", 0) != 0 || !p.value().grad().defined()) continue;
    subset.emplace_back(p.key(), p.value());
    numel += p.value().numel();
  }
  if (numel == 0) return 0;
  AdamW optimizer(subset, AdamWOptions{});
  optimizer.step(1.0);  // allocates the moments
  return seconds_of(device, [&] { optimizer.step(1.0); }) * static_cast<double>(total) / static_cast<double>(numel);
}

// One forward + backward per task kind, at the shapes of the kind's first task in the run: at the
// whole rank batch on a GPU, and on the CPU too when one item says that takes under
// kFullBatchBudgetS; otherwise the one item's time is scaled linearly to the rank batch (the
// CPU's step is GEMM-bound, so its time grows with the rows). Every task's step then scales
// with its rows × (tokens + regions) against the measured batch, plus one AdamW step over all
// parameters. Gradients accumulate across the timed steps: the first backward allocates them,
// later ones add, as training's do after zero_grad. Returns the parameter count and how the time
// was measured, for the printout.
constexpr double kFullBatchBudgetS = 3.0;

// A step of the largest task may take this long on the CPU to measure the model's memory.
constexpr double kMemoryStepBudgetS = 30.0;

std::pair<int64_t, std::string> measure_steps(const RunConfig& cfg, const torch::Device& device,
                                              std::vector<PlannedTask>& tasks, HostMemory& host) {
  const bool measure_memory = !device.is_cuda() && reset_peak_resident_memory();
  const double before_model = static_cast<double>(resident_memory().now_bytes);
  const auto built = SteadyClock::now();
  MultiTaskModel model(cfg.model);
  model->to(device);
  model->bf16_trunk = cfg.train.bf16;
  model->train();
  log::info0(cat("plan: ", cfg.model.preset, " model built in ",
                 seconds_since(built), " s"));
  struct Measured {
    double seconds;
    double work;  // rows × (tokens + regions) of the measured batch
    // One micro-batch of `t`, scaled from the measured step by rows × (tokens + regions).
    double seconds_for(const PlannedTask& t) const {
      return seconds * static_cast<double>(t.rows * (t.text_len + t.regions)) / work;
    }
  };
  std::map<std::string, Measured> by_kind;
  double adamw_s = -1;
  int scaled = 0;
  for (const auto& t : tasks) {
    const TaskKind& kind = kind_of(*t.spec);
    if (by_kind.count(kind.name())) continue;
    auto time_step = [&](int64_t items) {
      Batch batch = random_batch(cfg.model, *t.spec, items, t.text_len, t.regions).to(device);
      auto step = [&] { kind.compute(*model, batch).loss.backward(); };
      if (adamw_s < 0) {
        step();  // warm-up: allocates the gradients; the thread pool starts
        adamw_s = adamw_step_seconds(*model, device);
      }
      return Measured{seconds_of(device, step), static_cast<double>(batch.rows() * (t.text_len + t.regions))};
    };
    Measured m = time_step(device.is_cuda() ? t.rank_batch : 1);
    if (!device.is_cuda() && t.rank_batch > 1) {
      if (m.seconds * static_cast<double>(t.rank_batch) <= kFullBatchBudgetS) m = time_step(t.rank_batch);
      else ++scaled;
    }
    by_kind[kind.name()] = m;
    log::info0(cat("plan: ", kind.name(), " (", t.spec->key, "): forward + backward ", m.seconds, " s"));
  }
  if (measure_memory) {
    // The task whose step keeps the most, at its whole rank batch, when the timing says that is
    // affordable; then the process's peak since before the model is the model's part of it.
    const PlannedTask& peak = largest_step(tasks);
    if (by_kind.at(kind_of(*peak.spec).name()).seconds_for(peak) <= kMemoryStepBudgetS) {
      Batch batch = random_batch(cfg.model, *peak.spec, peak.rank_batch, peak.text_len, peak.regions);
      kind_of(*peak.spec).compute(*model, batch).loss.backward();
      host.cpu_model_bytes = static_cast<double>(resident_memory().peak_bytes) - before_model;
      host.cpu_model_task = peak.spec->key;
    }
  }
  for (auto& t : tasks) {
    t.step_s = by_kind.at(kind_of(*t.spec).name()).seconds_for(t) * cfg.train.gradient_accumulation + adamw_s;
  }
  return {model->parameter_count(),
          cat("one forward + backward per task kind on ", device.str(), " at the rank batch",
              scaled ? cat(" (", scaled, " of ", by_kind.size(), " kinds from 1 item, scaled linearly)") : "",
              ", each task scaled by rows x (tokens + regions), plus one AdamW step of ", adamw_s, " s")};
}

std::vector<PlannedTask> plan_tasks(const RunConfig& cfg, const PlanOptions& options, int ranks, HostMemory& host) {
  std::vector<PlannedTask> tasks;
  host.base_bytes = static_cast<double>(resident_memory().now_bytes);
  std::vector<std::unique_ptr<TaskDataset>> loaded;
  const int64_t task_token = cfg.model.task_token == TaskTokenMode::kNone ? 0 : 1;
  for (const auto& [spec, hyper] : training_tasks(cfg)) {
    PlannedTask t;
    t.spec = spec;
    t.hyper = hyper;
    t.items = train_items(cfg, *spec, hyper, options, t.items_from, loaded);
    const int k = cfg.train.gradient_accumulation;  // micro-batches read shards of ranks·k (train/trainer.cpp)
    t.rank_batch = divide_batch(hyper.batch_size, ranks, spec->key, k);
    t.batches_per_epoch = DistributedSampler(t.items, t.rank_batch, 0, ranks * k, 0, /*shuffle=*/true,
                                             cfg.train.drop_last).batches_per_epoch();
    if (t.batches_per_epoch == 0)
      throw DataError(cat(spec->key, ": ", t.items, " train items are fewer than one global batch of ",
                          hyper.batch_size));
    t.text_len = hyper.max_text + (spec->id == 0 ? 0 : task_token);  // pretraining (id 0): no task token
    t.regions = hyper.max_regions;
    t.rows = t.rank_batch * kind_of(*spec).random_rows_per_item();
    t.activation_bytes = activation_bytes(cfg.model, t.rows, t.text_len, t.regions, cfg.train.bf16);
    // Each of its k loaders holds up to max(prefetch, threads) batches built or being built.
    const int window = cfg.data.prefetch_batches == 0 ? 0 : std::max(cfg.data.prefetch_batches, cfg.data.loader_threads);
    t.queue_bytes = static_cast<double>(k) * window *
                    static_cast<double>(random_batch(cfg.model, *spec, t.rank_batch, t.text_len, t.regions).bytes());
    tasks.push_back(t);
  }
  bool from_data = !tasks.empty();
  for (const auto& t : tasks) from_data = from_data && t.items_from == "data";
  if (from_data) host.annotations_bytes = static_cast<double>(resident_memory().now_bytes) - host.base_bytes;
  return tasks;
}

void print_plan(const StageContext& ctx, int ranks, int64_t params, const std::vector<PlannedTask>& tasks,
                const HostMemory& host, const std::string& timing) {
  const RunConfig& cfg = ctx.config;
  std::vector<std::pair<int64_t, int64_t>> epochs_batches;
  for (const auto& t : tasks) epochs_batches.emplace_back(t.hyper.epochs, t.batches_per_epoch);
  const int64_t total = run_iterations(cfg.train.iterations, epochs_batches);
  const WarmupLinearSchedule lr(total, cfg.train.warmup_proportion);

  const int k = cfg.train.gradient_accumulation;
  std::printf("plan: %s, preset %s, %lld parameters, %d rank(s)%s, gradient accumulation %d (micro-batch = batch / "
              "(ranks x %d)), schedule %s\n", cfg.train.stage.c_str(),
              cfg.model.preset.c_str(), static_cast<long long>(params), ranks,
              ranks == ctx.runtime->size() ? "" : cat(" (this launch has ", ctx.runtime->size(), ")").c_str(), k, k,
              cfg.train.stage == "pretrain" ? "every iteration" : cfg.train.schedule.c_str());
  std::printf("  %-20s %9s %-16s %6s %5s %8s %6s %4s %4s %5s %9s %8s\n", "task", "items", "items from", "batch",
              "micro", "batches", "epochs", "L", "R", "rows", "act. GB", "step s");
  const PlannedTask* peak = &largest_step(tasks);
  double iteration_s = 0;
  for (const auto& t : tasks) {
    std::printf("  %-20s %9lld %-16s %6d %5lld %8lld %6d %4lld %4lld %5lld %9.2f %8.3f\n", t.spec->key.c_str(),
                static_cast<long long>(t.items), t.items_from.c_str(), t.hyper.batch_size,
                static_cast<long long>(t.rank_batch), static_cast<long long>(t.batches_per_epoch), t.hyper.epochs,
                static_cast<long long>(t.text_len), static_cast<long long>(t.regions), static_cast<long long>(t.rows),
                gigabytes(t.activation_bytes), t.step_s);
    iteration_s += t.step_s;
  }
  std::printf("  (micro: items per rank and micro-batch, %d per step; batches: steps per epoch; L: text tokens "
              "with the task token; R: regions; rows: image-text rows per rank and micro-batch; step s: %d forward + "
              "backward and one AdamW step)\n", k, k);
  std::printf("length: %lld iterations (%s), warm-up %.0f iterations (%.0f%%)\n", static_cast<long long>(total),
              cfg.train.iterations > 0 ? "train.iterations" : "the largest task's epochs x batches per epoch",
              lr.warmup_steps(), 100.0 * cfg.train.warmup_proportion);
  const double state = optimiser_state_bytes(params), buckets = 2.0 * cfg.dist.bucket_mb * (1 << 20);
  std::printf("memory per rank: %.2f GB = %.2f GB weights, gradients and AdamW moments (16 B x %lld parameters) "
              "+ %.2f GB activations of the largest step (%s, %s) + %.2f GB gradient buckets (2 x %.0f MB); "
              "formula: src/train/memory_estimate.h, docs/PLAN.md\n",
              gigabytes(state + peak->activation_bytes + buckets), gigabytes(state), static_cast<long long>(params),
              gigabytes(peak->activation_bytes), peak->spec->key.c_str(), cfg.train.bf16 ? "bf16" : "float32",
              gigabytes(buckets), cfg.dist.bucket_mb);
  double queues = 0;
  for (const auto& t : tasks) queues += t.queue_bytes;
  const double cache = static_cast<double>(cfg.data.feature_cache_mb) * (1 << 20);
  const double formula_model = ctx.device.is_cuda() ? 0 : state + peak->activation_bytes + buckets;
  const double on_host_device = std::max(formula_model, host.cpu_model_bytes);
  const bool measured = host.annotations_bytes >= 0;
  const double host_total = host.base_bytes + cache + queues + std::max(0.0, host.annotations_bytes) + on_host_device;
  std::printf("host memory per rank: %s%.2f GB = %.2f GB before any data (libraries, MPI, LibTorch; measured) + %.2f GB "
              "feature cache (data.feature_cache_mb = %d, its bound) + %.2f GB prefetched batches (per task: "
              "gradient_accumulation x max(prefetch_batches, loader_threads) x one batch's tensors) + ",
              measured ? "" : "at least ", gigabytes(host_total), gigabytes(host.base_bytes), gigabytes(cache),
              cfg.data.feature_cache_mb, gigabytes(queues));
  if (measured) std::printf("%.2f GB annotations and feature-file indices (train and val splits, measured while loading them)",
                            gigabytes(host.annotations_bytes));
  else std::printf("the annotations (not measured: the items came from --items)");
  if (host.cpu_model_bytes >= 0)
    std::printf(" + %.2f GB the model on the CPU (measured: the process's peak growth from building the model "
                "through a step of %s at its rank batch; the formula above says %.2f GB)", gigabytes(on_host_device),
                host.cpu_model_task.c_str(), gigabytes(formula_model));
  else if (on_host_device > 0)
    std::printf(" + %.2f GB the model's memory above (the device is the CPU; its largest step is too slow to measure "
                "here)", gigabytes(on_host_device));
  if (on_host_device > 0)
    std::printf("; on top, training on the CPU keeps up to %.2f GB of freed large blocks for reuse "
                "(VLMT_CPU_BLOCK_CACHE_MB) and glibc's untrimmed heap",
                gigabytes(static_cast<double>(large_block_cache_limit_bytes())));
  std::printf("; docs/PLAN.md \"Memory per rank\"\n");
  std::printf("time: %.2f s per iteration when every task steps; the run at most %s (%s; DSG's stop phases "
              "shorten it; the gradient all-reduce is not included: bench_allreduce measures it)\n",
              iteration_s, format_duration(iteration_s * static_cast<double>(total)).c_str(), timing.c_str());
  std::fflush(stdout);
}

}  // namespace

int run_plan(StageContext& ctx, const PlanOptions& options) {
  const int ranks = options.ranks > 0 ? options.ranks : ctx.runtime->size();
  // Every rank reads the items, so a bad input fails on every rank; rank 0 times and prints.
  HostMemory host;
  std::vector<PlannedTask> tasks = plan_tasks(ctx.config, options, ranks, host);
  if (!ctx.runtime->is_root()) return 0;
  log::info0(cat("plan: building the ", ctx.config.model.preset, " model and timing one step per task kind"));
  const auto [params, timing] = measure_steps(ctx.config, ctx.device, tasks, host);
  print_plan(ctx, ranks, params, tasks, host, timing);
  return 0;
}

}  // namespace vlmt
