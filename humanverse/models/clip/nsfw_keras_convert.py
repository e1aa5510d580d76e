"""One-time converter: LAION's Keras NSFW detector weights -> the PyTorch `clip_autokeras_binary_nsfw.pth`.

Only needed when the published PyTorch file (see nsfw_head.py) is not at hand. Reading a Keras SavedModel
needs TensorFlow, which humanverse does not depend on, so the conversion has two steps:

1. Where TensorFlow and autokeras are installed, export the weights list once:

       import autokeras as ak, numpy as np
       from tensorflow.keras.models import load_model
       m = load_model("clip_autokeras_binary_nsfw", custom_objects=ak.CUSTOM_OBJECTS)
       np.savez("clip_autokeras_binary_nsfw_weights.npz", *m.get_weights())

2. Here: `python -m humanverse.models.clip.nsfw_keras_convert clip_autokeras_binary_nsfw_weights.npz OUT_DIR`.

Positions in `get_weights()` follow the public Keras-to-PyTorch port of this model: 5 = normalisation mean,
6 = variance, 8..15 = the four Dense kernels (in x out, transposed here) and biases. Every array's shape is
checked against the PyTorch module, so a model whose layout differs fails with a clear message instead of
giving wrong scores; the positions can be overridden. This converter has only been run on synthetic arrays
of the right shapes (the tests), never on the real Keras export.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from humanverse.models.clip.nsfw_head import PUBLISHED_FILE, NSFWHead

MEAN_INDEX = 5
VARIANCE_INDEX = 6
FIRST_DENSE_INDEX = 8


def keras_weights_to_state_dict(
    weights: list[np.ndarray],
    mean_index: int = MEAN_INDEX,
    variance_index: int = VARIANCE_INDEX,
    first_dense_index: int = FIRST_DENSE_INDEX,
) -> dict[str, torch.Tensor]:
    """Map Keras' flat weights list onto NSFWHead's state dict, checking every shape as it goes."""
    sources: dict[str, tuple[int, bool]] = {"norm.mean": (mean_index, False), "norm.variance": (variance_index, False)}
    for layer in range(4):
        kernel_at = first_dense_index + 2 * layer
        sources[f"linear_{layer + 1}.weight"] = (kernel_at, True)
        sources[f"linear_{layer + 1}.bias"] = (kernel_at + 1, False)
    state = {}
    for name, ref in NSFWHead().state_dict().items():
        index, transpose = sources[name]
        if not 0 <= index < len(weights):
            raise ValueError(f"{name}: index {index} is outside the {len(weights)} Keras weight arrays")
        arr = np.asarray(weights[index], dtype=np.float32)
        if transpose:  # Keras Dense kernels are (in, out), torch Linear weights (out, in)
            arr = arr.T
        elif ref.ndim == 1 and arr.size == ref.numel():  # Normalization may keep (1, 768) statistics
            arr = arr.reshape(-1)
        if tuple(arr.shape) != tuple(ref.shape):
            raise ValueError(
                f"{name}: Keras array {index} has shape {arr.shape}, the detector needs {tuple(ref.shape)}; "
                "the weights list is laid out differently: pass the right indices"
            )
        state[name] = torch.from_numpy(np.ascontiguousarray(arr))
    return state


def convert(npz_path: str | Path, out_dir: str | Path, **indices: int) -> Path:
    """Read `np.savez(path, *model.get_weights())` output and write the published-format .pth."""
    with np.load(str(npz_path), allow_pickle=False) as data:
        weights = [data[f"arr_{i}"] for i in range(len(data.files))]
    state = keras_weights_to_state_dict(weights, **indices)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / PUBLISHED_FILE
    torch.save(state, path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("npz", help="np.savez export of the Keras model's get_weights()")
    parser.add_argument("out_dir", help=f"where to write {PUBLISHED_FILE}")
    parser.add_argument("--mean-index", type=int, default=MEAN_INDEX)
    parser.add_argument("--variance-index", type=int, default=VARIANCE_INDEX)
    parser.add_argument("--first-dense-index", type=int, default=FIRST_DENSE_INDEX)
    args = parser.parse_args(argv)
    path = convert(
        args.npz,
        args.out_dir,
        mean_index=args.mean_index,
        variance_index=args.variance_index,
        first_dense_index=args.first_dense_index,
    )
    print(path)


if __name__ == "__main__":
    main()
