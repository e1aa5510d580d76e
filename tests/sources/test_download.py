"""The downloader against a real HTTP server on loopback: retries, caps, timeouts and the guard on the wire."""

import importlib.util
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
import urllib3.util.connection
from pydantic import ValidationError

from humanverse.sources.download import DownloadConfig, Downloader, robots_tag_opts_out
from tests.support.http_server import HTML_PAGE, TINY_PNG, LocalHTTPServer

# ultralytics ships two real photos; find them without importing ultralytics (it probes the network).
ASSETS = Path(importlib.util.find_spec("ultralytics").submodule_search_locations[0]) / "assets"
# a broken deadline should fail, not hang the suite; these are the hostile-network tests of the reliability suite
pytestmark = [pytest.mark.timeout(30), pytest.mark.reliability]
CAP = 256 * 1024  # above both photos (bus.jpg is 134 KiB)


def fast_config(**overrides) -> DownloadConfig:
    """Small timeouts and backoff so the whole file runs in seconds; loopback allowed (the server lives there)."""
    settings = {
        "connect_timeout_s": 1.0,
        "read_timeout_s": 0.5,
        "total_timeout_s": 5.0,
        "retries": 2,
        "backoff_s": 0.01,
        "allow_private_urls": True,
        "max_bytes": CAP,
    }
    return DownloadConfig(**(settings | overrides))


@pytest.fixture(scope="module")
def server():
    with LocalHTTPServer(ASSETS) as srv:
        yield srv


@pytest.fixture
def downloader():
    with Downloader(fast_config()) as d:
        yield d


def test_image_bytes_arrive_unchanged(server, downloader):
    result = downloader.fetch(server.url("img/bus.jpg"))
    assert result.ok and not result.transient
    assert result.data == (ASSETS / "bus.jpg").read_bytes()
    assert (result.http_status, result.content_type) == (200, "image/jpeg")
    assert result.final_url == result.url == server.url("img/bus.jpg")
    assert 0 < result.seconds < 2


@pytest.mark.parametrize("code", [400, 403, 404, 410])
def test_client_errors_are_final_and_not_retried(server, downloader, code):
    before = server.hits(f"status/{code}")
    result = downloader.fetch(server.url(f"status/{code}"))
    assert (result.reason, result.transient, result.http_status, result.data) == (f"http_{code}", False, code, None)
    assert server.hits(f"status/{code}") == before + 1


def test_flaky_server_recovers_within_retries(server, downloader):
    result = downloader.fetch(server.url("flaky/recovers/2"))
    assert result.ok and result.data == TINY_PNG
    assert server.hits("flaky/recovers/2") == 3


def test_flakier_than_retries_allow_fails_transiently(server, downloader):
    result = downloader.fetch(server.url("flaky/stays-down/3"))
    assert (result.reason, result.transient) == ("http_503", True)
    assert server.hits("flaky/stays-down/3") == 3


@pytest.mark.parametrize("code", [429, 500, 502, 503, 504])
@pytest.mark.parametrize("retries", [0, 2])
def test_transient_statuses_are_retried_then_reported(code, retries):
    with LocalHTTPServer() as srv, Downloader(fast_config(retries=retries)) as downloader:
        result = downloader.fetch(srv.url(f"status/{code}"))
        assert (result.reason, result.transient, result.http_status) == (f"http_{code}", True, code)
        assert srv.hits(f"status/{code}") == retries + 1


def test_other_5xx_is_transient_but_not_retried(server, downloader):
    before = server.hits("status/501")
    result = downloader.fetch(server.url("status/501"))
    assert (result.reason, result.transient) == ("http_501", True)
    assert server.hits("status/501") == before + 1


def test_slow_server_times_out_after_retries(server):
    with Downloader(fast_config(read_timeout_s=0.3, retries=1)) as downloader:
        result = downloader.fetch(server.url("slow/1.5"))
    assert (result.reason, result.transient, result.data) == ("timeout", True, None)
    assert server.hits("slow/1.5") == 2
    assert result.seconds < 1.4  # two attempts of 0.3 s, not the server's 1.5 s


