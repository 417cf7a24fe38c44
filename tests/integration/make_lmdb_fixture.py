#!/usr/bin/env python3
"""Feature LMDBs in the released ViLBERT formats, made at test time, and the checks on their
conversion by tools/convert/features_from_lmdb.py (test_lmdb_features.sh).

  make_lmdb_fixture.py make DIR          good and broken LMDBs + expected arrays (DIR/*.npz)
  make_lmdb_fixture.py check H5 NPZ [--float16] [--only ID,ID] [--fingerprint F]
                                          H5 holds exactly the arrays of NPZ (optionally only
                                          the listed ids)
  make_lmdb_fixture.py same A.h5 B.h5     A and B have equal datasets and attributes
  make_lmdb_fixture.py big DIR IMAGES [BOXES]
                                          a large LMDB (100 boxes x 2048 floats per image)
                                          for the memory measurement

The values are written with the standard pickle, as the release did; the numpy form is the
12-in-1 release's (script/convert_to_lmdb.py), the base64 form that of older ViLBERT releases.
"""
import base64
import os
import pickle
import sys

import h5py
import lmdb
import numpy as np

DIM, CLS = 16, 5


def image(rng, image_id, n, dim=DIM, cls=False):
    """One image's arrays: boxes inside a 640x480 image, features, optional cls_prob."""
    x1 = rng.uniform(0, 300, n)
    y1 = rng.uniform(0, 200, n)
    boxes = np.stack([x1, y1, x1 + rng.uniform(1, 300, n), y1 + rng.uniform(1, 250, n)], 1)
    item = {"image_id": image_id, "image_w": 640, "image_h": 480, "num_boxes": n,
            "boxes": boxes.astype(np.float32),
            "features": rng.standard_normal((n, dim)).astype(np.float32) * 3}
    if cls:
        p = rng.uniform(0, 1, (n, CLS)).astype(np.float32)
        item["cls_prob"] = p / p.sum(1, keepdims=True)
    return item


def write_lmdb(path, keys, values, map_size=64 << 20):
    """keys: the pickled `keys` list; values: {key bytes: value bytes}."""
    env = lmdb.open(path, map_size=map_size)
    with env.begin(write=True) as txn:
        for k, v in values.items():
            txn.put(k, v)
        txn.put(b"keys", pickle.dumps(keys))
    env.close()


def write_expected(path, items):
    counts = [len(i["features"]) for i in items]
    arrays = {"ids": np.array([str(i["image_id"]) for i in items]),
              "offsets": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
              "image_w": np.array([i["image_w"] for i in items], np.int32),
              "image_h": np.array([i["image_h"] for i in items], np.int32),
              "boxes": np.concatenate([i["boxes"] for i in items]),
              "features": np.concatenate([i["features"] for i in items])}
    if "cls_prob" in items[0]:
        arrays["cls_prob"] = np.concatenate([i["cls_prob"] for i in items])
    np.savez(path, **arrays)


def to_base64(item):
    """The older release's record: boxes and features as base64 of float32 (as str, the way
    Python 2 wrote them, or bytes)."""
    record = dict(item)
    for name in ("boxes", "features", "cls_prob"):
        if name in record:
            record[name] = base64.b64encode(record[name].astype("<f4").tobytes())
    return record


