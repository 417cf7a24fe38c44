#!/usr/bin/env bash
# The newcomer's first command: on a fresh Debian 12 machine, installs dependencies, builds,
# writes the synthetic world, brings up a local Slurm (falls back to mpirun), and runs the
# whole 12-in-1 pipeline at 2 ranks with the tiny preset:
#   pretrain → all-task training (12 tasks, DSG) → finetune (nlvr2) → evaluate (all tasks)
# then prints the results table and the path of the HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
RANKS=${RANKS:-2}
BUILD_DIR=${BUILD_DIR:-build}
BIN=$BUILD_DIR/bin
DATA=data/synthetic
step() { echo; echo "=== quickstart [$(date +%H:%M:%S)] $*"; }

step "1/7 dependencies"
bash tools/install_deps.sh

step "2/7 build ($BUILD_DIR)"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$BUILD_DIR" -j "$(nproc --all)" --target pretrain mt_train finetune evaluate infer synth_world \
  clean_split verify_data tables report

step "3/7 synthetic world in $DATA"
"$BIN/synth_world" --out "$DATA" --scale "${SCALE:-0.001}" --seed 1
"$BIN/clean_split" --root "$DATA"
"$BIN/verify_data" --root "$DATA"

if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMP_NUM_THREADS=1
LAUNCH=(mpirun -n "$RANKS" --oversubscribe --bind-to none)
step "4/7 local Slurm"
if [ -z "${NO_SLURM:-}" ] && bash tools/slurm_local.sh up; then
  eval "$(bash tools/slurm_local.sh env)"
  trap 'bash tools/slurm_local.sh down || true' EXIT
  LAUNCH=(srun -n "$RANKS" --kill-on-bad-exit=1)
  echo "quickstart: stages run with ${LAUNCH[*]}"
else
  echo "quickstart: no local Slurm; stages run with ${LAUNCH[*]}"
fi
rm -rf checkpoints/synthetic

step "5/7 pretrain (masked words + regions, alignment) on the captions corpus"
"${LAUNCH[@]}" "$BIN/pretrain" configs/synthetic/pretrain.toml --data-root "$DATA"

step "6/7 all-task training: 12 datasets, 4 task groups, dynamic stop-and-go"
"${LAUNCH[@]}" "$BIN/mt_train" configs/synthetic/at.toml --data-root "$DATA"
"${LAUNCH[@]}" "$BIN/finetune" --task nlvr2 configs/synthetic/finetune.toml --data-root "$DATA" \
  --run-dir checkpoints/synthetic/finetune/nlvr2

step "7/7 evaluate every task, tables and report"
"${LAUNCH[@]}" "$BIN/evaluate" --ckpt checkpoints/synthetic/at/latest.h5 --task all --split val \
  --data-root "$DATA" --out checkpoints/synthetic/at/eval_val
"${LAUNCH[@]}" "$BIN/evaluate" --ckpt checkpoints/synthetic/finetune/nlvr2/latest.h5 --task nlvr2 --split val \
  --data-root "$DATA" --out checkpoints/synthetic/finetune/nlvr2/eval_val
"$BIN/tables" checkpoints/synthetic/at/eval_val/results.jsonl --table 2
"$BIN/report" checkpoints/synthetic/pretrain checkpoints/synthetic/at checkpoints/synthetic/finetune/nlvr2 \
  --out checkpoints/synthetic/report.html
echo
echo "quickstart: done. Report: $(pwd)/checkpoints/synthetic/report.html"
