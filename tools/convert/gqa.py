"""GQA balanced questions: {question_id: {imageId, question, answer, ...}} (e.g.
train_balanced_questions.json) → annotations/gqa/<split>.jsonl and answers.json.

--input QUESTIONS.json [...]   several files are concatenated into one split
--vocab-from Q.json [...]   build answers.json from every answer of these files (train+val;
                            --min-answer-count defaults to 1 → 1533 answers for real GQA).
GQA answers are already normalised single words/phrases and are used as given; score 1.
"""
import collections

from answer_vocab import soft_target, vocab_for
from common import ConvertError, field, load_json

TASK = "gqa"
DEFAULT_MIN_COUNT = 1


def question_dict(path):
    data = load_json(path)
    if not isinstance(data, dict):
        raise ConvertError(f"{path}: expected an object keyed by question id")
    return data


def count_answers(path):
    return collections.Counter(str(field(q, "answer", f"{path}: question {qid}"))
                               for qid, q in question_dict(path).items())


def records(args):
    """Questions of every --input file in turn (train + val form GQA's trainval)."""
    files = [(path, question_dict(path)) for path in args.input]
    has_answers = any(isinstance(q, dict) and "answer" in q
                      for _, questions in files for q in questions.values())
    vocab = vocab_for(args, TASK, count_answers, DEFAULT_MIN_COUNT) if has_answers else None
    for path, questions in files:
        for qid, q in questions.items():
            where = f"{path}: question {qid}"
            rec = {"question_id": str(qid), "image_id": str(field(q, "imageId", where)),
                   "question": field(q, "question", where)}
            if vocab is not None:
                raw = str(field(q, "answer", where))
                labels, scores = soft_target([raw], vocab, lambda c: 1.0)
                rec.update(answers=[raw], labels=labels, scores=scores)
            yield rec
