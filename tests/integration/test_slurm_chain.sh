#!/usr/bin/env bash
# The stage chains end to end:
#   1. jobs/run_local.sh synthetic runs pretrain → mt_train → finetune per task → evaluate
#      under mpirun with the synthetic configs and per-task run directories (stand-ins record the
#      commands: this is about which commands run, cheaply, without a cluster);
#   2. a stage that fails stops run_local.sh with its exit code (stand-ins);
#   3. on a real local Slurm cluster, `WAIT=1 jobs/chain.sh synthetic` runs the REAL executables:
#      pretrain → mt_train (group model G4) → finetune (array over nlvr2, snli_ve) → evaluate,
#      2 ranks each, a few iterations on a tiny synthetic world; every job completes, in afterok order,
#      every stage's checkpoint passes ckpt_info (whose summary names stage, iteration, ranks and
#      the DSG state per task), metrics.jsonl has its iterations, and evaluate's
#      results.jsonl holds a run_info and one score per task;
#   4. when mt_train fails there, the jobs after it never run and leave the queue (stand-ins: a
#      real stage does not fail on demand).
source "$(dirname "$0")/lib/slurm_test.bash"
slurm_test_init chain 19000

# One stand-in, installed under the four executables' names: it records (from rank 0) its name,
# the rank count and its arguments, and fails when its name is listed in $STANDIN_FAIL.
mkdir -p "$WORK/standin" "$WORK/logs"
cat >"$WORK/standin/standin" <<'SH'
#!/usr/bin/env bash
name=$(basename "$0")
rank=${OMPI_COMM_WORLD_RANK:-${SLURM_PROCID:-0}}
size=${OMPI_COMM_WORLD_SIZE:-${SLURM_NTASKS:-1}}
[ "$rank" = 0 ] && echo "$name ranks=$size $*" >>"$STANDIN_RECORD"
case " ${STANDIN_FAIL:-} " in *" $name "*) echo "$name: failing on purpose" >&2; exit 3 ;; esac
exit 0
SH
chmod +x "$WORK/standin/standin"
for exe in pretrain mt_train finetune evaluate; do ln -s standin "$WORK/standin/$exe"; done
export LOG_DIR=$WORK/logs
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

# --- 1. run_local.sh ------------------------------------------------------------------------------
export STANDIN_RECORD=$WORK/local.txt
if (cd "$SRC" && VLMT_BIN=$WORK/standin TASKS="nlvr2 refcoco+" RANKS=2 jobs/run_local.sh synthetic \
      >"$WORK/local.out" 2>&1) \
   && expect_lines "$STANDIN_RECORD" \
     '^pretrain ranks=2 configs/synthetic/pretrain.toml --set dist.backend=mpi$' \
     '^mt_train ranks=2 configs/synthetic/at.toml --set dist.backend=mpi$' \
     '^finetune ranks=2 --task nlvr2 configs/synthetic/finetune.toml --from checkpoints/synthetic/at/latest.h5 --set train.run_dir=checkpoints/synthetic/finetune/nlvr2 ' \
     '^finetune ranks=2 --task refcoco\+ .*train.run_dir=checkpoints/synthetic/finetune/refcoco\+ ' \
     '^evaluate ranks=2 --ckpt checkpoints/synthetic/at/latest.h5 --task all --split val .*--set dist.backend=mpi --device cpu$'; then
  ok "jobs/run_local.sh: 5 stages in order on 2 mpirun ranks, on the CPU (evaluate --device cpu)"
else
  bad "jobs/run_local.sh: $(cat "$WORK/local.out"; cat "$STANDIN_RECORD" 2>/dev/null)"
fi

# --- 2. a failing stage stops the local chain -----------------------------------------------------
export STANDIN_RECORD=$WORK/local_fail.txt
(cd "$SRC" && VLMT_BIN=$WORK/standin STANDIN_FAIL=mt_train jobs/run_local.sh synthetic \
   >"$WORK/local_fail.out" 2>&1); rc=$?
if [ $rc -eq 3 ] && [ "$(tail -n 1 "$STANDIN_RECORD" | cut -d' ' -f1)" = mt_train ]; then
  ok "jobs/run_local.sh: stops at the failing stage with its exit code ($rc)"
else
  bad "jobs/run_local.sh with a failing mt_train: exit $rc; ran: $(cut -d' ' -f1 "$STANDIN_RECORD" | tr '\n' ' ')"
fi

# --- 3. the real chain on a local Slurm cluster ---------------------------------------------------
slurm_test_up || finish
# A repository root of its own (the scripts resolve configs, data and run directories there, as
# on a cluster where jobs are submitted from the checkout): the scripts and configs of the source
# tree, a tiny synthetic world, and room for checkpoints.
ROOT=$WORK/root
mkdir -p "$ROOT/data"
for d in slurm jobs configs; do ln -s "$SRC/$d" "$ROOT/$d"; done
if ! make_tiny_world "$ROOT/data/synthetic"; then
  cat "$WORK/synth_world.out"; bad "synth_world"; finish
