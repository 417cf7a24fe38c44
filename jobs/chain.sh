#!/usr/bin/env bash
# Submits the whole 12-in-1 pipeline to Slurm as dependent jobs:
#   pretrain → mt_train → finetune (one array task per task) → evaluate (the multi-task model)
# each starting only when the previous one succeeded (--dependency=afterok). Run from the
# repository root:
#   jobs/chain.sh synthetic                         # tiny model on data/synthetic, 2 CPU ranks
#   GPUS_PER_NODE=8 NODES=4 jobs/chain.sh real      # 4 nodes × 8 GPUs, one rank per GPU
# Environment: NODES (1), RANKS_PER_NODE (GPUS_PER_NODE if > 0, else 2), GPUS_PER_NODE (0),
# CPUS_PER_TASK (1 on CPU, 8 on GPU), SKIP_PRETRAIN=1 (start at mt_train), MT_CONFIG / MT_CKPT
# (train a group model instead of AT), TASKS (which to fine-tune), SPLIT (val), SBATCH_EXTRA
# (more sbatch options, e.g. "--partition=gpu --time=48:00:00"), DRY_RUN=1 (print, submit nothing),
# WAIT=1 (submit the last job with `sbatch --wait`: return when the chain has ended, with the
# evaluation's exit code, or non-zero when a failed stage cancelled it).
# Prints one line per job: "<stage> <job id>".
set -euo pipefail
cd "${VLMT_ROOT:-$(dirname "$0")/..}"
source jobs/config_sets.sh
vlmt_config_set "${1:-synthetic}"
mkdir -p logs  # sbatch does not create the directory of --output

GPUS_PER_NODE=${GPUS_PER_NODE:-0}
NODES=${NODES:-1}
if [ "$GPUS_PER_NODE" -gt 0 ]; then RANKS_PER_NODE=${RANKS_PER_NODE:-$GPUS_PER_NODE}
else RANKS_PER_NODE=${RANKS_PER_NODE:-2}; fi
CPUS_PER_TASK=${CPUS_PER_TASK:-$([ "$GPUS_PER_NODE" -gt 0 ] && echo 8 || echo 1)}
read -r -a task_list <<<"$CHAIN_TASKS"

common=(--parsable --nodes="$NODES" --ntasks-per-node="$RANKS_PER_NODE"
        --cpus-per-task="$CPUS_PER_TASK")
[ "$GPUS_PER_NODE" -gt 0 ] && common+=(--gpus-per-node="$GPUS_PER_NODE")
read -r -a extra <<<"${SBATCH_EXTRA:-}"
common+=("${extra[@]}")
# The job scripts read these from the environment sbatch hands on (--export=ALL is its default),
# as well as the per-stage values `submit` passes; those are blanked where a stage must not
# inherit them from the caller's shell.
export VLMT_ROOT=$PWD GPUS_PER_NODE NODES RANKS_PER_NODE

submit() {  # stage dependency env-assignments... -- script args...
  local stage=$1 dep=$2; shift 2
  local envs=() id rc=0
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  local dep_opt=()
  [ -n "$dep" ] && dep_opt=(--dependency="afterok:$dep" --kill-on-invalid-dep=yes)
  if [ -n "${DRY_RUN:-}" ]; then
    echo "DRY_RUN: env ${envs[*]} sbatch ${common[*]} ${dep_opt[*]} $*" >&2
    id="dry-$stage"
  else
    id=$(env "${envs[@]}" sbatch "${common[@]}" "${dep_opt[@]}" "$@" | cut -d';' -f1) || rc=$?
  fi
  echo "$stage $id"
  last_id=$id
  [ "$rc" -eq 0 ] || { echo "chain: sbatch for $stage ended with exit code $rc" >&2; exit "$rc"; }
}

last_id=""
if [ -z "${SKIP_PRETRAIN:-}" ]; then
  submit pretrain "" CONFIG="$PRETRAIN_CONFIG" RUN_DIR= -- slurm/pretrain_cc.sh
fi
submit mt_train "$last_id" CONFIG="$MT_CONFIG" RUN_DIR= -- slurm/mt_train.sh
submit finetune "$last_id" CONFIG="$FINETUNE_CONFIG" FROM="$MT_CKPT" RUN_DIR="$FINETUNE_DIR" \
  TASK= TASKS="$CHAIN_TASKS" -- --array=0-$((${#task_list[@]} - 1)) slurm/finetune.sh
wait_opt=()
[ -n "${WAIT:-}" ] && wait_opt=(--wait)
submit evaluate "$last_id" CKPT="$MT_CKPT" RUN_DIR= TASK=all SPLIT="${SPLIT:-val}" -- \
  "${wait_opt[@]}" slurm/evaluate.sh
if [ -n "${WAIT:-}" ] && [ -z "${DRY_RUN:-}" ]; then
  # sbatch --wait returns 0 for a job that never ran (cancelled because a stage before it failed).
  state=$(scontrol show job -o "$last_id" 2>/dev/null | grep -o ' JobState=[A-Z_]*' | cut -d= -f2)
  if [ "$state" != COMPLETED ]; then
    echo "chain: the evaluation job $last_id ended ${state:-in an unknown state}," \
      "not COMPLETED (a stage before it failed?)" >&2
    exit 1
  fi
fi
