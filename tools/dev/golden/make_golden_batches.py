#!/usr/bin/env python3
"""Golden batches: every tensor the authors' released dataset classes return, for chosen items
of each of the 12 tasks and pretraining, on the miniature released download that
tests/integration/make_release_world.py writes.

Runs the released classes themselves (facebookresearch/vilbert-multi-task, imported from the
checkout given with --released; nothing of it is copied here): VQAClassificationDataset,
GQAClassificationDataset, GenomeQAClassificationDataset, RetreivalDataset (train and val, with
the hard-negative pool in train), RetreivalDatasetVal (evaluation rows), ReferExpressionDataset
(RefCOCO, RefCOCO+, RefCOCOg), Visual7wPointingDataset, GuessWhatPointingDataset, NLVR2Dataset,
VisualEntailmentDataset and concept_cap_dataset.py's BertPreprocessBatch with
ConceptCapLoaderTrain's collation (pretraining; the masked-modelling labels are then cut to the
aligned pairs as train_concap.py --objective 1 does before the model sees them). Task settings
(max_seq_length, max_region_num, batch sizes, splits) are vilbert_tasks.yml's.

Stand-ins, because the packages cannot be installed here (released_env.py): pytorch_transformers'
BertTokenizer is reference_tokenizer.py (BERT's published algorithm, not vlmt's tokenizer),
the refer tool is reference_refer.py (the tool is Python 2), jsonlines is a JSON Lines reader,
tensorpack and msgpack are absent (the pretraining preprocessing is fed its datapoints
directly, from the extractor's .npz files and caption_train.json, instead of through
tensorpack's LMDB stream).

Random draws (retrieval negatives, pretraining's caption swap and masking) come from a seeded
generator and are recorded as a sequence per item: ("u", value) for random.random() and
("i", n, k) for a uniform choice of k in [0, n) (random.choice over n items, random.randint,
np.random.randint; a draw from [a, b) is recorded as (b - a, value - a)). The test replays them
to vlmt's datasets.

Outputs (--out, default tests/data/golden_batches):
  <task>.h5   one group per case (split); each tensor a dataset with attributes dtype, shape
              and crc32 (vlmt's tensor-file convention, ckpt/tensor_file.h), gzip-compressed;
              the group's attribute "meta" is JSON: the dataset size, the chosen item indices
              and identities, the draws per item, vlmt's split name and what the case checks
  meta.json   the released commit, the world's fingerprint and command, the tokenizer used,
              the batches per epoch the released DataLoaders give (dataset size, ranks,
              per-rank batch -> len(DataLoader)) for the batch-count rule

Not run by CI. Needs /usr/bin/python3 with Debian's python3-torch, numpy, h5py, lmdb, PyYAML:

    /usr/bin/python3 tools/dev/golden/make_golden_batches.py --released /tmp/rel \\
        [--released-commit SHA] [--out tests/data/golden_batches]

Deterministic: the same checkout and world give the same tensors.
"""
import argparse
import copy
import json
import os
import random
import shutil
import sys
import tempfile
import zlib

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import make_release_world as world  # noqa: E402
from reference_refer import REFER  # noqa: E402
from reference_tokenizer import BertTokenizer  # noqa: E402
from released_env import (add_released, dataset_package, released_commit,  # noqa: E402
                          stub_dataset_imports, stub_utility_imports)

SEED = 20201206
WORLD_SEED = 0          # make_release_world.py's default
MAX_ITEMS = 4           # items recorded per case: all of a small split, else first, second,
                        # middle and last
RANKS = (1, 2, 8)       # rank counts of the batches-per-epoch records


