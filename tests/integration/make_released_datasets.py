#!/usr/bin/env python3
"""Writes a miniature released 12-in-1 `datasets/` directory (vilbert-multi-task layout) under
OUTDIR/datasets, for tests/integration/test_released_data.sh:

  make_released_datasets.py OUTDIR

Formats as released: JSON, JSON Lines (.jsonline/.jsonl/NLVR2 .json), pickles with protocol 2
(lists/dicts of numbers, strings and numpy arrays). VQA val has 3005 questions and GQA
trainval 3004 items, VG QA trainval 5003, so that the released minval (last 3000) / VG val
(last 5000) cuts are exercised at their real size. Files are listed in the test. refcoco+ is
deliberately absent (a missing task), as are Flickr30k's val file and NLVR2's test.json (the
converter falls back to test1.json).

write_all(datasets_dir, Complete()) writes the complete variant instead, for
make_release_world.py: every task (refcoco+ too) and every split (Flickr30k val, NLVR2 test.json
as well as test1.json), images reused across questions (at most a few per source), more test
items, and every text a model reads (questions, captions, expressions, dialogs, sentences,
hypotheses) made of a few dozen English words, recorded in Complete.texts for the vocabulary.
It also holds what the golden batches (tools/dev/golden/make_golden_batches.py) need the released
readers to meet: several QA pairs per Visual7W image, candidate boxes that overlap the answer
(a soft positive) and boxes of 1-3 pixels where the released +1-pixel IoU differs from the
continuous one (Visual7W, GuessWhat, RefCOCO), GuessWhat games naming different objects of one
image with the released reader's cache pickles, the images and categories lists the released
refer tool reads, and an SNLI-VE training row without a gold label ("-").
Without it (this script's main) the output is unchanged.
"""
import json
import os
import pickle
import sys

import numpy as np

VQA_ANSWERS = ["no", "yes", "2", "red", "blue"]      # deliberately not alphabetical
GQA_ANSWERS = ["yes", "no", "left", "right"]

# Texts of the complete variant (few distinct words, so the vocabulary stays small).
QUESTIONS = ["what color is the car?", "is there a dog?", "how many people are there?",
             "is the cat red?", "what color is the bus?"]
GQA_QUESTIONS = ["is the man left or right?", "is it red?", "is it blue?",
                 "is the cat left or right?"]
CAPTIONS = ["a cat on a red car.", "a dog in the grass.", "a man with a hat.",
            "two people on a bus.", "a woman with a blue car.", "a red bus."]


class Complete:
    """Switch for the complete variant; collects every model-read text it writes."""

    def __init__(self):
        self.texts = []

    def text(self, value):
        self.texts.append(value)
        return value


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


