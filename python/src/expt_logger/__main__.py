"""`python -m expt_logger sync [--all] [RUN_DIR ...]`: upload spools that earlier runs left behind.
`python -m expt_logger watch --format FORMAT DIR...`: follow a framework's own dump files (see _watch)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from . import _spool
from ._config import Settings
from ._sender import upload_dir
from ._transport import HTTPTransport


class Progress:
    """A one-line progress bar on a terminal; silent otherwise (logs and CI stay clean)."""

    def __init__(self, total: int, out: TextIO) -> None:
        self.total, self.done, self.out = max(total, 1), 0, out
        self.tty = out.isatty()

    def __call__(self, n: int) -> None:
        self.done += 1
        if self.tty:
            width = 30
            filled = width * self.done // self.total
            self.out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} segments")
            self.out.flush()

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")


def sync(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m expt_logger sync", description=__doc__)
    ap.add_argument("--all", action="store_true", help="upload spools for every server, not only EXPT_LOGGER_BASE_URL")
    ap.add_argument("--dir", help="spool root (default: EXPT_LOGGER_DIR or the user cache directory)")
    ap.add_argument("runs", nargs="*", type=Path, help="specific run directories to upload")
    args = ap.parse_args(argv)
    settings = Settings.resolve(spool_dir=args.dir)
    if not settings.api_key:
        print("expt_logger sync: set EXPT_LOGGER_API_KEY to upload", file=sys.stderr)
        return 2
    dirs = list(args.runs) or list(_spool.leftover_runs(settings.spool_dir, None if args.all else settings.base_url))
    if not dirs:
        print(f"expt_logger sync: nothing to upload in {settings.spool_dir}", file=sys.stderr)
        return 0
    failed = 0
    total_items = 0
    for d in dirs:
        meta = _spool.read_meta(d)
        if meta is None:
            print(f"expt_logger sync: {d}: no readable meta.json, skipped", file=sys.stderr)
            failed += 1
            continue
        if _spool.owner_alive(meta):
            print(f"expt_logger sync: {d}: its process {meta.get('pid')} is still running, skipped", file=sys.stderr)
            continue
        base_url = str(meta.get("baseUrl") or settings.base_url)
        bar = Progress(len(_spool.segments(d, include_open=True)), sys.stderr)
        transport = HTTPTransport(base_url, settings.api_key)
        try:
            n = upload_dir(transport, base_url, d, bar)
        except Exception as exc:
            bar.close()
            print(f"expt_logger sync: {d}: {exc}", file=sys.stderr)
            failed += 1
            continue
        finally:
            transport.close()
        bar.close()
        total_items += n
        print(f"expt_logger sync: {meta.get('name')} ({meta.get('experimentId')}): {n} items -> {base_url}")
    print(f"expt_logger sync: uploaded {total_items} items from {len(dirs) - failed} of {len(dirs)} spools")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m expt_logger sync [--all] [--dir DIR] [RUN_DIR ...]")
        print("       python -m expt_logger watch --format trl|verl|prime-rl|art|nemo-rl|jsonl [--once] DIR...")
        return 0 if argv else 2
    if argv[0] == "watch":
        from . import _watch

        return _watch.main(argv[1:])
    if argv[0] != "sync":
        print(f"expt_logger: unknown command {argv[0]!r}; try: sync, watch", file=sys.stderr)
        return 2
    return sync(argv[1:])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
