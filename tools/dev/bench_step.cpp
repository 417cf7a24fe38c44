// bench_step: training-step throughput of a model preset on one task, and the model FLOP
// utilisation (MFU): model FLOP/s as a fraction of the matrix-multiply peak measured in the same
// process (bf16 GEMM on a GPU, float32 GEMM on the CPU).
//
//   bench_step [--preset base|tiny|FILE] [--task vqa] [--batch N] [--text-len 23] [--regions 101]
//              [--steps 5] [--threads N] [--device cpu|cuda] [--bf16] [--dropout torch|fused]
//              [--adamw fused|ops] [--profile|--profile-shapes]
//   mpirun -n 2 bench_step ...   data parallel as in training: --batch is the global batch,
//                                split over the ranks, and each step includes the bucketed
//                                gradient all-reduce (distributed/grad_sync.h; NCCL with --device cuda,
//                                MPI on the CPU); samples/s counts all ranks. Also measures one
//                                all-reduce of this model's trunk gradients.
//
// The last line is machine-readable, for tools/dev/bench_layout.sh:
//   RESULT preset=tiny task=vqa ranks=2 threads=1 batch=128 dropout=torch adamw=fused samples_per_s=195.3 step_s=0.6553 cpu_s=0.6401 adamw_s=0.0021
// (cpu_s: rank 0's CPU seconds per step, all its threads; adamw_s: rank 0's wall seconds per
// step in AdamW, fused = one pass per parameter (train/adamw_update.h), ops = LibTorch op by op).
//
// --batch defaults to the task's batch size of the paper (catalog/builtin_tasks.cpp). --device cuda uses the
// GPU of this rank's local rank (distributed/local_rank.h); the GPU is synchronised before the clock is
// read. --bf16 runs the trunk under bf16 autocast (train.bf16).
//
// Model FLOPs per step are counted from the Linear layers (2·in·out per token through each layer:
// text tokens for the text stream and the text side of co-attention, regions for the visual
// side, rows for pooled heads) plus the attention score/context products; backward = 2× forward.
#include <cstdio>

#include <sys/resource.h>

#include "catalog/task_catalog.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "core/op_profile.h"
#include "core/timing.h"
#include "distributed/communicator.h"
#include "distributed/grad_sync.h"
#include "distributed/runtime.h"
#include "model/dropout.h"
#include "model/multitask_model.h"
#include "tasks/random_batch.h"
#include "tasks/task_kind.h"
#include "train/adamw.h"

