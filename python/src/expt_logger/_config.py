"""Settings from arguments and the environment, and the live `run.config` object."""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._exceptions import ExptLoggerWarning

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DELIVERY_MODES = ("online", "offline", "disabled")


def default_dir() -> Path:
    """The spool root: EXPT_LOGGER_DIR, else the user cache directory."""
    env = os.environ.get("EXPT_LOGGER_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "expt_logger"


@dataclass(frozen=True)
class Settings:
    api_key: str | None
    base_url: str
    delivery: str  # "online", "offline" or "disabled": what the public API calls mode (EXPT_LOGGER_MODE)
    spool_dir: Path
    experiment_id: str | None
    project: str | None = None  # EXPT_LOGGER_PROJECT; init(project=) wins

    @classmethod
    def resolve(
        cls,
        api_key: str | None = None,
        base_url: str | None = None,
        delivery: str | None = None,
        spool_dir: str | os.PathLike[str] | None = None,
        experiment_id: str | None = None,
    ) -> Settings:
        url = (base_url or os.environ.get("EXPT_LOGGER_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {url!r}")
        m = (delivery or os.environ.get("EXPT_LOGGER_MODE") or "online").strip().lower()
        if m not in DELIVERY_MODES:
            raise ValueError(f"mode (EXPT_LOGGER_MODE) must be one of {', '.join(DELIVERY_MODES)}, got {m!r}")
        return cls(
            api_key=api_key or os.environ.get("EXPT_LOGGER_API_KEY") or None,
            base_url=url,
            delivery=m,
            spool_dir=Path(spool_dir) if spool_dir is not None else default_dir(),
            experiment_id=experiment_id or os.environ.get("EXPT_LOGGER_EXPERIMENT_ID") or None,
            project=os.environ.get("EXPT_LOGGER_PROJECT") or None,
        )


_warned_keys: set[str] = set()


def jsonable(value: Any, where: str) -> Any:
    """Return `value` made JSON-safe: values json cannot encode become str(), with one warning per key."""
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        pass
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, float):  # NaN/Inf in a config: keep the wire's spelling
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if where not in _warned_keys:
        _warned_keys.add(where)
        warnings.warn(
            f"expt_logger: {where} = {type(value).__name__} is not JSON; storing str(value) instead",
            ExptLoggerWarning,
            stacklevel=4,
        )
    return str(value)


class Config(MutableMapping[str, Any]):
    """Hyperparameters with attribute and dict access. Every change calls `on_change`, which the run
    uses to send the whole config again (debounced on the background thread)."""

    __slots__ = ("_data", "_lock", "_on_change")

    def __init__(self, data: Mapping[str, Any] | None = None, on_change: Callable[[], None] | None = None):
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_on_change", on_change)
        object.__setattr__(self, "_data", {})
        if data:
            for k, v in data.items():
                self._data[str(k)] = jsonable(v, f"config.{k}")

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[str(key)] = jsonable(value, f"config.{key}")
        self._changed()

    def __delitem__(self, key: str) -> None:
        with self._lock:
            del self._data[key]
        self._changed()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Bulk update with a single change notification."""
        with self._lock:
            for k, v in dict(*args, **kwargs).items():
                self._data[str(k)] = jsonable(v, f"config.{k}")
        self._changed()

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self._data))  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Config({self._data!r})"
