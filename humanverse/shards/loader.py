"""Read curated shards in PyTorch: one pass over shard URLs (local paths or any fsspec URL), each sample
decoded to tensors, with shards split across DataLoader workers and distributed ranks.

    from torch.utils.data import DataLoader
    from humanverse.shards.loader import ShardDataset, collate_samples
    loader = DataLoader(ShardDataset("out/shards/*.tar"), batch_size=8, num_workers=4, collate_fn=collate_samples)

This is the general reader (finite, in order, every member decoded as stored). Shards may come from others
(humanverse/shards/untrusted.py): members are capped by header size, names checked, images decoded under
the reader's pixel limit, json must be an object; a bad sample is skipped and counted in `skipped`. Samples marked as
duplicates by `humanverse dedup` (OUT/dedup/duplicates.parquet beside OUT/shards/) are skipped unless
`keep_duplicates=True`. Training streams resampled,
cropped batches through humanverse.train.common.shard_data instead. Depth goes through decode_depth16:
webdataset's stock "pil" decoder would turn the 16-bit PNG into 8-bit RGB.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
import webdataset as wds

from humanverse.shards.dedup_marks import load_duplicate_keys
from humanverse.shards.encoding import decode_depth16, decode_mask8, decode_normal
from humanverse.shards.members import member_kind
from humanverse.shards.untrusted import (
    MAX_MEMBER_BYTES, MAX_PIXELS, decode_array, decode_each, json_object, shard_samples,
)
from humanverse.sources.globs import expand


def _tensor_image(data: bytes, mode: str, max_pixels: int) -> torch.Tensor:
    """An 8-bit image as uint8 C x H x W (mode RGB or L, as stored), under the reader's pixel cap."""
    arr = np.array(decode_array(data, mode, max_pixels))
    return torch.from_numpy(arr.reshape(arr.shape[0], arr.shape[1], -1)).permute(2, 0, 1).contiguous()


def decode_member(suffix: str, data: bytes, max_pixels: int = MAX_PIXELS) -> Any:
    """By what the member is (shards/members.py), not by its last extension:
    jpg, outpaint.jpg -> uint8 3xHxW RGB; depth*.png (every depth model, outpaint's too) -> float32 1xHxW in
    [0, 1], 16 bits kept; normal.png -> float32 3xHxW in [-1, 1]; mask.png -> float32 1xHxW person probability
    in [0, 1]; parts.png -> uint8 1xHxW class ids; hand_mask.png -> bool 1xHxW; json -> dict; txt -> str;
    a member we never write stays bytes (never unpickled or otherwise interpreted). Images decode under
    max_pixels; raises untrusted.BadSample for a bad member."""
    kind = member_kind(suffix)
    if kind == "rgb":
        return _tensor_image(data, "RGB", max_pixels)
    if kind == "depth16":
        return torch.from_numpy(decode_depth16(data, max_pixels))[None]
    if kind == "normal":
        return torch.from_numpy(decode_normal(data, max_pixels)).permute(2, 0, 1).contiguous()
    if kind == "probability8":
        return torch.from_numpy(decode_mask8(data, max_pixels))[None]
    if kind == "classes8":
        return _tensor_image(data, "L", max_pixels)
    if kind == "binary8":
        return _tensor_image(data, "L", max_pixels) >= 128
    if kind == "json":
        return json_object(data)
    if kind == "text":
        return data.decode("utf-8", errors="replace")
    return data


def decode_sample(raw: dict[str, Any], max_pixels: int = MAX_PIXELS) -> dict[str, Any]:
    return {k: (v if k.startswith("__") else decode_member(k, v, max_pixels)) for k, v in raw.items()}


class ShardDataset(torch.utils.data.IterableDataset):
    """Every sample of the shards once. Shards are dealt to ranks, then to DataLoader workers, so each
    sample is read exactly once in all when len(shards) >= ranks x workers (a worker with no shard yields
    nothing).

    Duplicates marked by `humanverse dedup` are skipped: the marks found beside the shards, or the
    `duplicates` parquet(s) given; `keep_duplicates=True` reads every sample.

    Bad samples (untrusted.py) are skipped; `skipped` counts them by reason in this process (each DataLoader
    worker logs its own)."""

    def __init__(self, shards: str | Iterable[str], decode: bool = True, keep_duplicates: bool = False,
                 duplicates: str | Iterable[str] | None = None, max_member_bytes: int = MAX_MEMBER_BYTES,
                 max_pixels: int = MAX_PIXELS):
        super().__init__()
        self.urls = expand(shards, what="shards", must_exist=False)
        self.decode = decode
        self.skip_keys = frozenset() if keep_duplicates else load_duplicate_keys(self.urls, duplicates)
        self.max_member_bytes, self.max_pixels = max_member_bytes, max_pixels
        self.skipped: Counter[str] = Counter()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        pipeline = wds.DataPipeline(
            wds.SimpleShardList(self.urls),
            wds.split_by_node,
            wds.split_by_worker,
            wds.filters.pipelinefilter(shard_samples)(self.skipped, self.max_member_bytes),
        )
        wanted = (raw for raw in pipeline if raw.get("__key__") not in self.skip_keys)
        if not self.decode:
            yield from wanted
        else:
            yield from decode_each(wanted, lambda raw: decode_sample(raw, self.max_pixels), self.skipped)


def collate_samples(batch: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Images differ in size, so a batch is a dict of lists (resize or crop in your own transform)."""
    keys = {k for sample in batch for k in sample}
    return {k: [sample.get(k) for sample in batch] for k in sorted(keys)}
