"""What each of the 12 tasks reads from the released vilbert-multi-task `datasets/` directory
(vilbert_tasks.yml dataroot + the dataset classes of vilbert/datasets/), and how each vlmt
split is built from it. Used by released.py; docs/DATA.md "Starting from the released data"
lists the same facts.

A Split names its vlmt output split, its role (train / val / test / test-dev: what --splits
matches besides the name), the released files it reads (relative to the datasets directory;
a tuple = alternatives, the first present is read), and a build function ctx → records.
"""
import math
import os
import sys
import types

import numpy as np

from common import ConvertError, field, image_id_from_filename, iter_jsonl, load_json
import guesswhat
import gqa
import nlvr2
import refer
import retrieval
import safe_pickle
import snli_ve
import visual7w
import vqa

VQA_MINVAL = 3000   # vqa_dataset.py: minval = the last 3000 val questions by question id
GQA_MINVAL = 3000   # gqa_dataset.py: minval = the last 3000 trainval items by question id
VG_VAL = 5000       # visual_genome_dataset.py: val = the last 5000 trainval items by question id

VQA_Q = "VQA/v2_OpenEnded_mscoco_{}_questions.json"
VQA_ANN = "VQA/v2_mscoco_{}_annotations.json"   # not read by the released code; optional here


class Split:
    def __init__(self, name, role, inputs, build, optional=()):
        self.name, self.role, self.inputs, self.build = name, role, list(inputs), build
        self.optional = list(optional)


class Task:
    def __init__(self, key, directory, splits, vocab=None, vocab_check=None):
        self.key, self.directory, self.splits = key, directory, splits
        self.vocab = vocab              # (label2ans, ans2label) relative paths, or None
        self.vocab_check = vocab_check  # another task's label2ans that must be identical


# ---- shared readers (memoised per run: several splits read the same big file) -------------

class Context:
    """Per-run state: the datasets dir, the output root, a cache of parsed files."""

    def __init__(self, data_dir, out, train_set):
        self.data_dir, self.out, self.train_set = data_dir, out, train_set
        self.cache = {}
        self.vocab = {}    # task key → label2ans list
        self.resolved = {}  # relative input (str or tuple) → absolute path used
        self.task = self.split = None
        self.counts = {}   # note → count, per split (reported after it)

    def warn(self, message):
        warn(message)

    def count(self, note):
        self.counts[note] = self.counts.get(note, 0) + 1

    def path(self, rel):
        if isinstance(rel, tuple):
            for r in rel:
                p = os.path.join(self.data_dir, r)
                if os.path.exists(p):
                    return p
            return os.path.join(self.data_dir, rel[0])
        return os.path.join(self.data_dir, rel)

    def memo(self, kind, path, load):
        key = (kind, path)
        if key not in self.cache:
            self.cache[key] = load(path)
        return self.cache[key]

    def pickle(self, rel):
        return self.memo("pickle", self.path(rel), safe_pickle.load)

    def json(self, rel):
        return self.memo("json", self.path(rel), load_json)


def read_released_vocab(ctx, label2ans_rel, ans2label_rel):
    """The released answer list (index = vil_prediction row), checked against ans2label."""
    l2a_path, a2l_path = ctx.path(label2ans_rel), ctx.path(ans2label_rel)
    l2a, a2l = ctx.pickle(label2ans_rel), ctx.pickle(ans2label_rel)
    if isinstance(l2a, np.ndarray):
        l2a = l2a.tolist()
    if not isinstance(l2a, (list, tuple)) or not l2a:
        raise ConvertError(f"{l2a_path}: expected a non-empty pickled list of answers "
                           f"(label2ans), got {type(l2a).__name__}")
    if not isinstance(a2l, dict):
        raise ConvertError(f"{a2l_path}: expected a pickled dict answer → label (ans2label), "
                           f"got {type(a2l).__name__}")
    answers = [safe_pickle.text(a, l2a_path, f"entry {i}") for i, a in enumerate(l2a)]
    seen = {}
    for i, a in enumerate(answers):
        if a in seen:
            raise ConvertError(f"{l2a_path}: answer '{a}' appears twice (entries {seen[a]} "
                               f"and {i})")
        seen[a] = i
    labels = {}
    for key, label in a2l.items():
        answer = safe_pickle.text(key, a2l_path, f"key {key!r}")
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
            raise ConvertError(f"{a2l_path}: entry '{answer}' has label {label!r}, not an "
                               "integer")
        labels[answer] = int(label)
    for i, a in enumerate(answers):
        if a not in labels:
            raise ConvertError(f"{a2l_path}: no entry '{a}' (entry {i} of {l2a_path})")
        if labels[a] != i:
            raise ConvertError(f"{a2l_path}: entry '{a}' has label {labels[a]}, but "
                               f"{l2a_path} entry {i} is '{a}'")
    if len(labels) != len(answers):
        extra = sorted(a for a in labels if a not in seen)[:3]
        raise ConvertError(f"{a2l_path}: {len(labels)} entries but {l2a_path} has "
                           f"{len(answers)} answers (e.g. entry '{extra[0]}' is not in it)")
    return answers


