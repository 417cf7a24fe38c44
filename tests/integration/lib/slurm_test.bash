# Sourced by the Slurm integration tests (tests/integration/test_slurm_*.sh); not a test itself
# (CTest runs only the *.sh files directly under tests/integration). It gives each test:
#   - a work directory and a real single-node Slurm cluster of its own (tools/slurm_local.sh with
#     its own state directory and ports, so it can run beside a user's cluster or another test);
#   - cleanup on exit: cancel the test's jobs, wait for their processes, stop exactly the daemons
#     `up` started, remove the work directory (kept with KEEP_WORK=1);
#   - PASS/FAIL bookkeeping and small helpers for jobs, the tiny synthetic world and losses.
# Usage:  source "$(dirname "$0")/lib/slurm_test.bash"; slurm_test_init chain 19000
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/checks.bash"
cluster_started=""

# slurm_test_init NAME PORT_BASE: work dir, cluster state dir and ports (PORT_BASE + 2·(pid mod
# 1000), away from the default cluster's 6817/6818), first job id, cleanup trap.
slurm_test_init() {
  WORK=$(mktemp -d "/tmp/vlmt-$1-test.XXXXXX")
  chmod 755 "$WORK"  # munged runs as user munge and must reach its socket directory inside
  export VLMT_SLURM_DIR=$WORK/cluster
  export VLMT_SLURM_CTLD_PORT=$(($2 + $$ % 1000 * 2)) VLMT_SLURM_D_PORT=$(($2 + 1 + $$ % 1000 * 2))
  export SLURM_CONF=$VLMT_SLURM_DIR/slurm.conf
  # Job ids apart from any other cluster on this host (its own ports make the range its own):
  # equal job ids of two clusters would share Open MPI's shared-memory segments.
  export VLMT_SLURM_FIRST_JOB_ID=$((VLMT_SLURM_CTLD_PORT * 1000))
  trap slurm_test_cleanup EXIT
}

slurm_test_cleanup() {
  if [ -n "$cluster_started" ]; then
    # Every job in this private cluster is the test's own; a failed check may leave one running,
    # and slurmstepd (with the ranks) would outlive slurmd.
    local jobs
    jobs=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
      scancel $jobs 2>/dev/null
      for _ in $(seq 60); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 1; done
    fi
    "$SRC/tools/slurm_local.sh" down >/dev/null 2>&1 || echo "warning: slurm_local.sh down failed"
  fi
  [ -n "${KEEP_WORK:-}" ] && echo "work directory kept: $WORK" || rm -rf "$WORK"
}

# Starts the cluster; on failure prints why and returns 1 (the caller then fails the test).
slurm_test_up() {
  cluster_started=1
  if "$SRC/tools/slurm_local.sh" up >"$WORK/up.out" 2>&1; then return 0; fi
  cat "$WORK/up.out"
  bad "tools/slurm_local.sh up could not start the cluster (see above)"
  return 1
}

# job_field JOB FIELD → the value of FIELD in `scontrol show job` (empty once the job is gone).
job_field() {
  scontrol show job -o "$1" 2>/dev/null | grep -o " $2=[^ ]*" | head -n 1 | cut -d= -f2
}

# wait_job_end JOB SECONDS → prints the final state (COMPLETED, FAILED, ...) or "timeout".
# A job that requeued itself (PENDING with Restarts > 0) is released with StartTime=now instead of
# waiting out the credential lifetime slurmctld holds it back for (cred_expire, 120 s by default)
# — but only after RELEASE_AFTER_S (5) seconds pending: on requeue slurmd revokes the job's step
# credentials with a one-second clock, and a step launched within that second of the revocation
# is refused ("launch failed", and srun may still exit 0).
RELEASE_AFTER_S=${RELEASE_AFTER_S:-5}
wait_job_end() {
  local job=$1 limit=$2 state restarts start=$SECONDS pending_since=""
  while [ $((SECONDS - start)) -lt "$limit" ]; do
    state=$(job_field "$job" JobState)
    case $state in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)
        echo "$state"; return 0 ;;
      PENDING)
        restarts=$(job_field "$job" Restarts)
        if [ "${restarts:-0}" -gt 0 ]; then
          [ -n "$pending_since" ] || pending_since=$SECONDS
          [ $((SECONDS - pending_since)) -ge "$RELEASE_AFTER_S" ] \
            && scontrol update JobId="$job" StartTime=now 2>/dev/null
        fi ;;
      *) pending_since="" ;;
    esac
    sleep 1
  done
  echo timeout
}

# make_tiny_world DIR: the synthetic world at the smallest scale the training configs accept.
make_tiny_world() {
  "$BIN/synth_world" --out "$1" --scale 0.001 --seed 3 >"$WORK/synth_world.out" 2>&1
}

# train_losses METRICS.jsonl → "iter task loss" per training record, in file order.
train_losses() {
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") == "train": print(r["iter"], r["task"], repr(r["loss"]))' "$1"
}

# final_losses METRICS.jsonl → "task loss ..." with each task's last training loss.
final_losses() {
  train_losses "$1" | awk '{ if (!($2 in last)) order[++n] = $2; last[$2] = $3 }
    END { for (i = 1; i <= n; i++)
            printf "%s%s %s", (i > 1 ? ", " : ""), order[i], last[order[i]] }'
}

# last_iter METRICS.jsonl → the highest iteration with a training record (0 when none yet).
last_iter() {
  python3 -c '
import json, sys
it = 0
try:
    for line in open(sys.argv[1]):
        try: r = json.loads(line)
        except ValueError: continue  # a line being written
        if r.get("kind") == "train": it = max(it, r["iter"])
except OSError: pass
print(it)' "$1"
}
