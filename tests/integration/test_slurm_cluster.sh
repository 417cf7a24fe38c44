#!/usr/bin/env bash
# Brings up a real single-node Slurm cluster (tools/slurm_local.sh, own state dir and ports) and
# checks what the job scripts rely on:
#   1. srun -n 2 launches a 2-rank MPI program through the cluster's MPI plugin (PMIx);
#   2. sbatch --wait runs a batch job and its output lands where asked;
#   3. srun --kill-on-bad-exit=1 ends the step quickly when one rank dies while the other blocks
#      in MPI_Barrier;
#   4. slurm/mt_train.sh forwards a USR1 to its step, and when the executable answers 75
#      (checkpointed) the job requeues itself and the second run finishes.
# The daemons are always stopped (trap EXIT). If the cluster cannot start here, the test says why
# and fails.
set -uo pipefail
SRC=${VLMT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=$(mktemp -d /tmp/vlmt-slurm-test.XXXXXX)
chmod 755 "$WORK"  # munged runs as user munge and must reach its socket directory inside
export VLMT_SLURM_DIR=$WORK/cluster
# Ports away from the default cluster's 6817/6818, so a user's cluster can keep running.
export VLMT_SLURM_CTLD_PORT=$((17000 + $$ % 1000 * 2)) VLMT_SLURM_D_PORT=$((17001 + $$ % 1000 * 2))
export SLURM_CONF=$VLMT_SLURM_DIR/slurm.conf
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
passed=0 failed=0

cleanup() {
  "$SRC/tools/slurm_local.sh" down >/dev/null 2>&1 || echo "warning: slurm_local.sh down failed"
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

ok() { echo "PASS: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }
finish() { echo "slurm: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if ! "$SRC/tools/slurm_local.sh" up; then
  bad "tools/slurm_local.sh up could not start the cluster (see the error above)"
  finish
fi
ok "cluster up"

# --- 1. MPI launch through srun ---------------------------------------------------------------
cat >"$WORK/rank_size.c" <<'EOF'
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
EOF
# Rank 1 dies early; rank 0 waits for it in a barrier that can never complete.
cat >"$WORK/one_dies.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 1) { sleep(1); fprintf(stderr, "rank 1 exits with 1\n"); exit(1); }
  MPI_Barrier(MPI_COMM_WORLD);
  sleep(600);
  MPI_Finalize();
  return 0;
}
EOF
mpicc -O1 -o "$WORK/rank_size" "$WORK/rank_size.c" && mpicc -O1 -o "$WORK/one_dies" "$WORK/one_dies.c" \
  || { bad "mpicc could not build the test programs"; finish; }

out=$(timeout 120 srun -n 2 "$WORK/rank_size" 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -qx "rank 0 size 2" <<<"$out" && grep -qx "rank 1 size 2" <<<"$out"; then
  ok "srun -n 2 MPI program: both ranks see size 2 ($(grep -o 'MpiDefault=.*' "$SLURM_CONF"))"
else
  bad "srun -n 2 MPI program (exit $rc): $out"
fi

# --- 2. sbatch --wait ---------------------------------------------------------------------------
out_file=$WORK/batch.out
if timeout 120 sbatch --wait --output="$out_file" --wrap='echo "batch job $SLURM_JOB_ID on $(hostname -s)"' >/dev/null \
   && grep -q "^batch job [0-9]* on $(hostname -s)$" "$out_file"; then
  ok "sbatch --wait: $(cat "$out_file")"
else
  bad "sbatch --wait: output '$(cat "$out_file" 2>/dev/null)'"
fi

# --- 3. one dead rank ends the step --------------------------------------------------------------
start=$SECONDS
timeout 300 srun --kill-on-bad-exit=1 -n 2 "$WORK/one_dies" >"$WORK/kill.out" 2>&1; rc=$?
took=$((SECONDS - start))
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $took -lt 60 ]; then
  ok "srun --kill-on-bad-exit=1: step ended ${took}s after launch with status $rc"
else
  bad "srun --kill-on-bad-exit=1: status $rc after ${took}s; $(tail -n 5 "$WORK/kill.out")"
fi

# --- 4. USR1 → checkpoint (75) → requeue → resume, through slurm/mt_train.sh ---------------------
# A stand-in for mt_train that keeps the executables' preemption contract: on USR1 it "writes a
# checkpoint" and exits 75; a requeued run (SLURM_RESTART_COUNT > 0) finds it and finishes.
# What it does goes to an events file of its own (the job's output file is only for diagnosis).
mkdir -p "$WORK/bin" "$WORK/run"
events=$WORK/run/events
cat >"$WORK/bin/mt_train" <<EOF
#!/usr/bin/env bash
r=\$SLURM_PROCID
echo "rank \$r restart \${SLURM_RESTART_COUNT:-0} args: \$*" >>"$events"
if [ "\${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then
  [ -f "$WORK/run/ckpt.\$r" ] && echo "rank \$r resumed from checkpoint" >>"$events"
  exit 0
fi
# The pause stands in for the real executables' agreement (all ranks checkpoint, then exit 75
# together): without it the first rank to exit 75 gets the others killed by --kill-on-bad-exit
# before their own handler has run.
trap 'echo ckpt >"$WORK/run/ckpt.\$r"; echo "rank \$r checkpointed" >>"$events"; sleep 2; exit 75' USR1
echo "rank \$r training" >>"$events"
sleep 300 & wait
exit 1
EOF
chmod +x "$WORK/bin/mt_train"
job=$(cd "$SRC" && VLMT_BIN=$WORK/bin CONFIG=configs/synthetic/at.toml \
      sbatch --parsable --output="$WORK/mt.out" slurm/mt_train.sh | cut -d';' -f1)
# Wait until both ranks train, then send the batch shell USR1, as --signal=B:USR1@300 would.
count() { cat "$events" 2>/dev/null | grep -c -- "$1"; }
for _ in $(seq 60); do [ "$(count training)" -ge 2 ] && break; sleep 1; done
scancel --signal=USR1 --batch "$job"
state="" restarts=""
# slurmctld holds a requeued job back (BeginTime) for about two minutes.
for _ in $(seq 360); do
  info=$(scontrol show job "$job" -o 2>/dev/null)
  state=$(grep -o 'JobState=[A-Z_]*' <<<"$info" | cut -d= -f2)
  restarts=$(grep -o 'Restarts=[0-9]*' <<<"$info" | cut -d= -f2)
  [ "$state" = COMPLETED ] || [ "$state" = FAILED ] && break
  sleep 1
done
if [ "$state" = COMPLETED ] && [ "${restarts:-0}" -ge 1 ] \
   && [ "$(count 'checkpointed')" -eq 2 ] && [ "$(count 'resumed from checkpoint')" -eq 2 ] \
   && [ "$(count 'args: configs/synthetic/at.toml --set dist.backend=mpi$')" -eq 4 ]; then
  ok "slurm/mt_train.sh: USR1 forwarded, exit 75 requeued job $job, restart $restarts resumed"
else
  bad "slurm/mt_train.sh preemption: state '$state', restarts '$restarts'; events:
$(cat "$events" 2>/dev/null)
job output:
$(cat "$WORK/mt.out" 2>/dev/null)"
  scancel "$job" 2>/dev/null
fi

finish
