"""What a sample carries while it is outpainted, and where dense annotators' canvas maps wait for restore.

Between the outpaint and outpaint_restore stages `sample.image` is the canvas and `sample.canvas` is an
OutpaintState. The state lives on the Sample (not in `info`) because it holds arrays that must never
reach the json, and it is cleared by Sample.drop_pixels so a rejected row stops carrying them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from humanverse.imaging.outpaint_canvas import Canvas
from humanverse.core.sample import Sample
from humanverse.stages.frame_outputs import dense_map


@dataclass
class OutpaintState:
    original: np.ndarray | None
    """The original pixels, or None when they are the decode of sample.jpeg (the usual case): then only
    the JPEG travels between actors and restoring re-decodes it lazily, as Sample does everywhere else."""
    canvas: Canvas
    boxes: list[list[float]]
    """Each person's detection box in original pixels (person["box"] holds the canvas pose box meanwhile)."""
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    """Raw maps over the canvas by declared dense-map name ("depth", "depth_omnidata", "normal", "parts", ...)."""

    def stash(self, key: str, name: str, dense: np.ndarray) -> None:
        """Keep a canvas-size map until restore (Stage.publish_map calls this); labels keep their integer type."""
        expected = (self.canvas.canvas_height, self.canvas.canvas_width)
        if np.shape(dense)[:2] != expected:
            raise ValueError(f"{name} map for {key} is {np.shape(dense)[:2]}, the canvas is {expected}")
        spec = dense_map(name)
        if spec is None:
            raise ValueError(f"no stage declares a dense map {name!r} (core/frame.py DenseMap)")
        labels = spec.resample == "nearest" and np.issubdtype(np.asarray(dense).dtype, np.integer)
        self.maps[name] = np.asarray(dense) if labels else np.asarray(dense, dtype=np.float32)


def stash_map(sample: Sample, name: str, dense: np.ndarray) -> bool:
    """Keep a declared dense map for outpaint_restore when the sample is outpainted (what Stage.publish_map
    does for a stage). Returns False when no canvas is active."""
    if sample.canvas is None:
        return False
    sample.canvas.stash(sample.key, name, dense)
    return True
