"""ViTPose whole-body exported to ONNX and run with onnxruntime: the pose backend that needs no mmpose.

The export starts from the same mmpose model and published checkpoint as the mmpose backend, and the graph
is only crops -> heatmaps; cropping, flip test and decoding stay in pose_decode, so both backends agree up to
float rounding. The arch and input size travel in the ONNX metadata and are checked on load.

Export:  python -m humanverse.models.pose.pose_onnx --arch vitpose-h \
             --checkpoint vitpose-h-wholebody.pth --out vitpose-h-wholebody.onnx
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from humanverse.models.weights_digest import sha256_file
from humanverse.shards.atomic import staged_file

DEMO_ONNX = "vitpose/vitpose-tiny-wholebody.onnx"


def export_onnx(
    arch: str,
    checkpoint: str | Path,
    out: str | Path,
    input_size: tuple[int, int] = (256, 192),
    opset: int = 17,
) -> Path:
    """Write the crops -> heatmaps graph of `arch` with `checkpoint`'s weights to `out` (batch is dynamic)."""
    import onnx
    import torch

    from humanverse.models.pose.pose_mmpose import build_mmpose_model
    from humanverse.models.pose.vitpose_checkpoint import load_into

    model = build_mmpose_model(arch, input_size)
    load_into(model, checkpoint)
    model.eval()

    class CropsToHeatmaps(torch.nn.Module):
        def __init__(self, estimator):
            super().__init__()
            self.estimator = estimator

        def forward(self, crops):
            return self.estimator._forward(crops)

    out = Path(out)
    h, w = input_size
    with staged_file(str(out)) as tmp:
        torch.onnx.export(
            CropsToHeatmaps(model),
            (torch.zeros(1, 3, h, w),),
            str(tmp),
            dynamo=False,
            input_names=["crops"],
            output_names=["heatmaps"],
            dynamic_axes={"crops": {0: "n"}, "heatmaps": {0: "n"}},
            opset_version=opset,
        )
        # Over 2 GB (ViTPose-H) the exporter writes the weights as external data beside the graph; the
        # metadata is added to the graph alone, so those files are neither loaded nor rewritten.
        proto = onnx.load(str(tmp), load_external_data=False)
        meta = {
            "humanverse.arch": arch,
            "humanverse.input_size": f"{h}x{w}",
            "humanverse.codec": "MSRAHeatmap",
            "humanverse.source_sha256": sha256_file(checkpoint),
        }
        for k, v in meta.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = k, v
        onnx.save(proto, str(tmp))
    return out


class OnnxHeatmaps:
    """Normalised crops (N x 3 x H x W float32) -> whole-body heatmaps, through onnxruntime."""

    def __init__(self, path: str | Path, input_size: tuple[int, int] = (256, 192), threads: int = 1, device: str = "cpu"):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        if device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
        meta = self.session.get_modelmeta().custom_metadata_map
        self.arch = meta.get("humanverse.arch", "unknown")
        expected = f"{input_size[0]}x{input_size[1]}"
        if meta.get("humanverse.input_size", expected) != expected:
            raise ValueError(f"{path} was exported for input {meta['humanverse.input_size']}, config says {expected}")

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        return self.session.run(["heatmaps"], {"crops": np.ascontiguousarray(crops, dtype=np.float32)})[0]


def build_demo_weights(target_dir: Path) -> Path:
    """Tiny random ViTPose weights in the published layout, exported to target_dir/DEMO_ONNX."""
    from humanverse.models.pose.pose_mmpose import DEMO_WEIGHTS, build_demo_weights as build_pth

    pth = Path(target_dir) / DEMO_WEIGHTS
    if not pth.exists():
        build_pth(Path(target_dir))
    return export_onnx("tiny", pth, Path(target_dir) / DEMO_ONNX)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Export a ViTPose whole-body checkpoint to ONNX (needs mmpose).")
    p.add_argument("--arch", default="vitpose-h", choices=["vitpose-h", "vitpose-b", "tiny"])
    p.add_argument("--checkpoint", required=True, help="published ViTPose whole-body .pth")
    p.add_argument("--out", required=True)
    p.add_argument("--input-size", default="256x192", help="height x width")
    args = p.parse_args(argv)
    h, w = (int(v) for v in args.input_size.lower().split("x"))
    print(export_onnx(args.arch, args.checkpoint, args.out, (h, w)))


if __name__ == "__main__":
    main()
