#!/usr/bin/env bash
# Environment variables with garbage values (core/env.h): every executable ends with exit 2 and
# a message naming the variable and the value — on every rank under mpirun — never a crash, a
# half-parsed value ("10m" read as 10) or a value silently ignored. Runs without data: each
# variable is read before anything needs it (bench_step builds a model from synthetic batches).
set -uo pipefail
source "$(dirname "$0")/lib/checks.bash"
export OMP_NUM_THREADS=1
unset VLMT_DATA_ROOT VLMT_CONFIG_DIR VLMT_DROPOUT VLMT_ABORT_GRACE_S VLMT_CPU_BLOCK_CACHE_MB
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"

# expect_rejected VAR VALUE RANKS CMD...: the command, run with VAR=VALUE, exits 2 and its
# stderr names VAR and VALUE once per rank; no "terminate called" or "internal error".
expect_rejected() {
  local var=$1 value=$2 ranks=$3; shift 3
  env "$var=$value" timeout 120 "$@" >out.txt 2>err.txt
  local rc=$? named
  named=$(grep -cF -- "$var=\"$value\"" err.txt)
  if [ "$rc" -eq 2 ] && [ "$named" -ge "$ranks" ] && ! grep -q -e "terminate called" -e "internal error" err.txt; then
    ok "$var=\"$value\": exit 2, named on $named line(s)"
  else bad "$var=\"$value\" ($*): exit $rc, named $named time(s), stderr: $(head -c 400 err.txt)"; fi
}

STEP=("$BIN/bench_step" --steps 1 --batch 2 --threads 1)
MPI=(mpirun --oversubscribe -n 2)
for value in fsued FUSED 1; do
  expect_rejected VLMT_DROPOUT "$value" 1 "${STEP[@]}"
done
for value in abc 1.5 -1 10G; do
  expect_rejected VLMT_CPU_BLOCK_CACHE_MB "$value" 1 "$BIN/ckpt_info" --help
  expect_rejected VLMT_CPU_BLOCK_CACHE_MB "$value" 2 "${MPI[@]}" "${STEP[@]}"
done
for value in garbage 10m inf nan -5 " 3"; do
  expect_rejected VLMT_ABORT_GRACE_S "$value" 2 "${MPI[@]}" "${STEP[@]}"
done
expect_rejected VLMT_CONFIG_DIR "$T/no-such-dir" 1 "${STEP[@]}"

# A good value is taken as it is.
VLMT_DROPOUT=fused VLMT_ABORT_GRACE_S=2.5 VLMT_CPU_BLOCK_CACHE_MB=0 timeout 300 "${STEP[@]}" >out.txt 2>err.txt
rc=$?
if [ $rc -eq 0 ] && grep -q "dropout=fused" out.txt; then ok "valid values run (dropout=fused from VLMT_DROPOUT)"
else bad "valid values: exit $rc: $(tail -c 400 err.txt)"; fi
finish
