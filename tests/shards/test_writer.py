import io
import json
import tarfile

import numpy as np
import pyarrow.parquet as pq
import pytest
import webdataset as wds
from PIL import Image

from humanverse.core.sample import Sample
from humanverse.core.task import TaskPayload, TaskSpec
from humanverse.shards import atomic
from humanverse.shards.encoding import encode_depth16
from humanverse.shards.writer import shard_paths, write_shard


def jpeg(color=(200, 10, 10)):
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buf, format="JPEG")
    return buf.getvalue()


def task_with(n_ok=2):
    samples = []
    for i in range(n_ok):
        s = Sample(key=f"0000000000000{i}", task_id="00000-00000", source={"dataset": "laion", "url": f"http://e/{i}", "row": i},
                   caption=f"person {i}")
        s.jpeg, s.width, s.height = jpeg(), 32, 24
        s.persons = [{"box": [1, 2, 20, 22], "score": 0.9, "area_frac": 0.5}]
        s.scores = {"n_persons": 1, "human_area_frac": 0.5, "max_person_area_frac": 0.5, "aesthetic": np.float32(5.0)}
        s.members["depth.png"], s.info["depth"] = encode_depth16(np.random.rand(24, 32))
        samples.append(s)
    bad = Sample(key="00000000000099", task_id="00000-00000", source={"url": "http://e/404", "row": 99})
    bad.fail("fetch", "http_404")
    rej = Sample(key="00000000000098", task_id="00000-00000", source={"url": "http://e/x", "row": 98})
    rej.reject("person", "no_person")
    return TaskPayload(TaskSpec("00000-00000", "in.parquet", "laion", 0, n_ok + 2), samples + [bad, rej])


def test_shard_contract(tmp_path):
    out = str(tmp_path / "out")
    stats = write_shard(out, task_with())
    p = shard_paths(out, "00000-00000")
    assert stats["input"] == 4 and stats["ok"] == 2 and stats["rejected"] == 1 and stats["error"] == 1
    assert stats["reasons"] == {"error:fetch:http_404": 1, "rejected:person:no_person": 1}
    with tarfile.open(p["tar"]) as tar:
        names = tar.getnames()
    # a sample's members are adjacent (what WebDataset readers rely on), nothing but ok samples
    assert sorted(names[:4]) == ["00000000000000.depth.png", "00000000000000.jpg", "00000000000000.json",
                                 "00000000000000.txt"]
    assert len(names) == 8 and all(n.startswith("0000000000000") for n in names)
    ds = list(wds.WebDataset(p["tar"], shardshuffle=False))
    assert len(ds) == 2
    meta = json.loads(ds[0]["json"])
    assert meta["source"]["url"] == "http://e/0" and meta["persons"][0]["box"] == [1, 2, 20, 22]
    assert meta["aesthetic"] == 5.0 and meta["depth"]["max"] <= 1.0
    table = pq.read_table(p["parquet"])
    assert table.num_rows == 4
    rows = {r["key"]: r for r in table.to_pylist()}
    assert rows["00000000000099"]["status"] == "error" and rows["00000000000099"]["reason"] == "http_404"
    assert rows["00000000000000"]["members"] == ["depth.png", "jpg", "json", "txt"]
    assert json.loads(open(p["stats"]).read()) == stats


@pytest.mark.reliability
def test_unsafe_member_names_refused(tmp_path):
    t = task_with(1)
    t.samples[0].members["../evil"] = b"x"
    with pytest.raises(ValueError, match="member suffix"):
        write_shard(str(tmp_path), t)
    t = task_with(1)
    t.samples[0].key = "../../etc"
    with pytest.raises(ValueError, match="unsafe sample key"):
        write_shard(str(tmp_path), t)
    # nothing was published under a final name
    assert not list((tmp_path / "shards").glob("*.tar")) and not list((tmp_path / "shards").glob(".*"))


@pytest.mark.reliability
def test_crash_mid_write_leaves_no_final_file(tmp_path):
    final = str(tmp_path / "shards" / "x.tar")
    with pytest.raises(RuntimeError):
        with atomic.staged_file(final) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert list((tmp_path / "shards").iterdir()) == []


def test_stale_temporaries_removed(tmp_path):
    d = tmp_path / "shards"
    d.mkdir()
    (d / ".a.tar.tmp-1234").write_bytes(b"x")
    (d / "a.tar").write_bytes(b"y")
    assert atomic.remove_stale_temporaries(str(d)) == 1
    assert [p.name for p in d.iterdir()] == ["a.tar"]


def test_tar_is_byte_for_byte_what_webdataset_writes(tmp_path):
    """The writer lays members out with the standard library (no torch in the writer actor); a reader
    of webdataset tars must not see the difference, down to the bytes."""
    task = task_with(3)
    write_shard(str(tmp_path), task)
    ours = (tmp_path / "shards" / "00000-00000.tar").read_bytes()
    buf = io.BytesIO()
    with wds.TarWriter(buf, encoder=False, mtime=0) as sink:
        for sample in task.samples:
            if sample.status == "ok":
                with tarfile.open(fileobj=io.BytesIO(ours)) as tar:
                    record = {m.name.split(".", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers()
                              if m.name.startswith(sample.key + ".")}
                sink.write({"__key__": sample.key, **record})
    assert ours == buf.getvalue()
