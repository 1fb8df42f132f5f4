from __future__ import annotations

import ctypes
import time
from typing import Any

import pytest

from expt_logger._system import Nvml, SystemSampler, system_enabled


class FakeNvml:
    """libnvidia-ml's calls as ctypes makes them: out-parameters by reference, 0 for success."""

    def __init__(self, gpus: int, fail_power: bool = False) -> None:
        self.gpus = gpus
        self.fail_power = fail_power

    def nvmlInit_v2(self) -> int:
        return 0

    def nvmlDeviceGetCount_v2(self, n: Any) -> int:
        n._obj.value = self.gpus
        return 0

    def nvmlDeviceGetHandleByIndex_v2(self, i: int, h: Any) -> int:
        h._obj.value = 1000 + i
        return 0

    def nvmlDeviceGetUtilizationRates(self, h: ctypes.c_void_p, u: Any) -> int:
        u._obj.gpu, u._obj.memory = 87, 40
        return 0

    def nvmlDeviceGetMemoryInfo(self, h: ctypes.c_void_p, m: Any) -> int:
        m._obj.total, m._obj.used, m._obj.free = 80 * 2**30, 20 * 2**30, 60 * 2**30
        return 0

    def nvmlDeviceGetPowerUsage(self, h: ctypes.c_void_p, mw: Any) -> int:
        mw._obj.value = 312_500
        return 999 if self.fail_power else 0

    def nvmlDeviceGetTemperature(self, h: ctypes.c_void_p, sensor: int, t: Any) -> int:
        t._obj.value = 61
        return 0


def test_gpu_metrics_through_nvml() -> None:
    got = Nvml(FakeNvml(2)).sample()
    assert got["gpu0/utilization_percent"] == 87.0
    assert got["gpu1/memory_percent"] == 25.0
    assert got["gpu1/memory_used_gb"] == 20.0
    assert got["gpu0/power_w"] == 312.5
    assert got["gpu1/temperature_c"] == 61.0
    # A call that fails leaves its metric out, not the others.
    partial = Nvml(FakeNvml(1, fail_power=True)).sample()
    assert "gpu0/power_w" not in partial and "gpu0/temperature_c" in partial


def test_host_metrics_without_a_gpu() -> None:
    s = SystemSampler(nvml=False)
    sum(i * i for i in range(200_000))  # some CPU to measure
    time.sleep(0.05)  # and a few clock ticks of /proc/stat
    got = s.sample()
    assert 0 <= got["cpu/system_percent"] <= 100
    assert got["cpu/process_percent"] >= 0
    assert 0 < got["memory/system_percent"] < 100
    assert 0 < got["memory/process_rss_gb"] < 64
    assert not any(k.startswith("gpu") for k in got)


def test_enabled_by_argument_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXPT_LOGGER_SYSTEM_METRICS", raising=False)
    assert system_enabled(None) is True
    monkeypatch.setenv("EXPT_LOGGER_SYSTEM_METRICS", "off")
    assert system_enabled(None) is False
    assert system_enabled(True) is True
    with pytest.raises(TypeError, match="system_metrics"):
        system_enabled("yes")  # type: ignore[arg-type]
