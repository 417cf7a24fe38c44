#!/usr/bin/env bash
# Every executable against garbage on its command line, with the options read from its own
# --help (so an option added later is covered without editing this test):
#  1. --help and --version: exit 0; the version names vlmt, the commit and the libraries; every
#     option line of --help is read (--help and --version among them), so that a help format the
#     pattern below misses fails here instead of leaving the checks 3-4 without options;
#  2. an unknown option, and an option without its value: exit 2 naming the option;
#  3. every integer / number option given "abc" and "1e999" and every option with a
#     fixed set of values given "garbage": exit 2 naming the option;
#  4. every text option given a garbage value: never a crash (no signal, no "terminate called"
#     or "internal error"); the run ends with a documented exit code (0-4).
# The commands are every one the build makes (vlmt_command_batch --list: src/apps and tools/dev).
# Check 1 starts each executable. Checks 2-4, hundreds of command lines, run through
# vlmt_command_batch (tests/command_batch/command_batch.cpp), which forks a process per command
# line from one that has loaded LibTorch once and calls the function the executable's generated
# main calls: an executable spends about 0.5 s of CPU loading LibTorch before main, a fork
# milliseconds. That both run the same code is checked too: each command's --help through the
# batch equals the executable's, byte for byte.
# Runs in an empty directory without data, so nothing can start training.
set -uo pipefail
source "$(dirname "$0")/lib/checks.bash"
export OMP_NUM_THREADS=1
unset VLMT_DATA_ROOT
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"

mapfile -t EXES < <("$BIN/vlmt_command_batch" --list)
[ "${#EXES[@]}" -ge 18 ] && ok "${#EXES[@]} commands: ${EXES[*]}" || bad "vlmt_command_batch --list: '${EXES[*]}'"

# run NAME ARGS...: runs the executable, leaves its status in $rc and its output in out.txt/err.txt.
run() {
  local exe=$1; shift
  timeout 120 "$BIN/$exe" "$@" </dev/null >out.txt 2>err.txt  # stdin: not the option list read below
  rc=$?
}
# expect_exit2 WHAT OPTION: the last run ended with exit 2 and a message naming OPTION.
expect_exit2() {
  if [ "$rc" -eq 2 ] && grep -q -- "$2" err.txt; then ok "$1"
  else bad "$1: exit $rc, stderr: $(head -c 300 err.txt)"; fi
}
# queue EXE WHAT CHECK ARGS...: a command line for vlmt_command_batch (fields ended by NUL, the
# request by one more), checked after the batch by CHECK: "exit2 OPTION", no_crash or help.
queue() {
  local exe=$1 what=$2 check=$3; shift 3
  printf '%s\0' "$exe" "$@" >> requests; printf '\0' >> requests
  printf '%s\t%s\t%s\n' "$exe" "$what" "$check" >> checks.txt
}
no_crash() {
  if [ "$rc" -le 4 ] && ! grep -q -e "terminate called" -e "internal error" err.txt; then ok "$1 (exit $rc)"
  else bad "$1: exit $rc, stderr: $(head -c 300 err.txt)"; fi
}

for exe in "${EXES[@]}"; do
  run "$exe" --help
  if [ "$rc" -eq 0 ] && grep -q "Usage" out.txt && grep -q -- "--version" out.txt; then ok "$exe --help"
  else bad "$exe --help: exit $rc: $(head -c 300 out.txt err.txt)"; fi
  cp out.txt "$exe.help"
  run "$exe" --version
  if [ "$rc" -eq 0 ] && grep -q "^$exe (vlmt .*, git .*)" out.txt && grep -q "LibTorch .*MPI.*HDF5" out.txt; then
    ok "$exe --version"
  else bad "$exe --version: exit $rc: $(head -c 300 out.txt err.txt)"; fi

  queue "$exe" "$exe: unknown option" "exit2 --no-such-option" --no-such-option 1
  # a positional first: tools that need one must still name --set
  queue "$exe" "$exe: --set without a value" "exit2 --set" some.toml --set

  # "  --name TYPE   help": TYPE is INT, NUMBER, TEXT, a|b|c choices or absent (a flag).
  sed -n 's/^ *\(-h,\)\?--\([a-z0-9-]*\) \([^ ]*\).*/\2 \3/p' "$exe.help" > options.txt
  if grep -qE '^help ?$' options.txt && grep -qE '^version ?$' options.txt \
     && [ "$(wc -l < options.txt)" -eq "$(grep -c '^[[:space:]]*-' "$exe.help")" ]; then
    ok "$exe: all $(wc -l < options.txt) options read from --help"
  else bad "$exe: options read from --help: '$(tr '\n' ',' < options.txt)' of $(grep -c '^[[:space:]]*-' "$exe.help") option lines"; fi
  queue "$exe" "$exe --help through vlmt_command_batch equals the executable's" help --help
  while read -r name type; do
    case $type in
      INT | NUMBER)
        for value in abc 1e999; do  # not a number; out of range (inf)
          queue "$exe" "$exe --$name '$value'" "exit2 --$name" "--$name" "$value"
        done ;;
      *"|"*)
        queue "$exe" "$exe --$name garbage" "exit2 --$name" "--$name" garbage ;;
      TEXT | SECTION.KEY=VALUE)
        queue "$exe" "$exe --$name garbage" no_crash "--$name" $'%garbage\x01;\\' ;;
    esac
  done < options.txt
done

# Checks 2-4 and the --help comparison: one batch, then each request's exit status and output.
mkdir batch
"$BIN/vlmt_command_batch" requests batch || bad "vlmt_command_batch requests batch: exit $?"
k=0
while IFS=$'\t' read -r exe what check; do
  rc=$(cat "batch/$k.rc" 2>/dev/null || echo missing)
  cp "batch/$k.out" out.txt 2>/dev/null; cp "batch/$k.err" err.txt 2>/dev/null
  case $check in
    help) if [ "$rc" = 0 ] && cmp -s out.txt "$exe.help"; then ok "$what"
          else bad "$what: exit $rc, $(diff "$exe.help" out.txt | head -c 300)"; fi ;;
    exit2*) expect_exit2 "$what" "${check#exit2 }" ;;
    no_crash) no_crash "$what" ;;
  esac
  k=$((k + 1))
done < checks.txt
[ "$k" -gt 0 ] && [ -e "batch/$((k - 1)).rc" ] && ok "$k command lines through vlmt_command_batch" \
  || bad "vlmt_command_batch ran $k command lines"
finish
