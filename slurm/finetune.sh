#!/usr/bin/env bash
# Stage 3: task-specific fine-tuning from the multi-task model, one task per job.
#   One task:          TASK=nlvr2 sbatch slurm/finetune.sh      (or: sbatch slurm/finetune.sh nlvr2)
#   All 12 as array:   sbatch --array=0-11 slurm/finetune.sh   (task = TASKS[SLURM_ARRAY_TASK_ID])
# Environment: TASKS (space separated; default the 12 tasks in the paper's Table 2 order), TASK,
# CONFIG (default configs/finetune.toml), FROM (checkpoint to start from; default the config's
# train.init_from), RUN_DIR (parent; each task writes RUN_DIR/<task>, default
# checkpoints/finetune/<task>) and those of slurm/lib_step.sh.
# Arguments after the task are passed to `finetune`.
#SBATCH --job-name=vlmt-finetune
#SBATCH --output=logs/%x-%A_%a.out
#SBATCH --open-mode=append
#SBATCH --signal=B:USR1@300
#SBATCH --requeue
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=1
set -uo pipefail
# sbatch runs a spooled copy of this script: the job works in the submit directory (VLMT_ROOT)
# and takes the helpers from an installed vlmt (VLMT_HOME, set by its env.sh) or from there.
VLMT_ROOT="${VLMT_ROOT:-${SLURM_SUBMIT_DIR:-$(cd "$(dirname "$0")/.." && pwd)}}"
if [ ! -f "${VLMT_HOME:-$VLMT_ROOT}/slurm/lib_step.sh" ]; then
  echo "vlmt: no ${VLMT_HOME:-$VLMT_ROOT}/slurm/lib_step.sh: submit from the vlmt repository," \
    "set VLMT_ROOT, or source an installed vlmt's share/vlmt/env.sh" >&2; exit 2
fi
source "${VLMT_HOME:-$VLMT_ROOT}/slurm/lib_step.sh"
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
RUN_DIR="${RUN_DIR:-checkpoints/finetune}/$TASK"
from_args=()
[ -n "${FROM:-}" ] && from_args=(--from "$FROM")
vlmt_run_step finetune --task "$TASK" "${CONFIG:-configs/finetune.toml}" "${from_args[@]}" "$@"
