"""Background delivery: a spool-writer thread (memory -> disk, at least twice a second) and a sender
thread (disk -> server). Neither ever raises into user code; problems are logged once per kind."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import _spool, _system
from ._exceptions import AuthenticationError, TransportError
from ._records import SCALAR
from ._transport import Response, Transport
from ._warn import warn_once

log = logging.getLogger("expt_logger")

WRITE_TICK = 0.5  # seconds between spool writes: what a SIGKILL can lose at most
MAX_BACKOFF = 30.0
# While a run lives, idle or not, the server hears from it this often (seconds); when it stops hearing
# for its --crash-after (5 minutes), it marks the run crashed. EXPT_LOGGER_HEARTBEAT changes it (tests).
HEARTBEAT_EVERY = float(os.environ.get("EXPT_LOGGER_HEARTBEAT") or 60.0)
# With the default timeout, end() gives up after this long without any acknowledged batch: covers a
# server that accepts connections and never answers, which is otherwise only seen at the socket timeout.
END_STALL = 10.0
MAX_SEGMENT_ITEMS = 20_000  # while the sender is behind, segments grow up to this to send fewer requests
MAX_SEGMENT_BYTES = 4 << 20


class Rejected(Exception):
    """The server refused a batch as invalid: retrying cannot help."""


class Fatal(Exception):
    """This run can never be delivered to this server (e.g. its id belongs to another user)."""


def _check(resp: Response, what: str, base_url: str) -> Response:
    s = resp.status
    if 200 <= s < 300:
        return resp
    if s == 401:
        warn_once(
            "401",
            f"the server at {base_url} rejected the API key (401 {resp.error()}). Nothing is lost: data "
            "stays in the local spool. Set EXPT_LOGGER_API_KEY to a valid key and run "
            "`python -m expt_logger sync`.",
        )
        raise AuthenticationError(f"{what}: 401 {resp.error()}", s)
    if s == 409:
        raise Fatal(f"{what}: 409 {resp.error()}")
    if s in (400, 413, 422):
        raise Rejected(f"{what}: {s} {resp.error()}")
    raise TransportError(f"{what}: {s} {resp.error()}", s)


class Uploader:
    """Delivers one run's spool: create the experiment, sync its config and status, send segments."""

    def __init__(self, transport: Transport, base_url: str, run_dir: Path) -> None:
        self.t = transport
        self.base_url = base_url
        self.dir = run_dir
        self.created = False
        self.config_sent: str | None = None
        self.active_sent = False
        self.beats = True

    def _put(self, eid: str, body: dict[str, Any], what: str) -> None:
        r = self.t.request("PUT", f"/api/experiments/{eid}", body)
        if r.status == 404:
            self.created = False  # deleted on the server meanwhile: the next round creates it again
        _check(r, what, self.base_url)

    def sync_meta(self, meta: dict[str, Any]) -> None:
        eid = meta["experimentId"]
        cfg = json.dumps(meta.get("config") or {}, sort_keys=True)
        if not self.created:
            body: dict[str, Any] = {"id": eid, "config": meta.get("config") or {}}
            if meta.get("name"):
                body["name"] = meta["name"]
            for k in ("tags", "notes", "group", "project"):
                if k in meta:
                    body[k] = meta[k]
            r = _check(self.t.request("POST", "/api/experiments", body), "create experiment", self.base_url)
            self.created = True
            got = r.json() or {}
            # created:false means it already existed (attach, or a replay): its config may be stale.
            self.config_sent = cfg if got.get("created", True) else None
        if meta.get("attach") and not self.active_sent:
            self._put(eid, {"status": "active"}, "attach")
            self.active_sent = True
        if cfg != self.config_sent:
            self._put(eid, {"config": meta.get("config") or {}}, "update config")
            self.config_sent = cfg

    def send_segment(
        self, path: Path | _spool.MemSegment, eid: str, run_id: str, spool: _spool.MemorySpool | None = None
    ) -> int:
        """Send every batch of a segment, then delete it. Returns the number of items delivered."""
        try:
            lines = _spool.read_segment(path)
        except FileNotFoundError:
            return 0  # another process (a forked sibling, or sync) delivered it meanwhile
        n = 0
        for b in _spool.build_batches(lines, f"{run_id}/{path.name.split('.')[0]}"):
            try:
                r = self.t.request("POST", f"/api/experiments/{eid}/{b.kind}", b.body, {"Idempotency-Key": b.key})
                if r.status == 404:
                    self.created = False  # deleted on the server, or never created: create, then retry
                _check(r, f"send {b.kind}", self.base_url)
            except Rejected as exc:
                if spool is not None:
                    spool.remove_segment(path)  # type: ignore[arg-type]
                kept = _spool.reject(path)
                warn_once(f"rejected:{exc}", f"the server refused a batch ({exc}); kept it in {kept}")
                return n
            n += b.items
        if isinstance(path, _spool.MemSegment):
            if spool is not None:
                spool.remove_segment(path)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        return n

    def complete(self, eid: str, status: str = "complete") -> None:
        """Mark the run ended: "complete", or "failed" when its script died of an exception."""
        self._put(eid, {"status": status}, "end")

    def heartbeat(self, eid: str) -> None:
        """Tell the server the process is alive. A server without the route (the original platform, an
        older expt) answers 404 or 405: stop asking. Failures are the data path's to report."""
        if not self.beats or not self.created:
            return
        with contextlib.suppress(OSError, TransportError):
            r = self.t.request("POST", f"/api/experiments/{eid}/heartbeat")
            if r.status in (404, 405):
                self.beats = False


