#!/usr/bin/env bash
# An installed vlmt used from another directory, on a real local Slurm:
#  1. `cmake --install` puts the user commands (src/apps/, no developer tool) in PREFIX/bin and
#     configs, Slurm scripts, jobs, docs and env.sh in PREFIX/share/vlmt;
#  2. after sourcing env.sh, in a directory that is not the repository, the README's commands
#     resolve on PATH (mt_train, finetune, evaluate, pretrain) and the documented relative config
#     paths (configs/at.toml) load from the installed configs: `srun -n 2 mt_train configs/at.toml`
#     and `srun finetune --task nlvr2` with --check-config;
#  3. the installed Slurm scripts from that directory, which has no logs/ yet:
#     `slurm/submit.sh pretrain_cc --check-config` creates logs/, sources the VLMT_ENV hook, gives
#     srun the allocation's --cpus-per-task, derives the checkpoint margin from the 24 h default
#     --time and ends COMPLETED; a job with more GPUs than ranks per node fails with exit 2 and
#     says why; `GPUS_PER_NODE=8 NODES=2 submit.sh` shapes the allocation from the one number
#     (printed, not submitted: this node has no GPU); the time parsing and margin formula; the
#     srun options of a GPU step (--gpus-per-node=G --gpu-bind=none, or per-task binding with
#     VLMT_GPU_BIND=task; anything else exit 2) and of a CPU step (no GPU option).
source "$(dirname "$0")/lib/slurm_test.bash"
slurm_test_init install 23000
BUILD=$(dirname "$BIN")
PREFIX=$WORK/prefix

if cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.out" 2>&1; then ok "cmake --install"
else bad "cmake --install: $(tail -5 "$WORK/install.out")"; finish; fi
for f in bin/mt_train bin/pretrain bin/finetune bin/evaluate bin/ckpt_info share/vlmt/env.sh \
         share/vlmt/configs/at.toml share/vlmt/configs/model/base.toml share/vlmt/slurm/lib_step.sh \
         share/vlmt/docs/SLURM.md; do
  [ -e "$PREFIX/$f" ] && ok "installed $f" || bad "not installed: $f"
done
# PREFIX/bin holds the user commands, one per src/apps/*.cpp, and no developer tool (tools/dev/).
installed=$(cd "$PREFIX/bin" && ls | sort | tr '\n' ' ')
commands=$(cd "$SRC/src/apps" && ls -- *.cpp | sed 's/\.cpp$//' | sort | tr '\n' ' ')
[ "$installed" = "$commands" ] && ok "PREFIX/bin holds exactly the commands of src/apps/" \
  || bad "PREFIX/bin holds '$installed', src/apps/ makes '$commands'"

mkdir -p "$WORK/elsewhere"
cd "$WORK/elsewhere" || exit 1
# A clean PATH without the build directory: only env.sh can make the commands resolve.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset VLMT_CONFIG_DIR VLMT_HOME VLMT_BIN
source "$PREFIX/share/vlmt/env.sh"
for exe in pretrain mt_train finetune evaluate; do
  [ "$(command -v "$exe")" = "$PREFIX/bin/$exe" ] && ok "$exe resolves on PATH" \
    || bad "$exe resolves to '$(command -v "$exe")'"
done
slurm_test_up || finish

if srun -n 2 mt_train configs/at.toml --check-config >"$WORK/at.out" 2>&1 \
   && grep -q "using $PREFIX/share/vlmt/configs/at.toml" "$WORK/at.out"; then
  ok "srun -n 2 mt_train configs/at.toml reads the installed config"
else bad "srun mt_train configs/at.toml: $(tail -5 "$WORK/at.out")"; fi
if srun finetune --task nlvr2 --check-config >"$WORK/ft.out" 2>&1 \
   && grep -q "$PREFIX/share/vlmt/configs/finetune.toml" "$WORK/ft.out"; then
  ok "srun finetune --task nlvr2 finds its default config"
else bad "srun finetune --task nlvr2: $(tail -5 "$WORK/ft.out")"; fi
if srun evaluate --version >"$WORK/ev.out" 2>&1 && grep -q "^evaluate (vlmt" "$WORK/ev.out"; then
  ok "srun evaluate --version"
else bad "srun evaluate --version: $(tail -5 "$WORK/ev.out")"; fi

echo 'echo "hook: sourced on $(hostname -s)"' >"$WORK/hook.sh"
job=$(VLMT_ENV=$WORK/hook.sh "$VLMT_HOME/slurm/submit.sh" pretrain_cc --check-config 2>"$WORK/sbatch.err" \
      | grep -o 'Submitted batch job [0-9]*' | grep -o '[0-9]*$')
