#!/usr/bin/env python3
"""A complete miniature copy of the released 12-in-1 data package (facebookresearch/
vilbert-multi-task `datasets/` layout), for the end-to-end release test:

  make_release_world.py OUTDIR [--seed N]

writes
  OUTDIR/datasets/...                  every task's annotation files, all splits including
                                       test (make_released_datasets.write_all(..., Complete()))
  OUTDIR/datasets/<released LMDB>/     the region-feature LMDBs at the paths of
                                       vilbert_tasks.yml, with a record for every image any
                                       split of their tasks references
  OUTDIR/bert-base-uncased-vocab.txt   [PAD] [UNK] [CLS] [SEP] [MASK], then every token of
                                       the texts a model reads (at most 64 lines)

LMDB records are the 12-in-1 form (script/convert_to_lmdb.py of the release; read by
vilbert/datasets/_image_features_reader.py and tools/convert/features_from_lmdb.py): key
b"keys" = pickled list of the keys (bytes, str(image_id).encode()); per image a pickled dict
image_id, image_h, image_w, num_boxes, boxes float32 [n,4] (x1 y1 x2 y2, pixels), features
float32 [n,2048]; no cls_prob. Keys are spelled as the released readers look them up: decimal
COCO / VG / Flickr30k ids, GQA's string ids, NLVR2's "<split>-<set>-<pair>-img0|1", and
"v7w_<VG id>" in both Visual7W LMDBs (visual7w_pointing_dataset.py indexes both readers with
"v7w_" + image_id). Only data.mdb is kept (the release shipped no lock.mdb).

Detected-region LMDBs: 4-10 boxes per image; the image's ground-truth boxes, slightly
jittered, come first (so that some region overlaps each target), then random boxes. Images
that Visual7W, GuessWhat or NLVR2 read have 100 boxes, as every image of the released
features_100 LMDBs has (the released Visual7W/GuessWhat readers take the candidates after a
fixed 101 slots, and NLVR2's reader packs both images into one 2 x 101 row). Features are
sparse non-negative multiples of 1/8 (exact in float16, and compressible golden batches).
Ground-truth LMDBs (*_gt_*): exactly the boxes the annotations use, in x1 y1 x2 y2 as the
converters write them (x, y, x + w, y + h): RefCOCO/+/g every instances.json object of the image
(the refs' targets among them), Visual7W every answer/distractor box of the image's pointing
questions (ordered by box id), GuessWhat every game object of the image (ordered by object id).
Features of an image are a function of (seed, LMDB family, key), so an image under several
LMDBs of one family (a COCO image in COCO_trainval and in refcoco's) has the same features;
the same seed gives the same bytes. The annotations do not depend on the seed.

Which LMDB feeds which vlmt store and task: tools/convert/released_features.py (STORES,
TASK_STORES), the one place that knows it; the LMDBs written here are at its paths.

Pretraining (not part of the released download: users extract Conceptual Captions themselves)
is written in the released feature extractor's and caption preprocessing's forms:
  OUTDIR/conceptual_captions/caption_<train|val>.json   {image id: caption}, as
                                        concept_cap_dataset.py reads caption_train.json
  OUTDIR/conceptual_captions/features/<id>.npz          script/extract_features.py's fields
                                        (bbox, num_boxes, image_width, image_height, features
                                        [36, 2048], cls_prob [36, 1601])
36 boxes per image as the released pretraining data has (its region masking needs exactly 36),
among them boxes of 1-3 pixels where the +1-pixel IoU crosses the 0.4 overlap cut.

The vocabulary holds word pieces for two words (sleep ##ing, dog ##s), an accented word (café →
cafe) and leaves one word out ([UNK]), so that tokenisation is exercised beyond whole words.
world_fingerprint(OUTDIR) is a digest of everything written (LMDB records and .npz arrays by
content), which the golden batches record and their test checks.
"""
import argparse
import hashlib
import json
import os
import pickle
import sys
import time
import unicodedata
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_released_datasets as fixture  # noqa: E402
from make_lmdb_fixture import write_lmdb  # noqa: E402

DIM = 2048          # the released reader reshapes features to (-1, 2048)
W, H = 640, 480
FULL_BOXES = 100    # boxes per image of the released features_100 LMDBs
CC_BOXES = 36       # boxes per image of the released pretraining features
CC_CLASSES = 1601   # detector classes (concept_cap_dataset.py's image_target width)
MAX_VOCAB = 64      # the tiny checkpoint's vocab_size
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PIECES = {"sleeping": ["sleep", "##ing"], "dogs": ["dog", "##s"]}
UNKNOWN = {"zebra"}
CC_CAPTIONS = {"train": ["a man in a café.", "a zebra on the grass.", "two dogs on a red bus.",
                         "a woman with a hat.", "people are sleeping.", "a cat on a blue car."],
               "val": ["a dog in the grass.", "a man with a red hat."]}

