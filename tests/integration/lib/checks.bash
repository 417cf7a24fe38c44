# Sourced by the integration tests (CTest runs only the *.sh files directly under
# tests/integration): the build's executables, MPI as root, PASS/FAIL bookkeeping.
#   source "$(dirname "$0")/lib/checks.bash"; ...; ok "what held" / bad "what did not"; finish [NAME]
SRC=${VLMT_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BIN=${VLMT_BIN:-$SRC/build/bin}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
passed=0 failed=0

ok() { echo "PASS: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }
# The summary line; the test's exit status is 0 only when no check failed.
finish() {
  echo "${1:-$(basename "$0" .sh)}: $passed passed, $failed failed ($SECONDS s)"
  [ "$failed" -eq 0 ]; exit $?
}
# python_or_skip MODULE...: PY=/usr/bin/python3 when it imports every module (Debian's
# python3-torch, python3-lmdb, ...); else the test is skipped (exit 0), except under CI=true,
# where tools/install_deps.sh has installed them and their absence is a failure.
python_or_skip() {
  PY=/usr/bin/python3
  $PY -c "import $(IFS=,; echo "$*")" 2>/dev/null && return 0
  if [ "${CI:-}" = true ]; then bad "python3 lacks one of: $* (tools/install_deps.sh installs them)"; finish; fi
  echo "skipped: python3 lacks one of: $*"; exit 0
}
