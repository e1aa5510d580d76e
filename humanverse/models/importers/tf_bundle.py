"""Reading a TensorFlow checkpoint (a "tensor bundle": variables.index + variables.data-*) without TensorFlow.

The index is a LevelDB-style sorted table (tensorflow/core/lib/io/table_format.txt): data blocks of
prefix-compressed key/value entries, an index block pointing at them, and a 48-byte footer ending in a fixed
magic number. Each value is a BundleEntryProto giving the tensor's dtype, shape, shard, offset and size in the
data file, whose bytes are the raw little-endian array. Only uncompressed blocks and numeric dtypes are read;
anything else is refused with a message rather than guessed.
"""

from __future__ import annotations

import numpy as np

from humanverse.models.importers.protobuf_wire import message, read_varint

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER = 5  # one byte compression type + crc32c
MAX_INDEX_BYTES = 64 << 20

DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
          10: np.bool_, 19: np.float16, 17: np.uint16, 22: np.uint32, 23: np.uint64}
DT_STRING = 7


def _block_handle(buf: bytes, pos: int) -> tuple[int, int, int]:
    offset, pos = read_varint(buf, pos)
    size, pos = read_varint(buf, pos)
    return offset, size, pos


def _block_entries(data: bytes, offset: int, size: int) -> list[tuple[bytes, bytes]]:
    if offset + size + BLOCK_TRAILER > len(data):
        raise ValueError("tensor bundle index: block runs past the file")
    if data[offset + size] != 0:
        raise ValueError("tensor bundle index: compressed blocks are not supported")
    block = data[offset:offset + size]
    num_restarts = int.from_bytes(block[-4:], "little")
    end = len(block) - 4 - 4 * num_restarts
    if end < 0:
        raise ValueError("tensor bundle index: bad restart array")
    entries, pos, key = [], 0, b""
    while pos < end:
        shared, pos = read_varint(block, pos)
        unshared, pos = read_varint(block, pos)
        value_len, pos = read_varint(block, pos)
        if shared > len(key) or pos + unshared + value_len > end:
            raise ValueError("tensor bundle index: bad entry")
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        entries.append((key, block[pos:pos + value_len]))
        pos += value_len
    return entries


def read_index(data: bytes) -> dict[str, dict]:
    """Tensor name -> {dtype, shape, shard, offset, size} from the bytes of a bundle's .index file."""
    if len(data) > MAX_INDEX_BYTES:
        raise ValueError(f"{len(data)} bytes is too large for a checkpoint index")
    if len(data) < FOOTER_SIZE or int.from_bytes(data[-8:], "little") != TABLE_MAGIC:
        raise ValueError("not a TensorFlow checkpoint index (no table magic number)")
    footer = data[-FOOTER_SIZE:]
    _meta_off, _meta_size, pos = _block_handle(footer, 0)
    index_off, index_size, _ = _block_handle(footer, pos)
    tensors: dict[str, dict] = {}
    for _last_key, handle in _block_entries(data, index_off, index_size):
        off, size, _ = _block_handle(handle, 0)
        for key, value in _block_entries(data, off, size):
            if key == b"":  # BundleHeaderProto
                continue
            tensors[key.decode("utf-8")] = _entry(message(value))
    return tensors


def _entry(proto: dict[int, list]) -> dict:
    dims = []
    for shape in proto.get(2, []):
        for dim in message(shape).get(2, []):
            dims.append(int(message(dim).get(1, [0])[0]))
    if proto.get(7):
        raise ValueError("tensor bundle: partitioned (sliced) variables are not supported")
    first = lambda n: int(proto.get(n, [0])[0])  # noqa: E731
    return {"dtype": first(1), "shape": tuple(dims), "shard": first(3), "offset": first(4), "size": first(5)}


def read_bundle(index: bytes, shards: list[bytes], names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Arrays of a checkpoint from the bytes of PREFIX.index and of its PREFIX.data-NNNNN-of-MMMMM shards.

    Empty string tensors (e.g. Keras lookup tables' token counts) come back as empty arrays; non-empty string
    tensors are skipped unless asked for by name, and then refused.
    """
    out: dict[str, np.ndarray] = {}
    for name, entry in read_index(index).items():
        if names is not None and name not in names:
            continue
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        if entry["dtype"] == DT_STRING:
            if count and names is None:  # e.g. the object graph: not an array
                continue
            if count:
                raise ValueError(f"tensor bundle: {name} is a non-empty string tensor (not read)")
            out[name] = np.zeros(entry["shape"], dtype="S1")
            continue
        dtype = DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"tensor bundle: {name} has unsupported dtype {entry['dtype']}")
        nbytes = count * np.dtype(dtype).itemsize
        if nbytes != entry["size"]:
            raise ValueError(f"tensor bundle: {name} says {entry['size']} bytes, shape needs {nbytes}")
        if entry["shard"] >= len(shards):
            raise ValueError(f"tensor bundle: {name} is in shard {entry['shard']}, only {len(shards)} given")
        raw = shards[entry["shard"]][entry["offset"]:entry["offset"] + nbytes]
        if len(raw) != nbytes:
            raise ValueError(f"tensor bundle: {name} runs past the end of its data file")
        out[name] = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(entry["shape"]).copy()
    return out


