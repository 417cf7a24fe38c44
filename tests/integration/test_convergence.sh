#!/usr/bin/env bash
# Convergence smoke: the tiny model trained on the synthetic world's VQA for a fixed number of
# steps must halve its loss and reach a validation VQA score above 3× the uniform guessing rate
# 1/|answers|. A broken gradient path, optimiser, loss scaling or data layer fails it. (This much
# is reachable by learning the answer prior; visual grounding on the synthetic world needs
# longer runs — see docs/TRAINING.md.)
set -euo pipefail
BIN=${VLMT_BIN:?}; SRC=${VLMT_SOURCE_DIR:?}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$BIN/synth_world" --out "$T/data" --scale 0.001 --seed 7 > /dev/null
"$BIN/mt_train" "$SRC/configs/synthetic/st_vqa.toml" --data-root "$T/data" --run-dir "$T/run" \
  --set 'train.init_from=""' --set train.iterations=250 --set train.log_every=10 \
  --set train.num_threads=2 > "$T/log" 2>&1 || { tail -30 "$T/log"; exit 1; }
python3 - "$T/run/metrics.jsonl" "$T/data/annotations/vqa/answers.json" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
answers = len(json.load(open(sys.argv[2]))["answers"])
val = [r["score"] for r in records if r.get("kind") == "val" and r["task"] == "vqa"]
loss = [r["loss"] for r in records if r.get("kind") == "train" and r["task"] == "vqa"]
chance = 1.0 / answers
print(f"convergence: vqa val {val[0]:.3f} -> {val[-1]:.3f} (uniform guess {chance:.3f}), loss {loss[0]:.2f} -> {loss[-1]:.2f}")
ok = val[-1] > 3 * chance and loss[-1] < 0.5 * loss[0]
print("convergence: 1 passed, 0 failed" if ok else "convergence: 0 passed, 1 failed")
sys.exit(0 if ok else 1)
PY