# ---- random draws --------------------------------------------------------------------------
class Draws(object):
    """Stands in for the `random` module inside a released dataset module, and for
    numpy.random.randint: draws from one seeded generator and records each draw."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.log = []

    def random(self):
        value = self.rng.random()
        self.log.append(("u", value))
        return value

    def _index(self, n):
        k = self.rng.randrange(n)
        self.log.append(("i", n, k))
        return k

    def choice(self, seq):
        return seq[self._index(len(seq))]

    def randint(self, a, b):  # random.randint: both ends included
        return a + self._index(b - a + 1)

    def np_randint(self, low, high=None, size=None, dtype=int):
        assert size is None, "only scalar numpy draws are recorded"
        if high is None:
            low, high = 0, low
        return low + self._index(high - low)

    def take(self):
        out, self.log = self.log, []
        return [list(d) for d in out]


class recording(object):
    """Installs a Draws into the given released modules (and numpy.random.randint)."""

    def __init__(self, draws, *modules):
        self.draws, self.modules = draws, modules

    def __enter__(self):
        self.saved = [(m, m.__dict__.get("random")) for m in self.modules]
        for m in self.modules:
            m.random = self.draws
        self.np_randint = np.random.randint
        np.random.randint = self.draws.np_randint
        return self.draws

    def __exit__(self, *exc):
        for m, value in self.saved:
            m.random = value
        np.random.randint = self.np_randint


# ---- output --------------------------------------------------------------------------------
DTYPES = {np.float32: "float32", np.float64: "float64", np.int64: "int64"}


def write_tensor(group, name, value):
    array = np.ascontiguousarray(value)
    if array.dtype == np.float64:
        array = array.astype(np.float32)  # the released tensors are float32 where float
    if array.dtype.kind in "iub":
        array = array.astype(np.int64)
    array = array.astype(array.dtype.newbyteorder("<"), copy=False)
    ds = group.create_dataset(name, data=array, compression="gzip", compression_opts=9, shuffle=True,
                              track_times=False)
    ds.attrs["dtype"] = DTYPES[array.dtype.type]
    ds.attrs["shape"] = np.array(array.shape, dtype=np.int64)
    ds.attrs["crc32"] = np.uint32(zlib.crc32(array.tobytes()) & 0xFFFFFFFF)


def write_case(f, case, tensors, meta):
    group = f.create_group(case, track_order=True)
    for name, value in tensors.items():
        write_tensor(group, name, value)
    group.attrs["meta"] = json.dumps(meta, sort_keys=True)


def stacked(items, names):
    """The chosen items' tuples stacked per field, as the DataLoader's collation stacks them."""
    out = {}
    for k, name in enumerate(names):
        if name is None:
            continue
        values = [it[k] for it in items]
        out[name] = torch.stack([torch.as_tensor(np.asarray(v)) for v in values]).numpy()
    return out


def chosen(n):
    return list(range(n)) if n <= MAX_ITEMS else [0, 1, n // 2, n - 1]


# ---- the tasks -----------------------------------------------------------------------------
# vlmt task key -> (vilbert_tasks.yml task, released class, [(released split, vlmt split)])
# The tuple fields under the names the golden steps use (make_golden_steps.py VL_NAMES, MC_NAMES):
# "question" is every task's text; None = the id at the end (recorded in the metadata instead).
QA = ["features", "spatials", "image_mask", "question", "target", "input_mask", "segment_ids",
      "co_attention_mask", None]
CHOICE = ["features", "spatials", "image_mask", "question", "target", "input_mask", "segment_ids",
          "multiple_choice_ids", "co_attention_mask", None]
TASKS = {
    "vqa": ("TASK1", "vqa_dataset.VQAClassificationDataset", [("trainval", "train"), ("minval", "minval")]),
    "vgqa": ("TASK2", "visual_genome_dataset.GenomeQAClassificationDataset", [("train", "train"), ("val", "val")]),
    "gqa": ("TASK15", "gqa_dataset.GQAClassificationDataset", [("trainval", "train"), ("minval", "minval")]),
    "retrieval_coco": ("TASK7", "retreival_dataset.RetreivalDataset", [("train", "train"), ("val", "val")]),
    "retrieval_flickr30k": ("TASK8", "retreival_dataset.RetreivalDataset", [("train", "train"), ("val", "val")]),
    "refcoco": ("TASK9", "refer_expression_dataset.ReferExpressionDataset", [("train", "train"), ("val", "val")]),
    "refcoco+": ("TASK10", "refer_expression_dataset.ReferExpressionDataset", [("train", "train"), ("val", "val")]),
    "refcocog": ("TASK11", "refer_expression_dataset.ReferExpressionDataset", [("train", "train"), ("val", "val")]),
    "visual7w": ("TASK4", "visual7w_pointing_dataset.Visual7wPointingDataset", [("train", "train"), ("val", "val")]),
    "guesswhat": ("TASK17", "guesswhat_pointing_dataset.GuessWhatPointingDataset", [("train", "train"), ("valid", "valid")]),
    "nlvr2": ("TASK12", "nlvr2_dataset.NLVR2Dataset", [("train", "train"), ("dev", "dev")]),
    "snli_ve": ("TASK13", "visual_entailment_dataset.VisualEntailmentDataset", [("train", "train"), ("dev", "dev")]),
}
# The annotation file each retrieval split reads (vlmt's val split is the released val_set0
# file; vilbert_tasks.yml validates on test_set0, which vlmt offers as tasks.<key>.val_split).
RETRIEVAL_FILES = {"train": "train", "val": "val_set0", "test": "test_set0"}


def identity(key, ds, index):
    """What names item `index` of a released dataset, in vlmt's terms (Batch::item_ids and
    image_ids): the id vlmt's converter writes for it and its image."""
    if key in ("vqa", "vgqa", "gqa"):
        e = ds.entries[index]
        return {"item_id": str(e["question_id"]), "image_id": str(e["image_id"])}
    if key.startswith("retrieval"):
        e = ds._entries[index]
        return {"item_id": str(index), "image_id": str(e["image_id"])}
    if key.startswith("refcoco"):
        e = ds.entries[index]
        return {"item_id": str(e["ref_id"]), "image_id": str(e["image_id"]), "sent_id": str(e["sent_id"])}
    if key == "visual7w":
        e = ds.entries[index]
        return {"item_id": str(e["sent_id"]), "image_id": str(e["image_id"])}
    if key == "guesswhat":
        e = ds.entries[index]
        return {"item_id": str(e["dialog_id"]), "image_id": str(e["image_id"])}
    if key == "nlvr2":
        e = ds.entries[index]
        return {"item_id": str(e["answer"]["id"]), "image_ids": [e["image_id_0"], e["image_id_1"]]}
    if key == "snli_ve":
        e = ds.entries[index]
        return {"item_id": None, "image_id": str(e["image_id"])}
    raise KeyError(key)


