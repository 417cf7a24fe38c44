#!/usr/bin/env bash
# Runs every dataset converter of tools/convert/ on its fixture (tests/data/fixtures/) and
# compares the output with the hand-written expected files; then checks that bad input
# (missing id, wrong feature dimension, truncated TSV/npz, malformed annotations, a retrieval
# pool pickle that is malformed or carries a forbidden global) exits 3 with a message naming
# the file and the offending id. Exit status: number of failures (capped).
source "$(dirname "$0")/lib/converter_checks.bash"
# The converters need numpy + h5py: Debian's python3-h5py is only in the system python.
converter_checks_init converters numpy h5py
FIX=$SRC/tests/data/fixtures
CHECK=$SRC/tests/integration/converters_check.py

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
RF=$FIX/retrieval_flickr30k
# Released-format hard_negative.pkl files (script/generate_pool.py of vilbert-multi-task): a dict
# {train_image_list, train_hard_pool}, pool row i = indices into train_image_list of image i's
# nearest images, column 0 = image i itself. COCO: a list of ints and a float64 pool (pymp's
# default dtype), pickle protocol 2; Flickr30k: int64 arrays, protocol 5. 184613 and 424242
# are not training images of the fixture (kept in the pools, counted in the summary).
mkdir -p "$TMP/coco_pool" "$TMP/flickr_pool"
$PY - "$TMP" <<'PYEOF'
import os, pickle, sys
import numpy as np
tmp = sys.argv[1]
def dump(path, obj, protocol=3):
    with open(os.path.join(tmp, path), "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
coco_ids = [522418, 57870, 184613, 424242]
coco_pool = np.array([[0, 1, 3, 2], [1, 0, 2, 3], [2, 3, 0, 1], [3, 2, 1, 0]], dtype=np.float64)
dump("coco_pool/hard_negative.pkl", {"train_image_list": coco_ids, "train_hard_pool": coco_pool}, 2)
dump("flickr_pool/hard_negative.pkl",
     {"train_image_list": np.array([1000092795, 10002456], dtype=np.int64),
      "train_hard_pool": np.array([[0, 1], [1, 0]], dtype=np.int64)}, 5)
dump("pool_partial.pkl", {"train_image_list": [522418, 184613],
                          "train_hard_pool": np.array([[0, 1], [1, 0]])})
dump("pool_nokey.pkl", {"train_image_list": coco_ids})
dump("pool_rows.pkl", {"train_image_list": coco_ids, "train_hard_pool": coco_pool[:3]})
bad = coco_pool.astype(np.int64); bad[1, 2] = 4
dump("pool_range.pkl", {"train_image_list": coco_ids, "train_hard_pool": bad})
class Py2Pickler(pickle._Pickler):  # writes bytes as Python 2 str (the array data, the keys)
    dispatch = dict(pickle._Pickler.dispatch)
    def save_bytes(self, obj):
        assert len(obj) < 256
        self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        self.memoize(obj)
    dispatch[bytes] = save_bytes
with open(os.path.join(tmp, "pool_py2.pkl"), "wb") as f:
    Py2Pickler(f, protocol=2).dump({b"train_image_list": [57870, 522418, 184613],
        b"train_hard_pool": np.array([[0, 2, 1], [1, 0, 2], [2, 1, 0]], dtype=np.int64)})
class Evil:  # unpickling this would run the command
    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(tmp, "pwned"),))
dump("pool_evil.pkl", {"train_image_list": coco_ids, "train_hard_pool": Evil()})
PYEOF
run_ok "retrieval_coco train (train+restval)" jsonl "$R/expected/train.jsonl" "$A/retrieval_coco/train.jsonl" -- \
  bash -c "set -o pipefail; $PY '$CONV/annotations.py' --dataset retrieval_coco --out '$OUT' --split train \
             --input '$R/dataset_coco.json' --hard-pool '$TMP/coco_pool/hard_negative.pkl' 2>&1 | tee '$TMP/pool.log'"
run_ok "retrieval_coco --hard-pool → train_hard_pool.jsonl (column 0 dropped, ids)" \
  jsonl "$R/expected/train_hard_pool.jsonl" "$A/retrieval_coco/train_hard_pool.jsonl" -- \
  grep -qF "2 images with pools; 2 distinct pool images are not in split 'train'" "$TMP/pool.log"
run_ok "retrieval_flickr30k train --hard-pool (int64 arrays, protocol 5)" \
  jsonl "$RF/expected/train_hard_pool.jsonl" "$A/retrieval_flickr30k/train_hard_pool.jsonl" -- \
  ann --dataset retrieval_flickr30k --out "$OUT" --split train --input "$RF/dataset_flickr30k.json" \
  --hard-pool "$TMP/flickr_pool/hard_negative.pkl"
run_ok "retrieval_flickr30k train" jsonl "$RF/expected/train.jsonl" "$A/retrieval_flickr30k/train.jsonl" -- true
run_ok "retrieval --hard-pool: split images without a pool row are warned about" \
  jsonl <(head -1 "$R/expected/train_hard_pool.jsonl" | sed 's/"57870"/"522418"/; s/\[.*\]/["184613"]/') \
        "$TMP/partial/annotations/retrieval_coco/train_hard_pool.jsonl" -- \
  bash -c "$PY '$CONV/annotations.py' --dataset retrieval_coco --out '$TMP/partial' --split train \
             --input '$R/dataset_coco.json' --hard-pool '$TMP/pool_partial.pkl' &&
           grep -qF 'pool_partial.pkl: 1 of 2 images of split' '$TMP/log' && grep -qF '(first: 57870)' '$TMP/log'"
