"""A loopback server that speaks the part of the Hugging Face Hub's HTTP API that downloads use.

    GET  /api/models/<org>/<name>[/revision/<rev>]    {"id", "sha", "siblings": [{"rfilename"}]}
    HEAD /<org>/<name>/resolve/<rev>/<file>           X-Repo-Commit, ETag, Content-Length (no body)
    GET  /<org>/<name>/resolve/<rev>/<file>           the bytes; honours Range: bytes=N-

Repos are dicts of file name -> bytes. `gated` repos answer 401 with X-Error-Code: GatedRepo (the hub's
answer before a licence is accepted); `cut_after[file] = n` sends only n bytes of that file's first GET and
drops the connection, to test resuming. Every request is recorded (method, path, Range header).
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, repos: dict[str, dict[str, bytes]], gated: set[str] = frozenset()):
        self.repos = repos
        self.gated = set(gated)
        self.cut_after: dict[str, int] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub._handle(self, head=True)

            def do_GET(self):
                hub._handle(self, head=False)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        path = h.path.split("?")[0]
        self.requests.append(("HEAD" if head else "GET", path, h.headers.get("Range")))
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "models"]:
            repo = "/".join(parts[2:4])
            if repo in self.gated:
                return self._gated(h, repo, head)
            if repo not in self.repos:
                return self._send(h, 404, b'{"error": "Repository not found"}', head, {"X-Error-Code": "RepoNotFound"})
            body = json.dumps({"id": repo, "sha": COMMIT, "siblings": [{"rfilename": f} for f in self.repos[repo]]})
            return self._send(h, 200, body.encode(), head, {"Content-Type": "application/json"})
        if len(parts) >= 5 and parts[2] == "resolve":
            repo, name = "/".join(parts[:2]), "/".join(parts[4:])
            if repo in self.gated:
                return self._gated(h, repo, head)
            if repo not in self.repos:
                return self._send(h, 404, b"", head, {"X-Error-Code": "RepoNotFound"})
            if name not in self.repos[repo]:
                return self._send(h, 404, b"", head, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": COMMIT})
            return self._file(h, self.repos[repo][name], name, head)
        return self._send(h, 404, b"", head)

    def _gated(self, h, repo: str, head: bool) -> None:
        msg = f"Access to model {repo} is restricted. You must have access to it and be authenticated."
        self._send(h, 401, msg.encode(), head, {"X-Error-Code": "GatedRepo", "X-Error-Message": msg})

    def _file(self, h, data: bytes, name: str, head: bool) -> None:
        etag = hashlib.sha256(data).hexdigest()
        headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{etag}"', "Accept-Ranges": "bytes",
                   "Content-Type": "application/octet-stream"}
        start = 0
        rng = h.headers.get("Range")
        if rng and not head and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0] or 0)
        if head:
            return self._send(h, 200, b"", True, {**headers, "Content-Length": str(len(data))}, length=len(data))
        body = data[start:]
        code = 206 if start else 200
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        cut = self.cut_after.pop(name, None)
        h.send_response(code)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if cut is not None:
            h.wfile.write(body[:cut])
            h.wfile.flush()
            h.close_connection = True
            return
        h.wfile.write(body)

    @staticmethod
    def _send(h, code: int, body: bytes, head: bool, headers: dict[str, str] | None = None, length: int | None = None):
        h.send_response(code)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        h.end_headers()
        if not head:
            h.wfile.write(body)