def batches_per_epoch(ds, batch_sizes):
    """len(DataLoader) of the released training loaders (drop_last False) for each rank count:
    RandomSampler at one rank, DistributedSampler (which pads to a multiple of the ranks) with
    batch_size // ranks per rank otherwise (task_utils.py LoadDatasets)."""
    from torch.utils.data import DataLoader, DistributedSampler
    out = []
    for batch_size in batch_sizes:
        for ranks in RANKS:
            per_rank = int(batch_size / ranks)
            if per_rank == 0:
                continue
            sampler = None if ranks == 1 else DistributedSampler(ds, num_replicas=ranks, rank=ranks - 1)
            n = len(DataLoader(ds, batch_size=per_rank, sampler=sampler))
            out.append({"items": len(ds), "ranks": ranks, "rank_batch": per_rank, "batches": n})
    return out


class Released(object):
    """The released classes over one world."""

    def __init__(self, released, world_dir):
        import yaml
        self.released, self.world = released, world_dir
        self.datasets = os.path.join(world_dir, "datasets")
        with open(os.path.join(released, "vilbert_tasks.yml")) as f:
            self.cfg = yaml.safe_load(f)
        self.tokenizer = BertTokenizer(os.path.join(world_dir, "bert-base-uncased-vocab.txt"))
        from vilbert.datasets._image_features_reader import ImageFeaturesH5Reader
        self.readers, self.Reader = {}, ImageFeaturesH5Reader

    def path(self, rel):
        return os.path.join(self.datasets, rel[len("datasets/"):]) if rel.startswith("datasets/") else rel

    def reader(self, rel):
        if not rel:
            return None
        if rel not in self.readers:
            self.readers[rel] = self.Reader(self.path(rel), False)
        return self.readers[rel]

    def dataset(self, key, cls, split, annotations=""):
        task = self.cfg[TASKS[key][0]]
        # the released classes cache their tokenised entries in <dataroot>/cache
        os.makedirs(os.path.join(self.path(task["dataroot"]), "cache"), exist_ok=True)
        return cls(task=task["name"], dataroot=self.path(task["dataroot"]),
                   annotations_jsonpath=annotations, split=split,
                   image_features_reader=self.reader(task["features_h5path1"]),
                   gt_image_features_reader=self.reader(task["features_h5path2"]),
                   tokenizer=self.tokenizer, bert_model="bert-base-uncased", clean_datasets=False,
                   padding_index=0, max_seq_length=task["max_seq_length"],
                   max_region_num=task["max_region_num"])


