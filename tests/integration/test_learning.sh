#!/usr/bin/env bash
# Learning test: one task of each of the 7 task kinds (VQA, GQA, COCO retrieval, RefCOCO,
# Visual7W, NLVR2, SNLI-VE) trained together from scratch on a small synthetic world for a fixed
# number of iterations (configs/synthetic/learning_check.toml, 2 ranks, seeded), then scored by
# `evaluate` on the val splits (128 items each). Every task must end above its chance level
# (evaluate's "chance": uniform choice, or the answer prior) by the margin below, set from
# measured runs of this exact setting with a safety margin (docs/TRAINING.md, "The learning
# test"). A broken gradient path, optimiser, loss scaling, head, data layer or metric fails it;
# an answer-prior-only model fails it.
set -euo pipefail
BIN=${VLMT_BIN:?}; SRC=${VLMT_SOURCE_DIR:?}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMP_NUM_THREADS=1
RUN=(mpirun -n 2 --oversubscribe --bind-to none)
"$BIN/synth_world" --out "$T/data" --scale 0.001 --seed 7 > /dev/null
"${RUN[@]}" "$BIN/mt_train" "$SRC/configs/synthetic/learning_check.toml" --data-root "$T/data" \
  --run-dir "$T/run" > "$T/train.log" 2>&1 || { tail -30 "$T/train.log"; exit 1; }
"${RUN[@]}" "$BIN/evaluate" --ckpt "$T/run/latest.h5" --task all --split val --data-root "$T/data" \
  --out "$T/eval" > "$T/eval.log" 2>&1 || { tail -30 "$T/eval.log"; exit 1; }
python3 - "$T/eval/results.jsonl" <<'PY'
import json, sys
# Points (percent) above chance each task must reach. Measured on this exact setting
# (2026-12-01, the 2-core development machine): vqa +31.0, gqa +3.9, retrieval_coco +2.7,
# refcoco +42.0, visual7w +0.0, nlvr2 +21.9, snli_ve +15.6; required: about 60% of that
# (one val item = 0.78 points; other CPUs round differently). Visual7W (V-logit-mc) does not
# learn in this budget (open, docs/TRAINING.md): it is only required not to fall below chance.
required = {"vqa": 20, "gqa": 1.5, "retrieval_coco": 1, "refcoco": 25, "visual7w": -3, "nlvr2": 12, "snli_ve": 8}
results = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind", "result") == "result" and r["task"] in required and "chance" in r:
        results[r["task"]] = r
passed = failed = 0
for task, margin in required.items():
    r = results.get(task)
    if r is None:
        print(f"learning: {task}: no result with a chance level"); failed += 1; continue
    ok = r["score"] >= r["chance"] + margin
    print(f"learning: {task:15s} {r['score']:6.2f} vs chance {r['chance']:6.2f} (needs +{margin}): {'ok' if ok else 'FAIL'}")
    passed, failed = passed + ok, failed + (not ok)
print(f"learning: {passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
PY