def test_trickling_body_is_cut_at_the_total_timeout(server):
    # one byte every 0.05 s never trips the 0.5 s read timeout; only the wall cap stops it
    with Downloader(fast_config(total_timeout_s=0.6)) as downloader:
        result = downloader.fetch(server.url("drip/200/10"))
    assert (result.reason, result.transient) == ("timeout", True)
    assert 0.55 < result.seconds < 1.5


def test_backoff_longer_than_the_budget_is_not_waited_for():
    with LocalHTTPServer() as srv, Downloader(fast_config(backoff_s=30, total_timeout_s=2)) as downloader:
        result = downloader.fetch(srv.url("status/503"))
        assert (result.reason, result.transient) == ("http_503", True)
        assert srv.hits("status/503") == 2  # the first retry needs no backoff, the second would sleep 60 s
        assert result.seconds < 2


def test_retry_after_is_capped_by_the_budget():
    with LocalHTTPServer() as srv, Downloader(fast_config(total_timeout_s=2)) as downloader:
        result = downloader.fetch(srv.url("status/429?retry_after=3600"))
        assert (result.reason, result.transient) == ("http_429", True)
        assert srv.hits("status/429") == 1
        assert result.seconds < 2


def test_html_is_returned_as_bytes_for_the_decoder_to_judge(server, downloader):
    result = downloader.fetch(server.url("html"))
    assert result.ok and result.data == HTML_PAGE
    assert result.content_type == "image/jpeg"


@pytest.mark.parametrize("route", ["big", "big-nolength"])
def test_oversized_bodies_are_abandoned_early(server, downloader, route):
    size = 64 * 1024**2  # far beyond what loopback socket buffers hold, so a full send would be visible
    result = downloader.fetch(server.url(f"{route}/{size}"))
    assert (result.reason, result.transient, result.data) == ("too_large", False, None)
    assert server.wait_idle(10)
    assert server.bytes_sent(f"{route}/{size}") < size // 4


@pytest.mark.parametrize("route", ["big", "big-nolength"])
def test_a_body_of_exactly_max_bytes_is_kept(server, downloader, route):
    result = downloader.fetch(server.url(f"{route}/{CAP}"))
    assert result.ok and result.data == bytes(CAP)


def test_declared_oversize_fails_without_reading_the_body(server, downloader):
    result = downloader.fetch(server.url(f"big/{CAP + 1}"))
    assert result.reason == "too_large"
    assert result.seconds < 1


def test_empty_body_is_a_failure(server, downloader):
    result = downloader.fetch(server.url("big/0"))
    assert (result.reason, result.transient, result.data) == ("empty_body", False, None)


@pytest.mark.parametrize("tag", ["noai", "NoImageAI", "otherbot: noai", "noindex, nofollow, noimageai"])
def test_opt_out_is_honoured(server, downloader, tag):
    result = downloader.fetch(server.url(f"noai?tag={quote(tag)}"))
    assert (result.reason, result.transient, result.data) == ("opted_out", False, None)


def test_opt_out_can_be_ignored_by_choice(server):
    with Downloader(fast_config(respect_opt_out=False)) as downloader:
        result = downloader.fetch(server.url("noai"))
    assert result.ok and result.data == TINY_PNG


@pytest.mark.parametrize(
    ("value", "opts_out"),
    [
        (None, False),
        ("", False),
        ("noindex, nofollow", False),
        ("noairline", False),
        ("all", False),
        ("noai", True),
        ("NOAI", True),
        ("googlebot: noindex, otherbot: noimageai", True),
        ("unavailable_after: 25 Jun 2030 15:00:00 PST, noai", True),
    ],
)
def test_robots_tag_parsing(value, opts_out):
    assert robots_tag_opts_out(value) is opts_out


def test_loopback_is_refused_by_default(server):
    before = server.hits("img/bus.jpg")
    with Downloader(fast_config(allow_private_urls=False)) as downloader:
        result = downloader.fetch(server.url("img/bus.jpg"))
    assert (result.reason, result.transient, result.data) == ("blocked_address", False, None)
    assert server.hits("img/bus.jpg") == before


