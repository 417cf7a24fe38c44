#!/usr/bin/env bash
# evaluate, infer and mt_vgc on a model trained a few iterations on the synthetic world:
#  1. evaluate --task all at 2 MPI ranks: 12 per-task lines, 12 result records with each task's
#     metric, per-item predictions and the servers' submission files with the split's item counts;
#  2. the same evaluation at 1 rank gives the same scores;
#  3. a missing split and an unknown task: a clear error listing what exists, non-zero exit on
#     every rank; a VQA question id that is no integer or too long: exit 3 naming it, up front;
#  4. infer for vqa, refcoco, retrieval_coco, nlvr2 and --embed prints the JSON users ask for;
#     on the user's own features (--features, from an .npz via features_from_npz.py) and in
#     batch mode (--requests JSON Lines);
#  5. mt_vgc reads the predictions and appends its record.
set -euo pipefail
source "$(dirname "$0")/lib/checks.bash"
export OMP_NUM_THREADS=1
PY=/usr/bin/python3
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
MPI="mpirun --oversubscribe --bind-to none"

"$BIN/synth_world" --out "$T/data" --scale 0.001 --seed 7 >/dev/null
cat > "$T/run.toml" <<TOML
[model]
preset = "tiny"
[data]
root = "$T/data"
[tasks]
active = ["vqa", "gqa", "vgqa", "retrieval_coco", "retrieval_flickr30k", "refcoco", "refcoco+",
          "refcocog", "visual7w", "guesswhat", "nlvr2", "snli_ve"]
$(for t in vqa gqa vgqa retrieval_coco retrieval_flickr30k refcoco '"refcoco+"' refcocog visual7w guesswhat \
   nlvr2 snli_ve; do printf '[tasks.%s]\nbatch_size = 16\n' "$t"; done)
$CPU_DIST
[train]
seed = 3
iterations = 12
lr_multiplier = 5.0
log_every = 4
checkpoint_every = 1000
val_max_batches = 1
num_threads = 1
TOML
$MPI -n 1 "$BIN/mt_train" "$T/run.toml" --run-dir "$T/run" > "$T/train.log" 2>&1 \
  || { tail -20 "$T/train.log"; bad "mt_train"; exit 1; }
CKPT="$T/run/latest.h5"

# 1. every task at 2 ranks
$MPI -n 2 "$BIN/evaluate" --device cpu --ckpt "$CKPT" --task all --split val --out "$T/ev2" > "$T/ev2.log" 2>&1 \
  || { tail -30 "$T/ev2.log"; bad "evaluate --task all at 2 ranks"; exit 1; }
n=$(grep -c "evaluate [a-z0-9_+]* val: " "$T/ev2.log" || true)
[ "$n" = 12 ] && ok "12 per-task lines" || { tail -30 "$T/ev2.log"; bad "$n per-task lines"; }
if $PY - "$T/ev2" "$T/data" <<'PY'
import json, sys, os, csv
out, root = sys.argv[1], sys.argv[2]
metric = {"vqa": "vqa_accuracy", "gqa": "vqa_accuracy", "vgqa": "vqa_accuracy",
          "retrieval_coco": "recall@1", "retrieval_flickr30k": "recall@1"}
recs = [json.loads(l) for l in open(f"{out}/results.jsonl")]
res = [r for r in recs if r.get("kind", "result") == "result"]
assert len(res) == 12, f"{len(res)} result records"
assert sorted(r["task"] for r in res) == sorted(["vqa", "gqa", "vgqa", "retrieval_coco", "retrieval_flickr30k",
    "refcoco", "refcoco+", "refcocog", "visual7w", "guesswhat", "nlvr2", "snli_ve"])
def lines(p): return [json.loads(l) for l in open(p) if l.strip()]
for r in res:
    t = r["task"]
    assert r["metric"] == metric.get(t, "accuracy"), (t, r["metric"])
    assert 0 <= r["score"] <= 100 and r["n"] > 0, r
    ann = lines(r["annotations"])
    preds = lines(f"{out}/predictions/{t}_val.jsonl")
    assert r["predictions"] == f"{out}/predictions/{t}_val.jsonl"
    assert len(preds) == len(ann), (t, len(preds), len(ann))
    assert all("correct" in p for p in preds), t
    if metric.get(t) == "recall@1":
        assert 0 <= r["r1"] <= r["r5"] <= r["r10"] <= 100, r
        hits = sum(p["rank"] == 1 for p in preds)
    else:
        hits = sum(p["correct"] for p in preds)
    if t in ("vqa", "vgqa", "gqa"):
        # official score: mean over questions of the per-item official accuracy
        assert abs(r["score"] - 100 * sum(p["score"] for p in preds) / len(preds)) < 1e-6, t
    else:
        assert abs(r["score"] - 100 * hits / len(preds)) < 1e-6, (t, r["score"], hits)
