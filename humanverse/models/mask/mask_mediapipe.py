"""MediaPipe selfie segmentation: a trained person/background model shipped in the mediapipe wheel.

It was trained on selfies and video calls, so it is at its best on people that fill much of the frame and
weakest on small, distant people. model_selection 0 is the general 256x256 model, 1 the faster 144x256
landscape one; both ship in the wheel (Apache-2.0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humanverse.models.files import locate

FILES = {
    0: "modules/selfie_segmentation/selfie_segmentation.tflite",
    1: "modules/selfie_segmentation/selfie_segmentation_landscape.tflite",
}


def selfie_files(model_selection: int) -> list[Path]:
    return [locate("wheel:mediapipe", [FILES[model_selection]]) / FILES[model_selection]]


class SelfieSegmentation:
    """RGB uint8 images -> person probability maps in [0, 1] at each image's own size."""

    def __init__(self, model_selection: int = 0):
        from humanverse.models.protobuf_compat import restore_get_prototype

        restore_get_prototype()
        import mediapipe as mp

        self._model = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=model_selection)

    def __call__(self, images: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        for image in images:
            mask = self._model.process(np.ascontiguousarray(image)).segmentation_mask
            out.append(np.clip(np.asarray(mask, dtype=np.float32), 0.0, 1.0))
        return out

    def close(self) -> None:
        self._model.close()
