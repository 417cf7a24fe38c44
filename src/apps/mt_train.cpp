// mt_train: thin main; the stage lives in train/.
#include "train/stage.h"

namespace vlmt::apps::mt_train {

int run(int argc, char** argv) { return vlmt::run_stage(argc, argv, "mt_train"); }

}  // namespace vlmt::apps::mt_train
