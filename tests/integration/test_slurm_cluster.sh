#!/usr/bin/env bash
# The real executables on a real single-node Slurm cluster (tools/slurm_local.sh, own state dir and
# ports), through the job script slurm/mt_train.sh, 2 ranks, a tiny synthetic world:
#   1. srun -n 2 launches a 2-rank MPI program through the cluster's MPI plugin (PMIx) — a quick
#      diagnosis for when the training jobs below cannot start;
#   2. an uninterrupted mt_train job (`sbatch --wait`), deterministic, the reference;
#   3. the same job preempted: `scancel --signal=USR1 --batch` mid-run → the script forwards USR1,
#      every rank checkpoints and exits 75, the script requeues the job, the requeued job resumes
#      from the checkpoint and finishes with per-iteration losses identical to the reference;
#   4. a time limit (--time=2, VLMT_SIGNAL_MARGIN=105): the script's time guard sends USR1 to the
#      step 105 s before the limit, every rank checkpoints and exits 75, the job requeues itself;
#   5. kill -9 of one rank mid-step ends the whole step (srun --kill-on-bad-exit=1) within 60 s
#      and the job fails instead of hanging in a collective.
# The daemons are always stopped (lib/slurm_test.bash). If the cluster cannot start, the test says
# why and fails.
source "$(dirname "$0")/lib/slurm_test.bash"
slurm_test_init cluster 17000
slurm_test_up || finish
ok "cluster up ($(grep -o 'MpiDefault=.*' "$SLURM_CONF"))"

# --- 1. MPI launch through srun ---------------------------------------------------------------
cat >"$WORK/rank_size.c" <<'C'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  printf("rank %d size %d\n", rank, size);
  MPI_Finalize();
  return 0;
}
C
if mpicc -O1 -o "$WORK/rank_size" "$WORK/rank_size.c"; then
  out=$(timeout 120 srun -n 2 "$WORK/rank_size" 2>&1); rc=$?
  if [ $rc -eq 0 ] && grep -qx "rank 0 size 2" <<<"$out" && grep -qx "rank 1 size 2" <<<"$out"; then
    ok "srun -n 2 MPI program: both ranks see size 2"
  else
    bad "srun -n 2 MPI program (exit $rc): $out"
  fi
else
  bad "mpicc could not build the MPI test program"
fi

# --- the run: 2 tasks, deterministic, long enough to be interrupted mid-run --------------------
make_tiny_world "$WORK/data" || { cat "$WORK/synth_world.out"; bad "synth_world"; finish; }
ITERATIONS=40
cat >"$WORK/run.toml" <<TOML
[model]
preset = "tiny"
[data]
root = "$WORK/data"
[tasks]
active = ["refcoco", "nlvr2"]
[tasks.refcoco]
batch_size = 16
[tasks.nlvr2]
batch_size = 16
[train]
stage = "mt_train"
seed = 5
deterministic = true
iterations = $ITERATIONS
log_every = 1
checkpoint_every = 1000
val_max_batches = 1
num_threads = 1
TOML
# submit NAME RUN_DIR [sbatch options...] -- [mt_train arguments...]: slurm/mt_train.sh from the
# repository root, as a user would; prints the job id.
submit() {
  local name=$1 run_dir=$2; shift 2
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  (cd "$SRC" && VLMT_BIN=$BIN CONFIG=$WORK/run.toml RUN_DIR=$run_dir \
     sbatch --parsable --job-name="$name" --output="$WORK/$name.out" "${opts[@]}" \
     slurm/mt_train.sh "$@") | cut -d';' -f1
}
# wait_iter METRICS N SECONDS: until a training record of iteration >= N is written.
wait_iter() {
  local start=$SECONDS
  while [ $((SECONDS - start)) -lt "$3" ]; do
    [ "$(last_iter "$1")" -ge "$2" ] && return 0
    sleep 0.5
  done
  return 1
}

# --- 2. reference, uninterrupted ----------------------------------------------------------------
start=$SECONDS
submit straight "$WORK/straight" --wait >/dev/null; rc=$?
n_ref=$(train_losses "$WORK/straight/metrics.jsonl" 2>/dev/null | wc -l)
# (DSG stops tasks, so not every iteration has a loss for both.)
if [ $rc -eq 0 ] && grep -q "mt_train finished: $ITERATIONS iterations" "$WORK/straight.out" \
   && [ "$n_ref" -ge "$ITERATIONS" ]; then
  ok "sbatch --wait slurm/mt_train.sh: $ITERATIONS iterations, $n_ref loss records ($((SECONDS - start)) s)"
else
  bad "reference run: sbatch --wait exit $rc, $n_ref loss records; $(tail -n 15 "$WORK/straight.out")"
fi

