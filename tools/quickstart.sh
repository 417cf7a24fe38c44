#!/usr/bin/env bash
# The newcomer's first command: on a fresh Debian 12 machine, installs dependencies, builds,
# measures the fastest rank × thread layout of this machine once (tools/dev/bench_layout.sh, about a
# minute), writes the synthetic world, brings up a local Slurm (falls back to mpirun), and
# runs the whole 12-in-1 pipeline at that layout (2 ranks × 1 thread without one) with the tiny
# preset:
#   pretrain → all-task training (12 tasks, DSG) → finetune (nlvr2) → evaluate (all tasks)
# then prints the results table and the path of the HTML report. RANKS / OMP_NUM_THREADS, when
# set, win over the measured layout (VLMT_LAYOUT, default $BUILD_DIR/layout.env; delete it to
# measure again).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BIN=$BUILD_DIR/bin
VLMT_LAYOUT=${VLMT_LAYOUT:-$BUILD_DIR/layout.env}
source jobs/lib_layout.sh
DATA=data/synthetic
step() { echo; echo "=== quickstart [$(date +%H:%M:%S)] $*"; }

step "1/8 dependencies"
bash tools/install_deps.sh

step "2/8 build ($BUILD_DIR)"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$BUILD_DIR" -j "$(nproc --all)" --target pretrain mt_train finetune evaluate infer synth_world \
  clean_split verify_data tables report bench_step

step "3/8 rank × thread layout ($VLMT_LAYOUT)"
# Once per machine: a short sweep (2 timed steps per layout); a failed sweep only costs the default.
if [ -f "$VLMT_LAYOUT" ]; then
  echo "quickstart: measured before; delete $VLMT_LAYOUT to measure again"
elif [ -z "${DRY_RUN:-}" ]; then
  STEPS=2 BIN=$BIN OUT=$VLMT_LAYOUT bash tools/dev/bench_layout.sh \
    || echo "quickstart: the layout sweep failed; using 2 ranks x 1 thread"
else
  echo "quickstart: DRY_RUN, not measured"
fi

step "4/8 synthetic world in $DATA"
# Scale 0.01: enough RefCOCO* data for grounding to form in the all-task run, and retrieval
# learns only from a grounded trunk (docs/TRAINING.md, "Retrieval learns from a grounded trunk").
"$BIN/synth_world" --out "$DATA" --scale "${SCALE:-0.01}" --seed 1
"$BIN/clean_split" --root "$DATA"
"$BIN/verify_data" --root "$DATA"

if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
vlmt_layout  # RANKS, OMP_NUM_THREADS (exported): the environment's, else $VLMT_LAYOUT's, else 2 x 1
LAUNCH=(mpirun -n "$RANKS" --oversubscribe --bind-to none)
# Two ranks on one GPU stop every rank (docs/DISTRIBUTED.md), so with fewer GPUs than ranks the
# stages run on the CPU backend (the tiny model needs no GPU).
GPUS=$( (nvidia-smi -L 2>/dev/null || true) | grep -c '^GPU' || true)
STAGE_DEVICE=() EVAL_DEVICE=()
if [ "${GPUS:-0}" -lt "$RANKS" ]; then
  STAGE_DEVICE=(--set 'dist.backend="mpi"') EVAL_DEVICE=(--device cpu)
  echo "quickstart: ${GPUS:-0} GPU(s) for $RANKS rank(s): the stages run on the CPU"
fi
step "5/8 local Slurm"
if [ -z "${NO_SLURM:-}" ] && bash tools/slurm_local.sh up; then
  eval "$(bash tools/slurm_local.sh env)"
  trap 'bash tools/slurm_local.sh down || true' EXIT
  LAUNCH=(srun -n "$RANKS" --kill-on-bad-exit=1)
  [ "$OMP_NUM_THREADS" -gt 1 ] && LAUNCH+=(--cpus-per-task="$OMP_NUM_THREADS")
  echo "quickstart: stages run with ${LAUNCH[*]}"
else
  echo "quickstart: no local Slurm; stages run with ${LAUNCH[*]}"
fi
rm -rf checkpoints/synthetic

step "6/8 pretrain (masked words + regions, alignment) on the captions corpus"
"${LAUNCH[@]}" "$BIN/pretrain" configs/synthetic/pretrain.toml --data-root "$DATA" "${STAGE_DEVICE[@]}"

step "7/8 all-task training: 12 datasets, 4 task groups, dynamic stop-and-go"
"${LAUNCH[@]}" "$BIN/mt_train" configs/synthetic/at.toml --data-root "$DATA" "${STAGE_DEVICE[@]}"
"${LAUNCH[@]}" "$BIN/finetune" --task nlvr2 configs/synthetic/finetune.toml --data-root "$DATA" \
  --run-dir checkpoints/synthetic/finetune/nlvr2 "${STAGE_DEVICE[@]}"

step "8/8 evaluate every task, tables and report"
"${LAUNCH[@]}" "$BIN/evaluate" --ckpt checkpoints/synthetic/at/latest.h5 --task all --split val \
  --data-root "$DATA" --out checkpoints/synthetic/at/eval_val "${EVAL_DEVICE[@]}"
"${LAUNCH[@]}" "$BIN/evaluate" --ckpt checkpoints/synthetic/finetune/nlvr2/latest.h5 --task nlvr2 --split val \
  --data-root "$DATA" --out checkpoints/synthetic/finetune/nlvr2/eval_val "${EVAL_DEVICE[@]}"
"$BIN/tables" checkpoints/synthetic/at/eval_val/results.jsonl --table 2
"$BIN/report" checkpoints/synthetic/pretrain checkpoints/synthetic/at checkpoints/synthetic/finetune/nlvr2 \
  --out checkpoints/synthetic/report.html
echo
echo "quickstart: done. Report: $(pwd)/checkpoints/synthetic/report.html"
