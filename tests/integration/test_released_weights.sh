#!/usr/bin/env bash
# Weights without a training run are first-class (issue 14, item 3):
#  1. a parameter file (weights + the answers stored with them, as a converted release is) is
#     evaluated and served by infer under a run file, with the same scores as the checkpoint it
#     came from;
#  2. evaluate refuses region features whose fingerprint differs from the training features,
#     unless --allow-feature-mismatch;
#  3. train.init_from is strict: a parameter file lacking a trunk tensor is refused naming it and
#     train.init_expect_missing, and loads once the prefix is listed;
#  4. weights trained against one answer vocabulary cannot be trained on against another;
#  5. evaluation protocols by name: --split test is each task's Table 2 split (VQA test-dev,
#     RefCOCO test = testA ∪ testB), --split testA a file of its own.
set -euo pipefail
source "$(dirname "$0")/lib/checks.bash"
export OMP_NUM_THREADS=1
PY=/usr/bin/python3
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
MPI="mpirun --oversubscribe --bind-to none -n 1"

"$BIN/synth_world" --out "$T/data" --scale 0.001 --seed 7 >/dev/null
run_file() {  # run_file PATH TASKS [extra [train] lines]
  cat > "$1" <<TOML
[model]
preset = "tiny"
[data]
root = "$T/data"
[tasks]
active = [$2]
[tasks.vqa]
batch_size = 16
[tasks.refcoco]
batch_size = 16
$CPU_DIST
[train]
seed = 3
iterations = 6
lr_multiplier = 5.0
log_every = 3
checkpoint_every = 1000
val_max_batches = 1
num_threads = 1
${3:-}
TOML
}
run_file "$T/run.toml" '"vqa", "refcoco"'
$MPI "$BIN/mt_train" "$T/run.toml" --run-dir "$T/run" > "$T/train.log" 2>&1 \
  || { tail -20 "$T/train.log"; bad "mt_train"; finish; }
CKPT="$T/run/latest.h5"

# A parameter file as tools/convert/convert_vilbert_checkpoint.py writes one: /params and /answers only.
# drop=NAME leaves one tensor out.
params_file() {
  $PY - "$CKPT" "$1" "${2:-}" <<'PY'
import sys, h5py
src, out, drop = sys.argv[1:4]
with h5py.File(src, "r") as s, h5py.File(out, "w") as d:
    d.attrs["kind"] = "parameters"
    d.attrs["format_version"] = 1
    g = d.create_group("params")
    for name in s["params"]:
        if name != drop:
            s.copy(s["params"][name], g, name=name)
    s.copy(s["answers"], d, name="answers")
PY
}
params_file "$T/params.h5"
$PY -c "import h5py,sys; a=h5py.File(sys.argv[1])['answers']; assert list(a) == ['vil_prediction'], list(a)" "$CKPT" \
  && ok "the checkpoint stores the answers of the VQA head" || bad "answers stored in the checkpoint"

# 1. the parameter file evaluates like its checkpoint
$MPI "$BIN/evaluate" --device cpu --ckpt "$CKPT" --task all --out "$T/ev_ckpt" > "$T/ev_ckpt.log" 2>&1 \
  || { tail -20 "$T/ev_ckpt.log"; bad "evaluate the checkpoint"; }
if $MPI "$BIN/evaluate" --device cpu --ckpt "$T/params.h5" --config "$T/run.toml" --task all --out "$T/ev_params" \
     > "$T/ev_params.log" 2>&1; then
  ok "evaluate accepts a parameter file"
else tail -20 "$T/ev_params.log"; bad "evaluate accepts a parameter file"; fi
grep -q "is a parameter file (weights only): model and tasks from $T/run.toml" "$T/ev_params.log" \
  && ok "the log says where the model and tasks came from" || bad "parameter-file log line"
if $PY - "$T/ev_ckpt/results.jsonl" "$T/ev_params/results.jsonl" <<'PY'
import json, sys
def scores(p):
    return {r["task"]: (r["score"], r["n"]) for r in map(json.loads, open(p)) if r.get("kind", "result") == "result"}
a, b = scores(sys.argv[1]), scores(sys.argv[2])
assert set(a) == {"vqa", "refcoco"} and a == b, (a, b)
PY
then ok "same scores from the parameter file as from the checkpoint"; else bad "parameter-file scores differ"; fi
image=$(head -1 "$T/data/annotations/vqa/minval.jsonl" | $PY -c 'import json,sys; print(json.load(sys.stdin)["image_id"])')
set +e
out=$("$BIN/infer" --ckpt "$T/params.h5" --config "$T/run.toml" --task vqa --image-id "$image" \
      --text "what color is the cube?" 2>"$T/infer.err"); rc=$?
set -e
[ "$rc" = 0 ] && echo "$out" | $PY -c '
import json, sys
answers = json.load(open(sys.argv[1]))["answers"]
j = json.load(sys.stdin)
assert j["answers"] and all(a["answer"] in answers for a in j["answers"]), j' "$T/data/annotations/vqa/answers.json" \
  && ok "infer answers from a parameter file (exit 0)" || { cat "$T/infer.err"; bad "infer on a parameter file (rc $rc)"; }
