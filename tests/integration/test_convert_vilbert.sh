#!/usr/bin/env bash
# The Python converter writes parameter files the C++ loader accepts: checksums computed with
# zlib.crc32 must match src/ckpt/crc32.cpp, dtypes and names must survive. Uses the --from-npz
# debug input, and a small parameter list in the official format; then real torch.save files
# (zip and legacy format) and files whose pickle tries to run code, which must be refused
# without running it. --answers stores answer vocabularies (label2ans/ans2label pickles,
# answers.json) as /answers/<head>. The torch.save checks need Debian's python3-torch
# (tools/install_deps.sh): without it the other checks run and the test then exits as skipped
# (77); under CI=true its absence is a failure.
set -euo pipefail
: "${VLMT_BIN:?}" "${VLMT_SOURCE_DIR:?}"
source "$(dirname "$0")/lib/checks.bash"
PY=/usr/bin/python3
CONVERT="$PY $VLMT_SOURCE_DIR/tools/convert/convert_vilbert_checkpoint.py"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The official list expands to the documented 560 entries / 291,469,755 elements.
$CONVERT --print-spec | tail -n 1 | grep -qx "560 tensors, 291469755 elements" \
  || fail "official parameter list does not expand to 560 tensors"

cat > "$WORK/spec.txt" <<'SPEC'
bert.embeddings.word_embeddings.weight (12, 4)
bert.encoder.layer.{i}.attention.self.query.weight (4, 4) i∈0..1
head.logit_fc.{i}.weight (3, 4) i∈0..0
head.logit_fc.{i}.bias (3,) i∈0..2
head.logit_fc.{i}.weight (3,) i∈2..2
cls.predictions.bias (12,)
head.scale ()
SPEC

# DataParallel-style names, several dtypes; one file complete, one with problems.
$PY - "$WORK" <<'PYEOF'
import sys, numpy as np
work = sys.argv[1]
rng = np.random.default_rng(0)
good = {
    "module.bert.embeddings.word_embeddings.weight": rng.standard_normal((12, 4)).astype(np.float32),
    "module.bert.encoder.layer.0.attention.self.query.weight": rng.standard_normal((4, 4)).astype(np.float16),
    "module.bert.encoder.layer.1.attention.self.query.weight": rng.standard_normal((4, 4)),
    "module.head.logit_fc.0.weight": rng.standard_normal((3, 4)).astype(np.float32),
    "module.head.logit_fc.0.bias": np.arange(3, dtype=np.int64),
    "module.head.logit_fc.2.weight": np.ones(3, dtype=np.float32),
    "module.head.logit_fc.2.bias": np.zeros(3, dtype=np.float32),
    "module.cls.predictions.bias": np.linspace(-1, 1, 12).astype(np.float32),
    "module.head.scale": np.float32(0.5),  # 0-dim
}
np.savez(f"{work}/good.npz", **good)
bad = dict(good)
del bad["module.cls.predictions.bias"]
bad["module.head.logit_fc.0.weight"] = np.zeros((4, 4), dtype=np.float32)
bad["module.extra.weight"] = np.zeros(2, dtype=np.float32)
np.savez(f"{work}/bad.npz", **bad)
PYEOF

$CONVERT --from-npz "$WORK/good.npz" --spec "$WORK/spec.txt" --out "$WORK/good.h5" \
  || fail "converter rejected a complete file"
"$VLMT_BIN/ckpt_info" --tensors "$WORK/good.h5" > "$WORK/info.txt" || fail "C++ side rejected the file"
grep -q "^/params/bert.encoder.layer.0.attention.self.query.weight float16 \[4, 4\]" "$WORK/info.txt" \
  || fail "float16 tensor not read back: $(cat "$WORK/info.txt")"
