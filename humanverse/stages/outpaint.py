"""Stage: grow truncated images with SD-2-inpainting so pose, depth and normals see whole bodies.

For each selected sample (outpaint_selection) the image is placed on a larger canvas (outpaint_canvas),
the new area is painted by the model with the caption as prompt, and the original pixels are pasted back
bit-exact. Until outpaint_restore runs, `sample.image` is the canvas, persons' boxes are in canvas pixels
(grown to the canvas edge on the borders they were cut by), and `sample.canvas` (an OutpaintState) holds
the geometry and the detection boxes; the original pixels stay recoverable from `sample.jpeg`.
Every alive sample gets info["outpaint"], so json says whether and why it was (not) outpainted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from humanverse.models.checkpoint_io import model_id
from humanverse.imaging.outpaint_canvas import (
    SIDES,
    Canvas,
    box_to_canvas,
    extend_box_on_canvas,
    make_canvas,
    new_area_mask,
    pad_to_canvas,
    paste_original,
)
from humanverse.stages.outpaint_selection import (
    OutpaintMode,
    needs_outpaint,
    truncated_sides,
)
from humanverse.stages.outpaint_state import OutpaintState
from humanverse.config_base import Section
from humanverse.models.files import locate
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.stages.backend_table import Backend

SchedulerName = Literal["default", "ddim", "dpmpp", "euler", "euler_a", "pndm"]


class OutpaintConfig(Section):
    mode: OutpaintMode = "never"
    """never | auto (only samples with a person box touching a border) | always. Optional in the paper and
    its most expensive step, so off unless a preset asks (the humanverse preset uses auto)."""
    ratio: float = Field(0.25, gt=0, le=2)
    """Each grown side adds ratio x the image's width (left/right) or height (top/bottom). 0.25 covers what
    a border usually cuts (knee to sole is ~0.28 of stature, so a full-height person cut at the knee gets
    their feet back) while the original keeps >= 2/3 of the canvas's width and height, which is the share
    of the depth/normal models' fixed input it keeps, and the model invents at most 56% of the pixels."""
    extend: Literal["touched", "all"] = "touched"
    """touched: grow only the borders a person box touches (less invented content, more resolution left
    for the original in the dense models); all: grow every border, as the paper describes."""
    border_tol_px: float = Field(2.0, ge=0)
    """A box edge within this many pixels of a border counts as touching it."""
    model: str = "stable-diffusion-2-inpainting"
    """diffusers folder of SD-2-inpainting: a path (relative to the models dir) or hf:<repo> in the HF cache."""
    resolution: int | None = Field(None, ge=64)
    """Long side the model runs at; None = its native size (UNet sample_size x VAE factor: 512 for SD-2)."""
    scheduler: SchedulerName = "dpmpp"
    """DPM-Solver++ (2M) samples well in 15-20 steps (Lu et al. 2022), 2.5x fewer UNet calls than DDIM-50;
    cost is linear in steps. "default" keeps the checkpoint's own scheduler (PNDM for SD-2)."""
    steps: int = Field(20, ge=1)
    guidance_scale: float = Field(7.5, ge=0)
    """Classifier-free guidance; <= 1 turns it off and halves the UNet cost (one pass instead of two)."""
    prompt_template: str = "{caption}"
    negative_prompt: str = ""
    seed: int = Field(0, ge=0)
    """Mixed with each sample key into that sample's seed: same key and config, same pixels."""
    write_canvas: bool = False
    """Also write {key}.outpaint.jpg, its canvas-frame annotations (outpaint.json) and dense maps."""
    jpeg_quality: int = Field(95, ge=50, le=100)
    resources: Resources = Resources(num_cpus=2, num_gpus=0, batch_size=4)

    @field_validator("prompt_template")
    @classmethod
    def _only_caption(cls, template: str) -> str:
        try:
            template.format(caption="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"prompt_template may only use {{caption}}: {exc}") from None
        return template


def _pipeline_files(cfg: OutpaintConfig, models_dir: str | None) -> list[Path]:
    """The diffusers folder's required files (model_index.json first: its parent is the folder)."""
    from humanverse.models.inpaint.sd_inpaint import REQUIRED_FILES

    path = locate(cfg.model, REQUIRED_FILES, models_dir)
    return [path / f for f in REQUIRED_FILES]


def _load_sd(cfg: OutpaintConfig, files: list[Path], stage: Stage):
    from humanverse.models.inpaint.sd_inpaint import SdInpainter

    return SdInpainter.load(files[0].parent, stage.use_device(), cfg.scheduler, cfg.resolution)


def _pipeline_id(cfg: OutpaintConfig, files: list[Path]) -> str:
    """Hashes the UNet, VAE and text-encoder weights (the folder's configs are what files checks)."""
    from humanverse.models.inpaint.sd_inpaint import weight_files

    return model_id(cfg.model.rstrip("/").split("/")[-1], weight_files(files[0].parent))


def _build_tiny_sd(root: Path):
    from humanverse.models.inpaint import sd_inpaint

    return sd_inpaint.build_demo_weights(root / "tiny-sd-inpaint")


BACKENDS: dict[str, Backend] = {
    "sd-inpaint": Backend(
        "sd-inpaint", ("sd-2-inpainting",), weights=lambda c: c.model, files=_pipeline_files, load=_load_sd,
        label=lambda c: c.model.rstrip("/").split("/")[-1], shown=lambda c: c.model, demo="random",
        demo_build=("outpainting (tiny SD inpainting pipeline, diffusers layout)", _build_tiny_sd),
        run_id_of=_pipeline_id,
    ),
}
"""The outpainting model (one row: a diffusers inpainting pipeline folder; stages/backend_table.py)."""
BACKEND = BACKENDS["sd-inpaint"]


class OutpaintStage(Stage):
    name = "outpaint"
    backends = BACKENDS

    def __init__(self, cfg: OutpaintConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self._inpainter = None
        self._id: str | None = None

    @classmethod
    def used_backends(cls, cfg: OutpaintConfig) -> list[tuple[str, Backend]]:
        return [] if cfg.mode == "never" else [("outpaint", BACKEND)]

    def weight_checks(self):
        return [] if self.cfg.mode == "never" else [self._files]

    def _files(self) -> list[Path]:
        return BACKEND.files(self.cfg, self.models_dir)

    def setup(self) -> None:
        if self.cfg.mode == "never":
            return
        self._inpainter = BACKEND.load(self.cfg, self._files(), self)
        self.model_ids()

    def model_ids(self) -> dict[str, str]:
        if self.cfg.mode == "never":
            return {}
        if self._id is None:
            self._id = BACKEND.run_id(self.cfg, self._files())
        return {"outpaint": self._id}

    def process(self, batch: list[Sample]) -> None:
        chosen = []
        for sample in self.alive(batch):
            h, w = sample.image.shape[:2]
            apply, reason = needs_outpaint(sample.persons, w, h, self.cfg.mode, self.cfg.border_tol_px)
            if not apply:
                sample.info["outpaint"] = {"applied": False, "reason": reason}
                continue
            touched = truncated_sides(sample.persons, w, h, self.cfg.border_tol_px)
            sides = touched if self.cfg.extend == "touched" and touched else SIDES
            chosen.append((sample, make_canvas(w, h, self.cfg.ratio, 8, sides), reason))
        if not chosen:
            return
        from humanverse.models.inpaint.sd_inpaint import seed_for_key

        prompts = [self.cfg.prompt_template.format(caption=s.caption) for s, *_ in chosen]
        seeds = [seed_for_key(s.key, self.cfg.seed) for s, *_ in chosen]
        painted = self._inpainter.outpaint(
            [pad_to_canvas(s.image, c) for s, c, *_ in chosen],
            [new_area_mask(c) for _, c, *_ in chosen],
            prompts,
            seeds,
            self.cfg.steps,
            self.cfg.guidance_scale,
            self.cfg.negative_prompt,
        )
        for (sample, canvas, reason), rgb, prompt, seed in zip(chosen, painted, prompts, seeds):
            keep = None if sample.jpeg is not None else sample.image
            sample.canvas = OutpaintState(keep, canvas, [list(p["box"]) for p in sample.persons])
            sample.image = paste_original(rgb, sample.image, canvas)
            for person in sample.persons:
                person["box"] = self._pose_box(person["box"], canvas)
            sample.info["outpaint"] = self._record(canvas, reason, prompt, seed)
            self.record_models(sample, "outpaint")

    def _pose_box(self, box: list[float], canvas: Canvas) -> list[float]:
        """The detection box in canvas pixels, grown to the canvas edge on each grown border it was cut by."""
        own = truncated_sides([{"box": box}], canvas.width, canvas.height, self.cfg.border_tol_px)
        grown = tuple(side for side in own if side in canvas.extended_sides)
        return [round(v, 2) for v in extend_box_on_canvas(box_to_canvas(box, canvas), canvas, grown)]

    def _record(self, canvas: Canvas, reason: str, prompt: str, seed: int) -> dict:
        from humanverse.models.inpaint.sd_inpaint import model_size

        inpainter = self._inpainter
        size = model_size(canvas.canvas_width, canvas.canvas_height, inpainter.resolution, inpainter.grid)
        return {
            "applied": True,
            "reason": reason,
            "canvas_box": canvas.box_in_original,
            "sides": list(canvas.extended_sides),
            "ratio": self.cfg.ratio,
            "model": self._id,
            "scheduler": self.cfg.scheduler,
            "steps": self.cfg.steps,
            "guidance_scale": self.cfg.guidance_scale,
            "seed": seed,
            "model_size": list(size),
            "prompt": prompt,
        }
