# Sourced by the stage scripts in slurm/ and by jobs/ (not a job script itself; sourcing only
# defines). Each stage script starts the same way: it sources VLMT_ENV when set (the environment
# hook: `module load ...`, a virtualenv, an installed vlmt's env.sh), before `set -u`, which
# module systems do not survive; then this file, from an installed vlmt (VLMT_HOME, set by its
# env.sh) or from the submit directory (sbatch runs a spooled copy of the script, so its own
# location says nothing; the job works in the submit directory, VLMT_ROOT). vlmt_run_step turns the allocation and the environment into one srun step of a vlmt
# executable and handles the time limit and preemption:
#
#   VLMT_BIN        directory of the executables (default <repo>/build/bin, else the one on PATH)
#   NODES           nodes for the step (default: the allocation's)
#   RANKS_PER_NODE  ranks per node (default: the allocation's --ntasks-per-node)
#   GPUS_PER_NODE   GPUs per node (default: the allocation's, SLURM_GPUS_ON_NODE; 0 without GPUs).
#                   > 0: one rank per GPU (the ranks per node must equal it), NCCL,
#                   dist.backend=nccl, GPU options from vlmt_gpu_step_options; 0: CPU ranks,
#                   dist.backend=mpi, no GPU options
#   VLMT_GPU_BIND   node (default): every rank sees all the step's GPUs; task: one GPU per rank
#                   (for sites that require per-task binding); see vlmt_gpu_step_options
#   RUN_DIR         --set train.run_dir=...      DATA_ROOT   --set data.root=...
#   EXTRA_SETS      more overrides, space separated: "train.seed=3 train.log_every=5"
#   SRUN_MPI        --mpi=... for srun (default: the cluster's MpiDefault)
#   VLMT_SIGNAL_MARGIN  seconds before the time limit at which the step is told to checkpoint
#                   (default: derived from the limit, see vlmt_signal_margin)
#
# Every rank gets the allocation's --cpus-per-task explicitly (srun of Slurm 22.05-23.02 does not
# inherit it from sbatch and would pin each rank to one core) and OMP_NUM_THREADS equal to it.
# Choosing it on CPU nodes: measure once on one whole compute node (C = its cores),
#   srun -N1 -n1 --exclusive --cpus-per-task=C env OUT=build/layout-node.env tools/dev/bench_layout.sh
# and submit with --ntasks-per-node=R --cpus-per-task=T from its "fastest: R ranks x T threads"
# line (ranks per node x cpus-per-task = cores per node; slurm/submit.sh: RANKS_PER_NODE=R
# CPUS_PER_TASK=T). A layout file is never read inside a job (jobs/lib_layout.sh): the allocation
# is the layout. On GPU nodes: one rank per GPU, and --cpus-per-task = the node's cores / its
# GPUs (docs/PERFORMANCE.md).
#
# Time limit and preemption: a watcher in the batch shell (vlmt_time_guard) sends USR1 to the
# step a margin before the job's time limit, as `sbatch --signal=B:USR1@margin` would, but with
# the margin derived from whatever --time the job got; on preemption or scancel every process
# gets TERM. The trap below forwards both to the srun step (srun passes them on to every rank).
# The executables then write a checkpoint and exit with 75 (vlmt::ExitCode::kPreempted); the
# script requeues its own job, which keeps its id (so afterok dependencies keep waiting) and
# resumes from the run directory's checkpoint.

# The 12 task keys in the paper's Table 2 order (src/catalog/builtin_tasks.cpp): the default TASKS of
# finetune arrays and chains.
VLMT_ALL_TASKS="vqa gqa vgqa retrieval_coco retrieval_flickr30k"
VLMT_ALL_TASKS+=" refcoco refcoco+ refcocog visual7w guesswhat nlvr2 snli_ve"

