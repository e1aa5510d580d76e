"""HyperHuman's Latent Structural Diffusion UNet: one SD UNet whose ends are replicated per modality.

Layout (HyperHuman §3.2, "structural expert branches"): each modality m in (rgb, depth, normal) has its own
  conv_in -> down_blocks[0]                      (input side of branch m)
  up_blocks[-1] -> conv_norm_out -> conv_act -> conv_out   (output side of branch m)
and everything between (down_blocks[1:], mid_block, up_blocks[:-1], the time embedding) is shared.
Each branch keeps its own skip connections: the conv_in output and the resnet outputs of its first down
block feed its own last up block. The branches' outputs of down_blocks[0] are averaged into the shared
trunk (also the one skip the shared up blocks take from that level). Averaging is our reading of how the
branches meet; it makes an SD-initialised model start exactly at SD's features when the three inputs agree,
and it is why the three latents must share one timestep. Consequently: the output side of branch m affects
only modality m's prediction; the input side of branch m is the only way modality m's noisy latent enters,
and through the fused trunk it informs all three predictions (that is the joint modelling).

Input per branch: the modality's noisy latent concatenated with the VAE-encoded pose map (4 + 4 = 8 channels).

Initialising from SD-2-base (`from_sd_unet`), state-dict mapping:
  SD key prefix                     -> ours
  conv_in.*                         -> branches.{m}.conv_in.*   (weight: SD's 4 input channels, zeros for the 4
                                       pose channels, so the pose starts as a no-op, as in SD-inpainting)
  down_blocks.0.*                   -> branches.{m}.down_block.*
  up_blocks.{N-1}.*                 -> branches.{m}.up_block.*
  conv_norm_out.*, conv_out.*       -> branches.{m}.conv_norm_out.*, branches.{m}.conv_out.*
  down_blocks.{i}.*  (i >= 1)       -> shared_down_blocks.{i-1}.*
  up_blocks.{i}.*    (i < N-1)      -> shared_up_blocks.{i}.*
  mid_block.*, time_embedding.*     -> unchanged
"""

from __future__ import annotations

import copy
import re

import torch
from diffusers import ConfigMixin, ModelMixin, UNet2DConditionModel
from diffusers.configuration_utils import register_to_config
from torch import nn

MODALITIES = ("rgb", "depth", "normal")

_UNSUPPORTED = {
    "class_embed_type": None, "num_class_embeds": None, "addition_embed_type": None,
    "encoder_hid_dim": None, "time_embedding_act_fn": None, "time_cond_proj_dim": None,
}


class ExpertBranch(nn.Module):
    """The per-modality ends of the UNet."""

    def __init__(self, base: UNet2DConditionModel):
        super().__init__()
        self.conv_in = copy.deepcopy(base.conv_in)
        self.down_block = copy.deepcopy(base.down_blocks[0])
        self.up_block = copy.deepcopy(base.up_blocks[-1])
        self.conv_norm_out = copy.deepcopy(base.conv_norm_out)
        self.conv_act = copy.deepcopy(base.conv_act)
        self.conv_out = copy.deepcopy(base.conv_out)


def _down(block, h, emb, context):
    if getattr(block, "has_cross_attention", False):
        return block(hidden_states=h, temb=emb, encoder_hidden_states=context)
    return block(hidden_states=h, temb=emb)


def _up(block, h, emb, skips, context):
    if getattr(block, "has_cross_attention", False):
        return block(hidden_states=h, temb=emb, res_hidden_states_tuple=skips, encoder_hidden_states=context)
    return block(hidden_states=h, temb=emb, res_hidden_states_tuple=skips)


