#!/usr/bin/python3
"""Convert an official vilbert-multi-task PyTorch checkpoint into a vlmt HDF5 parameter file.

    convert_vilbert_checkpoint.py multi_task_model.bin --out vilbert_12in1.h5 [--allow-partial]
    convert_vilbert_checkpoint.py --from-npz weights.npz --out test.h5      (debug input, no torch)
    convert_vilbert_checkpoint.py --print-spec                              (expanded name list)

The input is a pickled state_dict (or a dict holding one under "model_state_dict"/"state_dict"),
possibly with the "module." prefixes of DataParallel. Names and shapes are checked against the
official parameter list (tests/data/vilbert_state_dict.txt by default); missing, unexpected and
mis-shaped names are reported and make the script exit 4 without writing, unless
--allow-partial. The output follows docs/CHECKPOINTS.md: /params/<name> datasets with attributes
dtype, shape and crc32 (zlib.crc32 of the raw little-endian bytes: the same CRC-32 as
src/ckpt/crc32.cpp), so the C++ loader verifies it.
"""
import argparse
import math
import os
import re
import sys
import zlib

import h5py
import numpy as np

FORMAT_VERSION = 1
EXIT_CHECKPOINT = 4  # vlmt ExitCode::kCheckpoint
DEFAULT_SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
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


def load_torch_state_dict(path):
    try:
        import torch  # lazy: only needed for real PyTorch checkpoints
    except ImportError:
        raise SystemExit("convert_vilbert_checkpoint: reading a PyTorch checkpoint needs torch "
                         "(Debian: apt install python3-torch, or pip install torch); "
                         "--from-npz works without it")
    obj = torch.load(path, map_location="cpu")
    for key in ("model_state_dict", "state_dict", "model"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict):
        raise SystemExit(f"{path}: not a state_dict (found {type(obj).__name__})")
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


def write_parameter_file(path, arrays):
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
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", nargs="?", help="official PyTorch checkpoint (.bin/.pth)")
    parser.add_argument("--from-npz", help="debug input: numpy .npz with one array per name")
    parser.add_argument("--out", help="vlmt HDF5 parameter file to write")
    parser.add_argument("--spec", default=DEFAULT_SPEC, help="official parameter list")
    parser.add_argument("--allow-partial", action="store_true",
                        help="write the file despite missing/unexpected/mis-shaped names")
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

    source = args.checkpoint or args.from_npz
    arrays = strip_prefix(load_npz(source) if args.from_npz else load_torch_state_dict(source))
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
    write_parameter_file(args.out, arrays)
    print(f"wrote {len(arrays)} tensors to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