grep -q "^/params/head.logit_fc.0.bias int64 \[3\]" "$WORK/info.txt" || fail "int64 tensor lost"
grep -q "^/params/head.scale float32 \[\]" "$WORK/info.txt" || fail "0-dim tensor lost"
grep -q "114 parameters in 9 tensors" "$WORK/info.txt" && grep -q "parameter file, 9 tensors; all checksums OK" "$WORK/info.txt" \
  || fail "unexpected summary: $(tail -n 1 "$WORK/info.txt")"

# Missing, unexpected and mis-shaped names: reported, exit 4, nothing written.
set +e
$CONVERT --from-npz "$WORK/bad.npz" --spec "$WORK/spec.txt" --out "$WORK/bad.h5" > "$WORK/bad.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "expected exit 4 for a mismatched checkpoint, got $rc"
[ ! -e "$WORK/bad.h5" ] || fail "mismatched checkpoint was written"
grep -q "missing     cls.predictions.bias" "$WORK/bad.txt" || fail "missing name not reported"
grep -q "unexpected  extra.weight" "$WORK/bad.txt" || fail "unexpected name not reported"
grep -q "mis-shaped  head.logit_fc.0.weight" "$WORK/bad.txt" || fail "mis-shape not reported"
$CONVERT --from-npz "$WORK/bad.npz" --spec "$WORK/spec.txt" --out "$WORK/bad.h5" --allow-partial \
  > /dev/null || fail "--allow-partial did not write"
"$VLMT_BIN/ckpt_info" --quiet "$WORK/bad.h5" > /dev/null || fail "partial file unreadable"

# No traceback for any refused input: the message is the whole story.
no_traceback() { ! grep -q "Traceback" "$1" || fail "traceback in $1: $(cat "$1")"; }

# ---- torch.save files (what the released multi_task_model.bin / pretrained_model.bin are) ----
torch_checks=ran
if ! python_has torch; then
  torch_checks=""
else
  $PY - "$WORK" <<'PYEOF'
import collections, os, sys
import numpy as np, torch
work = sys.argv[1]
with np.load(f"{work}/good.npz") as npz:
    sd = collections.OrderedDict((n, torch.from_numpy(npz[n].copy())) for n in npz.files)
# what nn.Module.state_dict() returns: an OrderedDict carrying a _metadata attribute
sd._metadata = collections.OrderedDict([("", {"version": 1}), ("module", {"version": 1})])
torch.save(sd, f"{work}/good_zip.bin")
torch.save(sd, f"{work}/good_legacy.bin", _use_new_zipfile_serialization=False)
torch.save({"model_state_dict": sd, "epoch": 3}, f"{work}/good_wrapped.bin")

class RunsCode:
    def __reduce__(self):
        return (os.system, (f"touch {work}/MARKER",))

evil = collections.OrderedDict(sd)
evil["module.head.scale"] = RunsCode()
torch.save(evil, f"{work}/evil_zip.bin")
torch.save(evil, f"{work}/evil_legacy.bin", _use_new_zipfile_serialization=False)
PYEOF
  [ ! -e "$WORK/MARKER" ] || fail "the fixture itself ran the payload"
  for form in zip legacy wrapped; do
    $CONVERT "$WORK/good_$form.bin" --spec "$WORK/spec.txt" --out "$WORK/good_$form.h5" \
      > "$WORK/out_$form.txt" 2>&1 || fail "torch.save ($form) file not converted: $(cat "$WORK/out_$form.txt")"
    # the same tensors, bit for bit, as from the .npz (same dtypes, shapes, checksums)
    $PY - "$WORK/good.h5" "$WORK/good_$form.h5" <<'PYEOF' || fail "torch.save ($form) file converted differently from the .npz"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    assert list(a["params"]) == list(b["params"]), (list(a["params"]), list(b["params"]))
    for n in a["params"]:
        x, y = a["params"][n], b["params"][n]
        assert x.dtype == y.dtype and x.shape == y.shape and x[()].tobytes() == y[()].tobytes(), n
        for k in ("dtype", "shape", "crc32"):
            assert np.array_equal(x.attrs[k], y.attrs[k]), (n, k)
