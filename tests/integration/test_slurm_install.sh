#!/usr/bin/env bash
# An installed vlmt used from another directory, on a real local Slurm:
#  1. `cmake --install` puts the executables in PREFIX/bin and configs, Slurm scripts, jobs,
#     docs and env.sh in PREFIX/share/vlmt;
#  2. after sourcing env.sh, in a directory that is not the repository, the README's commands
#     resolve on PATH (mt_train, finetune, evaluate, pretrain) and the documented relative config
#     paths (configs/at.toml) load from the installed configs: `srun -n 2 mt_train configs/at.toml`
#     and `srun finetune --task nlvr2` with --check-config;
#  3. `sbatch PREFIX/share/vlmt/slurm/pretrain_cc.sh --check-config` runs the installed Slurm
#     script from that directory and ends COMPLETED.
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

mkdir -p "$WORK/elsewhere/logs"
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

job=$(sbatch --parsable "$PREFIX/share/vlmt/slurm/pretrain_cc.sh" --check-config 2>"$WORK/sbatch.err")
if [ -z "$job" ]; then bad "sbatch: $(cat "$WORK/sbatch.err")"; finish; fi
state=$(wait_job_end "$job" 120)
if [ "$state" = COMPLETED ] && grep -q "pretrain_cc.toml: valid" logs/*"$job".out; then
  ok "sbatch of the installed slurm/pretrain_cc.sh from another directory: $state"
else bad "installed pretrain_cc.sh: $state; $(tail -8 logs/*"$job".out 2>/dev/null)"; fi
finish
