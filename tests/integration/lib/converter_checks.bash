# Sourced by the converter tests (test_converters.sh, test_lmdb_features.sh,
# test_released_data.sh; CTest runs only the *.sh files directly under tests/integration): a
# python3 with the modules they need, a temp directory, PASS/FAIL counts and the two checks
# they are made of.
#   converter_checks_init NAME MODULE...   e.g. converter_checks_init "lmdb features" numpy h5py lmdb
#   CHECK=/path/to/checker.py              run_ok runs `$PY $CHECK CHECK-ARGS...` after the command
#   run_ok NAME [CHECK-ARGS...] -- COMMAND...
#   run_err NAME PATTERN... -- COMMAND...
#   converter_checks_finish                the summary; exit status = failures (capped at 76)
set -uo pipefail
SRC=${VLMT_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
CONV=$SRC/tools/convert

converter_checks_init() {
  CHECKS_NAME=$1; shift
  PY=""
  for candidate in ${VLMT_PYTHON:-} python3 /usr/bin/python3; do
    if "$candidate" -c "import $(IFS=,; echo "$*")" 2>/dev/null; then PY=$candidate; break; fi
  done
  if [[ -z $PY ]]; then
    echo "$CHECKS_NAME: no python3 with $* found (tools/install_deps.sh)"; exit 1
  fi
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  passed=0
  failed=0
}

ok()   { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; grep -v '^ok ' "$TMP/log" 2>/dev/null | sed 's/^/    /' | tail -40; }

# run_ok NAME CHECK-ARGS... -- COMMAND...: the command succeeds, then `$PY $CHECK CHECK-ARGS...`
# passes (no check without CHECK-ARGS).
run_ok() {
  local name=$1; shift
  local check=()
  while [[ $1 != -- ]]; do check+=("$1"); shift; done
  shift
  if "$@" >"$TMP/log" 2>&1 && { [[ ${#check[@]} -eq 0 ]] || $PY "$CHECK" "${check[@]}" >>"$TMP/log" 2>&1; }
  then ok "$name"; else fail "$name"; fi
}

# run_err NAME PATTERN... -- COMMAND...: exit code 3, the output contains every pattern, and no
# output file (or temp file) is left behind in $TMP/err.
run_err() {
  local name=$1; shift
  local patterns=()
  while [[ $1 != -- ]]; do patterns+=("$1"); shift; done
  shift
  rm -rf "$TMP/err"; mkdir -p "$TMP/err"
  "$@" >"$TMP/log" 2>&1
  local rc=$?
  local good=1
  [[ $rc -eq 3 ]] || { echo "exit code $rc, expected 3" >>"$TMP/log"; good=0; }
  for p in "${patterns[@]}"; do
    grep -qF -- "$p" "$TMP/log" || { echo "message lacks '$p'" >>"$TMP/log"; good=0; }
  done
  if [[ -n $(find "$TMP/err" -type f \( -name '*.h5*' -o -name '*.jsonl*' \)) ]]; then
    echo "left files: $(find "$TMP/err" -type f)" >>"$TMP/log"; good=0
  fi
  if [[ $good -eq 1 ]]; then ok "$name"; else fail "$name"; fi
}

converter_checks_finish() {
  echo "$CHECKS_NAME: $passed passed, $failed failed"
  exit $((failed > 76 ? 76 : failed))  # 77 would read as a skip (tests/CMakeLists.txt)
}
