"""Settings resolution and the Config mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from expt_logger import Config
from expt_logger._config import DEFAULT_BASE_URL, Settings, default_dir


def test_defaults_are_local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EXPT_LOGGER_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    s = Settings.resolve()
    assert s.base_url == DEFAULT_BASE_URL == "http://127.0.0.1:8080"
    assert (s.delivery, s.api_key, s.experiment_id) == ("online", None, None)
    assert s.spool_dir == default_dir() == tmp_path / "expt_logger"


def test_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPT_LOGGER_API_KEY", "env-key")
    monkeypatch.setenv("EXPT_LOGGER_BASE_URL", "http://env:1")
    monkeypatch.setenv("EXPT_LOGGER_MODE", "OFFLINE")
    assert Settings.resolve().api_key == "env-key"
    assert Settings.resolve().delivery == "offline"
    s = Settings.resolve(api_key="arg", base_url="https://arg:2/")
    assert (s.api_key, s.base_url) == ("arg", "https://arg:2")


@pytest.mark.parametrize(("kw", "fragment"), [({"base_url": "ftp://x"}, "base_url"), ({"delivery": "loud"}, "mode")])
def test_bad_settings(kw: dict[str, str], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        Settings.resolve(**kw)


def test_config_mapping_and_change_notifications() -> None:
    calls: list[int] = []
    c = Config({"lr": 1}, on_change=lambda: calls.append(1))
    c.lr = 2
    c["bs"] = 8
    c.update({"a": 1, "b": 2}, c=3)
    del c["a"]
    del c.b
    assert dict(c) == {"lr": 2, "bs": 8, "c": 3} and len(c) == 3 and "bs" in c
    assert len(calls) == 5, "one notification per change, one for a bulk update"
    with pytest.raises(AttributeError):
        del c.missing
    assert c.as_dict() == {"lr": 2, "bs": 8, "c": 3}


def test_config_nan_uses_the_wire_spelling() -> None:
    assert Config({"x": float("nan"), "y": [float("inf")]}).as_dict() == {"x": "NaN", "y": ["Infinity"]}
