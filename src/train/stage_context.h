#pragma once
// What a stage run knows once its config is resolved (train/stage.h makes it): the config, the
// run directory, the device, the communicators and what the command line asked for. Its own
// header so that the units that take it (train/run_plan.h, train/trainer_parts.h) do not include
// stage.h, which calls them.
#include <memory>
#include <string>

#include "config/run_config.h"
#include "distributed/communicator.h"
#include "distributed/runtime.h"
#include "train/plan_options.h"

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

}  // namespace vlmt
