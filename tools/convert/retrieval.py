"""Caption retrieval: Karpathy-split files dataset_coco.json / dataset_flickr30k.json
({images: [{split, cocoid | filename, sentences: [{raw, sentid}]}]}) →
annotations/retrieval_coco|retrieval_flickr30k/<split>.jsonl, one line per caption.

Splits (--split):
  train   Karpathy "train" + "restval" (the 113k-image COCO training set).
  val     Karpathy "val".
  test    COCO: the 1K test set the paper reports = the first 1000 images, in file order, of
          the Karpathy "test" split (fold 0, the released all_data_final_test_set0_2014);
          Flickr30k: the whole Karpathy "test" split (1000 images).
  test5k  COCO only: every Karpathy "test" image (the 5K test set); an error for Flickr30k.
COCO and Flickr30k are told apart by --dataset (retrieval_coco / retrieval_flickr30k), which
also names the output directory. Image ids: COCO the decimal cocoid, Flickr30k the file name
stem (image_id_of: an entry with a "cocoid" gets that id, else its file name's stem).

--hard-pool FILE (with --split train only) reads the released hard_negative.pkl
(hard_negative_cleaned.pkl) of vilbert-multi-task (script/generate_pool.py): a pickled dict
  train_image_list   the training image ids (list or numpy array, ints or strings)
  train_hard_pool    [len(train_image_list), K] indices into train_image_list: row i = the
                     K nearest images of image i (column 0 = the image itself); released as
                     a float64 array (pymp's default dtype), read as integers.
retreival_dataset.py draws the 4th (hard) negative of a training caption from columns 1..K-1
of its image's row. The converter writes <split>_hard_pool.jsonl next to <split>.jsonl, one
line per image of the split that has a pool row, in split order:
  {"image_id": "<id>", "pool": ["<id>", ...]}     (the row without column 0, as image ids)
Images of the split without a row are listed in a warning; pool ids that are not images of
the split are kept (they need features only) and counted. The pickle is untrusted input: it
is read by an unpickler that only resolves the numpy globals an array pickle needs.
"""
import json
import os
import sys

from common import (AtomicFile, ConvertError, annotation_path, field, image_id_from_filename,
                    load_json)
import safe_pickle

SPLIT_MEMBERS = {"train": {"train", "restval"}, "val": {"val"}, "test": {"test"},
                 "test5k": {"test"}}
COCO_TEST_1K = 1000  # images of the COCO 1K test set (fold 0 of the 5K test split)

def image_id_of(image, where):
    if "cocoid" in image:
        return str(image["cocoid"])
    return image_id_from_filename(field(image, "filename", where))


