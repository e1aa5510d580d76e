"""A real HTTP server on loopback, so download tests exercise real sockets, timeouts and redirects.

Hermetic tests against a local server are what made img2dataset's downloader trustworthy; mocks of
requests would not catch a retry that never happens or a size cap enforced only after the whole body
arrived. The server counts requests and body bytes per path and the peak number of requests in flight,
so tests can assert what happened on the wire.

    with LocalHTTPServer(image_dir) as srv:
        srv.url("img/bus.jpg"); srv.hits("img/bus.jpg"); srv.peak_in_flight

Routes (GET):
    /img/<name>                 a file from the root directory
    /status/<code>              that status; ?retry_after=<s> adds a Retry-After header
    /slow/<seconds>             sleeps, then serves TINY_PNG
    /flaky/<id>/<n>             503 for the first n requests of that id, then TINY_PNG
    /html                       an HTML page labelled Content-Type: image/jpeg
    /big/<bytes>                that many zero bytes, with a correct Content-Length
    /big-nolength/<bytes>       the same, chunked (no Content-Length)
    /drip/<bytes>/<seconds>     that many bytes one at a time, spread over the seconds
    /noai                       TINY_PNG with X-Robots-Tag: noai (?tag=<value> to choose the value)
    /redirect?to=<url>          302 to <url> (?status=301/303/307/308 to choose; ?body=<bytes> of zeros)
"""

from __future__ import annotations

import mimetypes
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CHUNK = 64 * 1024


def _png(width: int, height: int) -> bytes:
    """A real, decodable RGB PNG (a colour gradient), built without Pillow."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    def row(y: int) -> bytes:  # filter byte 0, then RGB pixels
        return b"\0" + b"".join(bytes((x * 32 % 256, y * 32 % 256, 128)) for x in range(width))

    rows = b"".join(row(y) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


TINY_PNG = _png(8, 8)
HTML_PAGE = b"<!doctype html><html><head><title>not an image</title></head><body>hello</body></html>"


class _Stats:
    """What the server saw, shared by its handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.hits: Counter[str] = Counter()
        self.bytes_sent: Counter[str] = Counter()
        self.flaky_seen: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # fetch_many opens dozens of connections at once

    def __init__(self, address: tuple[str, int], root: Path | None, stats: _Stats):
        super().__init__(address, _Handler)
        self.root = root
        self.stats = stats

    def handle_error(self, request, client_address) -> None:
        """Clients hanging up mid-response is what these tests provoke; only report real handler bugs."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, like real image hosts
    timeout = 10  # idle keep-alive connections do not pin handler threads for long
    disable_nagle_algorithm = True  # headers and body go out in separate writes; don't stall 40 ms on ACKs
    server: _Server

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.route_path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        stats = self.server.stats
        with stats.lock:
            stats.hits[self.route_path] += 1
            stats.in_flight += 1
            stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
        try:
            self._route(parts.path.strip("/").split("/"), query)
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client hung up (size cap, timeout): expected
        finally:
            with stats.lock:
                stats.in_flight -= 1
                stats.lock.notify_all()

    def _route(self, segments: list[str], query: dict[str, str]) -> None:
        head, args = segments[0], segments[1:]
        if head == "img" and args:
            self._serve_file("/".join(args))
        elif head == "status" and len(args) == 1:
            extra = {"Retry-After": query["retry_after"]} if "retry_after" in query else {}
            code = int(args[0])
            self._send(code, f"status {code}\n".encode(), "text/plain", extra)
        elif head == "slow" and len(args) == 1:
            time.sleep(float(args[0]))
            self._send(200, TINY_PNG, "image/png")
        elif head == "flaky" and len(args) == 2:
            with self.server.stats.lock:
                self.server.stats.flaky_seen[args[0]] += 1
                seen = self.server.stats.flaky_seen[args[0]]
            if seen <= int(args[1]):
                self._send(503, b"try again\n", "text/plain")
            else:
                self._send(200, TINY_PNG, "image/png")
        elif head == "html":
            self._send(200, HTML_PAGE, "image/jpeg")
        elif head == "big" and len(args) == 1:
            self._send_zeros(int(args[0]), chunked=False)
        elif head == "big-nolength" and len(args) == 1:
            self._send_zeros(int(args[0]), chunked=True)
        elif head == "drip" and len(args) == 2:
            self._drip(int(args[0]), float(args[1]))
        elif head == "noai":
            self._send(200, TINY_PNG, "image/png", {"X-Robots-Tag": query.get("tag", "noai")})
        elif head == "redirect" and "to" in query:
            code, location = int(query.get("status", 302)), {"Location": query["to"]}
            self._send_zeros(int(query.get("body", 0)), chunked=False, code=code, headers=location)
        else:
            self._send(404, b"no such route\n", "text/plain")

    def _serve_file(self, name: str) -> None:
        root = self.server.root
        path = (root / name).resolve() if root else None
        if path is None or not path.is_relative_to(root.resolve()) or not path.is_file():
            self._send(404, b"no such file\n", "text/plain")
            return
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self._send(200, path.read_bytes(), content_type)

    def _send(self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        bodiless = code < 200 or code in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED)
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", "0" if bodiless else str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not bodiless:
            self._write(body)

    def _send_zeros(self, size: int, chunked: bool, code: int = 200, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding" if chunked else "Content-Length", "chunked" if chunked else str(size))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        block = bytes(CHUNK)
        left = size
        while left > 0:
            piece = block[: min(CHUNK, left)]
            if chunked:
                self.wfile.write(b"%x\r\n" % len(piece))
            self._write(piece)
            if chunked:
                self.wfile.write(b"\r\n")
            left -= len(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _drip(self, size: int, seconds: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        for _ in range(size):
            time.sleep(seconds / max(size, 1))
            self._write(b"\0")

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        with self.server.stats.lock:
            self.server.stats.bytes_sent[self.route_path] += len(data)


def _path_key(path: str) -> str:
    return "/" + urlsplit(path).path.lstrip("/")


class LocalHTTPServer:
    """A ThreadingHTTPServer on `host` (loopback), port chosen by the OS, serving in a daemon thread."""

    def __init__(self, root: str | Path | None = None, host: str = "127.0.0.1"):
        self.root = Path(root) if root is not None else None
        self.host = host
        self._stats = _Stats()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LocalHTTPServer:
        self._server = _Server((self.host, 0), self.root, self._stats)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="LocalHTTPServer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def hits(self, path: str) -> int:
        """Requests received for `path` (query string ignored; leading slash optional)."""
        with self._stats.lock:
            return self._stats.hits[_path_key(path)]

    def bytes_sent(self, path: str) -> int:
        """Body bytes handed to the socket for `path`: less than the body when the client hung up early."""
        with self._stats.lock:
            return self._stats.bytes_sent[_path_key(path)]

    @property
    def in_flight(self) -> int:
        with self._stats.lock:
            return self._stats.in_flight

    @property
    def peak_in_flight(self) -> int:
        """The most requests handled at the same time since start or reset_counters()."""
        with self._stats.lock:
            return self._stats.peak_in_flight

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being handled (e.g. a handler still writing a body the client dropped)."""
        with self._stats.lock:
            return self._stats.lock.wait_for(lambda: self._stats.in_flight == 0, timeout)

    def reset_counters(self) -> None:
        with self._stats.lock:
            self._stats.hits.clear()
            self._stats.bytes_sent.clear()
            self._stats.flaky_seen.clear()
            self._stats.peak_in_flight = self._stats.in_flight
