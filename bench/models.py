"""Real-size architectures with random weights, written once under bench/.models in their published formats.

The compute of a random-weight network is the real one, so the timings are real; the outputs mean nothing.
Every file is loaded back through the production loading code by the stages that use it. What is built:

    yolo/yolo11x.pt                                  ultralytics YOLO11x (the humanverse preset's detector)
    vitpose/vitpose-h-wholebody-random.pth           ViTPose-H whole-body 133 kp, mmpose layout
    dpt-hybrid-midas-dpt-hybrid-random/              MiDaS DPT-hybrid, Hugging Face layout
    omnidata-dpt-hybrid/omnidata_dpt_{depth,normal}_v2.ckpt   Omnidata DPT-hybrid, Lightning checkpoints
    clip/  aesthetic/  nsfw/                         OpenAI CLIP ViT-L/14 (open_clip layout) + LAION heads

SD-2-inpainting is built in memory by bench/bench_outpaint.py (5 GB of weights; nothing reads it from disk).

    python bench/models.py [--models-dir bench/.models]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent / ".models"

# Paths relative to the models directory, as the bench configs name them.
YOLO = "yolo/yolo11x.pt"
YOLO_ARCH = "yolo11x.yaml"  # the humanverse preset's detect.weights is yolo11x.pt
VITPOSE = "vitpose/vitpose-h-wholebody-random.pth"
MIDAS = "dpt-hybrid-midas-dpt-hybrid-random"
OMNIDATA_DEPTH = "omnidata-dpt-hybrid/omnidata_dpt_depth_v2.ckpt"
OMNIDATA_NORMAL = "omnidata-dpt-hybrid/omnidata_dpt_normal_v2.ckpt"
CLIP_DIR, AESTHETIC_DIR, NSFW_DIR = "clip", "aesthetic", "nsfw"


def clip_scores_config(batch_size: int = 16, threads: int = 2):
    """The aesthetic + NSFW stage's config pointing at the random ViT-L/14 weights under the models dir."""
    from humanverse.stages.clip_scores import AestheticConfig, ClipConfig, ClipScoresConfig, NSFWConfig
    from humanverse.core.stage import Resources

    return ClipScoresConfig(
        clip=ClipConfig(weights=CLIP_DIR, resources=Resources(num_cpus=threads, threads=threads, batch_size=batch_size)),
        aesthetic=AestheticConfig(weights=AESTHETIC_DIR),
        nsfw=NSFWConfig(weights=NSFW_DIR),
    )


def build_yolo(target: Path, arch: str = YOLO_ARCH) -> Path:
    """yolo_person.build_demo_weights, plus COCO class names: YoloPersonDetector checks that class 0 is
    'person', and a model built from a .yaml names its classes '0'..'79'."""
    from humanverse.models.detect.yolo_person import offline_ultralytics

    offline_ultralytics()
    from ultralytics import YOLO
    from ultralytics.cfg import get_cfg  # noqa: F401 - ultralytics' settings before the dataset yaml
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    target.parent.mkdir(parents=True, exist_ok=True)
    model = YOLO(arch)
    model.model.names = dict(YAML.load(check_yaml("coco.yaml"))["names"])
    model.save(str(target))
    return target


def _builders(root: Path):
    from humanverse.models.dense import omnidata
    from humanverse.models.dense import dpt_midas
    from humanverse.models.pose import pose_mmpose

    def clip():
        from humanverse.models.clip.demo_weights import build_demo_weights

        cfg = clip_scores_config()
        build_demo_weights(root, cfg.clip.weights, cfg.clip.arch, cfg.aesthetic.weights, cfg.nsfw.weights)

    return [
        (YOLO, lambda: build_yolo(root / YOLO)),
        (VITPOSE, lambda: pose_mmpose.build_demo_weights(root, arch="vitpose-h")),
        (MIDAS, lambda: dpt_midas.build_demo_weights(root, arch="dpt-hybrid")),
        (OMNIDATA_NORMAL, lambda: omnidata.build_demo_weights(root, arch="dpt-hybrid")),
        (CLIP_DIR, clip),
    ]


def ensure_models(root: Path = DEFAULT_DIR, say=print) -> dict[str, float]:
    """Build what is missing (a `.done` marker per model); returns seconds spent per built model."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    spent = {}
    for name, build in _builders(root):
        marker = root / f".done-{name.replace('/', '_')}"
        if marker.exists():
            continue
        started = time.perf_counter()
        build()
        spent[name] = time.perf_counter() - started
        marker.write_text("random weights, real architecture\n")
        say(f"built {name} in {spent[name]:.0f} s")
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    ensure_models(args.models_dir)


if __name__ == "__main__":
    main()
