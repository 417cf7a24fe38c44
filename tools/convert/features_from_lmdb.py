#!/usr/bin/env python3
"""Released ViLBERT / 12-in-1 feature LMDBs → vlmt HDF5 store.

The released format (vilbert/datasets/_image_features_reader.py, script/convert_to_lmdb.py of
facebookresearch/vilbert-multi-task) is an LMDB environment, normally a directory `X.lmdb/`
holding data.mdb (a single-file environment is read too), with
  key b"keys"       a pickled list of the image ids, each as bytes (str(image_id).encode()),
                    in the order the reader indexes them;
  key <id bytes>    a pickled dict: image_id, image_h, image_w, num_boxes, boxes, features and,
                    in some releases, cls_prob.
The 12-in-1 release stores `features` [N,D] (the reader reshapes to (-1, 2048)) and `boxes`
[N,4] (x1 y1 x2 y2, pixels) as numpy arrays; older ViLBERT releases store both as base64 of
float32 buffers, shaped by `num_boxes`. Both forms are read (cls_prob [N,C] too); `num_boxes`
is checked where present. Ground-truth-box LMDBs (`*_gt_*.lmdb`) have the same format and
become `<source>_gt.h5`. Every pickle goes through safe_pickle (it is downloaded data).

The output lists the images in `keys` order; ids are the `keys` entries decoded as UTF-8,
i.e. decimal for COCO, as vlmt's annotations spell them. --strip-prefix P removes P from every
id (the Visual7W LMDBs key their images `v7w_<image id>`; a key without P is an error).

  features_from_lmdb.py --out features/coco.h5 [--float16] [--detector NAME] [--settings TEXT]
                        [--ids-file IDS] [--part I/N] [--strip-prefix P] LMDB [LMDB ...]
  features_from_lmdb.py --merge --out features/coco.h5 PART.h5 [PART.h5 ...]
Several LMDBs make one store, in the order given (e.g. COCO's trainval and test2015 LMDBs into
coco.h5: VQA's test questions are on test2015 images); an id in two of them is an error naming
both files. --ids-file converts only the ids it lists (an id in no LMDB is an error). --part I/N
(0-based, e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT) converts the I-th of N contiguous
ranges of the selected ids into OUT.partI-of-N.h5; --merge joins a complete set of parts into
the same file a single run writes (features_merge.py).
"""
import argparse
import base64
import binascii
import hashlib
import os

import numpy as np

import safe_pickle
from common import ConvertError, run_main
from feature_store import FeatureStoreWriter, Progress, new_parser, read_required_ids
import features_merge

try:
    import lmdb
except ImportError:  # Debian's python3-lmdb lives in /usr/bin/python3's path
    lmdb = None

# Pages of the memory-mapped LMDB stay in the process's resident set once touched; remapping
# after this many bytes keeps the peak RSS independent of the file size (without it, a 2 GB
# LMDB peaked at 2.3 GB RSS; reopening an environment costs well under a millisecond).
REMAP_BYTES = 16 << 20
KEYS_KEY = b"keys"


