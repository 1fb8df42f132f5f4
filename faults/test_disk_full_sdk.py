"""Fast, exact reproducers of the two SDK bugs the disk-full scenario found (a torn line mid-segment after
ENOSPC; end() raising OSError into user code); they now guard the fix. Each uses a 1 MB tmpfs (root only;
skipped otherwise)."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import expt_logger
import pytest
from expt_logger import _spool


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "disk"
    d.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(d)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {r.stderr.strip()}")
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], check=False)


def fill(disk: Path) -> None:
    with open(disk / "ballast", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass


def test_segment_stays_whole_lines_after_enospc(tiny_disk: Path) -> None:
    sp = _spool.Spool(tiny_disk / "run")
    line = json.dumps(
        {"step": 0, "mode": "train", "name": "x" * 300, "value": 1.0, "ts": 0.0}
    ).encode()
    try:
        with pytest.raises(OSError):
            for _ in range(10_000):
                sp.append(
                    [line] * 100, 0.0
                )  # ~35 KB, more than the file buffer: as a busy 0.5 s drain
        subprocess.run(
            ["mount", "-o", "remount,size=4m", str(tiny_disk)], check=True
        )  # space comes back
        sp.append([line] * 10, 0.0)
        assert sp._path is not None
        path = sp._path
    finally:
        with contextlib.suppress(OSError):
            sp.close()
    lines = _spool.read_segment(path.with_suffix(_spool.SEALED_SUFFIX))
    torn = [i for i, ln in enumerate(lines) if ln != line]
    assert not torn, (
        f"{len(torn)} of {len(lines)} lines are not whole records: the server refuses the segment"
    )


def test_end_on_a_full_disk_does_not_raise(tiny_disk: Path) -> None:
    run = expt_logger.init(mode="offline", dir=tiny_disk / "spool")
    fill(tiny_disk)
    for s in range(100):
        run.log({"x": float(s)})
    try:
        run.end(
            timeout=2
        )  # "never raises into user code": what fits is kept, the rest is warned about
    finally:
        # Leave no thread writing and no file open for the tests that follow (warnings are errors).
        p = run._pipeline
        assert p is not None
        p.stopping = True
        p.wake_writer.set()
        p.writer.join(5)
        (tiny_disk / "ballast").unlink()
        with contextlib.suppress(OSError):
            p.spool.close()
