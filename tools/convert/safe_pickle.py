"""Reading downloaded pickles without running their code.

A pickle can name any importable callable and the standard unpickler calls it, so a pickle
from the internet is untrusted input. This unpickler resolves only the globals that a pickled
structure of dicts, lists, strings, numbers and numpy arrays/scalars needs (ALLOWED_GLOBALS);
any other global is refused with a ConvertError naming the file and the global, before
anything is called.
"""
import pickle

from common import ConvertError

# The globals a pickled dict of lists / numpy arrays / numpy scalars refers to, and nothing
# else (numpy >= 2 writes numpy._core; protocol 5 uses _frombuffer; Python-2-protocol pickles
# of bytes use _codecs.encode, and of empty bytes — an empty array's buffer — bytes itself).
ALLOWED_GLOBALS = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"), ("builtins", "bytes"), ("__builtin__", "bytes"),
}

# What a broken (truncated, corrupted) pickle raises while loading.
_LOAD_ERRORS = (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError,
                AttributeError, UnicodeDecodeError, MemoryError, OverflowError)


class RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, f, where):
        # latin1: numpy arrays pickled by Python 2 carry their data as str (numpy's advice).
        super().__init__(f, encoding="latin1")
        self.where = where

    def find_class(self, module, name):
        if (module, name) not in ALLOWED_GLOBALS:
            raise ConvertError(f"{self.where}: refusing to unpickle global '{module}.{name}' "
                               "(only dicts, lists, strings, numbers and numpy arrays are allowed)")
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError) as e:
            raise ConvertError(f"{self.where}: cannot resolve '{module}.{name}': {e}")


def loads(data, where):
    """Unpickles bytes (e.g. an LMDB value); `where` names the file and key in errors."""
    import io
    try:
        return RestrictedUnpickler(io.BytesIO(data), where).load()
    except ConvertError:
        raise
    except _LOAD_ERRORS as e:
        raise ConvertError(f"{where}: not a readable pickle (truncated?): {e}")


def load(path):
    """Unpickles a whole file."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise ConvertError(f"{path}: cannot read: {e.strerror}")
    with f:
        try:
            return RestrictedUnpickler(f, path).load()
        except ConvertError:
            raise
        except _LOAD_ERRORS as e:
            raise ConvertError(f"{path}: not a readable pickle (truncated?): {e}")


def text(value, path, where):
    """A string field of an unpickled record: Python 2 pickles (protocol 2) give their str as
    bytes, which must be UTF-8. ConvertError naming the file and `where` otherwise."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise ConvertError(f"{path}: {where} is not UTF-8: {value!r}")
    if not isinstance(value, str):
        raise ConvertError(f"{path}: {where} is not a string: {value!r}")
    return str(value)