split_file = {r["task"]: r["annotations"] for r in res}
vqa = json.load(open(f"{out}/submissions/vqa_val.json"))
assert len(vqa) == len(lines(split_file["vqa"]))
assert all(set(x) == {"question_id", "answer"} and isinstance(x["question_id"], int) for x in vqa)
answers = set(json.load(open(f"{root}/annotations/vqa/answers.json"))["answers"])
assert all(x["answer"] in answers for x in vqa)
gqa = json.load(open(f"{out}/submissions/gqa_val.json"))
assert len(gqa) == len(lines(split_file["gqa"]))
assert all(set(x) == {"questionId", "prediction"} and isinstance(x["questionId"], str) for x in gqa)
nl = list(csv.reader(open(f"{out}/submissions/nlvr2_val.csv")))
assert len(nl) == len(lines(split_file["nlvr2"]))
assert all(len(row) == 2 and row[1] in ("True", "False") for row in nl)
PY
then ok "results.jsonl, predictions and submission files"; else bad "results/submission files"; fi

# 2. one rank gives the same scores
$MPI -n 1 "$BIN/evaluate" --device cpu --ckpt "$CKPT" --task all --split val --out "$T/ev1" > "$T/ev1.log" 2>&1 \
  || { tail -30 "$T/ev1.log"; bad "evaluate at 1 rank"; }
if $PY - "$T/ev1/results.jsonl" "$T/ev2/results.jsonl" <<'PY'
import json, sys
def scores(p):
    return {r["task"]: (r["score"], r["n"]) for r in map(json.loads, open(p)) if r.get("kind", "result") == "result"}
a, b = scores(sys.argv[1]), scores(sys.argv[2])
assert a.keys() == b.keys()
for t in a:
    assert a[t][1] == b[t][1] and abs(a[t][0] - b[t][0]) < 1e-6, (t, a[t], b[t])
PY
then ok "1-rank and 2-rank scores agree"; else bad "1-rank and 2-rank scores differ"; fi

# 3. errors
set +e
$MPI -n 2 "$BIN/evaluate" --device cpu --ckpt "$CKPT" --task vqa --split nosuch --out "$T/bad" > "$T/split.log" 2>&1; rc=$?
set -e
[ "$rc" != 0 ] && ok "missing split exits non-zero ($rc)" || bad "missing split exit code 0"
[ "$(grep -c 'split "nosuch" not found.*available: .*val' "$T/split.log")" -ge 2 ] \
  && ok "both ranks name the missing split and list the available ones" || { cat "$T/split.log"; bad "missing split message"; }
set +e
$MPI -n 2 "$BIN/evaluate" --device cpu --ckpt "$CKPT" --task vqaa --out "$T/bad" > "$T/task.log" 2>&1; rc=$?
set -e
[ "$rc" = 2 ] && ok "unknown task exits 2" || bad "unknown task exit code $rc"
[ "$(grep -c 'unknown task "vqaa"; valid tasks: vqa, ' "$T/task.log")" -ge 2 ] \
  && ok "both ranks name the unknown task and list the valid ones" || { cat "$T/task.log"; bad "unknown task message"; }

# A VQA question id the submission file cannot hold (not an integer; over 2^63 - 1): exit 3 on
# every rank naming the id and the split file, before anything is evaluated.
for bad_id in q12x 12345678901234567890; do
  $PY - "$T/data/annotations/vqa/minval.jsonl" "$T/data/annotations/vqa/ids_$bad_id.jsonl" "$bad_id" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
