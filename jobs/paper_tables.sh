#!/usr/bin/env bash
# The paper's Tables 2, 6 and 11 in miniature, on the synthetic world, from runs of its own:
#   Table 2   single-task models for the 12 tasks (ST), the 4 group models (GT), the all-task
#             model (AT), and AT fine-tuned on each task (AT->ST);
#   Table 6   AT (task token per dataset, DSG) and the ablations: token per head, no task token,
#             without DSG, curriculum, anti-curriculum, vanilla multi-task;
#   Table 11  AT trained with DSG iteration gaps Δ = 1, 4 (the AT run), 8, 16.
# Every run has its own directory under ROOT and is evaluated on the val splits (ROOT/<run>/
# eval_val/results.jsonl); then build/bin/tables prints the three tables from those files (row
# labels from generated runs files ROOT/runs_table<N>.toml) and build/bin/report writes
# ROOT/report.html. Resumable: a finished run (ROOT/<run>/DONE) or evaluation is not repeated,
# an interrupted one resumes from its checkpoint. The numbers are whatever the runs give.
# Run from the repository root:
#   jobs/paper_tables.sh                    # default sizes, 3 seeds: about 2.5 hours on 2 cores
#   QUICK=1 jobs/paper_tables.sh            # a few iterations per run: ~15 minutes, smoke sized
#   sbatch -n 2 --wrap "LAUNCHER=srun jobs/paper_tables.sh"   # through Slurm: one step per stage
# Environment: QUICK=1; SEEDS (training seeds, default "1 2 3": every run once per seed under
# ROOT/seed<S>, every table cell mean ± sd over them); ROOT (checkpoints/synthetic/paper_tables, or ..._quick); DATA_ROOT
# (data/synthetic_0.001: the scale its budget was measured on, apart from the quickstart's
# data/synthetic; written with synth_world + clean_split when missing); iterations per kind of run:
# PRETRAIN_ITERS, ST_ITERS, GT_ITERS, MT_ITERS (AT, ablations and Δ runs), FT_ITERS;
# EVAL_MAX_ITEMS (evaluate at most this many items per task; default all); and those of
# jobs/lib_launch.sh: RANKS (2), LAUNCHER (mpirun | srun), VLMT_BIN, MAX_RESUMES, DRY_RUN=1.
set -euo pipefail
cd "${VLMT_ROOT:-$(dirname "$0")/..}"
if [ -n "${QUICK:-}" ]; then
  ROOT=${ROOT:-checkpoints/synthetic/paper_tables_quick}
  PRETRAIN_ITERS=${PRETRAIN_ITERS:-6} ST_ITERS=${ST_ITERS:-6} GT_ITERS=${GT_ITERS:-6}
  MT_ITERS=${MT_ITERS:-4} FT_ITERS=${FT_ITERS:-4}
else
  ROOT=${ROOT:-checkpoints/synthetic/paper_tables}
  # The sizes of the measured 3-seed tables in docs/PAPER_TABLES.md: every task gets 32 updates
  # in every setting (ST, GT, AT: one step per task and iteration), AT->ST 32 more.
  PRETRAIN_ITERS=${PRETRAIN_ITERS:-300} ST_ITERS=${ST_ITERS:-32} GT_ITERS=${GT_ITERS:-32}
  MT_ITERS=${MT_ITERS:-32} FT_ITERS=${FT_ITERS:-32}
fi
SEEDS=${SEEDS:-1 2 3}
DATA_ROOT=${DATA_ROOT:-data/synthetic_0.001}
LOG_DIR=${LOG_DIR:-$ROOT/logs}
source jobs/lib_launch.sh
SYN=configs/synthetic

vlmt_ensure_world "$DATA_ROOT"
mkdir -p "$ROOT"

# evaluate_run NAME: all tasks of ROOT/NAME/latest.h5 on val into ROOT/NAME/eval_val (written
# under another name first, so an interrupted evaluation is never taken for a finished one).
# build/bin/report reads it from there (evaluate's default place).
evaluate_run() {
  local name=$1 dir=$ROOT/$1
  local out=$dir/eval_val
  if [ -f "$out/results.jsonl" ]; then echo "[eval-$name] done before, skipped"; return 0; fi
  rm -rf "$out.partial"
  local limit=()
  [ -n "${EVAL_MAX_ITEMS:-}" ] && limit=(--max-items "$EVAL_MAX_ITEMS")
  vlmt_stage "eval-${name//\//-}" evaluate --ckpt "$dir/latest.h5" --task all --split val \
    --data-root "$DATA_ROOT" --out "$out.partial" "${limit[@]}" || exit $?
  [ -n "${DRY_RUN:-}" ] && return 0
  mv "$out.partial" "$out"
}

