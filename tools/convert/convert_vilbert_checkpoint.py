#!/usr/bin/python3
"""Convert an official vilbert-multi-task PyTorch checkpoint into a vlmt HDF5 parameter file.

    convert_vilbert_checkpoint.py multi_task_model.bin --out vilbert_12in1.h5 [--allow-partial]
        [--answers vil_prediction=VQA/cache/trainval_label2ans.pkl]
        [--answers vil_prediction_gqa=gqa/cache/trainval_label2ans.pkl]
    convert_vilbert_checkpoint.py --from-npz weights.npz --out test.h5      (debug input, no torch)
    convert_vilbert_checkpoint.py --print-spec                              (expanded name list)

The input is a pickled state_dict (or a dict holding one under "model_state_dict"/"state_dict"),
possibly with the "module." prefixes of DataParallel. It is read with torch.load(...,
weights_only=True): tensors, dicts, lists, strings and numbers only, so a downloaded file cannot
run code while loading; a file that asks for anything else is refused (exit 4, nothing run).
Names and shapes are checked against the official parameter list
(tests/data/vilbert_state_dict.txt by default); missing, unexpected and mis-shaped names are
reported and make the script exit 4 without writing, unless --allow-partial. The output follows docs/CHECKPOINTS.md: /params/<name> datasets with attributes
dtype, shape and crc32 (zlib.crc32 of the raw little-endian bytes: the same CRC-32 as
src/ckpt/crc32.cpp), so the C++ loader verifies it.

--answers HEAD=FILE (repeatable; HEAD is vil_prediction (VQA, 3129 outputs) or
vil_prediction_gqa (GQA, 1533)) stores the answer of each output row with the weights, as
/answers/<HEAD>: a 1-D variable-length UTF-8 string dataset, row i = the answer of output i,
attributes source (FILE's base name) and crc32 (zlib.crc32 of the answers joined by "\n",
UTF-8; src/ckpt/head_answers.h). FILE is the released data package's
datasets/{VQA,gqa}/cache/trainval_label2ans.pkl (a pickled list, index = label), its
trainval_ans2label.pkl (a pickled dict answer -> label, inverted; the labels must be exactly
0..n-1), or vlmt's answers.json ({"answers": [...]}). Pickles are read with the restricted
unpickler of tools/convert/safe_pickle.py. A list whose length is not the head's output count
(<HEAD>.logit_fc.3.bias), an empty or duplicate answer, or an unreadable file is exit 3.
"""
import argparse
import math
import os
import re
import sys
import zlib

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safe_pickle  # noqa: E402  (tools/convert: the restricted unpickler)
from common import ConvertError, load_json  # noqa: E402

FORMAT_VERSION = 1
EXIT_DATA = 3        # vlmt ExitCode::kData
EXIT_CHECKPOINT = 4  # vlmt ExitCode::kCheckpoint
ANSWER_HEADS = ("vil_prediction", "vil_prediction_gqa")  # the released heads over answer lists
DEFAULT_SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data",
                            "vilbert_state_dict.txt")
SPEC_LINE = re.compile(r"^(\S+) \(([\d, ]*)\)(?: i∈(\d+)\.\.(\d+))?$")


def expand_spec(path):
    """Name -> shape from the parameter list. `{i} i∈a..b` expands to a..b inclusive.

    The list compresses the heads' Sequential(Linear, GeLU, LayerNorm, Linear) as
    `logit_fc.{i}.bias i∈0..2`; index 1 (GeLU) has no parameters, so a bias whose module has no
    weight is not a parameter and is dropped (a Linear/LayerNorm always has a weight). Only
    expanded names are filtered: cls.predictions.bias is a real standalone parameter."""
    spec, expanded = {}, set()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            m = SPEC_LINE.match(line)
            if not m:
                raise SystemExit(f"{path}:{number}: cannot parse '{line}'")
            name, dims = m.group(1), m.group(2)
            shape = tuple(int(d) for d in dims.split(",") if d.strip())
            if m.group(3) is None:
                spec[name] = shape
            else:
                for i in range(int(m.group(3)), int(m.group(4)) + 1):
                    spec[name.replace("{i}", str(i))] = shape
                    expanded.add(name.replace("{i}", str(i)))
    for name in [n for n in expanded if n.endswith(".bias")]:
        if name[: -len("bias")] + "weight" not in spec:
            del spec[name]
    return spec


