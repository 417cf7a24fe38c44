#!/usr/bin/env bash
# Converts feature LMDBs in the released ViLBERT formats (12-in-1 numpy arrays with cls_prob,
# older base64 buffers, a ground-truth-box LMDB), generated at test time by
# make_lmdb_fixture.py, with tools/convert/features_from_lmdb.py and compares the stores with
# the arrays written (exactly); checks --float16, --ids-file, and that --part I/N + --merge
# equals a single run; then that broken LMDBs (truncated value or file, bad base64, num_boxes
# mismatch, a key of `keys` without a value, a pickle that would run a command, ...) and
# broken part sets exit 3 naming the file and the key or part, leaving no .h5 behind, and that
# the malicious pickle was not executed. Needs Debian's python3-numpy, python3-h5py,
# python3-lmdb. Exit status: number of failures (capped).
source "$(dirname "$0")/lib/converter_checks.bash"
converter_checks_init "lmdb features" numpy h5py lmdb
FIXGEN=$SRC/tests/integration/make_lmdb_fixture.py
CHECK=$FIXGEN  # run_ok's checks: make_lmdb_fixture.py check|same ...

lmdb2h5() { $PY "$CONV/features_from_lmdb.py" "$@"; }
F=$TMP/fix
if ! $PY "$FIXGEN" make "$F" >"$TMP/log" 2>&1; then
  fail "make_lmdb_fixture.py make"; echo "lmdb features: $passed passed, $failed failed"; exit 1
fi

# ---- good LMDBs ----------------------------------------------------------------------------
run_ok "12-in-1 form (numpy arrays, cls_prob, flat features)" \
  check "$TMP/coco.h5" "$F/coco_arrays.npz" --fingerprint rx152/16/043a718774c572bd -- \
  lmdb2h5 --out "$TMP/coco.h5" --detector rx152 --settings s "$F/coco_arrays.lmdb"
run_ok "12-in-1 form --float16" check "$TMP/coco16.h5" "$F/coco_arrays.npz" --float16 -- \
  lmdb2h5 --out "$TMP/coco16.h5" --float16 "$F/coco_arrays.lmdb"
run_ok "older base64 form (str and bytes, no cls_prob)" check "$TMP/flickr.h5" "$F/flickr_base64.npz" -- \
  lmdb2h5 --out "$TMP/flickr.h5" "$F/flickr_base64.lmdb"
run_ok "ground-truth-box LMDB → <source>_gt.h5" check "$TMP/refcoco_gt.h5" "$F/refcoco_gt_resnext152.npz" -- \
  lmdb2h5 --out "$TMP/refcoco_gt.h5" "$F/refcoco_gt_resnext152.lmdb"
run_ok "--ids-file converts only the listed ids, in keys order" \
  check "$TMP/ids.h5" "$F/coco_arrays.npz" --only 9,522418,184613 -- \
  lmdb2h5 --out "$TMP/ids.h5" --ids-file <(printf '9\n184613\n522418\n') "$F/coco_arrays.lmdb"
run_ok "several LMDBs → one store, in the order given" -- \
  bash -c "$PY '$CONV/features_from_lmdb.py' --out '$TMP/two.h5' '$F/flickr_base64.lmdb' '$F/refcoco_gt_resnext152.lmdb' &&
           $PY -c 'import h5py, sys; a, b, c = (list(h5py.File(p)[\"ids\"].asstr()[:]) for p in sys.argv[1:]); assert c == a + b, (a, b, c)' \
             '$TMP/flickr.h5' '$TMP/refcoco_gt.h5' '$TMP/two.h5'"
run_ok "--strip-prefix: v7w_<id> keys → ids" -- \
  bash -c "$PY '$CONV/features_from_lmdb.py' --out '$TMP/v7w.h5' --strip-prefix 10000 '$F/flickr_base64.lmdb' &&
           $PY -c 'import h5py, sys; ids = list(h5py.File(sys.argv[1])[\"ids\"].asstr()[:]); assert ids == [\"92795\", \"92806\", \"92817\"], ids' '$TMP/v7w.h5'"
