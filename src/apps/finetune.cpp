// finetune: thin main; the stage lives in train/.
#include "train/stage.h"

namespace vlmt::apps::finetune {

int run(int argc, char** argv) { return vlmt::run_stage(argc, argv, "finetune"); }

}  // namespace vlmt::apps::finetune
