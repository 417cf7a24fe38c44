#!/usr/bin/env bash
# tools/convert/released.py on a miniature released 12-in-1 datasets/ directory
# (tests/integration/make_released_datasets.py): exact outputs for every task, the released
# answer orders and minval / VG val cuts, the summary (missing task, missing split), resuming
# (unchanged splits skipped, a changed input reconverted), and bad input exiting 3 with the file
# and entry named (a pickle with a forbidden global is not executed). Exit status: failures.
source "$(dirname "$0")/lib/converter_checks.bash"
converter_checks_init released numpy
CONV=$SRC/tools/convert/released.py

$PY "$SRC/tests/integration/make_released_datasets.py" "$TMP/fix" >/dev/null || { echo "FAIL fixture"; exit 1; }
D=$TMP/fix/datasets
OUT=$TMP/root

# ---- full conversion -------------------------------------------------------------------------
if $PY "$CONV" --data-dir "$D" --out "$OUT" >"$TMP/first.log" 2>&1; then ok "conversion of every present task"
else cp "$TMP/first.log" "$TMP/log"; fail "conversion of every present task"; fi
cp "$TMP/first.log" "$TMP/log"
if grep -qF "missing tasks: refcoco+ ($D/refcoco/refcoco+)" "$TMP/log" &&
   grep -qF "task refcoco+: missing $D/refcoco/refcoco+; skipped" "$TMP/log" &&
   grep -qF "missing splits: retrieval_flickr30k/val ($D/flickr30k/all_data_final_val_set0_2014.jsonline)" "$TMP/log"
then ok "summary names the missing task and split with their paths"; else fail "summary names the missing task and split with their paths"; fi

$PY - "$OUT/annotations" "$D" "$SRC" >"$TMP/log" 2>&1 <<'PYEOF'
import json, os, pickle, re, sys
ann, d, src = sys.argv[1:]
def lines(rel):
    return [json.loads(l) for l in open(os.path.join(ann, rel)) if l.strip()]
failures = []
def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"))
    if not cond:
        failures.append(name)
def exact(rel, expected):
    got = lines(rel)
    check(rel, got == expected, f"\n  expected {expected}\n  got      {got}")

V = ["no", "yes", "2", "red", "blue"]
# answers.json = the released label2ans order (index = released head row)
for task, pkl in (("vqa", "VQA"), ("vgqa", "visual_genome"), ("gqa", "gqa")):
    released = pickle.load(open(f"{d}/{pkl}/cache/trainval_label2ans.pkl", "rb"))
    got = json.load(open(f"{ann}/{task}/answers.json"))["answers"]
    check(f"{task}/answers.json = {pkl}/cache/trainval_label2ans.pkl order", got == released, got)
check("vqa answers order is not alphabetical (the test means something)", V != sorted(V))