run_ok "progress on stderr (done/total, MB/s, ETA)" -- \
  bash -c "$PY '$CONV/features_from_lmdb.py' --out '$TMP/p.h5' --progress-seconds 0 '$F/coco_arrays.lmdb' 2>'$TMP/progress' &&
           grep -q '^p.h5: 3/6 images, .* MB/s, .*ETA [0-9]* s\$' '$TMP/progress'"

# Slurm array style: 4 tasks, the 0-based task id / task count, then the merge.
parts_ok=1
for task in 0 1 2 3; do
  SLURM_ARRAY_TASK_ID=$task SLURM_ARRAY_TASK_COUNT=4 bash -c \
    "$PY '$CONV/features_from_lmdb.py' --out '$TMP/parts/coco.h5' --float16 --detector rx152 \
       --settings s --part \$SLURM_ARRAY_TASK_ID/\$SLURM_ARRAY_TASK_COUNT '$F/coco_arrays.lmdb'" \
    >"$TMP/log" 2>&1 || parts_ok=0
done
if [[ $parts_ok -eq 1 && -f $TMP/parts/coco.part3-of-4.h5 ]]; then ok "--part I/N writes OUT.partI-of-N.h5"
else fail "--part I/N writes OUT.partI-of-N.h5"; fi
lmdb2h5 --out "$TMP/single16.h5" --float16 --detector rx152 --settings s "$F/coco_arrays.lmdb" >/dev/null 2>&1
run_ok "--merge of the parts == single run (ids, offsets, arrays, attributes)" \
  same "$TMP/merged.h5" "$TMP/single16.h5" -- \
  lmdb2h5 --merge --out "$TMP/merged.h5" "$TMP"/parts/coco.part*-of-4.h5
run_ok "merged store holds the arrays written, no part attributes" \
  check "$TMP/merged.h5" "$F/coco_arrays.npz" --float16 --fingerprint rx152/16/043a718774c572bd -- true
run_ok "features_merge.py, parts given out of order" same "$TMP/merged2.h5" "$TMP/single16.h5" -- \
  $PY "$CONV/features_merge.py" --out "$TMP/merged2.h5" "$TMP"/parts/coco.part{3,1,0,2}-of-4.h5
run_ok "--part with --ids-file + merge == --ids-file single run" same "$TMP/ids_merged.h5" "$TMP/ids.h5" -- \
  bash -c "for i in 0 1; do $PY '$CONV/features_from_lmdb.py' --out '$TMP/idparts/x.h5' --part \$i/2 \
             --ids-file <(printf '9\n184613\n522418\n') '$F/coco_arrays.lmdb' || exit 1; done &&
           $PY '$CONV/features_merge.py' --out '$TMP/ids_merged.h5' '$TMP'/idparts/x.part*.h5"

# ---- broken LMDBs (the broken record is key 2) ---------------------------------------------
E=$TMP/err/x.h5
run_err "truncated value" "bad_truncated.lmdb" "key 2" "truncated" -- lmdb2h5 --out "$E" "$F/bad_truncated.lmdb"
run_err "bad base64" "bad_base64.lmdb" "key 2" "base64" -- lmdb2h5 --out "$E" "$F/bad_base64.lmdb"
run_err "num_boxes mismatch (arrays)" "bad_num_boxes.lmdb" "key 2" "num_boxes 5" -- \
  lmdb2h5 --out "$E" "$F/bad_num_boxes.lmdb"
run_err "num_boxes mismatch (base64)" "bad_num_boxes_base64.lmdb" "key 2" "num_boxes 3" -- \
  lmdb2h5 --out "$E" "$F/bad_num_boxes_base64.lmdb"
run_err "key in keys but absent" "bad_missing_key.lmdb" "key 2" "absent" -- \
  lmdb2h5 --out "$E" "$F/bad_missing_key.lmdb"
rm -f "$F/pwned"
run_err "malicious pickle refused" "bad_evil.lmdb" "key 2" "refusing to unpickle" "system" -- \
  lmdb2h5 --out "$E" "$F/bad_evil.lmdb"
