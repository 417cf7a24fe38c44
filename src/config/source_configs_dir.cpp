#include "config/source_configs_dir.h"

namespace vlmt {
const char* source_configs_dir() { return VLMT_SOURCE_CONFIGS; }
}  // namespace vlmt