class ExpertBranchUNet(ModelMixin, ConfigMixin):
    _supports_gradient_checkpointing = True

    @register_to_config
    def __init__(
        self,
        unet_config: dict | None = None,
        modalities: tuple[str, ...] = MODALITIES,
        latent_channels: int = 4,
        condition_channels: int = 4,
    ):
        super().__init__()
        cfg = {k: v for k, v in (unet_config or {}).items() if not k.startswith("_")}
        cfg.update(in_channels=latent_channels + condition_channels, out_channels=latent_channels)
        base = UNet2DConditionModel.from_config(cfg)
        self._check_layout(base)
        self.time_proj = base.time_proj
        self.time_embedding = base.time_embedding
        self.shared_down_blocks = nn.ModuleList(base.down_blocks[1:])
        self.mid_block = base.mid_block
        self.shared_up_blocks = nn.ModuleList(base.up_blocks[:-1])
        self.branches = nn.ModuleDict({m: ExpertBranch(base) for m in modalities})
        self.downscale = 2 ** (len(base.down_blocks) - 1)

    @staticmethod
    def _check_layout(base: UNet2DConditionModel) -> None:
        for key, allowed in _UNSUPPORTED.items():
            if base.config.get(key) is not allowed:
                raise ValueError(f"ExpertBranchUNet does not support unet config {key}={base.config.get(key)!r}")
        first, last = base.down_blocks[0], base.up_blocks[-1]
        if len(base.down_blocks) < 2 or first.downsamplers is None:
            raise ValueError("need at least two down blocks, the first one downsampling")
        if len(last.resnets) != 1 + len(first.resnets):
            raise ValueError("the last up block must consume exactly conv_in's and the first down block's skips")

    def forward(
        self,
        noisy_latents: dict[str, torch.Tensor],
        condition_latents: torch.Tensor,
        timesteps: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """Predict (v) for every modality at one shared timestep per sample."""
        first = noisy_latents[next(iter(self.branches))]
        batch, _, height, width = first.shape
        if height % self.downscale or width % self.downscale:
            raise ValueError(f"latent size {height}x{width} must be a multiple of {self.downscale}")
        timesteps = torch.as_tensor(timesteps, device=first.device).reshape(-1).expand(batch)
        emb = self.time_embedding(self.time_proj(timesteps).to(first.dtype))

        branch_skips, entering = {}, []
        for name, branch in self.branches.items():
            h = branch.conv_in(torch.cat([noisy_latents[name], condition_latents], dim=1))
            conv_in_out = h
            h, res = _down(branch.down_block, h, emb, encoder_hidden_states)
            branch_skips[name] = (conv_in_out, *res[:-1])  # res[-1] is the downsampled h itself
            entering.append(h)

        h = torch.stack(entering).mean(dim=0)
        skips: tuple[torch.Tensor, ...] = (h,)
        for block in self.shared_down_blocks:
            h, res = _down(block, h, emb, encoder_hidden_states)
            skips += res
        if getattr(self.mid_block, "has_cross_attention", False):
            h = self.mid_block(h, emb, encoder_hidden_states=encoder_hidden_states)
        else:
            h = self.mid_block(h, emb)
        for block in self.shared_up_blocks:
            n = len(block.resnets)
            h = _up(block, h, emb, skips[-n:], encoder_hidden_states)
            skips = skips[:-n]
        assert not skips, "skip bookkeeping out of step with the UNet layout"

        out = {}
        for name, branch in self.branches.items():
            x = _up(branch.up_block, h, emb, branch_skips[name], encoder_hidden_states)
            out[name] = branch.conv_out(branch.conv_act(branch.conv_norm_out(x)))
        return out

    @classmethod
    def from_sd_unet(cls, unet: UNet2DConditionModel, modalities: tuple[str, ...] = MODALITIES,
                     condition_channels: int = 4) -> "ExpertBranchUNet":
        """Expert-branch UNet initialised from a (pretrained) SD UNet; see the module docstring's mapping."""
        model = cls(dict(unet.config), modalities, unet.config.in_channels, condition_channels)
        target = model.state_dict()
        loaded = {}
        for key, value in unet.state_dict().items():
            for new_key in sd_key_mapping(key, len(unet.up_blocks), modalities):
                if new_key.endswith("conv_in.weight"):
                    padded = torch.zeros_like(target[new_key])
                    padded[:, : value.shape[1]] = value
                    value = padded
                loaded[new_key] = value
        missing = set(target) - set(loaded)
        unexpected = set(loaded) - set(target)
        if missing or unexpected:
            raise RuntimeError(f"SD UNet mapping incomplete: missing {sorted(missing)[:5]}, "
                               f"unexpected {sorted(unexpected)[:5]}")
        model.load_state_dict(loaded)
        return model


def sd_key_mapping(key: str, num_up_blocks: int, modalities: tuple[str, ...] = MODALITIES) -> list[str]:
    """Where one SD UNet state-dict key goes in ExpertBranchUNet (several keys for replicated parts)."""
    def per_branch(suffix: str) -> list[str]:
        return [f"branches.{m}.{suffix}" for m in modalities]

    for prefix in ("conv_in.", "conv_norm_out.", "conv_out."):
        if key.startswith(prefix):
            return per_branch(key)
    if m := re.match(r"down_blocks\.(\d+)\.(.*)", key):
        index, rest = int(m.group(1)), m.group(2)
        return per_branch(f"down_block.{rest}") if index == 0 else [f"shared_down_blocks.{index - 1}.{rest}"]
    if m := re.match(r"up_blocks\.(\d+)\.(.*)", key):
        index, rest = int(m.group(1)), m.group(2)
        return per_branch(f"up_block.{rest}") if index == num_up_blocks - 1 else [f"shared_up_blocks.{index}.{rest}"]
    return [key]
