"""Square model inputs from images of any shape, and dense predictions back at each image's own size.

DPT models run at a fixed square size so that images of different shapes share one batch (stretched or
letterboxed: resize_mode.py). Either way the prediction for the image's own region is resized back to its
original height and width.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from humanverse.models.dense.resize_mode import ResizeMode


def to_square_batch(
    images: list[np.ndarray], size: int, mode: ResizeMode, mean: float | list[float], std: float | list[float]
) -> tuple[torch.Tensor, list[tuple[int, int, int, int]]]:
    """B x 3 x size x size float32 normalised, and each image's (x0, y0, x1, y1) region inside it."""
    mean_t = torch.as_tensor(mean, dtype=torch.float32).reshape(-1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).reshape(-1, 1, 1)
    batch = torch.zeros(len(images), 3, size, size)
    regions = []
    for i, img in enumerate(images):
        h, w = img.shape[:2]
        if mode == "stretch":
            th, tw = size, size
        else:
            k = size / max(h, w)
            th, tw = max(1, round(h * k)), max(1, round(w * k))
        pixels = np.ascontiguousarray(img)
        if not pixels.flags.writeable:  # decoded pixels are often read-only; torch warns on sharing them
            pixels = pixels.copy()
        x = torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255.0
        x = F.interpolate(x, size=(th, tw), mode="bilinear", align_corners=False, antialias=True)[0]
        x = (x.clamp(0, 1) - mean_t) / std_t
        y0, x0 = (size - th) // 2, (size - tw) // 2
        batch[i, :, y0 : y0 + th, x0 : x0 + tw] = x
        regions.append((x0, y0, x0 + tw, y0 + th))
    return batch, regions


def back_to_images(
    pred: torch.Tensor, regions: list[tuple[int, int, int, int]], sizes: list[tuple[int, int]], input_size: int
) -> list[np.ndarray]:
    """B x C x h x w predictions -> per image (H x W x C) float32, cropped to its region, bicubic resized.

    Regions are in input_size pixels; pred may be at another resolution and is cropped proportionally.
    """
    out = []
    _, _, ph, pw = pred.shape
    sx, sy = pw / input_size, ph / input_size
    for p, (x0, y0, x1, y1), (h, w) in zip(pred.float(), regions, sizes):
        crop = p[:, round(y0 * sy) : round(y1 * sy), round(x0 * sx) : round(x1 * sx)][None]
        up = F.interpolate(crop, size=(h, w), mode="bicubic", align_corners=False)[0]
        out.append(up.permute(1, 2, 0).cpu().numpy())
    return out
