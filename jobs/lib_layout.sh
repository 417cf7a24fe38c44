# Sourced by jobs/lib_launch.sh and tools/quickstart.sh (sourcing only defines): the rank × thread
# layout of a launch on this machine. In order:
#   1. RANKS / OMP_NUM_THREADS set by the caller: always win, each on its own;
#   2. the layout tools/dev/bench_layout.sh measured here and wrote to VLMT_LAYOUT (default
#      build/layout.env, relative to the repository root, where the callers run);
#   3. 2 ranks x 1 thread, what the jobs used before the layout was measured.
# Inside a Slurm job (SLURM_JOB_ID) the file is not read: the allocation is the layout there
# (slurm/lib_step.sh), and the file may describe another machine (the login node).

# vlmt_layout_value NAME FILE: N of the last "NAME=N" line of FILE (N a positive integer), or
# nothing. The file is parsed, not sourced: it only ever holds these two numbers.
vlmt_layout_value() {
  sed -n "s/^$1=\([1-9][0-9]*\)[[:space:]]*\$/\1/p" "$2" 2>/dev/null | tail -n 1
  return 0  # an unreadable file reads as no value, also under set -e
}

vlmt_layout_from() { if [ "$1" = default ]; then echo default; else echo "from $1"; fi; }

# vlmt_layout: sets RANKS, exports OMP_NUM_THREADS, and prints one line saying which layout and
# where it came from.
vlmt_layout() {
  local file=${VLMT_LAYOUT:-build/layout.env} v readable=
  local from_ranks='the environment' from_threads='the environment'
  [ -f "$file" ] && [ -z "${SLURM_JOB_ID:-}" ] && readable=1
  if [ -z "${RANKS:-}" ]; then
    v=
    [ -n "$readable" ] && v=$(vlmt_layout_value RANKS "$file")
    if [ -n "$v" ]; then RANKS=$v from_ranks=$file; else RANKS=2 from_ranks=default; fi
  fi
  if [ -z "${OMP_NUM_THREADS:-}" ]; then
    v=
    [ -n "$readable" ] && v=$(vlmt_layout_value OMP_NUM_THREADS "$file")
    if [ -n "$v" ]; then OMP_NUM_THREADS=$v from_threads=$file
    else OMP_NUM_THREADS=1 from_threads=default; fi
  fi
  export OMP_NUM_THREADS
  local from
  from="ranks $(vlmt_layout_from "$from_ranks"), threads $(vlmt_layout_from "$from_threads")"
  [ "$from_ranks" = "$from_threads" ] && from=$(vlmt_layout_from "$from_ranks")
  if [ "$from_ranks" = default ] || [ "$from_threads" = default ]; then
    if [ -n "${SLURM_JOB_ID:-}" ]; then from+="; $file is not read inside Slurm job $SLURM_JOB_ID"
    elif [ ! -f "$file" ]; then from+="; no $file, tools/dev/bench_layout.sh measures one"; fi
  fi
  echo "layout: $RANKS ranks x $OMP_NUM_THREADS threads ($from)"
}