run_ok "retrieval --hard-pool: Python 2 pickle (latin-1 str data)" \
  jsonl <(printf '%s\n' '{"image_id": "57870", "pool": ["184613", "522418"]}' \
                        '{"image_id": "522418", "pool": ["57870", "184613"]}') \
        "$TMP/py2/annotations/retrieval_coco/train_hard_pool.jsonl" -- \
  ann --dataset retrieval_coco --out "$TMP/py2" --split train --input "$R/dataset_coco.json" \
  --hard-pool "$TMP/pool_py2.pkl"
run_ok "retrieval_coco test" jsonl "$R/expected/test.jsonl" "$A/retrieval_coco/test.jsonl" -- \
  ann --dataset retrieval_coco --out "$OUT" --split test --input "$R/dataset_coco.json"
run_ok "retrieval_flickr30k val" jsonl "$RF/expected/val.jsonl" "$A/retrieval_flickr30k/val.jsonl" -- \
  ann --dataset retrieval_flickr30k --out "$OUT" --split val --input "$RF/dataset_flickr30k.json"
# COCO test = the 1K test set (first 1000 Karpathy test images in file order), test5k = all of
# them: a generated Karpathy file with 1003 test images (one caption each) among other splits.
$PY - "$TMP/coco_5k.json" <<'PYEOF'
import json, sys
images = []
for n in range(1005):
    split = "train" if n == 2 else "val" if n == 700 else "test"
    images.append({"split": split, "cocoid": 500000 + (n * 7919) % 100000, "imgid": n,
                   "filename": f"x{n}.jpg", "sentences": [{"raw": f"caption {n}.", "sentid": n}]})
json.dump({"images": images, "dataset": "coco"}, open(sys.argv[1], "w"))
PYEOF
run_ok "retrieval_coco test5k (all 1003 test images)" -- \
  ann --dataset retrieval_coco --out "$OUT" --split test5k --input "$TMP/coco_5k.json"
run_ok "retrieval_coco test = first 1000 images of test5k" \
  image_prefix "$A/retrieval_coco/test.jsonl" "$A/retrieval_coco/test5k.jsonl" 1000 1003 -- \
  ann --dataset retrieval_coco --out "$OUT" --split test --input "$TMP/coco_5k.json"
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
run_err "retrieval: forbidden global in the pool pickle" "pool_evil.pkl" "refusing to unpickle" "system" -- \
  ann --dataset retrieval_coco --out "$E" --split train --input "$R/dataset_coco.json" \
  --hard-pool "$TMP/pool_evil.pkl"
if [[ -e $TMP/pwned ]]; then
  failed=$((failed + 1)); echo "FAIL retrieval: the forbidden pickle was executed"
else ok "retrieval: the forbidden pickle was not executed"; fi
run_err "retrieval: pool without train_hard_pool" "pool_nokey.pkl" "missing key 'train_hard_pool'" -- \
  ann --dataset retrieval_coco --out "$E" --split train --input "$R/dataset_coco.json" \
  --hard-pool "$TMP/pool_nokey.pkl"
run_err "retrieval: pool rows != train_image_list" "pool_rows.pkl" "3 rows" "4 images" -- \
  ann --dataset retrieval_coco --out "$E" --split train --input "$R/dataset_coco.json" \
  --hard-pool "$TMP/pool_rows.pkl"
run_err "retrieval: pool index out of range" "pool_range.pkl" "[1][2] = 4" -- \
  ann --dataset retrieval_coco --out "$E" --split train --input "$R/dataset_coco.json" \
  --hard-pool "$TMP/pool_range.pkl"
head -c 40 "$TMP/coco_pool/hard_negative.pkl" > "$TMP/pool_trunc.pkl"
run_err "retrieval: truncated pool pickle" "pool_trunc.pkl" "not a readable pickle" -- \
  ann --dataset retrieval_coco --out "$E" --split train --input "$R/dataset_coco.json" \
  --hard-pool "$TMP/pool_trunc.pkl"
run_err "retrieval: --hard-pool outside --split train" "--hard-pool" "train" -- \
  ann --dataset retrieval_coco --out "$E" --split val --input "$R/dataset_coco.json" \
  --hard-pool "$TMP/coco_pool/hard_negative.pkl"
run_err "retrieval_flickr30k: no test5k split" "retrieval_flickr30k" "test5k" -- \
  ann --dataset retrieval_flickr30k --out "$E" --split test5k --input "$RF/dataset_flickr30k.json"
left=$(find "$E" "$TMP/empty_root" -name '*.jsonl*' 2>/dev/null)
if [[ -n $left ]]; then
  failed=$((failed + 1)); echo "FAIL failed conversions left files: $left"
else ok "failed conversions leave no .jsonl behind"; fi

converter_checks_finish