namespace vlmt::dev::bench_step {

using namespace vlmt;

namespace {


struct MatmulPeak {
  double gflops;
  std::string what;
};

// Measured GEMM peak on `device`: bf16 8192^3 on a GPU (the tensor-core rate), float32 1024^3 on
// the CPU (this process's thread pool).
MatmulPeak matmul_peak(const torch::Device& device) {
  const bool gpu = device.is_cuda();
  const int64_t n = gpu ? 8192 : 1024;
  const auto options = torch::TensorOptions().device(device).dtype(gpu ? torch::kBFloat16 : torch::kFloat32);
  auto a = torch::randn({n, n}, options), b = torch::randn({n, n}, options);
  torch::mm(a, b);  // warm-up
  synchronize(device);
  int reps = 0;
  const auto t0 = SteadyClock::now();
  while (seconds_since(t0) < 1.0) {
    for (int i = 0; i < (gpu ? 10 : 1); ++i, ++reps) torch::mm(a, b);
    synchronize(device);
  }
  return {2.0 * n * n * n * reps / seconds_since(t0) / 1e9,
          cat(gpu ? "bf16 " : "float32 ", n, "^3 GEMM on ", device.str(), ", same process")};
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// User + system CPU seconds of this process so far (all its threads).
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Forward FLOPs of one step for `rows` image–text pairs of length L and R regions.
double forward_flops(MultiTaskModelImpl& m, const TaskSpec& spec, int64_t rows, int64_t L, int64_t R) {
  double flops = 0;
  for (const auto& item : m.named_modules()) {
    const auto* linear = item.value()->as<torch::nn::Linear>();
    if (!linear) continue;
    const std::string& name = item.key();
    const double per_token = 2.0 * linear->weight.size(0) * linear->weight.size(1);
    const bool text_side = starts_with(name, "bert.encoder.layer.") || name.find(".query2") != std::string::npos ||
                           name.find(".key2") != std::string::npos || name.find(".value2") != std::string::npos ||
                           name.find(".dense2") != std::string::npos || name.find(".t_") != std::string::npos;
    const bool image_side = starts_with(name, "bert.encoder.v_layer.") || starts_with(name, "bert.v_embeddings") ||
                            name.find(".query1") != std::string::npos || name.find(".key1") != std::string::npos ||
                            name.find(".value1") != std::string::npos || name.find(".dense1") != std::string::npos ||
                            name.find(".v_") != std::string::npos;
    if (name.find("q_dense") != std::string::npos) continue;  // unused in the forward pass
    if (starts_with(name, "bert.encoder.")) {
      flops += per_token * rows * (text_side ? L : image_side ? R : 0);
    } else if (starts_with(name, "bert.v_embeddings")) {
      flops += per_token * rows * R;
    } else if (starts_with(name, "bert.t_pooler") || starts_with(name, "bert.v_pooler")) {
      flops += per_token * rows;
    } else if (starts_with(name, head_prefix(spec))) {
      flops += per_token * (kind_of(spec).head_per_region() ? rows * R : rows);
    }
  }
  const auto& c = m.config;
  // Attention products: scores and context, 2·2·Lq·Lk·width per layer.
  flops += 4.0 * rows * L * L * c.hidden_size * c.num_hidden_layers;
  flops += 4.0 * rows * R * R * c.v_hidden_size * c.v_num_hidden_layers;
  flops += 4.0 * rows * 2 * L * R * c.bi_hidden_size * c.v_biattention_id.size();
  return flops;
}

// Time of an all-reduce of `numel` floats over all ranks, and the bus bandwidth 2(n-1)/n·bytes/t.
void report_allreduce(DistRuntime& runtime, int64_t numel, const torch::Device& device) {
  auto comm = make_communicator("auto", runtime, device);
  auto buffer = torch::ones({numel}, torch::TensorOptions().device(device));
  comm->all_reduce(buffer);  // warm-up
  const int reps = 3;
  comm->barrier();
  const auto t0 = SteadyClock::now();
  for (int i = 0; i < reps; ++i) comm->all_reduce(buffer);
  synchronize(device);
  const double t = seconds_since(t0) / reps;
  const int n = comm->size();
  const double bus = n > 1 ? 2.0 * (n - 1) / n * numel * 4.0 / t / 1e9 : 0.0;
  if (runtime.is_root())
    std::printf("  all-reduce           %.1f MB of trunk gradients over %d rank(s) (%s): %.4f s, bus %.2f GB/s\n",
                numel * 4.0 / 1e6, n, comm->backend().c_str(), t, bus);
}

}  // namespace

int run(int argc, char** argv) {
  return run_main(argc, argv, [&](DistRuntime& runtime) {
    const CliArgs args = parse_cli(argc, argv, "bench_step", "[--preset P] [--task T] [--batch B] ...",
                                   {cli_text("preset", "model preset (default tiny)"),
                                    cli_text("task", "task key (default vqa)"),
                                    cli_integer("batch", "items per step (default: the task's batch size)", 1, 1e6),
                                    cli_integer("text-len", "text length (default: the task's max_text)", 2, 512),
                                    cli_integer("regions", "regions (default: the task's max_regions)", 1, 1000),
                                    cli_integer("steps", "timed steps (default 5)", 1, 1e6),
                                    cli_integer("threads", "intra-op threads (default: all cores)", 1, 1024),
                                    cli_text("device", "cpu or cuda (default cpu)", {"cpu", "cuda"}),
                                    cli_flag("bf16", "trunk under bf16 autocast (train.bf16)"),
                                    cli_text("dropout", "CPU dropout kernel: torch or fused (default: $VLMT_DROPOUT, else torch; model/dropout.h)",
                                             {"fused", "torch"}),
                                    cli_text("adamw", "AdamW update: fused (one pass; the default where it applies) or ops "
                                                      "(LibTorch op by op; train/adamw_update.h)", {"fused", "ops"}),
                                    cli_flag("profile", "after the timed steps, profile one more step and print rank 0's "
                                                        "self time per LibTorch op (core/op_profile.h)"),
                                    cli_flag("profile-shapes", "as --profile, a row per op and input shapes")});
    if (args.has("dropout"))
      set_dropout_kernel(args.get("dropout", "torch") == "fused" ? DropoutKernel::kFused : DropoutKernel::kTorch);
    const std::string dropout_name = dropout_kernel() == DropoutKernel::kFused ? "fused" : "torch";
    if (args.has("threads")) torch::set_num_threads(static_cast<int>(args.integer("threads", 1)));
    const ModelConfig config = load_model_preset(args.get("preset", "tiny"));
    const TaskSpec& spec = builtin_task(args.get("task", "vqa"));
    const int64_t batch = args.integer("batch", spec.released.batch_size);
    const int ranks = runtime.size();
    if (batch % ranks != 0)
      throw ConfigError(cat("bench_step: --batch ", batch, " is not divisible by ", ranks,
                            " ranks (the global batch is split over the ranks, as in training)"));
    const std::string device_name = args.get("device", "cpu");
    const torch::Device device = runtime.select_device(device_request_named(device_name), "bench_step --device " + device_name);
    const bool bf16 = args.has("bf16");
    const int64_t L = args.integer("text-len", spec.released.max_text);
    const int64_t R = args.integer("regions", spec.released.max_regions);
    const int steps = static_cast<int>(args.integer("steps", 5));
    if (!runtime.is_root()) log::set_level(log::Level::kWarn);

    MultiTaskModel model(config);
    model->to(device);
    model->bf16_trunk = bf16;
    model->train();
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (const auto& p : model->named_parameters()) named.emplace_back(p.key(), p.value());
    AdamWOptions options;
    options.base_lr = 1e-5;
    options.head_lr = 1e-5;
    const std::string adamw_name = args.get("adamw", "fused");
    options.kernel = adamw_kernel_named(adamw_name);
    AdamW optimizer(named, options);
    const TaskKind& kind = kind_of(spec);
    Batch b = random_batch(config, spec, batch / ranks, L, R).to(device);
    // As the trainer: the trunk and this task's head are synchronised, overlapped with backward.
    std::unique_ptr<Communicator> grad_comm;
    std::unique_ptr<GradientSynchronizer> sync;
    std::vector<NamedParameter> synced;
    if (ranks > 1) {
      grad_comm = make_communicator("auto", runtime, device);
      sync = std::make_unique<GradientSynchronizer>(*grad_comm);
      for (const auto& [name, p] : model->unique_named_parameters())
        if (starts_with(name, "bert.") || starts_with(name, head_prefix(spec))) synced.push_back({name, p});
    }
    double optimizer_seconds = 0;
    auto step = [&] {
      optimizer.zero_grad();
      if (sync) sync->begin_step(synced);
      kind.compute(*model, b).loss.backward();
      if (sync) sync->finish();
      const auto before_optimizer = SteadyClock::now();
      optimizer.step(1.0);
      synchronize(device);
      optimizer_seconds += seconds_since(before_optimizer);
    };
    step();  // warm-up
    synchronize(device);
    optimizer_seconds = 0;
    const double cpu0 = process_cpu_seconds();
    const auto t0 = SteadyClock::now();
    for (int i = 0; i < steps; ++i) step();
    synchronize(device);
    const double per_step = seconds_since(t0) / steps;
    // On a shared machine the wall clock also counts time other tenants took; this process's
    // CPU time does not, so it is the steadier figure to compare kernels by.
    const double cpu_per_step = (process_cpu_seconds() - cpu0) / steps;
    const double optimizer_per_step = optimizer_seconds / steps;
    const int64_t L_eff = L + (config.task_token == TaskTokenMode::kNone ? 0 : 1);
    const double flops = 3.0 * forward_flops(*model, spec, b.rows(), L_eff, R);  // per rank
    const double achieved = flops / per_step / 1e9;
    const MatmulPeak peak = matmul_peak(device);
    if (runtime.is_root()) {
      std::printf("bench_step: preset %s, task %s, %lld items (%lld rows per rank), L=%lld, R=%lld, %s, %s, "
                  "%d rank(s) x %d thread(s)\n", args.get("preset", "tiny").c_str(), spec.key.c_str(),
                  static_cast<long long>(batch), static_cast<long long>(b.rows()), static_cast<long long>(L_eff),
                  static_cast<long long>(R), device.str().c_str(), bf16 ? "bf16 autocast trunk" : "float32", ranks,
                  torch::get_num_threads());
      std::printf("  parameters           %lld\n", static_cast<long long>(model->parameter_count()));
      std::printf("  step (fwd+bwd+AdamW) %.4f s (CPU time of rank 0: %.4f s)\n", per_step, cpu_per_step);
      std::printf("  of which AdamW       %.4f s (%s)\n", optimizer_per_step, adamw_name.c_str());
      std::printf("  samples/s            %.1f (all ranks)\n", batch / per_step);
      std::printf("  model GFLOP/step     %.2f\n", flops / 1e9);
      std::printf("  achieved GFLOP/s     %.1f per rank\n", achieved);
      std::printf("  matmul peak GFLOP/s  %.1f (%s)\n", peak.gflops, peak.what.c_str());
      std::printf("  MFU                  %.1f%% of the measured peak\n", 100.0 * achieved / peak.gflops);
    }
    if (args.has("profile") || args.has("profile-shapes")) {
      const auto ops = profile_ops(
          [&] {
            step();
            synchronize(device);
          },
          args.has("profile-shapes"));
      if (runtime.is_root()) std::printf("one profiled step, rank 0:\n%s", format_op_table(ops, 25).c_str());
    }
    int64_t trunk = 0;
    for (const auto& [name, p] : model->unique_named_parameters())
      if (name.rfind("bert.", 0) == 0) trunk += p.numel();
    report_allreduce(runtime, trunk, device);
    if (runtime.is_root())
      std::printf("RESULT preset=%s task=%s ranks=%d threads=%d batch=%lld dropout=%s adamw=%s samples_per_s=%.1f "
                  "step_s=%.4f cpu_s=%.4f adamw_s=%.4f\n",
                  args.get("preset", "tiny").c_str(), spec.key.c_str(), ranks, torch::get_num_threads(),
                  static_cast<long long>(batch), dropout_name.c_str(), adamw_name.c_str(), batch / per_step, per_step,
                  cpu_per_step, optimizer_per_step);
    return 0;
  });
}

}  // namespace vlmt::dev::bench_step
