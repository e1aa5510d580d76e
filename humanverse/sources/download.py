"""Fetch image URLs politely, safely and within bounds, turning every per-URL failure into a reason code.

A crawl over LAION/COYO meets every failure the web has: dead hosts, 404s, throttling, servers that
trickle bytes forever, multi-gigabyte "images", redirects into the cluster's own network, and sites that
opted out of AI training. None of these may stop or hang a task, so `fetch` returns a FetchResult with a
reason and a `transient` flag (what `--retry-failed` re-attempts) instead of raising.

How the pieces fit:
- Redirects are followed by a bounded loop here, each hop prepared by the Session and sent through its
  adapter. Session.send would read every redirect response's body into memory with no size cap (even
  with allow_redirects=False, to build Response.next); the loop closes them unread, and it is the one
  obvious place where every hop's URL meets the guard and the deadline.
- Connections go only to the addresses the guard resolved and checked for this hop (no second lookup, so
  no DNS answer can change in between: rebinding), at most max_addresses of them, and the socket's peer is
  checked again once connected.
- urllib3's Retry retries transient failures with exponential backoff inside one hop.
- A per-URL wall-clock budget (total_timeout_s) bounds connect, waiting, retries, backoff sleeps, redirect
  hops and the body together. urllib3 has no per-call hook that reaches its retries and timeouts, but a
  fetch runs start to end on one thread, so they read the deadline from a thread-local `_FetchClock`.
  Socket timeouts bound each read, not a server that sends one byte just before each would expire (a
  status line or headers trickled forever), so a watchdog thread shuts the socket down when the deadline
  passes during the TLS handshake or while the headers are read. The guard's DNS lookup runs inside the
  same deadline (url_guard.resolve_host).
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import logging
import math
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin

import requests
from pydantic import Field, field_validator
from requests.adapters import HTTPAdapter
from requests.utils import requote_uri
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    InvalidHeader,
    LocationValueError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
    SSLError,
)
from urllib3.util import Retry, Timeout, parse_url

from humanverse.config_base import Section
from humanverse.sources.url_guard import BAD_URL, DNS_ERROR, Resolver, URLGuard, URLRefused

log = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses urllib3 retries; every other 4xx is the server's final answer."""

BODY_CHUNK = 64 * 1024
_MIN_CONNECT_TIMEOUT_S = 0.001  # a connect timeout of 0 would make the socket non-blocking, not fail fast

TOO_LARGE = "too_large"
TIMEOUT = "timeout"
CONNECTION_ERROR = "connection_error"
TLS_ERROR = "tls_error"
BAD_ENCODING = "bad_encoding"
OPTED_OUT = "opted_out"
TOO_MANY_REDIRECTS = "too_many_redirects"
EMPTY_BODY = "empty_body"
BAD_REDIRECT = "bad_redirect"
BAD_HEADERS = "bad_headers"
"""Headers over http.client's limits (line length, count) or unparseable: the server's final answer."""
INCOMPLETE_BODY = "incomplete_body"
"""The connection closed before Content-Length bytes arrived."""
INTERNAL_ERROR = "internal_error"


class DownloadConfig(Section):
    """How images are fetched: bounds per URL, politeness, and which addresses may be contacted."""

    connect_timeout_s: float = Field(5.0, gt=0, le=600, description="TCP (+TLS) connect timeout per attempt")
    read_timeout_s: float = Field(20.0, gt=0, le=600, description="longest silence while waiting for headers or body")
    total_timeout_s: float = Field(60.0, gt=0, le=3600, description="wall cap per URL: retries, redirects and body "
                                   "included; at most an hour, so no URL can hold a worker without bound")
    retries: int = Field(2, ge=0, le=10, description="re-attempts of transient failures (connect, timeout, 429, 5xx)")
    backoff_s: float = Field(
        0.5, ge=0, le=60, description="urllib3 backoff_factor: sleep backoff_s * 2**(n-1) before retry n >= 2"
    )
    max_bytes: int = Field(32 * 1024**2, gt=0, description="larger bodies are abandoned as too_large")
    max_in_flight: int = Field(32, ge=1, le=1024, description="concurrent requests per Downloader")
    max_redirects: int = Field(5, ge=0, le=30, description="more hops than this is too_many_redirects")
    max_addresses: int = Field(
        3, ge=1, le=16, description="addresses of one host tried per connection attempt (in resolver order)"
    )
    user_agent: str = Field("humanverse/0.1 (+dataset curation; honours X-Robots-Tag noai)", min_length=1)
    respect_opt_out: bool = Field(True, description="skip responses whose X-Robots-Tag says noai / noimageai")
    allow_private_urls: bool = Field(False, description="allow loopback/private addresses (tests); never metadata")
    trusted_networks: tuple[str, ...] = Field(
        (), description="private networks fetched from anyway, e.g. an in-house mirror: ['10.20.0.0/16']"
    )

    @field_validator("trusted_networks")
    @classmethod
    def _networks_parse(cls, networks: tuple[str, ...]) -> tuple[str, ...]:
        URLGuard.from_strings(trusted_networks=networks)  # raises ValueError on a malformed network
        return networks


