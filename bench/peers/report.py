"""The machine, the versions and the Markdown report."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from common import LIBS, REPO

# --- orchestration and report -------------------------------------------------------------------------


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("wandb", "trackio", "mlflow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores, {model or platform.processor()}{mem}, {platform.system()} {platform.release()}"


def loadavg() -> str:
    """1-minute load: the machine is shared, so what else ran shows in the figures."""
    return f"{os.getloadavg()[0]:.2f}"


def fmt_us(x: float) -> str:
    return f"{x / 1000:.2f} ms" if x >= 1000 else f"{x:.1f} µs"


def ratio(x: float, base: float) -> str:
    return (
        "1x"
        if x == base
        else (f"{x / base:.0f}x" if x / base >= 10 else f"{x / base:.1f}x")
    )


def render(
    a: argparse.Namespace,
    load: tuple[str, str],
    caller: dict[str, dict[str, Any]],
    ing: dict[str, dict[str, Any]],
    exits: list[dict[str, Any]],
) -> str:
    v = versions()
    out = [
        f"# expt-logger against wandb, trackio and mlflow ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}; load average {load[0]} at the start, {load[1]} at the end.  ",
        (
            f"Python {v['python']}; wandb {v['wandb']}, trackio {v['trackio']}, mlflow {v['mlflow']}; "
            f"expt-logger from this repository ({git_rev()}).  "
        ),
        "One run of `make bench-peers` (bench/peers/run.sh); client and servers share the machine.",
        "",
        "## Caller-side cost of one training step (5 scalars + one ~1 KB rollout)",
        "",
        (
            "Each library in its own process, the training thread timed around its calls while the library's "
            "background machinery runs. expt-logger online to `expt serve`; wandb offline; trackio local; mlflow "
            "`log_metrics(synchronous=False)` + `log_text` (its way to keep a text per step) to `mlflow server`."
        ),
        "",
        "| library | steps | step median | step p99 | scalars median | rollout median | vs expt-logger | end() (flush) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = caller.get("expt_logger", {}).get("step", {}).get("median_us")
    for lib in LIBS:
        c = caller.get(lib, {})
        if "error" in c:
            out.append(f"| {lib} | — | {c['error']} | | | | | |")
            continue
        s = c["step"]
        out.append(
            f"| {lib} | {c['steps']} | {fmt_us(s['median_us'])} | {fmt_us(s['p99_us'])} | "
            f"{fmt_us(c['scalars']['median_us'])} | {fmt_us(c['rollout']['median_us'])} | "
            f"{ratio(s['median_us'], base) if base else '—'} | {c['end_s']:.2f} s |"
        )
    out += [
        "",
        f"## Server ingestion ({a.clients} clients, each its own run, 1,000 points per request)",
        "",
        "Bodies are encoded before the clock starts; `stored` is counted back through each server's read API.",
        "",
        "| server | points | stored | seconds | points/s | request p50 | request p99 | vs expt serve |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    eb = ing.get("expt serve", {}).get("points_per_s")
    for name, r in ing.items():
        if "error" in r:
            out.append(f"| {name} | {r['error']} | | | | | | |")
            continue
        vs = "—"
        if eb and r["points_per_s"]:
            vs = (
                "1x"
                if name == "expt serve"
                else f"{eb / r['points_per_s']:.1f}x slower"
            )
        note = (
            ""
            if r["complete"] and not r["errors"]
            else f" (incomplete: {'; '.join(r['errors'])[:200]})"
        )
        out.append(
            f"| {name} | {r['points']:,} | {r['stored']:,} | {r['seconds']:.1f} | {r['points_per_s']:,.0f}{note} | "
            f"{r['req_p50_ms']:.1f} ms | {r['req_p99_ms']:.1f} ms | {vs} |"
        )
    out += [
        "",
        "## From end() to process exit",
        "",
        (
            "The child logs 100 steps first; for `refused` and `blackhole` the proxy between it and its server "
            "fails right before end() (wandb has no server here: online mode against the failing address from "
            f"init on). A child still alive {a.exit_timeout:.0f} s after end() is killed and counted as hung. "
            "Median of the runs when there are several. end() is called with each library's defaults; the "
            "six fault cases run at the same time (they mostly wait)."
        ),
        "",
        "| library | server | runs | end() returns | process exits | vs expt-logger | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in exits:
        by.setdefault((r["lib"], r["fault"]), []).append(r)
    base_exit: dict[str, float] = {}
    for (lib, fault), rs in by.items():
        ok = [r["exit_s"] for r in rs if "exit_s" in r]
        if lib == "expt_logger" and ok:
            base_exit[fault] = statistics.median(ok)
    for (lib, fault), rs in by.items():
        ok = [r["exit_s"] for r in rs if "exit_s" in r]
        calls = [r["end_call_s"] for r in rs if "end_call_s" in r]
        hung = sum(1 for r in rs if r.get("hung"))
        init_failed = all("init failed" in r.get("note", "") for r in rs)
        med = statistics.median(ok) if ok else None
        b = base_exit.get("up" if fault == "local" else fault)
        cmp = "—"
        if med is not None and b:
            cmp = ratio(med, b)
        elif hung and b:
            cmp = f">{a.exit_timeout / b:.1f}x"
        notes = sorted(
            {
                " ".join(r["note"].replace("\\n", " ").split())[:160]
                for r in rs
                if r.get("note")
            }
        )
        if any(r.get("rc") not in (0, None) for r in rs):
            notes.append("exit codes " + ",".join(str(r.get("rc")) for r in rs))
        out.append(
            f"| {lib} | {fault} | {len(rs)} | {f'{statistics.median(calls):.2f} s' if calls else '—'} | "
            f"{f'{med:.2f} s' if med is not None else exits_cell(init_failed, a.exit_timeout)} | {cmp} | "
            f"{'; '.join(notes)} |"
        )
    return "\n".join(out) + "\n"


def exits_cell(init_failed: bool, timeout: float) -> str:
    return "never got to end()" if init_failed else f"hung (>{timeout:.0f} s)"


def git_rev() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=False,
                timeout=10,
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
