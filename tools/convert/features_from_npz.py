#!/usr/bin/env python3
"""Per-image .npz region features → vlmt HDF5 store.

Accepted keys (first one present wins):
  features : features | x                       float [N, D]
  boxes    : boxes | bbox                       float [N, 4], x1 y1 x2 y2 in pixels
  image_w  : image_w | image_width | w          scalar
  image_h  : image_h | image_height | h         scalar
  num_boxes: num_boxes | num_bbox (optional)    scalar, checked against N
  cls_prob : cls_prob (optional)                float [N, C]
  image_id : image_id (optional)                scalar; otherwise the file name without .npz

  features_from_npz.py --out features/coco.h5 [--float16] [--detector NAME]
                       [--settings TEXT] [--ids-file IDS] DIR_OR_NPZ [...]
Directories are scanned for *.npz (sorted by name); files are read in the order given.
"""
import os
import zipfile

import numpy as np

from common import ConvertError, run_main
from feature_store import convert, new_parser

KEYS = {
    "features": ("features", "x"),
    "boxes": ("boxes", "bbox"),
    "image_w": ("image_w", "image_width", "w"),
    "image_h": ("image_h", "image_height", "h"),
    "num_boxes": ("num_boxes", "num_bbox"),
    "cls_prob": ("cls_prob",),
    "image_id": ("image_id",),
}
OPTIONAL = {"num_boxes", "cls_prob", "image_id"}


def pick(data, what, path):
    for key in KEYS[what]:
        if key in data.files:
            return data[key]
    if what in OPTIONAL:
        return None
    raise ConvertError(f"{path}: image {image_id_of(path)}: none of the keys "
                       f"{'/'.join(KEYS[what])} present (keys: {', '.join(data.files)})")


def image_id_of(path):
    return os.path.splitext(os.path.basename(path))[0]


def scalar(value, what, where):
    try:
        return int(np.asarray(value).reshape(()))
    except (ValueError, TypeError):
        raise ConvertError(f"{where}: '{what}' is not a scalar")


def read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as data:
            raw_id = pick(data, "image_id", path)
            image_id = image_id_of(path) if raw_id is None else str(np.asarray(raw_id).item())
            where = f"{path}: image {image_id}"
            feats = np.asarray(pick(data, "features", path), dtype=np.float32)
            boxes = np.asarray(pick(data, "boxes", path), dtype=np.float32)
            w = scalar(pick(data, "image_w", path), "image_w", where)
            h = scalar(pick(data, "image_h", path), "image_h", where)
            num = pick(data, "num_boxes", path)
            cls = pick(data, "cls_prob", path)
            cls = None if cls is None else np.asarray(cls, dtype=np.float32)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
        raise ConvertError(f"{path}: image {image_id_of(path)}: unreadable .npz "
                           f"(truncated file?): {e}")
    if num is not None and scalar(num, "num_boxes", where) != feats.shape[0]:
        raise ConvertError(f"{where}: num_boxes {scalar(num, 'num_boxes', where)} but "
                           f"features have {feats.shape[0]} rows")
    return image_id, w, h, boxes, feats, cls, path


def npz_files(inputs):
    for item in inputs:
        if os.path.isdir(item):
            for name in sorted(os.listdir(item)):
                if name.endswith(".npz"):
                    yield os.path.join(item, name)
        elif os.path.exists(item):
            yield item
        else:
            raise ConvertError(f"{item}: no such file or directory")


def main():
    parser = new_parser(__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", help=".npz files or directories of them")
    args = parser.parse_args()
    images = map(read_npz, npz_files(args.inputs))
    convert(args, ", ".join(args.inputs), images)


if __name__ == "__main__":
    run_main(main)