class Evil:
    """Unpickling this runs a shell command (creates the marker file)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch " + self.marker,))


def make_good(d, rng):
    # 12-in-1 form: numpy arrays, cls_prob, COCO int ids; one record flattened (the reader
    # reshapes) and one with numpy scalar sizes.
    items = [image(rng, i, n, cls=True) for i, n in
             [(522418, 5), (391895, 3), (184613, 7), (57870, 4), (9, 6), (424242, 2)]]
    values = {}
    for k, item in enumerate(items):
        record = dict(item)
        if k == 1:
            record["features"] = record["features"].reshape(-1)
        if k == 2:
            record["image_w"], record["image_h"] = np.int64(640), np.int64(480)
            del record["num_boxes"]
        values[str(item["image_id"]).encode()] = pickle.dumps(record)
    write_lmdb(f"{d}/coco_arrays.lmdb", [str(i["image_id"]).encode() for i in items], values)
    write_expected(f"{d}/coco_arrays.npz", items)

    # Older form: base64, no cls_prob, string ids, `keys` pickled as a list of str.
    items = [image(rng, f"{1000092795 + 11 * k}", n) for k, n in enumerate([4, 2, 9])]
    values = {}
    for k, item in enumerate(items):
        record = to_base64(item)
        if k == 0:
            record = {key: v.decode() if isinstance(v, bytes) else v for key, v in record.items()}
        values[item["image_id"].encode()] = pickle.dumps(record, protocol=2)
    write_lmdb(f"{d}/flickr_base64.lmdb", [i["image_id"] for i in items], values)
    write_expected(f"{d}/flickr_base64.npz", items)

    # Ground-truth boxes (the *_gt_*.lmdb files): same format, other boxes.
    items = [image(rng, i, n) for i, n in [(581857, 1), (573012, 3), (480, 2)]]
    write_lmdb(f"{d}/refcoco_gt_resnext152.lmdb", [str(i["image_id"]).encode() for i in items],
               {str(i["image_id"]).encode(): pickle.dumps(i) for i in items})
    write_expected(f"{d}/refcoco_gt_resnext152.npz", items)


def make_bad(d, rng):
    """One LMDB per error; the broken record is always the one of key 2 (of 1, 2, 3)."""
    def bad(name, second, keys=(b"1", b"2", b"3"), drop_second=False):
        values = {b"1": pickle.dumps(image(rng, 1, 3)), b"3": pickle.dumps(image(rng, 3, 3))}
        if not drop_second:
            values[b"2"] = second if isinstance(second, bytes) else pickle.dumps(second)
        write_lmdb(f"{d}/{name}.lmdb", list(keys), values)

    good = image(rng, 2, 4)
    bad("bad_truncated", pickle.dumps(good)[:300])
    b64 = to_base64(good)
    b64["features"] = b"@@not-base64@@" + b64["features"][14:]
    bad("bad_base64", b64)
    bad("bad_num_boxes", dict(good, num_boxes=5))
    b64 = to_base64(good)
    b64["num_boxes"] = 3
    bad("bad_num_boxes_base64", b64)
    bad("bad_missing_key", None, drop_second=True)
    bad("bad_evil", {**good, "features": Evil(f"{d}/pwned")})
    bad("bad_dim", image(rng, 2, 4, dim=DIM + 1))
    nan = image(rng, 2, 4)
    nan["features"][1, 3] = np.nan
    bad("bad_nan", nan)
    bad("bad_no_field", {k: v for k, v in good.items() if k != "image_w"})
    bad("bad_id", dict(good, image_id=22))
    bad("bad_duplicate", good, keys=(b"1", b"2", b"3", b"2"))
    env = lmdb.open(f"{d}/bad_no_keys.lmdb", map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"1", pickle.dumps(image(rng, 1, 3)))
    env.close()


def make(d):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(12)
    make_good(d, rng)
    make_bad(d, rng)


def big(d, n_images, n_boxes=100):
    """~n_images x n_boxes x 2048 x 4 bytes; each value is pickled fresh (constant memory)."""
    rng = np.random.default_rng(1)
    block = rng.standard_normal((n_boxes, 2048)).astype(np.float32)
    boxes = np.tile(np.array([[1, 2, 30, 40]], np.float32), (n_boxes, 1))
    path = f"{d}/big.lmdb"
    env = lmdb.open(path, map_size=int(n_images * n_boxes * 2048 * 4 * 1.3) + (64 << 20),
                    writemap=False)
    ids = []
    for start in range(0, n_images, 200):
        with env.begin(write=True) as txn:
            for i in range(start, min(start + 200, n_images)):
                block[0, 0] = i  # every image differs
                item = {"image_id": 100000 + i, "image_w": 640, "image_h": 480,
                        "num_boxes": n_boxes, "boxes": boxes, "features": block}
                txn.put(str(100000 + i).encode(), pickle.dumps(item))
                ids.append(str(100000 + i).encode())
    with env.begin(write=True) as txn:
        txn.put(b"keys", pickle.dumps(ids))
    env.close()
    print(f"{path}: {n_images} images, {os.path.getsize(path + '/data.mdb') / 1e9:.2f} GB")


# ---- checks --------------------------------------------------------------------------------
def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def check(h5_path, npz_path, float16=False, only=None, fingerprint=None):
    exp = dict(np.load(npz_path))
    ids = [str(i) for i in exp["ids"]]
    if only is not None:
        keep = [i for i, x in enumerate(ids) if x in only]
        rows = [np.arange(exp["offsets"][i], exp["offsets"][i + 1]) for i in keep]
        rows = np.concatenate(rows)
        counts = np.diff(exp["offsets"])[keep]
        exp = {"ids": exp["ids"][keep], "image_w": exp["image_w"][keep],
               "image_h": exp["image_h"][keep],
               "offsets": np.concatenate([[0], np.cumsum(counts)]),
               **{k: exp[k][rows] for k in ("boxes", "features", "cls_prob") if k in exp}}
    if float16:
        exp["features"] = exp["features"].astype(np.float16)
    errors = []
    with h5py.File(h5_path, "r") as f:
        got_ids = list(f["ids"].asstr()[:])
        if got_ids != [str(i) for i in exp["ids"]]:
            errors.append(f"ids {got_ids} != {list(exp['ids'])}")
        for name in ("offsets", "image_w", "image_h", "boxes", "features", "cls_prob"):
            if (name in exp) != (name in f):
                errors.append(f"/{name}: present {name in f}, expected {name in exp}")
            elif name in exp and not (f[name].dtype == exp[name].dtype or name in
                                      ("offsets", "image_w", "image_h")):
                errors.append(f"/{name}: dtype {f[name].dtype}, expected {exp[name].dtype}")
            elif name in exp and not np.array_equal(f[name][:], exp[name]):
                errors.append(f"/{name}: values differ")
        if int(f.attrs["feature_dim"]) != exp["features"].shape[1]:
            errors.append(f"feature_dim {f.attrs['feature_dim']}")
        if fingerprint is not None and text(f.attrs["fingerprint"]) != fingerprint:
            errors.append(f"fingerprint {text(f.attrs['fingerprint'])} != {fingerprint}")
        extra = [a for a in f.attrs if a.startswith("part_")]
        if extra:
            errors.append(f"unexpected attributes {extra}")
    return errors


def same(a_path, b_path):
    errors = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        if sorted(a.keys()) != sorted(b.keys()):
            errors.append(f"datasets {sorted(a.keys())} != {sorted(b.keys())}")
        for name in set(a.keys()) & set(b.keys()):
            x, y = a[name], b[name]
            if x.dtype != y.dtype or x.shape != y.shape:
                errors.append(f"/{name}: {x.dtype}{x.shape} != {y.dtype}{y.shape}")
            elif name == "ids":
                if list(x.asstr()[:]) != list(y.asstr()[:]):
                    errors.append("/ids differ")
            elif not np.array_equal(x[:], y[:]):
                errors.append(f"/{name}: values differ")
        attrs_a = {k: text(v) for k, v in a.attrs.items()}
        attrs_b = {k: text(v) for k, v in b.attrs.items()}
        if attrs_a != attrs_b:
            errors.append(f"attributes {attrs_a} != {attrs_b}")
    return errors


def option(args, name, default=None):
    if name not in args:
        return default
    i = args.index(name)
    value = args[i + 1]
    del args[i:i + 2]
    return value


def main(argv):
    cmd, args = argv[0], list(argv[1:])
    if cmd == "make":
        make(args[0])
        return 0
    if cmd == "big":
        big(args[0], int(args[1]), *(int(a) for a in args[2:3]))
        return 0
    if cmd == "check":
        only = option(args, "--only")
        fingerprint = option(args, "--fingerprint")
        float16 = "--float16" in args
        args = [a for a in args if a != "--float16"]
        errors = check(args[0], args[1], float16, only and set(only.split(",")), fingerprint)
    elif cmd == "same":
        errors = same(args[0], args[1])
    else:
        print(f"unknown command {cmd}", file=sys.stderr)
        return 2
    for e in errors:
        print(f"check: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
