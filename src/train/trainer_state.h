#pragma once
// The trainer's own resumable state, stored with Boost.Serialization inside the checkpoint
// (/trainer_state). Parameters, optimiser moments and RNG states travel as tensors beside it.
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vlmt {

struct StreamState {
  int64_t epoch = 0;
  int64_t position = 0;     // sampler position of this rank (same on all ranks)
  int64_t updates = 0;      // optimisation steps taken by this stream
  double last_score = -1;   // last validation score (-1 = none yet)
  template <class Ar>
  void serialize(Ar& ar, unsigned /*version*/) {
    ar & epoch & position & updates & last_score;
  }
};

struct TrainerState {
  std::string stage;
  int world_size = 1;
  int64_t iteration = 0;      // completed iterations
  int64_t total_iterations = 0;
  int64_t lr_step = 0;
  std::string schedule_name;
  std::string schedule_blob;  // TaskSchedule::save_state()
  std::map<std::string, StreamState> streams;
  int gradient_accumulation = 1;  // train.gradient_accumulation (version 1; earlier checkpoints: 1)
  template <class Ar>
  void serialize(Ar& ar, unsigned version) {
    ar & stage & world_size & iteration & total_iterations & lr_step & schedule_name & schedule_blob & streams;
    if (version >= 1) ar & gradient_accumulation;
  }
};

}  // namespace vlmt

BOOST_CLASS_VERSION(vlmt::TrainerState, 1)
