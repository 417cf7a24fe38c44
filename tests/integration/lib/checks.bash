# Sourced by the integration tests (CTest runs only the *.sh files directly under
# tests/integration): the build's executables, MPI as root, PASS/FAIL bookkeeping.
#   source "$(dirname "$0")/lib/checks.bash"; ...; ok "what held" / bad "what did not"; finish [NAME]
SRC=${VLMT_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BIN=${VLMT_BIN:-$SRC/build/bin}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
passed=0 failed=0

ok() { echo "PASS: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }
# The summary line; the test's exit status is 0 only when checks ran and none failed.
finish() {
  [ $((passed + failed)) -gt 0 ] || bad "no check ran"
  echo "${1:-$(basename "$0" .sh)}: $passed passed, $failed failed ($SECONDS s)"
  [ "$failed" -eq 0 ]; exit $?
}
# skip WHY: the test cannot run here. Exit 77, which CTest reports as skipped, never as passed
# (tests/CMakeLists.txt: SKIP_RETURN_CODE 77); no other exit of a test may be 77.
skip() { echo "SKIPPED: $1"; exit 77; }
# python_has MODULE...: PY=/usr/bin/python3 (Debian's python3-torch, python3-lmdb, ... are
# installed for it) and status 0 when it imports every module, else status 1 — except under
# CI=true, where tools/install_deps.sh has installed them and their absence fails the test.
python_has() {
  PY=/usr/bin/python3
  $PY -c "import $(IFS=,; echo "$*")" 2>/dev/null && return 0
  if [ "${CI:-}" = true ]; then bad "python3 lacks one of: $* (tools/install_deps.sh installs them)"; finish; fi
  return 1
}
# python_or_skip MODULE...: python_has, or the whole test is skipped (exit 77) when a module is missing.
python_or_skip() {
  python_has "$@" || skip "python3 lacks one of: $* (tools/install_deps.sh installs them)"
}
# CPU_DIST: the [dist] table of every run file a test writes. These tests mean the CPU path; on a
# CUDA build dist.backend = "auto" would take the GPU (NCCL), and 2 ranks on a 1-GPU node fail.
# evaluate's counterpart is --device cpu.
CPU_DIST='[dist]
backend = "mpi"'
# four_task_run DATA_ROOT: the [data], [tasks] and [train] tables of the trainer tests' small
# synthetic run (vqa, refcoco, nlvr2, retrieval_coco; batches 16, 16, 8, 8; seed 5, deterministic,
# every iteration logged, 1 thread; CPU_DIST). Print [model] before it; more [train] keys may follow it.
four_task_run() {
  cat <<TOML
[data]
root = "$1"
[tasks]
active = ["vqa", "refcoco", "nlvr2", "retrieval_coco"]
[tasks.vqa]
batch_size = 16
[tasks.refcoco]
batch_size = 16
[tasks.nlvr2]
batch_size = 8
[tasks.retrieval_coco]
batch_size = 8
$CPU_DIST
[train]
seed = 5
deterministic = true
log_every = 1
checkpoint_every = 1000
num_threads = 1
TOML
}
