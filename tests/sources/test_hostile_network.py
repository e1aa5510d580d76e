"""Issue 15's network attacks (F1, F2, F8 and the response labels) against the downloader, over real
sockets on loopback: the hostile server trickles, stalls and sends malformed bytes; nothing is mocked."""

import socket
import time

import pytest

from humanverse.sources.download import DownloadConfig, Downloader
from tests.support.hostile_server import HostileServer, unresponsive_addresses

pytestmark = [pytest.mark.timeout(60), pytest.mark.reliability]


def config(**overrides) -> DownloadConfig:
    settings = {"connect_timeout_s": 5.0, "read_timeout_s": 5.0, "total_timeout_s": 3.0, "retries": 2,
                "backoff_s": 0.01, "allow_private_urls": True}
    return DownloadConfig(**(settings | overrides))


@pytest.fixture(scope="module")
def hostile():
    with HostileServer() as srv:
        yield srv


@pytest.mark.parametrize("route", ["trickle-status", "trickle-headers"])
def test_trickled_status_line_or_headers_end_within_the_total_deadline(hostile, route):
    # F1: every byte arrives well inside read_timeout_s, so only the total deadline can end this
    with Downloader(config(total_timeout_s=3.0)) as downloader:
        started = time.monotonic()
        result = downloader.fetch(hostile.url(f"{route}?every=0.2"))
        took = time.monotonic() - started
    assert (result.reason, result.transient) == ("timeout", True)
    assert took < 3.0 + 1.0, f"took {took:.1f} s with total_timeout_s=3"


def test_many_unresponsive_addresses_cost_one_deadline_and_are_capped():
    # F2: a host resolving to six addresses that never answer a SYN
    with unresponsive_addresses(6) as (addresses, port):
        asked: list[str] = []

        def resolver(host: str) -> list[str]:
            asked.append(host)
            return addresses

        tried: list[str] = []
        real_connect = socket.socket.connect

        def recording_connect(sock, address):
            tried.append(address[0])
            return real_connect(sock, address)

        cfg = config(connect_timeout_s=1.0, total_timeout_s=2.5, retries=5, max_addresses=2)
        with Downloader(cfg, resolver=resolver) as downloader:
            socket.socket.connect = recording_connect
            try:
                started = time.monotonic()
                result = downloader.fetch(f"http://many.hostile.test:{port}/a.jpg")
                took = time.monotonic() - started
            finally:
                socket.socket.connect = real_connect
    assert (result.reason, result.transient) == ("timeout", True)
    assert took < 2.5 + 1.0, f"took {took:.1f} s with total_timeout_s=2.5"
    assert asked == ["many.hostile.test"]  # one lookup, and the connections went to its checked answer
    assert set(tried) <= set(addresses[:2])  # never more addresses than max_addresses
    assert set(tried) == set(addresses[:2])


def test_dns_lookup_is_bounded_by_the_total_deadline():
    def hanging_resolver(host: str) -> list[str]:
        time.sleep(30)
        return ["127.0.0.1"]

    with Downloader(config(total_timeout_s=1.5), resolver=hanging_resolver) as downloader:
        started = time.monotonic()
        result = downloader.fetch("http://slow-dns.hostile.test/a.jpg")
        took = time.monotonic() - started
    assert (result.reason, result.transient) == ("dns_error", True)
    assert took < 1.5 + 1.0


@pytest.mark.parametrize("route", ["redirect-open-ipv6", "redirect-raw-byte"])
def test_unusable_redirect_is_a_bad_redirect_row(hostile, route):
    # F8: these raised ValueError / UnicodeDecodeError out of fetch
    with Downloader(config()) as downloader:
        result = downloader.fetch(hostile.url(route))
        many = downloader.fetch_many([hostile.url(route)] * 3)
    assert (result.reason, result.transient, result.data) == ("bad_redirect", False, None)
    assert [r.reason for r in many] == ["bad_redirect"] * 3


@pytest.mark.parametrize(("route", "reason"), [("many-headers", "bad_headers"), ("long-header", "bad_headers"),
                                               ("short-body", "incomplete_body")])
def test_malformed_responses_are_permanent_and_not_retried(hostile, route, reason):
    before = hostile.hits(route)
    with Downloader(config(retries=3)) as downloader:
        result = downloader.fetch(hostile.url(route))
    assert (result.reason, result.transient) == (reason, False)
    assert hostile.hits(route) - before == 1
