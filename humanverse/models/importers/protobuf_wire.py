"""A minimal reader of protobuf's wire format: enough to walk TensorFlow's files without TensorFlow.

TensorFlow's generated message classes live only in the tensorflow wheel, so the few fields the importers
need (BundleEntryProto in a checkpoint index, NodeDef/TensorProto in a SavedModel graph) are read by field
number from the raw bytes. Field numbers come from tensorflow/core/protobuf/tensor_bundle.proto and
tensorflow/core/framework/{graph,node_def,attr_value,tensor,tensor_shape}.proto.
"""

from __future__ import annotations

from collections.abc import Iterator

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


def read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """(value, next position) of the base-128 varint at pos."""
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 64 bits")


def fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, int | bytes | memoryview]]:
    """(field number, wire type, value) for every field of one message; lengths are checked against buf."""
    buf = memoryview(buf)
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, pos = read_varint(buf, pos)
        elif wire == FIXED64:
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == FIXED32:
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        elif wire == LENGTH:
            size, pos = read_varint(buf, pos)
            if pos + size > len(buf):
                raise ValueError("length-delimited field runs past its message")
            value, pos = buf[pos:pos + size], pos + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > len(buf):
            raise ValueError("truncated protobuf field")
        yield number, wire, value


def message(buf: bytes | memoryview) -> dict[int, list]:
    """Every field of one message grouped by number (repeated fields keep their order)."""
    out: dict[int, list] = {}
    for number, _wire, value in fields(buf):
        out.setdefault(number, []).append(value)
    return out


def packed_varints(buf: bytes | memoryview) -> list[int]:
    values, pos = [], 0
    while pos < len(buf):
        value, pos = read_varint(buf, pos)
        values.append(value)
    return values
