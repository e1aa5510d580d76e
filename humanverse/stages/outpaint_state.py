"""What a sample carries while it is outpainted, and the one call dense annotators make to take part.

Between the outpaint and outpaint_restore stages `sample.image` is the canvas and `sample.canvas` is an
OutpaintState. The state lives on the Sample (not in `info`) because it holds arrays that must never
reach the json, and it is cleared by Sample.drop_pixels so a rejected row stops carrying them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from humanverse.imaging.outpaint_canvas import Canvas
from humanverse.core.sample import Sample


@dataclass
class OutpaintState:
    original: np.ndarray | None
    """The original pixels, or None when they are the decode of sample.jpeg (the usual case): then only
    the JPEG travels between actors and restoring re-decodes it lazily, as Sample does everywhere else."""
    canvas: Canvas
    boxes: list[list[float]]
    """Each person's detection box in original pixels (person["box"] holds the canvas pose box meanwhile)."""
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    """Raw float maps over the canvas by annotation name ("depth", "depth_omnidata", "normal")."""


def stash_map(sample: Sample, name: str, dense: np.ndarray) -> bool:
    """Keep a canvas-size dense map for outpaint_restore when the sample is outpainted.

    Returns False when no canvas is active; the annotator then encodes the map as usual. With a canvas,
    the restore stage crops the map to the original frame and encodes it (members and json range).
    """
    state = sample.canvas
    if state is None:
        return False
    expected = (state.canvas.canvas_height, state.canvas.canvas_width)
    if np.shape(dense)[:2] != expected:
        raise ValueError(f"{name} map for {sample.key} is {np.shape(dense)[:2]}, the canvas is {expected}")
    state.maps[name] = np.asarray(dense, dtype=np.float32)
    return True
