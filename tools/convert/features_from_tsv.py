#!/usr/bin/env python3
"""Region features in the bottom-up-attention TSV format → vlmt HDF5 store.

Each line is tab-separated: image_id, image_w, image_h, num_boxes, boxes, features
[, cls_prob], where boxes/features/cls_prob are base64 of little-endian float32 arrays of
shape [N,4], [N,D], [N,C]. Other column orders (e.g. LXMERT's img_id, img_h, img_w, objects_id,
..., num_boxes, boxes, features) are read with --fields; columns not named below are ignored.

  features_from_tsv.py --out features/coco.h5 [--float16] [--detector NAME]
                       [--settings TEXT] [--ids-file IDS] [--fields a,b,...] TSV [TSV ...]
"""
import base64
import binascii

import numpy as np

from common import ConvertError, run_main
from feature_store import convert, new_parser

DEFAULT_FIELDS = ["image_id", "image_w", "image_h", "num_boxes", "boxes", "features"]
ALIASES = {"img_id": "image_id", "img_w": "image_w", "img_h": "image_h"}
REQUIRED = set(DEFAULT_FIELDS)


def decode_floats(text, cols, num_boxes, name, where):
    """base64 float32 → [num_boxes, cols]; cols=None infers it from the byte count."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConvertError(f"{where}: column '{name}' is not valid base64 (truncated line?)")
    if len(raw) % 4 or num_boxes <= 0 or (len(raw) // 4) % num_boxes:
        raise ConvertError(f"{where}: column '{name}' holds {len(raw)} bytes, not a float32 "
                           f"array of {num_boxes} rows (truncated line?)")
    values = np.frombuffer(raw, dtype="<f4")
    inferred = values.size // num_boxes
    if cols is not None and inferred != cols:
        raise ConvertError(f"{where}: column '{name}' has {inferred} values per box, "
                           f"expected {cols} (truncated line?)")
    return values.reshape(num_boxes, inferred)


def parse_int(text, name, where):
    try:
        return int(float(text))
    except ValueError:
        raise ConvertError(f"{where}: column '{name}' is not a number: {text[:40]!r}")


def numbered_lines(f, path):
    """The file's lines; a byte that is not UTF-8 (a corrupt download) is a data error."""
    lineno = 0
    try:
        for lineno, line in enumerate(f, 1):
            yield line
    except UnicodeDecodeError:
        raise ConvertError(f"{path}:{lineno + 1}: not UTF-8 text (corrupt file?)")


def read_tsv(path, fields):
    index = {name: i for i, name in enumerate(fields)}
    try:
        f = open(path, encoding="utf-8", newline="")
    except OSError as e:
        raise ConvertError(f"{path}: cannot read: {e.strerror}")
    with f:
        for lineno, line in enumerate(numbered_lines(f, path), 1):
            if not line.strip():
                continue
            cols = line.rstrip("\r\n").split("\t")
            image_id = cols[0] if cols else "?"
            where = f"{path}:{lineno}"
            if len(cols) < len(fields):
                raise ConvertError(f"{where}: image {image_id}: {len(cols)} columns, expected "
                                   f"{len(fields)} (truncated line?)")
            has_cls = "cls_prob" in index or (fields == DEFAULT_FIELDS and len(cols) == 7)
            col = lambda name: cols[index.get(name, 6 if name == "cls_prob" else -1)]
            where_id = f"{where}: image {col('image_id')}"
            n = parse_int(col("num_boxes"), "num_boxes", where_id)
            boxes = decode_floats(col("boxes"), 4, n, "boxes", where_id)
            feats = decode_floats(col("features"), None, n, "features", where_id)
            cls_prob = decode_floats(col("cls_prob"), None, n, "cls_prob", where_id) \
                if has_cls else None
            yield (col("image_id"), parse_int(col("image_w"), "image_w", where_id),
                   parse_int(col("image_h"), "image_h", where_id), boxes, feats, cls_prob, where)


def main():
    parser = new_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--fields", help="comma-separated column names (default: "
                        + ",".join(DEFAULT_FIELDS) + "[,cls_prob])")
    parser.add_argument("tsv", nargs="+", help="input .tsv file(s), read in order")
    args = parser.parse_args()
    fields = DEFAULT_FIELDS
    if args.fields:
        fields = [ALIASES.get(n.strip(), n.strip()) for n in args.fields.split(",")]
        missing = REQUIRED - set(fields)
        if missing:
            parser.error(f"--fields lacks {', '.join(sorted(missing))}")
    images = (img for path in args.tsv for img in read_tsv(path, fields))
    convert(args, ", ".join(args.tsv), images)


if __name__ == "__main__":
    run_main(main)