@dataclass
class FetchResult:
    url: str
    data: bytes | None = None
    reason: str | None = None
    """None means the body in `data` is ready for decoding; otherwise a reason code (http_404, timeout, ...)."""
    transient: bool = False
    """The failure may go away later (timeouts, connection errors, 429, 5xx): `--retry-failed` re-attempts it."""
    http_status: int | None = None
    content_type: str | None = None
    final_url: str | None = None
    """Where the bytes came from after redirects."""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.reason is None


_OPT_OUT_DIRECTIVES = frozenset({"noai", "noimageai"})


def robots_tag_opts_out(value: str | None) -> bool:
    """True when an X-Robots-Tag value carries noai or noimageai.

    Values are comma-separated directives, optionally addressed to a crawler ("otherbot: noai"); repeated
    headers arrive joined by commas. A directive addressed to any crawler counts: the site has told us how
    it feels about AI training, and the safe reading is the strict one.
    """
    if not value:
        return False
    return any(token in _OPT_OUT_DIRECTIVES for token in re.split(r"[\s,:;]+", value.lower()))


class _FetchClock(threading.local):
    """The wall-clock deadline of the fetch running on this thread (infinite outside a fetch)."""

    deadline: float = math.inf
    addresses: dict[str, list[str]] | None = None
    """host -> the addresses the guard checked for the current hop: the only ones connected to."""

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    @contextmanager
    def running_until(self, deadline: float) -> Iterator[None]:
        self.deadline, self.addresses = deadline, {}
        try:
            yield
        finally:
            self.deadline, self.addresses = math.inf, None


_clock = _FetchClock()


class _SocketWatchdog:
    """Shuts a socket down when its fetch's deadline passes while a read is blocked on it.

    One daemon thread for the process, sleeping until the earliest registered deadline. shutdown() (not
    close(), which does not wake a reader blocked in another thread) makes the pending recv return at once.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, socket.socket]] = []
        self._live: set[int] = set()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket | None, deadline: float) -> int | None:
        if sock is None or math.isinf(deadline):
            return None
        token = next(self._ids)
        with self._cond:
            while self._heap and self._heap[0][1] not in self._live:  # released ones, oldest first
                heapq.heappop(self._heap)
            heapq.heappush(self._heap, (deadline, token, sock))
            self._live.add(token)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="humanverse-fetch-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][1] == token:
                # the thread sleeps until the earliest deadline it saw: woken only when this one comes sooner
                # (two wake-ups per fetch otherwise, each a thread switch and a turn of the GIL)
                self._cond.notify()
        return token

    def release(self, token: int | None) -> None:
        if token is not None:
            with self._cond:
                self._live.discard(token)

    @contextmanager
    def watching(self, sock: socket.socket | None) -> Iterator[None]:
        token = self.watch(sock, _clock.deadline)
        try:
            yield
        finally:
            self.release(token)

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, token, sock = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                self._live.discard(token)
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed


_watchdog = _SocketWatchdog()


class _WallClockExceeded(Exception):
    """The fetch's total_timeout_s ran out."""


class _BodyTooLarge(Exception):
    """The body grew past max_bytes."""


class _DeadlineTimeout(Timeout):
    """urllib3's per-attempt connect/read timeouts, shrunk to what is left of the fetch's wall-clock budget."""

    def clone(self) -> _DeadlineTimeout:  # urllib3 clones per attempt; keep the subclass
        return _DeadlineTimeout(connect=self._connect, read=self._read, total=self.total)

    @property
    def connect_timeout(self):
        return max(_MIN_CONNECT_TIMEOUT_S, _within_budget(super().connect_timeout))

    @property
    def read_timeout(self):
        return _within_budget(super().read_timeout)  # 0 makes urllib3 raise ReadTimeoutError at once


def _within_budget(seconds: float | None) -> float:
    left = max(0.0, _clock.remaining())
    return left if seconds is None else min(seconds, left)