# ---- the LMDB ------------------------------------------------------------------------------
class LmdbSource:
    """Read-only access to one feature LMDB, opened the way the released reader opens it
    (readonly, lock=False so a read-only file system works). Unlike the reader, which
    reads at random, readahead stays on: the values lie in the file in insertion order, which
    is the `keys` order the conversion follows, and without readahead every 4 KiB page is a
    separate disk read (12x slower, measured)."""

    def __init__(self, path):
        if lmdb is None:
            raise SystemExit("error: lmdb is not importable by this python; install Debian's "
                             "python3-lmdb and run the converter with /usr/bin/python3")
        if not os.path.exists(path):
            raise ConvertError(f"{path}: no such file or directory")
        self.path = path
        self.env = self.txn = None
        self.mapped_bytes = 0
        self._open()
        self._check_size()

    def _open(self):
        try:
            self.env = lmdb.open(self.path, subdir=os.path.isdir(self.path), readonly=True,
                                 lock=False, readahead=True, meminit=False, max_readers=1)
            self.txn = self.env.begin(write=False, buffers=False)
        except lmdb.Error as e:
            raise ConvertError(f"{self.path}: not a readable LMDB: {e}")
        self.mapped_bytes = 0

    def _check_size(self):
        # A truncated data.mdb would be read through the memory map past the end of the file,
        # which kills the process with SIGBUS instead of raising an error; check first.
        data = os.path.join(self.path, "data.mdb") if os.path.isdir(self.path) else self.path
        needed = (self.env.info()["last_pgno"] + 1) * self.env.stat()["psize"]
        have = os.path.getsize(data)
        if have < needed:
            raise ConvertError(f"{self.path}: truncated LMDB: {data} has {have} bytes, its "
                               f"header says {needed}")

    def close(self):
        if self.env is not None:
            self.txn.abort()
            self.env.close()
            self.env = self.txn = None

    def get(self, key, where):
        """The raw value of `key` (bytes); a key without a value is a data error."""
        if self.mapped_bytes >= REMAP_BYTES:
            self.close()
            self._open()
        try:
            value = self.txn.get(key)
        except lmdb.Error as e:
            raise ConvertError(f"{where}: unreadable (corrupt LMDB?): {e}")
        if value is None:
            return None
        self.mapped_bytes += len(value)
        return value


def id_text(value, where):
    """An id as vlmt spells it: bytes decoded as UTF-8, integral numbers in decimal."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ConvertError(f"{where}: id {value!r} is not UTF-8")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise ConvertError(f"{where}: id {value!r} is neither bytes, a string nor an integer")


def read_keys(source, strip_prefix=""):
    """[(id, key bytes)] in the order of the `keys` entry; ids without `strip_prefix`."""
    where = f"{source.path}: key keys"
    raw = source.get(KEYS_KEY, where)
    if raw is None:
        raise ConvertError(f"{source.path}: no 'keys' entry (not a ViLBERT feature LMDB?)")
    keys = safe_pickle.loads(raw, where)
    if not isinstance(keys, (list, tuple, np.ndarray)):
        raise ConvertError(f"{where}: a {type(keys).__name__}, not a list of image ids")
    entries = []
    for i, k in enumerate(keys):
        image_id = id_text(k, f"{where}: entry {i}")
        key = k if isinstance(k, bytes) else image_id.encode("utf-8")
        if strip_prefix:
            if not image_id.startswith(strip_prefix) or image_id == strip_prefix:
                raise ConvertError(f"{where}: entry {i} ({image_id!r}) does not start with "
                                   f"--strip-prefix {strip_prefix!r}")
            image_id = image_id[len(strip_prefix):]
        entries.append((image_id, key))
    return entries


def read_all_keys(sources, strip_prefix):
    """[(source, id, key bytes)] over several LMDBs, in the order given; an id twice is an error."""
    seen, entries = {}, []
    for source in sources:
        for image_id, key in read_keys(source, strip_prefix):
            if image_id in seen:
                other = seen[image_id]
                place = "in 'keys'" if other is source else f"(also in {other.path})"
                raise ConvertError(f"{source.path}: key {key.decode('utf-8', 'replace')}: "
                                   f"duplicate image id {image_id} {place}")
            seen[image_id] = source
            entries.append((source, image_id, key))
    return entries


# ---- one record ----------------------------------------------------------------------------
def to_int(value, name, where):
    if isinstance(value, bytes):
        value = value.decode("latin1")
    try:
        number = float(np.asarray(value).reshape(()).item() if not isinstance(value, str)
                       else value)
    except (TypeError, ValueError):
        raise ConvertError(f"{where}: '{name}' is not a number: {value!r:.40}")
    if not number.is_integer():
        raise ConvertError(f"{where}: '{name}' is not an integer: {number}")
    return int(number)


def from_base64(text, rows, cols, name, where):
    """Older releases: base64 of a float32 buffer, [rows, cols]; cols=None infers it."""
    if rows is None:
        raise ConvertError(f"{where}: missing field 'num_boxes' (needed to decode the "
                           f"base64 '{name}')")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConvertError(f"{where}: '{name}' is not valid base64 (truncated value?)")
    if rows <= 0 or len(raw) % 4 or (len(raw) // 4) % rows:
        raise ConvertError(f"{where}: '{name}' holds {len(raw)} bytes, not a float32 array of "
                           f"num_boxes {rows} rows")
    values = np.frombuffer(raw, dtype="<f4")
    inferred = values.size // rows
    if cols is not None and inferred != cols:
        raise ConvertError(f"{where}: '{name}' has {inferred} values per box, expected {cols}")
    return values.reshape(rows, inferred)


def from_array(value, rows, cols, name, where):
    """12-in-1 release: a numpy array [rows, cols], possibly flattened (the reader reshapes)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise ConvertError(f"{where}: '{name}' is a {arr.dtype} array, not numbers")
    if arr.ndim == 1 and (cols is not None or rows):
        per_row = cols if cols is not None else arr.size // rows
        if per_row == 0 or arr.size % per_row:
            raise ConvertError(f"{where}: '{name}' has {arr.size} values, not rows of {per_row}")
        arr = arr.reshape(-1, per_row)
    if arr.ndim != 2:
        need = " (a flat array needs 'num_boxes')" if arr.ndim == 1 else ""
        raise ConvertError(f"{where}: '{name}' has shape {arr.shape}, expected 2 "
                           f"dimensions{need}")
    if rows is not None and arr.shape[0] != rows:
        raise ConvertError(f"{where}: num_boxes {rows} but '{name}' has {arr.shape[0]} rows")
    if cols is not None and arr.shape[1] != cols:
        raise ConvertError(f"{where}: '{name}' has {arr.shape[1]} columns, expected {cols}")
    return arr.astype(np.float32, copy=False)


