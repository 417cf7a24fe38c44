#!/usr/bin/env bash
# Submits one stage script with its allocation shaped from one number, GPUS_PER_NODE: one rank per
# GPU (--ntasks-per-node = --gpus-per-node), the node's CPUs shared out among the ranks
# (--cpus-per-task), the log directory created. Run it from the work directory (run directories
# and logs/ go there), like sbatch:
#   GPUS_PER_NODE=8 NODES=2 slurm/submit.sh mt_train             # 16 ranks, configs/at.toml
#   GPUS_PER_NODE=8 CONFIG=configs/gt_g3.toml slurm/submit.sh mt_train --set train.seed=3
#   GPUS_PER_NODE=1 TIME=2:00:00 slurm/submit.sh finetune nlvr2
#   slurm/submit.sh pretrain_cc                                   # CPU ranks, as `sbatch` alone
# STAGE: pretrain_cc | mt_train | finetune | evaluate (the script slurm/<stage>.sh beside this one);
# the other arguments go to the stage script (and from it to the executable).
# Environment:
#   GPUS_PER_NODE   GPUs per node, one rank each (default 0: CPU ranks)
#   NODES           nodes (default 1)
#   RANKS_PER_NODE  CPU ranks per node when GPUS_PER_NODE is 0 (default 2)
#   CPUS_PER_TASK   cores per rank (default: the partition's smallest node's CPUs / ranks per node)
#   TIME            --time (default: the stage script's, 24 h for training)
#   SUBMIT_DRY_RUN=1  print the sbatch command instead of running it
# sbatch's own variables still apply (SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_QOS, ...), and so
# do the stage script's (CONFIG, TASK, CKPT, RUN_DIR, VLMT_ENV, ...: the environment is passed on).
set -euo pipefail
usage="usage: [GPUS_PER_NODE=G] [NODES=N] $0 pretrain_cc|mt_train|finetune|evaluate [ARGS...]"
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
stage=$1; shift
script="$(cd "$(dirname "$0")" && pwd)/$stage.sh"
case $stage in
  pretrain_cc|mt_train|finetune|evaluate) ;;
  *) echo "submit.sh: unknown stage '$stage'" >&2; echo "$usage" >&2; exit 2 ;;
esac

# number NAME VALUE MIN: VALUE when it is an integer >= MIN, else exit 2 naming NAME.
number() {
  [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] && return 0
  echo "submit.sh: $1 must be an integer >= $3, not '$2'" >&2; exit 2
}
gpus=${GPUS_PER_NODE:-0}; nodes=${NODES:-1}
number GPUS_PER_NODE "$gpus" 0
number NODES "$nodes" 1
if [ "$gpus" -gt 0 ]; then ranks=$gpus; else ranks=${RANKS_PER_NODE:-2}; fi
number RANKS_PER_NODE "$ranks" 1
cpus=${CPUS_PER_TASK:-}
if [ -z "$cpus" ]; then
  # The smallest node of the partition sbatch will use (SBATCH_PARTITION or the default one).
  node_cpus=$(sinfo -h -o %c ${SBATCH_PARTITION:+-p "$SBATCH_PARTITION"} 2>/dev/null \
              | tr -d '+' | sort -n | head -n 1)
  [[ ${node_cpus:-} =~ ^[0-9]+$ ]] || node_cpus=$ranks
  cpus=$((node_cpus / ranks))
  [ "$cpus" -ge 1 ] || cpus=1
fi
number CPUS_PER_TASK "$cpus" 1

opts=(--nodes="$nodes" --ntasks-per-node="$ranks" --cpus-per-task="$cpus")
[ "$gpus" -gt 0 ] && opts+=(--gpus-per-node="$gpus")
[ -n "${TIME:-}" ] && opts+=(--time="$TIME")
cmd=(sbatch "${opts[@]}" "$script" "$@")
echo "submit.sh: ${cmd[*]}"
[ -n "${SUBMIT_DRY_RUN:-}" ] && exit 0
mkdir -p logs  # the scripts' --output=logs/...: sbatch does not create the directory
export GPUS_PER_NODE=$gpus
exec "${cmd[@]}"