def _id(value, path, where):
    """A question/image id as vlmt spells it: integers (Python or numpy) in decimal."""
    if isinstance(value, bytes):
        value = value.decode("latin1")
    if isinstance(value, (bool, np.bool_)):
        raise ConvertError(f"{path}: {where}: id {value!r} is not an id")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, str) and value:
        return value
    raise ConvertError(f"{path}: {where}: id {value!r} is not an integer or a string")


def _numbers(value, path, where, key):
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise ConvertError(f"{path}: {where}: '{key}' must be a list, got {value!r}")
    return list(value)


def read_targets(ctx, rel, n_answers, with_question):
    """cache/*_target.pkl: a list of {question_id, image_id, [question,] labels, scores}
    (labels = rows of the released head); validated, sorted by question id as released."""
    path = ctx.path(rel)

    def load(_):
        data = ctx.pickle(rel)
        if not isinstance(data, (list, tuple)):
            raise ConvertError(f"{path}: expected a pickled list of targets, got "
                               f"{type(data).__name__}")
        items = []
        for n, t in enumerate(data):
            qid = field(t, "question_id", f"{path}: entry {n}")
            where = f"question {qid}"
            item = {"qid": qid, "question_id": _id(qid, path, where),
                    "image_id": _id(field(t, "image_id", f"{path}: {where}"), path, where)}
            if with_question:
                item["question"] = safe_pickle.text(field(t, "question", f"{path}: {where}"), path,
                                           f"{where}: 'question'")
            labels = _numbers(field(t, "labels", f"{path}: {where}"), path, where, "labels")
            scores = _numbers(field(t, "scores", f"{path}: {where}"), path, where, "scores")
            if len(labels) != len(scores):
                raise ConvertError(f"{path}: {where}: {len(labels)} labels but "
                                   f"{len(scores)} scores")
            for l in labels:
                if isinstance(l, (bool, np.bool_)) or not isinstance(l, (int, np.integer)) \
                        or not 0 <= int(l) < n_answers:
                    raise ConvertError(f"{path}: {where}: label {l!r} is not a row of the "
                                       f"{n_answers}-answer vocabulary")
            out_scores = []
            for s in scores:
                if isinstance(s, (bool, np.bool_)) or not isinstance(
                        s, (int, float, np.integer, np.floating)) or not math.isfinite(s):
                    raise ConvertError(f"{path}: {where}: score {s!r} is not a number")
                out_scores.append(round(float(s), 6))
            item["labels"] = [int(l) for l in labels]
            item["scores"] = out_scores
            items.append(item)
        return _sorted_by_qid(items, path, lambda x: x["qid"])

    return ctx.memo("targets", path, load)


def _sorted_by_qid(items, path, key):
    try:
        return sorted(items, key=key)
    except TypeError:
        raise ConvertError(f"{path}: question ids of different types (numbers and strings) "
                           "cannot be ordered as the released loader orders them")


def _record(t, question, answers):
    rec = {"question_id": t["question_id"], "image_id": t["image_id"], "question": question}
    if answers is not None:
        rec["answers"] = answers
    rec["labels"], rec["scores"] = t["labels"], t["scores"]
    return rec


def _derived_answers(ctx, t):
    """GQA / VG QA have one answer per question: the labelled vocabulary entry (the released
    targets do not keep the raw string); None when the answer is outside the vocabulary."""
    answers = ctx.vocab[ctx.task.key]
    found = [answers[l] for l, s in zip(t["labels"], t["scores"]) if s > 0]
    return found or None


