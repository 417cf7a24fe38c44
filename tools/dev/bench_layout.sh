#!/usr/bin/env bash
# The rank × thread layout by measurement: runs bench_step (tools/dev/bench_step.cpp: data-parallel
# training steps, gradient all-reduce included) for every R ranks × T threads with R·T = CORES on this machine,
# prints a Markdown table and the fastest layout, and writes it to OUT, where jobs/lib_launch.sh
# and tools/quickstart.sh take RANKS and OMP_NUM_THREADS from unless the caller sets them.
# Why measure: on a CPU, more ranks with fewer threads often win for small models (LibTorch's
# intra-op threads help little on small ops), but not always: it depends on the machine.
#   tools/dev/bench_layout.sh                          # tiny preset, VQA, global batch 128, all cores
#   BATCHES="64 128" tools/dev/bench_layout.sh         # also at other global batches
#   DRY_RUN=1 tools/dev/bench_layout.sh                # print the commands only
# Each layout runs ROUNDS times, the rounds interleaved, and is ranked by its median: on a shared
# machine one run can be off by a factor of 4, far more than the layouts differ.
# Environment: PRESET (tiny), TASK (vqa), BATCH (global batch the layout is chosen at; 128),
#   BATCHES (more global batches to measure), CORES (this machine's, nproc), STEPS (3), ROUNDS (3),
#   BIN (VLMT_BIN, else build/bin), OUT (build/layout.env; "-" writes none), EXTRA_ARGS (more
#   bench_step options, e.g. "--text-len 8 --regions 10"), RUN_TIMEOUT (s per run; 600), DRY_RUN=1.
# Exit: 0; 1 every run at BATCH failed; 2 bad settings, or bench_step / mpirun missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PRESET=${PRESET:-tiny}
TASK=${TASK:-vqa}
BATCH=${BATCH:-128}
# Plain nproc honours OMP_NUM_THREADS, which is a result of this script, not an input.
CORES=${CORES:-$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)}
STEPS=${STEPS:-3}
BIN=${BIN:-${VLMT_BIN:-$ROOT/build/bin}}
OUT=${OUT:-$ROOT/build/layout.env}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
read -ra extra <<<"${EXTRA_ARGS:-}"
die() { echo "bench_layout: $1" >&2; exit "${2:-2}"; }

ROUNDS=${ROUNDS:-3}
for v in BATCH CORES STEPS ROUNDS RUN_TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
batches=("$BATCH")  # BATCH first: the layout is chosen at it
for b in ${BATCHES:-}; do
  [[ $b =~ ^[1-9][0-9]*$ ]] || die "BATCHES must hold positive integers, not '$b'"
  [[ " ${batches[*]} " == *" $b "* ]] || batches+=("$b")
done
if [ -z "${DRY_RUN:-}" ]; then
  [ -x "$BIN/bench_step" ] || die "no $BIN/bench_step: build it (cmake --build build --target bench_step) or set BIN"
  command -v mpirun >/dev/null || die "no mpirun on PATH (Open MPI): the layouts are launched with it"
fi
# Open MPI refuses root unless told; a container's root is the usual case here.
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

LOG=$(mktemp /tmp/vlmt-bench-layout.XXXXXX)
trap 'rm -f "$LOG"' EXIT
echo "bench_layout: preset $PRESET, task $TASK, $CORES cores, global batch ${batches[*]}," \
  "$STEPS steps, $ROUNDS rounds"
layouts=()  # "ranks threads batch" to measure
for b in "${batches[@]}"; do
  for ((r = 1; r <= CORES; r++)); do
    ((CORES % r == 0)) || continue
    if ((b % r != 0)); then
      echo "skipped: $r ranks x $((CORES / r)) threads at batch $b (the global batch must divide over the ranks)"
    else layouts+=("$r $((CORES / r)) $b"); fi
  done
done
[ "${#layouts[@]}" -gt 0 ] || die "no layout to run: no ranks count divides both CORES $CORES and the batch"

