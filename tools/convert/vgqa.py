"""Visual Genome QA: question_answers.json (list of {id, qas: [{qa_id, image_id, question,
answer}]}) → annotations/vgqa/<split>.jsonl, over VQA's answer vocabulary (copied to
annotations/vgqa/answers.json). Each question has one answer, normalised like VQA's; it is
the whole consensus, so its label (when in the vocabulary) gets score 1.

--input question_answers.json
--answers PATH         VQA vocabulary (default <out>/annotations/vqa/answers.json)
(select a train/val split with the dispatcher's --image-ids)
"""
import os

from answer_vocab import read_vocab, soft_target, write_vocab
from common import ConvertError, field, load_json
from vqa_normalize import normalize_answer

TASK = "vgqa"


def records(args):
    if len(args.input) != 1:
        raise ConvertError("vgqa: --input takes question_answers.json")
    path = args.input[0]
    vocab_path = args.answers or os.path.join(args.out, "annotations", "vqa", "answers.json")
    if not os.path.exists(vocab_path):
        raise ConvertError(f"{vocab_path}: VQA answer vocabulary missing; convert vqa first "
                           f"or pass --answers")
    vocab, answers = read_vocab(vocab_path)
    write_vocab(args.out, TASK, answers)
    data = load_json(path)
    if not isinstance(data, list):
        raise ConvertError(f"{path}: expected a list of images with 'qas'")
    for image in data:
        for qa in field(image, "qas", f"{path}: image {image.get('id', '?')}"):
            qid = str(field(qa, "qa_id", f"{path}: image {image.get('id', '?')}"))
            where = f"{path}: question {qid}"
            image_id = str(field(qa, "image_id", where))
            raw = str(field(qa, "answer", where))
            labels, scores = soft_target([normalize_answer(raw)], vocab, lambda c: 1.0)
            yield {"question_id": qid, "image_id": image_id,
                   "question": field(qa, "question", where), "answers": [raw],
                   "labels": labels, "scores": scores}
