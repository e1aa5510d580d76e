"""SD-2-inpainting through diffusers: canvases in, outpainted canvases out, one seed per sample.

The model runs at its native resolution (512 px for SD-2-inpainting: UNet sample_size x VAE factor), which
is where it was trained; a canvas is resized so its long side is that resolution (each side a multiple of
8, the VAE grid), outpainted, and resized back to canvas size. Canvases that come out at the same model
size share one batched call. Each sample's noise comes from its own CPU torch.Generator, seeded from the
sample key, so a sample's result does not depend on the device's RNG or on which other samples it was
batched with (up to float rounding in batched kernels).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

SCHEDULERS = {
    "ddim": "DDIMScheduler",
    "dpmpp": "DPMSolverMultistepScheduler",
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "pndm": "PNDMScheduler",
}
"""Scheduler names the config accepts; "default" keeps the one the checkpoint ships (PNDM for SD-2)."""

REQUIRED_FILES = [
    "model_index.json",
    "unet/config.json",
    "vae/config.json",
    "text_encoder/config.json",
    "tokenizer/tokenizer_config.json",
    "scheduler/scheduler_config.json",
]
_WEIGHT_NAMES = (
    "diffusion_pytorch_model.safetensors",
    "diffusion_pytorch_model.bin",
    "model.safetensors",
    "pytorch_model.bin",
)


def weight_files(path: Path) -> list[Path]:
    """The UNet, VAE and text-encoder weight files of a pipeline folder (what the model id hashes)."""
    found = []
    for part in ("unet", "vae", "text_encoder"):
        match = next((path / part / n for n in _WEIGHT_NAMES if (path / part / n).exists()), None)
        if match is None:
            raise FileNotFoundError(f"no weights in {path / part} (looked for {', '.join(_WEIGHT_NAMES)})")
        found.append(match)
    return found


def seed_for_key(key: str, base_seed: int = 0) -> int:
    """A 32-bit seed from the sample key: stable across runs, machines and batch composition."""
    digest = hashlib.sha256(f"{base_seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def use_scheduler(pipe, name: str) -> None:
    """Swap the pipeline's scheduler for one of SCHEDULERS, keeping the checkpoint's noise schedule."""
    if name == "default":
        return
    import diffusers

    extra = {"skip_prk_steps": True} if name == "pndm" else {}  # PLMS only, as Stable Diffusion ships it
    pipe.scheduler = getattr(diffusers, SCHEDULERS[name]).from_config(pipe.scheduler.config, **extra)


def model_size(canvas_width: int, canvas_height: int, resolution: int, grid: int = 8) -> tuple[int, int]:
    """(width, height) the model runs at: long side = resolution, both sides multiples of grid."""
    scale = resolution / max(canvas_width, canvas_height)
    return (
        max(grid, round(canvas_width * scale / grid) * grid),
        max(grid, round(canvas_height * scale / grid) * grid),
    )


class SdInpainter:
    """A StableDiffusionInpaintPipeline with a batched, seeded outpaint call at the model's native size."""

    def __init__(self, pipe, resolution: int | None = None):
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe
        self.grid = pipe.vae_scale_factor
        self.resolution = resolution or pipe.unet.config.sample_size * pipe.vae_scale_factor

    @classmethod
    def load(cls, path: Path, device: str, scheduler: str = "default", resolution: int | None = None) -> SdInpainter:
        """From a local diffusers folder (never the hub); fp16 on GPU, fp32 on CPU; no safety checker,
        which would black out flagged canvases (NSFW rows are filtered on metadata before this stage)."""
        import torch
        from diffusers import StableDiffusionInpaintPipeline

        pipe = StableDiffusionInpaintPipeline.from_pretrained(
            str(path),
            local_files_only=True,
            dtype=torch.float16 if device == "cuda" else torch.float32,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
        use_scheduler(pipe, scheduler)
        return cls(pipe.to(device), resolution)

    def outpaint(
        self,
        images: list[np.ndarray],
        masks: list[np.ndarray],
        prompts: list[str],
        seeds: list[int],
        steps: int,
        guidance_scale: float,
        negative_prompt: str = "",
    ) -> list[np.ndarray]:
        """Canvas-size uint8 RGB per input; `masks` are True where new content is painted."""
        out: list[np.ndarray | None] = [None] * len(images)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, img in enumerate(images):
            size = model_size(img.shape[1], img.shape[0], self.resolution, self.grid)
            groups.setdefault(size, []).append(i)
        for (w, h), idx in groups.items():
            results = self._call(
                [images[i] for i in idx],
                [masks[i] for i in idx],
                [prompts[i] for i in idx],
                [seeds[i] for i in idx],
                (w, h),
                steps,
                guidance_scale,
                negative_prompt,
            )
            for i, res in zip(idx, results):
                canvas_size = (images[i].shape[1], images[i].shape[0])
                out[i] = np.asarray(Image.fromarray(res).resize(canvas_size, Image.BICUBIC))
        return out  # type: ignore[return-value]

    def _call(self, images, masks, prompts, seeds, size, steps, guidance_scale, negative_prompt) -> list[np.ndarray]:
        import torch

        pil_images = [Image.fromarray(img).resize(size, Image.BICUBIC) for img in images]
        pil_masks = [_resize_mask(m, size) for m in masks]
        generators = [torch.Generator(device="cpu").manual_seed(int(s)) for s in seeds]
        with torch.inference_mode():
            result = self.pipe(
                prompt=list(prompts),
                negative_prompt=[negative_prompt] * len(prompts) if negative_prompt else None,
                image=pil_images,
                mask_image=pil_masks,
                width=size[0],
                height=size[1],
                num_inference_steps=steps,
                guidance_scale=guidance_scale,
                generator=generators,
                output_type="np",
            )
        return [np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8) for img in result.images]


def _resize_mask(mask: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """Bilinear, then any coverage counts as masked: no new pixel escapes the mask after resizing (the
    original's pixels are pasted back afterwards, so a slightly wider mask costs nothing)."""
    soft = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.BILINEAR))
    return Image.fromarray(np.where(soft > 0, 255, 0).astype(np.uint8))


def clip_tokenizer_offline():
    """A CLIPTokenizer built from open_clip's bundled BPE vocab (no hub): the vocab SD-2's tokenizer uses."""
    from open_clip.tokenizer import SimpleTokenizer
    from transformers import CLIPTokenizer

    st = SimpleTokenizer()
    rename = {"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}
    vocab = {rename.get(k, k): v for k, v in st.encoder.items()}
    merges = sorted(st.bpe_ranks, key=st.bpe_ranks.get)
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)


def build_demo_weights(target_dir: Path) -> Path:
    """Write a tiny random-weight inpainting pipeline in the published diffusers folder layout.

    Same classes and file layout as stabilityai/stable-diffusion-2-inpainting (9-channel UNet: 4 noisy
    latent + 1 mask + 4 masked-image latent; VAE factor 8; CLIP text encoder; DDIM), so the demo preset
    and the tests load it through SdInpainter exactly as production loads the real one. Native size: 64 px.
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    target_dir = Path(target_dir)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=9,
        out_channels=4,
        block_out_channels=(16, 32),
        layers_per_block=1,
        norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=(2, 4),
        use_linear_projection=True,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(8, 8, 16, 16),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1,
        norm_num_groups=4,
        latent_channels=4,
        sample_size=64,
    )
    tokenizer = clip_tokenizer_offline()
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            projection_dim=32,
            max_position_embeddings=77,
            hidden_act="gelu",
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe = StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(str(target_dir))
    return target_dir
