"""The HTTP seam. The sender talks to a `Transport`; unit tests pass an in-memory fake instead."""

from __future__ import annotations

import gzip
import http.client
import json
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol

from ._version import __version__

_GZIP_MIN = 1024  # smaller bodies are not worth the CPU


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def error(self) -> str:
        try:
            msg = self.json().get("error")
            return str(msg) if msg else self.body[:200].decode(errors="replace")
        except Exception:
            return self.body[:200].decode(errors="replace")


class Transport(Protocol):
    """One request at a time from one thread; raises OSError (or http.client errors) when the server
    cannot be reached at all."""

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Response: ...

    def close(self) -> None: ...


class HTTPTransport:
    """Keep-alive HTTP/1.1 with gzip request bodies, standard library only."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float = 30.0) -> None:
        u = urllib.parse.urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"base_url {base_url!r} is not an http(s) URL")
        self._https = u.scheme == "https"
        self._host = u.hostname
        self._port = u.port
        self._prefix = u.path.rstrip("/")
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._headers = {
            "User-Agent": f"expt-logger-python/{__version__}",
            "Accept": "application/json",
        }
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def _connect(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self._timeout)
        return self._conn

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Response:
        hdrs = dict(self._headers)
        if headers:
            hdrs.update(headers)
        data: bytes | None = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
            hdrs["Content-Type"] = "application/json"
            if len(data) >= _GZIP_MIN:
                data = gzip.compress(data, compresslevel=5)
                hdrs["Content-Encoding"] = "gzip"
        with self._lock:
            # A kept-alive connection the server closed fails on first use: retry once on a fresh one.
            for attempt in (0, 1):
                conn = self._connect()
                try:
                    conn.request(method, self._prefix + path, body=data, headers=hdrs)
                    resp = conn.getresponse()
                    payload = resp.read()
                    if resp.getheader("Connection", "").lower() == "close":
                        self._drop()
                    return Response(resp.status, payload)
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    self._drop()
                    if attempt:
                        raise
                except Exception:
                    self._drop()
                    raise
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()