def import_class(dotted):
    module, name = dotted.rsplit(".", 1)
    mod = __import__("vilbert.datasets." + module, fromlist=[name])
    return mod, getattr(mod, name)


def task_cases(rel, key, f, epochs):
    yml, dotted, splits = TASKS[key]
    module, cls = import_class(dotted)
    task = rel.cfg[yml]
    for released_split, vlmt_split in splits:
        annotations = ""
        if key.startswith("retrieval"):
            directory = rel.path(task["dataroot"])
            annotations = os.path.join(directory, "all_data_final_%s_2014.jsonline" % RETRIEVAL_FILES[vlmt_split])
        ds = rel.dataset(key, cls, released_split, annotations)
        indices = chosen(len(ds))
        draws = Draws(zlib.crc32(f"{key}/{vlmt_split}".encode()) ^ SEED)
        items, item_draws = [], []
        with recording(draws, module):
            for i in indices:
                items.append(ds[i])
                item_draws.append(draws.take())
        names = CHOICE if key in ("visual7w", "guesswhat") else QA
        tensors = stacked(items, names)
        if key.startswith("retrieval"):
            # target 0 is a Python int: every item's positive is option 0
            tensors["target"] = np.array([it[4] for it in items], dtype=np.int64)
        meta = {"task": key, "released_split": released_split, "split": vlmt_split,
                "size": len(ds), "indices": indices, "draws": item_draws,
                "items": [identity(key, ds, i) for i in indices],
                "max_text": task["max_seq_length"], "max_regions": task["max_region_num"]}
        write_case(f, vlmt_split, tensors, meta)
        # the task's batch and one of 3, so that small splits leave a partial last batch too
        epochs[f"{key}/{vlmt_split}"] = batches_per_epoch(ds, [task["batch_size"], 3])
        print(f"{key}/{vlmt_split}: {len(ds)} items, recorded {indices}, "
              f"{sum(len(d) for d in item_draws)} draws")
    if key.startswith("retrieval"):
        retrieval_eval_case(rel, key, f)


def retrieval_eval_case(rel, key, f):
    """RetreivalDatasetVal on the test file: every caption's text row and every image's region
    row (its features_all holds 1000 image slots; the images of the file fill the first)."""
    _, cls = import_class("retreival_dataset.RetreivalDatasetVal")
    task = rel.cfg[TASKS[key][0]]
    path = os.path.join(rel.path(task["dataroot"]), "all_data_final_test_set0_2014.jsonline")
    ds = rel.dataset(key, cls, "test", path)
    n_images, n_captions = len(ds._image_entries), len(ds._caption_entries)
    items = [ds[2 * c] for c in range(n_captions)]   # image half 0 of each caption
    tensors = {"question": torch.stack([it[3] for it in items]).numpy(),
               "input_mask": torch.stack([it[4] for it in items]).numpy(),
               "segment_ids": torch.stack([it[5] for it in items]).numpy(),
               "features": ds.features_all[:n_images].numpy(),
               "spatials": ds.spatials_all[:n_images].numpy(),
               "image_mask": ds.image_mask_all[:n_images].numpy()}
    meta = {"task": key, "released_split": "test", "split": "test", "size": n_captions,
            "images": [str(i) for i in ds._image_entries],
            "caption_images": [str(e["image_id"]) for e in ds._caption_entries],
            "max_text": task["max_seq_length"], "max_regions": task["max_region_num"]}
    write_case(f, "test_scoring", tensors, meta)
    print(f"{key}/test scoring: {n_captions} captions x {n_images} images")


# ---- pretraining ---------------------------------------------------------------------------
PRETRAIN = ["input_ids", "input_mask", "segment_ids", "lm_label_ids", "is_next", "image_feat",
            "image_loc", "image_target", "image_label", "image_mask"]
SEQ_LEN = 36            # train_concap.py --max_seq_length default
REGION_LEN = 36         # ConceptCapLoaderTrain builds BertPreprocessBatch with 36 regions


