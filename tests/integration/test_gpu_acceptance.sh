#!/usr/bin/env bash
# jobs/gpu_acceptance.sh, the cluster acceptance job, without a GPU:
#  1. --dry-run prints every line's commands in their GPU form (8 ranks, NCCL, the base preset,
#     the watchdog's stopped rank, the stop/resume runs, evaluate) and writes nothing; with
#     LAUNCHER=srun the steps see every GPU (--gpus-per-node, --gpu-bind=none), or one GPU per
#     rank with VLMT_GPU_BIND=task; another VLMT_GPU_BIND stops it with exit 2;
#  2. --cpu runs the lines that need no GPU on the CPU backend (tiny preset, MPI, 2 ranks): they
#     pass, binding and watchdog are SKIP, the table is printed and written, exit 0;
#  3. executables that fail make every line that ran FAIL, and the job exits 1.
source "$(dirname "$0")/lib/checks.bash"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
JOB=$SRC/jobs/gpu_acceptance.sh
LINES="binding step_fp32 step_bf16 allreduce scaling watchdog train_resume evaluate"

# 1. dry run
GPUS=8 OUT=$T/dry VLMT_BIN=$BIN LAUNCHER=mpirun bash "$JOB" --dry-run >"$T/dry.out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ ! -e "$T/dry" ] && ok "dry run: exit 0, nothing written" || bad "dry run exit $rc, or it wrote $T/dry"
[ "$(grep -c '^== ' "$T/dry.out")" -eq 8 ] && ok "dry run: 8 lines" || bad "dry run lines: $(grep '^== ' "$T/dry.out")"
expect() {  # PATTERN WHAT: the dry run shows a command matching PATTERN
  grep -Eq -- "$1" "$T/dry.out" && ok "dry run: $2" || bad "dry run lacks $2 ($1)"
}
expect '^  \$ mpirun -n 8 .*bench_allreduce --backend nccl --max-mb 64 .*&$' "binding probe on 8 ranks"
expect 'nvidia-smi --query-compute-apps=pid,gpu_bus_id' "bus ids per PID"
expect '^  \$ mpirun -n 1 .*bench_step --preset base --device cuda --batch 64 --steps 10$' "one-GPU fp32 step"
expect '^  \$ mpirun -n 1 .*bench_step --preset base --device cuda --batch 64 --steps 10 --bf16$' "one-GPU bf16 step"
expect '^  \$ mpirun -n 8 .*bench_allreduce --backend nccl --max-mb 256$' "NCCL all-reduce sweep"
expect '^  \$ mpirun -n 8 .*bench_step --preset base --device cuda --batch 512 --steps 10 --bf16$' "8-rank step, 64 per rank"
expect '^  \$ VLMT_NCCL_TIMEOUT_S=30 VLMT_ABORT_GRACE_S=5 mpirun -n 2 .*acc_wdog_probe --backend nccl' "watchdog run"
expect 'kill -STOP' "a stopped rank"
expect 'mt_train .*/train.toml --run-dir .*/train_resumed --set train.stop_after_iteration=8$' "planned stop"
expect 'mt_train .*/train.toml --run-dir .*/train_resumed$' "resume"
expect 'evaluate --ckpt .*/train_resumed/latest.h5 --device cuda' "evaluate"
GPUS=8 OUT=$T/dry VLMT_BIN=$BIN LAUNCHER=srun bash "$JOB" --dry-run >"$T/srun.out" 2>&1
grep -q '^  \$ srun --nodes=1 --ntasks=8 --kill-on-bad-exit=1 --cpus-per-task=[0-9]* --gpus-per-node=8 --gpu-bind=none .*bench_allreduce --backend nccl --max-mb 256$' "$T/srun.out" \
  && ok "srun steps see every GPU (--gpus-per-node=8 --gpu-bind=none)" || bad "srun form: $(grep allreduce "$T/srun.out")"
