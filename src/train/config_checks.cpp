#include "train/config_checks.h"

#include "config/run_config.h"
#include "config/toml_reader.h"
#include "core/error.h"
#include "core/log.h"
#include "distributed/communicator.h"
#include "tasks/task_kind.h"
#include "train/adamw_update.h"
#include "train/schedule_registry.h"

namespace vlmt {

void check_registered_names(const RunConfig& config, ConfigIssues& issues) {
  check_task_kinds(config.catalog, issues);
  check_schedule(config, issues);
  try {
    adamw_kernel_named(config.train.adamw_kernel);
  } catch (const ConfigError& e) {
    issues.add(config.file, "train.adamw_kernel", e.what());
  }
  try {
    check_backend_name(config.dist.backend);
  } catch (const ConfigError& e) {
    issues.add(config.file, "dist.backend", e.what());
  }
}

}  // namespace vlmt