class _DeadlineRetry(Retry):
    """urllib3's Retry that does not start a retry it would have to sleep past the fetch's deadline for.

    Without this, a Retry-After of an hour or a long backoff would hold a worker far past total_timeout_s.
    When the budget runs out the last answer stands: the 503 itself, or the timeout/connection error.
    """

    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})  # urllib3 adds 413; no other 4xx is retried

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if error is not None and _is_malformed_response(error):  # a server's final answer: never retried
            raise MaxRetryError(_pool, url, error) from error
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if retry._delay_before_next(response) >= _clock.remaining():
            status = getattr(response, "status", None)
            reason = error or ResponseError(
                ResponseError.SPECIFIC_ERROR.format(status_code=status) if status else ResponseError.GENERIC_ERROR
            )
            raise MaxRetryError(_pool, url, reason) from reason
        return retry

    def sleep(self, response=None) -> None:
        time.sleep(max(0.0, min(self._delay_before_next(response), _clock.remaining())))

    def _delay_before_next(self, response) -> float:
        if response is not None and self.respect_retry_after_header:
            try:
                after = self.get_retry_after(response)
            except InvalidHeader:  # a garbled Retry-After: fall back to our own backoff
                after = None
            if after is not None:
                return after
        return self.get_backoff_time()


def _open_connection(address: str, port: int, timeout: float, source_address, options) -> socket.socket:
    """A TCP connection to one literal address (what urllib3's create_connection does per address)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        for option in options or ():
            sock.setsockopt(*option)
        sock.settimeout(timeout)
        if source_address:
            sock.bind(source_address)
        sock.connect((address, port))
        return sock
    except BaseException:
        sock.close()
        raise


def _peer_checked_pools(guard: URLGuard, max_addresses: int) -> dict[str, type[HTTPConnectionPool]]:
    """urllib3 pool classes whose connections go only to guard-checked addresses, within the deadline.

    - Addresses: the ones the guard resolved and checked for this hop (looked up again through the guard
      only if the hop's host is spelled differently here), at most `max_addresses`, each with the connect
      timeout shrunk to what is left of the fetch, so a host resolving to many dead addresses costs one
      deadline, not addresses x connect timeout.
    - The socket's peer is checked once more after connecting (defence in depth).
    - The TLS handshake and the status line and headers are read under the deadline watchdog.
    """

    class GuardedConnect:
        def _new_conn(self):
            host = self._dns_host.strip("[]")
            addresses = (_clock.addresses or {}).get(host)
            if addresses is None:
                addresses = guard.resolve(host, max(0.0, _clock.remaining()))
            last_error: BaseException | None = None
            for address in addresses[:max_addresses]:
                guard.check_address(address)
                left = _clock.remaining()
                if left <= 0:
                    last_error = TimeoutError("the fetch's total_timeout_s ran out while connecting")
                    break
                timeout = left if self.timeout is None else min(self.timeout, left)
                try:
                    sock = _open_connection(
                        address, self.port, max(_MIN_CONNECT_TIMEOUT_S, timeout), self.source_address,
                        self.socket_options,
                    )
                except OSError as error:
                    last_error = error
                    continue
                try:
                    guard.check_address(sock.getpeername()[0])
                except (URLRefused, OSError):
                    sock.close()
                    raise
                self._connect_watch = _watchdog.watch(sock, _clock.deadline)  # the TLS handshake, if any
                return sock
            if last_error is None or isinstance(last_error, TimeoutError):
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out ({last_error})")
            raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}") from last_error

        def connect(self):
            try:
                return super().connect()
            finally:
                _watchdog.release(self.__dict__.pop("_connect_watch", None))

        def getresponse(self):
            with _watchdog.watching(self.sock):
                return super().getresponse()

    class PeerCheckedHTTPConnection(GuardedConnect, HTTPConnection):
        pass

    class PeerCheckedHTTPSConnection(GuardedConnect, HTTPSConnection):
        pass

    class PeerCheckedHTTPPool(HTTPConnectionPool):
        ConnectionCls = PeerCheckedHTTPConnection

    class PeerCheckedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = PeerCheckedHTTPSConnection

    return {"http": PeerCheckedHTTPPool, "https": PeerCheckedHTTPSPool}


class _PeerCheckedAdapter(HTTPAdapter):
    """requests' adapter, with connection pools that refuse a connection whose peer the guard refuses."""

    def __init__(self, guard: URLGuard, retry: Retry, pool_size: int, max_addresses: int):
        self._guard, self._max_addresses = guard, max_addresses  # set first: __init__ calls init_poolmanager
        super().__init__(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=retry)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _peer_checked_pools(self._guard, self._max_addresses)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps: requests wraps urllib3's MaxRetryError, which wraps the last failure."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo.extend(e for e in nested if isinstance(e, BaseException))


def _is_malformed_response(error: BaseException) -> bool:
    """Headers over http.client's limits or unparseable, or a body shorter than announced. A server that
    closes an idle keep-alive connection (RemoteDisconnected) is not one: that is a transient race."""
    causes = list(_causes(error))
    if any(isinstance(c, (http.client.RemoteDisconnected, ConnectionError)) for c in causes):
        return False
    return any(isinstance(c, http.client.HTTPException) for c in causes)


def classify_failure(error: BaseException) -> tuple[str, bool]:
    """(reason code, transient) for an exception raised while fetching one URL."""
    causes = list(_causes(error))

    def has(*kinds: type[BaseException]) -> bool:
        return any(isinstance(c, kinds) for c in causes)

    for cause in causes:
        if isinstance(cause, URLRefused):
            return cause.reason, cause.transient
    if _clock.remaining() <= 0:
        return TIMEOUT, True  # whatever broke, it broke because the watchdog or the deadline cut it
    if has(http.client.IncompleteRead):
        return INCOMPLETE_BODY, False
    if _is_malformed_response(error):
        return BAD_HEADERS, False
    if has(_WallClockExceeded, ReadTimeoutError, requests.Timeout, TimeoutError) or any(
        isinstance(c, ConnectTimeoutError) and not isinstance(c, NewConnectionError) for c in causes
    ):
        return TIMEOUT, True
    if has(SSLError, requests.exceptions.SSLError):
        return TLS_ERROR, False  # expired or mismatched certificates do not heal by retrying
    if has(NameResolutionError):
        return DNS_ERROR, True  # the guard resolved this host a moment ago
    if has(DecodeError, requests.exceptions.ContentDecodingError):
        return BAD_ENCODING, False
    if has(
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
        LocationValueError,
    ):
        return BAD_URL, False
    if has(ProtocolError, requests.RequestException, OSError):
        return CONNECTION_ERROR, True
    raise error  # a bug, not a property of the URL


class Downloader:
    """Fetches URLs under one DownloadConfig; safe to share between threads.

    The Session only prepares requests (headers, URL normalisation, auth from the URL) and owns the
    adapter; nothing is stored between URLs, so no cookie or credential travels from one site to another.
    """

    def __init__(self, config: DownloadConfig | None = None, resolver: Resolver | None = None):
        self.config = config = config or DownloadConfig()
        self.guard = URLGuard.from_strings(config.allow_private_urls, config.trusted_networks, resolver)
        retry = _DeadlineRetry(
            total=config.retries,
            connect=config.retries,
            read=config.retries,
            status=config.retries,
            other=0,  # TLS and other odd errors are final
            allowed_methods=frozenset({"GET"}),
            status_forcelist=TRANSIENT_STATUSES,
            backoff_factor=config.backoff_s,
            raise_on_status=False,  # after the last retry, hand back the 503 itself
        )
        adapter = _PeerCheckedAdapter(self.guard, retry, config.max_in_flight, config.max_addresses)
        session = requests.Session()
        session.trust_env = False  # never attach the user's .netrc credentials to arbitrary URLs
        session.headers.update(
            {
                "User-Agent": config.user_agent,
                "Accept": "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.9,*/*;q=0.5",
                "Accept-Encoding": "identity",  # images gain nothing from gzip, and Content-Length stays the size
            }
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session
        self._adapter = adapter
        self._slots = threading.BoundedSemaphore(config.max_in_flight)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._closed = False

    def fetch(self, url: str) -> FetchResult:
        """Fetch one URL. Every per-URL problem comes back as a FetchResult with a reason: this never raises
        (an exception nobody classified becomes internal_error:<type>, logged, so a bug costs one row)."""
        if self._closed:
            raise RuntimeError("Downloader is closed")
        with self._slots:
            started = time.monotonic()
            with _clock.running_until(started + self.config.total_timeout_s):
                try:
                    result = self._fetch(url)
                except Exception as error:  # noqa: BLE001 - every URL ends as a row
                    try:
                        reason, transient = classify_failure(error)
                    except Exception:  # noqa: BLE001
                        log.warning("unclassified fetch failure on %.200r", url, exc_info=True)
                        reason, transient = f"{INTERNAL_ERROR}:{type(error).__name__}", False
                    result = FetchResult(url if isinstance(url, str) else repr(url)[:200], reason=reason,
                                         transient=transient)
            result.seconds = time.monotonic() - started
            return result

    def fetch_many(self, urls: Iterable[str]) -> list[FetchResult]:
        """Fetch all URLs, at most max_in_flight at a time; results in input order."""
        urls = list(urls)
        if not urls:
            return []
        return list(self._threads().map(self.fetch, urls))

    def _threads(self) -> ThreadPoolExecutor:
        """One pool of max_in_flight threads for every call, so a worker running several tasks at once
        (fetch.tasks_per_actor) holds max_in_flight threads, not that many per task."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.config.max_in_flight, "humanverse-fetch")
            return self._pool

    def close(self) -> None:
        self._closed = True
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
        self._session.close()

    def __enter__(self) -> Downloader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _fetch(self, url: str) -> FetchResult:
        """Follow up to max_redirects redirects, checking the guard and the deadline before every hop."""
        timeout = _DeadlineTimeout(connect=self.config.connect_timeout_s, read=self.config.read_timeout_s)
        hop_url = url
        for hop in range(self.config.max_redirects + 1):
            if _clock.remaining() <= 0:
                raise _WallClockExceeded
            try:
                addresses = self.guard.check_url(hop_url, timeout=_clock.remaining())
                request = self._prepare(hop_url)
            except (URLRefused, requests.RequestException, ValueError, UnicodeError) as error:
                if hop and (not isinstance(error, URLRefused) or error.reason == BAD_URL):
                    return FetchResult(url, reason=BAD_REDIRECT, final_url=None)
                raise
            _clock.addresses = {parse_url(hop_url).host.strip("[]"): addresses}
            with self._adapter.send(request, stream=True, timeout=timeout) as response:
                try:
                    target = self._session.get_redirect_target(response)
                    if target is not None:
                        hop_url = urljoin(response.url, requote_uri(target))
                except (ValueError, UnicodeError) as error:  # 'http://[::1', raw non-UTF-8 bytes, ...
                    log.debug("unusable redirect from %s: %s", url, error)
                    return FetchResult(url, reason=BAD_REDIRECT, http_status=response.status_code)
                if target is None:
                    return self._take(url, response)
            # leaving `with` closes the redirect response unread: its body is never wanted
        return FetchResult(url, reason=TOO_MANY_REDIRECTS, http_status=response.status_code, final_url=hop_url)

    def _prepare(self, url: str) -> requests.PreparedRequest:
        """What Session.prepare_request makes of a GET with no cookies, auth or params of its own, without
        merging the session's empty cookie jar, auth and params into it first (~15% of a fetch's Python
        time on loopback): the session's headers, the URL normalised and any user:password in it applied
        as Basic auth, exactly as there (tests/sources/test_download_prepare.py compares the two)."""
        request = requests.PreparedRequest()
        request.prepare(method="GET", url=url, headers=self._session.headers)
        return request

    def _take(self, first_url: str, response: requests.Response) -> FetchResult:
        """Turn the final response into a FetchResult, reading the body only if it is wanted and allowed."""
        config = self.config
        result = FetchResult(
            first_url,
            http_status=response.status_code,
            content_type=response.headers.get("Content-Type"),
            final_url=response.url,
        )
        status = response.status_code
        if not 200 <= status < 300:
            result.reason, result.transient = f"http_{status}", status == 429 or status >= 500
        elif config.respect_opt_out and robots_tag_opts_out(response.headers.get("X-Robots-Tag")):
            result.reason = OPTED_OUT
        elif _declared_length(response) > config.max_bytes:
            result.reason = TOO_LARGE  # fail fast: not one body byte read
        else:
            try:
                result.data = self._read_body(response) or None
            except _BodyTooLarge:
                result.reason = TOO_LARGE
            if result.ok and result.data is None:
                result.reason = EMPTY_BODY
        return result

    def _read_body(self, response: requests.Response) -> bytes:
        """Read the body in small steps, stopping as soon as it passes max_bytes or the deadline passes.

        read1() returns after a single socket read, and the socket timeout is shrunk to the budget before
        each one, so a server trickling one byte at a time cannot stretch the fetch past total_timeout_s.
        """
        raw = response.raw
        body = bytearray()
        while True:
            left = _clock.remaining()
            if left <= 0:
                raise _WallClockExceeded
            sock = getattr(raw.connection, "sock", None)
            if sock is not None:
                sock.settimeout(min(self.config.read_timeout_s, left))
            chunk = raw.read1(BODY_CHUNK, decode_content=True)
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > self.config.max_bytes:
                raise _BodyTooLarge


def _declared_length(response: requests.Response) -> int:
    """The Content-Length the server announced, or -1 when absent or unreadable (the read loop still caps)."""
    try:
        return int(response.headers.get("Content-Length", -1))
    except ValueError:
        return -1
