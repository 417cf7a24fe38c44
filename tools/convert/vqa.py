"""VQA v2: v2_OpenEnded_mscoco_<split>_questions.json (+ v2_mscoco_<split>_annotations.json)
→ annotations/vqa/<split>.jsonl and answers.json.

--input QUESTIONS [ANNOTATIONS]   (test splits have no annotations); several
        Q1 A1 Q2 A2 ... pairs are concatenated (trainval = train + val, with
        --exclude-image-ids for the minval images)
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


def input_pairs(inputs):
    """[Q] → [(Q, None)]; [Q1, A1, Q2, A2, ...] → [(Q1, A1), (Q2, A2), ...]."""
    if len(inputs) == 1:
        return [(inputs[0], None)]
    if len(inputs) % 2:
        raise ConvertError("vqa: --input takes QUESTIONS.json, or QUESTIONS ANNOTATIONS pairs")
    return list(zip(inputs[0::2], inputs[1::2]))


def records_of(qpath, apath, vocab):
    questions = field(load_json(qpath), "questions", qpath)
    by_qid = {}
    if apath is not None:
        for a in annotation_list(apath):
            by_qid[str(field(a, "question_id", apath))] = a
    for q in questions:
        qid = str(field(q, "question_id", qpath))
        where = f"{qpath}: question {qid}"
        rec = {"question_id": qid, "image_id": str(field(q, "image_id", where)),
               "question": field(q, "question", where)}
        if apath is not None:
            if qid not in by_qid:
                raise ConvertError(f"{apath}: no annotation for question {qid}")
            raw = human_answers(by_qid[qid], f"{apath}: question {qid}")
            labels, scores = soft_target([normalize_answer(a) for a in raw], vocab, vqa_score)
            rec.update(answers=raw, labels=labels, scores=scores)
        yield rec


def records(args):
    pairs = input_pairs(args.input)
    annotated = pairs[0][1] is not None
    vocab = vocab_for(args, TASK, count_multiple_choice_answers, DEFAULT_MIN_COUNT) \
        if annotated else None
    for qpath, apath in pairs:
        yield from records_of(qpath, apath, vocab)
