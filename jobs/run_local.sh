#!/usr/bin/env bash
# The same chain as jobs/chain.sh on a machine without Slurm, with mpirun:
#   pretrain → mt_train → finetune (each task in turn) → evaluate (the multi-task model)
# stopping at the first stage that fails. Run from the repository root:
#   jobs/run_local.sh synthetic          # 2 ranks on this box
#   RANKS=4 jobs/run_local.sh real
# Environment: SKIP_PRETRAIN=1, MT_CONFIG / MT_CKPT, TASKS, SPLIT (val), and those of
# jobs/lib_launch.sh: RANKS (2), VLMT_BIN (build/bin), LAUNCHER (mpirun | srun), LOG_DIR (logs),
# MAX_RESUMES (3: a stage that checkpoints and exits 75, e.g. at train.max_hours, is started again
# to resume from its run directory), DRY_RUN=1 (print only).
set -euo pipefail
cd "${VLMT_ROOT:-$(dirname "$0")/..}"
source jobs/config_sets.sh
vlmt_config_set "${1:-synthetic}"
source jobs/lib_launch.sh

stage() { vlmt_stage "$@" || exit $?; }  # the chain stops at the first failure

[ -z "${SKIP_PRETRAIN:-}" ] && stage pretrain pretrain "$PRETRAIN_CONFIG"
stage mt_train mt_train "$MT_CONFIG"
for task in $CHAIN_TASKS; do
  stage "finetune-$task" finetune --task "$task" "$FINETUNE_CONFIG" --from "$MT_CKPT" \
    --set "train.run_dir=$FINETUNE_DIR/$task"
done
stage evaluate evaluate --ckpt "$MT_CKPT" --task all --split "${SPLIT:-val}"
echo "run_local: chain finished"
