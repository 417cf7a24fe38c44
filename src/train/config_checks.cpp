#include "train/config_checks.h"

#include <algorithm>

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
  check_schedule_name(config, issues);
  try {
    adamw_kernel_named(config.train.adamw_kernel);
  } catch (const ConfigError& e) {
    issues.add(config.file, "train.adamw_kernel", e.what());
  }
  const auto& backends = communicator_backend_names();
  if (std::find(backends.begin(), backends.end(), config.dist.backend) == backends.end()) {
    std::string valid;
    for (const auto& name : backends) valid += (valid.empty() ? "" : ", ") + name;
    issues.add(config.file, "dist.backend", cat("\"", config.dist.backend, "\" is not one of: ", valid));
  }
}

}  // namespace vlmt
