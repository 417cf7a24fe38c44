"""Answer vocabularies (annotations/<task>/answers.json) and soft targets over them."""
import collections
import os

from common import ConvertError, answers_path, load_json, write_json


def build_vocab(counts, min_count):
    """Answers seen at least min_count times, most frequent first, ties alphabetical (the
    official code leaves the order to dict iteration; a fixed order makes files comparable)."""
    kept = [a for a, c in counts.items() if c >= min_count and a != ""]
    return sorted(kept, key=lambda a: (-counts[a], a))


def write_vocab(root, task, answers):
    write_json(answers_path(root, task), {"answers": answers})
    print(f"{answers_path(root, task)}: {len(answers)} answers")


def read_vocab(path):
    data = load_json(path)
    answers = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise ConvertError(f"{path}: expected {{\"answers\": [string, ...]}}")
    return {a: i for i, a in enumerate(answers)}, answers


def vocab_for(args, task, count_answers, default_min_count):
    """The vocabulary of `task`: built from args.vocab_from (files passed to count_answers,
    which returns a Counter) when given, else the answers.json already under args.out."""
    path = answers_path(args.out, task)
    if args.vocab_from:
        counts = collections.Counter()
        for source in args.vocab_from:
            counts.update(count_answers(source))
        min_count = default_min_count if args.min_answer_count is None else args.min_answer_count
        write_vocab(args.out, task, build_vocab(counts, min_count))
    elif not os.path.exists(path):
        raise ConvertError(f"{path}: answer vocabulary missing; pass --vocab-from with the "
                           f"train and val annotation files to build it")
    return read_vocab(path)[0]


def soft_target(normalized_answers, vocab, score_of_count):
    """labels/scores over vocab for one question's (normalised) human answers, by label."""
    counts = collections.Counter(a for a in normalized_answers if a in vocab)
    labels = sorted(vocab[a] for a in counts)
    by_label = {vocab[a]: c for a, c in counts.items()}
    return labels, [score_of_count(by_label[l]) for l in labels]


def vqa_score(count):
    """Training soft score of an answer given by `count` of the annotators: min(1, count/3)."""
    return round(min(1.0, count / 3.0), 6)