def vrec(k, labels, scores):
    r = {"question_id": str(2000000 + k), "image_id": str(500000 + k // 3), "question": f"v{k}?",
         "answers": [V[k % 5]] * 10, "labels": labels, "scores": scores}
    return r
exact("vqa/train.jsonl", [
    {"question_id": "100", "image_id": "12", "question": "q100?", "labels": [1], "scores": [1.0]},
    {"question_id": "200", "image_id": "13", "question": "q200?", "labels": [0, 2], "scores": [0.3, 0.6]},
    {"question_id": "300", "image_id": "11", "question": "q300?", "labels": [], "scores": []},
    vrec(0, [0], [0.9]), vrec(1, [1], [0.9]), vrec(2, [2], [0.9]), vrec(3, [], []), vrec(4, [4], [0.9])])
minval = lines("vqa/minval.jsonl")
qids = sorted(q["question_id"] for q in json.load(open(f"{d}/VQA/v2_OpenEnded_mscoco_val2014_questions.json"))["questions"])
check("vqa/minval = the last 3000 val questions by question id",
      [r["question_id"] for r in minval] == [str(q) for q in qids[-3000:]], len(minval))
check("vqa/minval last line", minval[-1] == vrec(3004, [4], [0.9]), minval[-1])
check("vqa/minval first line", minval[0] == vrec(5, [0], [0.9]), minval[0])
exact("vqa/test.jsonl", [{"question_id": "9001", "image_id": "77", "question": "t1?"},
                         {"question_id": "9002", "image_id": "77", "question": "t2?"}])
exact("vqa/test-dev.jsonl", [{"question_id": "9001", "image_id": "77", "question": "t1?"}])

G = ["yes", "no", "left", "right"]
def grec(k):
    return {"question_id": str(10000 + k), "image_id": f"n{k // 4}", "question": f"g{k}?",
            "answers": [G[k % 4]], "labels": [k % 4], "scores": [1.0]}
exact("gqa/train.jsonl", [grec(0), grec(1), grec(2), grec(3)])
gmin = lines("gqa/minval.jsonl")
check("gqa/minval = last 3000 of trainval_target.pkl by (string) question id",
      [r["question_id"] for r in gmin] == [str(10000 + k) for k in range(4, 3003)] + ["9"], len(gmin))
check("gqa/minval last line", gmin[-1] == {"question_id": "9", "image_id": "n9", "question": "g9?",
      "answers": ["no"], "labels": [1], "scores": [1.0]}, gmin[-1])
exact("gqa/test-dev.jsonl", [
    {"question_id": "202", "image_id": "n77", "question": "Is it red?", "answers": ["maybe"], "labels": [], "scores": []},
    {"question_id": "201", "image_id": "n77", "question": "Is it blue?", "answers": ["yes"], "labels": [0], "scores": [1.0]}])

def vg(k):
    r = {"question_id": str(k + 1), "image_id": str(1 + k // 10), "question": f"vg{k + 1}?"}
    if k != 1:
        r["answers"] = [V[k % 5]]
    r["labels"], r["scores"] = ([], []) if k == 1 else ([k % 5], [1.0])
    return r
exact("vgqa/train.jsonl", [vg(0), vg(1), vg(2)])
vval = lines("vgqa/val.jsonl")
check("vgqa/val = the last 5000 by question id", vval == [vg(k) for k in range(3, 5003)], len(vval))

exact("retrieval_coco/train.jsonl", [
    {"caption_id": "0", "image_id": "57870", "caption": "A cat."},
    {"caption_id": "1", "image_id": "57870", "caption": "A dog."},
    {"caption_id": "2", "image_id": "522418", "caption": "A car."},
    {"caption_id": "3", "image_id": "184613", "caption": "A bus."}])
exact("retrieval_coco/train_hard_pool.jsonl", [
    {"image_id": "57870", "pool": ["184613", "522418"]},
    {"image_id": "522418", "pool": ["57870", "184613"]},
    {"image_id": "184613", "pool": ["522418", "57870"]}])
exact("retrieval_coco/val.jsonl", [{"caption_id": "0", "image_id": "1", "caption": "Val."}])
exact("retrieval_coco/test.jsonl", [{"caption_id": "0", "image_id": "391895", "caption": "T1."},
                                    {"caption_id": "1", "image_id": "391895", "caption": "T2."}])
exact("retrieval_flickr30k/train.jsonl", [
    {"caption_id": "0", "image_id": "1000092795", "caption": "Two men."},
    {"caption_id": "1", "image_id": "10002456", "caption": "A crowd."}])
exact("retrieval_flickr30k/train_hard_pool.jsonl", [{"image_id": "1000092795", "pool": ["10002456"]},
                                                    {"image_id": "10002456", "pool": ["1000092795"]}])
exact("retrieval_flickr30k/test.jsonl", [{"caption_id": "0", "image_id": "1007129816", "caption": "A hat."}])
check("retrieval_flickr30k/val not written (file missing)", not os.path.exists(f"{ann}/retrieval_flickr30k/val.jsonl"))

def ref(ref_id, image, text, box, sent):
    return [{"ref_id": ref_id, "image_id": image, "expression": text, "box": box, "sent_id": sent}]
exact("refcoco/train.jsonl", ref("1", "5", "Left man.", [1.0, 2.0, 4.0, 6.0], "100"))
exact("refcoco/val.jsonl", ref("4", "5", "The man", [1.0, 2.0, 4.0, 6.0], "103"))
exact("refcoco/testA.jsonl", ref("2", "6", "Woman in red!", [10.0, 20.0, 40.0, 60.0], "101"))
exact("refcoco/testB.jsonl", ref("3", "6", "Blue car", [0.5, 0.0, 5.5, 5.0], "102"))
# Table 2's RefCOCO "test": testA ∪ testB in file order, as the released refer tool reads it.
exact("refcoco/test.jsonl", ref("2", "6", "Woman in red!", [10.0, 20.0, 40.0, 60.0], "101")
      + ref("3", "6", "Blue car", [0.5, 0.0, 5.5, 5.0], "102"))
exact("refcocog/train.jsonl", ref("7", "6", "A woman.", [10.0, 20.0, 40.0, 60.0], "200"))
exact("refcocog/val.jsonl", ref("8", "6", "The car.", [0.5, 0.0, 5.5, 5.0], "201"))
exact("refcocog/test.jsonl", ref("9", "5", "A man.", [1.0, 2.0, 4.0, 6.0], "202"))
check("refcoco+ not written (missing task)", not os.path.exists(f"{ann}/refcoco+"))

def v7w(qa, image, base, answer):
    return [{"id": qa, "image_id": image, "text": f"Which {qa}?",
             "candidates": [[float(b), 1.0, b + 2.0, 4.0] for b in range(base, base + 4)], "answer": answer}]
exact("visual7w/train.jsonl", v7w("1", "2", 10, 2))
exact("visual7w/val.jsonl", v7w("2", "3", 20, 0))
exact("visual7w/test.jsonl", v7w("3", "4", 30, 3))
C = [[10.0, 10.0, 60.0, 110.0], [200.5, 150.0, 240.5, 210.0]]   # objects ordered by id (301, 302)
exact("guesswhat/train.jsonl", [
    {"id": "1", "image_id": "57870", "text": "start is it a person? answer No stop start a chair? answer Yes stop",
     "candidates": C, "answer": 1},
    {"id": "2", "image_id": "57870", "text": "start is it red? answer N/A stop", "candidates": C, "answer": 0}])
exact("guesswhat/valid.jsonl", [{"id": "3", "image_id": "57870", "text": "start left? answer Yes stop",
                                 "candidates": C, "answer": 0}])
exact("guesswhat/test.jsonl", [{"id": "4", "image_id": "57870", "text": "", "candidates": C, "answer": 1}])
def nl(pair, sentence, label):
    stem = pair.rsplit("-", 1)[0]
    return {"pair_id": pair, "image_ids": [stem + "-img0", stem + "-img1"], "sentence": sentence, "label": label}
exact("nlvr2/train.jsonl", [nl("train-10-0-0", "Two dogs.", True), nl("train-10-0-1", "No dogs.", False)])
exact("nlvr2/dev.jsonl", [nl("dev-850-0-0", "One cat.", False)])
exact("nlvr2/test.jsonl", [nl("test1-0-1-2", "A bird.", True)])
def ve(pair, image, hyp, label=None):
    r = {"pair_id": pair, "image_id": image, "hypothesis": hyp}
    if label:
        r["label"] = label
    return r
exact("snli_ve/train.jsonl", [ve("1.jpg#0r1e", "1", "H e.", "entailment"), ve("1.jpg#0r1n", "1", "H n.", "neutral"),
                              ve("1.jpg#0r1c", "1", "H c.", "contradiction")])
exact("snli_ve/dev.jsonl", [ve("2.jpg#0r1c", "2", "D c.", "contradiction"), ve("2.jpg#0r1x", "2", "D none.")])
exact("snli_ve/test.jsonl", [ve("3.jpg#0r1e", "3", "T e.", "entailment")])

# SNLI-VE class order: the released LABEL_MAP (contradiction 0, neutral 1, entailment 2) =
# snli_ve.RELEASED_LABEL_ORDER = vlmt's kSnliVeLabels (the vil_tri_prediction rows).
sys.path.insert(0, os.path.join(src, "tools", "convert"))
import snli_ve
check("snli_ve.RELEASED_LABEL_ORDER", snli_ve.RELEASED_LABEL_ORDER == ("contradiction", "neutral", "entailment"),
      snli_ve.RELEASED_LABEL_ORDER)
header = open(os.path.join(src, "src", "data", "annotations.h")).read()
m = re.search(r"kSnliVeLabels\s*=\s*\{([^}]*)\}", header)
cxx = tuple(re.findall(r'"([^"]+)"', m.group(1))) if m else None
check("kSnliVeLabels (src/data/annotations.h) = the released order", cxx == snli_ve.RELEASED_LABEL_ORDER, cxx)
sys.exit(1 if failures else 0)
PYEOF
if [[ $? -eq 0 ]]; then ok "outputs exactly as expected ($(grep -c '^ok' "$TMP/log") checks)"
else fail "outputs exactly as expected"; fi

# ---- resuming ------------------------------------------------------------------------------
$PY "$CONV" --data-dir "$D" --out "$OUT" >"$TMP/log" 2>&1
if [[ $? -eq 0 ]] && grep -qF "converted: none" "$TMP/log" &&
   grep -qF "vqa/minval: inputs unchanged since the last conversion; skipped" "$TMP/log" &&
   [[ $(grep -c 'inputs unchanged since the last conversion; skipped' "$TMP/log") -eq 34 ]]
then ok "rerun skips every unchanged split (34)"; else fail "rerun skips every unchanged split (34)"; fi

echo '{"pairID": "4.jpg#0r1n", "Flikr30kID": "4.jpg", "sentence2": "T n.", "gold_label": "neutral"}' \
  >> "$D/visual_entailment/snli_ve_test.jsonl"
$PY "$CONV" --data-dir "$D" --out "$OUT" --tasks snli_ve,nlvr2 >"$TMP/log" 2>&1
if [[ $? -eq 0 ]] && grep -qF "converted: snli_ve/test (2)" "$TMP/log" &&
   grep -qF "unchanged (skipped): snli_ve/train, snli_ve/dev, nlvr2/train, nlvr2/dev, nlvr2/test" "$TMP/log" &&
   [[ $(wc -l < "$OUT/annotations/snli_ve/test.jsonl") -eq 2 ]]
then ok "a changed input file reconverts its split only"; else fail "a changed input file reconverts its split only"; fi

$PY "$CONV" --data-dir "$D" --out "$OUT" --tasks vqa --splits test-dev --force >"$TMP/log" 2>&1
if [[ $? -eq 0 ]] && grep -qF "converted: vqa/test-dev (1)" "$TMP/log"
then ok "--splits and --force"; else fail "--splits and --force"; fi

# ---- bad input -----------------------------------------------------------------------------
run_err "--tasks naming a missing task" "task refcoco+: missing $D/refcoco/refcoco+" -- \
  $PY "$CONV" --data-dir "$D" --out "$TMP/r_missing" --tasks vqa,refcoco+

cp -r "$D" "$TMP/evil"
$PY - "$TMP/evil/VQA/cache/val_target.pkl" "$TMP/pwned" <<'PYEOF'
import os, pickle, sys
class Evil:  # unpickling this would run the command
    def __reduce__(self):
        return (os.system, ("touch " + sys.argv[2],))
pickle.dump([{"question_id": 1, "image_id": 2, "labels": Evil(), "scores": []}], open(sys.argv[1], "wb"), protocol=2)
PYEOF
run_err "a pickle with a forbidden global in place of cache/val_target.pkl" \
  "val_target.pkl" "refusing to unpickle" "system" -- \
  $PY "$CONV" --data-dir "$TMP/evil" --out "$TMP/r_evil" --tasks vqa --splits minval
if [[ -e $TMP/pwned ]]; then failed=$((failed + 1)); echo "FAIL the forbidden pickle was executed"
else ok "the forbidden pickle was not executed"; fi
left=$(find "$TMP/r_evil" -name '*.jsonl*' 2>/dev/null)
if [[ -z $left ]]; then ok "the failed split left no .jsonl"; else failed=$((failed + 1)); echo "FAIL left: $left"; fi

cp -r "$D" "$TMP/a2l"
$PY -c 'import pickle, sys; pickle.dump({"no": 0, "yes": 2, "2": 1, "red": 3, "blue": 4}, open(sys.argv[1], "wb"), protocol=2)' \
  "$TMP/a2l/VQA/cache/trainval_ans2label.pkl"
run_err "ans2label disagreeing with label2ans" "trainval_ans2label.pkl: entry 'yes' has label 2" \
  "trainval_label2ans.pkl entry 1 is 'yes'" -- \
  $PY "$CONV" --data-dir "$TMP/a2l" --out "$TMP/r_a2l" --tasks vqa

cp -r "$D" "$TMP/vg"
$PY -c 'import pickle, sys; a = ["no", "yes", "red", "2", "blue"]; pickle.dump(a, open(sys.argv[1], "wb"), protocol=2); pickle.dump({x: i for i, x in enumerate(a)}, open(sys.argv[2], "wb"), protocol=2)' \
  "$TMP/vg/visual_genome/cache/trainval_label2ans.pkl" "$TMP/vg/visual_genome/cache/trainval_ans2label.pkl"
run_err "VG QA vocabulary different from VQA's (one head)" "visual_genome/cache/trainval_label2ans.pkl: entry 2 is 'red'" \
  "VQA/cache/trainval_label2ans.pkl entry 2 is '2'" -- \
  $PY "$CONV" --data-dir "$TMP/vg" --out "$TMP/r_vg" --tasks vgqa

cp -r "$D" "$TMP/mis"
$PY -c 'import pickle, sys; t = pickle.load(open(sys.argv[1], "rb")); t[0]["image_id"] = 99; pickle.dump(t, open(sys.argv[1], "wb"), protocol=2)' \
  "$TMP/mis/VQA/cache/train_target.pkl"
run_err "target whose image differs from the question's" "train_target.pkl: question 200: image 99" -- \
  $PY "$CONV" --data-dir "$TMP/mis" --out "$TMP/r_mis" --tasks vqa --splits train
$PY -c 'import pickle, sys; t = pickle.load(open(sys.argv[1], "rb")); t[5]["labels"] = [7]; t[5]["scores"] = [1.0]; pickle.dump(t, open(sys.argv[1], "wb"), protocol=2)' \
  "$TMP/mis/gqa/cache/trainval_target.pkl"
run_err "target label outside the vocabulary" "gqa/cache/trainval_target.pkl: question" "label 7 is not a row of the 4-answer vocabulary" -- \
  $PY "$CONV" --data-dir "$TMP/mis" --out "$TMP/r_mis" --tasks gqa
printf '{"id": 5, "sentences": ["x"]}\n{"id": 6, "sentences": \n' >> "$TMP/mis/cocoRetreival/all_data_final_test_set0_2014.jsonline"
run_err "malformed jsonline" "all_data_final_test_set0_2014.jsonline:3" "malformed JSON" -- \
  $PY "$CONV" --data-dir "$TMP/mis" --out "$TMP/r_mis" --tasks retrieval_coco --splits test

converter_checks_finish
