#!/usr/bin/env bash
# The stage chains, end to end, with stand-ins for the four executables (the stages themselves are
# tested elsewhere; here what matters is which commands run, in which order, with which config):
#   1. jobs/run_local.sh synthetic runs pretrain → mt_train → finetune per task → evaluate under
#      mpirun, with the synthetic configs and per-task run directories;
#   2. a stage that fails stops run_local.sh with its exit code;
#   3. jobs/chain.sh synthetic on a real local Slurm cluster submits the same chain with afterok
#      dependencies and a finetune array; every job runs, in dependency order, on 2 ranks;
#   4. when mt_train fails there, the jobs after it never run and leave the queue.
set -uo pipefail
SRC=${VLMT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=$(mktemp -d /tmp/vlmt-chain-test.XXXXXX)
chmod 755 "$WORK"  # munged runs as user munge and must reach its socket directory inside
export VLMT_SLURM_DIR=$WORK/cluster
export VLMT_SLURM_CTLD_PORT=$((19000 + $$ % 1000 * 2)) VLMT_SLURM_D_PORT=$((19001 + $$ % 1000 * 2))
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
passed=0 failed=0
cluster_started=""

cleanup() {
  [ -n "$cluster_started" ] && { "$SRC/tools/slurm_local.sh" down >/dev/null 2>&1 || echo "warning: down failed"; }
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
ok() { echo "PASS: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }
finish() { echo "slurm: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# One stand-in, installed under the four executables' names: it records (from rank 0) its name,
# the rank count and its arguments, and fails when its name is listed in $STANDIN_FAIL.
mkdir -p "$WORK/bin"
cat >"$WORK/bin/standin" <<'EOF'
#!/usr/bin/env bash
name=$(basename "$0")
rank=${OMPI_COMM_WORLD_RANK:-${SLURM_PROCID:-0}}
size=${OMPI_COMM_WORLD_SIZE:-${SLURM_NTASKS:-1}}
[ "$rank" = 0 ] && echo "$name ranks=$size $*" >>"$STANDIN_RECORD"
case " ${STANDIN_FAIL:-} " in *" $name "*) echo "$name: failing on purpose" >&2; exit 3 ;; esac
exit 0
EOF
chmod +x "$WORK/bin/standin"
for exe in pretrain mt_train finetune evaluate; do ln -s standin "$WORK/bin/$exe"; done
export VLMT_BIN=$WORK/bin TASKS="nlvr2 refcoco+" LOG_DIR=$WORK/logs
# Job output into the work dir, not the source tree (%x-%j also names array tasks uniquely).
export SBATCH_EXTRA="--output=$WORK/logs/%x-%j.out"

expect_lines() {  # record file, then one extended regex per expected line, in order
  local file=$1; shift
  local n=0 line
  [ "$(wc -l <"$file")" -eq $# ] || return 1
  for pattern in "$@"; do
    n=$((n + 1)); line=$(sed -n "${n}p" "$file")
    grep -Eq -- "$pattern" <<<"$line" || { echo "line $n '$line' does not match '$pattern'"; return 1; }
  done
}

# --- 1. run_local.sh ----------------------------------------------------------------------------
export STANDIN_RECORD=$WORK/local.txt
if (cd "$SRC" && RANKS=2 jobs/run_local.sh synthetic >"$WORK/local.out" 2>&1) \
   && expect_lines "$STANDIN_RECORD" \
     '^pretrain ranks=2 configs/synthetic/pretrain.toml --set dist.backend=mpi$' \
     '^mt_train ranks=2 configs/synthetic/at.toml --set dist.backend=mpi$' \
     '^finetune ranks=2 --task nlvr2 configs/synthetic/finetune.toml --from checkpoints/synthetic/at/latest.h5 --set train.run_dir=checkpoints/synthetic/finetune/nlvr2 ' \
     '^finetune ranks=2 --task refcoco\+ .*train.run_dir=checkpoints/synthetic/finetune/refcoco\+ ' \
     '^evaluate ranks=2 --ckpt checkpoints/synthetic/at/latest.h5 --task all --split val '; then
  ok "jobs/run_local.sh: 5 stages in order on 2 mpirun ranks"
else
  bad "jobs/run_local.sh: $(cat "$WORK/local.out"; cat "$STANDIN_RECORD" 2>/dev/null)"
fi

# --- 2. a failing stage stops the local chain ------------------------------------------------------
export STANDIN_RECORD=$WORK/local_fail.txt
(cd "$SRC" && STANDIN_FAIL=mt_train jobs/run_local.sh synthetic >"$WORK/local_fail.out" 2>&1); rc=$?
if [ $rc -eq 3 ] && [ "$(tail -n 1 "$STANDIN_RECORD" | cut -d' ' -f1)" = mt_train ]; then
  ok "jobs/run_local.sh: stops at the failing stage with its exit code ($rc)"
else
  bad "jobs/run_local.sh with a failing mt_train: exit $rc; ran: $(cut -d' ' -f1 "$STANDIN_RECORD" | tr '\n' ' ')"
fi

# --- 3. chain.sh on a local Slurm cluster ----------------------------------------------------------
cluster_started=1
if ! "$SRC/tools/slurm_local.sh" up >"$WORK/up.out" 2>&1; then
  cat "$WORK/up.out"; bad "tools/slurm_local.sh up could not start the cluster"; finish
fi
export SLURM_CONF=$VLMT_SLURM_DIR/slurm.conf
export STANDIN_RECORD=$WORK/chain.txt
if ! (cd "$SRC" && jobs/chain.sh synthetic >"$WORK/chain.out" 2>&1); then
  bad "jobs/chain.sh failed to submit: $(cat "$WORK/chain.out")"; finish
fi
ids=$(awk '{print $2}' "$WORK/chain.out" | tr '\n' ' ')
wait_queue_empty() { for _ in $(seq 180); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && return; sleep 1; done; }
wait_queue_empty
# Dependencies serialise the stages; the two array tasks may run in either order.
sorted_middle=$(sed -n '3,4p' "$STANDIN_RECORD" 2>/dev/null | sort | cut -d' ' -f1-4 | tr '\n' '|')
if [ "$(wc -l <"$WORK/chain.out")" -eq 4 ] && [ -z "$(squeue -h -o %i)" ] \
   && [ "$(sed -n 1p "$STANDIN_RECORD" | cut -d' ' -f1-3)" = "pretrain ranks=2 configs/synthetic/pretrain.toml" ] \
   && [ "$(sed -n 2p "$STANDIN_RECORD" | cut -d' ' -f1-3)" = "mt_train ranks=2 configs/synthetic/at.toml" ] \
   && [ "$sorted_middle" = "finetune ranks=2 --task nlvr2|finetune ranks=2 --task refcoco+|" ] \
   && [ "$(sed -n 5p "$STANDIN_RECORD" | cut -d' ' -f1-5)" = "evaluate ranks=2 --ckpt checkpoints/synthetic/at/latest.h5 --task" ] \
   && [ "$(wc -l <"$STANDIN_RECORD")" -eq 5 ]; then
  ok "jobs/chain.sh: jobs $ids ran in afterok order, finetune as a 2-task array"
else
  bad "jobs/chain.sh: submitted $(tr '\n' ' ' <"$WORK/chain.out"); ran:
$(cat "$STANDIN_RECORD" 2>/dev/null); queue: $(squeue -h 2>&1)"
fi

# --- 4. a failed stage cancels the rest ----------------------------------------------------------
export STANDIN_RECORD=$WORK/chain_fail.txt
(cd "$SRC" && SKIP_PRETRAIN=1 STANDIN_FAIL=mt_train jobs/chain.sh synthetic >"$WORK/chain_fail.out" 2>&1)
wait_queue_empty
if [ "$(cut -d' ' -f1 "$STANDIN_RECORD" 2>/dev/null | tr '\n' ' ')" = "mt_train " ] \
   && [ "$(wc -l <"$WORK/chain_fail.out")" -eq 3 ] && [ -z "$(squeue -h -o %i)" ]; then
  ok "jobs/chain.sh: failed mt_train cancels finetune and evaluate (--kill-on-invalid-dep)"
else
  bad "jobs/chain.sh with failing mt_train: submitted $(tr '\n' ' ' <"$WORK/chain_fail.out"); ran:
$(cat "$STANDIN_RECORD" 2>/dev/null); queue: $(squeue -h 2>&1)"
fi

finish