if [ -z "$job" ]; then bad "submit.sh: $(cat "$WORK/sbatch.err")"; finish; fi
state=$(wait_job_end "$job" 120)
log=$(ls logs/*"$job".out 2>/dev/null)
if [ "$state" = COMPLETED ] && grep -q "pretrain_cc.toml: valid" "$log"; then
  ok "slurm/submit.sh pretrain_cc from another directory: logs/ created, job $job $state"
else bad "installed pretrain_cc.sh via submit.sh: $state; $(tail -8 "$log" 2>/dev/null)"; fi
grep -q "^hook: sourced on" "$log" && ok "VLMT_ENV hook sourced in the job" || bad "no hook line in $log"
grep -q "srun --kill-on-bad-exit=1 --cpus-per-task=1 " "$log" \
  && ok "srun gets the allocation's --cpus-per-task" || bad "srun line: $(grep 'vlmt: srun' "$log")"
grep -q "time limit 86400 s: the step checkpoints 900 s before it" "$log" \
  && ok "24 h default --time, checkpoint margin 900 s" || bad "time guard line: $(grep 'time limit' "$log")"

job=$(GPUS_PER_NODE=4 sbatch --parsable "$VLMT_HOME/slurm/mt_train.sh" --check-config 2>"$WORK/sbatch.err")
state=$(wait_job_end "$job" 60)
if [ "$state" = FAILED ] && [ "$(job_field "$job" ExitCode)" = 2:0 ] \
   && grep -q "2 ranks and 4 GPUs per node" logs/*"$job".out; then
  ok "4 GPUs per node with 2 ranks per node: exit 2, says why"
else bad "GPU/rank mismatch: $state $(job_field "$job" ExitCode); $(tail -3 logs/*"$job".out 2>/dev/null)"; fi

shaped=$(SUBMIT_DRY_RUN=1 GPUS_PER_NODE=8 NODES=2 "$VLMT_HOME/slurm/submit.sh" mt_train 2>&1)
if grep -q -- "sbatch --nodes=2 --ntasks-per-node=8 --cpus-per-task=1 --gpus-per-node=8 " <<<"$shaped"; then
  ok "GPUS_PER_NODE=8 NODES=2: one rank per GPU"
else bad "submit.sh shape: $shaped"; fi
SUBMIT_DRY_RUN=1 GPUS_PER_NODE=x "$VLMT_HOME/slurm/submit.sh" mt_train >/dev/null 2>&1
[ $? -eq 2 ] && ok "submit.sh GPUS_PER_NODE=x: exit 2" || bad "submit.sh accepted GPUS_PER_NODE=x"

times=$(source "$VLMT_HOME/slurm/lib_step.sh"
        for t in 1:58 2:00:00 1-02:03:04 UNLIMITED; do echo -n "$(vlmt_slurm_seconds "$t")/"; done
        for l in 120 3600 86400; do echo -n "$(vlmt_signal_margin "$l")/"; done)
[ "$times" = "118/7200/93784//60/180/900/" ] && ok "squeue times and margins: $times" \
  || bad "squeue times and margins: $times"

step_options() {  # ENV-ASSIGNMENTS...: "exit status | srun options | overrides" of vlmt_step_options
  env -u SLURM_GPUS_ON_NODE -u SLURM_GPUS_PER_NODE -u SLURM_NTASKS_PER_NODE -u GPUS_PER_NODE \
    -u SLURM_CPUS_PER_TASK -u NODES \
    -u RANKS_PER_NODE -u VLMT_GPU_BIND -u EXTRA_SETS -u RUN_DIR -u DATA_ROOT -u SRUN_MPI "$@" \
    bash -c 'source "$VLMT_HOME/slurm/lib_step.sh"; vlmt_step_options 2>/dev/null
             echo "$? | ${SRUN_OPTS[*]} | ${VLMT_SETS[*]}"'
}
expect_options() {  # WHAT EXPECTED ENV-ASSIGNMENTS...
  local what=$1 want=$2 got; shift 2
  got=$(step_options "$@")
  [ "$got" = "$want" ] && ok "$what: $got" || bad "$what: got '$got', want '$want'"
}
expect_options "GPU step, default binding" \
  "0 | --kill-on-bad-exit=1 --ntasks-per-node=8 --gpus-per-node=8 --gpu-bind=none | --set dist.backend=nccl" \
  SLURM_GPUS_ON_NODE=8 SLURM_NTASKS_PER_NODE=8 RANKS_PER_NODE=8
expect_options "GPU step, VLMT_GPU_BIND=task" \
  "0 | --kill-on-bad-exit=1 --ntasks-per-node=4 --gpus-per-task=1 --gpu-bind=per_task:1 | --set dist.backend=nccl" \
  GPUS_PER_NODE=4 RANKS_PER_NODE=4 VLMT_GPU_BIND=task
expect_options "GPU step, VLMT_GPU_BIND=socket" "2 | --kill-on-bad-exit=1 --ntasks-per-node=4 | " \
  GPUS_PER_NODE=4 RANKS_PER_NODE=4 VLMT_GPU_BIND=socket
expect_options "CPU step (VLMT_GPU_BIND not read)" \
  "0 | --kill-on-bad-exit=1 --ntasks-per-node=2 --cpus-per-task=1 | --set dist.backend=mpi" \
  RANKS_PER_NODE=2 SLURM_CPUS_PER_TASK=1 VLMT_GPU_BIND=socket
finish
