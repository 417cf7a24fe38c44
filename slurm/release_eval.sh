#!/usr/bin/env bash
# The released download → Table 2 (jobs/release_eval.sh) as one batch job: the conversions run
# in the batch shell (one process each, streaming), each evaluation is an srun step over the
# allocation's ranks.
#   DATA=/data/datasets CKPT=/data/multi_task_model.bin sbatch slurm/release_eval.sh
# Environment: those of jobs/release_eval.sh (DATA, CKPT, VOCAB, ROOT, OUT, CONFIG, PAPER_ROW,
# FLOAT16); RANKS defaults to the allocation's task count. Rerunning after a failure or a
# timeout resumes: finished conversions and evaluations are skipped.
#SBATCH --job-name=vlmt-release-eval
#SBATCH --output=logs/%x-%j.out
#SBATCH --open-mode=append
#SBATCH --time=12:00:00
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=1
[ -z "${VLMT_ENV:-}" ] || source "$VLMT_ENV" || { echo "vlmt: sourcing VLMT_ENV=$VLMT_ENV failed" >&2; exit 2; }
set -uo pipefail
VLMT_ROOT="${VLMT_ROOT:-${SLURM_SUBMIT_DIR:-$(cd "$(dirname "$0")/.." && pwd)}}"
export VLMT_ROOT LAUNCHER=srun RANKS="${RANKS:-${SLURM_NTASKS:-2}}"
exec bash "$VLMT_ROOT/jobs/release_eval.sh"
