#!/usr/bin/env bash
# Stage 3: task-specific fine-tuning from the multi-task model, one task per job.
#   One task:          TASK=nlvr2 sbatch slurm/finetune.sh      (or: sbatch slurm/finetune.sh nlvr2)
#   All 12 as array:   sbatch --array=0-11 slurm/finetune.sh   (task = TASKS[SLURM_ARRAY_TASK_ID])
# Environment: TASKS (space separated; default the 12 tasks in the paper's Table 2 order), TASK,
# CONFIG (default configs/finetune.toml), FROM (checkpoint to start from; default the config's
# train.init_from), RUN_DIR (parent; each task writes RUN_DIR/<task>; default the executable's,
# checkpoints/finetune/<task>) and those of slurm/lib_step.sh.
# Arguments after the task are passed to `finetune`.
#SBATCH --job-name=vlmt-finetune
#SBATCH --output=logs/%x-%A_%a.out
#SBATCH --open-mode=append
#SBATCH --time=12:00:00
#SBATCH --requeue
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=1
# Prologue (slurm/lib_step.sh says why): environment hook, helpers from VLMT_HOME or the submit dir.
[ -z "${VLMT_ENV:-}" ] || source "$VLMT_ENV" || { echo "vlmt: sourcing VLMT_ENV=$VLMT_ENV failed" >&2; exit 2; }
set -uo pipefail
VLMT_ROOT="${VLMT_ROOT:-${SLURM_SUBMIT_DIR:-$(cd "$(dirname "$0")/.." && pwd)}}"
source "${VLMT_HOME:-$VLMT_ROOT}/slurm/lib_step.sh" || { echo "vlmt: submit from the vlmt repository," \
  "set VLMT_ROOT, or source an installed vlmt's share/vlmt/env.sh" >&2; exit 2; }
read -r -a task_list <<<"${TASKS:-$VLMT_ALL_TASKS}"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then TASK=$1; shift; fi
if [ -z "${TASK:-}" ]; then
  index=${SLURM_ARRAY_TASK_ID:-}
  if [ -z "$index" ]; then
    echo "vlmt: no task: set TASK, pass it as the first argument," \
      "or submit with --array=0-$((${#task_list[@]} - 1))" >&2
    exit 2
  fi
  if [ "$index" -ge "${#task_list[@]}" ]; then
    echo "vlmt: array index $index is past the ${#task_list[@]} tasks in TASKS" \
      "(${task_list[*]})" >&2
    exit 2
  fi
  TASK=${task_list[$index]}
fi
# The executable's own run directory (checkpoints/<config name>/<task>) unless RUN_DIR is given.
[ -n "${RUN_DIR:-}" ] && RUN_DIR=$RUN_DIR/$TASK
from_args=()
[ -n "${FROM:-}" ] && from_args=(--from "$FROM")
vlmt_run_step finetune --task "$TASK" "${CONFIG:-configs/finetune.toml}" "${from_args[@]}" "$@"
