#!/usr/bin/env python3
"""Output checks of test_converters.sh.

  converters_check.py jsonl EXPECTED.jsonl ACTUAL.jsonl   same records, same order
  converters_check.py json EXPECTED.json ACTUAL.json      same object
  converters_check.py image_prefix SHORT.jsonl LONG.jsonl N M
      LONG holds M distinct images, SHORT the first N of them (in order) with all their
      records, exactly as in LONG (the COCO 1K test set vs the 5K one)
  converters_check.py h5 OUT.h5 FEATURES.json SECTION DTYPE DETECTOR SETTINGS
      the store holds exactly the images of FEATURES.json[SECTION] (a list, or the npz dict)
Floats compare to 1e-6 (scores are rounded to 6 digits); everything else exactly.
"""
import hashlib
import json
import os
import sys


def same(a, b, path="$"):
    if isinstance(a, bool) or isinstance(b, bool):
        ok = a is b
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        ok = abs(a - b) <= 1e-6
    elif isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            raise AssertionError(f"{path}: keys {list(a)} != {list(b)}")
        return all(same(a[k], b[k], f"{path}.{k}") for k in a)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            raise AssertionError(f"{path}: length {len(a)} != {len(b)}")
        return all(same(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b)))
    else:
        ok = type(a) is type(b) and a == b
    if not ok:
        raise AssertionError(f"{path}: expected {a!r}, got {b!r}")
    return True


def check_jsonl(expected, actual):
    exp = [json.loads(line) for line in open(expected) if line.strip()]
    act = [json.loads(line) for line in open(actual) if line.strip()]
    same(exp, act, os.path.basename(actual))


def check_json(expected, actual):
    same(json.load(open(expected)), json.load(open(actual)), os.path.basename(actual))


def check_image_prefix(short, long, n, m):
    def load(path):
        return [json.loads(line) for line in open(path) if line.strip()]
    s_recs, l_recs = load(short), load(long)
    l_images = list(dict.fromkeys(r["image_id"] for r in l_recs))
    s_images = list(dict.fromkeys(r["image_id"] for r in s_recs))
    same(int(m), len(l_images), f"{os.path.basename(long)}: images")
    same(l_images[:int(n)], s_images, f"{os.path.basename(short)}: images")
    keep = set(s_images)
    same([r for r in l_recs if r["image_id"] in keep], s_recs, os.path.basename(short))


def check_h5(path, spec_path, section, dtype, detector, settings):
    import h5py
    import numpy as np
    spec = json.load(open(spec_path))[section]
    if isinstance(spec, dict):  # npz: file name → image, id from the file unless given
        spec = [dict(img, image_id=img.get("image_id", name[:-4])) for name, img in spec.items()]
    f = h5py.File(path, "r")
    ids = [i.decode() if isinstance(i, bytes) else i for i in f["ids"][()]]
    same([img["image_id"] for img in spec], ids, "ids")
    same([0] + np.cumsum([len(img["boxes"]) for img in spec]).tolist(), f["offsets"][()].tolist(),
         "offsets")
    same([img["image_w"] for img in spec], f["image_w"][()].tolist(), "image_w")
    same([img["image_h"] for img in spec], f["image_h"][()].tolist(), "image_h")
    same([r for img in spec for r in img["boxes"]], f["boxes"][()].tolist(), "boxes")
    same([r for img in spec for r in img["features"]], f["features"][()].astype(float).tolist(),
         "features")
    assert f["features"].dtype == np.dtype(dtype), f"features dtype {f['features'].dtype}"
    assert f["boxes"].dtype == np.float32 and f["offsets"].dtype == np.int64
    assert f["image_w"].dtype == np.int32 and f["image_h"].dtype == np.int32
    if "cls_prob" in spec[0]:
        same([r for img in spec for r in img["cls_prob"]], f["cls_prob"][()].tolist(), "cls_prob")
    else:
        assert "cls_prob" not in f, "unexpected /cls_prob"
    d = len(spec[0]["features"][0])
    h = hashlib.sha256(settings.encode()).hexdigest()[:16]
    attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    same({"feature_dim": d, "detector": detector, "settings_hash": h,
          "fingerprint": f"{detector}/{d}/{h}", "format_version": 1},
         {k: (int(v) if k in ("feature_dim", "format_version") else v)
          for k, v in sorted(attrs.items(), key=lambda kv: ["feature_dim", "detector",
             "settings_hash", "fingerprint", "format_version"].index(kv[0]))}, "attrs")


def main():
    kind, *args = sys.argv[1:]
    try:
        {"jsonl": check_jsonl, "json": check_json, "h5": check_h5,
         "image_prefix": check_image_prefix}[kind](*args)
    except AssertionError as e:
        print(f"mismatch: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
