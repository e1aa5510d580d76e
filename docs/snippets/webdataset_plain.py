"""Reading humanverse shards with plain webdataset, no humanverse import (quoted by docs/loading.md; run by
tests/docs/test_webdataset_plain.py on a shard holding every member curate writes, and on a hostile one).

WARNING: webdataset's default decoders run pickle.loads on `.pyd`/`.pickle` members and
torch.load(weights_only=False) on `.pth` ones, and inflate `.gz` members without limit. The allow-list below
(`select_files`) drops every other member before it is read; `.decode(only=...)` would not: it passes
unlisted members through as raw bytes. webdataset still reads each listed member whole, with no size cap:
for shards made by others, use humanverse.shards.loader.ShardDataset instead.
"""

import io
import re

import numpy as np
import webdataset as wds
from PIL import Image

MEMBERS = re.compile(r"[^./]+\.(jpg|txt|json|outpaint\.(jpg|json)|(outpaint\.)?(depth(_[a-z0-9]+)?|normal|mask)\.png"
                     r"|parts\.png|hand_mask\.png)")  # "{key}.{member}" for every member curate writes


def depth16(key, data):
    """depth.png, depth_omnidata.png, ... (and outpaint.depth*.png): 16-bit -> float32 H x W in [0, 1]."""
    if re.search(r"\.depth(_[a-z0-9]+)?\.png$", key):
        return np.asarray(Image.open(io.BytesIO(data))).astype(np.float32) / 65535


def gray8(data):
    """mask.png (probability x 255), parts.png (class ids), hand_mask.png (255 = hand): uint8 H x W as stored."""
    return np.asarray(Image.open(io.BytesIO(data)))


def humanverse_webdataset(urls, skip_keys=frozenset()):
    """skip_keys: e.g. the duplicates `humanverse dedup` marked, dropped before any pixel is decoded."""
    return (wds.WebDataset(urls, shardshuffle=False, select_files=lambda name: MEMBERS.fullmatch(name) is not None)
            .select(lambda sample: sample["__key__"] not in skip_keys)
            .decode(depth16, wds.handle_extension("mask.png parts.png hand_mask.png", gray8), "pil"))


if __name__ == "__main__":
    import glob

    import pyarrow.parquet as pq

    dropped = set()  # duplicates marked by `humanverse dedup`, if the run has been through it
    if glob.glob("out/dedup/duplicates.parquet"):
        dropped = set(pq.read_table("out/dedup/duplicates.parquet", columns=["key"])["key"].to_pylist())
    # a list of shards (webdataset does not expand "*"), or a brace pattern: "out/shards/00000-{00000..00099}.tar"
    for s in humanverse_webdataset(sorted(glob.glob("out/shards/*.tar")), skip_keys=dropped):
        s["jpg"], s["normal.png"]  # PIL RGB; normals: n = np.asarray(img) / 127.5 - 1
        s["depth.png"]             # float32 H x W in [0, 1], as every depth*.png member
        s["json"], s["txt"]        # dict, str
        s.get("mask.png"), s.get("parts.png"), s.get("hand_mask.png")  # uint8 H x W, where the run wrote them
        print(s["__key__"], sorted(k for k in s if not k.startswith("__")))
