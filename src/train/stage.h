#pragma once
// What every stage executable does before training: resolve the config (command line, then
// defaults that are logged), pick the run directory and device, build the communicator, seed,
// and set the thread count. The mains stay thin: they call run_stage().
#include <memory>
#include <string>

#include "config/run_config.h"
#include "core/cli.h"
#include "distributed/communicator.h"
#include "distributed/runtime.h"
#include "train/run_plan.h"

namespace vlmt {

struct StageContext {
  RunConfig config;
  std::string run_dir;
  torch::Device device = torch::kCPU;
  std::unique_ptr<Communicator> grad_comm;     // trunk gradients: NCCL on GPUs, MPI on CPUs
  std::unique_ptr<Communicator> control_comm;  // small host collectives: validation sums, DSG, stop flag
  DistRuntime* runtime = nullptr;
  bool plan_only = false;     // --plan: print the plan, do not train
  PlanOptions plan;           // --ranks, --items-per-task, --items
  bool check_config = false;  // --check-config: validate and print the resolved config, then exit
};

// stage: "pretrain" | "mt_train" | "finetune". Command line: [CONFIG] [--set k=v]... plus
// --task (finetune), --run-dir, --init-from, --data-root, --max-hours, --plan, --check-config.
StageContext make_stage_context(DistRuntime& runtime, int argc, char** argv, const std::string& stage);

// The communicator for host-side control collectives: MPI with several ranks, local with one.
std::unique_ptr<Communicator> make_control_communicator(DistRuntime& runtime);

// The whole main of a training stage (runs under run_main: errors → exit codes on every rank).
int run_stage(int argc, char** argv, const std::string& stage);

}  // namespace vlmt
