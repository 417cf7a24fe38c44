#!/usr/bin/env bash
# tools/dev/bench_layout.sh measures every ranks x threads layout of CORES cores with bench_step and
# writes the fastest as RANKS / OMP_NUM_THREADS, which jobs/lib_launch.sh then uses:
#   1. a real sweep (tiny preset, small shapes, CORES=2, 2 rounds): the Markdown table with one
#      row per layout (the median of its rounds), the "fastest:" line, a layout file that sources
#      to RANKS x OMP_NUM_THREADS = CORES and records every run;
#   2. DRY_RUN=1 prints one command per layout and batch, skips a batch the ranks do not divide,
#      runs and writes nothing; CORES defaults to the machine's cores, not OMP_NUM_THREADS;
#   3. a missing bench_step is exit 2, a sweep whose every run fails is exit 1, no file written;
#   4. jobs/run_local.sh (DRY_RUN) takes RANKS / OMP_NUM_THREADS from VLMT_LAYOUT, an explicit
#      RANKS wins, and without the file the layout is 2 ranks x 1 thread, as before.
source "$(dirname "$0")/lib/checks.bash"
WORK=$(mktemp -d /tmp/vlmt-bench-layout-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
LAYOUT=$SRC/tools/dev/bench_layout.sh
SMALL="--text-len 8 --regions 10"

# --- 1. a real sweep ------------------------------------------------------------------------------
PRESET=tiny STEPS=1 ROUNDS=2 BATCH=8 CORES=2 EXTRA_ARGS=$SMALL BIN=$BIN OUT=$WORK/layout.env \
  bash "$LAYOUT" >"$WORK/sweep.out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "^| ranks | threads | batch | samples/s | step s |$" "$WORK/sweep.out" \
  && grep -q "^Median of 2 rounds per layout (1 timed steps each):$" "$WORK/sweep.out" \
  && [ "$(grep -c '^\[round [12]/2\] .*mpirun -n [12] ' "$WORK/sweep.out")" -eq 4 ] \
  && ok "sweep: exit 0, 2 layouts x 2 rounds, table header" || bad "sweep (exit $rc): $(tail -15 "$WORK/sweep.out")"
for rt in "1 | 2" "2 | 1"; do
  grep -Eq "^\| $rt \| 8 \| [0-9]+\.[0-9] \| [0-9]+\.[0-9]+ \|$" "$WORK/sweep.out" \
    && ok "table row for ${rt/ | / ranks x } threads" || bad "no row '| $rt | 8 |' in: $(grep '^|' "$WORK/sweep.out")"
done
fastest=$(grep -E "^fastest: [12] ranks x [12] threads \([0-9.]+ samples/s\)$" "$WORK/sweep.out")
[ -n "$fastest" ] && ok "prints: $fastest" || bad "no fastest line: $(tail -5 "$WORK/sweep.out")"
read -r fr ft < <(sed -E 's/^fastest: ([0-9]+) ranks x ([0-9]+) threads.*/\1 \2/' <<<"$fastest")
layout=$(unset RANKS OMP_NUM_THREADS; source "$WORK/layout.env" && echo "$RANKS $OMP_NUM_THREADS")
read -r lr lt <<<"$layout"
[ -n "$lr" ] && [ -n "$lt" ] && [ $((lr * lt)) -eq 2 ] && [ "$lr $lt" = "$fr $ft" ] \
  && ok "layout file sources to RANKS=$lr OMP_NUM_THREADS=$lt (the fastest, product = CORES)" \
  || bad "layout file gives '$layout', fastest '$fr $ft': $(cat "$WORK/layout.env" 2>&1)"
grep -q "^# .*preset tiny, task vqa, global batch 8, cores 2, steps 1, rounds 2" "$WORK/layout.env" \
  && [ "$(grep -cE '^#   [12] [12] 8 [0-9.]+ [0-9.]+$' "$WORK/layout.env")" -eq 2 ] \
  && [ "$(grep -cE '^#     [12] [12] 8 [0-9.]+ [0-9.]+$' "$WORK/layout.env")" -eq 4 ] \
  && grep -q "^# date .*, host " "$WORK/layout.env" \
  && ok "layout file records date, host, preset, batch, both medians and all 4 runs" \
  || bad "layout file comments: $(cat "$WORK/layout.env" 2>&1)"

# --- 2. DRY_RUN -----------------------------------------------------------------------------------
DRY_RUN=1 CORES=4 BATCH=6 BATCHES="8 6" EXTRA_ARGS=$SMALL BIN=$WORK/nobin OUT=$WORK/dry.env \
  bash "$LAYOUT" >"$WORK/dry.out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(grep -c "mpirun -n [124] .*$WORK/nobin/bench_step" "$WORK/dry.out")" -eq 5 ] \
  && grep -q "OMP_NUM_THREADS=2 .*mpirun -n 2 .* --batch 6 .*--threads 2 --text-len 8 --regions 10$" "$WORK/dry.out" \
  && grep -q "^skipped: 4 ranks x 1 threads at batch 6" "$WORK/dry.out" && [ ! -e "$WORK/dry.env" ] \
  && ok "DRY_RUN: 5 commands (batches 6 and 8, 4 ranks skipped at 6), nothing written" \
  || bad "DRY_RUN (exit $rc): $(cat "$WORK/dry.out")"
