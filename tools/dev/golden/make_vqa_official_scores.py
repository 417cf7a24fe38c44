#!/usr/bin/env python3
"""Scores of the official VQA evaluation (GT-Vision-Lab/VQA, PythonEvaluationTools/vqaEvaluation/
vqaEval.py; imported from a checkout given with --vqa, nothing of it is copied here) for random
questions, for tests/unit/test_eval_vqa.cpp: each line of the output is

  {"answers": [10 human answers], "prediction": "...", "accuracy": official accuracy in [0, 1]}

The script is Python 2 (print statements); it is converted with Python's lib2to3 in memory and
its VQAEval.evaluate() runs unchanged on stand-in vqa / vqaRes objects that hold the questions
(what its accuracy loop reads: qa[id]['answers'], 'question_type', 'answer_type', and the
result's qa[id]['answer']), with n = 12 decimals instead of 2.

The answers are drawn from variants of a few answers (case, articles, number words, punctuation,
surrounding whitespace, contractions); about a third of the questions are unanimous, often in a
capitalisation other than the prediction's, where the official script compares without
normalising. Not run by CI:

    /usr/bin/python3 tools/dev/golden/make_vqa_official_scores.py --vqa DIR \\
        [--out tests/data/vqa_official_scores.jsonl] [--n 1500]
"""
import argparse
import json
import os
import random
import sys
import types

BASES = ["yes", "no", "2", "two", "red", "the table", "table", "dont know", "don't know",
         "1,000", "1000", "left-right", "3.5", "a dog", "dog", "none", "0", "ten", "10"]


def variant(rng, answer):
    """A human's way of writing `answer`."""
    choice = rng.random()
    if choice < 0.15:
        answer = answer.capitalize()
    elif choice < 0.2:
        answer = answer.upper()
    elif choice < 0.3:
        answer = answer + rng.choice([".", "!", "?", " ."])
    elif choice < 0.35:
        answer = rng.choice([" ", "\t", "\n"]) + answer + rng.choice(["", " ", "\n"])
    return answer


def question(rng):
    if rng.random() < 0.35:  # unanimous, one spelling
        answers = [variant(rng, rng.choice(BASES))] * 10
    else:
        pool = [rng.choice(BASES) for _ in range(rng.randint(1, 4))]
        answers = [variant(rng, rng.choice(pool)) for _ in range(10)]
    prediction = variant(rng, rng.choice(answers if rng.random() < 0.7 else BASES))
    return answers, prediction


def official_vqa_eval(checkout):
    from lib2to3 import refactor
    path = os.path.join(checkout, "PythonEvaluationTools", "vqaEvaluation", "vqaEval.py")
    with open(path, encoding="utf-8") as f:
        source = f.read()
    tool = refactor.RefactoringTool(refactor.get_fixers_from_package("lib2to3.fixes"))
    module = types.ModuleType("vqaEval")
    exec(compile(str(tool.refactor_string(source, path)), path, "exec"), module.__dict__)
    return module.VQAEval


class Annotations(object):
    def __init__(self, qa):
        self.qa = qa

    def getQuesIds(self):
        return list(self.qa)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vqa", required=True, help="checkout of GT-Vision-Lab/VQA")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests",
                                                  "data", "vqa_official_scores.jsonl"))
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    VQAEval = official_vqa_eval(args.vqa)
    rng = random.Random(args.seed)
    cases = [question(rng) for _ in range(args.n)]
    gts = {i: {"answers": [{"answer": a, "answer_id": k + 1} for k, a in enumerate(answers)],
               "question_type": "what", "answer_type": "other"}
           for i, (answers, _) in enumerate(cases)}
    res = {i: {"answer": p} for i, (_, p) in enumerate(cases)}
    evaluator = VQAEval(Annotations(gts), Annotations(res), n=12)
    stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # its progress bar
    try:
        evaluator.evaluate()
    finally:
        sys.stdout = stdout
    with open(args.out, "w", encoding="utf-8") as f:
        for i, (answers, prediction) in enumerate(cases):
            f.write(json.dumps({"answers": answers, "prediction": prediction,
                                "accuracy": evaluator.evalQA[i] / 100.0}) + "\n")
    unanimous = sum(len(set(a)) == 1 for a, _ in cases)
    print(f"wrote {args.out}: {len(cases)} questions, {unanimous} unanimous")


if __name__ == "__main__":
    main()
