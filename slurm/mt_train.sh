#!/usr/bin/env bash
# Stage 2: multi-task training (the all-task model AT, a group model GT_g1..g4, a single-task
# baseline ST or an ablation, depending on CONFIG). One box:  sbatch slurm/mt_train.sh
# Cluster, 2 nodes × 4 GPUs:
#   GPUS_PER_NODE=4 CONFIG=configs/at.toml sbatch --nodes=2 --ntasks-per-node=4 \
#     --gpus-per-node=4 --cpus-per-task=8 slurm/mt_train.sh
# Environment: CONFIG (default configs/at.toml) and those of slurm/lib_step.sh.
# Arguments are passed to `mt_train` (e.g. --set train.schedule=vanilla).
#SBATCH --job-name=vlmt-mt_train
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
source "${VLMT_HOME:-$VLMT_ROOT}/slurm/lib_step.sh"
vlmt_run_step mt_train "${CONFIG:-configs/at.toml}" "$@"
