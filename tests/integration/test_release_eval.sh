#!/usr/bin/env bash
# jobs/release_eval.sh end to end on a miniature copy of the released 12-in-1 download
# (issue 14): make_release_world.py writes every task's annotation files as released, the
# feature LMDBs at the paths of vilbert_tasks.yml and a tiny vocabulary; the checkpoint is
# tests/data/release/multi_task_model.bin, written by the authors' released VILBertForVLTasks
# (its forward pass equals vlmt's on the converted file: test_release_forward.sh). Checks:
#  1. the job runs start to finish with 2 ranks and prints Table 2 with the paper's row 4 and
#     the difference row;
#  2. every task is evaluated on its Table 2 split, and every task gets a score (VQA's test-dev
#     labels are private: VQA is scored on minval, its test-dev answers go to the submission);
#  3. every prediction file has one line per annotation line and every submission file has the
#     official format and one entry per question / pair (nothing truncated); evaluate
#     --max-items marks its record and names its submission *.partial.*;
#  4. a second run converts and evaluates nothing again;
#  5. a checkpoint lacking a tensor stops the job at the strict conversion, naming it;
#  6. a download lacking an LMDB: the job stops before evaluating (exit 3), listing the missing
#     store and the tasks that need it;
#  7. the Slurm form (sbatch --wait slurm/release_eval.sh) on a real local Slurm: the job
#     completes, its evaluations ran as srun steps, and it prints the same Table 2.
# Reading the .bin needs torch (Debian's python3-torch, installed by tools/install_deps.sh):
# without it the test is skipped (exit 77), except under CI=true, where that is a failure.
source "$(dirname "$0")/lib/slurm_test.bash"
slurm_test_init release 21000
export OMP_NUM_THREADS=1
python_or_skip torch lmdb
D=$SRC/tests/data/release
T=$WORK
MPI_ONE="mpirun --oversubscribe --bind-to none -n 1"

$PY "$SRC/tests/integration/make_release_world.py" "$T/w" > "$T/world.log" 2>&1 \
  || { cat "$T/world.log"; bad "make_release_world.py"; finish; }
ACTIVE='"vqa", "gqa", "vgqa", "retrieval_coco", "retrieval_flickr30k", "refcoco", "refcoco+", "refcocog", "visual7w", "guesswhat", "nlvr2", "snli_ve"'
cat > "$T/release.toml" <<TOML
# The tiny released model's sizes, the 12 tasks.
[model]
preset = "$D/model.toml"
[tasks]
active = [$ACTIVE]
TOML
job() {
  DATA=$T/w/datasets CKPT=${1:-$D/multi_task_model.bin} SPEC=$D/state_dict.txt \
    VOCAB=$T/w/bert-base-uncased-vocab.txt ROOT=$T/root OUT=${2:-$T/out} CONFIG=$T/release.toml \
    RANKS=2 VLMT_BIN=$BIN VLMT_ROOT=$SRC bash "$SRC/jobs/release_eval.sh"
}

# 1. the whole job
if job > "$T/job.log" 2>&1; then ok "release_eval.sh runs start to finish"
else tail -30 "$T/job.log"; bad "release_eval.sh"; finish; fi
grep -q "^| paper: row 4, All-Tasks (AT) | 72.57 | 60.12 | 36.36 | 63.70 | 63.52 | 80.58 | 73.25 | 75.96 | 82.75 | 65.04 | 78.44 | 76.78 |" "$T/job.log" \
  && grep -q "^| Δ vlmt: multi_task_model.bin − paper |" "$T/job.log" && grep -q "Lu et al., CVPR 2020, Table 2" "$T/job.log" \
  && ok "Table 2 printed with the paper's row 4 and the difference" || { grep "^|" "$T/job.log"; bad "Table 2 vs paper"; }
grep -q "features/refcoco_gt.h5 ← .*refcoco_gt_resnext152_faster_rcnn_genome.lmdb" "$T/job.log" \
  && grep -q "missing tasks: none" "$T/job.log" && grep -q "missing: none" "$T/job.log" \
  && ok "every annotation file and LMDB converted" || bad "conversion summary"

