"""The durable spool: every logged item reaches disk before any attempt to send it.

Layout under the spool root (EXPT_LOGGER_DIR):

    runs/<run id>/meta.json                    experiment id, name, config, base URL, owner pid, status
    runs/<run id>/<seq>-<pid>.open             the segment being appended to (JSON lines)
    runs/<run id>/<seq>-<pid>.seg              sealed segments, sent in order, deleted once acknowledged
    runs/<run id>/rejected/                    segments the server refused as invalid (kept for inspection)

Segments are append-only; a process killed mid-write leaves at most a torn last line, which readers skip.
A segment's batches and their Idempotency-Keys are a pure function of its content and name, so a replay
(after a crash between send and delete, or by `python -m expt_logger sync`) is recognised by the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ._records import KINDS, Kind

META = "meta.json"
OPEN_SUFFIX = ".open"
SEALED_SUFFIX = ".seg"


def runs_root(root: Path) -> Path:
    return root / "runs"


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_meta(run_dir: Path) -> dict[str, Any] | None:
    try:
        with open(run_dir / META, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_alive(meta: dict[str, Any]) -> bool:
    """Whether the process that wrote this spool may still be using it (and so must be left alone)."""
    if meta.get("host") != socket.gethostname():
        return False  # another machine's spool copied here: nothing local owns it
    pid = meta.get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        return False
    # A pid reused by a process that started after the run did is not the owner.
    started = meta.get("startedAt")
    try:
        proc_start = os.stat(f"/proc/{pid}").st_ctime
    except OSError:
        return True
    return not (isinstance(started, (int, float)) and proc_start > started + 2)


def seg_seq(path: Path | MemSegment) -> tuple[int, int]:
    seq, _, pid = path.name.split(".")[0].partition("-")
    try:
        return int(seq), int(pid or 0)
    except ValueError:
        return (1 << 62, 0)


def segments(run_dir: Path, pid: int | None = None, include_open: bool = False) -> list[Path]:
    """Sealed segments in send order; with include_open also the unsealed ones (for a dead owner)."""
    out = []
    try:
        entries = list(os.scandir(run_dir))
    except FileNotFoundError:
        return []
    for e in entries:
        name = e.name
        if name.endswith(SEALED_SUFFIX) or (include_open and name.endswith(OPEN_SUFFIX)):
            p = Path(e.path)
            if pid is None or seg_seq(p)[1] == pid:
                out.append(p)
    out.sort(key=seg_seq)
    return out


def read_segment(path: Path | MemSegment) -> list[bytes]:
    """The segment's complete lines; a torn last line (a crash mid-write) is dropped."""
    if isinstance(path, MemSegment):
        return path.lines
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    # The last element is b"" when the file ends with a newline, else a torn line.
    return [ln for ln in lines[:-1] if ln]


@dataclass(frozen=True)
class Batch:
    kind: str  # the endpoint: a Kind.endpoint
    key: str  # Idempotency-Key
    body: bytes  # JSON request body
    items: int


def build_batches(lines: list[bytes], key_prefix: str) -> list[Batch]:
    """Turn a segment's lines into request bodies. Deterministic: same lines, same batches and keys."""
    chunks: dict[Kind, list[list[bytes]]] = {k: [[]] for k in KINDS}
    size: dict[Kind, int] = dict.fromkeys(KINDS, 0)
    wrapped = [(k.wrap, len(k.wrap), k) for k in KINDS if k.wrap]
    plain = next(k for k in KINDS if not k.wrap)
    # kind_of and Kind.wire inlined: this loop runs once per logged item on the sender's thread.
    for ln in lines:
        k, body = plain, ln
        for wrap, n, kind in wrapped:
            if ln.startswith(wrap):
                k, body = kind, ln[n:-1]
                break
        cur = chunks[k][-1]
        if cur and (len(cur) >= k.max_items or (k.max_bytes and size[k] + len(body) > k.max_bytes)):
            cur = []
            chunks[k].append(cur)
            size[k] = 0
        cur.append(body)
        size[k] += len(body)
    out: list[Batch] = []
    for k in KINDS:
        head = b'{"' + k.endpoint.encode() + b'":['
        for i, chunk in enumerate(c for c in chunks[k] if c):
            out.append(Batch(k.endpoint, f"{key_prefix}/{k.key}{i}", head + b",".join(chunk) + b"]}", len(chunk)))
    return out


