"""A deliberately hostile HTTP server on loopback, speaking raw bytes over real sockets.

http.server cannot misbehave at the byte level (trickle a status line, send a Location with a raw 0xE9,
close mid-body), so this one writes every byte itself. It serves the attacks of issue 15:

    /trickle-status?every=<s>    the status line and headers, one byte every <s> seconds (F1)
    /trickle-headers?every=<s>   a prompt status line, then an endless header, one byte at a time (F1)
    /redirect-open-ipv6          302 to 'http://[::1' (F8)
    /redirect-raw-byte           302 to a loopback URL containing a raw 0xE9 byte (F8)
    /many-headers                200 with 150 headers (over http.client's 100)
    /long-header                 200 with one 70 KB header line (over http.client's 64 KiB)
    /short-body                  Content-Length 1000, then 10 bytes and a close
    anything else                404

and `unresponsive_addresses(n)`: n loopback addresses (127.0.0.2, ...) on one port whose listening
sockets never accept and whose accept queue is full, so a connect to any of them hangs until its timeout
(F2, with the guard's resolver hook answering those addresses for a made-up host name).

    with HostileServer() as srv:
        srv.url("trickle-status"); srv.hits("many-headers")
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from urllib.parse import parse_qs, urlsplit

MAX_REQUEST_HEAD = 64 * 1024
TRICKLE_LIMIT_S = 60.0  # a trickle ends by itself even if the client never hangs up


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(10)
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < MAX_REQUEST_HEAD:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                head += chunk
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
            parts = urlsplit(target)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            route = parts.path.strip("/")
            with self.server.lock:
                self.server.hits[route] += 1
            self._route(sock, route, query)
        except (OSError, IndexError):
            return  # the client hung up (that is what a deadline does) or sent garbage

    def _route(self, sock: socket.socket, route: str, query: dict[str, str]) -> None:
        every = float(query.get("every", 0.5))
        if route == "trickle-status":
            self._trickle(sock, b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 5\r\n\r\nhello", every)
        elif route == "trickle-headers":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n")
            self._trickle(sock, b"X-Pad: " + b"a" * 100_000, every)
        elif route == "redirect-open-ipv6":
            self._respond(sock, "302 Found", [b"Location: http://[::1"])
        elif route == "redirect-raw-byte":
            port = self.server.server_address[1]
            self._respond(sock, "302 Found", [b"Location: http://127.0.0.1:%d/caf\xe9.jpg" % port])
        elif route == "many-headers":
            self._respond(sock, "200 OK", [b"X-H%d: v" % i for i in range(150)], b"hello")
        elif route == "long-header":
            self._respond(sock, "200 OK", [b"X-Long: " + b"a" * 70_000], b"hello")
        elif route == "short-body":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
            sock.shutdown(socket.SHUT_RDWR)
        else:
            self._respond(sock, "404 Not Found", [], b"no such route\n")

    @staticmethod
    def _respond(sock: socket.socket, status: str, headers: list[bytes], body: bytes = b"") -> None:
        lines = [f"HTTP/1.1 {status}".encode(), *headers, b"Content-Length: %d" % len(body), b"Connection: close"]
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)

    @staticmethod
    def _trickle(sock: socket.socket, data: bytes, every: float) -> None:
        ends = time.monotonic() + TRICKLE_LIMIT_S
        for i in range(len(data)):
            if time.monotonic() > ends:
                return
            sock.sendall(data[i : i + 1])
            time.sleep(every)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, _Handler)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()


class HostileServer:
    """The hostile routes above on 127.0.0.1, port chosen by the OS, served from daemon threads."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self._server: _Server | None = None

    def __enter__(self) -> HostileServer:
        self._server = _Server((self.host, 0))
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True, name="HostileServer").start()
        return self

    def __exit__(self, *exc_info) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def url(self, route: str) -> str:
        return f"http://{self.host}:{self.port}/{route.lstrip('/')}"

    def hits(self, route: str) -> int:
        assert self._server is not None
        with self._server.lock:
            return self._server.hits[route.strip("/").split("?")[0]]


@contextmanager
def unresponsive_addresses(n: int):
    """Yield ([127.0.0.2, ...], port): n loopback addresses where a TCP connect hangs until its timeout.

    Each address has a listening socket with a backlog of 0 that never accepts; one connection fills its
    accept queue, after which Linux drops further SYNs (tcp_abort_on_overflow=0), so the client waits.
    """
    addresses = [f"127.0.0.{2 + i}" for i in range(n)]
    with ExitStack() as stack:
        port = 0
        for address in addresses:
            listener = stack.enter_context(socket.socket())
            listener.bind((address, port))
            port = listener.getsockname()[1]
            listener.listen(0)
        for address in addresses:
            filler = stack.enter_context(socket.socket())
            filler.settimeout(2)
            filler.connect((address, port))
        for address in addresses:  # prove the trap works before a test relies on it
            with socket.socket() as probe:
                probe.settimeout(0.2)
                try:
                    probe.connect((address, port))
                except TimeoutError:
                    continue
                raise RuntimeError(f"{address}:{port} accepted a connection; the kernel does not drop SYNs here")
        yield addresses, port
