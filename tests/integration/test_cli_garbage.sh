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
# Runs in an empty directory without data, so nothing can start training.
set -uo pipefail
source "$(dirname "$0")/lib/checks.bash"
export OMP_NUM_THREADS=1
unset VLMT_DATA_ROOT
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"

EXES=(pretrain mt_train finetune evaluate infer bench_step bench_allreduce bench_retrieval ckpt_info clean_split
      forward_dump import_bert mt_vgc report synth_world tables verify_data)

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
no_crash() {
  if [ "$rc" -le 4 ] && ! grep -q -e "terminate called" -e "internal error" err.txt; then ok "$1 (exit $rc)"
  else bad "$1: exit $rc, stderr: $(head -c 300 err.txt)"; fi
}

for exe in "${EXES[@]}"; do
  run "$exe" --help
  if [ "$rc" -eq 0 ] && grep -q "Usage" out.txt && grep -q -- "--version" out.txt; then ok "$exe --help"
  else bad "$exe --help: exit $rc: $(head -c 300 out.txt err.txt)"; fi
  cp out.txt help.txt
  run "$exe" --version
  if [ "$rc" -eq 0 ] && grep -q "^$exe (vlmt .*, git .*)" out.txt && grep -q "LibTorch .*MPI.*HDF5" out.txt; then
    ok "$exe --version"
  else bad "$exe --version: exit $rc: $(head -c 300 out.txt err.txt)"; fi

  run "$exe" --no-such-option 1
  expect_exit2 "$exe: unknown option" "--no-such-option"
  run "$exe" some.toml --set  # a positional first: tools that need one must still name --set
  expect_exit2 "$exe: --set without a value" "--set"

  # "  --name TYPE   help": TYPE is INT, NUMBER, TEXT, a|b|c choices or absent (a flag).
  sed -n 's/^ *\(-h,\)\?--\([a-z0-9-]*\) \([^ ]*\).*/\2 \3/p' help.txt > options.txt
  if grep -qE '^help ?$' options.txt && grep -qE '^version ?$' options.txt \
     && [ "$(wc -l < options.txt)" -eq "$(grep -c '^[[:space:]]*-' help.txt)" ]; then
    ok "$exe: all $(wc -l < options.txt) options read from --help"
  else bad "$exe: options read from --help: '$(tr '\n' ',' < options.txt)' of $(grep -c '^[[:space:]]*-' help.txt) option lines"; fi
  while read -r name type; do
    case $type in
      INT | NUMBER)
        for value in abc 1e999; do  # not a number; out of range (inf)
          run "$exe" "--$name" "$value"
          expect_exit2 "$exe --$name '$value'" "--$name"
        done ;;
      *"|"*)
        run "$exe" "--$name" garbage
        expect_exit2 "$exe --$name garbage" "--$name" ;;
      TEXT | SECTION.KEY=VALUE)
        run "$exe" "--$name" $'%garbage\x01;\\'
        no_crash "$exe --$name garbage" ;;
    esac
  done < options.txt
done
finish
