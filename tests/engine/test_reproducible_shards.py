"""Two curate runs of the same input and config write byte-identical tars and parquet sidecars
(stats.json and run.json hold timings and are exempt). Local executor: the bytes come from the writer and
the stages, the same on either engine."""

import hashlib

import pytest

from humanverse import config as cfgmod
from humanverse.engine.curate import curate

pytestmark = pytest.mark.reliability


def digests(shards) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(shards.iterdir()) if p.suffix in (".tar", ".parquet")}


def test_reruns_write_byte_identical_shards(laion_input, tmp_path):
    cfg = cfgmod.resolve("demo", None, ["input.rows_per_task=4"])
    runs = []
    for name in ("first", "second"):
        result = curate(cfg, [laion_input], str(tmp_path / name), allow_private_urls=True, engine="local")
        assert result.ok and result.summary["counts"]["ok"] >= 1
        runs.append(digests(tmp_path / name / "shards"))
    assert runs[0] == runs[1]
    assert sum(name.endswith(".tar") for name in runs[0]) == 3 and sum(n.endswith(".parquet") for n in runs[0]) == 3


@pytest.mark.slow
def test_ray_and_the_local_engine_write_the_same_bytes(ray_local, laion_input, tmp_path, monkeypatch):
    """Depth and normal maps included: each stage runs torch with the threads its config names on either
    engine (core/device.cpu_threads), so the float sums, and the PNGs, are the same. ~60 s."""
    # as in a user's shell (importing ultralytics, as the test support does, sets it to 1 in this process)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cfg = cfgmod.resolve("demo", None, ["input.rows_per_task=4", "aesthetic.enabled=false", "nsfw.enabled=false",
                                        "outpaint.mode=never", "pose=null", "mask=null"])
    runs = {}
    for engine in ("local", "ray"):
        result = curate(cfg, [laion_input], str(tmp_path / engine), allow_private_urls=True, engine=engine)
        assert result.ok and result.summary["counts"]["ok"] >= 1
        runs[engine] = digests(tmp_path / engine / "shards")
    assert runs["local"] == runs["ray"]
