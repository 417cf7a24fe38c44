#include "distributed/comm_ending.h"

namespace vlmt {

CommEnding choose_comm_ending(const CommHealth& health, bool unwinding) {
  if (health.aborted) return CommEnding::kNothing;
  if (unwinding || health.async_error || health.in_flight > 0) return CommEnding::kAbort;
  return CommEnding::kDestroy;
}

CommEnding end_communicator(EndableComm& comm, bool unwinding) {
  const CommEnding ending = choose_comm_ending(comm.health(), unwinding);
  if (ending == CommEnding::kDestroy) comm.destroy_comm();
  if (ending == CommEnding::kAbort) comm.abort_comm();
  return ending;
}

}  // namespace vlmt
