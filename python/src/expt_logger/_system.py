"""System metrics: CPU, memory and, per GPU, utilisation, memory, power and temperature.

Sampled on the SDK's spool-writer thread every EXPT_LOGGER_SYSTEM_INTERVAL seconds (10 by default) and
logged in mode "system" at step = the Unix second of the sample, so samples never collide with each other
or across a resumed run, and the UI charts them against wall time. GPUs are read through NVML with ctypes
(libnvidia-ml ships with the driver): no dependency, and no driver means no GPU metrics, silently.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from typing import Any

MODE = "system"
DEFAULT_INTERVAL = 10.0


def system_enabled(arg: bool | None) -> bool:
    """init(system_metrics=) when given, else EXPT_LOGGER_SYSTEM_METRICS (on unless 0/false/no/off)."""
    if arg is not None:
        if type(arg) is not bool:
            raise TypeError(f"system_metrics must be True or False, not {type(arg).__name__}")
        return arg
    return os.environ.get("EXPT_LOGGER_SYSTEM_METRICS", "").strip().lower() not in ("0", "false", "no", "off")


def interval() -> float:
    raw = os.environ.get("EXPT_LOGGER_SYSTEM_INTERVAL", "")
    try:
        v = float(raw) if raw else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL
    return v if v > 0 else DEFAULT_INTERVAL


def _proc_stat() -> tuple[float, float] | None:
    """(busy, total) jiffies over every CPU, from /proc/stat; None where there is none."""
    try:
        with open("/proc/stat", "rb") as f:
            first = f.readline().split()
    except OSError:
        return None
    if not first or first[0] != b"cpu":
        return None
    vals = [float(x) for x in first[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0.0)  # idle + iowait
    total = sum(vals[:8])  # guest time is already in user
    return total - idle, total


def _meminfo() -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                k, _, rest = line.partition(b":")
                parts = rest.split()
                if parts:
                    out[k.decode()] = float(parts[0]) * 1024  # kB
    except OSError:
        pass
    return out


def _rss_bytes() -> float | None:
    try:
        with open("/proc/self/statm", "rb") as f:
            return float(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource

        peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # a peak, not the current size
        return peak if sys.platform == "darwin" else peak * 1024
    except (ImportError, OSError):
        return None


class _Utilization(ctypes.Structure):
    _fields_ = [("gpu", ctypes.c_uint), ("memory", ctypes.c_uint)]


class _Memory(ctypes.Structure):
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


NVML_TEMPERATURE_GPU = 0


class Nvml:
    """The few NVML calls the metrics need. `lib` is a loaded libnvidia-ml, or anything with its functions."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        if lib.nvmlInit_v2() != 0:
            raise OSError("nvmlInit failed")
        n = ctypes.c_uint(0)
        if lib.nvmlDeviceGetCount_v2(ctypes.byref(n)) != 0:
            raise OSError("nvmlDeviceGetCount failed")
        self.handles: list[ctypes.c_void_p] = []
        for i in range(n.value):
            h = ctypes.c_void_p()
            if lib.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(h)) == 0:
                self.handles.append(h)

    @staticmethod
    def load() -> Nvml | None:
        """NVML from the driver, or None when there is no driver or no GPU."""
        # The driver's names, tried directly: ctypes.util.find_library runs ldconfig in a subprocess.
        names = ["libnvidia-ml.so.1", "libnvidia-ml.so", "nvml.dll"]
        for name in names:
            try:
                nvml = Nvml(ctypes.CDLL(name))
            except (OSError, AttributeError):
                continue
            return nvml if nvml.handles else None
        return None

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        lib = self.lib
        for i, h in enumerate(self.handles):
            u, m = _Utilization(), _Memory()
            if lib.nvmlDeviceGetUtilizationRates(h, ctypes.byref(u)) == 0:
                out[f"gpu{i}/utilization_percent"] = float(u.gpu)
            if lib.nvmlDeviceGetMemoryInfo(h, ctypes.byref(m)) == 0 and m.total:
                out[f"gpu{i}/memory_used_gb"] = m.used / 2**30
                out[f"gpu{i}/memory_percent"] = 100.0 * m.used / m.total
            mw = ctypes.c_uint(0)
            if lib.nvmlDeviceGetPowerUsage(h, ctypes.byref(mw)) == 0:
                out[f"gpu{i}/power_w"] = mw.value / 1000.0
            t = ctypes.c_uint(0)
            if lib.nvmlDeviceGetTemperature(h, NVML_TEMPERATURE_GPU, ctypes.byref(t)) == 0:
                out[f"gpu{i}/temperature_c"] = float(t.value)
        return out


class SystemSampler:
    """One run's system metrics: each sample() is the values since the previous one (CPU) or now."""

    def __init__(self, nvml: Nvml | bool | None = True) -> None:
        self.nvml: Nvml | None = Nvml.load() if nvml is True else (nvml or None)
        self._cpu = _proc_stat()
        self._proc = os.times()
        self._wall = time.monotonic()
        self.next_at = time.monotonic()  # the first sample right away

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        now = time.monotonic()
        cpu = _proc_stat()
        if cpu is not None and self._cpu is not None and cpu[1] > self._cpu[1]:
            out["cpu/system_percent"] = 100.0 * (cpu[0] - self._cpu[0]) / (cpu[1] - self._cpu[1])
        self._cpu = cpu
        proc = os.times()
        if now > self._wall:
            used = (proc.user - self._proc.user) + (proc.system - self._proc.system)
            out["cpu/process_percent"] = 100.0 * used / (now - self._wall)  # of one core
        self._proc, self._wall = proc, now
        mem = _meminfo()
        if mem.get("MemTotal") and "MemAvailable" in mem:
            out["memory/system_percent"] = 100.0 * (1 - mem["MemAvailable"] / mem["MemTotal"])
        rss = _rss_bytes()
        if rss is not None:
            out["memory/process_rss_gb"] = rss / 2**30
        if self.nvml is not None:
            try:
                out.update(self.nvml.sample())
            except OSError:
                self.nvml = None  # the driver went away: stop asking
        return out
