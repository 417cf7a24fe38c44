#!/usr/bin/env bash
# Cluster acceptance: run once on a new GPU cluster (one node, all its GPUs; under ten minutes).
# Prints one table, a line per check with PASS/FAIL (SKIP only with --cpu), and writes it to
# $OUT/acceptance.txt; exits 0 only when no line failed. docs/DISTRIBUTED.md says what each
# line checks.
#   jobs/gpu_acceptance.sh [--dry-run] [--cpu]
#   sbatch slurm/gpu_acceptance.sh          (the same inside a one-node GPU allocation)
# --dry-run  print each line's commands, run nothing
# --cpu      rehearsal without a GPU: the lines that need no GPU run small on the CPU backend
#            (tiny preset, MPI, 2 ranks) and are checked without the GPU figures; the others SKIP
# Needs python3 (reads metrics.jsonl and results.jsonl) and, on GPUs, nvidia-smi.
# Environment:
#   OUT           results and logs (default checkpoints/acceptance, under the working directory)
#   VLMT_BIN      executables (default the repository's build/bin, else the ones on PATH);
#                 bench_step and bench_allreduce are developer tools, built but not installed
#   LAUNCHER      srun inside a Slurm allocation, else mpirun
#   VLMT_GPU_BIND srun's GPU binding, node (default) or task (slurm/lib_step.sh)
#   GPUS          ranks of the multi-GPU lines (default: the GPUs nvidia-smi lists; a dry run
#                 without GPUs shows 8)
#   NVLINK_GBS    expected NVLink bandwidth per direction per GPU (default 450: NVLink 4, H100/H200 SXM)
#   BUSBW_MIN     all-reduce bus bandwidth the largest message must reach (default 0.6 x NVLINK_GBS)
#   MFU_MIN_BF16  bf16 base-step MFU in % of the measured bf16 matmul peak (default 20)
#   SCALING_MIN   1 -> GPUS ranks weak-scaling efficiency of the base step (default 0.8)
#   WATCHDOG_S    VLMT_NCCL_TIMEOUT_S of the stopped-rank line (default 30)
set -uo pipefail
VLMT_ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$VLMT_ROOT/slurm/lib_step.sh"  # vlmt_gpu_step_options (sourcing only defines)
DRY=0 CPU=0
for arg in "$@"; do
  case $arg in
    --dry-run) DRY=1 ;;
    --cpu) CPU=1 ;;
    *) echo "usage: jobs/gpu_acceptance.sh [--dry-run] [--cpu]" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-checkpoints/acceptance}
VLMT_BIN=${VLMT_BIN:-$VLMT_ROOT/build/bin}
if [ ! -x "$VLMT_BIN/bench_step" ] && command -v bench_step >/dev/null; then VLMT_BIN=$(dirname "$(command -v bench_step)"); fi
if [ -z "${LAUNCHER:-}" ]; then [ -n "${SLURM_JOB_ID:-}" ] && LAUNCHER=srun || LAUNCHER=mpirun; fi
vlmt_gpu_step_options 1 >/dev/null || exit 2  # a bad VLMT_GPU_BIND stops before any line runs
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
NVLINK_GBS=${NVLINK_GBS:-450}
BUSBW_MIN=${BUSBW_MIN:-$(awk -v n="$NVLINK_GBS" 'BEGIN { print 0.6 * n }')}
MFU_MIN_BF16=${MFU_MIN_BF16:-20}
SCALING_MIN=${SCALING_MIN:-0.8}
WATCHDOG_S=${WATCHDOG_S:-30}
if [ "$CPU" = 1 ]; then
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  GPUS=2 DEVICE=cpu BACKEND=mpi PRESET=tiny
  STEP_ARGS=(--preset tiny --device cpu --batch 8 --text-len 8 --regions 10 --steps 2 --threads 1)
  ALLREDUCE_ARGS=(--backend mpi --max-mb 1 --iters 5)
  TRAIN_BATCH=8 TRAIN_ITERS=8 EVAL_ITEMS=16