R = "_resnext152_faster_rcnn_genome.lmdb"
COCO = "coco/features_100/COCO_trainval" + R
COCO_TEST = "coco/features_100/COCO_test" + R
VG = "visual_genome/vg" + R
GQA = "gqa/gqa" + R
V7W, V7W_GT = "visual7w/visual7w" + R, "visual7w/visual7w_gt" + R
FLICKR = "flickr30k/flickr30k" + R
REFER = {t: (f"refcoco/{t}_{by}/{t}{R}", f"refcoco/{t}_{by}/{t}_gt{R}", f"refs({by}).p")
         for t, by in (("refcoco", "unc"), ("refcoco+", "unc"), ("refcocog", "umd"))}
NLVR2 = "nlvr2/nlvr2" + R
GW_GT = "guesswhat/guesswhat_gt" + R

# Detected LMDB → the gt LMDB whose boxes seed its first regions; family → same features.
HINTS = {COCO: GW_GT, V7W: V7W_GT, **{det: gt for det, gt, _ in REFER.values()}}
FAMILY = {COCO: "coco", COCO_TEST: "coco_test", VG: "vg", GQA: "gqa", V7W: "v7w",
          V7W_GT: "v7w_gt", FLICKR: "flickr30k", NLVR2: "nlvr2", GW_GT: "coco_gt",
          **{det: "coco" for det, _, _ in REFER.values()},
          **{gt: "coco_gt" for _, gt, _ in REFER.values()}}


# ---- what the annotations reference ----------------------------------------------------------
def load(d, rel):
    path = os.path.join(d, rel)
    if rel.endswith((".p", ".pkl")):
        with open(path, "rb") as f:
            return pickle.load(f)  # our own files
    import json
    with open(path) as f:
        if rel.endswith((".jsonl", ".jsonline")) or rel.startswith("nlvr2/"):
            return [json.loads(line) for line in f if line.strip()]
        return json.load(f)


def xyxy(x, y, w, h):
    return [float(x), float(y), float(x) + float(w), float(y) + float(h)]


def referenced(d):
    """{LMDB rel path: {key: [gt boxes]}} read back from the written annotation files, the way
    the released readers find each split's images (boxes only for ground-truth LMDBs), and the
    (LMDB, key) pairs whose images have the full 100 boxes."""
    need, full = {}, set()

    def add(lmdb, key, boxes=()):
        entry = need.setdefault(lmdb, {}).setdefault(str(key), [])
        for b in boxes:
            if b not in entry:
                entry.append(b)

    q = "VQA/v2_OpenEnded_mscoco_{}_questions.json"
    for s in ("train2014", "val2014"):
        for x in load(d, q.format(s))["questions"]:
            add(COCO, x["image_id"])
    for s in ("test2015", "test-dev2015"):
        for x in load(d, q.format(s))["questions"]:
            add(COCO_TEST, x["image_id"])
    r = "cocoRetreival/all_data_final_{}_2014.jsonline"
    f = "flickr30k/all_data_final_{}_2014.jsonline"
    for s in ("train", "val_set0", "test_set0"):
        for x in load(d, r.format(s)):
            add(COCO, x["id"])
        for x in load(d, f.format(s)):
            add(FLICKR, int(x["img_path"].split(".")[0]))
    objects = {}   # GuessWhat: every object of an image, in object id order
    for s in ("train", "valid", "test"):
        for game in load(d, f"guesswhat/guesswhat.{s}.jsonl"):
            image = game["image"]["id"]
            add(COCO, image)
            full.add((COCO, str(image)))
            for o in game["objects"]:
                objects.setdefault(image, {})[o["id"]] = xyxy(*o["bbox"])
    for image, boxes in objects.items():
        add(GW_GT, image, [boxes[i] for i in sorted(boxes)])
    for t in load(d, "visual_genome/cache/trainval_target.pkl"):
        add(VG, t["image_id"])
    for t in load(d, "gqa/cache/trainval_target.pkl"):
        add(GQA, t["image_id"])
    for x in load(d, "gqa/testdev_balanced_questions.json").values():
        add(GQA, x["imageId"])
    v7w = load(d, "visual7w/dataset_v7w_pointing.json")
    boxes = {b["box_id"]: xyxy(b["x"], b["y"], b["width"], b["height"]) for b in v7w["boxes"]}
    for img in v7w["images"]:
        key = f"v7w_{img['image_id']}"
        ids = sorted({b for qa in img["qa_pairs"] for b in [qa["answer"]] + qa["multiple_choices"]})
        add(V7W, key)
        full.add((V7W, key))
        add(V7W_GT, key, [boxes[b] for b in ids])
    for task, (det, gt, refs) in REFER.items():
        objects = {}
        for a in load(d, f"refcoco/{task}/instances.json")["annotations"]:
            objects.setdefault(a["image_id"], []).append(xyxy(*a["bbox"]))
        for ref in load(d, f"refcoco/{task}/{refs}"):
            add(det, ref["image_id"])
            add(gt, ref["image_id"], objects[ref["image_id"]])
    for s in ("train", "dev", "test1", "test"):
        for x in load(d, f"nlvr2/{s}.json"):
            stem = "-".join(x["identifier"].split("-")[:-1])
            for side in ("-img0", "-img1"):
                add(NLVR2, stem + side)
                full.add((NLVR2, stem + side))
    for s in ("train", "dev", "test"):
        for x in load(d, f"visual_entailment/snli_ve_{s}.jsonl"):
            add(FLICKR, int(x["Flikr30kID"].split(".")[0]))
    return need, full


