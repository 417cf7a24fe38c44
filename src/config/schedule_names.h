#pragma once
// The values train.schedule accepts, for validating the config.
//
// The names are listed once, in the schedule registry (train/schedule_registry.cpp), which
// defines this function from its table. Config only declares it: config/ includes no train/
// header, and there is no second list to keep in step. (A registry filled by static
// initialisers would avoid the link-time reference but could be dropped by the linker from the
// static library in a binary that never uses train/, and then reject every name.)
#include <string>
#include <vector>

namespace vlmt {

std::vector<std::string> schedule_names();

}  // namespace vlmt
