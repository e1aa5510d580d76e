"""Tiny shards in the hands contract's exact form (notes: hands_contract.md), written with the project's
shard writer (humanverse/shards/writer.py), so the hand trainers are tested without the curation side.

Each image has one person with 133 whole-body keypoints; each hand's 21 points form a small splayed hand
around the body wrist, its box is the square around them widened by 25%, and every other sample carries a
`hand_mask.png` member (the rest exercise the keypoint-drawn fallback)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from humanverse.core.sample import Sample
from humanverse.core.task import TaskPayload, TaskSpec
from humanverse.shards.writer import write_shard

FINGER_ANGLES = (-1.0, -0.5, 0.0, 0.5, 1.0)


def hand_keypoints(wrist: np.ndarray, direction: float, span: float, score: float = 0.9) -> np.ndarray:
    """21 x [x, y, score]: the wrist, then five fingers of four joints fanning out along `direction`."""
    points = [wrist]
    for offset in FINGER_ANGLES:
        angle = direction + 0.35 * offset
        for joint in range(1, 5):
            points.append(wrist + span * joint / 4 * np.array([np.cos(angle), np.sin(angle)]))
    xy = np.array(points, dtype=np.float32)
    return np.concatenate([xy, np.full((21, 1), score, np.float32)], axis=1)


def contract_hand(side: str, keypoints: np.ndarray, width: int, height: int, margin: float = 0.25) -> dict:
    (x0, y0), (x1, y1) = keypoints[:, :2].min(axis=0), keypoints[:, :2].max(axis=0)
    side_px = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    box = [max(0.0, cx - side_px / 2), max(0.0, cy - side_px / 2), min(width - 1.0, cx + side_px / 2),
           min(height - 1.0, cy + side_px / 2)]
    return {"side": side, "box": [float(v) for v in box], "keypoints": keypoints.tolist(),
            "score": float(keypoints[:, 2].mean()), "visible_frac": 1.0, "source": "pose"}


def person(rng: np.random.Generator, width: int, height: int) -> tuple[np.ndarray, list[dict]]:
    keypoints = np.zeros((133, 3), np.float32)
    centre = np.array([width / 2, height / 2])
    keypoints[:, :2] = centre + rng.normal(0, [0.1 * width, 0.2 * height], size=(133, 2))
    keypoints[:, 2] = rng.uniform(0.6, 1.0, size=133)
    hands = []
    for side, wrist_index, first, direction in (("left", 9, 91, np.pi / 2 + 0.3), ("right", 10, 112, np.pi / 2 - 0.3)):
        wrist = centre + np.array([(-0.25 if side == "left" else 0.25) * width, 0.1 * height])
        points = hand_keypoints(wrist, direction, span=0.15 * height)
        keypoints[first:first + 21] = points
        keypoints[wrist_index] = points[0]
        hands.append(contract_hand(side, points, width, height))
    return keypoints, hands


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def make_sample(rng: np.random.Generator, key: str, width: int, height: int, with_mask: bool,
                hands: bool = True) -> Sample:
    image = (rng.random((height, width, 3)) * 255).astype(np.uint8)
    jpg = io.BytesIO()
    Image.fromarray(image).save(jpg, format="JPEG", quality=90)
    keypoints, hand_entries = person(rng, width, height)
    entry = {"box": [0.0, 0.0, float(width - 1), float(height - 1)], "score": 0.9, "area_frac": 0.5,
             "keypoints": keypoints.tolist()}
    if hands:
        entry["hands"] = hand_entries
    sample = Sample(key=key, task_id="00000-000", source={"dataset": "test", "url": f"http://example.invalid/{key}",
                                                          "source_id": key},
                    caption=f"a person waving {key}", jpeg=jpg.getvalue(), width=width, height=height,
                    persons=[entry])
    if with_mask and hands:
        mask = np.zeros((height, width), np.uint8)
        for hand in hand_entries:
            x0, y0, x1, y1 = (int(round(v)) for v in hand["box"])
            mask[y0:y1 + 1, x0:x1 + 1] = 255
        sample.members["hand_mask.png"] = _png(mask)
        sample.info["hand_mask"] = {"member": "hand_mask.png", "method": "test boxes"}
    return sample


def write_hand_shards(out_dir: str | Path, num_shards: int = 1, per_shard: int = 4, width: int = 64,
                      height: int = 64, seed: int = 0, without_hands_every: int = 0) -> list[str]:
    """Shards under out_dir/shards/; with without_hands_every=k, every k-th sample lists no hands."""
    rng = np.random.default_rng(seed)
    paths, index = [], 0
    for shard in range(num_shards):
        task_id = f"{shard:05d}-000"
        spec = TaskSpec(task_id=task_id, input_path="test", input_format="test", start=0, stop=per_shard)
        samples = []
        for _ in range(per_shard):
            no_hands = bool(without_hands_every) and index % without_hands_every == without_hands_every - 1
            samples.append(make_sample(rng, f"h{index:06d}", width, height, with_mask=index % 2 == 0,
                                       hands=not no_hands))
            index += 1
        write_shard(str(out_dir), TaskPayload(spec=spec, samples=samples))
        paths.append(str(Path(out_dir) / "shards" / f"{task_id}.tar"))
    return paths
