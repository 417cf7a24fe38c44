"""Shared helpers of the dataset converters: errors, exit codes, safe file writing.

Every converter maps bad input to exit code 3 (vlmt's ExitCode::kData) with a message that
names the file and the offending id, field or line, so a broken download is easy to locate.
"""
import json
import os
import sys

EXIT_DATA = 3    # missing or malformed data file, annotation or id (docs/EXIT_CODES.md)
EXIT_USAGE = 2   # bad command line (argparse already uses 2)


class ConvertError(Exception):
    """Bad input data; the message names the file and the offending id or field."""


def run_main(main):
    """Runs main(); turns ConvertError into 'error: ...' on stderr and exit code 3."""
    try:
        main()
    except ConvertError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(EXIT_DATA)


def load_json(path):
    """Parses a whole JSON file; unreadable or malformed files are data errors."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise ConvertError(f"{path}: cannot read: {e.strerror}")
    except json.JSONDecodeError as e:
        raise ConvertError(f"{path}: malformed JSON at line {e.lineno}: {e.msg}")


def iter_jsonl(path):
    """Yields (line number, object) for each non-blank line of a JSON Lines file."""
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise ConvertError(f"{path}: cannot read: {e.strerror}")
    with f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as e:
                raise ConvertError(f"{path}:{lineno}: malformed JSON: {e.msg}")


def field(record, key, where):
    """record[key], or a data error naming `where` (file and id) and the missing field."""
    if not isinstance(record, dict) or key not in record:
        raise ConvertError(f"{where}: missing field '{key}'")
    return record[key]


def xywh_to_xyxy(box, where):
    """COCO-style [x, y, w, h] → [x1, y1, x2, y2] in pixels."""
    try:
        x, y, w, h = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ConvertError(f"{where}: box must be 4 numbers [x, y, w, h], got {box!r}")
    return [x, y, x + w, y + h]


def image_id_from_filename(name):
    """'1000092795.jpg' → '1000092795' (Flickr30k and SNLI-VE name images by file)."""
    return os.path.splitext(os.path.basename(str(name)))[0]


class AtomicFile:
    """Opens `<path>.tmp.<pid>` for writing and renames it to `path` only on success, so an
    interrupted conversion never leaves a half-written file under the real name."""

    def __init__(self, path, mode="w"):
        self.path = path
        self.tmp = f"{path}.tmp.{os.getpid()}"
        self.mode = mode
        self.file = None

    def __enter__(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self.file = open(self.tmp, self.mode, encoding="utf-8")
        return self.file

    def __exit__(self, exc_type, exc, tb):
        self.file.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            os.unlink(self.tmp)
        return False


def write_jsonl(path, records):
    """Writes one compact JSON object per line (keys in insertion order); returns the count."""
    n = 0
    with AtomicFile(path) as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) + "\n")
            n += 1
    return n


def write_json(path, obj, sort_keys=False):
    with AtomicFile(path) as f:
        json.dump(obj, f, ensure_ascii=False, indent=1, sort_keys=sort_keys)
        f.write("\n")


def file_stat(path):
    """[size, mtime in ns]: what the resumable converters' manifests record of an input."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


def annotation_path(root, task, split):
    return os.path.join(root, "annotations", task, f"{split}.jsonl")


def answers_path(root, task):
    return os.path.join(root, "annotations", task, "answers.json")
