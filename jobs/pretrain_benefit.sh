#!/usr/bin/env bash
# Does pretraining pay off? On the synthetic world: pretrain once on the captions corpus, then
# train RefCOCO, VQA, COCO retrieval and NLVR2 single-task twice each with the same budget —
# from scratch and from the pretrained checkpoint — and print both validation learning curves
# and the iteration at which each first reaches a fixed score (tools/learning_curves.py; one
# summary JSON line per run in ROOT/pretrain_benefit.jsonl). Resumable like paper_tables.sh.
# SOURCE=st_refcoco asks the same of transfer instead: the start is a single-task RefCOCO run
# (configs/synthetic/st_refcoco.toml, SOURCE_ITERS iterations from scratch), and the runs from
# it are named from_st_refcoco_<task> (docs/TRAINING.md: retrieval learns from a grounded trunk).
# Run from the repository root:
#   jobs/pretrain_benefit.sh
#   sbatch -n 2 --wrap "LAUNCHER=srun jobs/pretrain_benefit.sh"
#   SOURCE=st_refcoco SCALE=0.01 TASKS=retrieval_coco ITERS=500 \
#     ROOT=checkpoints/synthetic/grounding_transfer jobs/pretrain_benefit.sh
# Environment: ROOT (checkpoints/synthetic/pretrain_benefit); SCALE (0.001) and DATA_ROOT
# (data/synthetic_<SCALE>: apart from the quickstart's data/synthetic; written when missing);
# SOURCE (pretrain, or st_<task>: the starting run);
# PRETRAIN_ITERS (pretraining iterations) or SOURCE_ITERS (600), ITERS (each single-task run);
# TASKS (refcoco vqa retrieval_coco nlvr2); TARGET_<task> (the score to reach, 0..1); and
# those of jobs/lib_launch.sh (RANKS, LAUNCHER, VLMT_BIN, MAX_RESUMES, DRY_RUN=1).
set -euo pipefail
cd "${VLMT_ROOT:-$(dirname "$0")/..}"
ROOT=${ROOT:-checkpoints/synthetic/pretrain_benefit}
SCALE=${SCALE:-0.001}
DATA_ROOT=${DATA_ROOT:-data/synthetic_$SCALE}
PRETRAIN_ITERS=${PRETRAIN_ITERS:-600}
SOURCE=${SOURCE:-pretrain}
SOURCE_ITERS=${SOURCE_ITERS:-600}
ITERS=${ITERS:-300}
TASKS=${TASKS:-refcoco vqa retrieval_coco nlvr2}
LOG_DIR=${LOG_DIR:-$ROOT/logs}
source jobs/lib_launch.sh
SYN=configs/synthetic

vlmt_ensure_world "$DATA_ROOT" "$SCALE"
mkdir -p "$ROOT"
start=$SECONDS
if [ "$SOURCE" = pretrain ]; then
  vlmt_train pretrain "$PRETRAIN_ITERS" pretrain "$SYN/pretrain.toml"
  from=pretrained
else
  [ -f "$SYN/$SOURCE.toml" ] || { echo "pretrain_benefit: SOURCE=$SOURCE: no $SYN/$SOURCE.toml" >&2; exit 2; }
  vlmt_train "$SOURCE" "$SOURCE_ITERS" mt_train "$SYN/$SOURCE.toml" --set 'train.init_from=""'
  from=from_$SOURCE
fi
for task in $TASKS; do
  # Same config, seed, data order and budget; only the initial weights differ.
  vlmt_train "scratch_$task" "$ITERS" mt_train "$SYN/st_$task.toml" --set 'train.init_from=""'
  vlmt_train "${from}_$task" "$ITERS" mt_train "$SYN/st_$task.toml" --from "$ROOT/$SOURCE/latest.h5"
done
echo "pretrain_benefit: training done ($((SECONDS - start)) s)"
[ -n "${DRY_RUN:-}" ] && exit 0

summary=$ROOT/pretrain_benefit.jsonl
rm -f "$summary"
for task in $TASKS; do
  # Default targets: between chance and what the runs reach on the quickstart world
  # (docs/TRAINING.md "Pretraining on the synthetic world").
  case $task in
    refcoco | refcoco+ | refcocog) default=0.25 ;;
    vqa | vgqa | gqa) default=0.30 ;;
    retrieval_*) default=0.30 ;;
    *) default=0.65 ;;
  esac
  var=TARGET_${task//[^a-zA-Z0-9]/_}
  echo
  python3 tools/learning_curves.py --task "$task" --target "${!var:-$default}" --json "$summary" \
    "scratch=$ROOT/scratch_$task" "$from=$ROOT/${from}_$task"
done
report_dirs=("$ROOT/$SOURCE")
for task in $TASKS; do report_dirs+=("$ROOT/scratch_$task" "$ROOT/${from}_$task"); done
"$VLMT_BIN/report" "${report_dirs[@]}" --out "$ROOT/report.html"
echo
echo "pretrain_benefit: done in $((SECONDS - start)) s; curves in $summary, report $ROOT/report.html"
