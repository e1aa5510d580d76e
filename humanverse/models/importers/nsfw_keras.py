"""LAION's AutoKeras NSFW SavedModel (`clip_autokeras_binary_nsfw.zip`, zip or folder) -> NSFWHead state dict.

No TensorFlow: the numeric arrays come from variables/ (a TF tensor bundle, read by tf_bundle.py) and the five
StringLookup vocabularies, which are not in variables/ but only in the graph, from saved_model.pb:

* keras_metadata.pb holds the layers' JSON configs; the MultiCategoryEncoding layer's `encoding` list says which
  input columns are categorical ('int').
* In saved_model.pb's graph each lookup table is initialised by a call taking (table, keys Const, values Const);
  the serving function takes the tables in the order of the categorical columns. The keys are the "%f" strings
  and the values their indices, which are read, not assumed.

Variable keys (`layer_with_weights-N/...`) follow the Keras object graph: 0 the encoding, 1 Normalization,
2..5 the Dense layers. Every shape is checked against the head before anything is written.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from humanverse.models.clip.nsfw_head import NSFWHead, micro_of
from humanverse.models.importers.archive_members import Members
from humanverse.models.importers.protobuf_wire import message, packed_varints
from humanverse.models.importers.tf_bundle import read_bundle

VALUE = "/.ATTRIBUTES/VARIABLE_VALUE"
DT_STRING, DT_INT64 = 7, 9


def import_nsfw_keras(source) -> tuple[dict[str, torch.Tensor], dict]:
    """(state dict for NSFWHead, a description of what was read) from the published SavedModel."""
    with Members(source) as members:
        pb_name = members.find("saved_model.pb")
        root = pb_name[: -len("saved_model.pb")]
        index = members.read(root + "variables/variables.index")
        shard_names = sorted(n for n in members.names if n.startswith(root + "variables/variables.data-"))
        arrays = read_bundle(index, [members.read(n) for n in shard_names])
        columns = categorical_columns(members.read(members.find("keras_metadata.pb")))
        vocabularies = graph_vocabularies(members.read(pb_name))
    if len(vocabularies) != len(columns):
        raise ValueError(f"{len(columns)} categorical columns but {len(vocabularies)} lookup tables in the graph")
    state: dict[str, torch.Tensor] = {"lookup.columns": torch.tensor(columns, dtype=torch.int64)}
    for i, (keys, values) in enumerate(vocabularies):
        micro = np.array([micro_of(k) for k in keys], dtype=np.int64)
        if len(set(micro.tolist())) != len(micro) or (micro == 0).any():
            raise ValueError(f"column {columns[i]}: vocabulary has duplicate or zero entries (not representable)")
        if not np.array_equal(values, np.arange(1, len(keys) + 1)):
            raise ValueError(f"column {columns[i]}: lookup values are not position + 1; not AutoKeras' StringLookup")
        state[f"lookup.vocab_{i}"] = torch.from_numpy(micro)
    state["norm.mean"] = _array(arrays, "layer_with_weights-1/mean")
    state["norm.variance"] = _array(arrays, "layer_with_weights-1/variance")
    for layer in range(4):
        kernel = _array(arrays, f"layer_with_weights-{2 + layer}/kernel")
        state[f"linear_{layer + 1}.weight"] = kernel.T.contiguous()  # Keras (in, out) -> torch (out, in)
        state[f"linear_{layer + 1}.bias"] = _array(arrays, f"layer_with_weights-{2 + layer}/bias")
    sizes = [int(state[f"lookup.vocab_{i}"].numel()) for i in range(len(columns))]
    expected = NSFWHead(input_size=int(state["norm.mean"].numel()), columns=columns, vocab_sizes=sizes).state_dict()
    for key, ref in expected.items():
        if tuple(state[key].shape) != tuple(ref.shape) or state[key].dtype != ref.dtype:
            raise ValueError(f"{key}: {tuple(state[key].shape)} {state[key].dtype}, the head needs "
                             f"{tuple(ref.shape)} {ref.dtype}")
    converted = (f"Keras SavedModel -> NSFWHead: tensor bundle variables/ (Normalization, 4 Dense, kernels "
                 f"transposed); {len(columns)} StringLookup vocabularies from saved_model.pb for columns {columns} "
                 f"(sizes {sizes}), stored as integer millionths")
    return state, {"converted": converted, "categorical_columns": columns, "vocabulary_sizes": sizes}


def _array(arrays: dict[str, np.ndarray], key: str) -> torch.Tensor:
    if key + VALUE not in arrays:
        raise ValueError(f"variables/ has no {key}{VALUE}: not the AutoKeras NSFW export")
    return torch.from_numpy(np.ascontiguousarray(arrays[key + VALUE], dtype=np.float32))


def categorical_columns(keras_metadata: bytes) -> list[int]:
    """Columns marked 'int' in the MultiCategoryEncoding layer's config (SavedMetadata.nodes[].metadata JSON)."""
    for node in message(keras_metadata).get(1, []):
        for meta in message(node).get(5, []):
            config = json.loads(bytes(meta).decode("utf-8"))
            if "MultiCategoryEncoding" in str(config.get("class_name", "")):
                encoding = config["config"]["encoding"]
                return [i for i, kind in enumerate(encoding) if kind == "int"]
    raise ValueError("keras_metadata.pb: no MultiCategoryEncoding layer")