class CheckpointInputError(Exception):
    """An unreadable or refused checkpoint file: exit 4 with the message."""


# What torch's weights-only unpickler says when a pickle names a callable or class it does not
# allow (torch 1.13: "Unsupported class posix.system"; later versions: "Unsupported global:
# GLOBAL posix.system was not an allowed global by default ...").
_REFUSED_GLOBAL = re.compile(r"[Uu]nsupported (?:class|global)|not an allowed global|"
                             r"instantiate unsupported class")


def load_torch_state_dict(path):
    try:
        import torch  # lazy: only needed for real PyTorch checkpoints
    except ImportError:
        raise SystemExit("convert_vilbert_checkpoint: reading a PyTorch checkpoint needs torch "
                         "(Debian: apt install python3-torch, or pip install torch); "
                         "--from-npz works without it")
    # weights_only: the released multi_task_model.bin / pretrained_model.bin are plain
    # state_dicts written by torch.save (zip or legacy format), which this reads; a pickle that
    # names any other callable (os.system via __reduce__, ...) is refused before it is called.
    import pickle
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as e:
        raise CheckpointInputError(f"{path}: cannot read: {e.strerror or e}")
    except pickle.UnpicklingError as e:
        detail = str(e)
        if "WeightsUnpickler error:" in detail:  # drop torch's advice to load it unrestricted
            detail = "WeightsUnpickler error:" + detail.split("WeightsUnpickler error:", 1)[1]
        if _REFUSED_GLOBAL.search(detail):
            raise CheckpointInputError(
                f"{path}: refusing to load: the file asks to run code (its pickle names a "
                f"callable other than the tensor, dict and list constructors a state_dict "
                f"needs; {detail.strip()}). Released vilbert-multi-task checkpoints are plain "
                f"state_dicts and load (a training run's pytorch_ckpt_latest.tar also pickles "
                f"Python objects: convert its pytorch_model_<epoch>.bin instead); do not open "
                f"this file with an unrestricted torch.load")
        raise CheckpointInputError(f"{path}: not a readable PyTorch checkpoint: the weights-only "
                                   f"loader cannot read it ({detail.strip()})")
    except Exception as e:  # corrupt/truncated/not a torch file: torch raises many kinds
        raise CheckpointInputError(f"{path}: not a readable PyTorch checkpoint "
                                   f"({type(e).__name__}: {e})")
    for key in ("model_state_dict", "state_dict", "model"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict):
        raise CheckpointInputError(f"{path}: not a state_dict (found {type(obj).__name__})")
    arrays = {}
    for name, tensor in obj.items():
        if not hasattr(tensor, "detach"):
            continue  # non-tensor entries (e.g. metadata) carry no weights
        tensor = tensor.detach().cpu().contiguous()
        if tensor.dtype == torch.bfloat16:
            arrays[name] = ("bfloat16", tensor.view(torch.int16).numpy().view(np.uint16))
        else:
            arrays[name] = (None, tensor.numpy())
    return arrays


def load_npz(path):
    with np.load(path) as npz:
        return {name: (None, npz[name]) for name in npz.files}


