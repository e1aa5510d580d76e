"""Top-down geometry of the UDP codec (Sapiens2's), beside pose_decode's MSRA one (ViTPose's).

Sapiens2 was trained with `PoseTopdownAffine(use_udp=True)` and decoded with UDP + DARK refinement
(facebookresearch/sapiens2, sapiens/pose/src/datasets/transforms/{pose_transforms,bbox_transforms}.py and
transformers' Sapiens2ImageProcessor.post_process_pose_estimation). Under UDP a crop pixel index i maps to
the image coordinate  cx - sw/2 + i * sw / (crop_w - 1)  and a heatmap index u to
cx - sw/2 + u * sw / (heatmap_w - 1): the ends of both grids land on the ends of the box, so no half-pixel
shift is needed after a flip. Boxes become centre and scale exactly as for ViTPose (box_center_scale: the
same 1.25 padding and aspect fix as Sapiens2's boxes_to_crop_params).
"""

from __future__ import annotations

import cv2
import numpy as np


def udp_crop_matrix(center: np.ndarray, scale: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """The 2x3 affine taking image pixels to crop pixels (Sapiens2's get_udp_warp_matrix, rotation 0)."""
    h_in, w_in = input_size
    sx, sy = (w_in - 1) / float(scale[0]), (h_in - 1) / float(scale[1])
    return np.array(
        [[sx, 0.0, sx * (0.5 * float(scale[0]) - float(center[0]))],
         [0.0, sy, sy * (0.5 * float(scale[1]) - float(center[1]))]], dtype=np.float32
    )


def crop_persons_udp(image: np.ndarray, centers: np.ndarray, scales: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """N x H x W x 3 uint8 crops, black outside the image; area interpolation when shrinking and cubic when
    enlarging, as Sapiens2's PoseTopdownAffine chooses."""
    h_in, w_in = input_size
    out = np.zeros((len(centers), h_in, w_in, 3), dtype=np.uint8)
    for i, (c, s) in enumerate(zip(centers, scales)):
        m = udp_crop_matrix(c, s, input_size)
        interp = cv2.INTER_AREA if min(m[0, 0], m[1, 1]) < 1.0 else cv2.INTER_CUBIC
        out[i] = cv2.warpAffine(image, m, (w_in, h_in), flags=interp)
    return out


def decode_heatmaps_udp(
    heatmaps: np.ndarray, centers: np.ndarray, scales: np.ndarray, blur_kernel: int = 11
) -> tuple[np.ndarray, np.ndarray]:
    """N x K x h x w heatmaps -> (N x K x 2 image-pixel keypoints, N x K scores): argmax, DARK refinement
    (transformers' own Sapiens2 implementation), then the UDP heatmap-to-image map."""
    import torch
    from transformers.models.sapiens2.image_processing_sapiens2 import (
        get_keypoint_predictions,
        post_dark_unbiased_data_processing,
    )

    hm = torch.from_numpy(np.ascontiguousarray(heatmaps, dtype=np.float32))
    _, _, h_hm, w_hm = hm.shape
    locs, scores = get_keypoint_predictions(hm)
    locs = post_dark_unbiased_data_processing(locs, hm, blur_kernel_size=blur_kernel).numpy()
    image_xy = locs / np.array([w_hm - 1, h_hm - 1], dtype=np.float32) * scales[:, None, :] + (
        centers[:, None, :] - 0.5 * scales[:, None, :]
    )
    return image_xy.astype(np.float32), scores.numpy().astype(np.float32)
