#!/usr/bin/env bash
# The same chain as jobs/chain.sh on a machine without Slurm, with mpirun:
#   pretrain → mt_train → finetune (each task in turn) → evaluate (the multi-task model)
# stopping at the first stage that fails. Run from the repository root:
#   jobs/run_local.sh synthetic          # 2 ranks on this box
#   RANKS=4 jobs/run_local.sh real
# Environment: RANKS (2), VLMT_BIN (build/bin), SKIP_PRETRAIN=1, MT_CONFIG / MT_CKPT, TASKS,
# SPLIT (val), LOG_DIR (logs), MAX_RESUMES (3: a stage that checkpoints and exits 75, e.g. at
# train.max_hours, is started again to resume from its run directory), DRY_RUN=1 (print only).
set -euo pipefail
cd "${VLMT_ROOT:-$(dirname "$0")/..}"
source jobs/config_sets.sh
vlmt_config_set "${1:-synthetic}"
VLMT_BIN=${VLMT_BIN:-build/bin}
RANKS=${RANKS:-2}
MAX_RESUMES=${MAX_RESUMES:-3}
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
LOG_DIR=${LOG_DIR:-logs}
mkdir -p "$LOG_DIR"

stage() {  # name exe args...: one mpirun per attempt; 75 = checkpointed, go again
  local name=$1 exe=$2; shift 2
  local cmd=(mpirun -n "$RANKS" --oversubscribe "$VLMT_BIN/$exe" "$@" --set dist.backend=mpi)
  local log="$LOG_DIR/local-$name.out" attempt rc
  for ((attempt = 0; attempt <= MAX_RESUMES; attempt++)); do
    echo "run_local: [$name] ${cmd[*]}  (log $log)"
    [ -n "${DRY_RUN:-}" ] && return 0
    rc=0
    "${cmd[@]}" >>"$log" 2>&1 || rc=$?
    [ "$rc" -eq 75 ] && { echo "run_local: [$name] checkpointed (75); resuming"; continue; }
    if [ "$rc" -ne 0 ]; then
      echo "run_local: [$name] failed with exit code $rc; last lines of $log:" >&2
      tail -n 20 "$log" >&2
      exit "$rc"
    fi
    return 0
  done
  echo "run_local: [$name] still unfinished after $MAX_RESUMES resumes" >&2
  exit 75
}

[ -z "${SKIP_PRETRAIN:-}" ] && stage pretrain pretrain "$PRETRAIN_CONFIG"
stage mt_train mt_train "$MT_CONFIG"
for task in $CHAIN_TASKS; do
  stage "finetune-$task" finetune --task "$task" "$FINETUNE_CONFIG" --from "$MT_CKPT" \
    --set "train.run_dir=$FINETUNE_DIR/$task"
done
stage evaluate evaluate --ckpt "$MT_CKPT" --task all --split "${SPLIT:-val}"
echo "run_local: chain finished"