else
  GPUS=${GPUS:-$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ')}
  [ "$DRY" = 1 ] && [ "$GPUS" -lt 1 ] && GPUS=8  # a dry run shows an 8-GPU node's commands
  DEVICE=cuda BACKEND=nccl PRESET=base
  STEP_ARGS=(--preset base --device cuda --batch 64 --steps 10)
  ALLREDUCE_ARGS=(--backend nccl --max-mb 256)
  TRAIN_BATCH=16 TRAIN_ITERS=16 EVAL_ITEMS=64  # the world has 128 val items per task
fi
STEP_BATCH=${STEP_ARGS[*]}; STEP_BATCH=${STEP_BATCH#*--batch }; STEP_BATCH=${STEP_BATCH%% *}
[ "$DRY" = 1 ] || mkdir -p "$OUT" || exit 2

# launch N ARGS...: N ranks on this node. srun: the GPU options of the stage scripts
# (vlmt_gpu_step_options: by default every GPU visible to every rank, vlmt binds
# cuda:<local rank> itself, docs/DISTRIBUTED.md), no CPU pinning of a rank to one core.
launch() {
  local n=$1; shift
  case $LAUNCHER in
    mpirun) echo mpirun -n "$n" --oversubscribe --bind-to none "$@" ;;
    srun) echo srun --nodes=1 --ntasks="$n" --kill-on-bad-exit=1 --cpus-per-task="${SLURM_CPUS_PER_TASK:-1}" \
      $([ "$CPU" = 0 ] && vlmt_gpu_step_options "$GPUS") "$@" ;;
    *) echo "LAUNCHER must be mpirun or srun, not '$LAUNCHER'" >&2; exit 2 ;;
  esac
}
# run LOG WORDS...: prints the command; unless --dry-run, runs it with its output in $OUT/LOG and
# returns its exit status. (The words are split as written: no argument here contains spaces.)
run() {
  local log=$1; shift
  echo "  \$ $*"
  [ "$DRY" = 1 ] && return 0
  "$@" >"$OUT/$log" 2>&1
}

NAMES=() RESULTS=() MEASURED=() EXPECTED=()
record() { NAMES+=("$1"); RESULTS+=("$2"); MEASURED+=("$3"); EXPECTED+=("$4"); }
# check NAME CONDITION MEASURED EXPECTED: PASS when CONDITION (an awk expression) holds.
check() {
  if awk "BEGIN { exit !($2) }" 2>/dev/null; then record "$1" PASS "$3" "$4"; else record "$1" FAIL "$3" "$4"; fi
}
header() { echo "== $1: $2"; }
# value LOG PATTERN: the first field after PATTERN (a sed regex) in $OUT/LOG.
value() { sed -n "s/.*$2 *\([-0-9.e+]*\).*/\1/p" "$OUT/$1" | head -1; }

# --- 1. binding: one process per GPU bus id --------------------------------------------------
line_binding() {
  header binding "$GPUS ranks, each alone on its GPU (nvidia-smi: one PID per bus id)"
  if [ "$CPU" = 1 ]; then record binding SKIP "needs GPUs" "one PID per GPU bus id"; return; fi
  echo "  \$ $(launch "$GPUS" "$VLMT_BIN/bench_allreduce" --backend nccl --max-mb 64 --iters 200) &"
  echo "  \$ nvidia-smi --query-compute-apps=pid,gpu_bus_id --format=csv,noheader   (every 0.5 s while it runs)"
  [ "$DRY" = 1 ] && return
  $(launch "$GPUS" "$VLMT_BIN/bench_allreduce" --backend nccl --max-mb 64 --iters 200) >"$OUT/binding.log" 2>&1 &
  local pid=$! best=0 shared="" rc
  : >"$OUT/binding.smi"
  while kill -0 "$pid" 2>/dev/null; do
    nvidia-smi --query-compute-apps=pid,gpu_bus_id --format=csv,noheader >"$OUT/binding.now" 2>/dev/null
    cat "$OUT/binding.now" >>"$OUT/binding.smi"
    local n dup
    n=$(awk -F', *' '{ print $2 }' "$OUT/binding.now" | sort -u | wc -l)
    dup=$(awk -F', *' '{ c[$2]++ } END { for (b in c) if (c[b] > 1) print b }' "$OUT/binding.now")
    [ "$n" -gt "$best" ] && best=$n
    [ -n "$dup" ] && shared="$shared $dup"
    sleep 0.5
  done
  rc=0; wait "$pid" || rc=$?
  check binding "$rc == 0 && $best == $GPUS && \"$shared\" == \"\"" \
    "exit $rc, $best bus ids in use${shared:+, shared:$shared}" "exit 0, $GPUS bus ids, one PID each"
}