set +e
$MPI "$BIN/evaluate" --device cpu --ckpt "$CKPT" --config "$T/run.toml" --task vqa --out "$T/x" > "$T/cfg.log" 2>&1; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "carries its own config" "$T/cfg.log" \
  && ok "--config with a stage checkpoint: exit 2" || bad "--config with a stage checkpoint (rc $rc)"

# 2. other features: refused, unless allowed
cp -r "$T/data" "$T/data2"
$PY -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f.attrs['fingerprint']='other-detector/64/0123456789abcdef'" \
  "$T/data2/features/coco.h5"
set +e
$MPI "$BIN/evaluate" --device cpu --ckpt "$CKPT" --task vqa --data-root "$T/data2" --out "$T/fp" > "$T/fp.log" 2>&1; rc=$?
set -e
[ "$rc" = 3 ] && grep -q "features of vqa: trained on synthetic/64/.*, now other-detector/64/0123456789abcdef" "$T/fp.log" \
  && grep -q -- "--allow-feature-mismatch" "$T/fp.log" \
  && ok "other features: exit 3 naming both fingerprints" || { tail -5 "$T/fp.log"; bad "fingerprint mismatch (rc $rc)"; }
$MPI "$BIN/evaluate" --device cpu --ckpt "$CKPT" --task vqa --data-root "$T/data2" --allow-feature-mismatch --out "$T/fp2" \
  > "$T/fp2.log" 2>&1 && grep -q " W .*features of vqa" "$T/fp2.log" \
  && ok "--allow-feature-mismatch evaluates with a warning" || { tail -5 "$T/fp2.log"; bad "--allow-feature-mismatch"; }

# 3. strict init_from
params_file "$T/holed.h5" "bert.encoder.layer.0.attention.self.query.weight"
run_file "$T/ft.toml" '"vqa"' "init_from = \"$T/holed.h5\""
set +e
$MPI "$BIN/mt_train" "$T/ft.toml" --run-dir "$T/ft" > "$T/ft.log" 2>&1; rc=$?
set -e
[ "$rc" = 4 ] && grep -q "bert.encoder.layer.0.attention.self.query.weight" "$T/ft.log" \
  && grep -q "train.init_expect_missing" "$T/ft.log" \
  && ok "init_from lacking a trunk tensor: exit 4 naming it" || { tail -5 "$T/ft.log"; bad "strict init_from (rc $rc)"; }
$MPI "$BIN/mt_train" "$T/ft.toml" --run-dir "$T/ft2" \
  --set 'train.init_expect_missing=["vil_", "bert.encoder.layer.0.attention."]' > "$T/ft2.log" 2>&1 \
  && grep -q " W .*not in the file start from this run's initialisation: bert.encoder.layer.0.attention.\* (1)" "$T/ft2.log" \
  && ok "listed as expected: loads, with a warning by prefix" || { tail -5 "$T/ft2.log"; bad "expected-missing prefix"; }

# 4. another answer vocabulary under the trained head
cp -r "$T/data" "$T/data3"
$PY -c "
import json, sys
p = sys.argv[1]; a = json.load(open(p)); a['answers'][0], a['answers'][1] = a['answers'][1], a['answers'][0]
json.dump(a, open(p, 'w'))" "$T/data3/annotations/vqa/answers.json"
run_file "$T/voc.toml" '"vqa"' "init_from = \"$T/params.h5\""
set +e
$MPI "$BIN/mt_train" "$T/voc.toml" --run-dir "$T/voc" --data-root "$T/data3" > "$T/voc.log" 2>&1; rc=$?
set -e
[ "$rc" = 3 ] && grep -q "differs from the one vil_prediction was trained with" "$T/voc.log" \
  && ok "training on another answer vocabulary: exit 3" || { tail -5 "$T/voc.log"; bad "vocabulary mismatch (rc $rc)"; }

# 5. protocols
$MPI "$BIN/evaluate" --device cpu --ckpt "$CKPT" --task all --split test --out "$T/prot" > "$T/prot.log" 2>&1 \
  || { tail -5 "$T/prot.log"; bad "evaluate --split test"; }
$MPI "$BIN/evaluate" --device cpu --ckpt "$CKPT" --task refcoco --split testA --out "$T/prot" > "$T/protA.log" 2>&1 \
  || { tail -5 "$T/protA.log"; bad "evaluate --split testA"; }
if $PY - "$T/prot/results.jsonl" "$T/data/annotations/refcoco" <<'PY'
import json, sys
recs = [r for r in map(json.loads, open(sys.argv[1])) if r.get("kind", "result") == "result"]
got = {(r["task"], r["split"]): r["n"] for r in recs}
d = sys.argv[2]
def n(split): return sum(1 for l in open(f"{d}/{split}.jsonl") if l.strip())
assert n("testA") + n("testB") == n("test") and n("testA") > 0 and n("testB") > 0, (n("testA"), n("testB"), n("test"))
assert set(got) == {("vqa", "test-dev"), ("refcoco", "test"), ("refcoco", "testA")}, got
assert got[("refcoco", "test")] == n("test") and got[("refcoco", "testA")] == n("testA"), got
PY
then ok "--split test maps to VQA test-dev and RefCOCO test (= testA ∪ testB); testA by name"
else bad "evaluation protocols"; fi
grep -q "vqa: --split test evaluates test-dev, the split the paper's Table 2 reports" "$T/prot.log" \
  && ok "the log names the protocol mapping" || bad "protocol log line"
finish