fi
ITERATIONS=2
start=$SECONDS
(cd "$ROOT" && VLMT_ROOT=$ROOT VLMT_BIN=$BIN WAIT=1 TASKS="nlvr2 snli_ve" \
   MT_CONFIG=configs/synthetic/gt_g4.toml MT_CKPT=checkpoints/synthetic/gt_g4/latest.h5 \
   EXTRA_SETS="train.iterations=$ITERATIONS train.log_every=1 train.val_max_batches=1
               train.num_threads=1" \
   jobs/chain.sh synthetic >"$WORK/chain.out" 2>&1); rc=$?
took=$((SECONDS - start))
if [ $rc -eq 0 ] && [ "$(wc -l <"$WORK/chain.out")" -eq 4 ]; then
  ok "WAIT=1 jobs/chain.sh synthetic (real executables): sbatch --wait returned 0 after ${took} s"
else
  bad "jobs/chain.sh: exit $rc after ${took} s: $(cat "$WORK/chain.out"); job logs:
$(tail -n 15 "$WORK"/logs/*.out)"
fi
# Every job (and array task) completed on 2 ranks, each starting after the one it depends on ended.
ids=$(awk '{print $2}' "$WORK/chain.out")
order_ok=1 prev_end="" summary=""
for id in $ids; do
  for task in $(scontrol show job -o "$id" 2>/dev/null | grep -o '^JobId=[0-9]*' | cut -d= -f2); do
    state=$(job_field "$task" JobState) ntasks=$(job_field "$task" NumTasks)
    summary+="$task:$state/$ntasks "
    [ "$state" = COMPLETED ] && [ "$ntasks" = 2 ] || order_ok=0
    [ -z "$prev_end" ] || [[ ! "$(job_field "$task" StartTime)" < "$prev_end" ]] || order_ok=0
  done
  prev_end=$(for task in $(scontrol show job -o "$id" | grep -o '^JobId=[0-9]*' | cut -d= -f2); do
               job_field "$task" EndTime; done | sort | tail -n 1)
done
if [ "$order_ok" = 1 ] && [ "$(wc -w <<<"$summary")" -eq 5 ]; then
  ok "chain jobs completed on 2 ranks in afterok order: $summary"
else
  bad "chain jobs: $summary (want 5 jobs COMPLETED/2, each starting after its dependency ended)"
fi
# Each stage's checkpoint loads and verifies; its metrics have the iterations.
CK=$ROOT/checkpoints/synthetic
for run in pretrain gt_g4 finetune/nlvr2 finetune/snli_ve; do
  if "$BIN/ckpt_info" --quiet "$CK/$run/latest.h5" >"$WORK/ckpt_info.out" 2>&1 \
     && grep -q "checkpoint, stage .*all checksums OK" "$WORK/ckpt_info.out" \
     && [ "$(last_iter "$CK/$run/metrics.jsonl")" -eq "$ITERATIONS" ]; then
    ok "$run: checkpoint verified by ckpt_info, metrics.jsonl up to iteration $ITERATIONS"
  else
    bad "$run: $(cat "$WORK/ckpt_info.out"); last iteration in metrics.jsonl: $(last_iter "$CK/$run/metrics.jsonl")"
  fi
done
# ckpt_info's summary of the group model: stage, progress, ranks and a schedule state per task.
"$BIN/ckpt_info" "$CK/gt_g4/latest.h5" >"$WORK/ckpt_summary.out" 2>&1
if grep -q "^  stage     mt_train, iteration $ITERATIONS of $ITERATIONS, trained on 2 rank(s), schedule dsg" \
     "$WORK/ckpt_summary.out" && grep -Eq "^  nlvr2 +(go|stop) " "$WORK/ckpt_summary.out" \
   && grep -Eq "^  snli_ve +(go|stop) " "$WORK/ckpt_summary.out" && grep -q "^  features  " "$WORK/ckpt_summary.out"; then
  ok "ckpt_info summarises the group model (stage, iteration, ranks, DSG state per task, features)"
else
  bad "ckpt_info summary: $(cat "$WORK/ckpt_summary.out")"
fi
results=$CK/gt_g4/eval_val/results.jsonl
if python3 - "$results" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
info = [r for r in recs if r.get("kind") == "run_info"]
scores = {r["task"]: r for r in recs if r.get("kind", "result") == "result"}
assert len(info) == 1 and info[0]["run"] == "gt_g4", info
assert sorted(scores) == ["nlvr2", "snli_ve"], sorted(scores)
for t, r in scores.items():
    assert r["split"] == "val" and r["metric"] == "accuracy" and r["n"] > 0, r
    assert 0.0 <= r["score"] <= 100.0, r
print(", ".join(f"{t} {r['score']:.2f} (n={r['n']})" for t, r in sorted(scores.items())))
PY
then
  ok "evaluate: results.jsonl has run_info and val accuracy for nlvr2 and snli_ve"
else
  bad "evaluate results $results: $(cat "$results" 2>&1)"
fi

# --- 4. a failed stage cancels the rest (stand-ins) -----------------------------------------------
export STANDIN_RECORD=$WORK/chain_fail.txt
(cd "$SRC" && VLMT_BIN=$WORK/standin TASKS="nlvr2 refcoco+" SKIP_PRETRAIN=1 STANDIN_FAIL=mt_train \
   WAIT=1 jobs/chain.sh synthetic >"$WORK/chain_fail.out" 2>&1); rc=$?
for _ in $(seq 60); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 1; done
if [ $rc -ne 0 ] && [ "$(cut -d' ' -f1 "$STANDIN_RECORD" 2>/dev/null | tr '\n' ' ')" = "mt_train " ] \
   && [ "$(grep -c '^[a-z_]* [0-9]*$' "$WORK/chain_fail.out")" -eq 3 ] && [ -z "$(squeue -h -o %i)" ]; then
  ok "jobs/chain.sh: failed mt_train cancels finetune and evaluate (--kill-on-invalid-dep); WAIT=1 exits $rc"
else
  bad "jobs/chain.sh with failing mt_train: exit $rc; submitted $(tr '\n' ' ' <"$WORK/chain_fail.out"); ran:
$(cat "$STANDIN_RECORD" 2>/dev/null); queue: $(squeue -h 2>&1)"
fi

finish
