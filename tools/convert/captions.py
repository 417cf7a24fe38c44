"""Pretraining captions: caption_<split>.json as the released Conceptual Captions preprocessing
leaves it ({image id: caption}, the file concept_cap_dataset.py reads) → annotations/pretrain/
<split>.jsonl, one {"image_id", "caption"} line per image in the file's order (the order the
released reader's random-caption draw indexes).
"""
from common import ConvertError, load_json


def records(args):
    if len(args.input) != 1:
        raise ConvertError("pretrain: --input takes one caption_<split>.json")
    path = args.input[0]
    table = load_json(path)
    if not isinstance(table, dict):
        raise ConvertError(f"{path}: expected an object {{image id: caption}}")
    for image_id, caption in table.items():
        if not isinstance(caption, str) or not caption.strip():
            raise ConvertError(f"{path}: image {image_id}: the caption must be a non-empty string, "
                               f"got {caption!r}")
        yield {"image_id": str(image_id), "caption": caption}
