"""Importing the authors' released code (facebookresearch/vilbert-multi-task, from a checkout
given on the command line; nothing of it is copied here) under Debian's python3-torch, for the
golden-data scripts of this folder. Modules the released code imports but that cannot be
installed here (no PyPI) are replaced by stand-ins; each stand-in says what it replaces.
"""
import math
import os
import subprocess
import sys
import types


def stub(name, **attrs):
    """An importable module `name` holding `attrs` (registered in its parent package too)."""
    mod = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(mod, key, value)
    sys.modules[name] = mod
    if "." in name:
        parent, child = name.rsplit(".", 1)
        if parent in sys.modules:
            setattr(sys.modules[parent], child, mod)
    return mod


def missing(name):
    try:
        __import__(name)
        return False
    except ImportError:
        return True


class Dummy(object):
    def __init__(self, *args, **kwargs):
        pass


def add_released(path):
    """Puts the checkout on sys.path; exits naming the path when it is not the released code."""
    path = os.path.abspath(path)
    if not os.path.isfile(os.path.join(path, "vilbert", "vilbert.py")):
        sys.exit("--released %s: no vilbert/vilbert.py there" % path)
    sys.path.insert(0, path)
    return path


def released_commit(path, given=None):
    """The commit the checkout is at: `given`, else `git rev-parse HEAD` in it; exits when neither
    is known (the golden metadata records it)."""
    if given:
        return given
    try:
        return subprocess.check_output(["git", "-C", path, "rev-parse", "HEAD"], text=True,
                                       stderr=subprocess.DEVNULL).strip()
    except (OSError, subprocess.CalledProcessError):
        sys.exit("%s is not a git checkout: give the released commit with --released-commit" % path)


def stub_utility_imports():
    """What vilbert/utils.py imports for S3 downloads, TensorBoard and progress bars."""
    stub("boto3")
    stub("botocore")
    stub("botocore.exceptions", ClientError=type("ClientError", (Exception,), {}))
    stub("tensorboardX", SummaryWriter=Dummy)
    if missing("requests"):
        stub("requests")
    if missing("tqdm"):
        stub("tqdm", tqdm=lambda x=None, *a, **k: x)
    if missing("torch._six"):  # gone in torch 2
        stub("torch._six", inf=math.inf)


def dataset_package(path):
    """vilbert.datasets as a package whose submodules import one by one: its __init__ imports
    every dataset of the release (VCR, VisDial, ...), which the golden batches do not need."""
    import vilbert  # the real (empty) package
    package = stub("vilbert.datasets")
    package.__path__ = [os.path.join(path, "vilbert", "datasets")]
    return package


class JsonLinesReader(object):
    """jsonlines.open(path) as the released readers use it (not a Debian package): a context
    manager iterating over the objects of a JSON Lines file."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.file = open(self.path, encoding="utf-8")
        return self

    def __exit__(self, *exc):
        self.file.close()

    def __iter__(self):
        import json
        for line in self.file:
            if line.strip():
                yield json.loads(line)


def stub_dataset_imports(tokenizer_class, refer_class):
    """What the released dataset modules import: pytorch_transformers' BertTokenizer (given: a
    reference implementation), jsonlines, the refer tool (given), tensorpack and msgpack-numpy
    (concept_cap_dataset.py's LMDB streaming, which the golden batches replace by feeding its
    preprocessing directly)."""
    stub("pytorch_transformers")
    stub("pytorch_transformers.tokenization_bert", BertTokenizer=tokenizer_class)
    stub("jsonlines", open=JsonLinesReader)
    stub("tools")
    stub("tools.refer")
    stub("tools.refer.refer", REFER=refer_class)
    stub("tensorpack")
    stub("tensorpack.dataflow")
    if missing("msgpack"):
        stub("msgpack")
    if missing("msgpack_numpy"):
        stub("msgpack_numpy", patch=lambda: None)