# --- 2, 3. one-GPU base step, fp32 and bf16, with MFU ----------------------------------------
line_step() {  # NAME [--bf16]
  local name=$1; shift
  header "$name" "one-rank training step of the $PRESET model on $DEVICE, $([ $# -gt 0 ] && echo bf16 autocast || echo fp32) (bench_step)"
  local rc=0
  run "$name.log" $(launch 1 "$VLMT_BIN/bench_step" "${STEP_ARGS[@]}" "$@") || rc=$?
  [ "$DRY" = 1 ] && return
  local sps mfu
  sps=$(value "$name.log" "samples_per_s=")
  mfu=$(value "$name.log" "MFU")
  eval "SPS_${name}=\${sps:-0}"
  local measured="exit $rc, ${sps:-?} samples/s, MFU ${mfu:-?} %"
  if [ "$CPU" = 1 ] || [ "$name" = step_fp32 ]; then
    check "$name" "$rc == 0 && ${sps:-0} > 0 && \"$mfu\" != \"\"" "$measured" "runs, reports samples/s and MFU"
  else
    check "$name" "$rc == 0 && ${mfu:-0} >= $MFU_MIN_BF16 && ${sps:-0} > ${SPS_step_fp32:-0}" "$measured" \
      "MFU >= $MFU_MIN_BF16 %, faster than fp32"
  fi
}

# --- 4. all-reduce bus bandwidth per message size --------------------------------------------
line_allreduce() {
  header allreduce "all-reduce bus bandwidth over $GPUS ranks, 1 KiB .. the largest message (bench_allreduce)"
  local rc=0
  run allreduce.log $(launch "$GPUS" "$VLMT_BIN/bench_allreduce" "${ALLREDUCE_ARGS[@]}") || rc=$?
  [ "$DRY" = 1 ] && return
  # Rows: bytes iters time_us algbw busbw.
  local rows sizes top per_size
  rows=$(awk 'NF == 5 && $1 ~ /^[0-9]+$/' "$OUT/allreduce.log")
  sizes=$(echo "$rows" | grep -c .)
  top=$(echo "$rows" | tail -1 | awk '{ print $5 }')
  per_size=$(echo "$rows" | awk '$1 == 1048576 || $1 == 16777216 || $1 == 268435456 { printf "%s%d MiB %.0f", s, $1 / 1048576, $5; s = ", " }')
  if [ "$CPU" = 1 ]; then
    check allreduce "$rc == 0 && $sizes == 11 && ${top:-0} > 0" "exit $rc, $sizes sizes, ${top:-?} GB/s at 1 MiB" \
      "11 sizes 1 KiB..1 MiB, bandwidth > 0"
  else
    check allreduce "$rc == 0 && ${top:-0} >= $BUSBW_MIN" "busbw GB/s: ${per_size:-none} (exit $rc)" \
      ">= $BUSBW_MIN GB/s at 256 MiB (NVLink $NVLINK_GBS)"
  fi
}

# --- 5. scaling of the base step: 1 -> GPUS ranks, same batch per rank -----------------------
line_scaling() {
  header scaling "bf16 step at $GPUS ranks, $STEP_BATCH items per rank, against one rank (bench_step)"
  local rc=0 args=("${STEP_ARGS[@]}")
  local i
  for i in "${!args[@]}"; do [ "${args[$i]}" = --batch ] && args[$((i + 1))]=$((STEP_BATCH * GPUS)); done
  run scaling.log $(launch "$GPUS" "$VLMT_BIN/bench_step" "${args[@]}" --bf16) || rc=$?
  [ "$DRY" = 1 ] && return
  local sps eff
  sps=$(value scaling.log "samples_per_s=")
  eff=$(awk -v n="${sps:-0}" -v one="${SPS_step_bf16:-0}" -v r="$GPUS" 'BEGIN { printf "%.2f", (one > 0 ? n / (r * one) : 0) }')
  if [ "$CPU" = 1 ]; then
    check scaling "$rc == 0 && ${sps:-0} > 0" "exit $rc, ${sps:-?} samples/s, efficiency $eff" "runs (2 shared cores: no target)"
  else
    check scaling "$rc == 0 && $eff >= $SCALING_MIN" "${sps:-?} samples/s, efficiency $eff (exit $rc)" ">= $SCALING_MIN"
  fi
}

