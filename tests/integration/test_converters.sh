#!/usr/bin/env bash
# Runs every dataset converter of tools/convert/ on its fixture (tests/data/fixtures/) and
# compares the output with the hand-written expected files; then checks that bad input
# (missing id, wrong feature dimension, truncated TSV/npz, malformed annotations) exits 3 with
# a message naming the file and the offending id. Exit status: number of failures (capped).
set -uo pipefail

SRC=${VLMT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CONV=$SRC/tools/convert
FIX=$SRC/tests/data/fixtures
CHECK=$SRC/tests/integration/converters_check.py

# The converters need numpy + h5py: Debian's python3-h5py is only in the system python.
PY=""
for candidate in ${VLMT_PYTHON:-} python3 /usr/bin/python3; do
  if "$candidate" -c 'import numpy, h5py' 2>/dev/null; then PY=$candidate; break; fi
done
if [[ -z $PY ]]; then echo "converters: no python3 with numpy and h5py found"; exit 1; fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

ok()   { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/    /' "$TMP/log" 2>/dev/null; }

# run_ok NAME CHECK-ARGS... -- COMMAND...: the command succeeds, then the check passes.
run_ok() {
  local name=$1; shift
  local check=()
  while [[ $1 != -- ]]; do check+=("$1"); shift; done
  shift
  if "$@" >"$TMP/log" 2>&1 && { [[ ${#check[@]} -eq 0 ]] || $PY "$CHECK" "${check[@]}" >>"$TMP/log" 2>&1; }
  then ok "$name"; else fail "$name"; fi
}

# run_err NAME PATTERN... -- COMMAND...: exit code 3, stderr contains every pattern, no output
# file (or temp file) is left behind in $TMP/err.
run_err() {
  local name=$1; shift
  local patterns=()
  while [[ $1 != -- ]]; do patterns+=("$1"); shift; done
  shift
  rm -rf "$TMP/err"; mkdir -p "$TMP/err"
  "$@" >"$TMP/log" 2>&1
  local rc=$?
  local good=1
  [[ $rc -eq 3 ]] || { echo "exit code $rc, expected 3" >>"$TMP/log"; good=0; }
  for p in "${patterns[@]}"; do
    grep -qF -- "$p" "$TMP/log" || { echo "message lacks '$p'" >>"$TMP/log"; good=0; }
  done
  if [[ -n $(find "$TMP/err" -type f -name '*.h5*') ]]; then
    echo "left files: $(find "$TMP/err" -type f)" >>"$TMP/log"; good=0
  fi
  if [[ $good -eq 1 ]]; then ok "$name"; else fail "$name"; fi
}

ann() { $PY "$CONV/annotations.py" "$@"; }
OUT=$TMP/root
A=$OUT/annotations

# ---- region features ---------------------------------------------------------------------
F=$FIX/features
run_ok "features tsv float32" h5 "$TMP/coco.h5" "$F/features.json" tsv float32 rx152 "10-100 boxes" -- \
  $PY "$CONV/features_from_tsv.py" --out "$TMP/coco.h5" --detector rx152 --settings "10-100 boxes" \
  --ids-file <(printf '522418\n391895\n') "$F/tsv.tsv"
run_ok "features tsv float16 + cls_prob" h5 "$TMP/cls.h5" "$F/features.json" tsv_with_cls_prob float16 unknown "" -- \
  $PY "$CONV/features_from_tsv.py" --out "$TMP/cls.h5" --float16 "$F/tsv_with_cls_prob.tsv"
run_ok "features npz (both key sets)" h5 "$TMP/npz.h5" "$F/features.json" npz float32 det s -- \
  $PY "$CONV/features_from_npz.py" --out "$TMP/npz.h5" --detector det --settings s "$F/npz"
run_ok "features tsv --fields (LXMERT column order)" h5 "$TMP/lx.h5" "$F/features.json" tsv float32 unknown "" -- \
  bash -c "awk -F'\t' -v OFS='\t' '{print \$1, \$3, \$2, \"obj\", \$4, \$5, \$6}' '$F/tsv.tsv' > '$TMP/lx.tsv' &&
           $PY '$CONV/features_from_tsv.py' --out '$TMP/lx.h5' \
             --fields img_id,img_h,img_w,objects_id,num_boxes,boxes,features '$TMP/lx.tsv'"

run_err "features: id missing from --ids-file" "tsv.tsv" "image 999" "ids.txt" -- \
  bash -c "printf '391895\n999\n' > '$TMP/ids.txt' &&
           $PY '$CONV/features_from_tsv.py' --out '$TMP/err/x.h5' --ids-file '$TMP/ids.txt' '$F/tsv.tsv'"
run_err "features: wrong dimension" "tsv_wrong_dim.tsv:2" "image 2" "dimension 4" -- \
  $PY "$CONV/features_from_tsv.py" --out "$TMP/err/x.h5" "$F/tsv_wrong_dim.tsv"
size=$(stat -c %s "$F/tsv.tsv")
head -c $((size - 9)) "$F/tsv.tsv" > "$TMP/trunc_base64.tsv"
head -c 200 "$F/tsv.tsv" > "$TMP/trunc_columns.tsv"
run_err "features: truncated TSV (inside base64)" "trunc_base64.tsv:3" "image 184613" -- \
  $PY "$CONV/features_from_tsv.py" --out "$TMP/err/x.h5" "$TMP/trunc_base64.tsv"
run_err "features: truncated TSV (missing columns)" "trunc_columns.tsv:3" "image 184613" -- \
  $PY "$CONV/features_from_tsv.py" --out "$TMP/err/x.h5" "$TMP/trunc_columns.tsv"
sed '2s/\t[^\t]*$/\t@@not-base64@@/' "$F/tsv.tsv" > "$TMP/bad_base64.tsv"
run_err "features: undecodable base64" "bad_base64.tsv:2" "image 522418" "base64" -- \
  $PY "$CONV/features_from_tsv.py" --out "$TMP/err/x.h5" "$TMP/bad_base64.tsv"
head -c 600 "$F/npz/1000092795.npz" > "$TMP/1000092795.npz"
run_err "features: truncated npz" "1000092795.npz" "image 1000092795" -- \
  $PY "$CONV/features_from_npz.py" --out "$TMP/err/x.h5" "$TMP/1000092795.npz"

# ---- annotations -------------------------------------------------------------------------
V=$FIX/vqa
run_ok "vqa train (normalisation, soft scores)" jsonl "$V/expected/train.jsonl" "$A/vqa/train.jsonl" -- \
  ann --dataset vqa --out "$OUT" --split train --min-answer-count 2 \
  --input "$V/v2_OpenEnded_mscoco_train2014_questions.json" "$V/v2_mscoco_train2014_annotations.json" \
  --vocab-from "$V/v2_mscoco_train2014_annotations.json" "$V/v2_mscoco_val2014_annotations.json"
run_ok "vqa answers.json (threshold 2 over train+val)" json "$V/expected/answers.json" "$A/vqa/answers.json" -- true
run_ok "vqa test-dev (no answers)" jsonl "$V/expected/test-dev.jsonl" "$A/vqa/test-dev.jsonl" -- \
  ann --dataset vqa --out "$OUT" --split test-dev --input "$V/v2_OpenEnded_mscoco_test-dev2015_questions.json"
run_ok "vqa val reuses answers.json" json "$V/expected/answers.json" "$A/vqa/answers.json" -- \
  ann --dataset vqa --out "$OUT" --split val \
  --input "$V/v2_OpenEnded_mscoco_val2014_questions.json" "$V/v2_mscoco_val2014_annotations.json"
run_ok "vqa trainval (two question/annotation pairs, minus minval images)" jsonl "$V/expected/trainval.jsonl" "$A/vqa/trainval.jsonl" -- \
  ann --dataset vqa --out "$OUT" --split trainval --exclude-image-ids "$V/minval_image_ids.txt" \
  --input "$V/v2_OpenEnded_mscoco_train2014_questions.json" "$V/v2_mscoco_train2014_annotations.json" \
          "$V/v2_OpenEnded_mscoco_val2014_questions.json" "$V/v2_mscoco_val2014_annotations.json"
run_ok "vqa minval (--image-ids)" jsonl "$V/expected/minval.jsonl" "$A/vqa/minval.jsonl" -- \
  ann --dataset vqa --out "$OUT" --split minval --image-ids <(head -1 "$V/minval_image_ids.txt") \
  --input "$V/v2_OpenEnded_mscoco_train2014_questions.json" "$V/v2_mscoco_train2014_annotations.json" \
          "$V/v2_OpenEnded_mscoco_val2014_questions.json" "$V/v2_mscoco_val2014_annotations.json"
run_ok "vgqa (VQA vocabulary, image filter)" jsonl "$FIX/vgqa/expected/train.jsonl" "$A/vgqa/train.jsonl" -- \
  ann --dataset vgqa --out "$OUT" --split train --input "$FIX/vgqa/question_answers.json" \
  --image-ids "$FIX/vgqa/image_ids_train.txt"
run_ok "vgqa answers.json = vqa's" json "$V/expected/answers.json" "$A/vgqa/answers.json" -- true
G=$FIX/gqa
run_ok "gqa train" jsonl "$G/expected/train.jsonl" "$A/gqa/train.jsonl" -- \
  ann --dataset gqa --out "$OUT" --split train --input "$G/train_balanced_questions.json" \
  --vocab-from "$G/train_balanced_questions.json" "$G/val_balanced_questions.json"
run_ok "gqa answers.json (all train+val answers)" json "$G/expected/answers.json" "$A/gqa/answers.json" -- true
run_ok "gqa test-dev (no answers)" jsonl "$G/expected/test-dev.jsonl" "$A/gqa/test-dev.jsonl" -- \
  ann --dataset gqa --out "$OUT" --split test-dev --input "$G/testdev_balanced_questions.json"
R=$FIX/retrieval_coco
run_ok "retrieval_coco train (train+restval, hard negatives)" jsonl "$R/expected/train.jsonl" "$A/retrieval_coco/train.jsonl" -- \
  ann --dataset retrieval_coco --out "$OUT" --split train --input "$R/dataset_coco.json" \
  --hard-negatives "$R/hard_negatives.json"
run_ok "retrieval_coco test" jsonl "$R/expected/test.jsonl" "$A/retrieval_coco/test.jsonl" -- \
  ann --dataset retrieval_coco --out "$OUT" --split test --input "$R/dataset_coco.json"
run_ok "retrieval_flickr30k val" jsonl "$FIX/retrieval_flickr30k/expected/val.jsonl" "$A/retrieval_flickr30k/val.jsonl" -- \
  ann --dataset retrieval_flickr30k --out "$OUT" --split val --input "$FIX/retrieval_flickr30k/dataset_flickr30k.json"
# The refs pickle is made from the JSON fixture here (the release is a Python 2 pickle, protocol 2).
$PY -c 'import json, pickle, sys; pickle.dump(json.load(open(sys.argv[1]))["refs"], open(sys.argv[2], "wb"), protocol=2)' \
  "$FIX/refcoco/refs.json" "$TMP/refs(unc).p"
for split in train testA; do
  run_ok "refcoco $split" jsonl "$FIX/refcoco/expected/$split.jsonl" "$A/refcoco/$split.jsonl" -- \
    ann --dataset refcoco --out "$OUT" --split $split --input "$TMP/refs(unc).p" "$FIX/refcoco/instances.json"
done
run_ok "refcoco+ uses its own directory" jsonl "$FIX/refcoco/expected/testA.jsonl" "$A/refcoco+/testA.jsonl" -- \
  ann --dataset refcoco+ --out "$OUT" --split testA --input "$TMP/refs(unc).p" "$FIX/refcoco/instances.json"
run_ok "visual7w val" jsonl "$FIX/visual7w/expected/val.jsonl" "$A/visual7w/val.jsonl" -- \
  ann --dataset visual7w --out "$OUT" --split val --input "$FIX/visual7w/dataset_v7w_pointing.json"
run_ok "guesswhat valid (successful games)" jsonl "$FIX/guesswhat/expected/valid.jsonl" "$A/guesswhat/valid.jsonl" -- \
  ann --dataset guesswhat --out "$OUT" --split valid --input "$FIX/guesswhat/guesswhat.valid.jsonl"
run_ok "nlvr2 dev" jsonl "$FIX/nlvr2/expected/dev.jsonl" "$A/nlvr2/dev.jsonl" -- \
  ann --dataset nlvr2 --out "$OUT" --split dev --input "$FIX/nlvr2/dev.json"
run_ok "nlvr2 --image-ids needs both images" jsonl "$FIX/nlvr2/expected/dev_pair1.jsonl" "$A/nlvr2/dev_pair1.jsonl" -- \
  ann --dataset nlvr2 --out "$OUT" --split dev_pair1 --input "$FIX/nlvr2/dev.json" \
  --image-ids <(cat "$FIX/nlvr2/image_ids_pair1.txt"; echo dev-850-0-img0)
run_ok "snli_ve dev" jsonl "$FIX/snli_ve/expected/dev.jsonl" "$A/snli_ve/dev.jsonl" -- \
  ann --dataset snli_ve --out "$OUT" --split dev --input "$FIX/snli_ve/snli_ve_dev.jsonl"

# ---- bad annotations ---------------------------------------------------------------------
E=$TMP/err_root
run_err "vqa: question without annotation" "question 458752001" -- \
  bash -c "$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); del d[\"annotations\"][1]; json.dump(d, open(sys.argv[2], \"w\"))' \
             '$V/v2_mscoco_train2014_annotations.json' '$TMP/ann_missing.json' &&
           $PY '$CONV/annotations.py' --dataset vqa --out '$E' --split train --vocab-from '$TMP/ann_missing.json' \
             --input '$V/v2_OpenEnded_mscoco_train2014_questions.json' '$TMP/ann_missing.json'"
run_err "vqa: no vocabulary" "answers.json" -- \
  ann --dataset vqa --out "$TMP/empty_root" --split val \
  --input "$V/v2_OpenEnded_mscoco_val2014_questions.json" "$V/v2_mscoco_val2014_annotations.json"
run_err "refcoco: ann_id not in instances" "ref 2" "ann_id 42" -- \
  bash -c "$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); d[\"annotations\"]=[a for a in d[\"annotations\"] if a[\"id\"]!=42]; json.dump(d, open(sys.argv[2], \"w\"))' \
             '$FIX/refcoco/instances.json' '$TMP/inst.json' &&
           $PY '$CONV/annotations.py' --dataset refcoco --out '$E' --split testA --input '$TMP/refs(unc).p' '$TMP/inst.json'"
sed 's/"label": "True"/"label": "maybe"/' "$FIX/nlvr2/dev.json" > "$TMP/nlvr2_bad.json"
run_err "nlvr2: bad label" "nlvr2_bad.json:2" "dev-850-1-3" "label" -- \
  ann --dataset nlvr2 --out "$E" --split dev --input "$TMP/nlvr2_bad.json"
sed '3s/"gold_label": "entailment", //' "$FIX/snli_ve/snli_ve_dev.jsonl" > "$TMP/snli_bad.jsonl"
run_err "snli_ve: missing gold_label" "snli_bad.jsonl:3" "1000092795.jpg#0r1e" "gold_label" -- \
  ann --dataset snli_ve --out "$E" --split dev --input "$TMP/snli_bad.jsonl"
sed '1s/"object_id": 302/"object_id": 999/' "$FIX/guesswhat/guesswhat.valid.jsonl" > "$TMP/gw_bad.jsonl"
run_err "guesswhat: target not among objects" "gw_bad.jsonl:1" "game 2418" "999" -- \
  ann --dataset guesswhat --out "$E" --split valid --input "$TMP/gw_bad.jsonl"
head -c 300 "$FIX/visual7w/dataset_v7w_pointing.json" > "$TMP/v7w_trunc.json"
run_err "visual7w: truncated JSON" "v7w_trunc.json" "malformed JSON" -- \
  ann --dataset visual7w --out "$E" --split val --input "$TMP/v7w_trunc.json"
left=$(find "$E" "$TMP/empty_root" -name '*.jsonl*' 2>/dev/null)
if [[ -n $left ]]; then
  failed=$((failed + 1)); echo "FAIL failed conversions left files: $left"
else ok "failed conversions leave no .jsonl behind"; fi

echo "converters: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
