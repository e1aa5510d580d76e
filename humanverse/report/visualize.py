"""Pictures a human can check: whole-body skeleton overlay, depth colormap, normal map.

The skeleton uses mmpose's own visualiser and COCO-WholeBody metainfo (limbs and colours as mmpose draws
them) when mmpose is installed; without it, keypoints are drawn as dots coloured by body part, never from a
hand-copied limb table.
"""

from __future__ import annotations

import cv2
import numpy as np

_PART_COLOURS = [  # (first index, end, RGB): body, feet, face, left hand, right hand
    (0, 17, (255, 128, 0)),
    (17, 23, (0, 200, 255)),
    (23, 91, (255, 255, 255)),
    (91, 112, (0, 255, 0)),
    (112, 133, (255, 0, 255)),
]


def draw_pose(image: np.ndarray, persons: list[dict], kpt_thr: float = 0.3, radius: int = 2, thickness: int = 1) -> np.ndarray:
    """RGB image with each person's box and whole-body skeleton drawn on a copy."""
    kps = [np.asarray(p["keypoints"], dtype=np.float32) for p in persons if p.get("keypoints")]
    out = image.copy()
    for p in persons:
        x0, y0, x1, y1 = (int(round(v)) for v in p["box"])
        cv2.rectangle(out, (x0, y0), (x1, y1), (0, 255, 0), 1)
    if not kps:
        return out
    try:
        return _draw_with_mmpose(out, np.stack(kps), kpt_thr, radius, thickness)
    except ImportError:
        return _draw_dots(out, kps, kpt_thr, radius)


def _draw_with_mmpose(image: np.ndarray, kps: np.ndarray, kpt_thr: float, radius: int, thickness: int) -> np.ndarray:
    from mmengine.structures import InstanceData
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from mmpose.structures import PoseDataSample
    from mmpose.visualization import PoseLocalVisualizer

    # matplotlib backend: mmpose 1.1's opencv backend calls int() on a 1-element array, an error under numpy 2
    vis = PoseLocalVisualizer(radius=radius, line_width=thickness, backend="matplotlib")
    vis.set_dataset_meta(parse_pose_metainfo(dict(from_file="configs/_base_/datasets/coco_wholebody.py")))
    sample = PoseDataSample()
    sample.pred_instances = InstanceData(keypoints=kps[..., :2], keypoint_scores=kps[..., 2])
    vis.add_datasample("pose", image, data_sample=sample, draw_gt=False, draw_bbox=False, kpt_thr=kpt_thr, show=False)
    return vis.get_image()


def _draw_dots(image: np.ndarray, kps: list[np.ndarray], kpt_thr: float, radius: int) -> np.ndarray:
    for person in kps:
        for start, end, colour in _PART_COLOURS:
            for x, y, score in person[start:end]:
                if score >= kpt_thr:
                    cv2.circle(image, (int(round(x)), int(round(y))), radius, colour, -1, lineType=cv2.LINE_AA)
    return image


def depth_colormap(depth: np.ndarray) -> np.ndarray:
    """Relative inverse depth (any range) -> RGB, near = bright (turbo colormap, min-max per image)."""
    d = np.asarray(depth, dtype=np.float32)
    lo, hi = float(np.nanmin(d)), float(np.nanmax(d))
    u8 = np.zeros(d.shape, np.uint8) if hi <= lo else np.round((d - lo) / (hi - lo) * 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(u8, cv2.COLORMAP_TURBO), cv2.COLOR_BGR2RGB)


def normal_map(normals: np.ndarray) -> np.ndarray:
    """Unit normals (H x W x 3, NORMAL_CONVENTION) -> the RGB picture the shard stores (rgb = (n + 1) * 127.5)."""
    return np.clip(np.round((np.asarray(normals, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)