# 2-3. every task on its protocol, scored, complete
if $PY - "$T/out" "$T/root" <<'PY'
import csv, json, os, sys
out, root = sys.argv[1:3]
protocol = {"vqa": "test-dev", "gqa": "test-dev", "vgqa": "val", "retrieval_coco": "test",
            "retrieval_flickr30k": "test", "refcoco": "test", "refcoco+": "test", "refcocog": "test",
            "visual7w": "test", "guesswhat": "test", "nlvr2": "test", "snli_ve": "test"}
def results(name):
    return {r["task"]: r for r in map(json.loads, open(f"{out}/eval_{name}/results.jsonl"))
            if r.get("kind", "result") == "result"}
def lines(path):
    return [json.loads(l) for l in open(path) if l.strip()]
test, minval = results("test"), results("vqa_minval")
assert set(test) == set(protocol), sorted(test)
for task, split in protocol.items():
    r = test[task]
    assert r["split"] == split, (task, r["split"])
    annotations = lines(f"{root}/annotations/{task}/{split}.jsonl")
    predictions = lines(r["predictions"])
    assert predictions and len(predictions) == len(annotations), (task, len(predictions), len(annotations))
    if task.startswith("retrieval"):  # one per caption, in split order, its own image ranked
        assert [p.get("image_id") for p in predictions] == [a["image_id"] for a in annotations], task
        assert all(1 <= p["rank"] <= r["images"] for p in predictions), (task, r["images"])
    if task == "vqa":
        assert r.get("has_ground_truth") is False, r   # test-dev labels are private
    else:
        assert r.get("has_ground_truth") is not False and r["n"] > 0, (task, r)
assert minval["vqa"]["annotations"].endswith("/vqa/minval.jsonl") and minval["vqa"]["n"] == 3000, minval["vqa"]
vqa_answers = json.load(open(f"{root}/annotations/vqa/answers.json"))["answers"]
gqa_answers = json.load(open(f"{root}/annotations/gqa/answers.json"))["answers"]
sub = f"{out}/eval_test/submissions"
vqa = json.load(open(f"{sub}/vqa_test-dev.json"))
want = {int(a["question_id"]) for a in lines(f"{root}/annotations/vqa/test-dev.jsonl")}
assert {e["question_id"] for e in vqa} == want and len(vqa) == len(want), (vqa, want)
assert all(set(e) == {"question_id", "answer"} and isinstance(e["question_id"], int)
           and e["answer"] in vqa_answers for e in vqa), vqa  # EvalAI: integer ids
gqa = json.load(open(f"{sub}/gqa_test-dev.json"))
want = {str(a["question_id"]) for a in lines(f"{root}/annotations/gqa/test-dev.jsonl")}
assert {str(e["questionId"]) for e in gqa} == want and len(gqa) == len(want), (gqa, want)
assert all(set(e) == {"questionId", "prediction"} and e["prediction"] in gqa_answers for e in gqa), gqa
rows = list(csv.reader(open(f"{sub}/nlvr2_test.csv")))
want = {a["pair_id"] for a in lines(f"{root}/annotations/nlvr2/test.jsonl")}
assert {r[0] for r in rows} == want and len(rows) == len(want), (rows, want)
assert all(len(r) == 2 and r[1] in ("True", "False") for r in rows), rows
PY
then ok "every task on its Table 2 split with a score (VQA: minval + test-dev submission), files complete"
else bad "results, predictions or submissions"; fi

# 3b. --max-items never passes for a complete split: the record says so, the submission is *.partial.*
$MPI_ONE "$BIN/evaluate" --device cpu --ckpt "$T/out/params.h5" --config "$T/release.toml" --data-root "$T/root" \
  --task vqa --split test --max-items 1 --out "$T/partial" \
  $($PY "$SRC/tools/convert/released_features.py" --print-overrides | sed 's/^/--set /') > "$T/partial.log" 2>&1
[ -f "$T/partial/submissions/vqa_test-dev.partial.json" ] && [ ! -e "$T/partial/submissions/vqa_test-dev.json" ] \
  && grep -q '"items_evaluated":1,"items_in_split":2' "$T/partial/results.jsonl" \
  && grep -q "1 of the split's 2 items (--max-items): incomplete" "$T/partial.log" \
  && ok "--max-items: record and log say so, submission named vqa_test-dev.partial.json" \
  || { tail -5 "$T/partial.log"; bad "--max-items truncation is visible"; }

