import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from tests.support.http_server import LocalHTTPServer


@pytest.fixture(scope="session")
def ray_local():
    """One embedded local Ray (loopback only) for the whole session; curate() reuses it."""
    from humanverse.pipeline import ray_runtime

    ray_runtime.init(None, num_cpus=2)
    yield
    import ray

    ray.shutdown()


def ultralytics_assets() -> Path:
    import ultralytics

    return Path(ultralytics.__file__).parent / "assets"


@pytest.fixture(scope="session")
def image_server(tmp_path_factory):
    """Real photos (bus: HOG finds its people; zidane: it does not), a small image, and failure routes."""
    root = tmp_path_factory.mktemp("www")
    for name in ("bus.jpg", "zidane.jpg"):
        shutil.copyfile(ultralytics_assets() / name, root / name)
    Image.new("RGB", (120, 90), (30, 60, 90)).save(root / "small.png")
    with LocalHTTPServer(root) as srv:
        yield srv


def laion_rows(srv, repeat: int = 1):
    urls = [
        (srv.url("img/bus.jpg"), "people by a bus"),
        (srv.url("img/zidane.jpg"), "two men"),
        (srv.url("img/small.png"), "too small"),
        (srv.url("status/404"), "dead link"),
        (srv.url("html"), "a web page"),
    ] * repeat
    return [{"SAMPLE_ID": i, "URL": u, "TEXT": t, "WIDTH": None, "HEIGHT": None} for i, (u, t) in enumerate(urls)]


@pytest.fixture
def laion_input(tmp_path, image_server):
    path = tmp_path / "part-00000.parquet"
    schema = pa.schema([("SAMPLE_ID", pa.int64()), ("URL", pa.string()), ("TEXT", pa.string()),
                        ("WIDTH", pa.int32()), ("HEIGHT", pa.int32())])
    pq.write_table(pa.Table.from_pylist(laion_rows(image_server, repeat=2), schema=schema), path)
    return str(path)


@pytest.fixture(autouse=True)
def _loopback_env(monkeypatch):
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
