"""Many large images through a deliberately small object store: the run completes and accounts for
every row (pixels travel between actors as JPEG, and Ray Data backpressure bounds what is in flight)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from tests.support.http_server import LocalHTTPServer

pytestmark = pytest.mark.reliability

DRIVER = textwrap.dedent('''
    import sys
    from humanverse import config
    from humanverse.engine.curate import curate
    cfg = config.resolve("demo", None, ["input.rows_per_task=4", "run.object_store_mb=128", "run.num_cpus=2",
                                        "person.min_persons=0", "person.min_area_frac=0", "pose=null", "depth=null",
                                        "normal=null"])
    result = curate(cfg, [sys.argv[1]], sys.argv[2], allow_private_urls=True)
    c = result.summary["counts"]
    print("COUNTS", c["input"], c["ok"])
    sys.exit(0 if result.ok else 1)
''')


@pytest.mark.slow  # slow (~60 s): keeps the default suite within its 5 minutes; run with scripts/test.sh -m slow
def test_large_images_small_object_store(tmp_path):
    rng = np.random.default_rng(0)
    www = tmp_path / "www"
    www.mkdir()
    for i in range(4):  # 6 Mpx noise photos: 18 MB each decoded, ~5 MB as JPEG (noise compresses badly)
        Image.fromarray(rng.integers(0, 255, (2000, 3000, 3), dtype=np.uint8)).save(www / f"big{i}.jpg", quality=90)
    with LocalHTTPServer(www) as srv:
        urls = [srv.url(f"img/big{i % 4}.jpg") for i in range(16)]
        parquet = tmp_path / "in.parquet"
        pq.write_table(pa.table({"URL": urls, "TEXT": ["noise"] * len(urls)}), parquet)
        env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}
        run = subprocess.run([sys.executable, "-c", DRIVER, str(parquet), str(tmp_path / "out")], env=env,
                             capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    counts = [line for line in run.stdout.splitlines() if line.startswith("COUNTS")][0].split()
    assert counts[1:] == ["16", "16"]