def read_answers(path):
    """The answer list (index = output row) of a label2ans list pickle, an ans2label dict
    pickle (inverted) or vlmt's answers.json; ConvertError naming the file and entry."""
    try:
        with open(path, "rb") as f:
            head = f.read(64).lstrip()
    except OSError as e:
        raise ConvertError(f"{path}: cannot read: {e.strerror}")
    if head.startswith(b"{"):  # JSON (a pickle never starts with '{')
        data = load_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("answers"), list):
            raise ConvertError(f"{path}: expected {{\"answers\": [string, ...]}}")
        raw, kind = data["answers"], "answers.json"
    else:
        raw = safe_pickle.load(path)
        kind = "label2ans list" if isinstance(raw, list) else "ans2label dict"
    if isinstance(raw, dict):  # ans2label: answer -> label, labels exactly 0..n-1
        n = len(raw)
        answers = [None] * n
        for answer, label in raw.items():
            answer = safe_pickle.text(answer, path, f"key {answer!r}")
            if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
                raise ConvertError(f"{path}: answer '{answer}' has label {label!r}, not an "
                                   f"integer (an ans2label dict maps answers to 0..{n - 1})")
            label = int(label)
            if not 0 <= label < n:
                raise ConvertError(f"{path}: answer '{answer}' has label {label}; the "
                                   f"{n} labels of an ans2label dict must be exactly 0..{n - 1}")
            if answers[label] is not None:
                raise ConvertError(f"{path}: label {label} is given to both '{answers[label]}' "
                                   f"and '{answer}'")
            answers[label] = answer
    elif isinstance(raw, (list, tuple)):
        answers = [safe_pickle.text(a, path, f"entry {i}") for i, a in enumerate(raw)]
    else:
        raise ConvertError(f"{path}: expected a label2ans list, an ans2label dict or "
                           f"{{\"answers\": [...]}}, found {type(raw).__name__}")
    seen = {}
    for i, answer in enumerate(answers):
        if answer == "":
            raise ConvertError(f"{path}: answer {i} is empty")
        if answer in seen:
            raise ConvertError(f"{path}: answer '{answer}' appears twice (labels {seen[answer]} "
                               f"and {i})")
        seen[answer] = i
    if not answers:
        raise ConvertError(f"{path}: no answers")
    return answers, kind


def check_answer_counts(answers, arrays):
    """Each list's length must equal its head's output count in the converted parameters."""
    for head, (path, answers_list) in answers.items():
        name = f"{head}.logit_fc.3.bias"
        if name not in arrays:
            raise ConvertError(f"{path}: --answers {head}: the checkpoint has no {name}, so "
                               f"the head's output count is unknown")
        outputs = int(np.prod(arrays[name][1].shape))
        if len(answers_list) != outputs:
            raise ConvertError(f"{path}: {len(answers_list)} answers, but {head} has {outputs} "
                               f"outputs ({name})")


def strip_prefix(arrays):
    """DataParallel saves every name with a leading 'module.'."""
    out = {}
    for name, value in arrays.items():
        out[name[len("module."):] if name.startswith("module.") else name] = value
    return out


NUMPY_DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.float16): "float16",
                np.dtype(np.float64): "float64", np.dtype(np.int64): "int64",
                np.dtype(np.int32): "int32", np.dtype(np.uint8): "uint8",
                np.dtype(np.bool_): "bool"}


def to_stored(dtype_name, array, name):
    """(dtype attribute, little-endian array as stored). bool is stored as uint8, as in C++."""
    if dtype_name is None:
        if array.dtype not in NUMPY_DTYPES:
            raise SystemExit(f"tensor {name}: unsupported dtype {array.dtype}")
        dtype_name = NUMPY_DTYPES[array.dtype]
    array = np.asarray(array, order="C")  # ascontiguousarray would make 0-d arrays 1-d
    if dtype_name == "bool":
        array = array.view(np.uint8)
    return dtype_name, array.astype(array.dtype.newbyteorder("<"), copy=False)


def check_against_spec(arrays, spec):
    missing = [n for n in spec if n not in arrays]
    unexpected = [n for n in arrays if n not in spec]
    mis_shaped = [(n, spec[n], tuple(a.shape)) for n, (_, a) in arrays.items()
                  if n in spec and tuple(a.shape) != spec[n]]
    return missing, unexpected, mis_shaped


def write_parameter_file(path, arrays, answers=None):
    tmp = path + ".tmp"
    with h5py.File(tmp, "w", track_order=True) as f:
        f.attrs["kind"] = "parameters"
        f.attrs["format_version"] = np.array([FORMAT_VERSION], dtype=np.int64)
        group = f.create_group("params", track_order=True)
        for name, (dtype_name, array) in arrays.items():
            if "/" in name or not name:
                raise SystemExit(f"invalid tensor name '{name}'")
            dtype_name, stored = to_stored(dtype_name, array, name)
            dataset = group.create_dataset(name, data=stored)
            dataset.attrs["dtype"] = dtype_name
            dataset.attrs["shape"] = np.array(stored.shape, dtype=np.int64)
            dataset.attrs["crc32"] = np.uint32(zlib.crc32(stored.tobytes()) & 0xFFFFFFFF)
        if answers:
            group = f.create_group("answers", track_order=True)
            for head, (source, answers_list) in answers.items():
                dataset = group.create_dataset(head, data=np.array(answers_list, dtype=object),
                                               dtype=h5py.string_dtype("utf-8"))
                dataset.attrs["source"] = os.path.basename(source)
                joined = "\n".join(answers_list).encode("utf-8")  # as src/ckpt/head_answers.cpp
                dataset.attrs["crc32"] = np.uint32(zlib.crc32(joined) & 0xFFFFFFFF)
    os.replace(tmp, path)


