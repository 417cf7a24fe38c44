# Sourced by the jobs (run_local.sh, paper_tables.sh, pretrain_benefit.sh; not a job itself:
# sourcing only defines, and prints the rank x thread layout):
# runs one stage of vlmt as one multi-rank launch without sbatch, on the CPU (MPI backend;
# evaluate --device cpu), and starts it again when it
# checkpointed and exited 75 (e.g. at train.max_hours, or SIGTERM), so it resumes from its run
# directory. Environment:
#   LAUNCHER     mpirun (default) | srun (inside an salloc/sbatch allocation, or on a node of a
#                cluster: every stage becomes one `srun --kill-on-bad-exit=1` step)
#   RANKS        ranks per stage              VLMT_BIN     executables (build/bin)
#   OMP_NUM_THREADS  threads per rank         VLMT_LAYOUT  where to read them from (build/layout.env)
#   MAX_RESUMES  restarts after exit 75 (3)   LOG_DIR      per-stage logs (logs)
#   DRY_RUN=1    print the commands only
# RANKS and OMP_NUM_THREADS, when not set, come from the layout tools/dev/bench_layout.sh measured on
# this machine (VLMT_LAYOUT), else 2 ranks x 1 thread (jobs/lib_layout.sh); sourcing prints which.
source slurm/lib_step.sh  # VLMT_ALL_TASKS (callers run from the repository root)
source jobs/lib_layout.sh

VLMT_BIN=${VLMT_BIN:-build/bin}
MAX_RESUMES=${MAX_RESUMES:-3}
LAUNCHER=${LAUNCHER:-mpirun}
LOG_DIR=${LOG_DIR:-logs}
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
vlmt_layout  # RANKS, OMP_NUM_THREADS (exported)

# vlmt_stage NAME EXE ARGS...: one launch per attempt, output appended to $LOG_DIR/local-NAME.out.
# Returns 0, or the stage's exit code after printing the end of its log.
vlmt_stage() {
  local name=$1 exe=$2; shift 2
  local launch
  case $LAUNCHER in
    mpirun) launch=(mpirun -n "$RANKS" --oversubscribe --bind-to none) ;;
    srun) launch=(srun -n "$RANKS" --kill-on-bad-exit=1)
      # Without it srun may pin each rank to one core (task/affinity), whatever its threads.
      [[ $OMP_NUM_THREADS =~ ^[0-9]+$ ]] && [ "$OMP_NUM_THREADS" -gt 1 ] \
        && launch+=(--cpus-per-task="$OMP_NUM_THREADS") ;;
    *) echo "LAUNCHER must be mpirun or srun, not '$LAUNCHER'" >&2; return 2 ;;
  esac
  # Every stage on the CPU path: dist.backend picks the trainers' device, but evaluate picks its
  # own from --device (default auto: on a GPU node its ranks would take the node's GPUs, and
  # more ranks than GPUs stop with an error).
  local cmd=("${launch[@]}" "$VLMT_BIN/$exe" "$@" --set dist.backend=mpi)
  [ "$exe" = evaluate ] && cmd+=(--device cpu)
  local log="$LOG_DIR/local-$name.out" attempt rc
  mkdir -p "$LOG_DIR"
  for ((attempt = 0; attempt <= MAX_RESUMES; attempt++)); do
    echo "[$name] ${cmd[*]}  (log $log)"
    [ -n "${DRY_RUN:-}" ] && return 0
    rc=0
    "${cmd[@]}" >>"$log" 2>&1 || rc=$?
    [ "$rc" -eq 75 ] && { echo "[$name] checkpointed (75); resuming"; continue; }
    if [ "$rc" -ne 0 ]; then
      echo "[$name] failed with exit code $rc; last lines of $log:" >&2
      tail -n 20 "$log" >&2
      return "$rc"
    fi
    return 0
  done
  echo "[$name] still unfinished after $MAX_RESUMES resumes" >&2
  return 75
}

# vlmt_ensure_world DIR [SCALE] [SEED]: the synthetic world in DIR (synth_world + clean_split),
# written only when DIR has no annotations yet.
vlmt_ensure_world() {
  local dir=$1 scale=${2:-0.001} seed=${3:-1}
  [ -d "$dir/annotations" ] || [ -n "${DRY_RUN:-}" ] && return 0
  echo "no synthetic world in $dir; writing it (scale $scale, seed $seed)"
  "$VLMT_BIN/synth_world" --out "$dir" --scale "$scale" --seed "$seed"
  "$VLMT_BIN/clean_split" --root "$dir"
}

# vlmt_train NAME ITERATIONS EXE ARGS...: one run in $ROOT/NAME on $DATA_ROOT, skipped when it
# finished before with the same number of iterations (a different number is an error: use another
# ROOT).
vlmt_train() {
  local name=$1 iterations=$2 exe=$3; shift 3
  local dir=$ROOT/$name
  if [ -f "$dir/DONE" ]; then
    if [ "$(cat "$dir/DONE")" != "iterations=$iterations" ]; then
      echo "$dir finished with $(cat "$dir/DONE"), not iterations=$iterations;" \
        "set ROOT to another directory" >&2
      exit 2
    fi
    echo "[$name] done before, skipped"
    return 0
  fi
  vlmt_stage "$name" "$exe" "$@" --data-root "$DATA_ROOT" --run-dir "$dir" \
    --set "train.iterations=$iterations" || exit $?
  [ -n "${DRY_RUN:-}" ] || echo "iterations=$iterations" >"$dir/DONE"
}
