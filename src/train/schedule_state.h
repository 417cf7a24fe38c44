#pragma once
// Saved schedule states (TaskSchedule::save_state): a Boost text archive that starts with the
// policy name and the task keys, so that a state is never loaded into another policy or another
// task list. Policies that keep state append it after this header.
#include <string>
#include <vector>

#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>

#include "train/scheduled_task.h"

namespace vlmt {

void write_schedule_header(boost::archive::text_oarchive& out, const std::string& policy,
                           const std::vector<ScheduledTask>& tasks);
// Throws CheckpointError when the saved policy or task keys differ from these.
void check_schedule_header(boost::archive::text_iarchive& in, const std::string& policy,
                           const std::vector<ScheduledTask>& tasks);

}  // namespace vlmt