cores=$(env -u OMP_NUM_THREADS nproc)
divisors=0; for ((r = 1; r <= cores; r++)); do ((cores % r == 0 && 128 % r == 0)) && divisors=$((divisors + 1)); done
n=$(OMP_NUM_THREADS=1 DRY_RUN=1 bash "$LAYOUT" 2>&1 | grep -c "mpirun -n ")
[ "$n" -eq "$divisors" ] && ok "CORES defaults to the $cores cores ($n layouts), not OMP_NUM_THREADS" \
  || bad "default CORES: $n commands, expected $divisors for $cores cores"

# --- 3. failures ----------------------------------------------------------------------------------
BIN=$WORK/nobin OUT=$WORK/none.env bash "$LAYOUT" >"$WORK/nobin.out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "no $WORK/nobin/bench_step" "$WORK/nobin.out" && [ ! -e "$WORK/none.env" ] \
  && ok "missing bench_step: exit 2, named" || bad "missing bench_step (exit $rc): $(cat "$WORK/nobin.out")"
mkdir -p "$WORK/failbin"
printf '#!/bin/sh\necho "bench_step stand-in: failing on purpose" >&2\nexit 3\n' >"$WORK/failbin/bench_step"
chmod +x "$WORK/failbin/bench_step"
CORES=2 ROUNDS=1 BIN=$WORK/failbin OUT=$WORK/failed.env bash "$LAYOUT" >"$WORK/failed.out" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "every run failed" "$WORK/failed.out" && grep -q "failing on purpose" "$WORK/failed.out" \
  && [ ! -e "$WORK/failed.env" ] && ok "every run failed: exit 1, the runs' errors shown, no file" \
  || bad "every run failed (exit $rc): $(cat "$WORK/failed.out")"

# --- 4. the jobs pick the layout up ---------------------------------------------------------------
printf '# test layout\nRANKS=3\nOMP_NUM_THREADS=4\n' >"$WORK/l34.env"
run_local() {  # ENV...: jobs/run_local.sh's dry run, no layout inherited from this shell
  (cd "$SRC" && env -u RANKS -u OMP_NUM_THREADS -u SLURM_JOB_ID DRY_RUN=1 LOG_DIR="$WORK/logs" TASKS=nlvr2 \
     "$@" jobs/run_local.sh synthetic 2>&1)
}
out=$(run_local VLMT_LAYOUT="$WORK/l34.env")
grep -q "^layout: 3 ranks x 4 threads (from $WORK/l34.env)$" <<<"$out" && grep -q "^\[pretrain\] mpirun -n 3 " <<<"$out" \
  && ok "run_local.sh takes 3 ranks x 4 threads from VLMT_LAYOUT" || bad "run_local with VLMT_LAYOUT: $out"
out=$(run_local VLMT_LAYOUT="$WORK/l34.env" RANKS=2)
grep -q "^layout: 2 ranks x 4 threads (ranks from the environment, threads from $WORK/l34.env)$" <<<"$out" \
  && grep -q "^\[pretrain\] mpirun -n 2 " <<<"$out" && ok "an explicit RANKS=2 wins over the file" \
  || bad "run_local with RANKS=2: $out"
out=$(run_local VLMT_LAYOUT="$WORK/none.env")
grep -q "^layout: 2 ranks x 1 threads (default; no $WORK/none.env" <<<"$out" && grep -q "^\[pretrain\] mpirun -n 2 " <<<"$out" \
  && ok "without a layout file: 2 ranks x 1 thread, as before" || bad "run_local without a file: $out"
threads=$(cd "$SRC" && unset RANKS OMP_NUM_THREADS SLURM_JOB_ID && VLMT_LAYOUT=$WORK/l34.env \
  && source jobs/lib_launch.sh >/dev/null && bash -c 'echo "$OMP_NUM_THREADS"')
[ "$threads" = 4 ] && ok "sourcing lib_launch.sh exports OMP_NUM_THREADS=4 to the ranks" \
  || bad "OMP_NUM_THREADS after lib_launch.sh: '$threads'"
if [ -n "$lr" ]; then
  out=$(run_local VLMT_LAYOUT="$WORK/layout.env")
  grep -q "^layout: $lr ranks x $lt threads (from $WORK/layout.env)$" <<<"$out" \
    && grep -q "^\[pretrain\] mpirun -n $lr " <<<"$out" && ok "run_local.sh uses the measured layout ($lr x $lt)" \
    || bad "run_local with the measured layout: $out"
fi
finish
