#!/usr/bin/env python3
"""Writes a miniature released 12-in-1 `datasets/` directory (vilbert-multi-task layout) under
OUTDIR/datasets, for tests/integration/test_released_data.sh:

  make_released_fixture.py OUTDIR

Formats as released: JSON, JSON Lines (.jsonline/.jsonl/NLVR2 .json), pickles with protocol 2
(lists/dicts of numbers, strings and numpy arrays). VQA val has 3005 questions and GQA
trainval 3004 items, VG QA trainval 5003, so that the released minval (last 3000) / VG val
(last 5000) cuts are exercised at their real size. Files are listed in the test. refcoco+ is
deliberately absent (a missing task), as are Flickr30k's val file and NLVR2's test.json (the
converter falls back to test1.json).
"""
import json
import os
import pickle
import sys

import numpy as np

VQA_ANSWERS = ["no", "yes", "2", "red", "blue"]      # deliberately not alphabetical
GQA_ANSWERS = ["yes", "no", "left", "right"]


def write(root, rel, obj, kind="json"):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if kind == "pickle":
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=2)
    elif kind == "jsonl":
        with open(path, "w") as f:
            for line in obj:
                f.write(json.dumps(line) + "\n")
    else:
        with open(path, "w") as f:
            json.dump(obj, f)


def permuted(items, step):
    n = len(items)
    return [items[(i * step) % n] for i in range(n)]


