"""Reading torch zip checkpoints (torch.save and TorchScript archives) as data, never as code.

Published training checkpoints hold more than tensors: PyTorch Lightning <= 1.4 keys callback state by the
callback *class*, hyper-parameters may be an argparse.Namespace, mmcv meta holds numpy scalars, TorchScript
archives pickle `__torch__.*` module objects. `torch.load(weights_only=True)` refuses all of these, and a plain
`torch.load` would run whatever constructor the file names. This unpickler rebuilds only tensors, storages,
containers and primitives; every other global becomes an inert placeholder class that records its name, its
arguments and its state, so no callable from the file ever runs.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from pathlib import Path, PurePosixPath

import torch

MAX_PICKLE_BYTES = 256 << 20
MAX_ARCHIVE_BYTES = 64 << 30


class InertGlobal:
    """Stands in for a global the file names: construction and state only record, nothing executes."""

    module = ""
    qualname = ""

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.args, obj.kwargs, obj.state = args, kwargs, None
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.state = state

    def __repr__(self) -> str:
        return f"<inert {self.module}.{self.qualname}>"


_PLACEHOLDERS: dict[tuple[str, str], type] = {}


def placeholder(module: str, name: str) -> type:
    """One class per (module, name), so a class used as a dict key stays one key."""
    key = (module, name)
    if key not in _PLACEHOLDERS:
        _PLACEHOLDERS[key] = type(name.replace(".", "_"), (InertGlobal,), {"module": module, "qualname": name})
    return _PLACEHOLDERS[key]


class _StorageType:
    def __init__(self, dtype: torch.dtype):
        self.dtype = dtype


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    return storage.as_strided(tuple(size), tuple(stride), storage_offset)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    return storage.view(dtype).as_strided(tuple(size), tuple(stride), storage_offset)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *state):
    return data


def _identity(value, *_ignored):
    return value


def _storage_types() -> dict[str, _StorageType]:
    names = {"FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
             "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
             "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
             "BoolStorage": torch.bool, "UntypedStorage": torch.uint8}
    return {n: _StorageType(d) for n, d in names.items()}


_STORAGES = _storage_types()
_ALLOWED = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.jit._pickle", "build_intlist"): _identity,
    ("torch.jit._pickle", "build_doublelist"): _identity,
    ("torch.jit._pickle", "build_boollist"): _identity,
    ("torch.jit._pickle", "build_tensorlist"): _identity,
    ("torch.jit._pickle", "build_strlist"): _identity,
    ("torch.jit._pickle", "restore_type_tag"): _identity,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
    ("torch", "Size"): torch.Size,
}
_DTYPES = {name: getattr(torch, name) for name in ("float32", "float64", "float16", "bfloat16", "int64", "int32",
                                                   "int16", "int8", "uint8", "bool")}


class RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, read_storage, placeholders: list[str]):
        super().__init__(io.BytesIO(data))
        self._read_storage = read_storage
        self._storages: dict[str, torch.Tensor] = {}
        self.placeholders = placeholders

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGES:
            return _STORAGES[name]
        if module == "torch" and name in _DTYPES:
            return _DTYPES[name]
        self.placeholders.append(f"{module}.{name}")
        return placeholder(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.80}")
        _tag, storage_type, key, _location, numel = pid[:5]
        dtype = storage_type.dtype if isinstance(storage_type, _StorageType) else None
        if dtype is None:
            dtype = storage_type if isinstance(storage_type, torch.dtype) else None
        if dtype is None:
            raise pickle.UnpicklingError(f"storage {key}: unknown storage type {storage_type!r:.80}")
        key = str(key)
        if key not in self._storages:
            raw = self._read_storage(key)
            itemsize = torch.empty((), dtype=dtype).element_size()
            if len(raw) < int(numel) * itemsize:
                raise pickle.UnpicklingError(f"storage {key}: {len(raw)} bytes, needs {int(numel) * itemsize}")
            self._storages[key] = torch.frombuffer(bytearray(raw[: int(numel) * itemsize]), dtype=dtype) \
                if int(numel) else torch.empty(0, dtype=dtype)
        return self._storages[key]


def load_zip_pickle(path: str | Path, pickle_name: str = "data.pkl", storage_dir: str = "data") -> tuple[object, list[str]]:
    """(object, names of globals turned into placeholders) from a torch zip archive's PICKLE_NAME.

    Storage records are read from ARCHIVE/STORAGE_DIR/<key> (torch.save and TorchScript data use "data",
    TorchScript constants "constants"). Member names are only matched, never used as local paths.
    """
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a torch zip archive (torch.save >= 1.6 or TorchScript)")
    with zipfile.ZipFile(path) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        if sum(i.file_size for i in infos.values()) > MAX_ARCHIVE_BYTES:
            raise ValueError(f"{path}: archive is larger than {MAX_ARCHIVE_BYTES} bytes")
        pickles = [n for n in infos if PurePosixPath(n).name == pickle_name and len(PurePosixPath(n).parts) == 2]
        if len(pickles) != 1:
            raise ValueError(f"{path}: expected one <archive>/{pickle_name}, found {len(pickles)}")
        root = PurePosixPath(pickles[0]).parts[0]
        if infos[pickles[0]].file_size > MAX_PICKLE_BYTES:
            raise ValueError(f"{path}: {pickle_name} is larger than {MAX_PICKLE_BYTES} bytes")

        def read_storage(key: str) -> bytes:
            member = f"{root}/{storage_dir}/{key}"
            if member not in infos:
                raise pickle.UnpicklingError(f"{path}: storage {member} is missing")
            return archive.read(member)

        found: list[str] = []
        obj = RestrictedUnpickler(archive.read(pickles[0]), read_storage, found).load()
    return obj, sorted(set(found))


def module_tensors(obj, prefix: str = "") -> dict[str, torch.Tensor]:
    """The tensors of a tree of placeholder objects (a TorchScript module's pickled attributes) by dotted name."""
    out: dict[str, torch.Tensor] = {}
    state = obj.state if isinstance(obj, InertGlobal) else obj
    if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):  # (dict_state, slots)
        state = state[1] if state[0] is None else {**state[0], **state[1]}
    if not isinstance(state, dict):
        return out
    for key, value in state.items():
        if not isinstance(key, str):
            continue
        if isinstance(value, torch.Tensor):
            out[prefix + key] = value
        elif isinstance(value, InertGlobal):
            out.update(module_tensors(value, f"{prefix}{key}."))
    return out