def pool_id(value, path, n):
    """An entry of train_image_list → image-id string as the annotations spell it."""
    import numpy as np
    if isinstance(value, bytes):
        value = value.decode("latin1")
    if isinstance(value, str) and value:
        return image_id_from_filename(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    raise ConvertError(f"{path}: train_image_list[{n}]: expected an image id, got {value!r}")


def read_hard_pool(path):
    """→ {image id: [pool image id, ...]} (columns 1.. of each row), validated."""
    import numpy as np
    data = safe_pickle.load(path)
    if not isinstance(data, dict):
        raise ConvertError(f"{path}: expected a pickled dict with keys 'train_image_list' and "
                           f"'train_hard_pool', got {type(data).__name__}")
    for key in ("train_image_list", "train_hard_pool"):
        if key not in data:
            raise ConvertError(f"{path}: missing key '{key}' (keys: "
                               f"{', '.join(sorted(map(str, data)))})")
    image_list = data["train_image_list"]
    if isinstance(image_list, np.ndarray):
        if image_list.ndim != 1:
            raise ConvertError(f"{path}: 'train_image_list' must be 1-D, got shape "
                               f"{image_list.shape}")
        image_list = image_list.tolist()
    if not isinstance(image_list, (list, tuple)):
        raise ConvertError(f"{path}: 'train_image_list' must be a list or array of image ids, "
                           f"got {type(image_list).__name__}")
    ids = [pool_id(v, path, n) for n, v in enumerate(image_list)]

    pool = data["train_hard_pool"]
    if not isinstance(pool, np.ndarray):
        try:
            pool = np.asarray(pool)
        except (ValueError, TypeError):
            raise ConvertError(f"{path}: 'train_hard_pool' is not a 2-D array")
    if pool.ndim != 2:
        raise ConvertError(f"{path}: 'train_hard_pool' must be 2-D [images, K], got shape "
                           f"{pool.shape}")
    if pool.shape[0] != len(ids):
        raise ConvertError(f"{path}: 'train_hard_pool' has {pool.shape[0]} rows but "
                           f"'train_image_list' has {len(ids)} images")
    if pool.shape[1] < 2:
        raise ConvertError(f"{path}: 'train_hard_pool' has {pool.shape[1]} column(s); column 0 "
                           "is the image itself, so at least 2 are needed")
    if pool.dtype.kind == "f":  # generate_pool.py fills a float64 pymp array
        if not np.all(np.isfinite(pool)) or not np.all(pool == np.round(pool)):
            raise ConvertError(f"{path}: 'train_hard_pool' holds non-integer values")
        pool = pool.astype(np.int64)
    elif pool.dtype.kind not in "iu":
        raise ConvertError(f"{path}: 'train_hard_pool' must hold integer indices, got dtype "
                           f"{pool.dtype}")
    bad = np.argwhere((pool < 0) | (pool >= len(ids)))
    if len(bad):
        r, c = bad[0]
        raise ConvertError(f"{path}: 'train_hard_pool'[{r}][{c}] = {pool[r, c]} is not an index "
                           f"into 'train_image_list' ({len(ids)} images); {len(bad)} such "
                           "entries")
    # The released loader maps ids with a dict comprehension: a repeated id keeps its last row.
    rows = {image_id: n for n, image_id in enumerate(ids)}
    if len(rows) != len(ids):
        print(f"warning: {path}: {len(ids) - len(rows)} repeated ids in 'train_image_list'; "
              "the last row of each is used (as the released loader does)", file=sys.stderr)
    return {image_id: [ids[j] for j in pool[n, 1:].tolist()] for image_id, n in rows.items()}


def write_hard_pool(args, pool_path, split_images, pool):
    out = os.path.join(os.path.dirname(annotation_path(args.out, args.dataset, args.split)),
                       f"{args.split}_hard_pool.jsonl")
    split_images = list(dict.fromkeys(split_images))
    missing = [i for i in split_images if i not in pool]
    if missing:
        print(f"warning: {pool_path}: {len(missing)} of {len(split_images)} images of split "
              f"'{args.split}' have no pool row (first: {', '.join(missing[:5])}); their "
              "captions get no hard negatives", file=sys.stderr)
    members = set(split_images)
    outside = set()
    n = 0
    with AtomicFile(out) as f:
        for image_id in split_images:
            if image_id not in pool:
                continue
            ids = pool[image_id]
            outside.update(i for i in ids if i not in members)
            f.write(json.dumps({"image_id": image_id, "pool": ids}, ensure_ascii=False,
                               separators=(", ", ": ")) + "\n")
            n += 1
    print(f"{out}: {n} images with pools; {len(outside)} distinct pool images are not in "
          f"split '{args.split}' (they need features only)")


def records(args):
    if len(args.input) != 1:
        raise ConvertError(f"{args.dataset}: --input takes one Karpathy-split dataset file")
    if args.split not in SPLIT_MEMBERS:
        raise ConvertError(f"{args.dataset}: --split must be one of {', '.join(SPLIT_MEMBERS)}")
    coco = args.dataset == "retrieval_coco"
    if args.split == "test5k" and not coco:
        raise ConvertError(f"{args.dataset}: --split test5k is the COCO 5K test set; the "
                           "Flickr30k test split ('test') has 1000 images")
    pool_path = getattr(args, "hard_pool", None)
    if pool_path and args.split != "train":
        raise ConvertError(f"{args.dataset}: --hard-pool is for --split train only (the "
                           "released pool covers the training images)")
    pool = read_hard_pool(pool_path) if pool_path else None
    path = args.input[0]
    members = SPLIT_MEMBERS[args.split]
    limit = COCO_TEST_1K if coco and args.split == "test" else None
    split_images = []
    for n, image in enumerate(field(load_json(path), "images", path)):
        where = f"{path}: images[{n}]"
        if field(image, "split", where) not in members:
            continue
        if limit is not None and len(split_images) == limit:
            break
        image_id = image_id_of(image, where)
        split_images.append(image_id)
        where = f"{path}: image {image_id}"
        for sentence in field(image, "sentences", where):
            caption_id = str(field(sentence, "sentid", where))
            yield {"caption_id": caption_id, "image_id": image_id,
                   "caption": field(sentence, "raw", f"{where}: sentence {caption_id}")}
    if pool is not None:
        write_hard_pool(args, pool_path, split_images, pool)
