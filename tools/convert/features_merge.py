#!/usr/bin/env python3
"""Joins the part files of `features_from_lmdb.py --part I/N` into one HDF5 feature store.

Each part records which part it is (attributes part_index, part_count) and of which id
selection (part_set, part_set_images); the merge refuses an incomplete or mixed set, parts that
differ in feature_dim, fingerprint, feature dtype or cls_prob presence, and duplicate ids, with
exit code 3 naming the part. Parts are joined in part_index order (whatever order the shell
glob gives them in), image by image through the same writer a single run uses, so the result
equals a single-run conversion in ids, offsets, arrays and attributes (the part attributes are
not carried over). Streams: one block of at most FLUSH_ROWS regions is in memory at a time.

  features_merge.py --out features/coco.h5 features/coco.part*-of-8.h5
  (the same as: features_from_lmdb.py --merge --out features/coco.h5 PARTS...)
"""
import argparse
import os
import re

import numpy as np

from common import ConvertError, run_main
from feature_store import FLUSH_ROWS, FeatureStoreWriter, Progress, h5py

PART_ATTRS = ("part_index", "part_count", "part_set", "part_set_images")


def attr_text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def describe(path):
    """What must agree between parts, read from the file's attributes and dataset shapes."""
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ConvertError(f"{path}: not a readable HDF5 feature store: {e}")
    with f:
        missing = [a for a in PART_ATTRS if a not in f.attrs]
        if missing:
            raise ConvertError(f"{path}: not a part file of features_from_lmdb.py --part "
                               f"(no attribute {missing[0]})")
        return {
            "path": path,
            "index": int(f.attrs["part_index"]), "count": int(f.attrs["part_count"]),
            "set": attr_text(f.attrs["part_set"]), "set_images": int(f.attrs["part_set_images"]),
            "images": f["ids"].shape[0],
            "feature_dim": int(f.attrs["feature_dim"]),
            "fingerprint": attr_text(f.attrs["fingerprint"]),
            "detector": attr_text(f.attrs["detector"]),
            "settings_hash": attr_text(f.attrs["settings_hash"]),
            "dtype": f["features"].dtype,
            "cls_dim": f["cls_prob"].shape[1] if "cls_prob" in f else None,
        }


def sibling(path, index):
    """The name part `index` has next to `path` (a part file named as --part names it)."""
    return re.sub(r"\.part\d+-of-(\d+)\.h5$", rf".part{index}-of-\g<1>.h5", path)


def check_complete(parts, out):
    """Every index 0..N-1 of one N and one selection exactly once, and every image."""
    first = parts[0]
    for p in parts:
        if p["count"] != first["count"] or p["set"] != first["set"]:
            raise ConvertError(f"{p['path']}: part {p['index']}/{p['count']} of id set "
                               f"{p['set']}, but {first['path']} is part of "
                               f"{first['count']} parts of id set {first['set']}")
    by_index = {}
    for p in parts:
        if p["index"] in by_index:
            raise ConvertError(f"{p['path']}: part {p['index']} given twice (also "
                               f"{by_index[p['index']]['path']})")
        by_index[p["index"]] = p
    absent = [i for i in range(first["count"]) if i not in by_index]
    if absent:
        raise ConvertError(f"{out}: incomplete part set: {len(absent)} of {first['count']} "
                           f"parts missing, e.g. part {absent[0]} "
                           f"({sibling(first['path'], absent[0])}); refusing to merge")
    total = sum(p["images"] for p in parts)
    if total != first["set_images"]:
        raise ConvertError(f"{out}: the parts hold {total} images, their id set "
                           f"{first['set_images']}")
    return [by_index[i] for i in range(first["count"])]


def check_compatible(parts):
    first = parts[0]
    for p in parts[1:]:
        for key in ("feature_dim", "fingerprint", "dtype", "cls_dim"):
            if p[key] != first[key]:
                raise ConvertError(f"{p['path']}: {key} {p[key]} differs from {first[key]} of "
                                   f"{first['path']}")


def part_images(path):
    """Yields (id, w, h, boxes, features, cls_prob) of a part, reading blocks of regions."""
    with h5py.File(path, "r") as f:
        ids = f["ids"].asstr()[:]
        offsets, widths, heights = f["offsets"][:], f["image_w"][:], f["image_h"][:]
        has_cls = "cls_prob" in f
        start = 0
        while start < len(ids):
            # As many whole images as fit in FLUSH_ROWS regions (at least one).
            end = max(int(np.searchsorted(offsets, offsets[start] + FLUSH_ROWS, "right")) - 1,
                      start + 1)
            r0, r1 = offsets[start], offsets[end]
            block = {name: f[name][r0:r1] for name in ("boxes", "features")}
            cls = f["cls_prob"][r0:r1] if has_cls else None
            for i in range(start, end):
                a, b = offsets[i] - r0, offsets[i + 1] - r0
                yield (ids[i], int(widths[i]), int(heights[i]), block["boxes"][a:b],
                       block["features"][a:b], None if cls is None else cls[a:b])
            start = end


def new_writer(out, first):
    args = argparse.Namespace(out=out, float16=first["dtype"] == np.float16,
                              detector=first["detector"], settings="", ids_file=None)
    writer = FeatureStoreWriter(args)
    writer.settings_hash = first["settings_hash"]  # the parts' hash, not that of ""
    return writer


def merge(out, paths, progress_seconds=5.0):
    if h5py is None:
        raise SystemExit("error: h5py is not importable by this python; "
                         "run the merge with /usr/bin/python3 (Debian python3-h5py)")
    real_out = os.path.realpath(out)
    if any(os.path.realpath(p) == real_out for p in paths):
        raise ConvertError(f"{out}: the output is one of the parts")
    parts = check_complete([describe(p) for p in paths], out)
    check_compatible(parts)
    writer = new_writer(out, parts[0])
    progress = Progress(os.path.basename(out), parts[0]["set_images"], progress_seconds)
    try:
        for p in parts:
            for image_id, w, h, boxes, features, cls_prob in part_images(p["path"]):
                writer.add(image_id, w, h, boxes, features, cls_prob, p["path"])
                progress.step(features.nbytes + boxes.nbytes)
        n, regions = writer.finish(out)
    except BaseException:
        writer.abort()
        raise
    print(f"{out}: {n} images, {regions} regions from {len(parts)} parts, feature_dim "
          f"{writer.feature_dim}, fingerprint {parts[0]['fingerprint']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the merged .h5 file")
    parser.add_argument("--progress-seconds", type=float, default=5.0)
    parser.add_argument("parts", nargs="+", help="all part files, in any order")
    args = parser.parse_args()
    merge(args.out, args.parts, args.progress_seconds)


if __name__ == "__main__":
    run_main(main)