def _node_fields(node) -> tuple[str, str, list[str], dict[str, dict]]:
    nd = message(node)
    name = bytes(nd.get(1, [b""])[0]).decode()
    op = bytes(nd.get(2, [b""])[0]).decode()
    inputs = [bytes(x).decode() for x in nd.get(3, [])]
    attrs = {}
    for entry in nd.get(5, []):
        em = message(entry)
        attrs[bytes(em[1][0]).decode()] = message(em[2][0]) if 2 in em else {}
    return name, op, inputs, attrs


def _const_value(attrs: dict[str, dict]) -> np.ndarray | None:
    if 8 not in attrs.get("value", {}):
        return None
    tensor = message(attrs["value"][8][0])
    dtype = int(tensor.get(1, [0])[0])
    if dtype == DT_STRING:
        return np.array([bytes(s) for s in tensor.get(8, [])], dtype=object)
    if dtype == DT_INT64:
        if 4 in tensor:  # tensor_content: raw little-endian
            return np.frombuffer(bytes(tensor[4][0]), dtype="<i8").copy()
        values = []
        for item in tensor.get(10, []):
            values += packed_varints(item) if isinstance(item, memoryview) else [item]
        return np.array([v - (1 << 64) if v >= 1 << 63 else v for v in values], dtype=np.int64)
    return None


def graph_vocabularies(saved_model: bytes) -> list[tuple[list[bytes], np.ndarray]]:
    """(keys, values) of every string->int64 lookup table in the order the serving function takes the tables."""
    meta_graph = message(message(saved_model)[2][0])
    graph = message(meta_graph[2][0])
    nodes = {}
    for raw in graph.get(1, []):
        name, op, inputs, attrs = _node_fields(raw)
        nodes[name] = (op, inputs, attrs)
    init_of: dict[str, tuple[list[bytes], np.ndarray]] = {}  # table handle node -> (keys, values)
    for op, inputs, _attrs in nodes.values():
        if op != "StatefulPartitionedCall" or len(inputs) != 3:
            continue
        consts = [nodes.get(i, ("", [], {})) for i in inputs[1:]]
        if not all(c[0] == "Const" for c in consts):
            continue
        keys, values = (_const_value(c[2]) for c in consts)
        if keys is not None and values is not None and keys.dtype == object and len(keys) == len(values):
            init_of[inputs[0]] = ([bytes(k) for k in keys], values)
    serving = [n for n in nodes if n.startswith("serving_default_")]
    if len(serving) != 1:
        raise ValueError("saved_model.pb: expected one serving_default input")
    for op, inputs, _attrs in nodes.values():
        if op == "StatefulPartitionedCall" and inputs and inputs[0] == serving[0]:
            return [init_of[i] for i in inputs if i in init_of]
    raise ValueError("saved_model.pb: no serving function call found")
