"""SNLI-VE: snli_ve_<train|dev|test>.jsonl (Flikr30kID, sentence2, gold_label, pairID) →
annotations/snli_ve/<split>.jsonl. The premise is the Flickr30k image named by Flikr30kID
(file name; the id is its stem); the hypothesis is sentence2.
"""
from common import ConvertError, field, image_id_from_filename, iter_jsonl

LABELS = ("entailment", "neutral", "contradiction")
# The released visual_entailment_dataset.py (and vlmt's vil_tri_prediction rows,
# kSnliVeLabels in src/data/annotations.h) number the classes in this order.
RELEASED_LABEL_ORDER = ("contradiction", "neutral", "entailment")
NO_GOLD_LABEL = "-"  # SNLI's "no consensus" label; the released reader keeps such pairs unlabelled


def records(args):
    if len(args.input) != 1:
        raise ConvertError("snli_ve: --input takes one snli_ve_<split>.jsonl")
    path = args.input[0]
    for lineno, ex in iter_jsonl(path):
        pair_id = str(field(ex, "pairID", f"{path}:{lineno}"))
        where = f"{path}:{lineno}: pair {pair_id}"
        label = field(ex, "gold_label", where)
        if label == NO_GOLD_LABEL and getattr(args, "keep_unlabelled", False):
            label = None
        elif label not in LABELS:
            raise ConvertError(f"{where}: gold_label {label!r} is not one of {', '.join(LABELS)}")
        image_id = image_id_from_filename(field(ex, "Flikr30kID", where))
        rec = {"pair_id": pair_id, "image_id": image_id,
               "hypothesis": field(ex, "sentence2", where)}
        if label is not None:
            rec["label"] = label
        yield rec