# --- 6. the NCCL watchdog ends a job with a stopped rank -------------------------------------
line_watchdog() {
  header watchdog "a rank stopped (SIGSTOP) mid all-reduce: the job ends with a message, no hang"
  if [ "$CPU" = 1 ]; then record watchdog SKIP "needs NCCL (MPI has no watchdog)" "ends within WATCHDOG_S + grace"; return; fi
  # A name of its own, so that pgrep finds the ranks and nothing else.
  local probe=$OUT/acc_wdog_probe bound=$((WATCHDOG_S + 90))
  echo "  \$ ln -sf $VLMT_BIN/bench_allreduce $probe"
  echo "  \$ VLMT_NCCL_TIMEOUT_S=$WATCHDOG_S VLMT_ABORT_GRACE_S=5 $(launch 2 "$probe" --backend nccl --max-mb 1 --iters 100000000) &"
  echo "  \$ kill -STOP <one rank>   (once NCCL is up); then wait at most $bound s"
  [ "$DRY" = 1 ] && return
  ln -sf "$(cd "$VLMT_BIN" && pwd)/bench_allreduce" "$probe"
  VLMT_NCCL_TIMEOUT_S=$WATCHDOG_S VLMT_ABORT_GRACE_S=5 \
    $(launch 2 "$probe" --backend nccl --max-mb 1 --iters 100000000) >"$OUT/watchdog.log" 2>&1 &
  local pid=$! waited=0 victim="" rc
  while [ $waited -lt 120 ] && ! grep -q "communicator on" "$OUT/watchdog.log"; do sleep 1; waited=$((waited + 1)); done
  victim=$(pgrep -u "$(id -u)" -x acc_wdog_probe | tail -1)
  [ -n "$victim" ] && kill -STOP "$victim"
  local start=$SECONDS
  while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - start)) -lt $bound ]; do sleep 1; done
  local took=$((SECONDS - start)) hung=0
  if kill -0 "$pid" 2>/dev/null; then hung=1; kill -KILL "$pid" 2>/dev/null; fi
  rc=0; wait "$pid" 2>/dev/null || rc=$?
  local left
  for left in $(pgrep -u "$(id -u)" -x acc_wdog_probe); do kill -KILL "$left" 2>/dev/null; done
  local said=0
  grep -q "did not complete within $WATCHDOG_S s" "$OUT/watchdog.log" && said=1
  check watchdog "\"$victim\" != \"\" && $hung == 0 && $rc != 0 && $said == 1" \
    "stopped pid ${victim:-none}; ended after $took s, exit $rc, message $([ $said = 1 ] && echo yes || echo no)" \
    "ends < $bound s, exit != 0, 'did not complete within'"
}