VLMT_GPU_BIND=task GPUS=8 OUT=$T/dry VLMT_BIN=$BIN LAUNCHER=srun bash "$JOB" --dry-run >"$T/srun_task.out" 2>&1
grep -q '^  \$ srun --nodes=1 --ntasks=8 --kill-on-bad-exit=1 --cpus-per-task=[0-9]* --gpus-per-task=1 --gpu-bind=per_task:1 .*bench_allreduce --backend nccl --max-mb 256$' "$T/srun_task.out" \
  && ok "VLMT_GPU_BIND=task: one GPU per rank" || bad "VLMT_GPU_BIND=task srun form: $(grep allreduce "$T/srun_task.out")"
VLMT_GPU_BIND=socket GPUS=8 OUT=$T/dry VLMT_BIN=$BIN LAUNCHER=srun bash "$JOB" --dry-run >"$T/srun_bad.out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "VLMT_GPU_BIND must be node or task, not 'socket'" "$T/srun_bad.out" \
  && ok "VLMT_GPU_BIND=socket: exit 2, says why" || bad "VLMT_GPU_BIND=socket: exit $rc, $(head -2 "$T/srun_bad.out")"

# 2. CPU rehearsal
OUT=$T/cpu VLMT_BIN=$BIN LAUNCHER=mpirun bash "$JOB" --cpu >"$T/cpu.out" 2>&1; rc=$?
table=$T/cpu/acceptance.txt
[ $rc -eq 0 ] && [ -f "$table" ] && ok "rehearsal: exit 0, table written" || { tail -30 "$T/cpu.out"; bad "rehearsal exit $rc"; }
for line in $LINES; do
  want=PASS; case $line in binding | watchdog) want=SKIP ;; esac
  grep -Eq "^$line +$want " "$table" 2>/dev/null && ok "rehearsal: $line $want" \
    || bad "rehearsal: $line not $want: $(grep "^$line " "$table" 2>/dev/null); log: $(tail -5 "$T/cpu/$line.log" 2>/dev/null)"
done
[ "$(grep -cE '^[a-z_0-9]+ +(PASS|FAIL|SKIP) ' "$table" 2>/dev/null)" -eq 8 ] && ok "rehearsal: 8 result lines" || bad "rehearsal table: $(cat "$table")"
grep -Eq '^train_resume +PASS +exits 0/75/0, resumed yes, [0-9]+ losses identical' "$table" 2>/dev/null \
  && ok "rehearsal: stop (75) and resume give identical losses" || bad "train line: $(grep '^train_resume' "$table")"
diff <(grep -E '^[a-z_0-9]+ +(PASS|FAIL|SKIP) ' "$T/cpu.out") <(grep -E '^[a-z_0-9]+ +(PASS|FAIL|SKIP) ' "$table") >/dev/null \
  && ok "rehearsal: the printed table is the written one" || bad "printed and written tables differ"

# 3. every executable fails: the lines that ran FAIL, exit 1
mkdir -p "$T/failing"
for exe in bench_step bench_allreduce synth_world clean_split mt_train evaluate; do
  printf '#!/bin/sh\necho "%s: made to fail" >&2\nexit 3\n' "$exe" >"$T/failing/$exe"; chmod +x "$T/failing/$exe"
done
OUT=$T/fail VLMT_BIN=$T/failing LAUNCHER=mpirun bash "$JOB" --cpu >"$T/fail.out" 2>&1; rc=$?
[ $rc -eq 1 ] && ok "failing executables: exit 1" || bad "failing executables: exit $rc"
[ "$(grep -cE '^[a-z_0-9]+ +FAIL ' "$T/fail/acceptance.txt" 2>/dev/null)" -eq 6 ] \
  && [ "$(grep -cE '^[a-z_0-9]+ +SKIP ' "$T/fail/acceptance.txt")" -eq 2 ] \
  && ok "failing executables: 6 FAIL, 2 SKIP" || bad "failing table: $(cat "$T/fail/acceptance.txt" 2>/dev/null)"

finish gpu_acceptance
