"""VQA v2: v2_OpenEnded_mscoco_<split>_questions.json (+ v2_mscoco_<split>_annotations.json)
→ annotations/vqa/<split>.jsonl and answers.json.

--input QUESTIONS [ANNOTATIONS]   (test splits have no annotations)
--vocab-from ANN [ANN ...]        build answers.json from these annotation files (train+val);
                                  an answer enters when it is the multiple_choice_answer of
                                  at least --min-answer-count questions (default 9 → 3129).
"""
import collections

from answer_vocab import soft_target, vocab_for, vqa_score
from common import ConvertError, field, load_json
from vqa_normalize import normalize_answer

TASK = "vqa"
DEFAULT_MIN_COUNT = 9


def annotation_list(path):
    data = load_json(path)
    return field(data, "annotations", path)


def count_multiple_choice_answers(path):
    counts = collections.Counter()
    for a in annotation_list(path):
        qid = a.get("question_id", "?") if isinstance(a, dict) else "?"
        counts[normalize_answer(field(a, "multiple_choice_answer", f"{path}: question {qid}"))] += 1
    return counts


def human_answers(ann, where):
    answers = field(ann, "answers", where)
    if not isinstance(answers, list) or not answers:
        raise ConvertError(f"{where}: 'answers' must be a non-empty list")
    return [str(field(a, "answer", where)) for a in answers]


def records(args):
    if len(args.input) not in (1, 2):
        raise ConvertError("vqa: --input takes QUESTIONS.json [ANNOTATIONS.json]")
    qpath = args.input[0]
    questions = field(load_json(qpath), "questions", qpath)
    by_qid = {}
    vocab = None
    if len(args.input) == 2:
        apath = args.input[1]
        vocab = vocab_for(args, TASK, count_multiple_choice_answers, DEFAULT_MIN_COUNT)
        for a in annotation_list(apath):
            qid = str(field(a, "question_id", apath))
            by_qid[qid] = (a, f"{apath}: question {qid}")
    for q in questions:
        qid = str(field(q, "question_id", qpath))
        where = f"{qpath}: question {qid}"
        rec = {"question_id": qid, "image_id": str(field(q, "image_id", where)),
               "question": field(q, "question", where)}
        if vocab is not None:
            if qid not in by_qid:
                raise ConvertError(f"{args.input[1]}: no annotation for question {qid}")
            ann, awhere = by_qid[qid]
            raw = human_answers(ann, awhere)
            labels, scores = soft_target([normalize_answer(a) for a in raw], vocab, vqa_score)
            rec.update(answers=raw, labels=labels, scores=scores)
        yield rec