# 4. resumed: nothing again
if job > "$T/again.log" 2>&1 && grep -q "params.h5 is newer than" "$T/again.log" \
   && grep -q "converted: none" "$T/again.log" && grep -q "\[test\] done before" "$T/again.log"; then
  ok "a second run converts and evaluates nothing again"
else tail -20 "$T/again.log"; bad "second run"; fi

# 5. strict conversion
$PY - "$D/multi_task_model.bin" "$T/holed.bin" <<'PY'
import sys, torch
state = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
del state["bert.encoder.layer.0.attention.self.query.weight"]
torch.save(state, sys.argv[2])
PY
job "$T/holed.bin" "$T/out_holed" > "$T/holed.log" 2>&1; rc=$?
[ "$rc" -ne 0 ] && grep -q "bert.encoder.layer.0.attention.self.query.weight" "$T/holed.log" \
  && [ ! -f "$T/out_holed/params.h5" ] \
  && ok "a checkpoint lacking a tensor stops the job, naming it (exit $rc)" \
  || { tail -5 "$T/holed.log"; bad "strict conversion (rc $rc)"; }

# 6. a missing LMDB: listed before any evaluation
cp -r "$T/w" "$T/w_holed"
rm -rf "$T/w_holed/datasets/refcoco/refcoco+_unc/refcoco+_resnext152_faster_rcnn_genome.lmdb"
DATA=$T/w_holed/datasets CKPT=$D/multi_task_model.bin SPEC=$D/state_dict.txt ROOT=$T/root_holed \
  VOCAB=$T/w/bert-base-uncased-vocab.txt OUT=$T/out_missing CONFIG=$T/release.toml RANKS=2 VLMT_BIN=$BIN \
  VLMT_ROOT=$SRC bash "$SRC/jobs/release_eval.sh" > "$T/missing.log" 2>&1; rc=$?
[ "$rc" = 3 ] && grep -q "missing: refcoco+ (.*refcoco+_resnext152_faster_rcnn_genome.lmdb)" "$T/missing.log" \
  && grep -q "task refcoco+: 1 problem" "$T/missing.log" && grep -q "features/refcoco+.h5" "$T/missing.log" \
  && [ ! -d "$T/out_missing/eval_test" ] \
  && ok "a missing LMDB: exit 3 before evaluating, naming the store and the task" \
  || { tail -20 "$T/missing.log"; bad "missing LMDB (rc $rc)"; }

# 7. the Slurm form, on the converted root (its conversions are skipped; evaluation runs again)
slurm_test_up || finish
mkdir -p "$T/logs"
if (cd "$SRC" && DATA=$T/w/datasets CKPT=$D/multi_task_model.bin SPEC=$D/state_dict.txt ROOT=$T/root \
      OUT=$T/out_slurm CONFIG=$T/release.toml VLMT_BIN=$BIN \
      sbatch --wait --output="$T/logs/%x-%j.out" slurm/release_eval.sh > "$T/sbatch.out" 2>&1); then
  ok "sbatch --wait slurm/release_eval.sh completed"
else cat "$T/sbatch.out"; tail -20 "$T"/logs/vlmt-release-eval-*.out; bad "slurm/release_eval.sh"; fi
log=$(ls "$T"/logs/vlmt-release-eval-*.out 2>/dev/null | head -1)
grep -q "srun -n 2 --kill-on-bad-exit=1 .*/evaluate" "$log" 2>/dev/null \
  && cmp -s <(grep "^| paper:" "$T/out/table2.md") <(grep "^| paper:" "$T/out_slurm/table2.md") \
  && cmp -s <(grep "^| vlmt" "$T/out/table2.md") <(grep "^| vlmt" "$T/out_slurm/table2.md") \
  && ok "its evaluations ran as srun steps and gave the same Table 2" \
  || { tail -20 "$log"; bad "Slurm form: srun steps / Table 2"; }
finish
