"""RefCOCO / RefCOCO+ / RefCOCOg: refs(unc).p or refs(umd).p (a pickled list of refs with
ref_id, ann_id, image_id, split, sentences[{sent_id, sent, raw}]) + instances.json (COCO
annotations with bbox [x, y, w, h]) → annotations/<refcoco|refcoco+|refcocog>/<split>.jsonl,
one line per referring expression, box [x1, y1, x2, y2].

--input REFS.p INSTANCES.json ;  --split train | val | testA | testB | test (as in the refs;
"test" selects every ref whose split contains "test": RefCOCO's testA ∪ testB).
Lines carry "sent_id" besides the documented fields, since one ref has several expressions.
"""
from common import ConvertError, field, load_json, xywh_to_xyxy
import safe_pickle


def load_refs(path):
    """The released pickles were written by Python 2 (str read as latin-1, which equals ASCII
    where they are ASCII); untrusted, so read by the restricted unpickler."""
    refs = safe_pickle.load(path)
    if not isinstance(refs, list):
        raise ConvertError(f"{path}: expected a pickled list of refs")
    return refs


def load_boxes(inst_path):
    """{annotation id: [x1, y1, x2, y2]} of a COCO-style instances.json."""
    boxes = {}
    for ann in field(load_json(inst_path), "annotations", inst_path):
        ann_id = field(ann, "id", inst_path)
        boxes[ann_id] = xywh_to_xyxy(field(ann, "bbox", f"{inst_path}: annotation {ann_id}"),
                                     f"{inst_path}: annotation {ann_id}")
    return boxes


def split_records(refs, refs_path, boxes, inst_path, split, text_key="sent"):
    """One line per sentence of the refs of `split`, in file order. text_key: the sentence
    field used as the expression ("sent" here; the released vilbert-multi-task reader uses
    "raw")."""
    splits = {field(r, "split", refs_path) for r in refs}

    # "test" is every ref whose split contains "test" (RefCOCO's testA ∪ testB, RefCOCOg's test),
    # as the released refer tool selects it and the paper's Table 2 reports it.
    def selected(ref_split):
        return "test" in ref_split if split == "test" else ref_split == split
    if not any(selected(s) for s in splits):
        raise ConvertError(f"{refs_path}: no refs with split '{split}' "
                           f"(splits present: {', '.join(sorted(splits))})")
    for ref in refs:
        if not selected(ref["split"]):
            continue
        ref_id = field(ref, "ref_id", refs_path)
        where = f"{refs_path}: ref {ref_id}"
        ann_id = field(ref, "ann_id", where)
        if ann_id not in boxes:
            raise ConvertError(f"{where}: ann_id {ann_id} not found in {inst_path}")
        for sentence in field(ref, "sentences", where):
            yield {"ref_id": str(ref_id), "image_id": str(field(ref, "image_id", where)),
                   "expression": field(sentence, text_key, where), "box": boxes[ann_id],
                   "sent_id": str(field(sentence, "sent_id", where))}


def records(args):
    if len(args.input) != 2:
        raise ConvertError(f"{args.dataset}: --input takes REFS.p INSTANCES.json")
    refs_path, inst_path = args.input
    refs = load_refs(refs_path)
    yield from split_records(refs, refs_path, load_boxes(inst_path), inst_path, args.split)
