#!/usr/bin/env bash
# mt_train on the synthetic world at 2 MPI ranks:
#  1. a run of N iterations straight, and the same run stopped at N/2 (checkpoint, exit 75) and
#     resumed, log identical per-iteration losses (deterministic = true);
#  2. SIGTERM mid-run → every rank checkpoints and exits 75; the rerun resumes and finishes;
#  3. a config with a misspelt key exits 2 on every rank with the key named;
#  4. a corrupt latest.h5 with a sound latest_prev.h5: every rank warns, naming the file and why,
#     resumes from latest_prev.h5 at its iteration and the run finishes (exit 0); both corrupt:
#     exit 4 before any step, naming both files, and neither file is touched.
set -euo pipefail
source "$(dirname "$0")/lib/checks.bash"
export OMP_NUM_THREADS=1
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
MPI="mpirun -n 2 --oversubscribe --bind-to none"

"$BIN/synth_world" --out "$T/data" --scale 0.001 --seed 3 >/dev/null
{ printf '[model]\npreset = "tiny"\n'; four_task_run "$T/data"; printf 'iterations = 24\nval_max_batches = 2\n'; } > "$T/run.toml"

losses() { python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r.get("kind")=="train": print(r["iter"], r["task"], repr(r["loss"]))' "$1"; }

# 1. straight vs stopped + resumed
$MPI "$BIN/mt_train" "$T/run.toml" --run-dir "$T/straight" > "$T/straight.log" 2>&1 || { cat "$T/straight.log"; bad "straight run"; }
set +e
$MPI "$BIN/mt_train" "$T/run.toml" --run-dir "$T/resumed" --set train.stop_after_iteration=12 > "$T/part1.log" 2>&1
rc=$?
set -e
[ "$rc" = 75 ] && ok "planned stop exits 75" || { tail -20 "$T/part1.log"; bad "planned stop exit code $rc"; }
[ -f "$T/resumed/latest.h5" ] && ok "checkpoint written at the stop" || bad "no checkpoint after stop"
$MPI "$BIN/mt_train" "$T/run.toml" --run-dir "$T/resumed" > "$T/part2.log" 2>&1 || { tail -20 "$T/part2.log"; bad "resumed run"; }
grep -q "resumed from" "$T/part2.log" && ok "second run resumed" || bad "second run did not resume"
if diff <(losses "$T/straight/metrics.jsonl") <(losses "$T/resumed/metrics.jsonl") > "$T/diff.txt"; then
  n=$(losses "$T/straight/metrics.jsonl" | wc -l)
  [ "$n" -ge 48 ] && ok "resumed losses identical to the straight run ($n records)" || bad "too few loss records ($n)"
else
  head -20 "$T/diff.txt"; bad "resumed losses differ"
fi

# 2. SIGTERM
$MPI "$BIN/mt_train" "$T/run.toml" --run-dir "$T/sig" --set train.iterations=100000 > "$T/sig.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do grep -q "iter 3/" "$T/sig.log" 2>/dev/null && break; sleep 1; done
# Like slurmstepd at a time limit: SIGTERM to every rank (mpirun itself exits 1 when signalled).
pkill -TERM -P $pid -f mt_train
set +e; wait $pid; rc=$?; set -e
[ "$rc" = 75 ] && ok "SIGTERM to the ranks → checkpoint and exit 75" || { tail -20 "$T/sig.log"; bad "SIGTERM exit code $rc"; }
$MPI "$BIN/mt_train" "$T/run.toml" --run-dir "$T/sig" --set train.iterations=12 > "$T/sig2.log" 2>&1 \
  && grep -q "resumed from" "$T/sig2.log" && ok "run after SIGTERM resumes and finishes" || { tail -20 "$T/sig2.log"; bad "no resume after SIGTERM"; }
[ -f "$T/sig/latest.h5" ] && ok "checkpoint after SIGTERM" || bad "no checkpoint after SIGTERM"

# 3. bad config key
printf '[model]\npreset = "tiny"\n[train]\nsede = 3\n' > "$T/bad.toml"
set +e; $MPI "$BIN/mt_train" "$T/bad.toml" > "$T/bad.log" 2>&1; rc=$?; set -e
[ "$rc" = 2 ] && ok "bad key exits 2" || bad "bad key exit code $rc"
[ "$(grep -c 'train.sede: unknown key' "$T/bad.log")" -ge 2 ] && ok "both ranks name the bad key" || { cat "$T/bad.log"; bad "bad key not reported by every rank"; }

# 4. corrupt latest checkpoint: falls back to _prev with a warning; both corrupt: exit 4
corrupt() {  # flips 4 KiB in the middle of the file (tensor data: a checksum mismatch)
  python3 - "$1" <<'PY'
import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); n=len(b)
for i in range(n//2, n//2+4096): b[i]^=0xFF
open(p,'wb').write(b)
PY
}
R=$T/resumed
cp "$R/latest.h5" "$R/latest_prev.h5"  # iteration 24, sound
corrupt "$R/latest.h5"
set +e; $MPI "$BIN/mt_train" "$T/run.toml" --run-dir "$R" --set train.iterations=26 > "$T/corrupt.log" 2>&1; rc=$?; set -e
[ "$rc" = 0 ] \
  && [ "$(grep -c "resuming from the previous checkpoint $R/latest_prev.h5 because $R/latest.h5: " "$T/corrupt.log")" -eq 2 ] \
  && grep -q "resumed from $R/latest_prev.h5 at iteration 24 of 26" "$T/corrupt.log" \
  && [ "$(losses "$R/metrics.jsonl" | awk '$1 > 24 { print $1 }' | sort -un | tr '\n' ' ')" = "25 26 " ] \
  && ok "corrupt latest: both ranks warn why, resume from latest_prev.h5 at 24, finish 26 (exit 0)" \
  || { tail -20 "$T/corrupt.log"; bad "corrupt latest with a sound latest_prev (rc $rc)"; }
# The run's one write (at 26) keeps the sound 24 as latest_prev.h5; the corrupt file is set aside.
"$BIN/ckpt_info" "$R/latest_prev.h5" 2>&1 | grep -q "iteration 24 of" && "$BIN/ckpt_info" --quiet "$R/latest.h5" > /dev/null \
  && [ -f "$R/latest.h5.unusable" ] \
  && ok "after resuming from latest_prev.h5, the next write keeps it as the previous checkpoint (the corrupt latest.h5 moved to latest.h5.unusable)" \
  || bad "the write after a fallback resume replaced the sound latest_prev.h5"
cp "$R/latest.h5" "$R/latest_prev.h5"  # iteration 26, then both corrupt
corrupt "$R/latest.h5"; corrupt "$R/latest_prev.h5"
sums=$(md5sum "$R/latest.h5" "$R/latest_prev.h5")
set +e; $MPI "$BIN/mt_train" "$T/run.toml" --run-dir "$R" --set train.iterations=28 > "$T/corrupt2.log" 2>&1; rc=$?; set -e
[ "$rc" = 4 ] \
  && grep -q "cannot resume from $R: $R/latest.h5: .*; and the previous checkpoint is unusable too: $R/latest_prev.h5: " "$T/corrupt2.log" \
  && ! grep -q "iter 27/" "$T/corrupt2.log" && [ "$(md5sum "$R/latest.h5" "$R/latest_prev.h5")" = "$sums" ] \
  && ok "both corrupt: exit 4 naming both, no step, neither file touched" \
  || { tail -20 "$T/corrupt2.log"; bad "both checkpoints corrupt (rc $rc)"; }

finish train_resume