def vqa(d):
    write(d, "VQA/cache/trainval_label2ans.pkl", VQA_ANSWERS, "pickle")
    write(d, "VQA/cache/trainval_ans2label.pkl", {a: i for i, a in enumerate(VQA_ANSWERS)},
          "pickle")
    # train2014: 3 questions, file order not by id.
    train_q = [{"question_id": 300, "image_id": 11, "question": "q300?"},
               {"question_id": 100, "image_id": 12, "question": "q100?"},
               {"question_id": 200, "image_id": 13, "question": "q200?"}]
    write(d, "VQA/v2_OpenEnded_mscoco_train2014_questions.json", {"questions": train_q})
    write(d, "VQA/cache/train_target.pkl", [
        {"question_id": 200, "image_id": 13, "labels": [0, 2], "scores": [0.3, 0.6]},
        {"question_id": 300, "image_id": 11, "labels": [], "scores": []},
        {"question_id": 100, "image_id": 12, "labels": [1], "scores": [1.0]}], "pickle")
    # val2014: 3005 questions (ids 2000000 + k), written in reverse id order; the targets in
    # another order, numpy labels/scores; question k=3 has no answer in the vocabulary.
    n = 3005
    val_q = [{"question_id": 2000000 + k, "image_id": 500000 + k // 3, "question": f"v{k}?"}
             for k in reversed(range(n))]
    write(d, "VQA/v2_OpenEnded_mscoco_val2014_questions.json", {"questions": val_q})
    targets = []
    for k in range(n):
        # (an empty numpy array would pickle as builtins.bytes(), which safe_pickle refuses)
        labels = [] if k == 3 else np.array([k % 5], dtype=np.int64)
        scores = [] if k == 3 else np.array([0.9], dtype=np.float32)
        targets.append({"question_id": 2000000 + k, "image_id": 500000 + k // 3,
                        "labels": labels, "scores": scores})
    write(d, "VQA/cache/val_target.pkl", permuted(targets, 13), "pickle")
    # The official val annotations (not read by the released code; vlmt keeps the raw answers).
    write(d, "VQA/v2_mscoco_val2014_annotations.json", {"annotations": [
        {"question_id": 2000000 + k, "image_id": 500000 + k // 3,
         "multiple_choice_answer": VQA_ANSWERS[k % 5],
         "answers": [{"answer": VQA_ANSWERS[k % 5], "answer_id": i + 1} for i in range(10)]}
        for k in range(n)]})
    write(d, "VQA/v2_OpenEnded_mscoco_test2015_questions.json", {"questions": [
        {"question_id": 9002, "image_id": 77, "question": "t2?"},
        {"question_id": 9001, "image_id": 77, "question": "t1?"}]})
    write(d, "VQA/v2_OpenEnded_mscoco_test-dev2015_questions.json", {"questions": [
        {"question_id": 9001, "image_id": 77, "question": "t1?"}]})


def gqa(d):
    write(d, "gqa/cache/trainval_label2ans.pkl", GQA_ANSWERS, "pickle")
    write(d, "gqa/cache/trainval_ans2label.pkl", {a: i for i, a in enumerate(GQA_ANSWERS)},
          "pickle")
    # 3003 string ids "10000".."13002" plus "9": sorted as released (as strings), "9" is last.
    items = [{"question_id": str(10000 + k), "image_id": f"n{k // 4}", "question": f"g{k}?",
              "labels": [k % 4], "scores": [1.0]} for k in range(3003)]
    items.append({"question_id": "9", "image_id": "n9", "question": "g9?", "labels": [1],
                  "scores": [1.0]})
    write(d, "gqa/cache/trainval_target.pkl", permuted(items, 7), "pickle")
    write(d, "gqa/testdev_balanced_questions.json", {
        "202": {"imageId": "n77", "question": "Is it red?", "answer": "maybe"},
        "201": {"imageId": "n77", "question": "Is it blue?", "answer": "yes"}})


def vgqa(d):
    write(d, "visual_genome/cache/trainval_label2ans.pkl", VQA_ANSWERS, "pickle")
    write(d, "visual_genome/cache/trainval_ans2label.pkl",
          {a: i for i, a in enumerate(VQA_ANSWERS)}, "pickle")
    items = [{"question_id": k + 1, "image_id": 1 + k // 10, "question": f"vg{k + 1}?",
              "labels": [] if k == 1 else [k % 5], "scores": [] if k == 1 else [1.0]}
             for k in range(5003)]
    write(d, "visual_genome/cache/trainval_target.pkl", permuted(items, 11), "pickle")


def retrieval(d):
    c = "cocoRetreival/all_data_final_{}_2014.jsonline"
    write(d, c.format("train"), [{"id": 57870, "img_path": "COCO_x_57870.jpg",
                                  "sentences": ["A cat.", "A dog."]},
                                 {"id": 522418, "sentences": ["A car."]},
                                 {"id": 184613, "sentences": ["A bus."]}], "jsonl")
    write(d, c.format("val_set0"), [{"id": 1, "sentences": ["Val."]}], "jsonl")
    write(d, c.format("test_set0"), [{"id": 391895, "sentences": ["T1.", "T2."]}], "jsonl")
    write(d, "cocoRetreival/hard_negative.pkl", {
        "train_image_list": [57870, 522418, 184613],
        "train_hard_pool": np.array([[0, 2, 1], [1, 0, 2], [2, 1, 0]], dtype=np.float64)},
        "pickle")
    f = "flickr30k/all_data_final_{}_2014.jsonline"
    write(d, f.format("train"), [{"img_path": "1000092795.jpg", "sentences": ["Two men."]},
                                 {"img_path": "10002456.jpg", "sentences": ["A crowd."]}],
          "jsonl")
    write(d, f.format("test_set0"), [{"img_path": "1007129816.jpg", "sentences": ["A hat."]}],
          "jsonl")
    write(d, "flickr30k/hard_negative.pkl", {
        "train_image_list": np.array([1000092795, 10002456], dtype=np.int64),
        "train_hard_pool": np.array([[0, 1], [1, 0]], dtype=np.int64)}, "pickle")


def refer(d):
    def ref(ref_id, ann_id, image_id, split, sent_id, sent, raw):
        return {"ref_id": ref_id, "ann_id": ann_id, "image_id": image_id, "split": split,
                "category_id": 1, "sent_ids": [sent_id],
                "sentences": [{"sent_id": sent_id, "sent": sent, "raw": raw,
                               "tokens": sent.split()}]}
    refs = [ref(1, 10, 5, "train", 100, "left man", "Left man."),
            ref(2, 11, 6, "testA", 101, "woman in red", "Woman in red!"),
            ref(3, 12, 6, "testB", 102, "blue car", "Blue car"),
            ref(4, 10, 5, "val", 103, "the man", "The man")]
    instances = {"annotations": [{"id": 10, "image_id": 5, "bbox": [1, 2, 3, 4]},
                                 {"id": 11, "image_id": 6, "bbox": [10, 20, 30, 40]},
                                 {"id": 12, "image_id": 6, "bbox": [0.5, 0, 5, 5]}]}
    write(d, "refcoco/refcoco/refs(unc).p", refs, "pickle")
    write(d, "refcoco/refcoco/instances.json", instances)
    write(d, "refcoco/refcocog/refs(umd).p",
          [ref(7, 11, 6, "train", 200, "a woman", "A woman."),
           ref(8, 12, 6, "val", 201, "the car", "The car."),
           ref(9, 10, 5, "test", 202, "a man", "A man.")], "pickle")
    write(d, "refcoco/refcocog/instances.json", instances)


def visual7w(d):
    def img(image_id, split, qa_id, answer, choices):
        return {"image_id": image_id, "split": split, "filename": f"v7w_{image_id}.jpg",
                "qa_pairs": [{"qa_id": qa_id, "question": f"Which {qa_id}?", "answer": answer,
                              "multiple_choices": choices, "type": "which"}]}
    write(d, "visual7w/dataset_v7w_pointing.json", {
        "images": [img(2, "train", 1, 12, [13, 10, 11]), img(3, "val", 2, 20, [21, 22, 23]),
                   img(4, "test", 3, 33, [30, 31, 32])],
        "boxes": [{"box_id": b, "x": b, "y": 1, "width": 2, "height": 3}
                  for b in (10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33)]})


def guesswhat(d):
    def game(game_id, status, target, objects, qas):
        return {"id": game_id, "status": status, "object_id": target,
                "image": {"id": 57870, "width": 640, "height": 480},
                "objects": [{"id": i, "bbox": box, "category": "x"} for i, box in objects],
                "qas": [{"question": q, "answer": a} for q, a in qas]}
    objects = [(302, [200.5, 150, 40, 60]), (301, [10, 10, 50, 100])]
    write(d, "guesswhat/guesswhat.train.jsonl", [
        game(1, "success", 302, objects, [("is it a person?", "No"), ("a chair?", "Yes")]),
        game(2, "failure", 301, objects, [("is it red?", "N/A")])], "jsonl")
    write(d, "guesswhat/guesswhat.valid.jsonl", [
        game(3, "incomplete", 301, objects, [("left?", "Yes")])], "jsonl")
    write(d, "guesswhat/guesswhat.test.jsonl", [
        game(4, "success", 302, objects, [])], "jsonl")


def nlvr2(d):
    def ex(identifier, sentence, label):
        return {"identifier": identifier, "sentence": sentence, "label": label,
                "left_url": "x", "right_url": "y"}
    write(d, "nlvr2/train.json", [ex("train-10-0-0", "Two dogs.", "True"),
                                  ex("train-10-0-1", "No dogs.", "False")], "jsonl")
    write(d, "nlvr2/dev.json", [ex("dev-850-0-0", "One cat.", "False")], "jsonl")
    write(d, "nlvr2/test1.json", [ex("test1-0-1-2", "A bird.", "True")], "jsonl")


def snli_ve(d):
    def ex(pair, image, hypothesis, label):
        return {"pairID": pair, "Flikr30kID": image, "sentence2": hypothesis,
                "gold_label": label, "sentence1": "premise"}
    write(d, "visual_entailment/snli_ve_train.jsonl", [
        ex("1.jpg#0r1e", "1.jpg", "H e.", "entailment"),
        ex("1.jpg#0r1n", "1.jpg", "H n.", "neutral"),
        ex("1.jpg#0r1c", "1.jpg", "H c.", "contradiction")], "jsonl")
    write(d, "visual_entailment/snli_ve_dev.jsonl", [
        ex("2.jpg#0r1c", "2.jpg", "D c.", "contradiction"),
        ex("2.jpg#0r1x", "2.jpg", "D none.", "-")], "jsonl")
    write(d, "visual_entailment/snli_ve_test.jsonl", [
        ex("3.jpg#0r1e", "3.jpg", "T e.", "entailment")], "jsonl")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_released_fixture.py OUTDIR")
    d = os.path.join(sys.argv[1], "datasets")
    for make in (vqa, gqa, vgqa, retrieval, refer, visual7w, guesswhat, nlvr2, snli_ve):
        make(d)
    print(d)


if __name__ == "__main__":
    main()
