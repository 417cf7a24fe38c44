#!/usr/bin/env bash
# The Python converter writes parameter files the C++ loader accepts: checksums computed with
# zlib.crc32 must match src/ckpt/crc32.cpp, dtypes and names must survive. Uses the --from-npz
# debug input so that no torch is needed, and a small parameter list in the official format.
set -euo pipefail
: "${VLMT_BIN:?}" "${VLMT_SOURCE_DIR:?}"
PY=/usr/bin/python3
CONVERT="$PY $VLMT_SOURCE_DIR/tools/convert_vilbert_checkpoint.py"
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
echo "test_convert_vilbert: OK"
