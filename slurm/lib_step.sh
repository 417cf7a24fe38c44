# Sourced by the stage scripts in slurm/ and by jobs/ (not a job script itself; sourcing only
# defines). vlmt_run_step turns the environment into one srun step of a vlmt executable and
# handles preemption:
#
#   VLMT_BIN        directory of the executables (default <repo>/build/bin, else the one on PATH)
#   NODES           nodes for the step (default: the allocation's)
#   RANKS_PER_NODE  ranks per node (default: the allocation's --ntasks-per-node)
#   GPUS_PER_NODE   > 0: one rank per GPU (--gpus-per-task=1), NCCL, dist.backend=nccl;
#                   0 (default): CPU ranks, OMP_NUM_THREADS = cpus-per-task, dist.backend=mpi
#   RUN_DIR         --set train.run_dir=...      DATA_ROOT   --set data.root=...
#   EXTRA_SETS      more overrides, space separated: "train.seed=3 train.log_every=5"
#   SRUN_MPI        --mpi=... for srun (default: the cluster's MpiDefault)
#
# Preemption: the scripts run with `--signal=B:USR1@300`, so 300 s before the time limit the batch
# shell gets USR1; on preemption or scancel every process gets TERM. The trap below forwards both
# to the srun step (srun passes them on to every rank). The executables then write a checkpoint
# and exit with 75 (vlmt::ExitCode::kPreempted); the script requeues its own job, which keeps its
# id (so afterok dependencies keep waiting) and resumes from the run directory's checkpoint.

# The 12 task keys in the paper's Table 2 order (src/tasks/task_table.cpp): the default TASKS of
# finetune arrays and chains.
VLMT_ALL_TASKS="vqa gqa vgqa retrieval_coco retrieval_flickr30k"
VLMT_ALL_TASKS+=" refcoco refcoco+ refcocog visual7w guesswhat nlvr2 snli_ve"

# Fills SRUN_OPTS and VLMT_SETS (the overrides every stage gets: backend, run directory, data root,
# extras) from the environment, and exports the thread and NCCL settings.
vlmt_step_options() {
  SRUN_OPTS=(--kill-on-bad-exit=1)
  VLMT_SETS=()
  [ -n "${NODES:-}" ] && SRUN_OPTS+=(--nodes="$NODES")
  [ -n "${RANKS_PER_NODE:-}" ] && SRUN_OPTS+=(--ntasks-per-node="$RANKS_PER_NODE")
  [ -n "${NODES:-}" ] && [ -n "${RANKS_PER_NODE:-}" ] \
    && SRUN_OPTS+=(--ntasks=$((NODES * RANKS_PER_NODE)))
  [ -n "${SRUN_MPI:-}" ] && SRUN_OPTS+=(--mpi="$SRUN_MPI")
  if [ "${GPUS_PER_NODE:-0}" -gt 0 ]; then
    SRUN_OPTS+=(--gpus-per-task=1)
    export NCCL_DEBUG="${NCCL_DEBUG:-WARN}"
    # A rank that dies must not leave the others blocked in a collective forever.
    export NCCL_ASYNC_ERROR_HANDLING="${NCCL_ASYNC_ERROR_HANDLING:-1}"
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-4}}"
    VLMT_SETS+=(--set dist.backend=nccl)
  else
    export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-${OMP_NUM_THREADS:-1}}"
    VLMT_SETS+=(--set dist.backend=mpi)
  fi
  [ -n "${RUN_DIR:-}" ] && VLMT_SETS+=(--set "train.run_dir=$RUN_DIR")
  [ -n "${DATA_ROOT:-}" ] && VLMT_SETS+=(--set "data.root=$DATA_ROOT")
  local kv
  for kv in ${EXTRA_SETS:-}; do VLMT_SETS+=(--set "$kv"); done
  return 0
}

vlmt_step_pid=""
vlmt_forward() {  # signal: pass it to the running srun, which hands it to every rank
  echo "vlmt: job ${SLURM_JOB_ID:-local} got SIG$1;" \
    "forwarding to the step (pid ${vlmt_step_pid:-none})"
  [ -n "$vlmt_step_pid" ] && kill -s "$1" "$vlmt_step_pid" 2>/dev/null
  return 0
}

# vlmt_run_step EXE ARGS...: runs "$VLMT_BIN/EXE" ARGS + the overrides as one srun step, waits
# through forwarded signals, requeues the job when the step checkpointed for preemption (75).
# Returns the step's exit status.
# VLMT_ROOT must name the repository (relative configs and run directories are resolved there).
vlmt_run_step() {
  local exe=$1; shift
  cd "$VLMT_ROOT" || return 2
  # The executables: VLMT_BIN, else the repository's build, else an installed vlmt on PATH.
  local VLMT_BIN="${VLMT_BIN:-$VLMT_ROOT/build/bin}"
  if [ ! -x "$VLMT_BIN/$exe" ] && command -v "$exe" >/dev/null; then
    VLMT_BIN=$(dirname "$(command -v "$exe")")
  fi
  vlmt_step_options
  if [ ! -x "$VLMT_BIN/$exe" ]; then
    echo "vlmt: $VLMT_BIN/$exe is not an executable (build it, or set VLMT_BIN)" >&2; return 2
  fi
  trap 'vlmt_forward USR1' USR1
  trap 'vlmt_forward TERM' TERM
  echo "vlmt: $(date -Is) job ${SLURM_JOB_ID:-local} restart ${SLURM_RESTART_COUNT:-0}" \
    "on ${SLURM_JOB_NODELIST:-$(hostname -s)}"
  echo "vlmt: srun ${SRUN_OPTS[*]} $VLMT_BIN/$exe $* ${VLMT_SETS[*]}"
  srun "${SRUN_OPTS[@]}" "$VLMT_BIN/$exe" "$@" "${VLMT_SETS[@]}" &
  vlmt_step_pid=$!
  local rc again
  while :; do
    rc=0; wait "$vlmt_step_pid" || rc=$?  # (|| keeps `set -e` callers alive)
    # A trapped signal interrupts `wait` with 128+n while the step still runs: wait again.
    if [ "$rc" -gt 128 ] && kill -0 "$vlmt_step_pid" 2>/dev/null; then continue; fi
    break
  done
  if [ "$rc" -gt 128 ]; then  # the step may have ended while the trap ran: fetch its real status
    again=0; wait "$vlmt_step_pid" 2>/dev/null || again=$?
    [ "$again" -ne 127 ] && rc=$again
  fi
  trap - USR1 TERM
  vlmt_step_pid=""
  echo "vlmt: $(date -Is) step $exe exited with $rc"
  if [ "$rc" -eq 75 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
    echo "vlmt: checkpoint written; requeueing job $SLURM_JOB_ID to resume"
    scontrol requeue "$SLURM_JOB_ID" || echo "vlmt: scontrol requeue failed; resubmit by hand" >&2
  fi
  return "$rc"
}