PYEOF
  done
  "$VLMT_BIN/ckpt_info" --quiet "$WORK/good_legacy.h5" > /dev/null || fail "C++ side rejected the torch.save conversion"

  # A pickle that runs os.system through __reduce__: refused (exit 4), nothing run, nothing written.
  for form in zip legacy; do
    set +e
    $CONVERT "$WORK/evil_$form.bin" --spec "$WORK/spec.txt" --out "$WORK/evil_$form.h5" > "$WORK/evil_$form.txt" 2>&1
    rc=$?
    set -e
    [ "$rc" -eq 4 ] || fail "code-running $form pickle: expected exit 4, got $rc: $(cat "$WORK/evil_$form.txt")"
    [ ! -e "$WORK/MARKER" ] || fail "loading the $form checkpoint RAN the pickled os.system call"
    [ ! -e "$WORK/evil_$form.h5" ] || fail "code-running $form pickle was converted"
    grep -q "evil_$form.bin: refusing to load: the file asks to run code" "$WORK/evil_$form.txt" \
      || fail "no clear refusal for the $form pickle: $(cat "$WORK/evil_$form.txt")"
    grep -q "posix.system" "$WORK/evil_$form.txt" || fail "unpickler's message missing: $(cat "$WORK/evil_$form.txt")"
    no_traceback "$WORK/evil_$form.txt"
  done

  # Not a checkpoint at all: exit 4 with a message.
  printf 'not a checkpoint' > "$WORK/junk.bin"
  set +e
  $CONVERT "$WORK/junk.bin" --spec "$WORK/spec.txt" --out "$WORK/junk.h5" > "$WORK/junk.txt" 2>&1
  rc=$?
  set -e
  [ "$rc" -eq 4 ] || fail "junk checkpoint: expected exit 4, got $rc"
  grep -q "junk.bin: not a readable PyTorch checkpoint" "$WORK/junk.txt" || fail "$(cat "$WORK/junk.txt")"
  no_traceback "$WORK/junk.txt"
fi