rows=()  # "ranks threads batch samples_per_s step_s", one per run that gave a RESULT line
for ((round = 1; round <= ROUNDS; round++)); do
  for layout in "${layouts[@]}"; do
    read -r r t b <<<"$layout"
    # --bind-to none: Open MPI would otherwise pin each rank to one core and its threads with it.
    cmd=(env OMP_NUM_THREADS="$t" timeout "$RUN_TIMEOUT" mpirun -n "$r" --oversubscribe --bind-to none
         -x OMP_NUM_THREADS "$BIN/bench_step" --preset "$PRESET" --task "$TASK" --batch "$b"
         --steps "$STEPS" --threads "$t" "${extra[@]}")
    if [ -n "${DRY_RUN:-}" ]; then echo "${cmd[*]}"; continue; fi
    echo "[round $round/$ROUNDS] ${cmd[*]}"
    rc=0
    "${cmd[@]}" >"$LOG" 2>&1 || rc=$?
    result=$(grep '^RESULT ' "$LOG" | tail -n 1 || true)
    if [ "$rc" -ne 0 ] || [ -z "$result" ]; then
      # Its own last lines, without mpirun's boxed notices (---- ... ----).
      echo "  failed (exit $rc); last lines:"
      awk '/^--------------------+$/ { box = !box; next } !box' "$LOG" | tail -n 5 | sed 's/^/    /'
      continue
    fi
    sps=$(sed -n 's/.* samples_per_s=\([0-9.]*\).*/\1/p' <<<"$result")
    step=$(sed -n 's/.* step_s=\([0-9.]*\).*/\1/p' <<<"$result")
    echo "  $sps samples/s, $step s per step"
    rows+=("$r $t $b $sps $step")
  done
  [ -n "${DRY_RUN:-}" ] && { echo "bench_layout: DRY_RUN, nothing run or written (each runs $ROUNDS times)"; exit 0; }
done
[ "${#rows[@]}" -gt 0 ] || die "every run failed (see above); no layout written" 1

# median FORMAT: the median of the numbers on stdin (mean of the middle two for an even count).
median() {
  sort -g | awk -v f="$1" '{ v[NR] = $1 }
    END { if (NR) printf f "\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
table=()  # "ranks threads batch median_samples_per_s median_step_s", in the order measured
for layout in "${layouts[@]}"; do
  read -r r t b <<<"$layout"
  mine=$(printf '%s\n' "${rows[@]}" | awk -v r="$r" -v t="$t" -v b="$b" '$1 == r && $2 == t && $3 == b')
  [ -n "$mine" ] || continue
  table+=("$r $t $b $(awk '{ print $4 }' <<<"$mine" | median %.1f) $(awk '{ print $5 }' <<<"$mine" | median %.4f)")
done
echo
echo "Median of $ROUNDS rounds per layout ($STEPS timed steps each):"
echo
echo "| ranks | threads | batch | samples/s | step s |"
echo "|---|---|---|---|---|"
printf '%s\n' "${table[@]}" | awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }'
echo
# The fastest at each batch; the one at BATCH is the layout. (awk, not head: head's early exit
# could fail the pipeline under pipefail.)
best_at() { printf '%s\n' "${table[@]}" | awk -v b="$1" '$3 == b' | sort -k4,4gr | awk 'NR == 1'; }
for b in "${batches[@]:1}"; do
  read -r r t _ sps _ <<<"$(best_at "$b")"
  [ -n "$r" ] && echo "fastest at batch $b: $r ranks x $t threads ($sps samples/s)"
done
best=$(best_at "$BATCH")
[ -n "$best" ] || die "every run at batch $BATCH failed (see above); no layout written" 1
read -r R T _ SPS _ <<<"$best"
echo "fastest: $R ranks x $T threads ($SPS samples/s)"
echo "bench_layout: sweep took $SECONDS s"

[ "$OUT" = - ] && exit 0
mkdir -p "$(dirname "$OUT")"
{
  echo "# vlmt rank x thread layout, measured by tools/dev/bench_layout.sh; read by jobs/lib_launch.sh"
  echo "# and tools/quickstart.sh when RANKS / OMP_NUM_THREADS are not set. Delete it to measure again."
  load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
  echo "# date $(date '+%Y-%m-%d %H:%M:%S %z'), host $(uname -n), load average $load"
  echo "# preset $PRESET, task $TASK, global batch $BATCH, cores $CORES, steps $STEPS, rounds $ROUNDS${EXTRA_ARGS:+, $EXTRA_ARGS}"
  echo "# median per layout: ranks threads batch samples_per_s step_s"
  printf '#   %s\n' "${table[@]}"
  echo "# every run:"
  printf '#     %s\n' "${rows[@]}"
  echo "RANKS=$R"
  echo "OMP_NUM_THREADS=$T"
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT"