def pretrain_cases(rel, f):
    import vilbert.datasets.concept_cap_dataset as cc
    for split in ("train", "val"):
        caption_path = os.path.join(rel.world, "conceptual_captions", f"caption_{split}.json")
        with open(caption_path) as fh:
            captions = json.load(fh)
        images = list(captions)
        prep = cc.BertPreprocessBatch(caption_path, rel.tokenizer, "bert-base-uncased", SEQ_LEN,
                                      REGION_LEN, len(images), encoding="utf-8", visual_target=0,
                                      objective=1)
        draws = Draws(zlib.crc32(f"pretrain/{split}".encode()) ^ SEED)
        outs, item_draws = [], []
        with recording(draws, cc):
            for image_id in images:
                z = np.load(os.path.join(rel.world, "conceptual_captions", "features", image_id + ".npz"))
                datapoint = [z["features"], z["cls_prob"], z["bbox"], z["num_boxes"], z["image_height"],
                             z["image_width"], image_id, captions[image_id]]
                outs.append(prep(copy.deepcopy(datapoint)))
                item_draws.append(draws.take())
        # tensorpack's BatchData stacks each field; ConceptCapLoaderTrain.__iter__ adds the IMG
        # region and returns the model's inputs.
        batch = [np.stack([o[k] for o in outs]) for k in range(len(outs[0]) - 1)] + [[o[-1] for o in outs]]
        loader = cc.ConceptCapLoaderTrain.__new__(cc.ConceptCapLoaderTrain)
        loader.ds = type("OneBatch", (), {"get_data": lambda self: iter([batch])})()
        tensors = dict(zip(PRETRAIN, next(iter(loader))[:-1]))
        # train_concap.py --objective 1: no masked-modelling labels on misaligned pairs.
        aligned = (tensors["is_next"] == 0).long().unsqueeze(1)
        for name in ("lm_label_ids", "image_label"):
            t = tensors[name] * aligned
            t[t == 0] = -1
            tensors[name] = t
        tensors = {k: v.numpy() for k, v in tensors.items()}
        assert tensors["is_next"].min() == 0 and tensors["is_next"].max() == 1, \
            "choose a seed with aligned and misaligned pairs"
        meta = {"task": "pretrain", "released_split": split, "split": split, "size": len(images),
                "indices": list(range(len(images))), "draws": item_draws,
                "items": [{"item_id": None, "image_id": i} for i in images],
                "max_text": SEQ_LEN, "max_regions": REGION_LEN + 1}
        write_case(f, split, tensors, meta)
        print(f"pretrain/{split}: {len(images)} items, is_next {tensors['is_next'].tolist()}, "
              f"{sum(len(d) for d in item_draws)} draws")


# ---- main ----------------------------------------------------------------------------------
def make_world(directory):
    argv = sys.argv
    sys.argv = ["make_release_world.py", directory, "--seed", str(WORLD_SEED)]
    try:
        world.main()
    finally:
        sys.argv = argv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--released", required=True, help="checkout of facebookresearch/vilbert-multi-task")
    ap.add_argument("--released-commit", help="its commit (default: git rev-parse HEAD in it)")
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "golden_batches"))
    args = ap.parse_args()
    released = add_released(args.released)
    commit = released_commit(released, args.released_commit)
    stub_utility_imports()
    stub_dataset_imports(BertTokenizer, REFER)
    dataset_package(released)

    tmp = tempfile.mkdtemp(prefix="golden_batches_")
    try:
        world_dir = os.path.join(tmp, "world")
        make_world(world_dir)
        fingerprint = world.world_fingerprint(world_dir)  # before the released readers write caches
        rel = Released(released, world_dir)
        os.makedirs(args.out, exist_ok=True)
        epochs = {}
        for key in TASKS:
            with h5py.File(os.path.join(args.out, key + ".h5"), "w", track_order=True) as f:
                task_cases(rel, key, f, epochs)
        with h5py.File(os.path.join(args.out, "pretrain.h5"), "w", track_order=True) as f:
            pretrain_cases(rel, f)
        meta = {"released_commit": commit,
                "world": {"command": f"tests/integration/make_release_world.py DIR --seed {WORLD_SEED}",
                          "fingerprint": fingerprint},
                "tokenizer": "tools/dev/golden/reference_tokenizer.py (BERT's published algorithm; "
                             "pytorch_transformers is not installed)",
                "refer_tool": "tools/dev/golden/reference_refer.py (the refer tool is Python 2)",
                "seed": SEED, "batches_per_epoch": epochs}
        with open(os.path.join(args.out, "meta.json"), "w") as fh:
            json.dump(meta, fh, indent=1, sort_keys=True)
            fh.write("\n")
    finally:
        shutil.rmtree(tmp)
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in os.listdir(args.out))
    print(f"wrote {args.out} ({total} bytes)")


if __name__ == "__main__":
    main()
