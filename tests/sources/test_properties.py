"""Property-based tests (Hypothesis) of the metadata readers and of the URL parser and guard.

Readers: over random parquet schemas, types and values (nulls, NaN, inf, huge ints, nested types,
non-UTF-8 binary, empty and 1 MB strings), every input row ends as exactly one output row and writing the
shard never fails. URLs: over random URL-ish strings and DNS answers, fetch never raises and never
connects to an address the guard refuses. Both suites are bounded (max_examples, deadline): well under
60 s together on a 2-core machine.
"""

import socket
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from humanverse.stages.metadata import MetadataFilter, MetadataFilterConfig
from humanverse.core.task import TaskPayload, TaskSpec
from humanverse.shards.writer import write_shard
from humanverse.sources.download import DownloadConfig, Downloader
from humanverse.sources.parquet_urls import ParquetURLReader
from humanverse.sources.url_guard import URLGuard
from tests.support.http_server import LocalHTTPServer

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

ROWS = 3
scalars = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=20),
    st.just("x" * 1_000_000),
    st.binary(max_size=20),
    st.booleans(),
)
values = st.one_of(scalars, st.lists(st.integers(-5, 5), max_size=3),
                   st.fixed_dictionaries({"a": st.one_of(st.none(), st.integers(-5, 5))}))
LAION_COLUMNS = ["URL", "TEXT", "SAMPLE_ID", "WIDTH", "HEIGHT", "punsafe", "pwatermark", "AESTHETIC_SCORE", "NSFW"]


def column(cells: list) -> pa.Array:
    """An arrow column of the cells, or of their reprs when arrow cannot type them together."""
    try:
        return pa.array(cells)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return pa.array([None if c is None else repr(c) for c in cells])


@SETTINGS
@given(st.dictionaries(st.sampled_from(LAION_COLUMNS[1:]), st.lists(values, min_size=ROWS, max_size=ROWS),
                       max_size=len(LAION_COLUMNS) - 1),
       st.lists(values, min_size=ROWS, max_size=ROWS))
def test_every_parquet_row_ends_as_one_output_row(tmp_path_factory, table_cells, url_cells):
    root = tmp_path_factory.mktemp("prop")
    table = pa.table({"URL": column(url_cells), **{name: column(cells) for name, cells in table_cells.items()}})
    path = root / "in.parquet"
    pq.write_table(table, path)
    spec = TaskSpec("00000-00000", str(path), "laion", 0, ROWS)
    task = TaskPayload(spec, ParquetURLReader("laion", {}).read(spec))
    MetadataFilter(MetadataFilterConfig()).run_task(task)
    for sample in task.samples:  # stand-in for the fetch: every survivor fails it, as an unreachable URL would
        if sample.alive:
            sample.fail("fetch", "connection_error", transient=True)
    stats = write_shard(str(root / "out"), task)
    assert stats["input"] == ROWS and stats["ok"] + stats["rejected"] + stats["error"] == ROWS
    out = pq.read_table(root / "out" / "shards" / "00000-00000.parquet")
    assert out.num_rows == ROWS and len(set(out.column("key").to_pylist())) == ROWS


hosts = st.one_of(
    st.sampled_from(["127.0.0.1", "localhost", "[::1]", "169.254.169.254", "10.0.0.1", "0x7f000001",
                     "metadata.google.internal", "evil.test", "[::ffff:127.0.0.1]", "[fe80::1%25eth0]", ""]),
    st.text(max_size=12),
)
urls = st.one_of(
    st.builds(lambda scheme, host, port, path: f"{scheme}://{host}{port}/{path}",
              st.sampled_from(["http", "https", "ftp", "file", "HTTP", "gopher", ""]), hosts,
              st.sampled_from(["", ":1", ":0", ":65536", ":99999", ":-1", ":x"]), st.text(max_size=12)),
    st.builds(lambda host, path: f"http://{host}/{path}", hosts, st.text(max_size=12)),
    st.text(max_size=40),
)
answers = st.lists(st.sampled_from(["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00:ec2::254",
                                    "93.184.216.34", "not-an-ip", "0.0.0.0"]), max_size=4)


@pytest.fixture(scope="module")
def server():
    with LocalHTTPServer() as srv:
        yield srv


@settings(SETTINGS, max_examples=200)
@given(st.one_of(urls, urls.map(lambda u: ("redirect", u))), answers)
def test_fetch_never_raises_and_never_connects_to_a_refused_address(server, url, dns_answer):
    if isinstance(url, tuple):  # a real server redirecting to the random URL
        url = server.url(f"redirect?to={quote(url[1], safe='')}")
    guard_config = DownloadConfig(allow_private_urls=False, trusted_networks=("127.0.0.1/32",), retries=0,
                                  connect_timeout_s=0.2, read_timeout_s=0.2, total_timeout_s=0.5)
    guard = URLGuard.from_strings(False, ("127.0.0.1/32",))
    connected: list[str] = []
    real_connect = socket.socket.connect

    def recording_connect(sock, address):
        connected.append(address[0])
        if guard.address_allowed(address[0]):
            return real_connect(sock, address)
        raise AssertionError(f"connected to refused {address[0]}")

    socket.socket.connect = recording_connect
    try:
        with Downloader(guard_config, resolver=lambda host: list(dns_answer)) as downloader:
            result = downloader.fetch(url)
    finally:
        socket.socket.connect = real_connect
    assert result.reason is not None or result.data
    assert not result.reason or not result.reason.startswith("internal_error"), (url, result.reason)
    assert all(guard.address_allowed(a) for a in connected)