def test_default_config_refuses_loopback(server):
    with Downloader() as downloader:
        assert downloader.fetch(server.url("img/bus.jpg")).reason == "blocked_address"


def test_redirects_are_followed(server, downloader):
    target = server.url("img/zidane.jpg")
    result = downloader.fetch(server.url(f"redirect?to={quote(target, safe='')}&status=301"))
    assert result.ok and result.data == (ASSETS / "zidane.jpg").read_bytes()
    assert result.final_url == target and result.url != target


def test_redirect_bodies_are_not_read(server, downloader):
    size = 64 * 1024**2
    result = downloader.fetch(server.url(f"redirect?body={size}&to=%2Fimg%2Fbus.jpg"))
    assert result.ok and result.data == (ASSETS / "bus.jpg").read_bytes()
    assert server.wait_idle(10)
    assert server.bytes_sent("redirect") < size // 4


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://[fd00:ec2::254]/latest/"]
)
def test_redirect_to_metadata_is_refused_even_with_private_allowed(server, downloader, target, monkeypatch):
    connected_to = []
    real_connect = urllib3.util.connection.create_connection

    def recording_connect(address, *args, **kwargs):
        connected_to.append(address[0])
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", recording_connect)
    result = downloader.fetch(server.url(f"redirect?to={quote(target, safe='')}"))
    assert (result.reason, result.transient, result.data) == ("blocked_address", False, None)
    assert set(connected_to) <= {"127.0.0.1"}  # refused before any packet left for the metadata address


def test_redirect_from_a_trusted_host_into_loopback_is_refused(server):
    # the first hop is on a trusted loopback address; the redirect points at another, untrusted one
    with LocalHTTPServer(ASSETS, host="127.0.0.2") as trusted:
        config = fast_config(allow_private_urls=False, trusted_networks=("127.0.0.2/32",))
        with Downloader(config) as downloader:
            assert downloader.fetch(trusted.url("img/bus.jpg")).ok
            before = server.hits("img/bus.jpg")
            result = downloader.fetch(trusted.url(f"redirect?to={quote(server.url('img/bus.jpg'), safe='')}"))
        assert result.reason == "blocked_address"
        assert trusted.hits("redirect") == 1
        assert server.hits("img/bus.jpg") == before


def test_connections_go_only_to_the_checked_addresses(server):
    # one lookup per hop, through the guard; a second answer (rebinding) is never asked for
    answers = iter([["127.0.0.1"], ["93.184.216.34"]])
    with Downloader(fast_config(), resolver=lambda host: next(answers)) as downloader:
        result = downloader.fetch(f"http://rebind.example:{server.port}/img/bus.jpg")
    assert result.ok and result.data == (ASSETS / "bus.jpg").read_bytes()


def test_dns_rebinding_is_caught_at_connect(server, monkeypatch):
    # the guard's lookup says "public", but the network delivers the connection to loopback
    from humanverse.sources import download

    real_open = download._open_connection
    monkeypatch.setattr(download, "_open_connection", lambda address, port, *rest: real_open("127.0.0.1", port, *rest))
    before = server.hits("img/bus.jpg")
    with Downloader(fast_config(allow_private_urls=False), resolver=lambda host: ["93.184.216.34"]) as downloader:
        result = downloader.fetch(f"http://public.example:{server.port}/img/bus.jpg")
    assert (result.reason, result.transient) == ("blocked_address", False)
    assert server.hits("img/bus.jpg") == before