# vlmt_gpus_per_node: GPUS_PER_NODE, else the GPUs the allocation has on this node (0 if none).
vlmt_gpus_per_node() {
  local gpus=${GPUS_PER_NODE:-${SLURM_GPUS_ON_NODE:-${SLURM_GPUS_PER_NODE:-0}}}
  gpus=${gpus##*:}  # --gpus-per-node=a100:8 is exported as "a100:8"
  [[ $gpus =~ ^[0-9]+$ ]] || gpus=0
  echo "$gpus"
}

# vlmt_gpu_step_options GPUS: the srun options of a step with one rank per GPU on GPUS GPUs per
# node, one per line; returns 2 (after saying why) for a VLMT_GPU_BIND that is neither node nor task.
# node: --gpus-per-node=GPUS --gpu-bind=none. Every rank can open every GPU of the step, so NCCL
#   can use NVLink/P2P between the ranks' GPUs; vlmt itself puts rank r on cuda:<local rank r> and
#   stops when two ranks of a node share a GPU (docs/DISTRIBUTED.md). --gpu-bind=none also
#   overrides a binding inherited from the allocation (sbatch --gpus-per-task implies one).
# task: --gpus-per-task=1 --gpu-bind=per_task:1. Each rank sees only its own GPU (cuda:0); with
#   the site's device cgroups (ConstrainDevices) it may not open its peers' GPUs, and NCCL may
#   then fall back from P2P to slower paths. For sites whose policy requires this binding.
vlmt_gpu_step_options() {
  case ${VLMT_GPU_BIND:-node} in
    node) printf '%s\n' "--gpus-per-node=$1" --gpu-bind=none ;;
    task) printf '%s\n' --gpus-per-task=1 --gpu-bind=per_task:1 ;;
    *) echo "vlmt: VLMT_GPU_BIND must be node or task, not '$VLMT_GPU_BIND'" >&2; return 2 ;;
  esac
}

