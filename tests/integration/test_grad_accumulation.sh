#!/usr/bin/env bash
# train.gradient_accumulation keeps each task's batch with fewer ranks: mt_train on the synthetic
# world (four tasks, dropout off) at 2 MPI ranks with k = 1 and at 1 rank with k = 2 reads the
# same items per optimiser step (the 1-rank run's micro-batch j is the 2-rank run's shard j) and
# must log the same per-iteration training losses and validation scores; so must 2 ranks with
# k = 2 and 1 rank with k = 4; a k = 2 run stopped and resumed logs what it logs straight. Then the checks on bad values: k = 0, and a batch that ranks x k
# does not divide, exit 2 naming the key.
#
# Tolerance: 1e-6 relative. With 2 ranks against 1 rank with k = 2 the sums differ from the 2-rank run's only by the factor
# 1/2 (the loss is halved before backward, the all-reduce halves the sum), which is exact in
# float32, so the losses are expected to agree to the bit; 1e-6 (about 8 float32 ulps) leaves
# room for a reordered sum and is still far below what one item more or less per step changes
# (1e-2 and up on these losses).
set -euo pipefail
source "$(dirname "$0")/lib/checks.bash"
export OMP_NUM_THREADS=1
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

"$BIN/synth_world" --out "$T/data" --scale 0.001 --seed 3 >/dev/null
{ printf '[model]\npreset = "tiny"\n'
  printf '%s = 0.0\n' hidden_dropout attention_dropout v_hidden_dropout v_attention_dropout
  four_task_run "$T/data"
  printf 'iterations = 14\n'; } > "$T/run.toml"

