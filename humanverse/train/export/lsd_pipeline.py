"""The exported stage-1 model as a diffusers pipeline: caption embeddings (+ optional pose) -> RGB, depth, normal.

`humanverse export` writes this module, inlined with the joint denoising loop, as EXPORT/pipeline_hyperhuman_lsd.py
next to a model_index.json naming it, so `DiffusionPipeline.from_pretrained(EXPORT, custom_pipeline=EXPORT,
trust_remote_code=True)` builds it (the UNet class comes from unet/expert_branch_unet.py the same way).
The text encoder is an open_clip text tower (no diffusers/transformers class), so the pipeline takes prompt
embeddings (B, 77, width); `text_encoder` and `tokenizer` are optional callables
(tokens = tokenizer(list of str); states = text_encoder(tokens)).
"""

from __future__ import annotations

import torch
from diffusers import DiffusionPipeline

from humanverse.train.lsd.joint_denoise import decode_joint, denoise_joint


class HyperHumanLSDPipeline(DiffusionPipeline):
    """HyperHuman latent structural diffusion (stage 1): one expert-branch UNet denoises RGB, depth and normal
    latents together at one timestep, conditioned on text and a pose-skeleton latent (the hand generator's
    export: RGB and mask, on a hand skeleton). Shows a progress bar over the steps
    (`pipe.set_progress_bar_config(disable=True)` turns it off)."""

    def __init__(self, unet, vae, scheduler, latent_stats: dict | None = None, text_encoder=None, tokenizer=None):
        super().__init__()
        self.register_modules(unet=unet, vae=vae, scheduler=scheduler)
        self.register_to_config(latent_stats=latent_stats)  # model_index.json carries it; save_pretrained keeps it
        self.text_encoder, self.tokenizer = text_encoder, tokenizer

    def _embed(self, prompt: list[str]) -> torch.Tensor:
        if self.text_encoder is None or self.tokenizer is None:
            raise ValueError("no text encoder: pass prompt_embeds (and negative_prompt_embeds), or build the "
                             "pipeline with text_encoder= and tokenizer=")
        return self.text_encoder(self.tokenizer(prompt).to(self.device))

    def pose_latent(self, pose_image: torch.Tensor | None, batch: int, height: int) -> torch.Tensor:
        """pose_image (B, 3, H, W) in [0, 1] -> its scaled VAE latent; None -> zeros, training's "no pose"."""
        vae = self.vae
        if pose_image is None:
            scale = 2 ** (len(vae.config.block_out_channels) - 1)
            if height % scale:
                raise ValueError(f"height {height} is not a multiple of the VAE's downscale {scale}")
            return torch.zeros(batch, vae.config.latent_channels, height // scale, height // scale,
                               device=vae.device, dtype=vae.dtype)
        latent = vae.encode(pose_image.to(vae.device, vae.dtype) * 2 - 1).latent_dist.mode()
        return latent * vae.config.scaling_factor

    @torch.no_grad()
    def __call__(self, prompt: str | list[str] | None = None, pose_image: torch.Tensor | None = None,
                 height: int | None = None, num_inference_steps: int = 50, guidance_scale: float = 7.5,
                 guidance_rescale: float = 0.7, negative_prompt: str = "", generator: torch.Generator | None = None,
                 prompt_embeds: torch.Tensor | None = None, negative_prompt_embeds: torch.Tensor | None = None) -> dict:
        """Returns {"rgb", "depth", "normal", "latents"} (hand export: "rgb", "mask") as tensors (see joint_denoise.decode_joint). Without a
        pose image, `height` (square side in pixels) sets the size and the pose latent is zero."""
        if prompt_embeds is None:
            prompts = [prompt] if isinstance(prompt, str) else list(prompt)
            prompt_embeds = self._embed(prompts)
        batch = prompt_embeds.shape[0]
        if guidance_scale != 1.0 and negative_prompt_embeds is None:
            negative_prompt_embeds = self._embed([negative_prompt] * batch)
        if pose_image is None and height is None:
            raise ValueError("give pose_image or height")
        if pose_image is not None and pose_image.shape[0] != batch:
            raise ValueError("one pose image per prompt")
        dtype = self.vae.dtype
        pose = self.pose_latent(pose_image, batch, height)
        negative = None if negative_prompt_embeds is None else negative_prompt_embeds.to(self.device, dtype)
        latents = denoise_joint(self.unet, self.scheduler, pose, prompt_embeds.to(self.device, dtype), negative,
                                num_inference_steps, guidance_scale, guidance_rescale, generator, self.progress_bar)
        return decode_joint(self.vae, self.config.latent_stats, latents)
