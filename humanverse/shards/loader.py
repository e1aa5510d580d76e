"""Read curated shards in PyTorch: one pass over shard URLs (local paths or any fsspec URL), each sample
decoded to tensors, with shards split across DataLoader workers and distributed ranks.

    from torch.utils.data import DataLoader
    from humanverse.shards.loader import ShardDataset, collate_samples
    loader = DataLoader(ShardDataset("out/shards/*.tar"), batch_size=8, num_workers=4, collate_fn=collate_samples)

This is the general reader (finite, in order, every member decoded as stored). Training streams resampled,
cropped batches through humanverse.train.common.shard_data instead. Depth goes through decode_depth16:
webdataset's stock "pil" decoder would turn the 16-bit PNG into 8-bit RGB.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import fsspec
import numpy as np
import torch
import webdataset as wds
from PIL import Image

from humanverse.shards.encoding import decode_depth16, decode_normal
from humanverse.sources.globs import expand


def decode_member(suffix: str, data: bytes) -> Any:
    """jpg -> uint8 3xHxW, depth.png -> float32 1xHxW in [0, 1], normal.png -> float32 3xHxW in [-1, 1],
    json -> dict, txt -> str; anything else stays bytes."""
    if suffix == "jpg":
        with Image.open(io.BytesIO(data)) as im:
            return torch.from_numpy(np.array(im.convert("RGB"))).permute(2, 0, 1).contiguous()
    if suffix == "depth.png":
        return torch.from_numpy(decode_depth16(data))[None]
    if suffix == "normal.png":
        return torch.from_numpy(decode_normal(data)).permute(2, 0, 1).contiguous()
    if suffix == "json":
        return json.loads(data)
    if suffix == "txt":
        return data.decode("utf-8", errors="replace")
    return data


def decode_sample(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if k.startswith("__") else decode_member(k, v)) for k, v in raw.items()}


def _open_with_fsspec(samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """webdataset's own opener knows files, pipes and curl; fsspec adds s3://, gs://, memory://, ..."""
    for sample in samples:
        with fsspec.open(sample["url"], "rb") as stream:
            yield {**sample, "stream": stream}


class ShardDataset(torch.utils.data.IterableDataset):
    """Every sample of the shards once. Shards are dealt to ranks, then to DataLoader workers, so each
    sample is read exactly once in all when len(shards) >= ranks x workers (a worker with no shard yields
    nothing)."""

    def __init__(self, shards: str | Iterable[str], decode: bool = True):
        super().__init__()
        self.urls = expand(shards, what="shards", must_exist=False)
        self.decode = decode

    def __iter__(self) -> Iterator[dict[str, Any]]:
        pipeline = wds.DataPipeline(
            wds.SimpleShardList(self.urls),
            wds.split_by_node,
            wds.split_by_worker,
            wds.filters.pipelinefilter(_open_with_fsspec)(),
            wds.filters.pipelinefilter(wds.tariterators.tar_file_expander)(),
            wds.filters.pipelinefilter(wds.tariterators.group_by_keys)(),
        )
        for raw in pipeline:
            yield decode_sample(raw) if self.decode else raw


def collate_samples(batch: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Images differ in size, so a batch is a dict of lists (resize or crop in your own transform)."""
    keys = {k for sample in batch for k in sample}
    return {k: [sample.get(k) for sample in batch] for k in sorted(keys)}
