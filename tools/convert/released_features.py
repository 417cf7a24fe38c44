#!/usr/bin/env python3
"""Converts the region-feature LMDBs of the released 12-in-1 data package (the paths of
vilbert_tasks.yml under `datasets/`) into a vlmt data root's feature stores, and names the
stores each task reads where they differ from vlmt's built-in ones.

  released_features.py --data-dir DATASETS --out ROOT [--only coco,vg,...] [--float16] [--force]
  released_features.py --print-overrides [--data-dir DATASETS]

This file is the one place that knows which released LMDB feeds which task. The release ships
one detection LMDB per dataset (RefCOCO, RefCOCO+, RefCOCOg, GQA and Visual7W have their own),
while vlmt's task catalogue (src/catalog/builtin_tasks.cpp) reads COCO's for the referring tasks and
Visual Genome's for Visual7W; --print-overrides prints the `--set tasks.<key>.features=...`
options (TaskHyper::features / gt_features) that make a run read the released files instead.

A store whose LMDBs are absent is reported and skipped (its tasks then fail at evaluation with
the missing file named). A store whose output exists and whose inputs have the sizes and mtimes
recorded at its conversion (features/.<store>.released.json: one file per store, so stores can be
converted by parallel jobs with --only) is skipped; --force redoes it.
Each conversion is tools/convert/features_from_lmdb.py (streaming, restricted unpickler, exit 3
naming the key); its exit code is passed on.
"""
import argparse
import json
import os
import subprocess
import sys

from common import ConvertError, file_stat, run_main, write_json

R = "_resnext152_faster_rcnn_genome.lmdb"
DETECTOR = "resnext152-faster-rcnn-genome"
SETTINGS = "vilbert-multi-task release, 10-100 boxes"


class Store:
    def __init__(self, name, lmdbs, strip_prefix="", optional=()):
        self.name, self.lmdbs, self.strip_prefix = name, lmdbs, strip_prefix
        self.optional = set(optional)  # LMDBs converted when present (a warning otherwise)


# vlmt store (features/<name>.h5) ← released LMDB(s), in vilbert_tasks.yml's order of tasks.
STORES = [
    # VQA's test2015 / test-dev2015 questions are on COCO test2015 images, which the release
    # ships as a separate LMDB; both go into one store (their ids are disjoint).
    Store("coco", ["coco/features_100/COCO_trainval" + R, "coco/features_100/COCO_test" + R],
          optional=["coco/features_100/COCO_test" + R]),
    Store("vg", ["visual_genome/vg" + R]),
    # The Visual7W LMDBs key their images "v7w_<VG id>"; the annotations use the VG id.
    Store("visual7w", ["visual7w/visual7w" + R], "v7w_"),
    Store("visual7w_gt", ["visual7w/visual7w_gt" + R], "v7w_"),
    Store("flickr30k", ["flickr30k/flickr30k" + R]),
    Store("refcoco", ["refcoco/refcoco_unc/refcoco" + R]),
    Store("refcoco_gt", ["refcoco/refcoco_unc/refcoco_gt" + R]),
    Store("refcoco+", ["refcoco/refcoco+_unc/refcoco+" + R]),
    Store("refcoco+_gt", ["refcoco/refcoco+_unc/refcoco+_gt" + R]),
    Store("refcocog", ["refcoco/refcocog_umd/refcocog" + R]),
    Store("refcocog_gt", ["refcoco/refcocog_umd/refcocog_gt" + R]),
    Store("nlvr2", ["nlvr2/nlvr2" + R]),
    Store("gqa", ["gqa/gqa" + R]),
    Store("guesswhat_gt", ["guesswhat/guesswhat_gt" + R]),
]

# Tasks whose released files differ from vlmt's built-in stores: (detections, ground truth).
# The others read the built-in ones: vqa, retrieval_coco coco; vgqa vg; gqa gqa; nlvr2 nlvr2;
# retrieval_flickr30k, snli_ve flickr30k.
TASK_STORES = {
    "refcoco": ("refcoco", "refcoco_gt"),
    "refcoco+": ("refcoco+", "refcoco+_gt"),
    "refcocog": ("refcocog", "refcocog_gt"),
    "visual7w": ("visual7w", "visual7w_gt"),
    "guesswhat": ("coco", "guesswhat_gt"),  # GuessWhatPointing: COCO detections, its own gt
}


