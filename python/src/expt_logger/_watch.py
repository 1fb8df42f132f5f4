"""`expt-logger watch --format FORMAT DIR...`: follow a framework's own dump files into an experiment.

No change to the training script: point it at the run's output directory while it trains (or after, with
`--once`). What was imported is kept in a state file (by default under the spool root, one per directory,
format and server), so a second run imports nothing twice and a restarted watcher resumes where it stopped.
The state moves on only once the server has acknowledged what was read; if the watcher dies in the moment
between the two, that last file's records come once more.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from ._config import Settings
from .integrations._formats import FORMATS, Record, Rollout, Scalars, Spec, prime_rl

CHUNK = 8 << 20  # bytes of a growing file read per pass, so memory stays bounded whatever its size


class Watcher:
    def __init__(
        self,
        fmt: str,
        roots: Sequence[str],
        state_path: Path,
        run: Any,
        settle: float,
        subset: str = "effective",
        out: TextIO | None = None,
    ) -> None:
        self.fmt, self.roots, self.state_path, self.run, self.settle = (
            fmt,
            [os.path.abspath(r) for r in roots],
            state_path,
            run,
            settle,
        )
        self.subset = subset
        self.state: dict[str, Any] = load_state(state_path)
        self.files: dict[str, dict[str, Any]] = self.state.setdefault("files", {})
        self.counts = {"points": 0, "rollouts": 0, "skipped": 0}
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self.stop = threading.Event()
        self.pending_whole = 0

    def specs(self) -> list[Spec]:
        find = partial(prime_rl, subset=self.subset) if self.fmt == "prime-rl" else FORMATS[self.fmt]
        return [spec for r in self.roots for spec in find(r)]

    def once(self) -> None:
        """One pass over every file: what is new in each goes in, acknowledged before the state moves on."""
        specs = self.specs()
        self.pending_whole = 0
        for i, spec in enumerate(specs):
            if self.stop.is_set():
                return
            try:
                if spec.kind == "lines":
                    while self._lines(spec):  # a large file in bounded chunks
                        pass
                else:
                    self._whole(spec)
            except OSError as e:
                print(f"\nexpt-logger watch: {spec.path}: {e}", file=self.out)
            self._progress(i + 1, len(specs))

    def _lines(self, spec: Spec) -> bool:
        st = os.stat(spec.path)
        rec = self.files.get(spec.path, {})
        offset = int(rec.get("offset", 0))
        with open(spec.path, "rb") as f:
            # Rewritten from the start (verl's file logger opens "wb" when the trainer restarts): its first
            # bytes differ from those read before, or it is shorter. Points then replace the old ones.
            if offset and (rec.get("ino") != st.st_ino or st.st_size < offset or _head(f, offset) != rec.get("head")):
                offset = 0
            if st.st_size == offset:
                return False
            f.seek(offset)
            data = f.read(CHUNK)
            end = data.rfind(b"\n")
            if end < 0:
                return False  # a line still being written
            new_offset = offset + end + 1
            head = _head(f, new_offset)
        records: list[Record] = []
        for raw in data[: end + 1].splitlines():
            if not raw.strip():
                continue
            try:
                records.extend(spec.parse(json.loads(raw)))
            except Exception:
                self.counts["skipped"] += 1
        self._commit(records, spec.path, {"offset": new_offset, "ino": st.st_ino, "head": head})
        return new_offset < st.st_size and len(data) == CHUNK

    def _whole(self, spec: Spec) -> None:
        st = os.stat(spec.path)
        rec = self.files.get(spec.path)
        seen = {"size": st.st_size, "mtime": st.st_mtime_ns}
        if rec is not None and rec.get("size") == st.st_size and rec.get("mtime") == st.st_mtime_ns:
            return
        if time.time() - st.st_mtime < self.settle:
            self.pending_whole += 1  # still being written, or just finished: next pass
            return
        try:
            records = list(spec.parse(spec.path))
        except Exception as e:  # a file cut short: it is read again once it has changed
            self.counts["skipped"] += 1
            print(f"\nexpt-logger watch: {spec.path}: {e!r}", file=self.out)
            self.files[spec.path] = {**seen, "error": True}
            return
        if rec is not None and not rec.get("error"):
            # Written again after it was imported: its points replace the old ones, its rollouts are not
            # taken twice.
            records = [r for r in records if isinstance(r, Scalars)]
        self._commit(records, spec.path, seen)

    def _commit(self, records: list[Record], path: str, rec: dict[str, Any]) -> None:
        run = self.run
        for r in records:
            try:
                if isinstance(r, Scalars):
                    if r.metrics:
                        run.log(r.metrics, step=r.step, mode=r.mode)
                        self.counts["points"] += len(r.metrics)
                elif isinstance(r, Rollout):
                    r.log_to(run)
                    self.counts["rollouts"] += 1
            except (TypeError, ValueError):
                self.counts["skipped"] += 1
        # The state moves on only once the server has what was read.
        while not run.flush(timeout=30):
            if self.stop.is_set():
                return
            print("\nexpt-logger watch: the server has not acknowledged yet; retrying", file=self.out)
        self.files[path] = rec
        save_state(self.state_path, self.state)

    def _progress(self, done: int, total: int) -> None:
        if self.tty:
            width = 24
            filled = width * done // max(total, 1)
            c = self.counts
            self.out.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files · "
                f"{c['points']} points · {c['rollouts']} rollouts"
            )
            self.out.flush()


def _head(f: Any, upto: int) -> str:
    """A digest of a file's first bytes (at most 4 KB, and not past `upto`), to tell it was rewritten."""
    f.seek(0)
    return hashlib.sha256(f.read(min(upto, 4096))).hexdigest()[:16]