# The runs of every seed: ROOT/seed<S>/<name>, trained with train.seed = S (pretraining
# included); name, setting label per table (written to the runs files), how to train.
TABLE2=() TABLE6=() TABLE11=()  # "seed<S>/name|label" entries
start=$SECONDS
TOP=$ROOT TOP_LOGS=$LOG_DIR
seeded() { vlmt_train "$@" --set "train.seed=$SEED"; }  # SEED: the loop's current seed
for SEED in $SEEDS; do
  ROOT=$TOP/seed$SEED LOG_DIR=$TOP_LOGS/seed$SEED
  mkdir -p "$ROOT"
  PRETRAINED=$ROOT/pretrain/latest.h5
  AT_CKPT=$ROOT/at/latest.h5
  S=seed$SEED
  seeded pretrain "$PRETRAIN_ITERS" pretrain "$SYN/pretrain.toml"
  for task in $VLMT_ALL_TASKS; do
    seeded "st_$task" "$ST_ITERS" mt_train "$SYN/st_$task.toml" --from "$PRETRAINED"
    TABLE2+=("$S/st_$task|ST")
  done
  for g in 1 2 3 4; do
    seeded "gt_g$g" "$GT_ITERS" mt_train "$SYN/gt_g$g.toml" --from "$PRETRAINED"
    TABLE2+=("$S/gt_g$g|GT")
  done
  seeded at "$MT_ITERS" mt_train "$SYN/at.toml" --from "$PRETRAINED"
  TABLE2+=("$S/at|AT")
  for task in $VLMT_ALL_TASKS; do
    seeded "at_st_$task" "$FT_ITERS" finetune --task "$task" "$SYN/finetune.toml" --from "$AT_CKPT"
    TABLE2+=("$S/at_st_$task|AT->ST")
  done
  TABLE6+=("$S/at|1 token per dataset (AT)")
  for row in "task_token_head|2 token per head" "no_task_token|3 w/o task token" \
             "no_dsg|4 w/o DSG" "curriculum|5 w/ curriculum" \
             "anti_curriculum|6 w/ anti-curriculum" "vanilla|7 vanilla multitask"; do
    name=ablation_${row%%|*}
    seeded "$name" "$MT_ITERS" mt_train "$SYN/$name.toml" --from "$PRETRAINED"
    TABLE6+=("$S/$name|${row#*|}")
  done
  TABLE11+=("$S/at|Δ 4")
  for gap in 1 8 16; do
    seeded "dsg_gap$gap" "$MT_ITERS" mt_train "$SYN/at.toml" --from "$PRETRAINED" \
      --set "train.dsg_gap=$gap"
    TABLE11+=("$S/dsg_gap$gap|Δ $gap")
  done
done
ROOT=$TOP LOG_DIR=$TOP_LOGS
echo "paper_tables: training done ($((SECONDS - start)) s)"

# Every trained model, evaluated once.
all_runs=()
for entry in "${TABLE2[@]}" "${TABLE6[@]}" "${TABLE11[@]}"; do
  name=${entry%%|*}
  case " ${all_runs[*]} " in *" $name "*) continue ;; esac
  all_runs+=("$name")
  evaluate_run "$name"
done
echo "paper_tables: evaluation done ($((SECONDS - start)) s)"
[ -n "${DRY_RUN:-}" ] && exit 0

# print_table NUMBER ENTRIES...: the runs file labelling these runs, then the table from their
# results. Table 11 takes its rows from the runs' DSG gap (run_info), the label is only a note.
print_table() {
  local number=$1; shift
  local runs_file=$ROOT/runs_table$number.toml files=() entry name
  echo "# written by jobs/paper_tables.sh: row labels of Table $number" >"$runs_file"
  local labelled=" "
  for entry in "$@"; do
    name=${entry%%|*}
    files+=("$ROOT/$name/eval_val/results.jsonl")
    # evaluate names a run after its directory: one entry per name serves every seed.
    name=${name##*/}
    case $labelled in *" $name "*) continue ;; esac
    labelled+="$name "
    if [ "$number" = 11 ]; then
      printf '[runs."%s"]\ndsg_gap = %s\n' "$name" "${entry##*Δ }" >>"$runs_file"
    else
      printf '[runs."%s"]\nsetting = "%s"\n' "$name" "${entry#*|}" >>"$runs_file"
    fi
  done
  "$VLMT_BIN/tables" --table "$number" --runs-file "$runs_file" "${files[@]}"
}
{
  echo "Synthetic world ($DATA_ROOT), $RANKS ranks; iterations: pretrain $PRETRAIN_ITERS,"
  echo "ST $ST_ITERS, GT $GT_ITERS, AT/ablations/Δ $MT_ITERS, AT->ST $FT_ITERS; val splits;"
  echo "seeds $SEEDS (cells: mean ± sd over the seeds)."
  echo "Runs in $ROOT."
  echo
  print_table 2 "${TABLE2[@]}"
  echo
  print_table 6 "${TABLE6[@]}"
  echo
  print_table 11 "${TABLE11[@]}"
} | tee "$ROOT/tables.md"
report_dirs=()
for SEED in $SEEDS; do report_dirs+=("$ROOT/seed$SEED/pretrain"); done
for name in "${all_runs[@]}"; do report_dirs+=("$ROOT/$name"); done
"$VLMT_BIN/report" "${report_dirs[@]}" --out "$ROOT/report.html"
echo "paper_tables: done in $((SECONDS - start)) s;" \
  "tables in $ROOT/tables.md, report $ROOT/report.html"
