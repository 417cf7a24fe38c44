"""Writer of the region-feature HDF5 store (docs/DATA.md "Region-feature files (HDF5)").

Images are appended one at a time and buffered, so a 40 GB TSV streams through in bounded
memory. The file is written under a temporary name and renamed when complete.
"""
import argparse
import hashlib
import os
import sys
import time

import numpy as np

from common import ConvertError

try:
    import h5py
except ImportError:  # the Debian package python3-h5py lives in /usr/bin/python3's path
    h5py = None

FORMAT_VERSION = 1
FLUSH_ROWS = 8192      # regions buffered before a write to the file
ROWS_PER_CHUNK = 64    # HDF5 chunk height: one image (10-100 boxes) touches 1-3 chunks


class Progress:
    """'done/total images, MB/s, ETA' on stderr at most every `every` seconds, and at the end."""

    def __init__(self, label, total, every):
        self.label, self.total, self.every = label, total, every
        self.start = self.last = time.monotonic()
        self.done, self.bytes = 0, 0

    def step(self, nbytes):
        self.done += 1
        self.bytes += nbytes
        now = time.monotonic()
        if now - self.last >= self.every or self.done == self.total:
            self.last = now
            self._print(now)

    def _print(self, now):
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else 0
        print(f"{self.label}: {self.done}/{self.total} images, {self.bytes / 1e6:.0f} MB, "
              f"{self.bytes / 1e6 / elapsed:.1f} MB/s, elapsed {elapsed:.0f} s, "
              f"ETA {eta:.0f} s", file=sys.stderr, flush=True)


def settings_hash(settings):
    """First 16 hex digits of SHA-256 of the extraction settings string."""
    return hashlib.sha256(settings.encode("utf-8")).hexdigest()[:16]


def add_store_arguments(parser):
    """The options every feature converter shares."""
    parser.add_argument("--out", required=True, help="output .h5 file (features/<source>.h5)")
    parser.add_argument("--float16", action="store_true", help="store features as float16")
    parser.add_argument("--detector", default="unknown",
                        help="detector name recorded in the file and its fingerprint")
    parser.add_argument("--settings", default="",
                        help="extraction settings (free text) hashed into settings_hash")
    parser.add_argument("--ids-file",
                        help="ids that must all be present: one per line, or a JSON list")


