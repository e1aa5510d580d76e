"""A run folder whose shards hold every member the curate stages can write (shards/members.EVERY_MEMBER),
encoded by the stages' own encoders and written by the production shard writer, with its dataset card; and a
hostile shard whose extra members would run code or inflate in a reader that decodes everything."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

from humanverse.core.sample import Sample
from humanverse.core.task import TaskPayload, TaskSpec
from humanverse.shards.encoding import encode_depth16, encode_mask8, encode_normal
from humanverse.shards.members import EVERY_MEMBER
from humanverse.shards.writer import write_shard
from humanverse.stages.hand_mask import encode_binary
from humanverse.stages.parts import encode_classes

H, W = 24, 32


def _jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (H, W, 3), dtype=np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def expected_arrays(seed: int) -> dict[str, np.ndarray]:
    """What each map member of sample `seed` holds, before encoding."""
    rng = np.random.default_rng(seed)
    normals = rng.normal(size=(H, W, 3))
    return {"depth": np.linspace(0.1, 9.0, H * W).reshape(H, W) + seed,
            "normal": normals / np.linalg.norm(normals, axis=-1, keepdims=True),
            "mask": rng.random((H, W)), "parts": rng.integers(0, 29, (H, W)), "hand_mask": rng.random((H, W)) > 0.7}


def encoded_members(seed: int) -> dict[str, bytes]:
    a = expected_arrays(seed)
    out: dict[str, bytes] = {}
    for suffix in EVERY_MEMBER:
        if suffix in ("jpg", "txt", "json"):
            continue  # the writer makes these from the sample
        stem = suffix.removeprefix("outpaint.").removesuffix(".png")
        if suffix == "outpaint.jpg":
            out[suffix] = _jpeg(seed + 100)
        elif suffix == "outpaint.json":
            out[suffix] = json.dumps({"width": W, "height": H, "persons": [], "maps": {}}).encode()
        elif stem.startswith("depth"):
            out[suffix] = encode_depth16(a["depth"])[0]
        elif stem == "normal":
            out[suffix] = encode_normal(a["normal"])
        elif stem == "mask":
            out[suffix] = encode_mask8(a["mask"])
        elif stem == "parts":
            out[suffix] = encode_classes(a["parts"])
        elif stem == "hand_mask":
            out[suffix] = encode_binary(a["hand_mask"])
        else:
            raise AssertionError(f"no encoder here for {suffix}: add one when a stage writes a new member")
    return out


def write_every_member_run(root: Path, shards: int = 2, per_shard: int = 3, only_last_has: tuple[str, ...] = ()) -> str:
    """OUT/ with `shards` complete shards of `per_shard` samples, each sample holding every member (those in
    `only_last_has`: only the last sample of each shard), plus run.json and README.md as curate writes them."""
    from humanverse import config
    from humanverse.dataset_card import write_dataset_card
    from humanverse.shards import funnel

    out = str(root / "out")
    for t in range(shards):
        task_id = f"00000-{t:05d}"
        samples = []
        for i in range(per_shard):
            seed = t * per_shard + i
            s = Sample(key=f"00000{seed:09d}", task_id=task_id, source={"dataset": "laion", "url": f"http://e/{seed}",
                                                                         "row": seed}, caption=f"person {seed}")
            s.jpeg, s.width, s.height = _jpeg(seed), W, H
            s.persons = [{"box": [1, 2, 20, 22], "score": 0.9, "area_frac": 0.5, "keypoints": [[5, 5, 0.9]] * 133}]
            s.scores = {"n_persons": 1, "human_area_frac": 0.5, "max_person_area_frac": 0.5}
            s.members.update({k: v for k, v in encoded_members(seed).items()
                              if i == per_shard - 1 or k not in only_last_has})
            samples.append(s)
        write_shard(out, TaskPayload(TaskSpec(task_id, "in.parquet", "laion", 0, per_shard), samples))
    cfg = config.resolve("demo", None, [])
    record = {"inputs": [{"path": "/home/someone/in.parquet", "format": "laion", "rows": shards * per_shard}],
              "status": "complete", "config_digest": cfg.digest(), "input_digest": "x", "humanverse_version": "test"}
    (Path(out) / "run.json").write_text(json.dumps(record))
    write_dataset_card(out, cfg, record, funnel.totals(funnel.load_stats(out)))
    return out


class _Payload:
    """Unpickling it runs code: it writes `path`."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (exec, (f"open({self.path!r}, 'w').write('pickle ran')",))


def write_hostile_shard(path: Path, marker: Path, gz_bytes: int = 64 << 20,
                        hostile: tuple[str, ...] = ("pyd", "pickle", "pth", "txt.gz")) -> str:
    """One sample with a safe jpg/json plus the `hostile` members: ones that run code (`.pyd`, `.pickle`,
    `.pth` pickles writing `marker`) or inflate (`.txt.gz` of `gz_bytes` zeros)."""
    payload = pickle.dumps(_Payload(str(marker)))
    bad = {"pyd": payload, "pickle": payload, "pth": payload,
           "txt.gz": gzip.compress(b"\0" * gz_bytes, compresslevel=9)}
    members = {"jpg": _jpeg(0), "json": b'{"persons": []}', **{k: bad[k] for k in hostile}}
    with tarfile.open(path, "w") as tar:
        for suffix, data in members.items():
            info = tarfile.TarInfo(f"00000000000000.{suffix}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(path)