if [[ -e $F/pwned ]]; then failed=$((failed + 1)); echo "FAIL the malicious pickle was executed"
else ok "the malicious pickle was not executed"; fi
run_err "feature dimension differs from the first image's" "bad_dim.lmdb" "key 2" "dimension 17" -- \
  lmdb2h5 --out "$E" "$F/bad_dim.lmdb"
run_err "NaN features" "bad_nan.lmdb" "key 2" "NaN" -- lmdb2h5 --out "$E" "$F/bad_nan.lmdb"
run_err "missing field" "bad_no_field.lmdb" "key 2" "missing field 'image_w'" -- \
  lmdb2h5 --out "$E" "$F/bad_no_field.lmdb"
run_err "record under another key" "bad_id.lmdb" "key 2" "image_id 22" -- lmdb2h5 --out "$E" "$F/bad_id.lmdb"
run_err "duplicate id in keys" "bad_duplicate.lmdb" "key 2" "duplicate" -- \
  lmdb2h5 --out "$E" "$F/bad_duplicate.lmdb"
run_err "an id in two LMDBs" "refcoco_gt_resnext152.lmdb" "key 581857" "duplicate image id 581857 (also in" -- \
  lmdb2h5 --out "$E" "$F/refcoco_gt_resnext152.lmdb" "$F/refcoco_gt_resnext152.lmdb"
run_err "--strip-prefix: a key without it" "coco_arrays.lmdb" "does not start with --strip-prefix 'v7w_'" -- \
  lmdb2h5 --out "$E" --strip-prefix v7w_ "$F/coco_arrays.lmdb"
run_err "no keys entry" "bad_no_keys.lmdb" "'keys'" -- lmdb2h5 --out "$E" "$F/bad_no_keys.lmdb"
mkdir -p "$TMP/trunc.lmdb"
head -c 12288 "$F/coco_arrays.lmdb/data.mdb" > "$TMP/trunc.lmdb/data.mdb"
run_err "truncated data.mdb (no SIGBUS)" "trunc.lmdb" "truncated LMDB" -- lmdb2h5 --out "$E" "$TMP/trunc.lmdb"
run_err "--ids-file id not in keys" "coco_arrays.lmdb" "image 777" "ids.txt" -- \
  bash -c "printf '9\n777\n' > '$TMP/ids.txt' && $PY '$CONV/features_from_lmdb.py' --out '$E' \
             --ids-file '$TMP/ids.txt' '$F/coco_arrays.lmdb'"

# ---- broken part sets ----------------------------------------------------------------------
run_err "merge: incomplete part set" "incomplete part set" "part 2" "coco.part2-of-4.h5" -- \
  lmdb2h5 --merge --out "$E" "$TMP"/parts/coco.part{0,1,3}-of-4.h5
run_err "merge: a part given twice" "coco.part1-of-4.h5" "given twice" -- \
  $PY "$CONV/features_merge.py" --out "$E" "$TMP"/parts/coco.part{0,1,1,2,3}-of-4.h5
lmdb2h5 --out "$TMP/other/coco.h5" --float16 --detector other --settings s --part 2/4 \
  "$F/coco_arrays.lmdb" >/dev/null 2>&1
run_err "merge: a part with another fingerprint" "other/coco.part2-of-4.h5" "fingerprint" -- \
  $PY "$CONV/features_merge.py" --out "$E" "$TMP"/parts/coco.part{0,1,3}-of-4.h5 "$TMP/other/coco.part2-of-4.h5"
lmdb2h5 --out "$TMP/fl/flickr.h5" --part 1/4 "$F/flickr_base64.lmdb" >/dev/null 2>&1
run_err "merge: a part of another LMDB" "fl/flickr.part1-of-4.h5" "id set" -- \
  $PY "$CONV/features_merge.py" --out "$E" "$TMP"/parts/coco.part{0,2,3}-of-4.h5 "$TMP/fl/flickr.part1-of-4.h5"
run_err "merge: not a part file" "single16.h5" "not a part file" -- \
  $PY "$CONV/features_merge.py" --out "$E" "$TMP/single16.h5"

converter_checks_finish
