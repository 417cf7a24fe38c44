#pragma once
// What every stage executable does before training: resolve the config (command line, then
// defaults that are logged), pick the run directory and device, build the communicator, seed,
// and set the thread count. The mains stay thin: they call run_stage().
#include <memory>
#include <string>

#include "distributed/communicator.h"
#include "distributed/runtime.h"
#include "train/stage_context.h"

namespace vlmt {

// stage: "pretrain" | "mt_train" | "finetune". Command line: [CONFIG] [--set k=v]... plus
// --task (finetune), --run-dir, --init-from, --data-root, --max-hours, --plan, --check-config.
StageContext make_stage_context(DistRuntime& runtime, int argc, char** argv, const std::string& stage);

// The communicator for host-side control collectives: MPI with several ranks, local with one.
std::unique_ptr<Communicator> make_control_communicator(DistRuntime& runtime);

// The whole main of a training stage (runs under run_main: errors → exit codes on every rank).
int run_stage(int argc, char** argv, const std::string& stage);

}  // namespace vlmt
