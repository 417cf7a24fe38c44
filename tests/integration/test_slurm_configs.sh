#!/usr/bin/env bash
# The run files the job scripts and chains name: every one must load with the real config loader
# (build/bin/mt_train --check-config prints the resolved config or names the bad key), and the experiment files
# must say what the paper's runs are (checked on the resolved configs, `extends` applied, with python3's tomllib).
set -uo pipefail
SRC=${VLMT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${VLMT_BIN:-$SRC/build/bin}
cd "$SRC" || exit 1
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }

[ -x "$BIN/mt_train" ] || { echo "FAIL: $BIN/mt_train not built"; echo "slurm: 0 passed, 1 failed"; exit 1; }

RESOLVED=$(mktemp -d); trap 'rm -rf "$RESOLVED"' EXIT
files=(configs/pretrain_cc.toml configs/at.toml configs/finetune.toml configs/gt_g*.toml
       configs/st/*.toml configs/synthetic/*.toml)
for f in "${files[@]}"; do
  if out=$("$BIN/mt_train" "$f" --check-config 2>&1); then
    ok
    printf '%s\n' "$out" | sed '0,/Resolved configuration:$/d' > "$RESOLVED/${f//\//_}"
  else
    bad "$f does not load: $out"
  fi
done
[ "${#files[@]}" -eq 46 ] && ok || bad "expected 46 run files, found ${#files[@]}"

# Structure: the paper's settings, and a synthetic world that fits 2 ranks.
if out=$(RESOLVED=$RESOLVED python3 - <<'EOF' 2>&1
import glob, os, tomllib
TASKS = ["vqa", "gqa", "vgqa", "retrieval_coco", "retrieval_flickr30k", "refcoco", "refcoco+",
         "refcocog", "visual7w", "guesswhat", "nlvr2", "snli_ve"]
GROUPS = [TASKS[0:3], TASKS[3:5], TASKS[5:10], TASKS[10:12]]
load = lambda p: tomllib.load(open(os.path.join(os.environ["RESOLVED"], p.replace("/", "_")), "rb"))
problems = []
def check(cond, what):
    if not cond: problems.append(what)

at = load("configs/at.toml")
RELEASED_ORDER = ["vqa", "vgqa", "visual7w", "retrieval_coco", "retrieval_flickr30k", "refcoco", "refcoco+",
                  "refcocog", "nlvr2", "snli_ve", "gqa", "guesswhat"]  # task ids 1 2 4 7 8 9 10 11 12 13 15 17
check(at["tasks"]["active"] == RELEASED_ORDER, "at.toml: all 12 tasks in the released (task-id) order")
check(at["model"]["preset"] == "base", "at.toml: base preset")
t = at["train"]
check((t["schedule"], t["dsg_gap"], t["iterations"]) == ("dsg", 4, 0), "at.toml: dsg, gap 4, derived length")
check(t["init_from"] == load("configs/pretrain_cc.toml")["train"]["run_dir"] + "/latest.h5",
      "at.toml starts from the pretraining run's checkpoint")
check(load("configs/finetune.toml")["train"]["init_from"] == t["run_dir"] + "/latest.h5",
      "finetune.toml starts from the AT checkpoint")
for g, tasks in enumerate(GROUPS, 1):
    for prefix in ("configs/", "configs/synthetic/"):
        check(load(f"{prefix}gt_g{g}.toml")["tasks"]["active"] == tasks, f"{prefix}gt_g{g}.toml tasks")
for task in TASKS:
    st = load(f"configs/st/{task}.toml")
    check(st["tasks"]["active"] == [task] and st["train"]["iterations"] == 0, f"st/{task}.toml")
    check(load(f"configs/synthetic/st_{task}.toml")["tasks"]["active"] == [task], f"synthetic/st_{task}")
for path in sorted(glob.glob("configs/synthetic/*.toml")):
    c = load(path)
    check(c["model"]["preset"] == "tiny", f"{path}: tiny preset")
    check(c["data"]["root"] == "data/synthetic", f"{path}: data/synthetic")
    if path.endswith("/common.toml"):
        continue  # not a run: what the others extend
    tr = c["train"]
    check(0 < tr["iterations"] <= 600, f"{path}: small iteration count")
    check((tr["log_every"], tr["checkpoint_every"]) == (10, 100), f"{path}: log/checkpoint every")
    if tr["stage"] == "pretrain":
        continue
    trained = c["tasks"]["active"] or TASKS  # finetune: the task comes from --task
    for key in trained:
        batch = c["tasks"][key]["batch_size"]
        check(batch % 2 == 0 and batch <= 32, f"{path}: {key} batch {batch}")
print("\n".join(problems))
raise SystemExit(1 if problems else 0)
EOF
); then ok; else bad "structure: $out"; fi

echo "slurm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
