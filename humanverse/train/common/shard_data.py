"""Stream contract shards (DESIGN §5) into aligned training samples: image, caption, pose map, depth, normal.

Both training stages read shards through this module. It is an infinite, resampled stream (shards drawn
with replacement, then split by node and by DataLoader worker), because at LAION scale an "epoch" has no
meaning and a resampled stream never hangs waiting for the one slow shard. Depth is decoded with our 16-bit
decoder: webdataset's "pil" decoder would quietly turn it into 8-bit RGB. A sample that lacks an
annotation is skipped and counted per reason; every sample carries its worker's running counts so the main
process can report them without any cross-process plumbing. Shards may come from others
(humanverse/shards/untrusted.py): members are capped by header size and names checked before anything is
read, images decode under the pixel cap, json must be an object, and a sample that breaks in any other way
is skipped and counted too (`decode_error:<exception>`), never the run.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import cv2
import numpy as np
import torch
import webdataset as wds

from humanverse.shards.dedup_marks import load_duplicate_keys
from humanverse.shards.encoding import decode_depth16, decode_normal
from humanverse.shards.untrusted import (
    BadSample, decode_array, declared_size, json_object, persons_of, shard_samples, skip_reason,
)
from humanverse.sources.globs import expand
from humanverse.train.common.config import DataConfig
from humanverse.train.common.joint_crop import crop_keypoints, crop_resize, random_crop_box, scale_keypoints
from humanverse.train.common.pose_render import NUM_KEYPOINTS, render_pose

log = logging.getLogger(__name__)

REQUIRED_MEMBERS = ("jpg", "json", "depth.png", "normal.png")

Decoder = Callable[[dict[str, Any], Any, random.Random], dict[str, Any]]
"""(raw sample, data config, rng) -> training sample, raising SkipSample with a reason."""


class SkipSample(BadSample):
    """A sample that cannot be trained on; the message is the reason it is counted under."""


def decode_sample(raw: dict[str, Any], cfg: DataConfig, rng: random.Random) -> dict[str, Any]:
    """One raw webdataset sample (member name -> bytes) to aligned float tensors at cfg.resolution.

    Returns image in [-1, 1] (3xHxW), pose in [0, 1] (3xHxW), depth in [0, 1] (1xHxW), normal in [-1, 1]
    (3xHxW), caption and key, plus SDXL's micro-conditioning: original_size (h, w of the source image) and
    crop_top_left (y, x of the crop in the source image scaled to the output size), which the refiner feeds
    its base model as SDXL was trained. Raises SkipSample when something the trainer needs is missing or broken.
    """
    missing = [name for name in REQUIRED_MEMBERS if name not in raw]
    if missing:
        raise SkipSample(f"missing_{missing[0].replace('.png', '')}")
    meta = read_meta(raw)
    try:
        persons = persons_of(meta)
    except BadSample:
        raise SkipSample("bad_keypoints") from None
    if not persons:
        raise SkipSample("no_persons")
    try:
        keypoints = [np.asarray(p["keypoints"], dtype=np.float32).reshape(NUM_KEYPOINTS, 3) for p in persons]
    except (KeyError, ValueError, TypeError):
        raise SkipSample("bad_keypoints") from None

    try:
        image = read_image(raw, cfg)
        depth = decode_depth16(raw["depth.png"], cfg.max_image_pixels)
        normal = decode_normal(raw["normal.png"], cfg.max_image_pixels)
    except SkipSample:
        raise
    except BadSample as bad:
        raise SkipSample(bad.reason) from None
    except Exception:  # noqa: BLE001 - any undecodable member makes the sample unusable, not the run
        raise SkipSample("decode_error") from None

    height, width = image.shape[:2]
    # Keypoints are in original-image pixels; the image in the shard may have been stored at another size.
    src_w, src_h = declared_size(meta, width, height)
    if (src_w, src_h) != (width, height):
        keypoints = [scale_keypoints(kp, width / src_w, height / src_h) for kp in keypoints]
    if depth.shape != (height, width):
        depth = _resize(depth, width, height)
    if normal.shape[:2] != (height, width):
        normal = _resize(normal, width, height)

    box = random_crop_box(width, height, cfg.crop_scale, cfg.crop_ratio, rng)
    size = cfg.resolution
    image = crop_resize(image, box, size)
    depth = crop_resize(depth, box, size)
    normal = crop_resize(normal, box, size)
    keypoints = [crop_keypoints(kp, box, size) for kp in keypoints]
    pose = render_pose(keypoints, size, size, score_threshold=cfg.keypoint_score_threshold)

    return {
        "key": raw["__key__"],
        "caption": caption_of(raw),
        "image": torch.from_numpy(image).permute(2, 0, 1).float() / 127.5 - 1.0,
        "pose": torch.from_numpy(pose).permute(2, 0, 1).float() / 255.0,
        "depth": torch.from_numpy(np.ascontiguousarray(depth))[None].float(),
        "normal": torch.from_numpy(np.ascontiguousarray(normal)).permute(2, 0, 1).float(),
        "original_size": torch.tensor([src_h, src_w], dtype=torch.float32),
        "crop_top_left": torch.tensor([box.y0 * size / box.height, box.x0 * size / box.width], dtype=torch.float32),
    }


def read_meta(raw: dict[str, Any]) -> dict[str, Any]:
    """The sample's json member as an object (untrusted.json_object), or SkipSample("bad_json")."""
    try:
        return json_object(raw["json"])
    except BadSample:
        raise SkipSample("bad_json") from None


