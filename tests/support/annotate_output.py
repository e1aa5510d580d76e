"""Add pose, depth and normal annotations to a copy of a curated output, in the shard contract's format
(DESIGN §5), for tests of readers and the report while the pipeline's own pose/depth/normal stages are
not part of the demo run.

The values are placeholders, not model output: each kept person gets a real human pose, the
COCO-WholeBody ground truth of one person from the shared evaluation kit (mmpose's test annotations)
rescaled into its box (random keypoints when the kit is absent); depth is a bottom-near ramp with persons
nearer; normals follow that depth's gradient. Only the encodings and the member layout are the point.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from humanverse.shards.encoding import NORMAL_CONVENTION, encode_depth16, encode_normal

WHOLEBODY_GT = Path(__file__).resolve().parents[3] / "shared/realdata/people/annotations/mmpose_coco_test_coco_wholebody.json"
_PARTS = ("keypoints", "foot_kpts", "face_kpts", "lefthand_kpts", "righthand_kpts")  # COCO-WholeBody 133 order


def reference_pose() -> np.ndarray:
    """133 x [x, y, score] normalised to the person's box (0..1), or a random cloud without the kit."""
    if not WHOLEBODY_GT.exists():
        rng = np.random.default_rng(0)
        return np.concatenate([rng.uniform(0.1, 0.9, (133, 2)), np.ones((133, 1))], axis=1)
    anns = json.loads(WHOLEBODY_GT.read_text())["annotations"]
    best = max(anns, key=lambda a: sum(sum(v > 0 for v in a[p][2::3]) for p in _PARTS))
    kp = np.concatenate([np.asarray(best[p], np.float64).reshape(-1, 3) for p in _PARTS])
    x, y, w, h = best["bbox"]
    return np.stack([(kp[:, 0] - x) / w, (kp[:, 1] - y) / h, (kp[:, 2] > 0).astype(np.float64)], axis=1)


def placeholder_depth(width: int, height: int, boxes: list[list[float]]) -> np.ndarray:
    inv = np.tile(np.linspace(0.2, 0.6, height)[:, None], (1, width))
    for x0, y0, x1, y1 in boxes:
        inv[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))] += 0.4
    return inv


def normals_from_depth(inv_depth: np.ndarray) -> np.ndarray:
    gy, gx = np.gradient(inv_depth * 50.0)
    n = np.stack([-gx, gy, np.ones_like(gx)], axis=2)
    return n / np.linalg.norm(n, axis=2, keepdims=True)


def annotate_output(src: str, dst: Path) -> str:
    """Copy the output folder src to dst and add keypoints, depth.png and normal.png to every kept sample."""
    shutil.copytree(src, dst)
    pose = reference_pose()
    for tar_path in sorted((dst / "shards").glob("*.tar")):
        samples = _read_tar(tar_path)
        for key, members in samples.items():
            meta = json.loads(members["json"])
            w, h = meta["width"], meta["height"]
            for person in meta["persons"]:
                x0, y0, x1, y1 = person["box"]
                kp = pose * np.array([x1 - x0, y1 - y0, 1.0]) + np.array([x0, y0, 0.0])
                person["keypoints"] = np.round(kp, 2).tolist()
            depth_png, depth_range = encode_depth16(placeholder_depth(w, h, [p["box"] for p in meta["persons"]]))
            normal_png = encode_normal(normals_from_depth(placeholder_depth(w, h, [p["box"] for p in meta["persons"]])))
            meta["depth"] = {"range": depth_range, "model": "test-placeholder"}
            meta["normal"] = {"convention": NORMAL_CONVENTION, "model": "test-placeholder"}
            meta.setdefault("models", {}).update(pose="test-placeholder", depth="test-placeholder",
                                                 normal="test-placeholder")
            members.update({"json": json.dumps(meta).encode(), "depth.png": depth_png, "normal.png": normal_png})
        _write_tar(tar_path, samples)
        _update_members_column(tar_path.with_suffix(".parquet"), samples)
    return str(dst)


def _read_tar(path: Path) -> dict[str, dict[str, bytes]]:
    samples: dict[str, dict[str, bytes]] = {}
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            key, suffix = m.name.split(".", 1)
            samples.setdefault(key, {})[suffix] = tar.extractfile(m).read()
    return samples


def _write_tar(path: Path, samples: dict[str, dict[str, bytes]]) -> None:
    with tarfile.open(path, "w") as tar:
        for key, members in samples.items():
            for suffix in sorted(members):
                info = tarfile.TarInfo(f"{key}.{suffix}")
                info.size = len(members[suffix])
                tar.addfile(info, io.BytesIO(members[suffix]))


def _update_members_column(parquet: Path, samples: dict[str, dict[str, bytes]]) -> None:
    table = pq.read_table(parquet)
    rows = table.column("members").to_pylist()
    keys = table.column("key").to_pylist()
    new = [sorted(samples[k]) if k in samples else m for k, m in zip(keys, rows)]
    idx = table.schema.get_field_index("members")
    field = table.schema.field("members")
    table = table.set_column(idx, field, pa.array(new, type=field.type))
    pq.write_table(table, parquet)

