#!/usr/bin/env bash
# Cluster acceptance on one GPU node (jobs/gpu_acceptance.sh; docs/DISTRIBUTED.md): device
# binding, base step fp32/bf16 with MFU, NCCL all-reduce bandwidth, scaling to all GPUs, the
# watchdog on a stopped rank, bf16 training stopped and resumed, evaluate. About ten minutes.
#   sbatch slurm/gpu_acceptance.sh                  (8 GPUs)
#   sbatch --gpus-per-node=4 --ntasks-per-node=4 slurm/gpu_acceptance.sh
# The table goes to the job's log and to $OUT/acceptance.txt (default checkpoints/acceptance in
# the submit directory). Environment: that of jobs/gpu_acceptance.sh; arguments are passed to it.
#SBATCH --job-name=vlmt-gpu-acceptance
#SBATCH --output=logs/%x-%j.out
#SBATCH --time=00:20:00
#SBATCH --nodes=1
#SBATCH --exclusive
#SBATCH --ntasks-per-node=8
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=8
# Prologue (slurm/lib_step.sh says why): environment hook, the scripts from VLMT_HOME or the submit dir.
[ -z "${VLMT_ENV:-}" ] || source "$VLMT_ENV" || { echo "vlmt: sourcing VLMT_ENV=$VLMT_ENV failed" >&2; exit 2; }
set -uo pipefail
VLMT_ROOT="${VLMT_ROOT:-${SLURM_SUBMIT_DIR:-$(cd "$(dirname "$0")/.." && pwd)}}"
script="${VLMT_HOME:-$VLMT_ROOT}/jobs/gpu_acceptance.sh"
[ -f "$script" ] || { echo "vlmt: no $script: submit from the vlmt repository, set VLMT_ROOT, or" \
  "source an installed vlmt's share/vlmt/env.sh" >&2; exit 2; }
# The GPUs of this node's allocation (--gpus-per-node=a100:8 is exported as "a100:8").
gpus=${SLURM_GPUS_ON_NODE:-${SLURM_GPUS_PER_NODE:-}}
export GPUS=${GPUS:-${gpus##*:}} LAUNCHER=srun
exec bash "$script" "$@"
