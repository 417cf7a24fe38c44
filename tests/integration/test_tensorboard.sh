#!/usr/bin/env bash
# TensorBoard event files (train.tensorboard) at 2 MPI ranks, read back by an independent reader
# (tb_reader.py: crcmod's CRC-32C, Google's protobuf parser, the tag rules written again) and
# checked against metrics.jsonl: framing CRCs, every (tag, step) once, values and wall times.
#  1. mt_train (DSG, 3 tasks) stopped at iteration 7 (exit 75); its newest checkpoint removed, as
#     if it had crashed after 7 with the checkpoint of 4; resumed to a planned stop at 10, then to
#     the end: the steps 5-7 of the first run are cut, none is missing or twice;
#  2. pretrain: the loss terms and validation metrics of pretraining;
#  3. train.tensorboard = false writes no event file;
#  4. the reader catches a flipped byte.
set -euo pipefail
source "$(dirname "$0")/lib/checks.bash"
python_or_skip google.protobuf crcmod.predefined
export OMP_NUM_THREADS=1
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
MPI="mpirun -n 2 --oversubscribe --bind-to none"
READER=(timeout 300 "$PY" "$(dirname "$0")/tb_reader.py")

"$BIN/synth_world" --out "$T/data" --scale 0.001 --seed 3 >/dev/null
cat > "$T/run.toml" <<TOML
extends = "$SRC/configs/synthetic/common.toml"  # tiny model, synthetic data
[data]
root = "$T/data"
[tasks]
active = ["vqa", "refcoco+", "nlvr2"]
[tasks.vqa]
batch_size = 64
[tasks."refcoco+"]
batch_size = 16
[tasks.nlvr2]
batch_size = 8
$CPU_DIST
[train]
init_from = ""
seed = 5
iterations = 16
log_every = 2
checkpoint_every = 4
val_max_batches = 1
dsg_gap = 2
dsg_reset_after_epochs = [1]
num_threads = 1
TOML
RUN=$T/run
# Batches per epoch: vqa 8, refcoco+ 6, nlvr2 10 (a multi-task epoch). Validations (and DSG
# decisions) at 7, 9, 11, 13; the DSG reset after epoch 1 at iteration 10.

# 1. stop, crash-like resume, stop, resume
run_part() {  # NAME EXPECTED_EXIT ARGS...
  local name=$1 want=$2; shift 2
  set +e; $MPI "$BIN/mt_train" "$T/run.toml" --run-dir "$RUN" "$@" > "$T/$name.log" 2>&1; local rc=$?; set -e
  [ "$rc" = "$want" ] && ok "$name exits $want" || { tail -20 "$T/$name.log"; bad "$name exit code $rc"; }
}
run_part part1 75 --set train.stop_after_iteration=7
mv "$RUN/latest_prev.h5" "$RUN/latest.h5"  # the checkpoint of iteration 4
run_part part2 75 --set train.stop_after_iteration=10
grep -q "resumed from .* at iteration 4 " "$T/part2.log" && ok "part 2 resumed at iteration 4" || bad "part 2 did not resume at 4"
grep -q "TensorBoard: .*events.out.tfevents.*removed .* bytes of steps after 4" "$T/part2.log" \
  && ok "part 2 cut the first run's steps after 4" || { grep TensorBoard "$T/part2.log"; bad "no cut at resume"; }
run_part part3 0
ls "$RUN"/events.out.tfevents.* > "$T/files.txt"
[ "$(wc -l < "$T/files.txt")" -ge 2 ] && ok "a resumed run writes a file of its own" || { cat "$T/files.txt"; bad "event files"; }
if "${READER[@]}" "$RUN" --log-every 2 --last-step 16 --require train/vqa_loss train/vqa_score \
     val/vqa_loss val/vqa_score train/refcocoplus_loss val/refcocoplus_score train/nlvr2_loss train/lr \
     train/samples_per_s time/forward time/backward time/data dsg/vqa_go val/vqa_early_stop dsg/vqa_best \
     dsg/reset_epoch > "$T/read.txt" 2>&1; then
  ok "reader: $(tail -1 "$T/read.txt")"
else
  cat "$T/read.txt"; bad "event files of the resumed run do not match metrics.jsonl"
fi

# 2. pretraining
cat > "$T/pre.toml" <<TOML
extends = "$SRC/configs/synthetic/pretrain.toml"
[data]
root = "$T/data"
$CPU_DIST
[train]
seed = 5
run_dir = "$T/pre"
iterations = 6
batch_size = 16
log_every = 3
val_max_batches = 1
num_threads = 1
TOML
if $MPI "$BIN/pretrain" "$T/pre.toml" > "$T/pre.log" 2>&1; then ok "pretrain ran"; else tail -20 "$T/pre.log"; bad "pretrain"; fi
if "${READER[@]}" "$T/pre" --log-every 3 --last-step 6 --require train/pretrain_loss \
     train/pretrain_masked_loss_t train/pretrain_masked_loss_v train/pretrain_next_sentence_loss \
     val/pretrain_score val/pretrain_masked_word_accuracy val/pretrain_masked_region_kl \
     val/pretrain_masked_loss_t val/pretrain_next_sentence_loss > "$T/read_pre.txt" 2>&1; then
  ok "reader (pretrain): $(tail -1 "$T/read_pre.txt")"
else
  cat "$T/read_pre.txt"; bad "pretraining event files"
fi

# 3. switched off
if $MPI "$BIN/mt_train" "$T/run.toml" --run-dir "$T/off" --set train.iterations=2 --set train.tensorboard=false \
     > "$T/off.log" 2>&1 && [ -s "$T/off/metrics.jsonl" ]; then
  ls "$T/off"/events.out.tfevents.* >/dev/null 2>&1 && bad "train.tensorboard = false wrote an event file" \
    || ok "train.tensorboard = false: metrics.jsonl, no event file"
else
  tail -20 "$T/off.log"; bad "run with train.tensorboard = false"
fi

# 4. the reader is not blind
mkdir "$T/corrupt"
cp "$RUN/metrics.jsonl" "$T/corrupt/"
for f in $(cat "$T/files.txt"); do cp "$f" "$T/corrupt/"; done
victim=$(ls "$T/corrupt"/events.out.tfevents.* | head -1)
"$PY" - "$victim" <<'PY'
import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x01; open(p, "wb").write(b)
PY
if "${READER[@]}" "$T/corrupt" > "$T/read_corrupt.txt" 2>&1; then
  bad "the reader passed a file with a flipped byte"
else
  grep -q "CRC mismatch" "$T/read_corrupt.txt" && ok "the reader reports the flipped byte" \
    || { cat "$T/read_corrupt.txt"; bad "flipped byte not reported as a CRC mismatch"; }
fi

finish tensorboard