def load_state(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            s = json.load(f)
        return s if isinstance(s, dict) else {}
    except (OSError, ValueError):
        return {}


def save_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def default_state(settings: Settings, fmt: str, roots: Sequence[str]) -> Path:
    key = json.dumps([settings.base_url, fmt, sorted(os.path.abspath(r) for r in roots)])
    return settings.spool_dir / "watch" / (hashlib.sha256(key.encode()).hexdigest()[:16] + ".json")


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="expt-logger watch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--format", required=True, choices=sorted(FORMATS), help="whose dump files DIR holds")
    ap.add_argument("dirs", nargs="+", metavar="DIR", help="the run's output directory (or directories, or files)")
    ap.add_argument("--once", action="store_true", help="import what is there now and exit")
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between looks (default 2)")
    ap.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds a file written whole must be unchanged before it is read (default 2)",
    )
    ap.add_argument("--name", help="experiment name (default: the directory's name)")
    ap.add_argument("--project", help="project to log into")
    ap.add_argument("--state", type=Path, help="state file (default: under the spool root)")
    ap.add_argument(
        "--prime-subset",
        default="effective",
        choices=["effective", "all"],
        help="prime-rl training episodes: those trained on (default) or every one",
    )
    args = ap.parse_args(argv)
    for d in args.dirs:
        if not os.path.exists(d):
            print(f"expt-logger watch: {d}: no such file or directory", file=sys.stderr)
            return 2
    settings = Settings.resolve()
    if not settings.api_key and settings.delivery == "online":
        print("expt-logger watch: set EXPT_LOGGER_API_KEY", file=sys.stderr)
        return 2
    state_path = args.state or default_state(settings, args.format, args.dirs)
    state = load_state(state_path)
    import expt_logger

    name = args.name or os.path.basename(os.path.normpath(os.path.abspath(args.dirs[0])))
    run = expt_logger.init(
        name=name,
        project=args.project,
        experiment_id=state.get("experimentId"),
        system_metrics=False,
        config={"watch": {"format": args.format, "dirs": [os.path.abspath(d) for d in args.dirs]}}
        if not state.get("experimentId")
        else None,
    )
    w = Watcher(args.format, args.dirs, state_path, run, args.settle, args.prime_subset)
    if w.state.get("experimentId") != run.id:
        w.state["experimentId"] = run.id
        save_state(state_path, w.state)

    def on_signal(signum: int, frame: Any) -> None:
        w.stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(
            f"expt-logger watch: {args.format} {' '.join(args.dirs)} -> {settings.base_url}/experiments/{run.id}",
            file=sys.stderr,
        )
        while not w.stop.is_set():
            w.once()
            if args.once:
                break
            w.stop.wait(args.interval)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        run.end()
    if w.tty:
        sys.stderr.write("\n")
    c = w.counts
    more = f", {w.pending_whole} files still being written" if args.once and w.pending_whole else ""
    print(
        f"expt-logger watch: {c['points']} points, {c['rollouts']} rollouts, {c['skipped']} records skipped{more}",
        file=sys.stderr,
    )
    return 0