# ---- the LMDBs -------------------------------------------------------------------------------
def random_boxes(rng, n):
    x1 = rng.uniform(0, W - 40, n)
    y1 = rng.uniform(0, H - 40, n)
    return np.stack([x1, y1, x1 + rng.uniform(20, W - x1), y1 + rng.uniform(20, H - y1)], 1)


def jitter(rng, boxes):
    b = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    size = np.maximum(np.concatenate([b[:, 2:] - b[:, :2]] * 2, 1), 1.0)
    b = b + rng.uniform(-0.1, 0.1, b.shape) * size
    b[:, 2:] = np.maximum(b[:, 2:], b[:, :2] + 1)
    return np.clip(b, 0, [W, H, W, H])


def region_features(rng, n):
    """ResNeXt pooled features are non-negative and sparse: here about 1 in 6 entries is
    non-zero, in multiples of 1/8."""
    return (np.round(np.maximum(rng.standard_normal((n, DIM)) - 1, 0) * 8) / 8).astype(np.float32)


def record(seed, lmdb, key, gt_boxes, hint_boxes, full):
    rng = np.random.default_rng([seed, zlib.crc32(FAMILY[lmdb].encode()), zlib.crc32(key.encode())])
    if gt_boxes:
        boxes = np.array(gt_boxes, dtype=np.float64)
    else:
        n = FULL_BOXES if full else int(rng.integers(4, 11))
        first = jitter(rng, hint_boxes)[:n - 1] if hint_boxes else np.zeros((0, 4))
        boxes = np.concatenate([first, random_boxes(rng, n - len(first))])
    n = len(boxes)
    return {"image_id": int(key) if key.isdigit() else key, "image_h": H, "image_w": W,
            "num_boxes": n, "boxes": boxes.astype(np.float32), "features": region_features(rng, n)}


def write_lmdbs(d, need, full, seed):
    summary = []
    for lmdb in sorted(need):
        images = need[lmdb]
        gt = "_gt_" in lmdb
        hints = need.get(HINTS.get(lmdb), {})
        path = os.path.join(d, lmdb)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        values, keys, regions = {}, [], 0
        for key, boxes in images.items():
            if gt and not boxes:
                raise SystemExit(f"{lmdb}: image {key} has no ground-truth boxes")
            item = record(seed, lmdb, key, boxes if gt else None, hints.get(key), (lmdb, key) in full)
            regions += item["num_boxes"]
            keys.append(key.encode())
            values[key.encode()] = pickle.dumps(item)
        write_lmdb(path, keys, values)
        lock = os.path.join(path, "lock.mdb")
        if os.path.exists(lock):
            os.remove(lock)
        summary.append((lmdb, len(keys), regions, os.path.getsize(os.path.join(path, "data.mdb"))))
    return summary


# ---- vocabulary ------------------------------------------------------------------------------
# BERT-uncased basic tokenisation (lower-case, strip accents, split off punctuation): the golden
# tools' reference tokenizer, written from the published algorithm, so the world's vocabulary and
# the tokens the released classes see come from one definition.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "dev",
                                "golden"))
from reference_tokenizer import basic_tokens  # noqa: E402


