"""The read API for notebooks: experiments, their full history, rollouts and files, from any server.

Standard library only. pandas, polars and pyarrow are used when installed (and asked for): nothing here
imports them at module level. History is never sampled: it is the server's export of every point.
"""

from __future__ import annotations

import http.client
import io
import json
import math
import os
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ._config import DEFAULT_BASE_URL
from ._exceptions import AuthenticationError, TransportError
from ._version import __version__

_CHUNK = 1 << 20
_BUSY_RETRIES = 5
_PAGE = 1000  # the server's largest list page

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class NotFoundError(TransportError):
    """The server answered 404: no such experiment, or not one the key may read."""


class ApiError(TransportError):
    """The server refused a read (400, 403, 503...); the message is the server's."""

    retry_after: float = 0.0  # seconds, from Retry-After


def number(v: Any) -> Any:
    """A number from the wire: the strings "NaN", "Infinity" and "-Infinity" are those floats."""
    return _SPECIAL.get(v, v) if isinstance(v, str) else v


class Api:
    """Reads a server's experiments: `Api().experiments(project="math-grpo")`.

    `api_key` and `base_url` default to EXPT_LOGGER_API_KEY and EXPT_LOGGER_BASE_URL, as `init()` does, and
    then to what `expt login` saved.
    """

    def __init__(self, api_key: str | None = None, base_url: str | None = None, timeout: float = 60.0) -> None:
        saved = _saved_login()
        url = (base_url or os.environ.get("EXPT_LOGGER_BASE_URL") or saved.get("url") or DEFAULT_BASE_URL).rstrip("/")
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"base_url must be an http(s) URL, got {url!r}")
        self.base_url = url
        self._u = u
        self._timeout = timeout
        key = api_key or os.environ.get("EXPT_LOGGER_API_KEY") or saved.get("key")
        self._headers = {"User-Agent": f"expt-logger-python/{__version__}", "Accept-Encoding": "identity"}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"

    # --- HTTP -------------------------------------------------------------------------------------

    def _open(self, path: str, params: Mapping[str, Any] | None = None) -> _Response:
        """GET path and return the response to read (its own connection, closed with it), or raise the
        server's error. A server at a limit of its own (503, 429: its few export slots taken) is asked
        again after the Retry-After it gives, at most 10 s, up to five times."""
        for attempt in range(_BUSY_RETRIES + 1):
            try:
                return self._open_once(path, params)
            except ApiError as e:
                if e.status not in (429, 503) or attempt == _BUSY_RETRIES:
                    raise
                time.sleep(min(e.retry_after or 0.5 * 2**attempt, 10.0))
        raise AssertionError("unreachable")

    def _open_once(self, path: str, params: Mapping[str, Any] | None) -> _Response:
        query = _query(params or {})
        cls = http.client.HTTPSConnection if self._u.scheme == "https" else http.client.HTTPConnection
        conn = cls(self._u.hostname or "", self._u.port, timeout=self._timeout)
        target = self._u.path.rstrip("/") + path + ("?" + query if query else "")
        try:
            conn.request("GET", target, headers=self._headers)
            resp = conn.getresponse()
        except OSError as e:
            conn.close()
            raise TransportError(f"GET {path}: {e}") from e
        if resp.status >= 400:
            body = resp.read()
            conn.close()
            try:
                msg = json.loads(body).get("error") or body[:200].decode(errors="replace")
            except (ValueError, AttributeError):
                msg = body[:200].decode(errors="replace")
            if resp.status in (401, 404):
                cls_err = AuthenticationError if resp.status == 401 else NotFoundError
                raise cls_err(f"GET {path}: {resp.status} {msg}", status=resp.status)
            err = ApiError(f"GET {path}: {resp.status} {msg}", status=resp.status)
            try:
                err.retry_after = float(resp.getheader("Retry-After") or 0)
            except ValueError:
                err.retry_after = 0.0
            raise err
        return _Response(conn, resp)

    def _json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        resp = self._open(path, params)
        try:
            return json.loads(resp.read())
        finally:
            resp.close()

    # --- experiments --------------------------------------------------------------------------------

    def experiments(
        self,
        project: str | int | None = None,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
        per_page: int = 200,
    ) -> Iterator[Experiment]:
        """The experiments the key may read, newest first, fetched a page at a time as iterated.

        `project`: a project name or id. `filters`: any of `name` (a substring), `status`, `tag`, and
        `config` (a dict of key to value; nested keys with dots: {"optimizer.lr": 3e-6}).
        `order`: "created", "updated", "name" or "latestStep", with "-" in front for descending
        (the default is "-created").
        """
        params: dict[str, Any] = {"limit": max(1, min(per_page, _PAGE))}
        if project is not None:
            params["project"] = project
        for k, v in dict(filters or {}).items():
            if k == "config":
                params["config"] = [f"{ck}={_config_value(cv)}" for ck, cv in dict(v).items()]
            elif k in ("name", "q"):
                params["q"] = v
            elif k in ("status", "tag"):
                params[k] = v
            else:
                raise ValueError(f"filters: unknown filter {k!r} (name, status, tag, config)")
        if order:
            desc = order.startswith("-")
            params["sort"], params["order"] = order.lstrip("-+"), "desc" if desc else "asc"
        while True:  # paged by key: each page starts after the last one's end
            page = self._json("/api/experiments", params)
            for e in page["experiments"]:
                yield Experiment(self, e)
            if not page.get("next"):
                return
            params["after"] = page["next"]

    def experiment(self, id: str) -> Experiment:
        """One experiment by id (NotFoundError when missing or not readable)."""
        return Experiment(self, self._json(f"/api/experiments/{_path(id)}"))

    def download(
        self,
        ids: Iterable[str],
        dir: str | os.PathLike[str],
        format: str = "parquet",
    ) -> list[Path]:
        """Several experiments' scalars and rollouts into dir as scalars.<format> and rollouts.<format>
        (long form, a column naming the experiment)."""
        ids = list(ids)
        if not ids:
            raise ValueError("ids: no experiments to download")
        params = {"experiment": ids, "format": _format(format)}
        out = Path(dir)
        out.mkdir(parents=True, exist_ok=True)
        return [
            self._save("/api/export/scalars", params, out / f"scalars.{format}"),
            self._save("/api/export/rollouts", params, out / f"rollouts.{format}"),
        ]

    def _save(self, path: str, params: Mapping[str, Any], dest: Path) -> Path:
        """Stream a download to dest, whole or not at all (a cut transfer raises and leaves no file)."""
        tmp = dest.with_name(dest.name + ".part")
        resp = self._open(path, params)
        try:
            with open(tmp, "wb") as f:
                while chunk := resp.read(_CHUNK):
                    f.write(chunk)
        except (OSError, http.client.HTTPException) as e:
            tmp.unlink(missing_ok=True)
            raise TransportError(f"GET {path}: the download was cut short: {e!r}") from e
        finally:
            resp.close()
        os.replace(tmp, dest)
        return dest


