#pragma once
// The names a run config gives that the registries above config own: each dataset's task kind
// (tasks/task_kind.h), train.schedule (train/schedule_registry.h), train.adamw_kernel
// (train/adamw_update.h) and dist.backend (distributed/communicator.h). config/ checks syntax, types and ranges; the stages pass this to
// load_run_config, so one exit-2 message lists the config's problems and these together.
namespace vlmt {

class ConfigIssues;
struct RunConfig;

void check_registered_names(const RunConfig& config, ConfigIssues& issues);

}  // namespace vlmt