def vocabulary(texts):
    words = set()
    for token in {t for text in texts for t in basic_tokens(text)} - UNKNOWN:
        words.update(PIECES.get(token, [token]))
    vocab = SPECIAL + sorted(words)
    if len(vocab) > MAX_VOCAB:
        raise SystemExit(f"vocabulary has {len(vocab)} entries (> {MAX_VOCAB}): {words}")
    return vocab


# ---- pretraining (Conceptual Captions as the released preprocessing leaves it) ---------------
def cc_boxes(rng):
    """36 boxes: six pairs of 2x1-pixel boxes one pixel apart (IoU 1/3 with continuous corners,
    1/2 with +1 pixel: each pair crosses the 0.4 overlap cut), a pair of 3x2-pixel boxes (1/2 and
    3/5: both above it), a box overlapping a larger one, then random boxes."""
    pairs = [[x, 10, x + 2, 11] for x0 in range(10, 70, 10) for x in (x0, x0 + 1)]
    crafted = np.array(pairs + [[50, 50, 53, 52], [51, 50, 54, 52], [100, 100, 200, 180],
                                [110, 105, 205, 190]], dtype=np.float64)
    return np.concatenate([crafted, random_boxes(rng, CC_BOXES - len(crafted))])


def cc_class_scores(rng):
    """A detector's class distribution per box: three classes with 1/2, 1/4, 1/4."""
    p = np.zeros((CC_BOXES, CC_CLASSES), dtype=np.float32)
    for row in p:
        row[rng.choice(CC_CLASSES, 3, replace=False)] = (0.5, 0.25, 0.25)
    return p


def write_pretraining(outdir, seed, complete):
    cc = os.path.join(outdir, "conceptual_captions")
    os.makedirs(os.path.join(cc, "features"))
    number = 1000
    for split, captions in CC_CAPTIONS.items():
        table = {}
        for caption in captions:
            number += 1
            image_id = str(number)
            table[image_id] = complete.text(caption)
            rng = np.random.default_rng([seed, zlib.crc32(b"cc"), number])
            np.savez(os.path.join(cc, "features", image_id + ".npz"),
                     bbox=cc_boxes(rng).astype(np.float32), num_boxes=np.int64(CC_BOXES),
                     image_width=np.int64(W), image_height=np.int64(H),
                     features=region_features(rng, CC_BOXES), cls_prob=cc_class_scores(rng))
        with open(os.path.join(cc, f"caption_{split}.json"), "w") as f:
            json.dump(table, f)


# ---- fingerprint -----------------------------------------------------------------------------
def world_fingerprint(outdir):
    """SHA-256 of every file under outdir by content: LMDBs by their sorted records, .npz files by
    their arrays (zip entries carry timestamps), other files by their bytes."""
    import lmdb
    digest = hashlib.sha256()
    for root, dirs, names in os.walk(outdir):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, outdir).encode() + b"\0")
            if name == "data.mdb":
                env = lmdb.open(root, readonly=True, lock=False)
                with env.begin() as txn:
                    for key, value in sorted(txn.cursor()):
                        digest.update(key + b"\0" + value)
                env.close()
            elif name.endswith(".npz"):
                with np.load(path) as z:
                    for key in sorted(z.files):
                        digest.update(key.encode() + z[key].tobytes())
            elif not name.endswith(".mdb"):
                with open(path, "rb") as f:
                    digest.update(f.read())
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--seed", type=int, default=0, help="region features (default 0)")
    args = parser.parse_args()
    start = time.monotonic()
    if os.path.isdir(args.outdir) and os.listdir(args.outdir):
        sys.exit(f"{args.outdir} is not empty (the LMDBs would be appended to)")
    d = os.path.join(args.outdir, "datasets")
    complete = fixture.Complete()
    fixture.write_all(d, complete)
    need, full = referenced(d)
    summary = write_lmdbs(d, need, full, args.seed)
    write_pretraining(args.outdir, args.seed, complete)
    vocab = vocabulary(complete.texts)
    with open(os.path.join(args.outdir, "bert-base-uncased-vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    total = sum(os.path.getsize(os.path.join(root, name))
                for root, _, names in os.walk(args.outdir) for name in names)
    for lmdb, n, regions, size in summary:
        print(f"{lmdb}: {n} images, {regions} regions, {size / 1e6:.2f} MB")
    print(f"vocabulary: {len(vocab)} entries; {args.outdir}: {total / 1e6:.1f} MB, "
          f"{time.monotonic() - start:.1f} s")
    print(f"fingerprint: {world_fingerprint(args.outdir)}")


if __name__ == "__main__":
    main()