# --- 7. short bf16 mt_train: stopped and resumed = straight ----------------------------------
TRAIN_RANKS=2
losses() {  # iteration, task and loss of every train record
  python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("kind") == "train": print(r["iter"], r["task"], repr(r["loss"]))' "$1"
}
line_train() {
  header train_resume "bf16 mt_train ($PRESET, synthetic world, $TRAIN_RANKS ranks): stopped at $((TRAIN_ITERS / 2)) (exit 75) and resumed = straight"
  local world=$OUT/world run_file=$OUT/train.toml half=$((TRAIN_ITERS / 2))
  if [ "$DRY" = 0 ] && [ ! -d "$world/annotations" ]; then
    run world.log "$VLMT_BIN/synth_world" --out "$world" --scale 0.001 --seed 3 || true
    run clean_split.log "$VLMT_BIN/clean_split" --root "$world" || true
  elif [ "$DRY" = 1 ]; then
    run world.log "$VLMT_BIN/synth_world" --out "$world" --scale 0.001 --seed 3
    run clean_split.log "$VLMT_BIN/clean_split" --root "$world"
  fi
  [ "$DRY" = 1 ] || cat >"$run_file" <<TOML
[model]
preset = "$PRESET"
# the synthetic world's region features and detector classes
v_feature_size = 64
v_target_size = 64
[data]
root = "$world"
[tasks]
active = ["vqa", "refcoco"]
[tasks.vqa]
batch_size = $TRAIN_BATCH
[tasks.refcoco]
batch_size = $TRAIN_BATCH
[dist]
backend = "$BACKEND"
[train]
iterations = $TRAIN_ITERS
seed = 5
bf16 = true
deterministic = true
log_every = 1
checkpoint_every = 1000
val_max_batches = 2
TOML
  [ "$DRY" = 1 ] || rm -rf "$OUT/train_straight" "$OUT/train_resumed"
  local a=0 b=0 c=0
  run train_straight.log $(launch $TRAIN_RANKS "$VLMT_BIN/mt_train" "$run_file" --run-dir "$OUT/train_straight") || a=$?
  run train_stop.log $(launch $TRAIN_RANKS "$VLMT_BIN/mt_train" "$run_file" --run-dir "$OUT/train_resumed" \
    --set train.stop_after_iteration=$half) || b=$?
  run train_resume.log $(launch $TRAIN_RANKS "$VLMT_BIN/mt_train" "$run_file" --run-dir "$OUT/train_resumed") || c=$?
  [ "$DRY" = 1 ] && return
  local resumed=0 same=0 n=0
  grep -q "resumed from" "$OUT/train_resume.log" && resumed=1
  if [ -f "$OUT/train_straight/metrics.jsonl" ] && [ -f "$OUT/train_resumed/metrics.jsonl" ]; then
    n=$(losses "$OUT/train_straight/metrics.jsonl" | wc -l)
    diff <(losses "$OUT/train_straight/metrics.jsonl") <(losses "$OUT/train_resumed/metrics.jsonl") \
      >"$OUT/train_losses.diff" && same=1
  fi
  check train_resume "$a == 0 && $b == 75 && $c == 0 && $resumed == 1 && $same == 1 && $n >= $((2 * TRAIN_ITERS))" \
    "exits $a/$b/$c, resumed $([ $resumed = 1 ] && echo yes || echo no), $n losses $([ $same = 1 ] && echo identical || echo differ)" \
    "exits 0/75/0, resumed, identical losses"
}

# --- 8. evaluate on the resumed run's checkpoint ---------------------------------------------
line_evaluate() {
  header evaluate "evaluate on the resumed run's checkpoint ($DEVICE)"
  local rc=0
  run evaluate.log $(launch 1 "$VLMT_BIN/evaluate" --ckpt "$OUT/train_resumed/latest.h5" --device "$DEVICE" \
    --max-items "$EVAL_ITEMS" --out "$OUT/eval") || rc=$?
  [ "$DRY" = 1 ] && return
  # A score over EVAL_ITEMS items for each trained task (results.jsonl, one record per task).
  local scores
  scores=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "score" in r and r.get("items_evaluated") == int(sys.argv[2]): print("%s %.2f" % (r["task"], r["score"]))' \
    "$OUT/eval/results.jsonl" "$EVAL_ITEMS" 2>/dev/null | sort | paste -sd, -)
  check evaluate "$rc == 0 && \"$scores\" ~ /^refcoco [0-9.]+,vqa [0-9.]+$/" "exit $rc, scores: ${scores:-none}" \
    "exit 0, refcoco and vqa scored on $EVAL_ITEMS items"
}

echo "vlmt cluster acceptance: $([ "$CPU" = 1 ] && echo "CPU rehearsal" || echo "$GPUS GPU(s)"), launcher $LAUNCHER, out $OUT$([ "$DRY" = 1 ] && echo ", dry run")"
if [ "$CPU" = 0 ] && [ "$DRY" = 0 ] && [ "${GPUS:-0}" -lt 1 ]; then
  echo "no GPU visible (nvidia-smi -L lists none); use --cpu for the rehearsal" >&2; exit 2
fi
SECONDS=0
line_binding
line_step step_fp32
line_step step_bf16 --bf16
line_allreduce
line_scaling
line_watchdog
line_train
line_evaluate
[ "$DRY" = 1 ] && exit 0

table=$OUT/acceptance.txt
{
  echo "vlmt cluster acceptance, $(date -Is), $(hostname -s), $([ "$CPU" = 1 ] && echo "CPU rehearsal" || echo "$GPUS GPU(s)"), $SECONDS s"
  printf '%-13s %-5s %-62s %s\n' line result measured expected
  for i in "${!NAMES[@]}"; do
    printf '%-13s %-5s %-62s %s\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${MEASURED[$i]}" "${EXPECTED[$i]}"
  done
} >"$table"
cat "$table"
echo "table: $table; logs: $OUT/*.log"
for r in "${RESULTS[@]}"; do [ "$r" = FAIL ] && exit 1; done
exit 0
