"""expt_logger.Api's settings and argument checks, without a server (the reads themselves are tested
against the real binary in tests/integration/test_read_api.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from expt_logger import Api, ApiError
from expt_logger._api import _query, number


def test_settings_come_from_arguments_then_environment_then_expt_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"url": "http://saved:9000/", "key": "expt_saved"}))
    monkeypatch.setenv("EXPT_CONFIG", str(cfg))
    monkeypatch.delenv("EXPT_LOGGER_API_KEY", raising=False)
    monkeypatch.delenv("EXPT_LOGGER_BASE_URL", raising=False)
    api = Api()
    assert api.base_url == "http://saved:9000" and api._headers["Authorization"] == "Bearer expt_saved"
    monkeypatch.setenv("EXPT_LOGGER_API_KEY", "expt_env")
    monkeypatch.setenv("EXPT_LOGGER_BASE_URL", "http://env:1")
    api = Api()
    assert api.base_url == "http://env:1" and api._headers["Authorization"] == "Bearer expt_env"
    api = Api(api_key="expt_arg", base_url="https://arg")
    assert api.base_url == "https://arg" and api._headers["Authorization"] == "Bearer expt_arg"
    cfg.write_text("not json")
    monkeypatch.delenv("EXPT_LOGGER_API_KEY")
    assert "Authorization" not in Api()._headers  # a broken file is no login, not a crash
    with pytest.raises(ValueError, match="base_url"):
        Api(base_url="ftp://x")


def test_query_and_numbers() -> None:
    assert _query({"key": ["train/loss", "eval/acc"], "from": 3, "flag": True}) == (
        "key=train%2Floss&key=eval%2Facc&from=3&flag=true"
    )
    assert [number(v) for v in ("Infinity", "-Infinity", 1.5, "x")][:3] == [float("inf"), float("-inf"), 1.5]
    assert number("NaN") != number("NaN")


def test_a_busy_server_is_asked_again_after_retry_after() -> None:
    """503 with Retry-After (the server's export slots taken) is retried; other refusals are not."""
    import http.server
    import threading

    calls: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            calls.append(self.path)
            busy = self.path.startswith("/api/experiments/busy") and len(calls) < 3
            if busy or self.path.startswith("/api/experiments/bad"):
                body = b'{"error": "too many exports at once; retry in a few seconds"}'
                self.send_response(503 if busy else 400)
                self.send_header("Retry-After", "0")
            else:
                body = b'{"id": "busy", "name": "n", "config": {"lr": 1}}'
                self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        api = Api(api_key="expt_k", base_url=f"http://127.0.0.1:{srv.server_address[1]}")
        assert api.experiment("busy").config == {"lr": 1}
        assert len(calls) == 3  # two 503s, then the answer
        calls.clear()
        with pytest.raises(ApiError, match="400"):
            api.experiment("bad")
        assert len(calls) == 1
    finally:
        srv.shutdown()
        srv.server_close()