def matrix(value, rows, cols, name, where):
    if isinstance(value, (bytes, str)):
        return from_base64(value, rows, cols, name, where)
    if isinstance(value, (np.ndarray, list, tuple)):
        return from_array(value, rows, cols, name, where)
    raise ConvertError(f"{where}: '{name}' is a {type(value).__name__}, neither an array nor "
                       "base64 text")


def required(record, name, where):
    if name not in record:
        raise ConvertError(f"{where}: missing field '{name}'")
    return record[name]


def decode_record(record, image_id, where, key_id=None):
    """A released record → (w, h, boxes [N,4], features [N,D], cls_prob [N,C] or None).
    Its image_id must be `image_id` or the id as keyed (`key_id`, before --strip-prefix)."""
    if not isinstance(record, dict):
        raise ConvertError(f"{where}: value is a {type(record).__name__}, not a dict")
    # Python 2 pickles read with encoding=latin1 give str keys; bytes keys are decoded alike.
    record = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in record.items()}
    stored_id = id_text(required(record, "image_id", where), where)
    if stored_id != image_id and stored_id != key_id:
        raise ConvertError(f"{where}: record says image_id {stored_id}, stored under key "
                           f"{image_id}")
    w = to_int(required(record, "image_w", where), "image_w", where)
    h = to_int(required(record, "image_h", where), "image_h", where)
    num = record.get("num_boxes")
    num = None if num is None else to_int(num, "num_boxes", where)
    features = matrix(required(record, "features", where), num, None, "features", where)
    boxes = matrix(required(record, "boxes", where), features.shape[0], 4, "boxes", where)
    cls_prob = record.get("cls_prob")
    if cls_prob is not None:
        cls_prob = matrix(cls_prob, features.shape[0], None, "cls_prob", where)
        if not np.isfinite(cls_prob).all():
            raise ConvertError(f"{where}: cls_prob contains NaN/Inf")
    return w, h, boxes, features, cls_prob


# ---- selection and parts -------------------------------------------------------------------
def parse_part(text):
    """'I/N' → (I, N), 0 <= I < N (Slurm's $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)."""
    try:
        index, count = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--part {text!r}: expected I/N, e.g. 3/8")
    if count < 1 or not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--part {text}: index must be in 0..N-1 (0-based; "
                                         "use sbatch --array=0-(N-1))")
    return index, count


def part_path(out, index, count):
    stem = out[:-3] if out.endswith(".h5") else out
    return f"{stem}.part{index}-of-{count}.h5"


