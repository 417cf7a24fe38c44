#!/usr/bin/env python3
"""Converts one split of a dataset's official annotation release into vlmt's canonical JSONL
(docs/DATA.md "Annotations"): writes <out>/annotations/<task>/<split>.jsonl and, for the
vocabulary-based VQA tasks, answers.json. Bad input exits with code 3, naming the file and
the offending id or field.

  annotations.py --dataset TASK --input FILE [FILE ...] --out ROOT --split SPLIT [options]

Run `annotations.py --help` for the inputs each dataset takes (also in docs/DATA.md).
--image-ids / --exclude-image-ids restrict any dataset to a set of images (e.g. VQA minval,
or trainval = train + val without minval).
"""
import argparse
import importlib

from common import ConvertError, annotation_path, run_main, write_jsonl

# task key → converter module (each exposes records(args), a generator of canonical dicts)
MODULES = {
    "vqa": "vqa", "vgqa": "vgqa", "gqa": "gqa",
    "retrieval_coco": "retrieval", "retrieval_flickr30k": "retrieval",
    "refcoco": "refer", "refcoco+": "refer", "refcocog": "refer",
    "visual7w": "visual7w", "guesswhat": "guesswhat", "nlvr2": "nlvr2", "snli_ve": "snli_ve",
    "pretrain": "captions",
}

INPUTS = """inputs per dataset:
  vqa                  QUESTIONS.json | Q1 ANN1 [Q2 ANN2 ...]  (+ --vocab-from ANN_train ANN_val)
  vgqa                 question_answers.json   (+ --answers VQA answers.json)
  gqa                  <split>_balanced_questions.json [...] (+ --vocab-from Q_train Q_val)
  retrieval_coco       dataset_coco.json       (--split train = train+restval; val;
                                               test = 1K (first 1000); test5k = all 5K)
  retrieval_flickr30k  dataset_flickr30k.json  (--split train, val, test)
                       (both: + --hard-pool hard_negative.pkl with --split train)
  refcoco, refcoco+    "refs(unc).p" instances.json  (--split train/val/testA/testB)
  refcocog             "refs(umd).p" instances.json  (--split train/val/test)
  visual7w             dataset_v7w_pointing.json
  guesswhat            guesswhat.<split>.jsonl (+ --all-games)
  nlvr2                train.json | dev.json | test1.json
  snli_ve              snli_ve_<split>.jsonl
  pretrain             caption_<split>.json  (Conceptual Captions {image id: caption})"""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=INPUTS,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, choices=sorted(MODULES), help="task key")
    p.add_argument("--input", required=True, nargs="+", help="official release file(s)")
    p.add_argument("--out", required=True, help="data root")
    p.add_argument("--split", required=True, help="output split name (and selected split)")
    p.add_argument("--vocab-from", nargs="+", help="vqa/gqa: files to build answers.json from")
    p.add_argument("--min-answer-count", type=int,
                   help="vqa/gqa: keep answers seen this often (default vqa 9, gqa 1)")
    p.add_argument("--answers", help="vgqa: VQA answers.json (default <out>/annotations/vqa/)")
    p.add_argument("--image-ids", help="keep only records of the image ids in this file "
                   "(one per line; how minval or a VG QA split is selected)")
    p.add_argument("--exclude-image-ids", help="drop records of the image ids in this file")
    p.add_argument("--hard-pool", help="retrieval, --split train: the released "
                   "hard_negative.pkl → <split>_hard_pool.jsonl")
    p.add_argument("--all-games", action="store_true",
                   help="guesswhat: keep unsuccessful and incomplete games too")
    return p.parse_args()


def read_id_set(path):
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return {line.strip() for line in f if line.strip()}
    except OSError as e:
        raise ConvertError(f"{path}: cannot read image id list: {e.strerror}")


def filter_by_image(records, keep, drop):
    """Keeps records whose image(s) are all in `keep` and none in `drop` (None = no limit)."""
    for r in records:
        images = r["image_ids"] if "image_ids" in r else [r["image_id"]]
        if keep is not None and not all(i in keep for i in images):
            continue
        if drop is not None and any(i in drop for i in images):
            continue
        yield r


def main():
    args = parse_args()
    module = importlib.import_module(MODULES[args.dataset])
    path = annotation_path(args.out, args.dataset, args.split)
    records = filter_by_image(module.records(args), read_id_set(args.image_ids),
                              read_id_set(args.exclude_image_ids))
    n = write_jsonl(path, records)
    print(f"{path}: {n} records")


if __name__ == "__main__":
    run_main(main)
