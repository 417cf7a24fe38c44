#!/usr/bin/env bash
# A 13th dataset of an existing kind, declared in the run's TOML only (no rebuild): a copy of
# the synthetic VQA data under the new key "myvqa", declared as
#   [tasks.myvqa] kind = "VL-classifier", display, group, id, image_source, batch_size, lr
# is trained next to RefCOCO by mt_train, validated, evaluated (official VQA metric, predictions
# file) and answered by infer; bad declarations exit 2 naming the key and the problem.
set -euo pipefail
source "$(dirname "$0")/lib/checks.bash"
export OMP_NUM_THREADS=1
PY=/usr/bin/python3
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

"$BIN/synth_world" --out "$T/data" --scale 0.001 --seed 7 >/dev/null
mkdir -p "$T/data/annotations/myvqa"
cp "$T/data/annotations/vqa/train.jsonl" "$T/data/annotations/vqa/answers.json" "$T/data/annotations/myvqa/"
cp "$T/data/annotations/vqa/minval.jsonl" "$T/data/annotations/myvqa/val.jsonl"

declaration() {  # the dataset's TOML block; $1 = extra lines
  cat <<TOML
[tasks.myvqa]
kind = "VL-classifier"
display = "MyVQA"
group = 1
id = 3
image_source = "coco"
batch_size = 64
lr = 4e-5
max_text = 23
$1
TOML
}
run_toml() {  # $1 = extra lines of the declaration
  cat <<TOML
[model]
preset = "tiny"
[data]
root = "$T/data"
[tasks]
active = ["myvqa", "refcoco"]
[tasks.refcoco]
batch_size = 16
$(declaration "$1")
$CPU_DIST
[train]
seed = 3
iterations = 9          # myvqa: 542 items / 64 = 8 batches per epoch: validated after iteration 9 (released: iterId 8)
lr_multiplier = 5.0
log_every = 4
checkpoint_every = 1000
val_max_batches = 1
num_threads = 1
TOML
}
run_toml "" > "$T/run.toml"

"$BIN/mt_train" "$T/run.toml" --run-dir "$T/run" > "$T/train.log" 2>&1 \
  || { tail -20 "$T/train.log"; bad "mt_train with a declared dataset"; finish; }
grep -q "task myvqa: declared in" "$T/train.log" && ok "mt_train registers the declared dataset" \
  || bad "no declaration line in the log"
$PY - "$T/run/metrics.jsonl" <<'PY' && ok "myvqa trains and validates (train and val records)" || bad "myvqa records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert any(r.get("kind") == "train" and r.get("task") == "myvqa" for r in recs), "no train record"
assert any(r.get("kind") == "val" and r.get("task") == "myvqa" for r in recs), "no val record"
PY

"$BIN/evaluate" --device cpu --ckpt "$T/run/latest.h5" --task myvqa --split val --out "$T/ev" > "$T/ev.log" 2>&1 \
  || { tail -20 "$T/ev.log"; bad "evaluate --task myvqa"; }
$PY - "$T/ev" "$T/data/annotations/myvqa/val.jsonl" <<'PY' && ok "evaluate: official VQA metric over every item" \
  || bad "evaluate myvqa results"
import json, sys
out, ann = sys.argv[1], sys.argv[2]
rec = [json.loads(l) for l in open(f"{out}/results.jsonl")][-1]
n = sum(1 for l in open(ann) if l.strip())
assert rec["task"] == "myvqa" and rec["metric"] == "vqa_accuracy", rec
assert rec["n"] == n and 0 <= rec["score"] <= 100, (rec, n)
preds = [json.loads(l) for l in open(f"{out}/predictions/myvqa_val.jsonl")]
assert len(preds) == n and all("answer" in p for p in preds), len(preds)
PY

IMG=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["image_id"])' \
  "$T/data/annotations/myvqa/val.jsonl")
"$BIN/infer" --ckpt "$T/run/latest.h5" --task myvqa --image-id "$IMG" --text "what color is the ball" --top 2 \
  > "$T/infer.json" 2> "$T/infer.log" && $PY - "$T/infer.json" "$T/data/annotations/myvqa/answers.json" <<'PY' \
  && ok "infer --task myvqa: top answers from its vocabulary" || { cat "$T/infer.log"; bad "infer myvqa"; }
import json, sys
j = json.load(open(sys.argv[1]))
answers = set(json.load(open(sys.argv[2]))["answers"])
assert j["task"] == "myvqa" and len(j["answers"]) == 2, j
assert all(a["answer"] in answers for a in j["answers"]), j
PY

# Bad declarations: exit 2 on the config check, naming the key and what is wrong.
expect_error() {  # $1 = what, $2 = sed expression applied to the valid run file, $3 = expected text
  sed "$2" "$T/run.toml" > "$T/bad.toml"
  set +e; "$BIN/mt_train" "$T/bad.toml" --check-config > "$T/bad.log" 2>&1; rc=$?; set -e
  if [ "$rc" = 2 ] && grep -q "$3" "$T/bad.log"; then ok "$1: exit 2, names \"$3\""
  else cat "$T/bad.log"; bad "$1 (exit $rc)"; fi
}
"$BIN/mt_train" "$T/run.toml" --check-config > "$T/good.log" 2>&1 && ok "the valid declaration passes --check-config" \
  || { cat "$T/good.log"; bad "--check-config of the valid declaration"; }
expect_error "a task id already taken" 's/^id = 3$/id = 9/' 'id 9 is taken by refcoco'
expect_error "an unknown kind" 's/^kind = .*/kind = "VL-clasifier"/' 'unknown task kind "VL-clasifier"'
expect_error "no image source" '/^image_source = /d' 'image_source'
expect_error "a built-in key" 's/^\[tasks.myvqa\]$/[tasks.vqa]/; s/"myvqa", //' 'built-in dataset'
finish
