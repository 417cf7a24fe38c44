#!/usr/bin/env bash
# Stage 2: multi-task training (the all-task model AT, a group model GT_g1..g4, a single-task
# baseline ST or an ablation, depending on CONFIG). One box:  sbatch slurm/mt_train.sh
# Cluster, 2 nodes × 8 GPUs, one rank per GPU:  GPUS_PER_NODE=8 NODES=2 slurm/submit.sh mt_train
# Environment: CONFIG (default configs/at.toml) and those of slurm/lib_step.sh.
# Arguments are passed to `mt_train` (e.g. --set train.schedule=vanilla).
#SBATCH --job-name=vlmt-mt_train
#SBATCH --output=logs/%x-%j.out
#SBATCH --open-mode=append
#SBATCH --time=24:00:00
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
vlmt_run_step mt_train "${CONFIG:-configs/at.toml}" "$@"
