"""HTTPTransport against a local http.server: auth, gzip, keep-alive, headers."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from expt_logger._transport import HTTPTransport

seen: list[dict[str, Any]] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        enc = self.headers.get("Content-Encoding")
        body = json.loads(gzip.decompress(raw) if enc == "gzip" else raw)
        seen.append({"headers": dict(self.headers), "body": body, "client": self.client_address, "enc": enc})
        out = json.dumps({"accepted": 1}).encode()
        self.send_response(401 if self.path.endswith("/deny") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    seen.clear()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/prefix"
    srv.shutdown()
    srv.server_close()
    t.join()


def test_auth_gzip_keepalive_and_headers(url: str) -> None:
    t = HTTPTransport(url, "expt_key")
    try:
        r1 = t.request("POST", "/api/x", {"small": 1}, {"Idempotency-Key": "k1"})
        big = {"rollouts": [{"promptText": "x" * 5000}]}
        r2 = t.request("POST", "/api/x", json.dumps(big).encode())
        r3 = t.request("POST", "/api/deny", {"a": 1})
    finally:
        t.close()
    assert (r1.status, r2.status, r3.status) == (200, 200, 401)
    assert r1.json() == {"accepted": 1}
    assert seen[0]["headers"]["Authorization"] == "Bearer expt_key"
    assert seen[0]["headers"]["Idempotency-Key"] == "k1"
    assert seen[0]["enc"] is None and seen[0]["body"] == {"small": 1}
    assert seen[1]["enc"] == "gzip" and seen[1]["body"] == big
    assert len({s["client"] for s in seen}) == 1, "one kept-alive connection for all requests"


def test_unreachable_raises_oserror() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = HTTPTransport(f"http://127.0.0.1:{port}", None, timeout=2)
    with pytest.raises(OSError):
        t.request("GET", "/api/health")
    t.close()


def test_rejects_non_http_url() -> None:
    with pytest.raises(ValueError, match="http"):
        HTTPTransport("ftp://x", None)
