"""The MiDaS v3 DPT-hybrid network (ViT-B/16 on a ResNet-50 stem) in the module layout of Omnidata's checkpoints.

Omnidata publishes omnidata_dpt_{depth,normal}_v2.ckpt as state dicts of MiDaS's `DPTDepthModel`
(`pretrained.model.*` is a timm `vit_base_resnet50_384`, `pretrained.act_postprocess{3,4}.*` and `scratch.*`
the DPT neck and head). We rebuild exactly that module tree on timm's hybrid ViT, so the published files load
with strict=True and no renaming; mapping them onto transformers' DPT would need a long chain of key renames,
a q/k/v split and a patched 3-channel head for normals, each a chance to go silently wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DPTHybridArch:
    resnet_layers: tuple[int, int, int]
    resnet_channels: tuple[int, int, int]
    stem_channels: int
    norm_groups: int
    embed_dim: int
    depth: int
    num_heads: int
    features: int
    hooks: tuple[int, int]
    """ViT blocks whose outputs feed the 3rd and 4th DPT levels (MiDaS: blocks 8 and 11)."""


ARCHS = {
    "dpt-hybrid": DPTHybridArch((3, 4, 9), (256, 512, 1024), 64, 32, 768, 12, 12, 256, (8, 11)),
    "tiny": DPTHybridArch((1, 1, 1), (32, 64, 128), 16, 4, 32, 4, 2, 16, (2, 3)),
}
IMAGE_SIZE = 384


def _hybrid_vit(a: DPTHybridArch) -> nn.Module:
    """timm's vit_base_resnet50_384 (1000-class head kept: the published files contain it)."""
    from timm.layers import GroupNormAct, StdConv2dSame
    from timm.models.resnetv2 import ResNetV2
    from timm.models.vision_transformer import VisionTransformer
    from timm.models.vision_transformer_hybrid import HybridEmbed

    backbone = ResNetV2(
        layers=a.resnet_layers,
        channels=a.resnet_channels,
        stem_chs=a.stem_channels,
        num_classes=0,
        global_pool="",
        preact=False,
        stem_type="same",
        conv_layer=partial(StdConv2dSame, eps=1e-8),
        norm_layer=partial(GroupNormAct, num_groups=a.norm_groups),
    )
    return VisionTransformer(
        img_size=IMAGE_SIZE,
        patch_size=1,  # over the ResNet's stride-16 feature map, as timm builds vit_base_r50_s16_384
        embed_layer=partial(HybridEmbed, backbone=backbone),
        embed_dim=a.embed_dim,
        depth=a.depth,
        num_heads=a.num_heads,
    )


class ProjectReadout(nn.Module):
    """DPT 'project' readout: concatenate the class token to every patch token and project back."""

    def __init__(self, dim: int):
        super().__init__()
        self.project = nn.Sequential(nn.Linear(2 * dim, dim), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x[:, 1:]
        return self.project(torch.cat([tokens, x[:, :1].expand_as(tokens)], dim=-1))


class Backbone(nn.Module):
    """`pretrained.*`: the hybrid ViT plus the reassembly of its two tapped blocks into feature maps."""

    def __init__(self, a: DPTHybridArch):
        super().__init__()
        self.hooks = a.hooks
        self.model = _hybrid_vit(a)
        d = a.embed_dim
        # indices 1, 2 are MiDaS's parameter-free Transpose/Unflatten; kept so the keys line up
        self.act_postprocess3 = nn.Sequential(ProjectReadout(d), nn.Identity(), nn.Identity(), nn.Conv2d(d, d, 1))
        self.act_postprocess4 = nn.Sequential(
            ProjectReadout(d), nn.Identity(), nn.Identity(), nn.Conv2d(d, d, 1), nn.Conv2d(d, d, 3, stride=2, padding=1)
        )

    def _pos_embed(self, gh: int, gw: int) -> torch.Tensor:
        pos = self.model.pos_embed
        n = int((pos.shape[1] - 1) ** 0.5)
        if gh == n and gw == n:
            return pos
        grid = pos[:, 1:].reshape(1, n, n, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(gh, gw), mode="bilinear", align_corners=False)
        return torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, gh * gw, -1)], dim=1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        vit = self.model
        resnet = vit.patch_embed.backbone
        h = resnet.stem(x)
        layer1 = resnet.stages[0](h)
        layer2 = resnet.stages[1](layer1)
        h = resnet.stages[2](layer2)
        t = vit.patch_embed.proj(h)
        b, _, gh, gw = t.shape
        t = torch.cat([vit.cls_token.expand(b, -1, -1), t.flatten(2).transpose(1, 2)], dim=1)
        t = t + self._pos_embed(gh, gw)
        taps = {}
        for i, block in enumerate(vit.blocks[: max(self.hooks) + 1]):
            t = block(t)
            if i in self.hooks:
                taps[i] = t
        out = []
        for post, tapped in ((self.act_postprocess3, taps[self.hooks[0]]), (self.act_postprocess4, taps[self.hooks[1]])):
            fmap = post[0](tapped).transpose(1, 2).reshape(b, -1, gh, gw)
            out.append(post[3:](fmap))
        return [layer1, layer2, *out]


class ResidualConvUnit(nn.Module):
    def __init__(self, f: int):
        super().__init__()
        self.conv1 = nn.Conv2d(f, f, 3, padding=1)
        self.conv2 = nn.Conv2d(f, f, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


class FusionBlock(nn.Module):
    def __init__(self, f: int):
        super().__init__()
        self.resConfUnit1 = ResidualConvUnit(f)
        self.resConfUnit2 = ResidualConvUnit(f)
        self.out_conv = nn.Conv2d(f, f, 1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        if skip is not None:
            x = x + self.resConfUnit1(skip)
        x = self.resConfUnit2(x)
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        return self.out_conv(x)


class Upsample2x(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


class Scratch(nn.Module):
    """`scratch.*`: per-level 3x3 projections, four fusion blocks and the output head."""

    def __init__(self, a: DPTHybridArch, out_channels: int):
        super().__init__()
        f = a.features
        ins = (a.resnet_channels[0], a.resnet_channels[1], a.embed_dim, a.embed_dim)
        for i, c in enumerate(ins, start=1):
            setattr(self, f"layer{i}_rn", nn.Conv2d(c, f, 3, padding=1, bias=False))
        for i in range(1, 5):
            setattr(self, f"refinenet{i}", FusionBlock(f))
        self.output_conv = nn.Sequential(
            nn.Conv2d(f, f // 2, 3, padding=1),
            Upsample2x(),
            nn.Conv2d(f // 2, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, out_channels, 1),
            nn.ReLU(),  # MiDaS DPTDepthModel(non_negative=True), Omnidata's default for depth and normals
            nn.Identity(),
        )


class DPTHybrid(nn.Module):
    """Images (B x 3 x H x W, H and W multiples of 32) -> B x out_channels x H x W."""

    def __init__(self, arch: str = "dpt-hybrid", out_channels: int = 1):
        super().__init__()
        a = ARCHS[arch]
        self.pretrained = Backbone(a)
        self.scratch = Scratch(a, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        l1, l2, l3, l4 = self.pretrained(x)
        s = self.scratch
        path = s.refinenet4(s.layer4_rn(l4))
        path = s.refinenet3(path, s.layer3_rn(l3))
        path = s.refinenet2(path, s.layer2_rn(l2))
        path = s.refinenet1(path, s.layer1_rn(l1))
        return s.output_conv(path)
