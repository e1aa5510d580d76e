"""Degradations for the self-check: each must make real images score worse on the metrics it targets."""

from __future__ import annotations

import cv2
import numpy as np

DEGRADATIONS = ("blur", "noise", "shift")


def degrade(image: np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    """blur: Gaussian, sigma 2% of the side; noise: Gaussian, std 25 of 255; shift: content moved by 15% of
    the side right and down (black fill), so it no longer lies under its condition pose."""
    side = max(image.shape[:2])
    if kind == "blur":
        return cv2.GaussianBlur(image, (0, 0), sigmaX=0.02 * side)
    if kind == "noise":
        noise = np.random.default_rng(seed).normal(0, 25, image.shape)
        return np.clip(image.astype(np.float64) + noise, 0, 255).astype(np.uint8)
    if kind == "shift":
        offset = round(0.15 * side)
        out = np.zeros_like(image)
        out[offset:, offset:] = image[: image.shape[0] - offset, : image.shape[1] - offset]
        return out
    raise ValueError(f"unknown degradation {kind!r}; known: {', '.join(DEGRADATIONS)}")


def shuffled(captions: list[str], seed: int = 0) -> list[str]:
    """A derangement when possible: no caption stays with its own image."""
    if len(captions) < 2:
        return list(captions)
    cycle = np.random.default_rng(seed).permutation(len(captions))
    out = list(captions)
    for j, index in enumerate(cycle):  # each image takes the caption of the next one along a random cycle
        out[index] = captions[cycle[(j + 1) % len(cycle)]]
    return out
