// pretrain: thin main; the stage lives in train/.
#include "train/stage.h"

int main(int argc, char** argv) { return vlmt::run_stage(argc, argv, "pretrain"); }