# --- 3. preempted with USR1, requeued, resumed ----------------------------------------------------
start=$SECONDS
job=$(submit preempt "$WORK/preempt")
if wait_iter "$WORK/preempt/metrics.jsonl" 3 180; then
  # As the time guard does before the time limit (section 4): USR1 to the batch shell only.
  scancel --signal=USR1 --batch "$job"
  state=$(wait_job_end "$job" 300)
  restarts=$(job_field "$job" Restarts)
  stopped_at=$(grep -o 'checkpoint .* at iteration [0-9]*' "$WORK/preempt.out" | head -n 1 \
               | grep -o '[0-9]*$')
  if [ "$state" = COMPLETED ] && [ "${restarts:-0}" -ge 1 ] \
     && grep -q "requeueing job $job" "$WORK/preempt.out" \
     && grep -q "resumed from .* at iteration" "$WORK/preempt.out" \
     && [ -n "$stopped_at" ] && [ "$stopped_at" -lt "$ITERATIONS" ]; then
    ok "USR1 → checkpoint at iteration $stopped_at, exit 75, requeue (restart $restarts), resumed; job $job $state ($((SECONDS - start)) s)"
  else
    bad "preempted job $job: state $state, restarts '$restarts', stopped at '$stopped_at'; output:
$(tail -n 30 "$WORK/preempt.out")"
  fi
  if diff <(train_losses "$WORK/straight/metrics.jsonl") \
          <(train_losses "$WORK/preempt/metrics.jsonl") >"$WORK/losses.diff" 2>&1 && [ "$n_ref" -gt 0 ]; then
    ok "preempted + resumed run: all $n_ref per-iteration losses identical to the reference; final: $(final_losses "$WORK/preempt/metrics.jsonl")"
  else
    bad "losses of the preempted run differ from the reference:
$(head -n 10 "$WORK/losses.diff")"
  fi
else
  bad "preempted job $job never reached iteration 3; output: $(tail -n 20 "$WORK/preempt.out")"
fi

# --- 4. the time limit: USR1 from the time guard, checkpoint, requeue ------------------------------
start=$SECONDS
job=$(submit timelimit "$WORK/timelimit" --time=2 --export=ALL,VLMT_SIGNAL_MARGIN=105 \
      -- --set train.iterations=100000)
for _ in $(seq 120); do grep -q "requeueing job $job" "$WORK/timelimit.out" 2>/dev/null && break; sleep 1; done
scancel "$job"
if grep -q "time limit 120 s: the step checkpoints 105 s before it" "$WORK/timelimit.out" \
   && grep -q "s left of the time limit: USR1 to the step" "$WORK/timelimit.out" \
   && grep -q "step mt_train exited with 75" "$WORK/timelimit.out" \
   && grep -q "requeueing job $job" "$WORK/timelimit.out" && [ -f "$WORK/timelimit/latest.h5" ]; then
  ok "--time=2: USR1 105 s before the limit, checkpoint at iteration $(grep -o 'checkpoint .* at iteration [0-9]*' \
"$WORK/timelimit.out" | head -n 1 | grep -o '[0-9]*$'), exit 75, requeue ($((SECONDS - start)) s)"
else
  bad "time-limit job $job: output:
$(tail -n 20 "$WORK/timelimit.out")"
fi
wait_job_end "$job" 60 >/dev/null

# --- 5. kill -9 of one rank ends the step ---------------------------------------------------------
# rank_pid JOB RANK: the mt_train process of that job and rank (by its Slurm environment).
rank_pid() {
  local pid
  for pid in $(pgrep -x mt_train); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "SLURM_JOB_ID=$1" \
       && tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "SLURM_PROCID=$2"; then
      echo "$pid"; return 0
    fi
  done
  return 1
}
job=$(submit kill "$WORK/kill" -- --set train.iterations=100000)
if wait_iter "$WORK/kill/metrics.jsonl" 2 180 && pid=$(rank_pid "$job" 1); then
  kill -9 "$pid"
  start=$SECONDS
  state=$(wait_job_end "$job" 120)
  took=$((SECONDS - start))
  left=$(rank_pid "$job" 0)
  exit_code=$(job_field "$job" ExitCode)
  if [ "$state" = FAILED ] && [ "$took" -lt 60 ] && [ -z "$left" ]; then
    ok "kill -9 of rank 1 (pid $pid): job $job $state with exit code $exit_code ${took} s later, no rank left"
  else
    bad "kill -9 of rank 1: job $job state $state after ${took} s, exit code $exit_code, rank 0 left: '${left}'; output:
$(tail -n 20 "$WORK/kill.out")"
  fi
else
  bad "kill test: job $job did not start training on 2 ranks; output: $(tail -n 20 "$WORK/kill.out")"
fi

finish