records() { python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r.get("kind") in ("train", "val"): print(r["kind"], r["iter"], r["task"], repr(r["loss"] if r["kind"] == "train" else r["score"]))' "$1"; }

mpirun -n 2 --oversubscribe --bind-to none "$BIN/mt_train" "$T/run.toml" --run-dir "$T/r2" > "$T/r2.log" 2>&1 \
  || { tail -20 "$T/r2.log"; bad "2 ranks, k = 1"; finish; }
"$BIN/mt_train" "$T/run.toml" --run-dir "$T/k2" --set train.gradient_accumulation=2 > "$T/k2.log" 2>&1 \
  || { tail -20 "$T/k2.log"; bad "1 rank, k = 2"; finish; }
grep -q "stream vqa: .*batch 16 (8 per rank and micro-batch, 2 micro-batches per step)" "$T/k2.log" \
  && ok "1 rank, k = 2: micro-batch 8 of batch 16" || bad "no micro-batch line: $(grep 'stream vqa' "$T/k2.log")"
# same_records A B WHAT: A's and B's training losses and validation scores agree to 1e-6 relative.
same_records() {
  records "$T/$1/metrics.jsonl" > "$T/$1.txt"
  records "$T/$2/metrics.jsonl" > "$T/$2.txt"
  if python3 - "$T/$1.txt" "$T/$2.txt" <<'PY'
import sys
a = [l.split() for l in open(sys.argv[1])]
b = [l.split() for l in open(sys.argv[2])]
assert len(a) == len(b), f"{len(a)} records against {len(b)}"
trains = sum(1 for r in a if r[0] == "train")
assert trains >= 4 * 14, f"only {trains} training losses"
assert any(r[0] == "val" for r in a), "no validation record"
worst = 0.0
for x, y in zip(a, b):
    assert x[:3] == y[:3], f"record order differs: {x[:3]} vs {y[:3]}"
    u, v = float(x[3]), float(y[3])
    rel = abs(u - v) / max(abs(u), 1e-12)
    worst = max(worst, rel)
    assert rel <= 1e-6, f"{x[0]} {x[2]} at iteration {x[1]}: {u!r} against {v!r}"
print(f"{len(a)} records, {trains} training losses, largest relative difference {worst:.3g}")
PY
  then ok "$3: same losses and validation scores (1e-6 relative)"
  else bad "$3 differ"; fi
}
same_records r2 k2 "2 ranks k = 1 and 1 rank k = 2"

# Stopped at iteration 7 and resumed, the k = 2 run continues every micro-batch loader where it
# was: the same records as straight through (to the bit).
set +e
"$BIN/mt_train" "$T/run.toml" --run-dir "$T/k2r" --set train.gradient_accumulation=2 \
  --set train.stop_after_iteration=7 > "$T/k2r1.log" 2>&1; rc=$?
set -e
[ "$rc" = 75 ] || { tail -20 "$T/k2r1.log"; bad "k = 2 planned stop: exit $rc"; }
"$BIN/mt_train" "$T/run.toml" --run-dir "$T/k2r" --set train.gradient_accumulation=2 > "$T/k2r2.log" 2>&1 \
  || { tail -20 "$T/k2r2.log"; bad "k = 2 resumed run"; }
records "$T/k2r/metrics.jsonl" > "$T/k2r.txt"
records "$T/k2/metrics.jsonl" > "$T/k2s.txt"
grep -q "resumed from" "$T/k2r2.log" && diff -q "$T/k2s.txt" "$T/k2r.txt" >/dev/null \
  && ok "k = 2 stopped at 7 and resumed: the straight run's records" || bad "k = 2 resumed run differs"

# Accumulation across ranks (the synchroniser sums k backward passes before its all-reduce)
# against accumulation on one rank: 2 ranks x k = 2 and 1 rank x k = 4 read the same 4 shards.
# Here the sums are reordered ((a + b) + (c + d) against ((a + b) + c) + d): 8e-8 measured.
mpirun -n 2 --oversubscribe --bind-to none "$BIN/mt_train" "$T/run.toml" --run-dir "$T/r2k2" \
  --set train.gradient_accumulation=2 > "$T/r2k2.log" 2>&1 || { tail -20 "$T/r2k2.log"; bad "2 ranks, k = 2"; }
"$BIN/mt_train" "$T/run.toml" --run-dir "$T/k4" --set train.gradient_accumulation=4 > "$T/k4.log" 2>&1 \
  || { tail -20 "$T/k4.log"; bad "1 rank, k = 4"; }
same_records r2k2 k4 "2 ranks k = 2 and 1 rank k = 4"

# The check would pass vacuously if k were ignored: without accumulation, 1 rank reads 16 items
# per step and its losses must differ.
"$BIN/mt_train" "$T/run.toml" --run-dir "$T/r1" --set train.iterations=2 > "$T/r1.log" 2>&1 \
  || { tail -20 "$T/r1.log"; bad "1 rank, k = 1"; }
a=$(records "$T/r1/metrics.jsonl" | awk '$1 == "train" && $2 == 2 && $3 == "vqa" {print $4}')
b=$(awk '$1 == "train" && $2 == 2 && $3 == "vqa" {print $4}' "$T/r2.txt")
[ -n "$a" ] && [ "$a" != "$b" ] && ok "1 rank without accumulation differs ($a vs $b)" \
  || bad "1 rank k = 1 vs 2 ranks at iteration 2: '$a' '$b'"

set +e
"$BIN/mt_train" "$T/run.toml" --run-dir "$T/bad0" --set train.gradient_accumulation=0 > "$T/bad0.log" 2>&1; rc=$?
[ "$rc" = 2 ] && grep -q "gradient_accumulation" "$T/bad0.log" && ok "k = 0: exit 2 naming the key" \
  || bad "k = 0: exit $rc, $(tail -2 "$T/bad0.log")"
mpirun -n 2 --oversubscribe --bind-to none "$BIN/mt_train" "$T/run.toml" --run-dir "$T/bad3" \
  --set train.gradient_accumulation=3 > "$T/bad3.log" 2>&1; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "tasks.vqa.batch_size = 16 is not divisible by 2 ranks x train.gradient_accumulation = 3" \
  "$T/bad3.log" && ok "batch 16 at 2 ranks x k = 3: exit 2 naming both keys" \
  || bad "k = 3 at 2 ranks: exit $rc, $(tail -3 "$T/bad3.log")"
finish