# ---- VQA ----------------------------------------------------------------------------------

def _vqa_split(ctx, name):
    return ctx.memo("vqa split", name, lambda _: _vqa_split_records(ctx, name))


def _vqa_split_records(ctx, name):
    """vqa_dataset.py _load_dataset(name) for train / val: questions and cache/<name>_target.pkl,
    each sorted by question id, zipped (ids checked), + the raw human answers when the VQA
    annotation file is present (the released code does not read it; vlmt scores with it)."""
    qrel, trel = VQA_Q.format(f"{name}2014"), f"VQA/cache/{name}_target.pkl"
    qpath, tpath = ctx.path(qrel), ctx.path(trel)
    questions = _sorted_by_qid(field(ctx.json(qrel), "questions", qpath), qpath,
                               lambda q: field(q, "question_id", qpath))
    targets = read_targets(ctx, trel, len(ctx.vocab["vqa"]), with_question=False)
    if len(questions) != len(targets):
        raise ConvertError(f"{tpath}: {len(targets)} targets but {qpath} has {len(questions)} "
                           "questions")
    arel = VQA_ANN.format(f"{name}2014")
    humans = None
    if os.path.exists(ctx.path(arel)):
        apath = ctx.path(arel)
        humans = {str(field(a, "question_id", apath)): a
                  for a in field(ctx.json(arel), "annotations", apath)}
    records = []
    for q, t in zip(questions, targets):
        qid = _id(field(q, "question_id", qpath), qpath, "question")
        where = f"question {qid}"
        if qid != t["question_id"]:
            raise ConvertError(f"{tpath}: {where}: the targets sorted by question id do not "
                               f"line up with {qpath} (there: question {t['question_id']})")
        image_id = _id(field(q, "image_id", f"{qpath}: {where}"), qpath, where)
        if image_id != t["image_id"]:
            raise ConvertError(f"{tpath}: {where}: image {t['image_id']}, but {qpath} says "
                               f"image {image_id}")
        answers = None
        if humans is not None:
            if qid not in humans:
                raise ConvertError(f"{apath}: no annotation for question {qid}")
            answers = vqa.human_answers(humans[qid], f"{apath}: {where}")
        records.append(_record(t, field(q, "question", f"{qpath}: {where}"), answers))
    if humans is None:
        ctx.warn(f"{ctx.path(arel)} absent: vqa/{ctx.split.name} lines carry labels/scores but "
                 "no raw human answers, and vlmt's VQA accuracy is computed from those (put "
                 "the official v2_mscoco_*_annotations.json next to the questions to keep them)")
    return records


def vqa_train(ctx):
    if ctx.train_set == "train":
        return _vqa_split(ctx, "train")
    return _vqa_split(ctx, "train") + _vqa_split(ctx, "val")[:-VQA_MINVAL]


def vqa_minval(ctx):
    return _vqa_split(ctx, "val")[-VQA_MINVAL:]


def vqa_test(rel):
    """vqa_dataset.py 'test': the questions only, sorted by question id."""
    def build(ctx):
        path = ctx.path(rel)
        return _sorted_by_qid(list(vqa.records_of(path, None, None)), path,
                              lambda r: int(r["question_id"]) if r["question_id"].isdigit()
                              else r["question_id"])
    return build


def _vqa_train_inputs(ctx_train_set):
    inputs = [VQA_Q.format("train2014"), "VQA/cache/train_target.pkl"]
    if ctx_train_set != "train":
        inputs += [VQA_Q.format("val2014"), "VQA/cache/val_target.pkl"]
    return inputs


# ---- GQA, VG QA ---------------------------------------------------------------------------

def _target_records(ctx, rel):
    return [_record(t, t["question"], _derived_answers(ctx, t))
            for t in read_targets(ctx, rel, len(ctx.vocab[ctx.task.key]), with_question=True)]


def gqa_train(ctx):
    if ctx.train_set == "train":
        return _target_records(ctx, "gqa/cache/train_target.pkl")
    return _target_records(ctx, "gqa/cache/trainval_target.pkl")[:-GQA_MINVAL]


def gqa_minval(ctx):
    return _target_records(ctx, "gqa/cache/trainval_target.pkl")[-GQA_MINVAL:]


