#!/usr/bin/env bash
# vlmt's forward pass on a converted released checkpoint equals the released code's outputs.
#  tests/data/release/ holds a tiny multi_task_model.bin written by the authors' released
#  VILBertForVLTasks (legacy torch 1.x format) and golden_forward.npz: fixed inputs
#  (input/<name>) and that model's outputs (output/<name>, computed in float64) under
#  forward_dump's names (tools/dev/golden/make_released_checkpoint.py; tests/data/release/README.md).
#  1. tools/convert/convert_vilbert_checkpoint.py converts the .bin (strict --spec, both answer lists);
#  2. forward_dump runs it on the golden inputs with the fixture's model.toml;
#  3. every output equals the released one (|d| <= 1e-4 + 1e-4 |ref|, elementwise);
#  4. the same comparison fails once one parameter value is perturbed by 0.1.
# vision_logit: the released [B, R, 1] is read as forward_dump's [B, R]; its padded regions
# (both add -10000 there) are compared with |d| <= 2e-3, float32's spacing near 1e4 being ~1e-3.
# Reading the .bin needs torch: without it the test is skipped (exit 77), except under CI=true.
set -euo pipefail
source "$(dirname "$0")/lib/checks.bash"
export OMP_NUM_THREADS=1
python_or_skip torch
D=$SRC/tests/data/release
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# 1. convert the released checkpoint
if $PY "$SRC/tools/convert/convert_vilbert_checkpoint.py" "$D/multi_task_model.bin" --spec "$D/state_dict.txt" \
     --answers "vil_prediction=$D/vqa_trainval_label2ans.pkl" \
     --answers "vil_prediction_gqa=$D/gqa_trainval_label2ans.pkl" --out "$T/params.h5" > "$T/convert.log" 2>&1 \
   && grep -q "0 missing, 0 unexpected, 0 mis-shaped" "$T/convert.log"; then
  ok "the released checkpoint converts with its exact spec and both answer lists"
else cat "$T/convert.log"; bad "convert multi_task_model.bin"; finish; fi

# 2. the inputs as a tensor file (a spec of exactly the input names and shapes, so no --allow-partial)
$PY - "$D/golden_forward.npz" "$T" <<'PY'
import sys, numpy as np
src, t = sys.argv[1:3]
with np.load(src) as z:
    inputs = {k[len("input/"):]: z[k] for k in z.files if k.startswith("input/")}
np.savez(f"{t}/inputs.npz", **inputs)
with open(f"{t}/inputs_spec.txt", "w") as f:
    for k, v in inputs.items():
        f.write(f"{k} ({', '.join(map(str, v.shape))}{',' if v.ndim == 1 else ''})\n")
PY
$PY "$SRC/tools/convert/convert_vilbert_checkpoint.py" --from-npz "$T/inputs.npz" --spec "$T/inputs_spec.txt" \
  --out "$T/inputs.h5" > "$T/inputs.log" 2>&1 \
  && ok "golden inputs written as a tensor file" || { cat "$T/inputs.log"; bad "inputs tensor file"; finish; }

# compare OUT.h5 with the golden outputs; exit 1 when any output differs
cat > "$T/compare.py" <<'PY'
import sys, h5py, numpy as np
golden, out = sys.argv[1:3]
RTOL = ATOL = 1e-4
bad = []
with np.load(golden) as z, h5py.File(out, "r") as f:
    names = [k[len("output/"):] for k in z.files if k.startswith("output/")]
    extra = sorted(set(f["params"]) - set(names))
    if extra:
        bad.append(f"forward_dump outputs without a golden value: {extra}")
    for name in names:
        ref = z["output/" + name]
        if name not in f["params"]:
            bad.append(f"{name}: missing from forward_dump's output"); continue
        got = f["params"][name][()].astype(np.float64)
        masked = None
        if name == "vision_logit":
            if ref.shape == got.shape + (1,):
                # the released Linear(v_hidden, 1) output is [B, R, 1]; forward_dump writes [B, R]
                ref = ref[..., 0]
            # padded regions hold x - 10000 in both: float32 spacing there is ~1e-3, so they are
            # compared separately (|d| <= 2e-3); the real regions with the common tolerance
            masked = z["input/image_mask"] == 0
        if got.shape != ref.shape:
            bad.append(f"{name}: shape {got.shape}, released {ref.shape}"); continue
        d = np.abs(got - ref)
        fail = d > ATOL + RTOL * np.abs(ref)
        real = np.ones(ref.shape, bool) if masked is None else ~masked
        rel = d[real] / np.maximum(np.abs(ref[real]), 1e-12)
        note = ""
        if masked is not None:
            fail = np.where(masked, d > 2e-3, fail)
            note = f"  (padded regions: max abs diff {d[masked].max():.3e})"
        print(f"  {name:22s} {str(ref.shape):12s} max abs diff {d[real].max():.3e}  "
              f"max rel diff {rel.max():.3e}{note}"
              + (f"  {int(fail.sum())} beyond tolerance" if fail.any() else ""))
        if fail.any():
            bad.append(f"{name}: {int(fail.sum())} of {ref.size} values differ (max abs {d.max():.3e})")
for b in bad:
    print("  DIFFERS:", b)
sys.exit(1 if bad else 0)
PY

# 3. vlmt's forward equals the released one
if "$BIN/forward_dump" --params "$T/params.h5" --preset "$D/model.toml" --inputs "$T/inputs.h5" \
     --out "$T/out.h5" > "$T/fd.log" 2>&1; then
  ok "forward_dump runs the converted checkpoint with model.toml"
else cat "$T/fd.log"; bad "forward_dump"; finish; fi
if $PY "$T/compare.py" "$D/golden_forward.npz" "$T/out.h5"; then
  ok "every forward_dump output equals the released model's (rtol = atol = 1e-4)"
else bad "forward_dump outputs differ from the released model's"; fi
$PY - "$D/golden_forward.npz" <<'PY' && ok "vision_logit's padded regions carry the -10000 mask in the golden file" \
  || bad "golden vision_logit padding"
import sys, numpy as np
z = np.load(sys.argv[1])
v, m = z["output/vision_logit"][..., 0], z["input/image_mask"]
assert (m == 0).any() and (v[m == 0] < -9000).all() and (v[m == 1] > -100).all()
PY

# 4. the comparison notices a perturbed parameter
$PY - "$T/params.h5" "$T/perturbed.h5" <<'PY'
import shutil, sys, zlib, h5py, numpy as np
src, dst = sys.argv[1:3]
shutil.copyfile(src, dst)
with h5py.File(dst, "r+") as f:
    d = f["params"]["bert.encoder.layer.0.attention.self.query.weight"]
    a = d[()]
    a[0, 0] += np.float32(0.1)
    d[...] = a
    d.attrs["crc32"] = np.uint32(zlib.crc32(np.ascontiguousarray(a).astype("<f4").tobytes()) & 0xFFFFFFFF)
PY
"$BIN/forward_dump" --params "$T/perturbed.h5" --preset "$D/model.toml" --inputs "$T/inputs.h5" \
  --out "$T/out_perturbed.h5" > "$T/fd2.log" 2>&1 || { cat "$T/fd2.log"; bad "forward_dump on the perturbed file"; }
echo "  (perturbed: bert.encoder.layer.0.attention.self.query.weight[0,0] += 0.1)"
if $PY "$T/compare.py" "$D/golden_forward.npz" "$T/out_perturbed.h5"; then
  bad "a perturbed parameter goes unnoticed by the comparison"
else ok "the comparison fails once one parameter value is perturbed by 0.1"; fi
finish
