// pretrain: thin main; the stage lives in train/.
#include "train/stage.h"

namespace vlmt::apps::pretrain {

int run(int argc, char** argv) { return vlmt::run_stage(argc, argv, "pretrain"); }

}  // namespace vlmt::apps::pretrain
