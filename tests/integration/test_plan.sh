#!/usr/bin/env bash
# --plan trains nothing and writes nothing: on the tiny synthetic configs, with item estimates
# instead of data (a data root that does not exist), it prints the per-task table, the run's
# length and warm-up, memory per rank with its terms and the time per iteration; planning for
# more ranks changes the per-rank batches, as does train.gradient_accumulation (the micro-batch of
# ranks x k, named in the header); without data and without estimates it fails with
# exit 3 and names the option to use; --items with an unknown task is exit 2, and so is an unknown
# train.schedule (checked by the stage against the schedule registry, also under --check-config).
source "$(dirname "$0")/lib/checks.bash"
WORK=$(mktemp -d /tmp/vlmt-plan-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
CFG=$SRC/configs/synthetic/at.toml

"$BIN/mt_train" "$CFG" --plan --items-per-task 2000 --items vqa=4000 --ranks 2 --data-root "$WORK/none" \
  >"$WORK/plan.out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "^plan: mt_train, preset tiny, [0-9]* parameters, 2 rank(s) (this launch has 1)" "$WORK/plan.out"; then
  ok "--plan without data: exit 0, header"
else bad "--plan without data (exit $rc): $(tail -5 "$WORK/plan.out")"; fi
grep -Eq "^  vqa +4000 --items " "$WORK/plan.out" && ok "--items vqa=4000 used for vqa" \
  || bad "vqa row: $(grep '^  vqa ' "$WORK/plan.out")"
grep -Eq "^  nlvr2 +2000 --items-per-task " "$WORK/plan.out" && ok "--items-per-task for the others" \
  || bad "nlvr2 row: $(grep '^  nlvr2 ' "$WORK/plan.out")"
[ "$(grep -cE '^  (vqa|gqa|vgqa|retrieval_coco|retrieval_flickr30k|refcoco|refcoco\+|refcocog|visual7w|guesswhat|nlvr2|snli_ve) ' "$WORK/plan.out")" -eq 12 ] \
  && ok "12 task rows" || bad "task rows: $(grep -c '^  ' "$WORK/plan.out")"
for line in "^length: [0-9]* iterations" "warm-up [0-9]* iterations" \
            "^memory per rank: .* GB weights, gradients and AdamW moments (16 B x" "activations of the largest step" \
            "^time: [0-9.]* s per iteration"; do
  grep -q "$line" "$WORK/plan.out" && ok "prints /$line/" || bad "no /$line/ in: $(tail -4 "$WORK/plan.out")"
done
[ -z "$(ls -A "$WORK" | grep -v '^plan.out$')" ] && ok "--plan wrote nothing" \
  || bad "--plan left files: $(ls -A "$WORK")"

# Per-rank batch of vqa for 1 and 4 ranks: the global batch divided by the ranks.
b1=$("$BIN/mt_train" "$CFG" --plan --items-per-task 2000 --ranks 1 --data-root "$WORK/none" 2>/dev/null \
     | awk '$1 == "vqa" {print $5}')
b4=$("$BIN/mt_train" "$CFG" --plan --items-per-task 2000 --ranks 4 --data-root "$WORK/none" 2>/dev/null \
     | awk '$1 == "vqa" {print $5}')
[ -n "$b1" ] && [ -n "$b4" ] && [ "$b1" -eq $((b4 * 4)) ] && ok "--ranks 4 divides the per-rank batch ($b1 → $b4)" \
  || bad "per-rank batch for 1 and 4 ranks: '$b1' '$b4'"
# Gradient accumulation: 2 ranks x k = 2 plan the micro-batch of 4 ranks, and say so.
"$BIN/mt_train" "$CFG" --plan --items-per-task 2000 --ranks 2 --set train.gradient_accumulation=2 \
  --data-root "$WORK/none" >"$WORK/plan.out" 2>/dev/null
bk=$(awk '$1 == "vqa" {print $5}' "$WORK/plan.out")
[ -n "$bk" ] && [ "$bk" = "$b4" ] && grep -q "gradient accumulation 2 (micro-batch = batch / (ranks x 2))" "$WORK/plan.out" \
  && ok "--ranks 2 with gradient_accumulation 2: micro-batch $bk, as 4 ranks" \
  || bad "accumulation plan: micro '$bk' (4 ranks: '$b4'), $(head -1 "$WORK/plan.out")"

"$BIN/mt_train" "$CFG" --plan --data-root "$WORK/none" >"$WORK/nodata.out" 2>&1; rc=$?
[ $rc -eq 3 ] && grep -q -- "--items-per-task N" "$WORK/nodata.out" \
  && ok "no data, no estimates: exit 3, names --items-per-task" || bad "no data (exit $rc): $(tail -3 "$WORK/nodata.out")"
rm -f "$WORK/nodata.out"
"$BIN/mt_train" "$CFG" --plan --items nosuch=5 --data-root "$WORK/none" >"$WORK/bad.out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "nosuch" "$WORK/bad.out" && ok "--items nosuch=5: exit 2" || bad "--items nosuch=5 (exit $rc)"
"$BIN/mt_train" "$CFG" --items-per-task 5 --check-config >"$WORK/bad.out" 2>&1; rc=$?
[ $rc -eq 2 ] && ok "--items-per-task without --plan: exit 2" || bad "--items-per-task without --plan (exit $rc)"
"$BIN/mt_train" "$CFG" --check-config --set train.schedule=roundrobin >"$WORK/bad.out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q 'command line: train.schedule: "roundrobin" is not one of: dsg, vanilla, curriculum, anti_curriculum' "$WORK/bad.out" \
  && ok "unknown train.schedule: exit 2, names the key, the value and the policies" \
  || bad "unknown train.schedule (exit $rc): $(tail -3 "$WORK/bad.out")"
finish
