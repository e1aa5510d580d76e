"""Condition maps supplied by a user (or taken from a shard) for sampling, in the exact form training saw.

Keypoints come as JSON in the shard format (DESIGN §5: `width`, `height`, `persons[].keypoints`, 133 x
[x, y, score] in image pixels), so a curated sample's ground truth can be fed straight back in; a bare list of
persons is accepted too. Depth and normal PNGs use the shard encodings (16-bit relative inverse depth, or any
8-bit grayscale; normals n = rgb / 127.5 - 1). A non-square input is framed by its largest centred square,
then resized, and the pose is drawn at the target size itself (sharper than resizing a rendered skeleton).

Maps produced by stage 1 are resized with `resize_map`, which keeps normals unit length.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from humanverse.shards.encoding import decode_depth16, decode_normal
from humanverse.train.common.joint_crop import centre_square_box, crop_keypoints, crop_resize
from humanverse.train.common.pose_render import NUM_KEYPOINTS, render_pose


@dataclass
class Keypoints:
    persons: list[np.ndarray]  # each NUM_KEYPOINTS x 3, pixels of a width x height image
    width: int
    height: int

    def pose_map(self, size: int, score_threshold: float = 0.3) -> torch.Tensor:
        """(1, 3, size, size) in [0, 1], drawn as the training loader draws it."""
        box = centre_square_box(self.width, self.height)
        persons = [crop_keypoints(kp, box, size) for kp in self.persons]
        canvas = render_pose(persons, size, size, score_threshold=score_threshold)
        return torch.from_numpy(canvas).permute(2, 0, 1)[None].float() / 255.0


def load_keypoints(path: str | Path) -> Keypoints:
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or "persons" not in data:
        raise ValueError(f"{path}: expected a JSON object with 'persons' (the shard .json format)")
    if "width" not in data or "height" not in data:
        raise ValueError(f"{path}: needs 'width' and 'height' (the image the keypoints are in pixels of)")
    persons = []
    for person in data["persons"]:
        points = person["keypoints"] if isinstance(person, dict) else person
        array = np.asarray(points, dtype=np.float32)
        if array.shape != (NUM_KEYPOINTS, 3):
            raise ValueError(f"{path}: each person needs {NUM_KEYPOINTS} x [x, y, score], got {array.shape}")
        persons.append(array)
    return Keypoints(persons, int(data["width"]), int(data["height"]))


def _square(array: np.ndarray, size: int) -> np.ndarray:
    return crop_resize(array, centre_square_box(array.shape[1], array.shape[0]), size)


def load_depth(path: str | Path, size: int) -> torch.Tensor:
    """(1, 1, size, size) relative inverse depth in [0, 1] (near is bright) from a 16- or 8-bit PNG."""
    with Image.open(path) as im:
        sixteen_bit = im.mode in ("I;16", "I;16B", "I")
        depth = None if sixteen_bit else np.asarray(im.convert("L"), dtype=np.float32) / 255.0
    if sixteen_bit:
        depth = decode_depth16(Path(path).read_bytes())
    return torch.from_numpy(np.ascontiguousarray(_square(depth, size)))[None, None]


def load_normal(path: str | Path, size: int) -> torch.Tensor:
    """(1, 3, size, size) surface normals in [-1, 1] from the shard's RGB encoding."""
    normal = _square(decode_normal(Path(path).read_bytes()), size)
    return torch.from_numpy(np.ascontiguousarray(normal)).permute(2, 0, 1)[None]


def load_image(path: str | Path, size: int) -> torch.Tensor:
    """(1, 3, size, size) RGB in [0, 1]."""
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(np.ascontiguousarray(_square(rgb, size))).permute(2, 0, 1)[None]


def resize_map(value: torch.Tensor, size: int, is_normal: bool = False) -> torch.Tensor:
    """Resize a (B, C, H, W) map to size x size; normals are re-normalised to unit length afterwards."""
    if value.shape[-2:] != (size, size):
        value = F.interpolate(value.float(), size=(size, size), mode="bilinear", align_corners=False,
                              antialias=value.shape[-1] > size)
    return F.normalize(value, dim=1, eps=1e-6) if is_normal else value