def read_required_ids(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConvertError(f"{path}: cannot read ids file: {e.strerror}")
    if text.lstrip().startswith("["):
        import json
        try:
            return [str(i) for i in json.loads(text)]
        except json.JSONDecodeError as e:
            raise ConvertError(f"{path}: malformed JSON id list: {e.msg}")
    return [line.strip() for line in text.splitlines() if line.strip()]


class FeatureStoreWriter:
    def __init__(self, args):
        if h5py is None:
            raise SystemExit("error: h5py is not importable by this python; "
                             "run the converter with /usr/bin/python3 (Debian python3-h5py)")
        self.path = args.out
        self.tmp = f"{args.out}.tmp.{os.getpid()}"
        self.dtype = np.float16 if args.float16 else np.float32
        self.detector = args.detector
        self.settings_hash = settings_hash(args.settings)
        self.required_ids_file = args.ids_file
        self.required_ids = read_required_ids(args.ids_file) if args.ids_file else None
        self.file = None
        self.feature_dim = None
        self.cls_dim = None
        self.first_where = None
        self.ids, self.widths, self.heights, self.offsets = [], [], [], [0]
        self.seen = set()
        self.pending = []  # (boxes, features, cls_prob) not yet written
        self.extra_attrs = {}  # further file attributes (e.g. which part of a Slurm array)

    # ---- appending -----------------------------------------------------------------------
    def add(self, image_id, image_w, image_h, boxes, features, cls_prob, where):
        """Appends one image. `where` names the input (file, line) for error messages."""
        image_id = str(image_id)
        where = f"{where}: image {image_id}"
        if image_id in self.seen:
            raise ConvertError(f"{where}: duplicate image id")
        if features.ndim != 2 or boxes.shape != (features.shape[0], 4):
            raise ConvertError(f"{where}: boxes {tuple(boxes.shape)} and features "
                               f"{tuple(features.shape)} do not describe the same N regions")
        if features.shape[0] == 0:
            raise ConvertError(f"{where}: image has no regions")
        if image_w <= 0 or image_h <= 0:
            raise ConvertError(f"{where}: image size {image_w}x{image_h} is not positive")
        if not (np.isfinite(features).all() and np.isfinite(boxes).all()):
            raise ConvertError(f"{where}: features or boxes contain NaN/Inf")
        if self.feature_dim is None:
            self.feature_dim = features.shape[1]
            self.cls_dim = None if cls_prob is None else cls_prob.shape[1]
            self.first_where = where
            self._create()
        if features.shape[1] != self.feature_dim:
            raise ConvertError(f"{where}: feature dimension {features.shape[1]} differs from "
                               f"{self.feature_dim} of the first image ({self.first_where})")
        has_cls = cls_prob is not None
        if has_cls != (self.cls_dim is not None):
            raise ConvertError(f"{where}: cls_prob is {'present' if has_cls else 'absent'} "
                               f"but not for the first image ({self.first_where})")
        if has_cls and cls_prob.shape != (features.shape[0], self.cls_dim):
            raise ConvertError(f"{where}: cls_prob shape {tuple(cls_prob.shape)}, expected "
                               f"({features.shape[0]}, {self.cls_dim})")
        self.seen.add(image_id)
        self.ids.append(image_id)
        self.widths.append(int(image_w))
        self.heights.append(int(image_h))
        self.offsets.append(self.offsets[-1] + features.shape[0])
        self.pending.append((boxes, features, cls_prob))
        if sum(p[1].shape[0] for p in self.pending) >= FLUSH_ROWS:
            self._flush()

    def _create(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self.file = h5py.File(self.tmp, "w")
        f, d = self.file, self.feature_dim
        f.create_dataset("features", (0, d), self.dtype, maxshape=(None, d),
                         chunks=(ROWS_PER_CHUNK, d))
        f.create_dataset("boxes", (0, 4), np.float32, maxshape=(None, 4),
                         chunks=(ROWS_PER_CHUNK * 16, 4))
        if self.cls_dim is not None:
            f.create_dataset("cls_prob", (0, self.cls_dim), np.float32,
                             maxshape=(None, self.cls_dim), chunks=(ROWS_PER_CHUNK, self.cls_dim))

    def _flush(self):
        if not self.pending:
            return
        start = self.file["features"].shape[0]
        parts = {"boxes": [p[0] for p in self.pending], "features": [p[1] for p in self.pending]}
        if self.cls_dim is not None:
            parts["cls_prob"] = [p[2] for p in self.pending]
        for name, arrays in parts.items():
            block = np.concatenate(arrays).astype(self.file[name].dtype)
            ds = self.file[name]
            ds.resize(start + block.shape[0], axis=0)
            ds[start:] = block
        self.pending = []

    # ---- finishing -----------------------------------------------------------------------
    def abort(self):
        if self.file is not None:
            self.file.close()
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)

    def finish(self, source_name):
        """Checks the required ids, writes the index arrays and attributes, renames the file."""
        if not self.ids:
            raise ConvertError(f"{source_name}: no images found")
        if self.required_ids is not None:
            missing = [i for i in self.required_ids if i not in self.seen]
            if missing:
                more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
                raise ConvertError(f"{source_name}: image {missing[0]} listed in "
                                   f"{self.required_ids_file} is missing{more}")
        self._flush()
        f = self.file
        n = len(self.ids)
        f.create_dataset("ids", data=np.array(self.ids, dtype=object),
                         dtype=h5py.string_dtype("utf-8"), chunks=(min(n, 4096),))
        f.create_dataset("offsets", data=np.array(self.offsets, dtype=np.int64))
        f.create_dataset("image_w", data=np.array(self.widths, dtype=np.int32))
        f.create_dataset("image_h", data=np.array(self.heights, dtype=np.int32))
        f.attrs["feature_dim"] = np.int64(self.feature_dim)
        f.attrs["detector"] = self.detector
        f.attrs["settings_hash"] = self.settings_hash
        f.attrs["fingerprint"] = f"{self.detector}/{self.feature_dim}/{self.settings_hash}"
        f.attrs["format_version"] = np.int64(FORMAT_VERSION)
        for name, value in self.extra_attrs.items():
            f.attrs[name] = value
        f.close()
        self.file = None
        os.replace(self.tmp, self.path)
        return n, self.offsets[-1]


def convert(args, source_name, images):
    """Feeds (image_id, w, h, boxes, features, cls_prob, where) tuples into a new store."""
    writer = FeatureStoreWriter(args)
    try:
        for item in images:
            writer.add(*item)
        n, regions = writer.finish(source_name)
    except BaseException:
        writer.abort()
        raise
    print(f"{args.out}: {n} images, {regions} regions, feature_dim {writer.feature_dim}, "
          f"fingerprint {writer.detector}/{writer.feature_dim}/{writer.settings_hash}")


def new_parser(description):
    parser = argparse.ArgumentParser(description=description)
    add_store_arguments(parser)
    return parser