def upload_dir(transport: Transport, base_url: str, run_dir: Path, progress: Callable[[int], None] | None) -> int:
    """Upload a leftover spool whose owner is gone (sync, or the next init). Raises on failure."""
    meta = _spool.read_meta(run_dir)
    if meta is None:
        raise TransportError(f"{run_dir}: no readable meta.json")
    up = Uploader(transport, base_url, run_dir)
    up.sync_meta(meta)
    total = 0
    for seg in _spool.segments(run_dir, include_open=True):
        n = up.send_segment(seg, meta["experimentId"], meta["runId"])
        total += n
        if progress:
            progress(n)
    if meta.get("status") in ("complete", "failed"):
        up.complete(meta["experimentId"], meta["status"])
    _spool.remove_run(run_dir)
    return total


class Pipeline:
    """Owns the in-memory queue, the spool, and the two background threads of one run."""

    def __init__(
        self,
        spool: _spool.Spool | _spool.MemorySpool,
        meta: dict[str, Any],
        transport_factory: Callable[[], Transport] | None,
        base_url: str,
        flush_interval: float,
        flush_items: int,
        spool_root: Path | None = None,
        system: bool = False,
    ) -> None:
        self.spool = spool
        # Made on the spool thread: loading NVML can take a moment on a GPU machine.
        self.system_wanted = system
        self.system: _system.SystemSampler | None = None
        self.first_sample = threading.Event()  # set once the first sample is queued (or cannot be)
        self.meta = meta
        self.base_url = base_url
        self.flush_interval = flush_interval
        self.flush_items = max(1, flush_items)
        self.pending: deque[tuple[Any, ...]] = deque()
        self.spool_dropped = 0  # items lost because the spool could not be written (disk full)
        self.last_progress = 0.0  # monotonic time the server last acknowledged a segment
        self._transport_factory = transport_factory
        self._spool_root = spool_root
        self.owner_pid = os.getpid()  # the process that created the run; a forked child never ends it
        self._init_sync()
        self._start()

    def _init_sync(self) -> None:
        self.lock = threading.RLock()  # spool writes: writer thread, flush()/end() and signal handlers
        self.cond = threading.Condition()  # progress reports from the sender
        self.wake_writer = threading.Event()
        self.wake_sender = threading.Event()
        self.kick = threading.Event()  # flush()/end(): cut a retry backoff short
        self.stopping = False
        self.ending = False
        self.finished = False  # everything delivered and the run marked complete
        self.meta_dirty = False
        self.meta_version = 0
        self.done_seq = -1
        self.sealed_seq = self.spool.last_sealed
        self.sent_items = 0
        self.last_error: str | None = None
        self.pid = os.getpid()

    def _start(self) -> None:
        self.writer = threading.Thread(target=self._writer_loop, name="expt-logger-spool", daemon=True)
        self.writer.start()
        self.sender: threading.Thread | None = None
        if self._transport_factory is not None:
            self.sender = threading.Thread(target=self._sender_loop, name="expt-logger-sender", daemon=True)
            self.sender.start()

    def after_fork_in_child(self) -> None:
        """The child has no threads and possibly locks held by dead threads: start over, dropping the
        parent's queued items (the parent still owns and delivers them)."""
        self.pending = deque()
        self.spool.after_fork()
        # The parent samples the machine; a forked child (a data loader worker) must not as well.
        self.system_wanted, self.system = False, None
        self.first_sample = threading.Event()
        self._init_sync()
        self._start()

    # --- the caller's side -------------------------------------------------------------------------

    def config_changed(self, config: dict[str, Any]) -> None:
        with self.lock:
            self.meta["config"] = config
            self.meta_dirty = True
        self.wake_writer.set()

    def drain(self, force_seal: bool = False) -> None:
        """Move queued items to the spool; seal the segment when it is due. Any thread may call it."""
        with self.lock:
            pending = self.pending
            n = len(pending)
            if n:
                lines = []
                first_ts = 0.0
                for i in range(n):
                    item = pending.popleft()
                    kind = item[0]
                    lines.append(kind.encode(item))
                    if i == 0:
                        first_ts = kind.ts(item)
                try:
                    self.spool.append(lines, first_ts)
                except OSError as exc:
                    # The disk is full (or gone): these items cannot be kept. Training must go on,
                    # so they are dropped and counted, never raised into log(), flush() or end().
                    self.spool_dropped += n
                    warn_once("spool", f"cannot write the spool in {self.spool.dir}: {exc}; dropping items meanwhile")
            if self.meta_dirty and self.pid == self.owner_pid:
                try:
                    self.spool.write_meta(self.meta)
                except OSError as exc:
                    warn_once("spool-meta", f"cannot write the run's metadata in {self.spool.dir}: {exc}; retrying")
                else:
                    self.meta_dirty = False
                    self.meta_version += 1
                    self.wake_sender.set()
            sp = self.spool
            if sp.open_items:
                backlog = self.sealed_seq > self.done_seq
                limit = MAX_SEGMENT_ITEMS if backlog else self.flush_items
                if (
                    force_seal
                    or sp.open_items >= limit
                    or sp.open_bytes >= MAX_SEGMENT_BYTES
                    or time.time() - sp.open_since >= self.flush_interval
                ):
                    try:
                        seq = sp.seal()
                    except OSError as exc:
                        warn_once("spool-seal", f"cannot seal a spool segment in {sp.dir}: {exc}; retrying")
                        seq = None
                    if seq is not None:
                        self.sealed_seq = seq
                        self.wake_sender.set()

    def flush(self, timeout: float | None) -> bool:
        """Seal what is queued and wait until the server acknowledged it (or timeout)."""
        self.drain(force_seal=True)
        if self.sender is None:
            return False
        target = self.sealed_seq
        self.wake_sender.set()
        self.kick.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cond:
            while self.done_seq < target:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self.cond.wait(left if left is None else min(left, 1.0))
        return True

    def end(
        self,
        timeout: float | None,
        complete: bool = True,
        failing_timeout: float | None = None,
        status: str = "complete",
    ) -> bool:
        """Seal everything, mark the run complete (`complete`), and wait for delivery up to `timeout`;
        with `failing_timeout`, wait only that long once the server is failing (everything is already
        in the spool by then, and the next init() or `sync` uploads it)."""
        if not complete:  # a forked child: deliver its own data, leave the parent's experiment alone
            ok = self.flush(timeout)
            self.stopping = True
            self.wake_writer.set()
            return ok
        if self.system_wanted:
            # A run of a moment still gets its one system sample: the spool thread takes it as
            # it starts, which a script that ends at once can outrun. Bounded, and only at end().
            self.first_sample.wait(1.0)
        with self.lock:
            self.meta["status"] = status
            self.meta_dirty = True
            self.drain(force_seal=True)
            self.ending = True
        self.stopping = True
        self.wake_writer.set()
        if self.sender is None:
            return False
        self.wake_sender.set()
        self.kick.set()
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        with self.cond:
            while not self.finished:
                if failing_timeout is not None and time.monotonic() - max(start, self.last_progress) > END_STALL:
                    # No answer at all for END_STALL: a server that accepts and never answers (a black
                    # hole) is only reported at the socket timeout; the data is in the spool meanwhile.
                    return False
                if failing_timeout is not None and self.last_error is not None:
                    cut = time.monotonic() + failing_timeout
                    deadline = cut if deadline is None else min(deadline, cut)
                    failing_timeout = None  # the cut is set once, from the first failure seen
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self.cond.wait(left if left is None else min(left, 1.0))
        return True

    # --- background threads ------------------------------------------------------------------------

    def _writer_loop(self) -> None:
        if self.system_wanted:
            try:
                self.system = _system.SystemSampler()
            except Exception as exc:  # metrics are extra: never let them stop the spool
                warn_once("system-metrics", f"no system metrics: {exc}")
        if self.system is None:
            self.first_sample.set()
        while not self.stopping:
            # Not once end() began: its final drain and seal must see everything there is. The
            # first sample is taken at once, so even a short run has one.
            system = self.system
            if system is not None and not (self.ending or self.stopping) and time.monotonic() >= system.next_at:
                self._sample_system(system)
            self.wake_writer.wait(WRITE_TICK)
            self.wake_writer.clear()
            try:
                self.drain()
            except Exception as exc:  # the spool is the safety net: keep trying, say so once
                warn_once(f"drain:{type(exc).__name__}", f"spool write failed: {exc}")

    def _sample_system(self, sampler: _system.SystemSampler) -> None:
        """Queue one sample of the system metrics, at the Unix second as its step (see _system)."""
        sampler.next_at = time.monotonic() + _system.interval()
        try:
            values = sampler.sample()
        except Exception as exc:  # metrics are extra: never let them stop the spool
            warn_once("system-metrics", f"system metrics stopped: {exc}")
            self.system = None
            self.first_sample.set()
            return
        ts = time.time()
        step = int(ts)
        with self.lock:  # end() seals the spool under it: nothing may join after that
            if not self.ending:
                self.pending.extend((SCALAR, step, _system.MODE, name, v, ts) for name, v in values.items())
        self.first_sample.set()

    def _sender_loop(self) -> None:
        assert self._transport_factory is not None
        transport = self._transport_factory()
        try:
            self._send_until_finished(transport)
        finally:
            transport.close()

    def _upload_leftovers(self) -> None:
        assert self._spool_root is not None and self._transport_factory is not None
        transport = self._transport_factory()
        try:
            for d in _spool.leftover_runs(self._spool_root, self.base_url, exclude=self.spool.dir.name):
                n = upload_dir(transport, self.base_url, d, None)
                log.info("expt_logger: uploaded %d leftover items from %s", n, d)
        except Exception as exc:  # the next init() or `python -m expt_logger sync` tries again
            warn_once("leftovers", f"could not upload leftover spools: {exc}")
        finally:
            transport.close()

    def _send_until_finished(self, transport: Transport) -> None:
        up = Uploader(transport, self.base_url, self.spool.dir)
        eid, run_id = self.meta["experimentId"], self.meta["runId"]
        backoff = 0.5
        leftovers_done = self._spool_root is None
        last_beat = -HEARTBEAT_EVERY
        while True:
            try:
                with self.lock:
                    meta = dict(self.meta)
                up.sync_meta(meta)
                mem = self.spool if isinstance(self.spool, _spool.MemorySpool) else None
                for seg in self.spool.sealed_segments():
                    seq = _spool.seg_seq(seg)[0]
                    n = up.send_segment(seg, eid, run_id, mem)
                    with self.cond:
                        self.last_progress = time.monotonic()
                        self.sent_items += n
                        self.done_seq = max(self.done_seq, seq)
                        self.cond.notify_all()
                if self.ending and self.done_seq >= self.sealed_seq and not self.finished:
                    with self.lock:
                        meta = dict(self.meta)
                    up.sync_meta(meta)  # config changes made just before end()
                    up.complete(eid, meta.get("status", "complete"))
                    self.spool.remove_run()
                    with self.cond:
                        self.finished = True
                        self.cond.notify_all()
                if not leftovers_done:
                    # The server is reachable and our key works: upload what earlier, crashed runs left
                    # for this server, on a thread of its own so it never delays this run's data.
                    leftovers_done = True
                    threading.Thread(target=self._upload_leftovers, name="expt-logger-leftovers", daemon=True).start()
                backoff = 0.5
                self.last_error = None
                if self.finished:
                    return
                if time.monotonic() - last_beat >= HEARTBEAT_EVERY:
                    up.heartbeat(eid)
                    last_beat = time.monotonic()
                self.wake_sender.wait(max(0.0, HEARTBEAT_EVERY - (time.monotonic() - last_beat)))
                self.wake_sender.clear()
            except Fatal as exc:
                warn_once("fatal", f"giving up on sending to {self.base_url}: {exc}; data kept in {self.spool.dir}")
                return
            except Exception as exc:  # network down, 5xx, 401: keep the data, retry with backoff
                self.last_error = str(exc)
                if not isinstance(exc, AuthenticationError):
                    warn_once(
                        # Once per run, not per process: a second run in the same process (or a
                        # first run still retrying in the background) must not silence this one.
                        f"unreachable:{self.spool.dir}",
                        f"cannot deliver to {self.base_url} ({exc}); retrying in the background, data is kept "
                        f"in {self.spool.dir}",
                    )
                delay = backoff * random.uniform(0.5, 1.5)
                backoff = min(backoff * 2, MAX_BACKOFF)
                self.kick.wait(delay)
                self.kick.clear()
