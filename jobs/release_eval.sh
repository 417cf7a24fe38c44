#!/usr/bin/env bash
# From the released 12-in-1 download to the paper's Table 2, in one job:
#   1. the released checkpoint → a vlmt parameter file, strictly (every tensor of the official
#      list, the answer vocabularies of its VQA/GQA heads stored with it);
#   2. the released datasets/ annotations → ROOT/annotations (tools/convert/released.py) and the
#      feature LMDBs → ROOT/features (tools/convert/released_features.py); both resumable: what
#      was converted from unchanged inputs is skipped; verify_data then lists every missing file
#      or image at once (exit 3) before anything is evaluated;
#   3. `evaluate --task all --split test`: every task on its Table 2 protocol (VQA and GQA
#      test-dev, VG QA val, COCO/Flickr30k retrieval on the 1K test sets, RefCOCO/RefCOCO+ test =
#      testA ∪ testB, RefCOCOg/V7W/GW/SNLI-VE test, NLVR2 test = testP), submission files where
#      the labels are private (VQA test-dev: submit OUT/eval_test/submissions/vqa_test-dev.json
#      to EvalAI), plus VQA on minval (labels ship) for a local number;
#   4. prints Table 2: vlmt's row, the paper's row (configs/paper/table2.toml, cited by table and
#      row) and the difference per task.
# Run from the repository root:
#   DATA=/data/datasets CKPT=/data/multi_task_model.bin jobs/release_eval.sh
#   sbatch slurm/release_eval.sh          # the same on a cluster (DATA, CKPT exported)
# Environment: DATA (the released datasets/ directory, required), CKPT (released checkpoint,
# required), VOCAB (BERT's bert-base-uncased vocab.txt; default ROOT/vocab.txt, else
# DATA/../bert-base-uncased-vocab.txt), ROOT (vlmt data root written; default data/released),
# OUT (default checkpoints/release_eval), CONFIG (run file of the model; default configs/at.toml,
# the base model and the 12 tasks), SPEC (the checkpoint's parameter list; default the
# converter's, the released model's), PAPER_ROW (4: All-Tasks, the released model; 7/8 for the
# finetuned ones), FLOAT16=1 (store features as float16: half the disk), and those of
# jobs/lib_launch.sh: RANKS (2), LAUNCHER (mpirun | srun), VLMT_BIN, LOG_DIR, DRY_RUN=1.
set -euo pipefail
cd "${VLMT_ROOT:-$(dirname "$0")/..}"
: "${DATA:?set DATA to the released datasets/ directory}"
: "${CKPT:?set CKPT to the released checkpoint (e.g. multi_task_model.bin)}"
ROOT=${ROOT:-data/released}
OUT=${OUT:-checkpoints/release_eval}
CONFIG=${CONFIG:-configs/at.toml}
PAPER_ROW=${PAPER_ROW:-4}
LOG_DIR=${LOG_DIR:-$OUT/logs}
PY=${VLMT_PYTHON:-/usr/bin/python3}
source jobs/lib_launch.sh
mkdir -p "$OUT" "$ROOT"
start=$SECONDS
step() { echo "== release_eval: $* ($((SECONDS - start)) s)"; }

step "1/4 checkpoint $CKPT → $OUT/params.h5"
PARAMS=$OUT/params.h5
if [ -f "$PARAMS" ] && [ "$PARAMS" -nt "$CKPT" ]; then
  echo "$PARAMS is newer than $CKPT; kept"