class Experiment:
    """One experiment as the server has it. Reads are lazy: nothing is fetched until asked for."""

    def __init__(self, api: Api, data: Mapping[str, Any]) -> None:
        self._api = api
        self._data = dict(data)
        self.id: str = data.get("experimentId") or data["id"]
        self.name: str = data.get("name", "")
        self.status: str = data.get("status", "")
        self.tags: list[str] = list(data.get("tags") or [])
        self.url: str = data.get("url", "")
        project = data.get("project")
        self.project: str | None = project.get("name") if isinstance(project, Mapping) else None
        self.project_id: int | None = data.get("projectId") or (
            project.get("id") if isinstance(project, Mapping) else None
        )
        created = data.get("createdAt")
        self.created_at = datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None
        self._config: dict[str, Any] | None = data.get("config") if "config" in data else None

    def __repr__(self) -> str:
        return f"<Experiment {self.id} {self.name!r} {self.status}>"

    @property
    def config(self) -> dict[str, Any]:
        """The run's config as logged."""
        if self._config is None:
            self._config = dict(self._api._json(f"/api/experiments/{self.id}").get("config") or {})
        return self._config

    @property
    def summary(self) -> dict[str, float]:
        """Each metric ("mode/name") at its latest step."""
        s = self._api._json(f"/api/experiments/{self.id}/summary")["summary"]
        return {k: number(v["value"]) for k, v in s.items()}

    def _history_params(
        self, keys: Iterable[str] | None, mode: str | None, min_step: int | None, max_step: int | None, fmt: str
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"shape": "wide", "format": fmt}
        if keys is not None:
            ks = [keys] if isinstance(keys, str) else list(keys)
            for k in ks:
                if "/" not in k:
                    raise ValueError(f"keys: {k!r} is not mode/name (train/loss)")
            params["key"] = ks
        if mode is not None:
            params["mode"] = mode
        if min_step is not None:
            params["from"] = int(min_step)
        if max_step is not None:
            params["to"] = int(max_step)
        return params

    def history(
        self,
        keys: Iterable[str] | None = None,
        mode: str | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
        format: str = "rows",
    ) -> Any:
        """Every logged point, never sampled: a row per step with a column per metric ("train/loss"),
        plus `step` and `ts` (when the row's points were logged).

        format="rows": a list of dicts holding the keys logged at that step; "pandas" or "polars": a
        DataFrame (NaN where a metric was not logged at that step).
        """
        path = f"/api/experiments/{self.id}/export/scalars"
        if format == "rows":
            return list(self.scan_history(keys, mode, min_step, max_step))
        if format == "pandas":
            import pandas as pd

            try:
                import pyarrow.parquet as pq
            except ImportError:
                buf = self._bytes(path, self._history_params(keys, mode, min_step, max_step, "csv"))
                df = pd.read_csv(io.BytesIO(buf), na_values=[""], keep_default_na=False, dtype={"experiment": str})
                return df.drop(columns=["experiment"])
            buf = self._bytes(path, self._history_params(keys, mode, min_step, max_step, "parquet"))
            return pq.read_table(pa_buffer(buf)).drop(["experiment"]).to_pandas()
        if format == "polars":
            import polars as pl

            buf = self._bytes(path, self._history_params(keys, mode, min_step, max_step, "parquet"))
            return pl.read_parquet(io.BytesIO(buf)).drop("experiment")
        raise ValueError(f'format must be "rows", "pandas" or "polars", not {format!r}')

    def scan_history(
        self,
        keys: Iterable[str] | None = None,
        mode: str | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """history() as an iterator of rows, read from the server as they are used."""
        params = self._history_params(keys, mode, min_step, max_step, "jsonl")
        resp = self._api._open(f"/api/experiments/{self.id}/export/scalars", params)
        try:
            for line in _lines(resp):
                row = json.loads(line)
                del row["experiment"]
                yield {k: number(v) for k, v in row.items() if v is not None}
        finally:
            resp.close()

    def rollouts(
        self,
        step: int | None = None,
        mode: str | None = None,
        q: str | None = None,
        reward: str | Iterable[str] | None = None,
        prompt: str | None = None,
        group: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The rollouts, in logging order, fetched a page at a time as iterated. `q` is a full-text search;
        `reward` one or more filters such as "correctness < 0.5". Each is a dict as the server sends it,
        with rewards as a {name: value} dict."""
        params: dict[str, Any] = {"limit": _PAGE}
        for k, v in (("step", step), ("mode", mode), ("q", q), ("prompt", prompt), ("group", group)):
            if v is not None:
                params[k] = v
        if reward is not None:
            params["reward"] = [reward] if isinstance(reward, str) else list(reward)
        after = 0
        while True:
            page = self._api._json(f"/api/experiments/{self.id}/rollouts", {**params, "after": after})
            for r in page["rollouts"]:
                r["rewards"] = {w["name"]: number(w["value"]) for w in r["rewards"]}
                r["ts"] = number(r.get("ts"))
                yield r
            if not page["more"] or not page["rollouts"]:
                return
            after = page["rollouts"][-1]["id"]

    def download(self, dir: str | os.PathLike[str], format: str = "parquet") -> list[Path]:
        """This experiment's scalars (long form) and rollouts as files in dir: scalars.<format> and
        rollouts.<format>. format: "parquet", "csv" or "jsonl"."""
        out = Path(dir)
        out.mkdir(parents=True, exist_ok=True)
        params = {"format": _format(format)}
        base = f"/api/experiments/{self.id}/export"
        return [
            self._api._save(base + "/scalars", params, out / f"scalars.{format}"),
            self._api._save(base + "/rollouts", params, out / f"rollouts.{format}"),
        ]

    def _bytes(self, path: str, params: Mapping[str, Any]) -> bytes:
        resp = self._api._open(path, params)
        try:
            return resp.read()
        except http.client.IncompleteRead as e:
            raise TransportError(f"GET {path}: the transfer was cut short") from e
        finally:
            resp.close()


class _Response:
    """A response and the connection it came on: closing one closes both (a connection a request)."""

    def __init__(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse) -> None:
        self._conn, self._resp = conn, resp

    def read(self, n: int | None = None) -> bytes:
        return self._resp.read(n)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._resp)

    def close(self) -> None:
        self._resp.close()
        self._conn.close()


def _saved_login() -> dict[str, str]:
    """What `expt login` saved: $EXPT_CONFIG, else $XDG_CONFIG_HOME/expt/config.json, else
    ~/.config/expt/config.json; {} when there is none."""
    path = os.environ.get("EXPT_CONFIG")
    if not path:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        path = os.path.join(base, "expt", "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in ("url", "key") and isinstance(v, str)}


def pa_buffer(b: bytes) -> Any:
    import pyarrow as pa

    return pa.BufferReader(b)


def _lines(resp: _Response) -> Iterator[bytes]:
    try:
        for line in resp:
            if line.strip():
                yield line
    except http.client.IncompleteRead as e:
        raise TransportError("the transfer was cut short") from e


def _format(f: str) -> str:
    if f not in ("parquet", "csv", "jsonl"):
        raise ValueError(f'format must be "parquet", "csv" or "jsonl", not {f!r}')
    return f


def _path(id: str) -> str:
    return urllib.parse.quote(str(id), safe="")


def _config_value(v: Any) -> str:
    return json.dumps(v)


def _query(params: Mapping[str, Any]) -> str:
    items: list[tuple[str, str]] = []
    for k, v in params.items():
        for x in v if isinstance(v, (list, tuple)) else [v]:
            items.append((k, str(x).lower() if isinstance(x, bool) else str(x)))
    return urllib.parse.urlencode(items)