# ---- --answers: answer vocabularies stored with the weights ----------------------------------
cat > "$WORK/spec_heads.txt" <<'SPEC'
bert.embeddings.word_embeddings.weight (12, 4)
vil_prediction.logit_fc.{i}.weight (5, 4) i∈3..3
vil_prediction.logit_fc.{i}.bias (5,) i∈3..3
vil_prediction_gqa.logit_fc.{i}.weight (3, 4) i∈3..3
vil_prediction_gqa.logit_fc.{i}.bias (3,) i∈3..3
SPEC
$PY - "$WORK" <<'PYEOF'
import json, os, pickle, sys
import numpy as np
work = sys.argv[1]
rng = np.random.default_rng(1)
np.savez(f"{work}/heads.npz", **{
    "bert.embeddings.word_embeddings.weight": rng.standard_normal((12, 4)).astype(np.float32),
    "vil_prediction.logit_fc.3.weight": rng.standard_normal((5, 4)).astype(np.float32),
    "vil_prediction.logit_fc.3.bias": np.zeros(5, dtype=np.float32),
    "vil_prediction_gqa.logit_fc.3.weight": rng.standard_normal((3, 4)).astype(np.float32),
    "vil_prediction_gqa.logit_fc.3.bias": np.zeros(3, dtype=np.float32),
})
vqa = ["yes", "no", "2", "café ☕", "red and white"]
gqa = ["left", "right", "table"]
def dump(name, obj, protocol=pickle.DEFAULT_PROTOCOL):
    with open(f"{work}/{name}", "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
dump("vqa_label2ans.pkl", vqa, protocol=2)                   # as the released cache files
dump("vqa_ans2label.pkl", {a: vqa.index(a) for a in reversed(vqa)})
dump("gqa_label2ans.pkl", gqa)
with open(f"{work}/gqa_answers.json", "w", encoding="utf-8") as f:
    json.dump({"answers": gqa}, f, ensure_ascii=False)
dump("short_label2ans.pkl", vqa[:4])
dump("gap_ans2label.pkl", {"yes": 0, "no": 1, "2": 2, "café ☕": 3, "red and white": 7})
dump("dup_label2ans.pkl", ["yes", "no", "yes", "4", "5"])
dump("empty_label2ans.pkl", ["yes", "no", "", "4", "5"])
class RunsCode:
    def __reduce__(self):
        return (os.system, (f"touch {work}/MARKER",))
dump("evil_label2ans.pkl", ["yes", "no", RunsCode(), "4", "5"])
PYEOF
[ ! -e "$WORK/MARKER" ] || fail "the fixture itself ran the payload"
HEADS="--from-npz $WORK/heads.npz --spec $WORK/spec_heads.txt"

$CONVERT $HEADS --out "$WORK/ans.h5" --answers "vil_prediction=$WORK/vqa_label2ans.pkl" \
  --answers "vil_prediction_gqa=$WORK/gqa_label2ans.pkl" > "$WORK/ans.txt" 2>&1 \
  || fail "label2ans lists rejected: $(cat "$WORK/ans.txt")"
$CONVERT $HEADS --out "$WORK/ans2.h5" --answers "vil_prediction=$WORK/vqa_ans2label.pkl" \
  --answers "vil_prediction_gqa=$WORK/gqa_answers.json" > "$WORK/ans2.txt" 2>&1 \
  || fail "ans2label dict / answers.json rejected: $(cat "$WORK/ans2.txt")"
$PY - "$WORK" <<'PYEOF' || fail "answers not read back exactly"
import sys, zlib, h5py, numpy as np
work = sys.argv[1]
vqa = ["yes", "no", "2", "café ☕", "red and white"]
gqa = ["left", "right", "table"]
for name, sources in (("ans.h5", ("vqa_label2ans.pkl", "gqa_label2ans.pkl")),
                      ("ans2.h5", ("vqa_ans2label.pkl", "gqa_answers.json"))):
    with h5py.File(f"{work}/{name}", "r") as f:
        assert sorted(f["answers"]) == ["vil_prediction", "vil_prediction_gqa"], list(f["answers"])
        for head, want, source in (("vil_prediction", vqa, sources[0]),
                                   ("vil_prediction_gqa", gqa, sources[1])):
            ds = f["answers"][head]
            assert ds.ndim == 1 and h5py.check_string_dtype(ds.dtype).encoding == "utf-8", ds.dtype
            assert h5py.check_string_dtype(ds.dtype).length is None, "not variable-length"
            got = [s.decode("utf-8") for s in ds[()]]
            assert got == want, (name, head, got)
            assert ds.attrs["source"] == source, ds.attrs["source"]
            assert int(ds.attrs["crc32"]) == zlib.crc32("\n".join(want).encode("utf-8")), head
        assert len(f["params"]) == 5
PYEOF
"$VLMT_BIN/ckpt_info" --quiet "$WORK/ans.h5" > /dev/null || fail "C++ side rejected a file with /answers"

# Bad answer files: exit 3 naming the file and what is wrong, nothing written.
expect_data_error() {  # NAME PATTERN ANSWERS-ARG...
  local name=$1 pattern=$2; shift 2
  local args=() a
  for a in "$@"; do args+=(--answers "$a"); done
  set +e
  $CONVERT $HEADS --out "$WORK/$name.h5" "${args[@]}" > "$WORK/$name.txt" 2>&1
  local rc=$?
  set -e
  [ "$rc" -eq 3 ] || fail "$name: expected exit 3, got $rc: $(cat "$WORK/$name.txt")"
  [ ! -e "$WORK/$name.h5" ] || fail "$name: file written despite the error"
  grep -qF -- "$pattern" "$WORK/$name.txt" || fail "$name: expected '$pattern' in: $(cat "$WORK/$name.txt")"
  no_traceback "$WORK/$name.txt"
}
expect_data_error short "short_label2ans.pkl: 4 answers, but vil_prediction has 5 outputs" \
  "vil_prediction=$WORK/short_label2ans.pkl"
expect_data_error gqa_as_vqa "gqa_label2ans.pkl: 3 answers, but vil_prediction has 5 outputs" \
  "vil_prediction=$WORK/gqa_label2ans.pkl"
expect_data_error gap "gap_ans2label.pkl: answer 'red and white' has label 7" \
  "vil_prediction=$WORK/gap_ans2label.pkl"
expect_data_error dup "dup_label2ans.pkl: answer 'yes' appears twice (labels 0 and 2)" \
  "vil_prediction=$WORK/dup_label2ans.pkl"
expect_data_error empty "empty_label2ans.pkl: answer 2 is empty" \
  "vil_prediction=$WORK/empty_label2ans.pkl"
expect_data_error evil "evil_label2ans.pkl: refusing to unpickle global" \
  "vil_prediction=$WORK/evil_label2ans.pkl"
[ ! -e "$WORK/MARKER" ] || fail "reading the answer pickle RAN the pickled os.system call"
expect_data_error missing_file "nonexistent.pkl: cannot read" "vil_prediction=$WORK/nonexistent.pkl"
# A head the checkpoint does not have, and an unknown head name (usage error, exit 2).
head -n 1 "$WORK/spec_heads.txt" > "$WORK/spec_nohead.txt"
set +e
$PY - "$WORK" <<'PYEOF'
import sys, numpy as np
np.savez(f"{sys.argv[1]}/nohead.npz", **{"bert.embeddings.word_embeddings.weight": np.zeros((12, 4), np.float32)})
PYEOF
$CONVERT --from-npz "$WORK/nohead.npz" --spec "$WORK/spec_nohead.txt" --out "$WORK/nohead.h5" \
  --answers "vil_prediction=$WORK/vqa_label2ans.pkl" > "$WORK/nohead.txt" 2>&1
rc=$?
$CONVERT $HEADS --out "$WORK/badhead.h5" --answers "vil_binary_prediction=$WORK/vqa_label2ans.pkl" \
  > "$WORK/badhead.txt" 2>&1
rc2=$?
set -e
[ "$rc" -eq 3 ] && grep -q "the checkpoint has no vil_prediction.logit_fc.3.bias" "$WORK/nohead.txt" \
  || fail "missing head: rc $rc: $(cat "$WORK/nohead.txt")"
[ "$rc2" -eq 2 ] && grep -q "HEAD must be one of vil_prediction, vil_prediction_gqa" "$WORK/badhead.txt" \
  || fail "unknown head: rc $rc2: $(cat "$WORK/badhead.txt")"

# A flipped data byte is caught by the C++ checksum and named.
$PY - "$WORK/good.h5" <<'PYEOF'
import sys, h5py
path = sys.argv[1]
with h5py.File(path, "r") as f:
    offset = f["params/cls.predictions.bias"].id.get_offset()
with open(path, "r+b") as f:
    f.seek(offset + 3); b = f.read(1); f.seek(offset + 3); f.write(bytes([b[0] ^ 0xFF]))
PYEOF
set +e
"$VLMT_BIN/ckpt_info" "$WORK/good.h5" > /dev/null 2> "$WORK/err.txt"
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "corrupt file: expected exit 4, got $rc"
grep -q "cls.predictions.bias: checksum mismatch" "$WORK/err.txt" || fail "$(cat "$WORK/err.txt")"
[ -n "$torch_checks" ] || skip "the torch.save checks (python3 cannot import torch); the other checks passed"
echo "test_convert_vilbert: OK"