def test_redirect_chain_longer_than_max_redirects_is_cut(server):
    # each hop's relative Location peels one "/redirect?to=" off: five redirects, then the image
    chain = "redirect?to=" + "/redirect?to=" * 4 + "/img/bus.jpg"
    before = server.hits("redirect")
    with Downloader(fast_config(max_redirects=3)) as downloader:
        result = downloader.fetch(server.url(chain))
    assert (result.reason, result.transient, result.data) == ("too_many_redirects", False, None)
    assert server.hits("redirect") == before + 4  # the first request and three followed hops
    with Downloader(fast_config(max_redirects=5)) as downloader:
        assert downloader.fetch(server.url(chain)).data == (ASSETS / "bus.jpg").read_bytes()


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.jpg", "not a url", "http://", "http://exa mple.com/", "http://[::1"]
)
def test_malformed_urls(downloader, url):
    result = downloader.fetch(url)
    assert (result.reason, result.transient, result.data) == ("bad_url", False, None)


def test_dns_failure_is_reported(downloader, monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    result = downloader.fetch("http://no-such-host.example/a.jpg")
    assert (result.reason, result.transient) == ("dns_error", False)


def test_refused_connection_is_transient():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Downloader(fast_config(retries=0)) as downloader:
        result = downloader.fetch(f"http://127.0.0.1:{port}/a.jpg")
    assert (result.reason, result.transient) == ("connection_error", True)


def test_fetch_many_keeps_order(server, downloader):
    paths = ["img/bus.jpg", "status/404", "img/zidane.jpg", "html", "noai", "flaky/order/1", "img/missing.jpg"]
    results = downloader.fetch_many(server.url(p) for p in paths)
    assert [r.url for r in results] == [server.url(p) for p in paths]
    assert [r.reason for r in results] == [None, "http_404", None, None, "opted_out", None, "http_404"]
    assert results[0].data == (ASSETS / "bus.jpg").read_bytes()
    assert results[2].data == (ASSETS / "zidane.jpg").read_bytes()
    assert downloader.fetch_many([]) == []


def test_fetch_many_respects_max_in_flight():
    with LocalHTTPServer() as srv, Downloader(fast_config(max_in_flight=3, read_timeout_s=2)) as downloader:
        started = time.monotonic()
        results = downloader.fetch_many([srv.url("slow/0.3")] * 9)
        elapsed = time.monotonic() - started
        assert all(r.ok for r in results)
        assert 2 <= srv.peak_in_flight <= 3
        assert elapsed >= 0.85  # nine 0.3 s requests, three at a time
        assert srv.hits("slow/0.3") == 9


def test_concurrent_fetch_many_calls_share_one_pool_of_max_in_flight_threads():
    """Several tasks at once in one fetch actor (fetch.tasks_per_actor): max_in_flight bounds the requests
    and the threads of the whole worker, not of each call."""
    def fetch_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("humanverse-fetch_")}

    before = fetch_threads()  # other tests' downloaders may still be open
    seen: set[threading.Thread] = set()
    with LocalHTTPServer() as srv, Downloader(fast_config(max_in_flight=3, read_timeout_s=2)) as downloader:
        with ThreadPoolExecutor(3) as callers:
            calls = [callers.submit(downloader.fetch_many, [srv.url("slow/0.2")] * 3) for _ in range(3)]
            while not all(c.done() for c in calls):
                seen |= fetch_threads() - before
                time.sleep(0.01)
        assert all(r.ok for c in calls for r in c.result())
        assert srv.peak_in_flight <= 3
        assert 1 <= len(seen) <= 3


def test_closed_downloader_refuses_work(server):
    downloader = Downloader(fast_config())
    with downloader:
        assert downloader.fetch(server.url("img/bus.jpg")).ok
    with pytest.raises(RuntimeError):
        downloader.fetch(server.url("img/bus.jpg"))


def test_config_defaults_and_validation():
    config = DownloadConfig()
    assert (config.max_bytes, config.max_in_flight, config.retries, config.total_timeout_s) == (32 * 1024**2, 32, 2, 60)
    assert not config.allow_private_urls and config.respect_opt_out
    assert "noai" in config.user_agent
    for bad in [
        {"max_in_flight": 0},
        {"read_timeout_s": 0},
        {"retries": -1},
        {"max_bytes": 0},
        {"trusted_networks": ["not-a-network"]},
        {"unknown_key": 1},
    ]:
        with pytest.raises(ValidationError):
            DownloadConfig(**bad)