# Fills SRUN_OPTS and VLMT_SETS (the overrides every stage gets: backend, run directory, data root,
# extras) from the allocation and the environment, and exports the thread and NCCL settings.
# Returns 2 (after saying why) when a GPU allocation does not have one rank per GPU, or when
# VLMT_GPU_BIND is invalid.
vlmt_step_options() {
  SRUN_OPTS=(--kill-on-bad-exit=1)
  VLMT_SETS=()
  [ -n "${NODES:-}" ] && SRUN_OPTS+=(--nodes="$NODES")
  [ -n "${RANKS_PER_NODE:-}" ] && SRUN_OPTS+=(--ntasks-per-node="$RANKS_PER_NODE")
  [ -n "${NODES:-}" ] && [ -n "${RANKS_PER_NODE:-}" ] \
    && SRUN_OPTS+=(--ntasks=$((NODES * RANKS_PER_NODE)))
  [ -n "${SRUN_MPI:-}" ] && SRUN_OPTS+=(--mpi="$SRUN_MPI")
  if [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then
    SRUN_OPTS+=(--cpus-per-task="$SLURM_CPUS_PER_TASK")
    export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK
  else
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  fi
  local gpus ranks gpu_opts
  gpus=$(vlmt_gpus_per_node)
  if [ "$gpus" -gt 0 ]; then
    ranks=${RANKS_PER_NODE:-${SLURM_NTASKS_PER_NODE:-$gpus}}
    if [ "$ranks" != "$gpus" ]; then
      echo "vlmt: one rank per GPU, but this job has $ranks ranks and $gpus GPUs per node:" \
        "submit with slurm/submit.sh (GPUS_PER_NODE=$gpus), or with both" \
        "--ntasks-per-node=$gpus and --gpus-per-node=$gpus" >&2
      return 2
    fi
    gpu_opts=$(vlmt_gpu_step_options "$gpus") || return 2
    mapfile -t -O "${#SRUN_OPTS[@]}" SRUN_OPTS <<<"$gpu_opts"
    export NCCL_DEBUG="${NCCL_DEBUG:-WARN}"
    # A rank that dies does not leave the others blocked in a collective: vlmt's own NCCL
    # watchdog aborts the communicator after VLMT_NCCL_TIMEOUT_S (docs/DISTRIBUTED.md). NCCL
    # itself reads no NCCL_ASYNC_ERROR_HANDLING (that is PyTorch's ProcessGroupNCCL's variable).
    VLMT_SETS+=(--set dist.backend=nccl)
  else
    VLMT_SETS+=(--set dist.backend=mpi)
  fi
  [ -n "${RUN_DIR:-}" ] && VLMT_SETS+=(--set "train.run_dir=$RUN_DIR")
  [ -n "${DATA_ROOT:-}" ] && VLMT_SETS+=(--set "data.root=$DATA_ROOT")
  local kv
  for kv in ${EXTRA_SETS:-}; do VLMT_SETS+=(--set "$kv"); done
  return 0
}

# vlmt_slurm_seconds TIME: squeue's [days-][hours:]minutes:seconds as seconds; nothing for
# UNLIMITED, NOT_SET, INVALID or anything else that is not a time.
vlmt_slurm_seconds() {
  local t=$1 days=0 h=0 m=0 s=0 parts
  [[ $t =~ ^([0-9]+-)?([0-9]+:)?[0-9]+:[0-9]+$ ]] || return 0
  if [[ $t == *-* ]]; then days=${t%%-*}; t=${t#*-}; fi
  IFS=: read -r -a parts <<<"$t"
  if [ "${#parts[@]}" -eq 3 ]; then h=${parts[0]}; m=${parts[1]}; s=${parts[2]}
  else m=${parts[0]}; s=${parts[1]}; fi
  echo $(( ((10#$days * 24 + 10#$h) * 60 + 10#$m) * 60 + 10#$s ))
}

# vlmt_signal_margin LIMIT_SECONDS: how long before the time limit the step is told to
# checkpoint: VLMT_SIGNAL_MARGIN if set, else 5 % of the limit, at least 60 s (a checkpoint of the
# base model and its optimiser state to a parallel file system) and at most 900 s, but never more
# than half the limit, so that a short job trains before it checkpoints.
vlmt_signal_margin() {
  local limit=$1 margin
  if [ -n "${VLMT_SIGNAL_MARGIN:-}" ]; then echo "$VLMT_SIGNAL_MARGIN"; return 0; fi
  margin=$((limit / 20))
  [ "$margin" -lt 60 ] && margin=60
  [ "$margin" -gt 900 ] && margin=900
  [ "$margin" -gt $((limit / 2)) ] && margin=$((limit / 2))
  echo "$margin"
}

# vlmt_time_guard PID (run in the background): USR1 to PID the margin before the job's time limit.
# It asks squeue for the time left at most every 5 minutes, so `scontrol update TimeLimit=...`
# is followed; without a limit (or outside a job) it returns at once.
vlmt_time_guard() {
  local pid=$1 limit left margin wait
  [ -n "${SLURM_JOB_ID:-}" ] || return 0
  limit=$(vlmt_slurm_seconds "$(squeue -h -j "$SLURM_JOB_ID" -o %l 2>/dev/null)")
  [ -n "$limit" ] || return 0
  margin=$(vlmt_signal_margin "$limit")
  echo "vlmt: time limit $limit s: the step checkpoints $margin s before it"
  while :; do
    left=$(vlmt_slurm_seconds "$(squeue -h -j "$SLURM_JOB_ID" -o %L 2>/dev/null)")
    if [ -z "$left" ]; then sleep 60; continue; fi  # slurmctld busy: ask again
    if [ "$left" -le "$margin" ]; then
      echo "vlmt: $left s left of the time limit: USR1 to the step"
      kill -s USR1 "$pid"
      return 0
    fi
    wait=$((left - margin))
    [ "$wait" -gt 300 ] && wait=300
    sleep "$wait"
  done
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
  vlmt_step_options || return 2
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
  local rc again guard_pid
  vlmt_time_guard $$ &
  guard_pid=$!
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
  pkill -P "$guard_pid" 2>/dev/null; kill "$guard_pid" 2>/dev/null
  trap - USR1 TERM
  vlmt_step_pid=""
  echo "vlmt: $(date -Is) step $exe exited with $rc"
  if [ "$rc" -eq 75 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
    echo "vlmt: checkpoint written; requeueing job $SLURM_JOB_ID to resume"
    scontrol requeue "$SLURM_JOB_ID" || echo "vlmt: scontrol requeue failed; resubmit by hand" >&2
  fi
  return "$rc"
}
