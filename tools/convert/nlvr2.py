"""NLVR2: train.json / dev.json / test1.json (JSON Lines: identifier, sentence, label
"True"/"False") → annotations/nlvr2/<split>.jsonl. The identifier "<split>-<set>-<pair>-<sent>"
names the image pair "<split>-<set>-<pair>-img0" (left) and "-img1" (right), as in the
released images' file names.
"""
from common import ConvertError, field, iter_jsonl

LABELS = {"True": True, "False": False, True: True, False: False}


def image_pair(identifier, where):
    parts = identifier.split("-")
    if len(parts) != 4 or not all(parts):
        raise ConvertError(f"{where}: identifier '{identifier}' is not <split>-<set>-<pair>-<n>")
    stem = "-".join(parts[:3])
    return [f"{stem}-img0", f"{stem}-img1"]


def records(args):
    if len(args.input) != 1:
        raise ConvertError("nlvr2: --input takes one NLVR2 .json (JSON Lines) file")
    path = args.input[0]
    for lineno, ex in iter_jsonl(path):
        identifier = str(field(ex, "identifier", f"{path}:{lineno}"))
        where = f"{path}:{lineno}: pair {identifier}"
        label = field(ex, "label", where)
        if label not in LABELS:
            raise ConvertError(f"{where}: label {label!r} is not \"True\" or \"False\"")
        yield {"pair_id": identifier, "image_ids": image_pair(identifier, where),
               "sentence": field(ex, "sentence", where), "label": LABELS[label]}
