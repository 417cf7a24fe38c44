#!/usr/bin/env bash
# Stage 4: evaluation of a checkpoint on one task or all of them.
#   CKPT=checkpoints/at/latest.h5 sbatch slurm/evaluate.sh
#   CKPT=... TASK=nlvr2 SPLIT=test sbatch slurm/evaluate.sh
# Environment: CKPT (required), TASK (default all), SPLIT (val | test | test-dev; default val),
# OUT (directory for scores and predictions; default the evaluator's) and those of
# slurm/lib_step.sh. Arguments are passed to `evaluate`.
#SBATCH --job-name=vlmt-evaluate
#SBATCH --output=logs/%x-%j.out
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
if [ -z "${CKPT:-}" ]; then echo "vlmt: set CKPT to the checkpoint to evaluate" >&2; exit 2; fi
source "${VLMT_HOME:-$VLMT_ROOT}/slurm/lib_step.sh"
out_args=()
[ -n "${OUT:-}" ] && out_args=(--out "$OUT")
vlmt_run_step evaluate --ckpt "$CKPT" --task "${TASK:-all}" --split "${SPLIT:-val}" \
  "${out_args[@]}" "$@"
