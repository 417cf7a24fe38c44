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
#SBATCH --time=04:00:00
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
if [ -z "${CKPT:-}" ]; then echo "vlmt: set CKPT to the checkpoint to evaluate" >&2; exit 2; fi
out_args=()
[ -n "${OUT:-}" ] && out_args=(--out "$OUT")
vlmt_run_step evaluate --ckpt "$CKPT" --task "${TASK:-all}" --split "${SPLIT:-val}" \
  "${out_args[@]}" "$@"