def overrides():
    lines = []
    for task, (detections, gt) in TASK_STORES.items():
        lines.append(f"tasks.{task}.features={detections}")
        lines.append(f"tasks.{task}.gt_features={gt}")
    return lines


def data_file(path):
    """The file whose size and mtime stand for an LMDB (its data.mdb when a directory)."""
    return os.path.join(path, "data.mdb") if os.path.isdir(path) else path


def manifest_path(features, store):
    return os.path.join(features, f".{store.name}.released.json")


def read_manifest(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None  # absent or unreadable: the store is converted again


def convert(store, inputs, out, args):
    cmd = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "features_from_lmdb.py"),
           "--out", out, "--detector", DETECTOR, "--settings", SETTINGS]
    if args.float16:
        cmd.append("--float16")
    if store.strip_prefix:
        cmd += ["--strip-prefix", store.strip_prefix]
    print(f"features/{store.name}.h5 ← {', '.join(inputs)}", flush=True)
    rc = subprocess.call(cmd + inputs)
    if rc != 0:
        print(f"error: converting {', '.join(inputs)} to {out} failed (exit {rc})",
              file=sys.stderr)
        sys.exit(rc)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", help="the released datasets/ directory")
    p.add_argument("--out", help="vlmt data root (stores go to ROOT/features/)")
    p.add_argument("--only", help="comma-separated store names (default: every store present)")
    p.add_argument("--float16", action="store_true", help="store features as float16")
    p.add_argument("--force", action="store_true", help="reconvert even unchanged stores")
    p.add_argument("--print-overrides", action="store_true",
                   help="print the tasks.<key>.features / gt_features settings, one per line")
    args = p.parse_args()
    if args.print_overrides:
        print("\n".join(overrides()))
        return
    if not args.data_dir or not args.out:
        p.error("--data-dir and --out are required")
    if not os.path.isdir(args.data_dir):
        raise ConvertError(f"{args.data_dir}: not a directory (the released datasets/ folder)")
    by_name = {s.name: s for s in STORES}
    wanted = [w.strip() for w in args.only.split(",")] if args.only else list(by_name)
    unknown = [w for w in wanted if w not in by_name]
    if unknown:
        p.error(f"unknown store(s) {', '.join(unknown)}; stores: {', '.join(by_name)}")
    features = os.path.join(args.out, "features")
    os.makedirs(features, exist_ok=True)
    converted, unchanged, missing = [], [], []
    for store in (by_name[w] for w in wanted):
        paths = [os.path.join(args.data_dir, rel) for rel in store.lmdbs]
        absent = [p for p, rel in zip(paths, store.lmdbs)
                  if not os.path.exists(data_file(p))]
        required_absent = [p for p, rel in zip(paths, store.lmdbs)
                           if p in absent and rel not in store.optional]
        if required_absent:
            missing.append(f"{store.name} ({', '.join(required_absent)})")
            print(f"features/{store.name}.h5: missing {', '.join(required_absent)}; skipped")
            continue
        for a in absent:
            print(f"warning: features/{store.name}.h5 without {a} (absent): the images only it "
                  f"holds will be missing", file=sys.stderr)
        inputs = [p for p in paths if p not in absent]
        entry = {"inputs": {p: file_stat(data_file(p)) for p in inputs}, "float16": args.float16,
                 "strip_prefix": store.strip_prefix}
        out = os.path.join(features, store.name + ".h5")
        if not args.force and os.path.exists(out) and \
                read_manifest(manifest_path(features, store)) == entry:
            print(f"features/{store.name}.h5: inputs unchanged since the last conversion; skipped")
            unchanged.append(store.name)
            continue
        convert(store, inputs, out, args)
        write_json(manifest_path(features, store), entry, sort_keys=True)
        converted.append(store.name)
    print("summary:")
    print(f"  converted: {', '.join(converted) or 'none'}")
    print(f"  unchanged (skipped): {', '.join(unchanged) or 'none'}")
    print(f"  missing: {', '.join(missing) or 'none'}")


if __name__ == "__main__":
    run_main(main)