def parse_answers_args(parser, values):
    """--answers HEAD=FILE ... -> {head: file}; a bad form or head is a usage error (exit 2)."""
    out = {}
    for value in values or []:
        head, sep, path = value.partition("=")
        if not sep or not head or not path:
            parser.error(f"--answers {value}: expected HEAD=FILE, e.g. "
                         f"vil_prediction=trainval_label2ans.pkl")
        if head not in ANSWER_HEADS:
            parser.error(f"--answers {value}: HEAD must be one of {', '.join(ANSWER_HEADS)}")
        if head in out:
            parser.error(f"--answers: {head} given twice")
        out[head] = path
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", nargs="?", help="official PyTorch checkpoint (.bin/.pth)")
    parser.add_argument("--from-npz", help="debug input: numpy .npz with one array per name")
    parser.add_argument("--out", help="vlmt HDF5 parameter file to write")
    parser.add_argument("--spec", default=DEFAULT_SPEC, help="official parameter list")
    parser.add_argument("--allow-partial", action="store_true",
                        help="write the file despite missing/unexpected/mis-shaped names")
    parser.add_argument("--answers", action="append", metavar="HEAD=FILE",
                        help="store HEAD's answer list (label2ans .pkl, ans2label .pkl or "
                             "answers.json) as /answers/HEAD; HEAD: " + ", ".join(ANSWER_HEADS))
    parser.add_argument("--print-spec", action="store_true",
                        help="print the expanded parameter list and its totals, then exit")
    args = parser.parse_args(argv)

    spec = expand_spec(args.spec)
    if args.print_spec:
        for name, shape in spec.items():
            print(name, shape)
        print(f"{len(spec)} tensors, {sum(math.prod(s) for s in spec.values())} elements")
        return 0
    if bool(args.checkpoint) == bool(args.from_npz) or not args.out:
        parser.error("give a checkpoint or --from-npz (not both), and --out")
    answer_files = parse_answers_args(parser, args.answers)

    # The answer files first: they are small, the checkpoint is not.
    answers = {}
    try:
        for head, path in answer_files.items():
            answers_list, kind = read_answers(path)
            answers[head] = (path, answers_list)
            print(f"{path}: {len(answers_list)} answers for {head} ({kind})")
    except ConvertError as e:
        print(f"convert_vilbert_checkpoint: error: {e}", file=sys.stderr)
        return EXIT_DATA

    source = args.checkpoint or args.from_npz
    try:
        arrays = strip_prefix(load_npz(source) if args.from_npz else load_torch_state_dict(source))
    except CheckpointInputError as e:
        print(f"convert_vilbert_checkpoint: error: {e}", file=sys.stderr)
        return EXIT_CHECKPOINT
    missing, unexpected, mis_shaped = check_against_spec(arrays, spec)
    print(f"{source}: {len(arrays)} tensors; {len(missing)} missing, {len(unexpected)} "
          f"unexpected, {len(mis_shaped)} mis-shaped against {args.spec}")
    for n in missing:
        print(f"  missing     {n} {spec[n]}")
    for n in unexpected:
        print(f"  unexpected  {n} {tuple(arrays[n][1].shape)}")
    for n, want, got in mis_shaped:
        print(f"  mis-shaped  {n}: expected {want}, found {got}")
    if (missing or unexpected or mis_shaped) and not args.allow_partial:
        print("convert_vilbert_checkpoint: not written (pass --allow-partial to write anyway)",
              file=sys.stderr)
        return EXIT_CHECKPOINT
    try:
        check_answer_counts(answers, arrays)
    except ConvertError as e:
        print(f"convert_vilbert_checkpoint: error: {e}; not written", file=sys.stderr)
        return EXIT_DATA
    write_parameter_file(args.out, arrays, answers)
    print(f"wrote {len(arrays)} tensors"
          + (f" and the answers of {', '.join(answers)}" if answers else "") + f" to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