def gqa_testdev(ctx):
    """gqa_dataset.py 'test' = testdev_balanced_questions.json (dict keyed by question id);
    gqa.py writes its answers too when present, over the released vocabulary."""
    args = types.SimpleNamespace(input=[ctx.path("gqa/testdev_balanced_questions.json")],
                                 out=ctx.out, vocab_from=None, min_answer_count=None)
    return gqa.records(args)


def vgqa_train(ctx):
    return _target_records(ctx, "visual_genome/cache/trainval_target.pkl")[:-VG_VAL]


def vgqa_val(ctx):
    return _target_records(ctx, "visual_genome/cache/trainval_target.pkl")[-VG_VAL:]


# ---- retrieval ----------------------------------------------------------------------------

def retrieval_split(rel, pool_rel=None):
    """retreival_dataset.py: a jsonline file, one image per line with its 'sentences'; image
    id = 'id' (COCO) or the stem of 'img_path' (Flickr30k); caption id = the running index of
    the caption in the file (the released caption index). Train: + hard_negative.pkl."""
    def build(ctx):
        path = ctx.path(rel)
        coco = ctx.task.key == "retrieval_coco"
        records, images = [], []
        for lineno, ann in iter_jsonl(path):
            where = f"{path}:{lineno}"
            if coco:
                image_id = _id(field(ann, "id", where), path, f"line {lineno}")
            else:
                image_id = image_id_from_filename(field(ann, "img_path", where))
            images.append(image_id)
            sentences = field(ann, "sentences", f"{where}: image {image_id}")
            if not isinstance(sentences, list):
                raise ConvertError(f"{where}: image {image_id}: 'sentences' must be a list")
            for sentence in sentences:
                if not isinstance(sentence, str):
                    raise ConvertError(f"{where}: image {image_id}: sentence {sentence!r} is "
                                       "not a string")
                records.append({"caption_id": str(len(records)), "image_id": image_id,
                                "caption": sentence})
        if pool_rel is not None:
            pool_path = ctx.path(pool_rel)
            pool = retrieval.read_hard_pool(pool_path)
            args = types.SimpleNamespace(out=ctx.out, dataset=ctx.task.key, split=ctx.split.name)
            retrieval.write_hard_pool(args, pool_path, images, pool)
        return records
    return build


# ---- referring expressions ----------------------------------------------------------------

def refer_split(dataset, split_by):
    """refer_expression_dataset.py via the refer tool: <dataroot>/<dataset>/refs(<by>).p and
    instances.json; one entry per sentence, text = sentence 'raw', box = the ref's annotation."""
    refs_rel = f"refcoco/{dataset}/refs({split_by}).p"
    inst_rel = f"refcoco/{dataset}/instances.json"

    def build(ctx):
        refs_path, inst_path = ctx.path(refs_rel), ctx.path(inst_rel)
        refs = ctx.memo("refs", refs_path, refer.load_refs)
        boxes = ctx.memo("boxes", inst_path, refer.load_boxes)
        return refer.split_records(refs, refs_path, boxes, inst_path, ctx.split.name,
                                   text_key="raw")
    return build, [refs_rel, inst_rel]


# ---- pointing, verification ---------------------------------------------------------------

def visual7w_split(ctx):
    args = types.SimpleNamespace(input=[ctx.path("visual7w/dataset_v7w_pointing.json")],
                                 split=ctx.split.name)
    return visual7w.records(args)


def guesswhat_split(ctx):
    """guesswhat_pointing_dataset.py keeps every game (no status filter), orders the choices
    by object id and builds the text 'start Q answer A stop ...'."""
    path = ctx.path(f"guesswhat/guesswhat.{ctx.split.name}.jsonl")
    return (guesswhat.game_record(game, path, lineno, released=True)
            for lineno, game in iter_jsonl(path))


def nlvr2_split(rel):
    def build(ctx):
        return nlvr2.records(types.SimpleNamespace(input=[ctx.path(rel)]))
    return build


def snli_ve_split(ctx):
    args = types.SimpleNamespace(
        input=[ctx.path(f"visual_entailment/snli_ve_{ctx.split.name}.jsonl")],
        keep_unlabelled=True)
    for rec in snli_ve.records(args):
        if "label" not in rec:
            ctx.count("unlabelled (gold_label '-')")
        yield rec


# ---- the table ----------------------------------------------------------------------------

