#!/usr/bin/env bash
# Golden batches (tests/golden_batches/test_golden_batches.cpp): every tensor vlmt's datasets
# build for the chosen items of the 12 tasks and pretraining equals what the released dataset
# classes returned for them (tests/data/golden_batches, made by
# tools/dev/golden/make_golden_batches.py). This script makes the same miniature released download
# (make_release_world.py), checks its fingerprint against the one the golden batches recorded
# (a changed world is reported as such, not as a batch difference), converts it as a user does
# (tools/convert/released.py and released_features.py for the 12 tasks; annotations.py
# --dataset pretrain and features_from_npz.py for the captions corpus), then runs the C++
# comparison over the converted root.
source "$(dirname "$0")/lib/checks.bash"
python_or_skip numpy h5py lmdb
T=$(mktemp -d /tmp/vlmt-golden-batches.XXXXXX)
trap 'rm -rf "$T"' EXIT
CONV=$SRC/tools/convert
GOLDEN=$SRC/tests/data/golden_batches

if $PY "$SRC/tests/integration/make_release_world.py" "$T/w" > "$T/world.log" 2>&1; then
  ok "make_release_world.py"
else
  cat "$T/world.log"; bad "make_release_world.py"; finish
fi
made=$(sed -n 's/^fingerprint: //p' "$T/world.log")
recorded=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["world"]["fingerprint"])' "$GOLDEN/meta.json")
if [ -n "$made" ] && [ "$made" = "$recorded" ]; then
  ok "the world is the one the golden batches were made from ($made)"
else
  bad "world fingerprint $made differs from the golden batches' $recorded: make_release_world.py changed; run tools/dev/golden/make_golden_batches.py again"
  finish
fi

R=$T/root
if { $PY "$CONV/released.py" --data-dir "$T/w/datasets" --out "$R" &&
     $PY "$CONV/released_features.py" --data-dir "$T/w/datasets" --out "$R" &&
     for split in train val; do
       $PY "$CONV/annotations.py" --dataset pretrain --split $split --out "$R" \
         --input "$T/w/conceptual_captions/caption_$split.json" || exit 1
     done &&
     $PY "$CONV/features_from_npz.py" --out "$R/features/cc.h5" "$T/w/conceptual_captions/features" &&
     cp "$T/w/bert-base-uncased-vocab.txt" "$R/vocab.txt"; } > "$T/convert.log" 2>&1; then
  ok "the download converts"
else
  tail -20 "$T/convert.log"; bad "conversion"; finish
fi

# The tasks' feature files as the release ships them, and the world's sizes (5 VQA answers,
# 4 GQA answers; 2048-d features and 1601 detector classes are the base model's).
{ $PY "$CONV/released_features.py" --print-overrides
  echo "model.num_vqa_answers=5"
  echo "model.num_gqa_answers=4"; } > "$T/settings.txt"
if VLMT_GOLDEN_BATCH_ROOT=$R VLMT_GOLDEN_BATCH_SETTINGS=$T/settings.txt \
     "$BIN/vlmt_golden_batch_tests" > "$T/gtest.log" 2>&1; then
  grep -E "^\[ +(OK|PASSED) " "$T/gtest.log"
  ok "every batch equals the released one"
else
  grep -vE "^[0-9:]+ [IW] \[rank" "$T/gtest.log" | tail -80
  bad "golden batches differ"
fi
finish