else
  answers=()
  for pair in vil_prediction=VQA vil_prediction_gqa=gqa; do
    file=$DATA/${pair#*=}/cache/trainval_label2ans.pkl
    if [ -f "$file" ]; then answers+=(--answers "${pair%%=*}=$file")
    else echo "warning: $file is absent: ${pair%%=*} is stored without its answers" >&2; fi
  done
  spec=()
  [ -n "${SPEC:-}" ] && spec=(--spec "$SPEC")
  "$PY" tools/convert/convert_vilbert_checkpoint.py "$CKPT" --out "$PARAMS.partial" "${spec[@]}" "${answers[@]}"
  mv "$PARAMS.partial" "$PARAMS"
fi

step "2/4 annotations and features $DATA → $ROOT"
"$PY" tools/convert/released.py --data-dir "$DATA" --out "$ROOT"
float16=()
[ -n "${FLOAT16:-}" ] && float16=(--float16)
"$PY" tools/convert/released_features.py --data-dir "$DATA" --out "$ROOT" "${float16[@]}"
if [ ! -f "$ROOT/vocab.txt" ]; then
  vocab=${VOCAB:-$DATA/../bert-base-uncased-vocab.txt}
  [ -f "$vocab" ] || { echo "release_eval: no $ROOT/vocab.txt; set VOCAB to BERT's" \
    "bert-base-uncased vocab.txt (the released model's tokenizer)" >&2; exit 3; }
  cp "$vocab" "$ROOT/vocab.txt"
  echo "vocabulary: $vocab"
fi

# The released files of the referring tasks, Visual7W and GuessWhat are their own stores.
overrides=()
while read -r line; do overrides+=(--set "$line"); done \
  < <("$PY" tools/convert/released_features.py --print-overrides)
# Every missing file or image at once, before any evaluation starts.
if [ -z "${DRY_RUN:-}" ] && ! "$VLMT_BIN/verify_data" --root "$ROOT" --config "$CONFIG" "${overrides[@]}"; then
  echo "release_eval: $ROOT is incomplete (above); add the missing released files under $DATA" \
    "and run again: only what is new is converted" >&2
  exit 3
fi

step "3/4 evaluate every task on its Table 2 split"
# evaluate NAME SPLIT TASK: into OUT/eval_NAME; its DONE file marks it complete (results.jsonl
# names its prediction files by path, so the directory is written in place, not renamed).
evaluate() {
  local dir=$OUT/eval_$1
  if [ -f "$dir/DONE" ]; then echo "[$1] done before ($dir); skipped"; return 0; fi
  rm -rf "$dir"
  vlmt_stage "release-eval-$1" evaluate --ckpt "$PARAMS" --config "$CONFIG" --data-root "$ROOT" \
    --task "$3" --split "$2" --out "$dir" --run-name "vlmt: $(basename "$CKPT")" "${overrides[@]}" || exit $?
  [ -n "${DRY_RUN:-}" ] || touch "$dir/DONE"
}
evaluate test test all
evaluate vqa_minval val vqa
[ -n "${DRY_RUN:-}" ] && exit 0

step "4/4 Table 2"
"$VLMT_BIN/tables" "$OUT/eval_test/results.jsonl" --paper-row "$PAPER_ROW" | tee "$OUT/table2.md"
"$PY" - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
def records(path):
    return [r for r in map(json.loads, open(path)) if r.get("kind", "result") == "result"]
print("\nPer task (the cells above; n = items scored):")
for r in records(os.path.join(out, "eval_test", "results.jsonl")):
    score = f"{r['score']:.2f}" if r.get("has_ground_truth", True) else "labels private: submit"
    print(f"  {r['task']:<20} {r['split']:<9} {r['metric']:<13} {score}  (n {r['n']})")
for r in records(os.path.join(out, "eval_vqa_minval", "results.jsonl")):
    print(f"  {r['task']:<20} {r['split']:<9} {r['metric']:<13} {r['score']:.2f}  (n {r['n']};"
          " VQA minval, labels ship)")
sub = os.path.join(out, "eval_test", "submissions")
if os.path.isdir(sub):
    print("Submission files (evaluation servers):")
    for name in sorted(os.listdir(sub)):
        print(f"  {os.path.join(sub, name)}")
PY
echo "release_eval: done in $((SECONDS - start)) s; Table 2 in $OUT/table2.md"
