"""Run photos through the real pipeline for scoring: loopback HTTP, decode, detect, person rule, pose, shards.

Also the GT-box path: the same pose stage (constructed from the same config, outside Ray) handed the
ground-truth boxes instead of the detector's, so pose errors and detection errors can be told apart.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from humanverse.config import CurateConfig
from humanverse.loopback_server import serve_folder

RELAXED = [
    # every annotated person can count: no person-count or area rule, any size of photo
    "person.min_persons=0", "person.max_persons=1000", "person.min_area_frac=0",
    "metadata.min_width=1", "metadata.min_height=1", "resolution.min_width=1", "resolution.min_height=1",
    # scoring stages that only filter are off: accuracy is about the annotations
    "aesthetic.enabled=false", "nsfw.enabled=false", "clip.keep_embeddings=false",
]
POSE_ONLY = ["outpaint.mode=never", "depth=null", "normal=null", "parts=null", "mask=null"]
"""With RELAXED: the stages between a URL and its keypoints, nothing else (fast enough for CI)."""


def write_url_parquet(names: list[str], base_url: str, target: Path) -> Path:
    """A LAION-format parquet: one row per photo, the file name as its caption (to find it again)."""
    schema = pa.schema([("SAMPLE_ID", pa.int64()), ("URL", pa.string()), ("TEXT", pa.string())])
    rows = [{"SAMPLE_ID": i, "URL": f"{base_url}/{n}", "TEXT": n} for i, n in enumerate(names)]
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), target)
    return target


def read_results(output: Path) -> dict[str, dict]:
    """file name -> {status, reason, json (the shard's {key}.json, None unless ok)} for every input row."""
    sidecars = pq.read_table(sorted((output / "shards").glob("*.parquet"))).to_pylist()
    metas: dict[str, dict] = {}
    for tar in sorted((output / "shards").glob("*.tar")):
        with tarfile.open(tar) as t:
            for member in t.getmembers():
                if member.name.endswith(".json") and "." not in member.name[: -len(".json")]:
                    metas[member.name[: -len(".json")]] = json.loads(t.extractfile(member).read())
    return {r["caption"]: {"status": r["status"], "reason": r["reason"], "json": metas.get(r["key"])}
            for r in sidecars}


def curate_folder(folder: Path, names: list[str], output: Path, cfg: CurateConfig,
                  engine: str = "ray") -> dict[str, dict]:
    """Serve `folder` on loopback and curate the named photos in it with `cfg` on `engine`; results as
    read_results."""
    from humanverse.engine.curate import curate

    output.mkdir(parents=True, exist_ok=True)
    with serve_folder(folder) as base:
        parquet = write_url_parquet(names, base, output.parent / f"{output.name}-input.parquet")
        result = curate(cfg, [str(parquet)], str(output / "run"), allow_private_urls=True, engine=engine)
    if not result.ok:
        raise RuntimeError(f"curate failed: {result.failed}")
    return read_results(output / "run")


def pose_on_boxes(cfg: CurateConfig, photos: list[tuple[bytes, list[list[float]]]]) -> list[np.ndarray]:
    """The pose stage of `cfg` on given boxes (e.g. GT), on exactly the pixels the pipeline would decode.

    photos: (file bytes, xyxy boxes). Returns per photo a persons x 133 x 3 array in original pixels.
    """
    from humanverse.stages.pose import PoseStage
    from humanverse.imaging.decode import decode_image
    from humanverse.core.sample import Sample

    stage = PoseStage(cfg.pose, cfg.models_dir)
    stage.setup()
    out = []
    for i, (data, boxes) in enumerate(photos):
        decoded, reason = decode_image(data, cfg.fetch.decode)
        if decoded is None:
            raise ValueError(f"photo {i} does not decode: {reason}")
        sample = Sample(key=f"{i:09d}", task_id="gt-boxes", source={})
        sample.set_decoded(decoded.jpeg, None)
        sample.width, sample.height = decoded.width, decoded.height
        sample.persons = [{"box": list(map(float, b))} for b in boxes]
        stage.process([sample])
        out.append(np.array([p["keypoints"] for p in sample.persons], dtype=np.float32).reshape(-1, 133, 3))
    return out
