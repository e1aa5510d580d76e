"""Tiny contract-conformant shards (DESIGN §5) for trainer tests: random images, plausible skeletons,
16-bit depth and RGB normal maps, written with webdataset.TarWriter like the curation pipeline does."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import webdataset as wds
from PIL import Image

from humanverse.shards.encoding import NORMAL_CONVENTION, encode_depth16, encode_normal


def random_keypoints(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """133 x [x, y, score]: a person-sized cloud around a random centre, most points confident."""
    centre = rng.uniform([0.3 * width, 0.3 * height], [0.7 * width, 0.7 * height])
    xy = centre + rng.normal(0, [0.12 * width, 0.2 * height], size=(133, 2))
    score = rng.uniform(0.5, 1.0, size=(133, 1))
    return np.concatenate([xy, score], axis=1).astype(np.float32)


def make_sample(rng: np.random.Generator, key: str, width: int, height: int, drop: str | None = None) -> dict:
    image = (rng.random((height, width, 3)) * 255).astype(np.uint8)
    jpg = io.BytesIO()
    Image.fromarray(image).save(jpg, format="JPEG", quality=90)
    depth_png, depth_range = encode_depth16(rng.random((height, width)))
    normals = rng.normal(size=(height, width, 3))
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    keypoints = random_keypoints(rng, width, height)
    meta = {
        "source": {"dataset": "test", "url": f"http://example.invalid/{key}.jpg", "id": key},
        "width": width,
        "height": height,
        "aesthetic": 5.0,
        "persons": [{
            "box": [float(keypoints[:, 0].min()), float(keypoints[:, 1].min()),
                    float(keypoints[:, 0].max()), float(keypoints[:, 1].max())],
            "score": 0.9,
            "area_frac": 0.3,
            "keypoints": keypoints.tolist(),
        }],
        "human_area_frac": 0.3,
        "depth": {"range": depth_range, "model": "random"},
        "normal": {"convention": NORMAL_CONVENTION, "model": "random"},
    }
    sample = {
        "__key__": key,
        "jpg": jpg.getvalue(),
        "txt": f"a photo of person {key}",
        "json": json.dumps(meta),
        "depth.png": depth_png,
        "normal.png": encode_normal(normals),
    }
    if drop == "persons":
        meta.pop("persons")
        sample["json"] = json.dumps(meta)
    elif drop is not None:
        sample.pop(drop)
    return sample


def write_shards(out_dir: str | Path, num_shards: int = 2, per_shard: int = 4, width: int = 48, height: int = 40,
                 seed: int = 0, broken_every: int = 0) -> list[str]:
    """Write num_shards tars; with broken_every=k, every k-th sample lacks an annotation (cycling reasons)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    reasons = ["depth.png", "persons", "normal.png"]
    paths, index = [], 0
    for shard in range(num_shards):
        path = out_dir / f"{shard:05d}-000.tar"
        with wds.TarWriter(str(path)) as sink:
            for _ in range(per_shard):
                broken = broken_every and index % broken_every == broken_every - 1
                drop = reasons[(index // broken_every) % len(reasons)] if broken else None
                sink.write(make_sample(rng, f"s{index:06d}", width, height, drop))
                index += 1
        paths.append(str(path))
    return paths