def read_image(raw: dict[str, Any], cfg: DataConfig) -> np.ndarray:
    """The jpg member as H x W x 3 uint8 RGB, refusing decompression bombs (SkipSample("too_many_pixels"))."""
    try:
        return decode_array(raw["jpg"], "RGB", cfg.max_image_pixels)
    except BadSample as bad:
        raise SkipSample(bad.reason) from None


def caption_of(raw: dict[str, Any]) -> str:
    caption = raw.get("txt", b"")
    caption = caption.decode("utf-8", errors="replace") if isinstance(caption, bytes) else str(caption)
    return caption.strip()


def raw_size(sample: dict[str, Any]) -> int:
    """Bytes a raw sample holds: its members' encoded bytes (what a shuffle buffer keeps alive)."""
    return sum(len(v) for v in sample.values() if isinstance(v, (bytes, bytearray, str)))


def shuffle_bounded(samples: Iterator[dict[str, Any]], max_count: int, max_bytes: int,
                    rng: random.Random) -> Iterator[dict[str, Any]]:
    """Reservoir-style shuffle whose buffer is bounded by count AND bytes (webdataset's counts samples only).

    The buffer fills until either bound is reached, then every new sample swaps with a random buffered one,
    which is yielded. A single sample larger than max_bytes still passes through (the buffer never blocks)."""
    if max_count <= 0:
        yield from samples
        return
    buffer: list[dict[str, Any]] = []
    held = 0
    for sample in samples:
        buffer.append(sample)
        held += raw_size(sample)
        while len(buffer) > max_count or (held > max_bytes and len(buffer) > 1):
            index = rng.randrange(len(buffer))
            buffer[index], buffer[-1] = buffer[-1], buffer[index]
            out = buffer.pop()
            held -= raw_size(out)
            yield out
    rng.shuffle(buffer)
    yield from buffer


def _resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(array, (width, height), interpolation=cv2.INTER_LINEAR)


class ShardStream(torch.utils.data.IterableDataset):
    """An endless stream of decoded samples from shards; safe with many DataLoader workers and many nodes."""

    def __init__(self, shards: str | list[str], cfg: DataConfig, seed: int = 0, decode: Decoder | None = None):
        """decode: raw sample -> training sample (default decode_sample; the hand methods bring their own)."""
        super().__init__()
        self.decode = decode or decode_sample
        self.urls = expand(shards, what="--data", must_exist=False)
        self.cfg = cfg
        self.seed = seed
        # `humanverse dedup` marks (OUT/dedup/duplicates.parquet beside OUT/shards/): skipped unless kept.
        self.skip_keys = frozenset() if cfg.keep_duplicates else load_duplicate_keys(self.urls)

    def _raw_samples(self, seed: int, skipped: Counter | None = None) -> wds.DataPipeline:
        """`skipped` counts what the tar reader leaves out (unsafe names, over-cap members, bad tars)."""
        return wds.DataPipeline(
            # Each (node, worker) draws its own shard sequence; the splitters then keep streams disjoint.
            wds.ResampledShards(self.urls, seed=seed, deterministic=True),
            wds.split_by_node,
            wds.split_by_worker,
            wds.filters.pipelinefilter(shard_samples)(skipped, skip_unopenable=True),
            wds.select(lambda sample: sample.get("__key__") not in self.skip_keys),
            partial(shuffle_bounded, max_count=self.cfg.shuffle_buffer,
                    max_bytes=int(self.cfg.shuffle_buffer_mb * 2**20), rng=random.Random(seed)),
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        worker = torch.utils.data.get_worker_info()
        worker_id = worker.id if worker is not None else 0
        rank = wds.utils.pytorch_worker_info()[0]
        seed = self.seed * 100_003 + rank * 1000 + worker_id
        rng = random.Random(seed)
        skipped: Counter[str] = Counter()
        for raw in self._raw_samples(seed, skipped):
            try:
                sample = self.decode(raw, self.cfg, rng)
            except Exception as why:  # noqa: BLE001 - one bad sample never stops training
                skipped[skip_reason(why)] += 1
                if sum(skipped.values()) in (1, 10, 100, 1000) or sum(skipped.values()) % 10_000 == 0:
                    log.warning("worker %d skipped %d samples so far: %s", worker_id, sum(skipped.values()),
                                dict(skipped))
                continue
            sample["worker"] = rank * 1000 + worker_id
            sample["skipped"] = sum(skipped.values())
            yield sample


class SkipTally:
    """Total samples skipped across all workers, from the running counts each sample carries."""

    def __init__(self) -> None:
        self._latest: dict[int, int] = {}

    def update(self, batch: dict[str, Any]) -> int:
        for worker, skipped in zip(batch["worker"].tolist(), batch["skipped"].tolist()):
            self._latest[worker] = max(self._latest.get(worker, 0), skipped)
        return self.total

    @property
    def total(self) -> int:
        return sum(self._latest.values())


def make_dataloader(shards: str | list[str], cfg: DataConfig, seed: int,
                    decode: Decoder | None = None) -> torch.utils.data.DataLoader:
    """Not passed through accelerator.prepare: the stream already splits itself by node and worker."""
    return torch.utils.data.DataLoader(
        ShardStream(shards, cfg, seed=seed, decode=decode),
        batch_size=cfg.batch_size,
        num_workers=cfg.num_workers,
        persistent_workers=cfg.num_workers > 0,
        pin_memory=torch.cuda.is_available(),
    )
