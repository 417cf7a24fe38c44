#!/usr/bin/env bash
# Stage 1: ViLBERT pretraining on Conceptual Captions (masked language + masked region modelling,
# image–text alignment). One box:  sbatch slurm/pretrain_cc.sh
# Cluster, 4 nodes × 8 GPUs:
#   GPUS_PER_NODE=8 sbatch --nodes=4 --ntasks-per-node=8 --gpus-per-node=8 --cpus-per-task=8 \
#     slurm/pretrain_cc.sh
# Environment: CONFIG (default configs/pretrain_cc.toml) and those of slurm/lib_step.sh.
# Arguments are passed to `pretrain` (e.g. --set train.iterations=1000).
#SBATCH --job-name=vlmt-pretrain
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
vlmt_run_step pretrain "${CONFIG:-configs/pretrain_cc.toml}" "$@"