def select(entries, ids_file, paths):
    """The entries --ids-file names (all of them must be in `keys`), in `keys` order."""
    if ids_file is None:
        return entries
    wanted = read_required_ids(ids_file)
    present = {image_id for _, image_id, _ in entries}
    missing = [i for i in wanted if i not in present]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ConvertError(f"{', '.join(paths)}: image {missing[0]} listed in {ids_file} is not "
                           f"among the LMDB's keys{more}")
    wanted = set(wanted)
    return [e for e in entries if e[1] in wanted]


def part_set_id(entries):
    """Identifies the selected id list, so parts of different selections are never merged."""
    digest = hashlib.sha256("\n".join(e[1] for e in entries).encode("utf-8"))
    return digest.hexdigest()[:16]


# ---- conversion ----------------------------------------------------------------------------
def convert_range(chosen, args, out, extra_attrs):
    store_args = argparse.Namespace(**{**vars(args), "out": out, "ids_file": None})
    writer = FeatureStoreWriter(store_args)
    writer.extra_attrs = extra_attrs
    progress = Progress(os.path.basename(out), len(chosen), args.progress_seconds)
    try:
        for source, image_id, key in chosen:
            where = f"{source.path}: key {key.decode('utf-8', 'replace')}"
            raw = source.get(key, where)
            if raw is None:
                raise ConvertError(f"{where}: listed in 'keys' but absent from the LMDB")
            record = safe_pickle.loads(raw, where)
            w, h, boxes, features, cls_prob = decode_record(
                record, image_id, where, key.decode("utf-8", "replace"))
            writer.add(image_id, w, h, boxes, features, cls_prob, where)
            progress.step(len(raw))
        n, regions = writer.finish(" + ".join(dict.fromkeys(c[0].path for c in chosen)))
    except BaseException:
        writer.abort()
        raise
    print(f"{out}: {n} images, {regions} regions, feature_dim {writer.feature_dim}, "
          f"fingerprint {writer.detector}/{writer.feature_dim}/{writer.settings_hash}")


def convert_lmdb(args):
    sources = []
    try:
        for path in args.lmdb:
            sources.append(LmdbSource(path))
        chosen = select(read_all_keys(sources, args.strip_prefix), args.ids_file, args.lmdb)
        out, attrs = args.out, {}
        if args.part is not None:
            index, count = args.part
            n = len(chosen)
            attrs = {"part_index": np.int64(index), "part_count": np.int64(count),
                     "part_set": part_set_id(chosen), "part_set_images": np.int64(n)}
            chosen = chosen[index * n // count:(index + 1) * n // count]
            out = part_path(args.out, index, count)
            if not chosen:
                raise ConvertError(f"{', '.join(args.lmdb)}: part {index}/{count} is empty "
                                   f"(only {n} images); use fewer parts")
        convert_range(chosen, args, out, attrs)
    finally:
        for source in sources:
            source.close()


def main():
    parser = new_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--part", type=parse_part, metavar="I/N",
                        help="convert only the I-th (0-based) of N contiguous ranges of the "
                             "ids into OUT.partI-of-N.h5")
    parser.add_argument("--merge", action="store_true",
                        help="join part files (the positional arguments) into --out")
    parser.add_argument("--progress-seconds", type=float, default=5.0,
                        help="seconds between progress lines on stderr (default 5)")
    parser.add_argument("--strip-prefix", default="",
                        help="remove this prefix from every id (Visual7W: v7w_)")
    parser.add_argument("lmdb", nargs="+", help="the LMDB(s) (directory or file), one store from "
                                                "all of them; with --merge, the part files")
    args = parser.parse_args()
    if args.merge:
        if args.part or args.float16 or args.ids_file or args.settings or \
                args.strip_prefix or args.detector != "unknown":
            parser.error("--merge takes detector, settings, dtype and ids from the parts; "
                         "give only --out and the part files")
        features_merge.merge(args.out, args.lmdb, args.progress_seconds)
        return
    convert_lmdb(args)


if __name__ == "__main__":
    run_main(main)