def tasks(train_set):
    refs = {}
    for key, by in (("refcoco", "unc"), ("refcoco+", "unc"), ("refcocog", "umd")):
        refs[key] = refer_split(key, by)
    ref_splits = {"refcoco": ("val", "testA", "testB", "test"), "refcoco+": ("val", "testA", "testB", "test"),
                  "refcocog": ("val", "test")}
    gqa_train_target = "gqa/cache/train_target.pkl" if train_set == "train" \
        else "gqa/cache/trainval_target.pkl"
    table = [
        Task("vqa", "VQA", [
            Split("train", "train", _vqa_train_inputs(train_set), vqa_train,
                  optional=[VQA_ANN.format("train2014"), VQA_ANN.format("val2014")]),
            Split("minval", "val", [VQA_Q.format("val2014"), "VQA/cache/val_target.pkl"],
                  vqa_minval, optional=[VQA_ANN.format("val2014")]),
            Split("test", "test", [VQA_Q.format("test2015")], vqa_test(VQA_Q.format("test2015"))),
            Split("test-dev", "test-dev", [VQA_Q.format("test-dev2015")],
                  vqa_test(VQA_Q.format("test-dev2015"))),
        ], vocab=("VQA/cache/trainval_label2ans.pkl", "VQA/cache/trainval_ans2label.pkl")),
        Task("vgqa", "visual_genome", [
            Split("train", "train", ["visual_genome/cache/trainval_target.pkl"], vgqa_train),
            Split("val", "val", ["visual_genome/cache/trainval_target.pkl"], vgqa_val),
        ], vocab=("visual_genome/cache/trainval_label2ans.pkl",
                  "visual_genome/cache/trainval_ans2label.pkl"),
            vocab_check=("vqa", "VQA/cache/trainval_label2ans.pkl",
                         "VQA/cache/trainval_ans2label.pkl")),
        Task("gqa", "gqa", [
            Split("train", "train", [gqa_train_target], gqa_train),
            Split("minval", "val", ["gqa/cache/trainval_target.pkl"], gqa_minval),
            Split("test-dev", "test-dev", ["gqa/testdev_balanced_questions.json"], gqa_testdev),
        ], vocab=("gqa/cache/trainval_label2ans.pkl", "gqa/cache/trainval_ans2label.pkl")),
    ]
    for key, directory in (("retrieval_coco", "cocoRetreival"), ("retrieval_flickr30k", "flickr30k")):
        f = directory + "/all_data_final_{}_2014.jsonline"
        table.append(Task(key, directory, [
            Split("train", "train", [f.format("train"), directory + "/hard_negative.pkl"],
                  retrieval_split(f.format("train"), directory + "/hard_negative.pkl")),
            Split("val", "val", [f.format("val_set0")], retrieval_split(f.format("val_set0"))),
            Split("test", "test", [f.format("test_set0")], retrieval_split(f.format("test_set0"))),
        ]))
    for key in ("refcoco", "refcoco+", "refcocog"):
        build, inputs = refs[key]
        table.append(Task(key, f"refcoco/{key}", [Split("train", "train", inputs, build)] + [
            Split(s, "val" if s == "val" else "test", inputs, build) for s in ref_splits[key]]))
    v7w = ["visual7w/dataset_v7w_pointing.json"]
    table.append(Task("visual7w", "visual7w", [
        Split(s, s, v7w, visual7w_split)
        for s in ("train", "val", "test")]))
    table.append(Task("guesswhat", "guesswhat", [
        Split(s, {"valid": "val"}.get(s, s), [f"guesswhat/guesswhat.{s}.jsonl"], guesswhat_split)
        for s in ("train", "valid", "test")]))
    table.append(Task("nlvr2", "nlvr2", [
        Split("train", "train", ["nlvr2/train.json"], nlvr2_split("nlvr2/train.json")),
        Split("dev", "val", ["nlvr2/dev.json"], nlvr2_split("nlvr2/dev.json")),
        Split("test", "test", [("nlvr2/test.json", "nlvr2/test1.json")],
              nlvr2_split(("nlvr2/test.json", "nlvr2/test1.json"))),
    ]))
    table.append(Task("snli_ve", "visual_entailment", [
        Split(s, {"dev": "val"}.get(s, s), [f"visual_entailment/snli_ve_{s}.jsonl"], snli_ve_split)
        for s in ("train", "dev", "test")]))
    return table


def warn(message):
    print(f"warning: {message}", file=sys.stderr)
