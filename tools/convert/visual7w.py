"""Visual7W pointing: dataset_v7w_pointing.json ({images: [{image_id, split, qa_pairs:
[{qa_id, question, answer: box id, multiple_choices: [box id, ...]}]}], boxes: [{box_id, x,
y, width, height}]}) → annotations/visual7w/<split>.jsonl.

Candidates are the answer box and the distractor boxes ordered by box id (so the answer's
position carries no information); "answer" is its index. Image ids are Visual Genome ids.
"""
from common import ConvertError, field, load_json, xywh_to_xyxy


def records(args):
    if len(args.input) != 1:
        raise ConvertError("visual7w: --input takes dataset_v7w_pointing.json")
    path = args.input[0]
    data = load_json(path)
    boxes = {}
    for b in field(data, "boxes", path):
        box_id = field(b, "box_id", path)
        where = f"{path}: box {box_id}"
        boxes[box_id] = xywh_to_xyxy([field(b, k, where) for k in ("x", "y", "width", "height")],
                                     where)
    for image in field(data, "images", path):
        image_id = str(field(image, "image_id", path))
        if field(image, "split", f"{path}: image {image_id}") != args.split:
            continue
        for qa in field(image, "qa_pairs", f"{path}: image {image_id}"):
            qa_id = str(field(qa, "qa_id", f"{path}: image {image_id}"))
            where = f"{path}: qa {qa_id}"
            answer = field(qa, "answer", where)
            choices = sorted(set([answer] + list(field(qa, "multiple_choices", where))))
            for box_id in choices:
                if box_id not in boxes:
                    raise ConvertError(f"{where}: box id {box_id} not in 'boxes'")
            yield {"id": qa_id, "image_id": image_id, "text": field(qa, "question", where),
                   "candidates": [boxes[b] for b in choices], "answer": choices.index(answer)}