def vqa(d, c=None):
    write(d, "VQA/cache/trainval_label2ans.pkl", VQA_ANSWERS, "pickle")
    write(d, "VQA/cache/trainval_ans2label.pkl", {a: i for i, a in enumerate(VQA_ANSWERS)},
          "pickle")
    # train2014: 3 questions, file order not by id.
    train_q = [{"question_id": 300, "image_id": 11, "question": "q300?"},
               {"question_id": 100, "image_id": 12, "question": "q100?"},
               {"question_id": 200, "image_id": 13, "question": "q200?"}]
    if c:
        for k, q in enumerate(train_q):
            q["question"] = c.text(QUESTIONS[k])
        # The official train annotations too (answers of the targets below), so that every
        # vqa/train line carries its raw answers.
        humans = {300: (11, ["green"] * 10), 100: (12, ["yes"] * 10),
                  200: (13, ["2", "2", "no"] + ["3"] * 7)}
        write(d, "VQA/v2_mscoco_train2014_annotations.json", {"annotations": [
            {"question_id": qid, "image_id": image, "multiple_choice_answer": answers[-1],
             "answers": [{"answer": a, "answer_id": i + 1} for i, a in enumerate(answers)]}
            for qid, (image, answers) in humans.items()]})
    write(d, "VQA/v2_OpenEnded_mscoco_train2014_questions.json", {"questions": train_q})
    write(d, "VQA/cache/train_target.pkl", [
        {"question_id": 200, "image_id": 13, "labels": [0, 2], "scores": [0.3, 0.6]},
        {"question_id": 300, "image_id": 11, "labels": [], "scores": []},
        {"question_id": 100, "image_id": 12, "labels": [1], "scores": [1.0]}], "pickle")
    # val2014: 3005 questions (ids 2000000 + k), written in reverse id order; the targets in
    # another order, numpy labels/scores; question k=3 has no answer in the vocabulary.
    n = 3005

    def val_image(k):   # complete: 6 images, each under many questions
        return 500000 + (k % 6 if c else k // 3)

    def val_text(k):
        return c.text(QUESTIONS[k % len(QUESTIONS)]) if c else f"v{k}?"
    val_q = [{"question_id": 2000000 + k, "image_id": val_image(k), "question": val_text(k)}
             for k in reversed(range(n))]
    write(d, "VQA/v2_OpenEnded_mscoco_val2014_questions.json", {"questions": val_q})
    targets = []
    for k in range(n):
        # (an empty numpy array would pickle as builtins.bytes(), which safe_pickle refuses)
        labels = [] if k == 3 else np.array([k % 5], dtype=np.int64)
        scores = [] if k == 3 else np.array([0.9], dtype=np.float32)
        targets.append({"question_id": 2000000 + k, "image_id": val_image(k),
                        "labels": labels, "scores": scores})
    write(d, "VQA/cache/val_target.pkl", permuted(targets, 13), "pickle")
    # The official val annotations (not read by the released code; vlmt keeps the raw answers).
    write(d, "VQA/v2_mscoco_val2014_annotations.json", {"annotations": [
        {"question_id": 2000000 + k, "image_id": val_image(k),
         "multiple_choice_answer": VQA_ANSWERS[k % 5],
         "answers": [{"answer": VQA_ANSWERS[k % 5], "answer_id": i + 1} for i in range(10)]}
        for k in range(n)]})
    if c:   # test-std 4 questions on 2 images (COCO test2015), test-dev a subset of them
        test = [{"question_id": 9001 + k, "image_id": 77 + k // 2,
                 "question": c.text(QUESTIONS[(k + 1) % len(QUESTIONS)])} for k in range(4)]
        write(d, "VQA/v2_OpenEnded_mscoco_test2015_questions.json",
              {"questions": test[::-1]})
        write(d, "VQA/v2_OpenEnded_mscoco_test-dev2015_questions.json",
              {"questions": [test[0], test[2]]})
        return
    write(d, "VQA/v2_OpenEnded_mscoco_test2015_questions.json", {"questions": [
        {"question_id": 9002, "image_id": 77, "question": "t2?"},
        {"question_id": 9001, "image_id": 77, "question": "t1?"}]})
    write(d, "VQA/v2_OpenEnded_mscoco_test-dev2015_questions.json", {"questions": [
        {"question_id": 9001, "image_id": 77, "question": "t1?"}]})


def gqa(d, c=None):
    write(d, "gqa/cache/trainval_label2ans.pkl", GQA_ANSWERS, "pickle")
    write(d, "gqa/cache/trainval_ans2label.pkl", {a: i for i, a in enumerate(GQA_ANSWERS)},
          "pickle")
    # 3003 string ids "10000".."13002" plus "9": sorted as released (as strings), "9" is last.
    # GQA image ids are numeric strings (the released trainval reader calls int() on them);
    # the plain variant keeps "n<k>" for the converter test.
    items = [{"question_id": str(10000 + k), "image_id": str(2350000 + k % 6) if c else f"n{k // 4}",
              "question": c.text(GQA_QUESTIONS[k % 4]) if c else f"g{k}?",
              "labels": [k % 4], "scores": [1.0]} for k in range(3003)]
    items.append({"question_id": "9", "image_id": "2350009" if c else "n9",
                  "question": c.text(GQA_QUESTIONS[1]) if c else "g9?", "labels": [1],
                  "scores": [1.0]})
    write(d, "gqa/cache/trainval_target.pkl", permuted(items, 7), "pickle")
    testdev = {"202": {"imageId": "n77", "question": "Is it red?", "answer": "maybe"},
               "201": {"imageId": "n77", "question": "Is it blue?", "answer": "yes"}}
    if c:
        testdev["203"] = {"imageId": "n78", "question": "Is the man left or right?",
                          "answer": "left"}
        for q in testdev.values():
            c.text(q["question"])
    write(d, "gqa/testdev_balanced_questions.json", testdev)


def vgqa(d, c=None):
    write(d, "visual_genome/cache/trainval_label2ans.pkl", VQA_ANSWERS, "pickle")
    write(d, "visual_genome/cache/trainval_ans2label.pkl",
          {a: i for i, a in enumerate(VQA_ANSWERS)}, "pickle")
    items = [{"question_id": k + 1, "image_id": 1 + (k % 6 if c else k // 10),
              "question": c.text(QUESTIONS[k % 5]) if c else f"vg{k + 1}?",
              "labels": [] if k == 1 else [k % 5], "scores": [] if k == 1 else [1.0]}
             for k in range(5003)]
    write(d, "visual_genome/cache/trainval_target.pkl", permuted(items, 11), "pickle")


def retrieval(d, c=None):
    if c:
        retrieval_complete(d, c)
        return
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


def retrieval_complete(d, c):
    """The complete variant: the same training images and pools, lexicon captions, a val
    split for Flickr30k too, and test sets of 3 images with 2 captions each."""
    def caps(*ks):
        return [c.text(CAPTIONS[k % len(CAPTIONS)]) for k in ks]
    r = "cocoRetreival/all_data_final_{}_2014.jsonline"
    write(d, r.format("train"), [{"id": 57870, "img_path": "COCO_x_57870.jpg",
                                  "sentences": caps(0, 1)},
                                 {"id": 522418, "sentences": caps(4)},
                                 {"id": 184613, "sentences": caps(5)}], "jsonl")
    write(d, r.format("val_set0"), [{"id": 1, "sentences": caps(3)},
                                    {"id": 2, "sentences": caps(2)}], "jsonl")
    write(d, r.format("test_set0"), [{"id": i, "sentences": caps(k, k + 3)}
                                     for k, i in enumerate((391895, 403013, 581857))], "jsonl")
    write(d, "cocoRetreival/hard_negative.pkl", {
        "train_image_list": [57870, 522418, 184613],
        "train_hard_pool": np.array([[0, 2, 1], [1, 0, 2], [2, 1, 0]], dtype=np.float64)},
        "pickle")
    f = "flickr30k/all_data_final_{}_2014.jsonline"
    write(d, f.format("train"), [{"img_path": "1000092795.jpg", "sentences": caps(3)},
                                 {"img_path": "10002456.jpg", "sentences": caps(2)}], "jsonl")
    # (two images: the released 4-way reader draws "another image" until it finds one)
    write(d, f.format("val_set0"), [{"img_path": "1009434119.jpg", "sentences": caps(1)},
                                    {"img_path": "1011572216.jpg", "sentences": caps(5)}],
          "jsonl")
    write(d, f.format("test_set0"), [{"img_path": f"{i}.jpg", "sentences": caps(k + 1, k + 4)}
                                     for k, i in enumerate((1007129816, 1012212859,
                                                            1015118661))], "jsonl")
    write(d, "flickr30k/hard_negative.pkl", {
        "train_image_list": np.array([1000092795, 10002456], dtype=np.int64),
        "train_hard_pool": np.array([[0, 1], [1, 0]], dtype=np.int64)}, "pickle")


def refer(d, c=None):
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
    if c:
        # Objects of 2x1 pixels one pixel apart (IoU 1/3 with continuous corners, 1/2 in the
        # released +1-pixel convention), a ref to one of them, and the images and categories
        # lists the released refer tool reads.
        instances["annotations"] += [{"id": 13, "image_id": 5, "bbox": [40, 30, 2, 1]},
                                     {"id": 14, "image_id": 5, "bbox": [41, 30, 2, 1]}]
        instances["images"] = [{"id": 5, "width": 640, "height": 480},
                               {"id": 6, "width": 640, "height": 480}]
        instances["categories"] = [{"id": 1, "name": "person"}]
        refs.append(ref(5, 13, 5, "train", 104, "left man", "The left man."))
    write(d, "refcoco/refcoco/refs(unc).p", refs, "pickle")
    write(d, "refcoco/refcoco/instances.json", instances)
    write(d, "refcoco/refcocog/refs(umd).p",
          [ref(7, 11, 6, "train", 200, "a woman", "A woman."),
           ref(8, 12, 6, "val", 201, "the car", "The car."),
           ref(9, 10, 5, "test", 202, "a man", "A man.")], "pickle")
    write(d, "refcoco/refcocog/instances.json", instances)
    if c:
        # RefCOCO+ (the same images and objects, appearance words only).
        write(d, "refcoco/refcoco+/refs(unc).p",
              [ref(21, 10, 5, "train", 300, "man in blue", "Man in blue."),
               ref(22, 11, 6, "testA", 301, "woman in red", "Woman in red!"),
               ref(23, 12, 6, "testB", 302, "blue car", "Blue car"),
               ref(24, 10, 5, "val", 303, "the man", "The man")], "pickle")
        write(d, "refcoco/refcoco+/instances.json", instances)
        for name in ("refcoco", "refcoco+", "refcocog"):
            by = "umd" if name == "refcocog" else "unc"
            with open(os.path.join(d, f"refcoco/{name}/refs({by}).p"), "rb") as f:
                for r in pickle.load(f):
                    c.text(r["sentences"][0]["raw"])


V7W_QUESTIONS = {1: "Which is the red car?", 2: "Which is the dog?", 3: "Which is the man?",
                 4: "Which is the dog?", 5: "Which is the man?", 6: "Which is the red car?"}


def visual7w(d, c=None):
    def qa(qa_id, answer, choices):
        question = c.text(V7W_QUESTIONS[qa_id]) if c else f"Which {qa_id}?"
        return {"qa_id": qa_id, "question": question, "answer": answer,
                "multiple_choices": choices, "type": "which"}

    def img(image_id, split, *qa_pairs):
        return {"image_id": image_id, "split": split, "filename": f"v7w_{image_id}.jpg",
                "qa_pairs": list(qa_pairs)}
    # Boxes b of 2x3 pixels at x = b overlap their neighbours: IoU 1/3 with continuous corners,
    # 1/2 in the released +1-pixel convention (a distractor that is a soft positive there).
    boxes = [{"box_id": b, "x": b, "y": 1, "width": 2, "height": 3}
             for b in (10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33)]
    images = [img(2, "train", qa(1, 12, [13, 10, 11])), img(3, "val", qa(2, 20, [21, 22, 23])),
              img(4, "test", qa(3, 33, [30, 31, 32]))]
    if c:
        # Several QA pairs per image (the image's boxes are the union over them), a large box
        # with an overlapping distractor (IoU about 0.8), boxes one pixel wide.
        boxes += [{"box_id": 14, "x": 100, "y": 50, "width": 60, "height": 40},
                  {"box_id": 15, "x": 104, "y": 52, "width": 60, "height": 40},
                  {"box_id": 16, "x": 300, "y": 200, "width": 1, "height": 2},
                  {"box_id": 17, "x": 301, "y": 200, "width": 1, "height": 2}]
        images[0]["qa_pairs"] += [qa(4, 14, [15, 10, 16]), qa(5, 16, [17, 12, 14])]
        images[1]["qa_pairs"].append(qa(6, 22, [20, 21, 23]))
    write(d, "visual7w/dataset_v7w_pointing.json", {"images": images, "boxes": boxes})


def guesswhat(d, c=None):
    # complete: an image of its own (its 100 detections would otherwise fill retrieval's rows)
    image_id = 262148 if c else 57870

    def game(game_id, status, target, objects, qas):
        return {"id": game_id, "status": status, "object_id": target,
                "image": {"id": image_id, "width": 640, "height": 480},
                "objects": [{"id": i, "bbox": box, "category": "x"} for i, box in objects],
                "qas": [{"question": q, "answer": a} for q, a in qas]}
    objects = [(302, [200.5, 150, 40, 60]), (301, [10, 10, 50, 100])]
    # complete: object 303 overlaps 301 (IoU about 0.9), 304 is 2x1 pixels, and the games of
    # one image name different subsets of its objects.
    more = objects + [(303, [12, 12, 50, 100]), (304, [300, 300, 2, 1])] if c else objects
    train = [game(1, "success", 302, more, [("is it a person?", "No"), ("a chair?", "Yes")]),
             game(2, "failure", 301, objects, [("is it red?", "N/A")])]
    write(d, "guesswhat/guesswhat.train.jsonl", train, "jsonl")
    valid = [game(3, "incomplete", 303 if c else 301, more, [("left?", "Yes")])]
    write(d, "guesswhat/guesswhat.valid.jsonl", valid, "jsonl")
    test = [game(4, "success", 302, objects, [])]
    if c:
        test.append(game(5, "success", 301, objects, [("is it a person?", "Yes"),
                                                        ("left?", "Yes")]))
        # guesswhat_pointing_dataset.py's caches: every object id of each image, and each
        # object's box as x1 y1 x2 y2.
        games = train + valid + test
        ids = {}
        for g in games:
            ids.setdefault(g["image"]["id"], set()).update(o["id"] for o in g["objects"])
        write(d, "guesswhat/cache/image_bbox_list.pkl",
              {image: {"bboxes": sorted(v)} for image, v in ids.items()}, "pickle")
        write(d, "guesswhat/cache/bboxes_dict.pkl",
              {o["id"]: [o["bbox"][0], o["bbox"][1], o["bbox"][0] + o["bbox"][2],
                         o["bbox"][1] + o["bbox"][3]] for g in games for o in g["objects"]},
              "pickle")
        for q, a in [("is it a person?", "No"), ("a chair?", "Yes"), ("is it red?", "N/A"),
                     ("left?", "Yes")]:
            c.text(f"start {q} answer {a} stop")
    write(d, "guesswhat/guesswhat.test.jsonl", test, "jsonl")


def nlvr2(d, c=None):
    def ex(identifier, sentence, label):
        return {"identifier": identifier, "sentence": sentence, "label": label,
                "left_url": "x", "right_url": "y"}
    write(d, "nlvr2/train.json", [ex("train-10-0-0", "Two dogs.", "True"),
                                  ex("train-10-0-1", "No dogs.", "False")], "jsonl")
    write(d, "nlvr2/dev.json", [ex("dev-850-0-0", "One cat.", "False")], "jsonl")
    test = [ex("test1-0-1-2", "A bird.", "True")]
    if c:
        # test.json as the released reader opens it (the public test1 set, labels present),
        # test1.json as NLVR2 names it.
        test.append(ex("test1-1-0-1", "One cat.", "False"))
        write(d, "nlvr2/test.json", test, "jsonl")
        for s in ("Two dogs.", "No dogs.", "One cat.", "A bird."):
            c.text(s)
    write(d, "nlvr2/test1.json", test, "jsonl")


SNLI_HYPOTHESES = {"H e.": "A man is outside.", "H n.": "Two people are sleeping.",
                   "H c.": "A dog is in the grass.", "D c.": "A woman is on a bus.",
                   "D none.": "A cat is on a car.", "T e.": "A man is outside.",
                   "T c.": "Two people are sleeping."}


def snli_ve(d, c=None):
    def ex(pair, image, hypothesis, label):
        if c:
            hypothesis = c.text(SNLI_HYPOTHESES[hypothesis])
        return {"pairID": pair, "Flikr30kID": image, "sentence2": hypothesis,
                "gold_label": label, "sentence1": "a man with a hat." if c else "premise"}
    train = [ex("1.jpg#0r1e", "1.jpg", "H e.", "entailment"),
             ex("1.jpg#0r1n", "1.jpg", "H n.", "neutral"),
             ex("1.jpg#0r1c", "1.jpg", "H c.", "contradiction")]
    if c:  # a row without a gold label: the released reader keeps it with a zero target
        train.insert(1, ex("1.jpg#1r1x", "1.jpg", "D none.", "-"))
    write(d, "visual_entailment/snli_ve_train.jsonl", train, "jsonl")
    write(d, "visual_entailment/snli_ve_dev.jsonl", [
        ex("2.jpg#0r1c", "2.jpg", "D c.", "contradiction"),
        ex("2.jpg#0r1x", "2.jpg", "D none.", "-")], "jsonl")
    test = [ex("3.jpg#0r1e", "3.jpg", "T e.", "entailment")]
    if c:
        test.append(ex("3.jpg#0r1c", "3.jpg", "T c.", "contradiction"))
    write(d, "visual_entailment/snli_ve_test.jsonl", test, "jsonl")


def write_all(d, complete=None):
    """Every task's files under the datasets directory d (complete: a Complete, see above)."""
    for make in (vqa, gqa, vgqa, retrieval, refer, visual7w, guesswhat, nlvr2, snli_ve):
        make(d, complete)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_released_datasets.py OUTDIR")
    d = os.path.join(sys.argv[1], "datasets")
    write_all(d)
    print(d)


if __name__ == "__main__":
    main()