class Spool:
    """One run's spool directory. Not thread-safe: the pipeline serialises writers with its own lock."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pid = os.getpid()
        self._seq = self._next_seq()
        self._file: IO[bytes] | None = None
        self._path: Path | None = None
        self.open_items = 0
        self.open_bytes = 0
        self.open_since = 0.0  # ts of the first item in the open segment
        self.last_sealed = -1

    def _next_seq(self) -> int:
        existing = [seg_seq(p)[0] for p in segments(self.dir, include_open=True)]
        return max(existing, default=-1) + 1

    def after_fork(self) -> None:
        """In a forked child: never touch the parent's open file; start our own segments."""
        self.pid = os.getpid()
        self._file = None
        self._path = None
        self.open_items = 0
        self.open_bytes = 0
        self._seq = self._next_seq()

    def append(self, lines: list[bytes], first_ts: float) -> None:
        """Write lines to the open segment, all or none: a write the disk cuts short (ENOSPC, a
        quota) is truncated away before the OSError is raised, so a segment only ever holds whole
        lines and what is appended after space comes back is still readable."""
        if self._file is None:
            self._path = self.dir / f"{self._seq:010d}-{self.pid}{OPEN_SUFFIX}"
            # Unbuffered: no bytes wait in a userspace buffer that a later call could flush after a
            # torn write, and each append is in the OS at once (a SIGKILL after it loses nothing).
            self._file = open(self._path, "ab", buffering=0)  # noqa: SIM115 - stays open across calls
            self.open_since = first_ts
        data = b"\n".join(lines) + b"\n"
        fd = self._file.fileno()
        start = self.open_bytes
        view = memoryview(data)
        try:
            while view:
                n = os.write(fd, view)
                view = view[n:]
        except OSError:
            try:
                os.ftruncate(fd, start)
            except OSError:
                # Cannot even shrink the file: seal nothing more into it; readers drop a torn tail.
                self._abandon()
            raise
        self.open_items += len(lines)
        self.open_bytes += len(data)

    def _abandon(self) -> None:
        """Stop writing to the open segment (its tail may be torn) and start a new one next time."""
        if self._file is not None and self._path is not None:
            self._file.close()
            if self.open_items:
                os.replace(self._path, self._path.with_suffix(SEALED_SUFFIX))
                self.last_sealed = self._seq
            else:
                self._path.unlink(missing_ok=True)
            self._seq += 1
        self._file = None
        self._path = None
        self.open_items = 0
        self.open_bytes = 0

    def seal(self) -> int | None:
        """Close the open segment and make it sendable; returns its sequence number."""
        if self._file is None or self._path is None:
            return None
        self._file.close()
        os.replace(self._path, self._path.with_suffix(SEALED_SUFFIX))
        seq = self._seq
        self.last_sealed = seq
        self._seq += 1
        self._file = None
        self._path = None
        self.open_items = 0
        self.open_bytes = 0
        return seq

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_json_atomic(self.dir / META, meta)

    def close(self) -> None:
        self.seal()

    def sealed_segments(self) -> list[Path]:
        """This process's sealed segments, in send order."""
        return segments(self.dir, pid=self.pid)

    def remove_segment(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)

    def remove_run(self) -> None:
        remove_run(self.dir)


# The most a memory spool holds; past it the oldest segments are dropped.
MEMORY_SPOOL_BYTES = 64 << 20


@dataclass
class MemSegment:
    """A sealed segment of a MemorySpool; named like a file segment, so its batches get the same keys."""

    name: str
    lines: list[bytes]
    size: int


class MemorySpool:
    """The spool when its directory cannot be used (read-only, full, not permitted): segments kept in
    memory, at most MEMORY_SPOOL_BYTES (the oldest dropped past it, counted). Delivery works the same;
    what is unsent when the process ends is lost, which `end()` says."""

    def __init__(self, run_id: str, reason: str) -> None:
        self.dir = Path(f"<memory:{run_id}>")
        self.reason = reason
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._seq = 0
        self._open: list[bytes] = []
        self._sealed: dict[int, MemSegment] = {}
        self.bytes = 0
        self.dropped = 0  # items dropped past the bound
        self.open_items = 0
        self.open_bytes = 0
        self.open_since = 0.0
        self.last_sealed = -1

    def after_fork(self) -> None:
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._open, self._sealed, self.bytes = [], {}, 0
        self.open_items = self.open_bytes = 0

    def append(self, lines: list[bytes], first_ts: float) -> None:
        if not self._open:
            self.open_since = first_ts
        self._open.extend(lines)
        self.open_items += len(lines)
        self.open_bytes += sum(len(ln) + 1 for ln in lines)

    def seal(self) -> int | None:
        if not self._open:
            return None
        seq = self._seq
        seg = MemSegment(f"{seq:010d}-{self.pid}{SEALED_SUFFIX}", self._open, self.open_bytes)
        with self._lock:
            self._sealed[seq] = seg
            self.bytes += seg.size
            while self.bytes > MEMORY_SPOOL_BYTES and len(self._sealed) > 1:
                old = self._sealed.pop(next(iter(self._sealed)))
                self.bytes -= old.size
                self.dropped += len(old.lines)
        self._seq += 1
        self.last_sealed = seq
        self._open, self.open_items, self.open_bytes = [], 0, 0
        return seq

    def write_meta(self, meta: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        self.seal()

    def sealed_segments(self) -> list[MemSegment]:
        with self._lock:
            return list(self._sealed.values())

    def remove_segment(self, seg: MemSegment) -> None:
        with self._lock:
            if self._sealed.pop(seg_seq(seg)[0], None) is not None:
                self.bytes -= seg.size

    def remove_run(self) -> None:
        pass


def reject(path: Path | MemSegment) -> Path:
    """Move a segment the server refuses as invalid out of the send queue, keeping it for inspection."""
    if isinstance(path, MemSegment):
        return Path("<memory: dropped>")
    dest = path.parent / "rejected"
    dest.mkdir(exist_ok=True)
    target = dest / path.name
    os.replace(path, target)
    return target


def remove_run(run_dir: Path) -> None:
    """Delete a fully acknowledged run's spool. Keeps it if anything unsent or rejected is still there."""
    if (run_dir / "rejected").exists() or segments(run_dir, include_open=True):
        return
    shutil.rmtree(run_dir, ignore_errors=True)


def leftover_runs(root: Path, base_url: str | None, exclude: str | None = None) -> Iterator[Path]:
    """Spools whose owning process is gone, optionally only those for one server, oldest first."""
    rr = runs_root(root)
    try:
        dirs = sorted(rr.iterdir(), key=lambda p: p.stat().st_mtime)
    except (FileNotFoundError, NotADirectoryError):
        return
    for d in dirs:
        if not d.is_dir() or d.name == exclude:
            continue
        meta = read_meta(d)
        if meta is None or owner_alive(meta):
            continue
        if base_url is not None and meta.get("baseUrl") != base_url:
            continue
        yield d
