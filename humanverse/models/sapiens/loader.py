"""Meta's Sapiens2 task models through transformers: the one loading path, the published configs, tiny copies.

Every Sapiens2 head (pose, normal, pointmap, seg, matting) is a full fine-tuned backbone plus a decoder, so
each one is its own HF folder (config.json + model.safetensors + preprocessor_config.json), loaded with
`from_pretrained(folder, local_files_only=True)` from the models directory or the local HF cache, never the
hub. Licence: the Sapiens2 License (header of transformers' modeling_sapiens2.py and
github.com/facebookresearch/sapiens2/blob/main/LICENSE.md), not Apache.

`sapiens2_config` rebuilds the published architectures from Meta's configs (facebookresearch/sapiens2:
`sapiens/backbones/standalone/sapiens2.py` arch_zoo for the backbones, GQA with half the heads in all but
the first and last 8 layers; the task configs under `sapiens/{pose,dense}/configs/` for the heads) so the
FLOPs in bench/GPU.md are of the real networks; "sapiens2-tiny" is the same code at toy width for tests and
the demo. The matting head is not in Meta's repository (matting is published only on the hub, at 1B); its
head is taken to be the normal head's layout with 4 outputs, which only affects the FLOPs estimate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from humanverse.models.files import MissingModelFiles

SapiensTask = Literal["pose", "normal", "pointmap", "seg", "matting"]
SapiensArch = Literal["sapiens2-0.4b", "sapiens2-1b", "sapiens2-tiny"]

MODEL_CLASSES = {
    "pose": "Sapiens2ForPoseEstimation",
    "normal": "Sapiens2ForNormalEstimation",
    "pointmap": "Sapiens2ForPointmapEstimation",
    "seg": "Sapiens2ForSemanticSegmentation",
    "matting": "Sapiens2ForImageMatting",
}
HF_IDS = {  # hub ids as transformers' docstrings name them
    ("pose", "sapiens2-0.4b"): "facebook/sapiens2-pose-0.4b",
    ("pose", "sapiens2-1b"): "facebook/sapiens2-pose-1b",
    ("normal", "sapiens2-0.4b"): "facebook/sapiens2-normal-0.4b",
    ("normal", "sapiens2-1b"): "facebook/sapiens2-normal-1b",
    ("pointmap", "sapiens2-0.4b"): "facebook/sapiens2-pointmap-0.4b",
    ("pointmap", "sapiens2-1b"): "facebook/sapiens2-pointmap-1b",
    ("seg", "sapiens2-0.4b"): "facebook/sapiens2-seg-0.4b",
    ("seg", "sapiens2-1b"): "facebook/sapiens2-seg-1b",
    ("matting", "sapiens2-1b"): "facebook/sapiens2-matting-1b",
}
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
INPUT_SIZE = (1024, 768)
"""(height, width) every published Sapiens2 model was trained at."""
NUM_SEG_CLASSES = 29

_BACKBONES = {
    "sapiens2-0.4b": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096),
    "sapiens2-1b": dict(hidden_size=1536, num_hidden_layers=40, num_attention_heads=24, intermediate_size=6144),
    "sapiens2-tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                          num_first_full_attention_layers=1, num_last_full_attention_layers=0,
                          num_register_tokens=2),
}


def _head(task: str, arch: str) -> tuple[dict, int]:
    """The decode head of `task` (Meta's task configs) and its number of outputs."""
    from humanverse.models.sapiens.goliath_keypoints import GOLIATH_308

    tiny = arch == "sapiens2-tiny"
    if task == "pose":  # PoseHeatmapHead: 2 stride-2 deconvs (4x), then 1x1 convs
        deconv = [16, 16] if tiny else ([1024, 768] if arch == "sapiens2-0.4b" else [1536, 1024])
        conv = [16] if tiny else ([512, 512, 256] if arch == "sapiens2-0.4b" else [768, 512, 256])
        return dict(upsample_out_channels=deconv, upsample_kernel_sizes=[4] * len(deconv),
                    conv_out_channels=conv, conv_kernel_sizes=[1] * len(conv)), len(GOLIATH_308)
    if task == "seg":  # SegHead: 4 stride-2 deconvs (16x: full input resolution)
        deconv = [8, 8, 8, 8] if tiny else [512, 256, 128, 64]
        conv = [8] if tiny else [64, 64]
        return dict(upsample_out_channels=deconv, upsample_kernel_sizes=[4] * 4,
                    conv_out_channels=conv, conv_kernel_sizes=[1] * len(conv)), NUM_SEG_CLASSES
    # normal / pointmap / matting: pixel-shuffle decoders, 4 x2 steps, then 3x3 convs
    up = [8, 8, 8, 8] if tiny else ([1536, 768, 512, 256] if task == "pointmap" else [768, 512, 256, 128])
    conv = [8] if tiny else [64, 32, 16]
    head = dict(use_pixel_shuffle=True, upsample_out_channels=up, upsample_kernel_sizes=[3] * 4,
                conv_out_channels=conv, conv_kernel_sizes=[3] * len(conv))
    if task == "pointmap":  # + the scale branch: stride-2 1x1 convs and an MLP to one number
        head.update(scale_conv_out_channels=[8, 8, 8] if tiny else [1536, 512, 128],
                    scale_conv_kernel_sizes=[1, 1, 1],
                    scale_final_hidden_sizes=[16, 8] if tiny else [512, 128])
    return head, {"normal": 3, "pointmap": 3, "matting": 4}[task]


def sapiens2_config(task: SapiensTask, arch: SapiensArch, image_size: tuple[int, int] = INPUT_SIZE):
    """The Sapiens2Config of a published task model (or its tiny copy) at image_size (height, width)."""
    from transformers import Sapiens2Config

    from humanverse.models.sapiens.goliath_keypoints import GOLIATH_FLIP_INDICES

    if task not in MODEL_CLASSES:
        raise ValueError(f"unknown Sapiens2 task {task!r}; known: {', '.join(MODEL_CLASSES)}")
    backbone = dict(_BACKBONES[arch])
    backbone.setdefault("num_key_value_attention_heads", backbone["num_attention_heads"] // 2)
    head, outputs = _head(task, arch)
    extra = {}
    if task == "pose":
        extra["flip_pairs"] = [[i, j] for i, j in enumerate(GOLIATH_FLIP_INDICES) if i < j]
    return Sapiens2Config(**backbone, image_size=list(image_size), patch_size=16, num_labels=outputs,
                          head_config=head, **extra)


def model_class(task: SapiensTask):
    import transformers

    return getattr(transformers, MODEL_CLASSES[task])


def check_files(path: Path) -> None:
    missing = [f for f in ("config.json",) if not (path / f).exists()]
    if not any((path / f).exists() for f in WEIGHT_FILES):
        missing.append(" or ".join(WEIGHT_FILES))
    if missing:
        raise MissingModelFiles(f"Sapiens2: missing {', '.join(missing)} under {path}")


def folder_files(weights: str, models_dir: str | None = None) -> list[Path]:
    """A Sapiens2 HF folder's config + weights file, located like every model (models dir or HF cache);
    the first entry's parent is the folder. Raises MissingModelFiles naming what is absent."""
    from humanverse.models.files import locate

    path = locate(weights, ["config.json"], models_dir)
    check_files(path)
    return [path / "config.json"] + [path / f for f in WEIGHT_FILES if (path / f).exists()][:1]


def load_sapiens(task: SapiensTask, path: str | Path, device: str = "cpu"):
    """(model in eval mode on device, Sapiens2ImageProcessor) from a local HF-layout folder; never the hub.

    The folder's config must be the task's own class (a normal checkpoint given as depth is an error that
    says so, rather than garbage maps).
    """
    from transformers import Sapiens2ImageProcessor

    path = Path(path)
    check_files(path)
    cls = model_class(task)
    declared = json.loads((path / "config.json").read_text()).get("architectures") or []
    if declared and cls.__name__ not in declared:
        raise ValueError(f"{path} holds {declared}, the {task} annotator needs {cls.__name__}")
    model = cls.from_pretrained(str(path), local_files_only=True).to(device).eval()
    if (path / "preprocessor_config.json").exists():
        processor = Sapiens2ImageProcessor.from_pretrained(str(path), local_files_only=True)
    else:
        processor = Sapiens2ImageProcessor()
    return model, processor


def build_weights(target: Path, task: SapiensTask, arch: SapiensArch = "sapiens2-tiny",
                  image_size: tuple[int, int] = INPUT_SIZE, seed: int = 0) -> Path:
    """Random weights of `task` saved in the published HF layout (config, safetensors, preprocessor) at target."""
    import torch
    from transformers import Sapiens2ImageProcessor

    torch.manual_seed(seed)
    model = model_class(task)(sapiens2_config(task, arch, image_size))
    if task == "pointmap":  # a positive random depth: the scale MLP's output bias sets z's sign
        with torch.no_grad():
            model.decode_head.predictor.bias.copy_(torch.tensor([0.0, 0.0, 3.0]))
            model.scale_head.predictor.proj.bias.fill_(1.0)
    target = Path(target)
    model.save_pretrained(str(target))
    Sapiens2ImageProcessor(size={"height": image_size[0], "width": image_size[1]},
                           do_pad=task in ("normal", "pointmap")).save_pretrained(str(target))
    return target


DEMO_DIR = "sapiens2-tiny"
DEMO_INPUT_SIZE = (256, 192)


def build_demo_weights(target_dir: Path) -> None:
    """Every task's tiny random model under target_dir/DEMO_DIR/<task> (demo preset and tests)."""
    for i, task in enumerate(MODEL_CLASSES):
        build_weights(Path(target_dir) / DEMO_DIR / task, task, "sapiens2-tiny", DEMO_INPUT_SIZE, seed=i)