lines[len(lines) // 2]["question_id"] = sys.argv[3]
open(sys.argv[2], "w").write("".join(json.dumps(l) + "\n" for l in lines))
PY
  set +e
  $MPI -n 2 "$BIN/evaluate" --device cpu --ckpt "$CKPT" --task vqa --split "ids_$bad_id" --out "$T/bad_ids" > "$T/ids.log" 2>&1; rc=$?
  set -e
  [ "$rc" = 3 ] && [ "$(grep -c "ids_$bad_id.jsonl: question id \"$bad_id\" is not a VQA question id" "$T/ids.log")" -ge 2 ] \
    && [ ! -e "$T/bad_ids/predictions" ] && [ ! -e "$T/bad_ids/submissions" ] \
    && ok "VQA question id $bad_id: exit 3 on both ranks naming it and the file, nothing evaluated" \
    || { cat "$T/ids.log"; bad "VQA question id $bad_id (exit $rc)"; }
done

# 4. infer
# first TASK FIELD: the field of the first item of the task's evaluated split
first() { $PY - "$T/ev2/results.jsonl" "$1" "$2" <<'PY'
import json, sys
rec = [r for r in map(json.loads, open(sys.argv[1])) if r.get("task") == sys.argv[2]][-1]
v = json.loads(open(rec["annotations"]).readline())[sys.argv[3]]
print(",".join(v) if isinstance(v, list) else v)
PY
}
infer() { "$BIN/infer" --ckpt "$CKPT" "$@"; }
infer --task vqa --image-id "$(first vqa image_id)" --text "$(first vqa question)" --top 3 > "$T/i_vqa.json" \
  && $PY - "$T/i_vqa.json" "$T/data/annotations/vqa/answers.json" <<'PY' && ok "infer vqa: top answers" || bad "infer vqa"
import json, sys
r = json.load(open(sys.argv[1])); vocab = json.load(open(sys.argv[2]))["answers"]
assert r["task"] == "vqa" and len(r["answers"]) == 3
s = [a["score"] for a in r["answers"]]
assert s == sorted(s, reverse=True) and all(0 <= x <= 1 for x in s) and all(a["answer"] in vocab for a in r["answers"])
assert r["seconds"] < 30
PY
infer --task refcoco --image-id "$(first refcoco image_id)" --text "$(first refcoco expression)" > "$T/i_ref.json" \
  && $PY - "$T/i_ref.json" <<'PY' && ok "infer refcoco: a box" || bad "infer refcoco"
import json, sys
r = json.load(open(sys.argv[1]))
x1, y1, x2, y2 = r["box"]
assert x1 <= x2 and y1 <= y2 and r["region"] >= 1 and 0 <= r["score"] <= 1
PY
infer --task retrieval_coco --text "$(first retrieval_coco caption)" --top 4 > "$T/i_ret.json" \
  && $PY - "$T/i_ret.json" "$T/data/features/coco.h5" <<'PY' && ok "infer retrieval_coco: ranked images" || bad "infer retrieval"
import json, sys, h5py
r = json.load(open(sys.argv[1]))
ids = {i.decode() if isinstance(i, bytes) else i for i in h5py.File(sys.argv[2])["ids"][:]}
s = [x["score"] for x in r["ranking"]]
assert len(r["ranking"]) == 4 and s == sorted(s, reverse=True) and all(x["image_id"] in ids for x in r["ranking"])
PY
infer --task nlvr2 --image-id "$(first nlvr2 image_ids)" --text "$(first nlvr2 sentence)" --embed > "$T/i_nlvr2.json" \
  && $PY - "$T/i_nlvr2.json" <<'PY' && ok "infer nlvr2 --embed: label and embeddings" || bad "infer nlvr2 --embed"
import json, sys
r = json.load(open(sys.argv[1]))
assert isinstance(r["label"], bool) and (r["probability_true"] > 0.5) == r["label"]
e = r["embedding"]
assert len(e["pooled_text"]) > 0 and len(e["pooled_image"]) > 0 and len(e["fused"]) > 0
PY
set +e; infer --task nlvr2 --image-id "$(first vqa image_id)" --text "x" > "$T/i_bad.json" 2> "$T/i_bad.log"; rc=$?; set -e
[ "$rc" = 2 ] && grep -q "two images" "$T/i_bad.log" && ok "infer nlvr2 with one image: exit 2" || bad "infer nlvr2 one image (rc $rc)"

# 4b. infer on one's own features: an .npz per image (the extractor's layout) converted with
# tools/convert/features_from_npz.py, read with --features; a file of another feature dimension
# is exit 3 naming both dimensions.
dim=$($PY -c "import h5py,sys; print(h5py.File(sys.argv[1])['features'].shape[1])" "$T/data/features/coco.h5")
$PY - "$T/own" "$dim" <<'PY'
import os, sys, numpy as np
out, dim = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
for name, d in (("my_photo", dim), ("wrong_dim", dim // 2)):
    n = 12
    x1y1 = rng.uniform(0, 300, (n, 2)); wh = rng.uniform(20, 200, (n, 2))
    os.makedirs(f"{out}/{name}", exist_ok=True)
    np.savez(f"{out}/{name}/{name}.npz", features=rng.standard_normal((n, d)).astype(np.float32),
             boxes=np.hstack([x1y1, x1y1 + wh]).astype(np.float32), image_w=640, image_h=480)
PY
for name in my_photo wrong_dim; do
  $PY "$SRC/tools/convert/features_from_npz.py" --out "$T/own/$name.h5" --detector mine "$T/own/$name" \
    > "$T/own/$name.log" 2>&1 || { cat "$T/own/$name.log"; bad "features_from_npz.py $name"; }
done
infer --task vqa --features "$T/own/my_photo.h5" --image-id my_photo --text "what is on the table?" --top 2 \
  > "$T/i_own.json" && $PY - "$T/i_own.json" "$T/own/my_photo.h5" <<'PY' && ok "infer --features with the user's own image" || bad "infer --features"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["image_ids"] == ["my_photo"] and len(r["answers"]) == 2, r
assert r["features"]["file"] == sys.argv[2] and r["features"]["fingerprint"].startswith("mine/"), r["features"]
PY
set +e; infer --task vqa --features "$T/own/wrong_dim.h5" --image-id wrong_dim --text "x" > /dev/null 2> "$T/i_dim.log"; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "features of dimension $((dim / 2)), but the model reads $dim" "$T/i_dim.log" \
  && ok "--features of another dimension: exit 3, both dimensions named" || bad "wrong dimension (rc $rc): $(cat "$T/i_dim.log")"

# 4c. batch mode: JSON Lines in, one answer line per request, in order; a bad line is answered
# with its error and the rest still run; the exit code is the first failure's.
{
  printf '{"id": "q1", "task": "vqa", "image_id": "%s", "text": "%s", "top": 3}\n' "$(first vqa image_id)" "$(first vqa question)"
  printf '{"id": 7, "task": "vqaa", "text": "x"}\n'
  printf 'not json\n\n'
  printf '{"task": "vqa", "features": "%s", "image_ids": ["my_photo"], "text": "what is on the table?", "top": 2}\n' "$T/own/my_photo.h5"
  printf '{"task": "vqa", "text": "x", "topp": 3}\n'
} > "$T/requests.jsonl"
set +e; infer --requests "$T/requests.jsonl" --out "$T/answers.jsonl" 2> "$T/batch.log"; rc=$?; set -e
[ "$rc" = 2 ] && $PY - "$T/answers.jsonl" "$T/i_vqa.json" "$T/i_own.json" <<'PY' && ok "infer --requests: 5 answers in order, errors per line, exit 2" || { cat "$T/batch.log"; bad "infer --requests (rc $rc)"; }
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
single, own = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
assert [r["request"] for r in a] == [1, 2, 3, 5, 6], [r["request"] for r in a]
assert a[0]["id"] == "q1" and a[0]["answers"] == single["answers"], (a[0], single)
assert a[1]["id"] == 7 and a[1]["exit_code"] == 2 and 'unknown task "vqaa"' in a[1]["error"], a[1]
assert a[2]["exit_code"] == 2 and "requests.jsonl:3: not JSON" in a[2]["error"], a[2]
assert a[3]["answers"] == own["answers"] and a[3]["image_ids"] == ["my_photo"], a[3]
assert a[4]["exit_code"] == 2 and 'unknown key "topp"' in a[4]["error"], a[4]
PY
set +e; infer --requests - --task vqa < /dev/null > /dev/null 2> "$T/batch_bad.log"; rc=$?; set -e
[ "$rc" = 2 ] && grep -q "with --requests give it in each line" "$T/batch_bad.log" \
  && ok "--requests with --task: exit 2" || bad "--requests with --task (rc $rc)"

# 5. MT-VGC. The small world's VQA and RefCOCO val splits share no image; their train splits do.
for t in vqa refcoco refcoco+; do
  $MPI -n 2 "$BIN/evaluate" --device cpu --ckpt "$CKPT" --task "$t" --split train --out "$T/ev2" >> "$T/ev_train.log" 2>&1 \
    || { tail -20 "$T/ev_train.log"; bad "evaluate $t on train"; }
done
"$BIN/mt_vgc" --results-dir "$T/ev2" --split train > "$T/mt_vgc.log" 2>&1 || { cat "$T/mt_vgc.log"; bad "mt_vgc"; }
if $PY - "$T/ev2/results.jsonl" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
assert r["task"] == "mt_vgc" and r["metric"] == "mt_vgc" and r["split"] == "train", r
assert r["images"] > 0 and r["n"] > 0 and r["total_weight"] > 0 and 0 <= r["score"] <= 100, r
assert "refcoco" in r and "refcoco+" in r
PY
then ok "mt_vgc record ($(cat "$T/mt_vgc.log"))"; else cat "$T/mt_vgc.log"; bad "mt_vgc record"; fi

finish evaluate_infer
