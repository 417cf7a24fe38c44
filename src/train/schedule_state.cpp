#include "train/schedule_state.h"

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {

std::vector<std::string> keys_of(const std::vector<ScheduledTask>& tasks) {
  std::vector<std::string> keys;
  for (const auto& t : tasks) keys.push_back(t.key);
  return keys;
}

}  // namespace

void write_schedule_header(boost::archive::text_oarchive& out, const std::string& policy,
                           const std::vector<ScheduledTask>& tasks) {
  const std::vector<std::string> keys = keys_of(tasks);
  out << policy << keys;
}

void check_schedule_header(boost::archive::text_iarchive& in, const std::string& policy,
                           const std::vector<ScheduledTask>& tasks) {
  std::string saved_name;
  std::vector<std::string> saved_keys;
  in >> saved_name >> saved_keys;
  if (saved_name != policy)
    throw CheckpointError(cat("checkpoint has task schedule \"", saved_name,
                              "\" but this run uses \"", policy, "\""));
  const std::vector<std::string> keys = keys_of(tasks);
  if (saved_keys != keys)
    throw CheckpointError(cat("checkpoint schedule is for tasks [", join_names(saved_keys),
                              "] but this run has [", join_names(keys), "]"));
}

}  // namespace vlmt
