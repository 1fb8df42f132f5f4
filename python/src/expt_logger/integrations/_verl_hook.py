"""Loaded at interpreter start by expt_logger_verl.pth: when verl's tracking module is imported, add the
"expt" backend to it. `install_hook` copies this file into the site directory as a top-level module, so that
every interpreter start pays for this file alone (the SDK is imported only with verl's tracking module).
Standard library only."""

from __future__ import annotations

import sys

# Plain classes, no importlib.abc or typing: importing those would cost every interpreter start more than
# the rest of this file.

_TARGET = "verl.utils.tracking"


class _Finder:
    def find_spec(self, name: str, path: object, target: object = None) -> object:
        if name != _TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self:  # type: ignore[comparison-overlap]
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find else None
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader)
                return spec
        return None


class _Loader:
    def __init__(self, inner: object) -> None:
        self.inner = inner

    def create_module(self, spec: object) -> object:
        return self.inner.create_module(spec)  # type: ignore[attr-defined]

    def exec_module(self, module: object) -> None:
        self.inner.exec_module(module)  # type: ignore[attr-defined]
        try:
            from expt_logger.integrations.verl import patch

            patch(module)
        except Exception as e:  # never break verl's import
            print(f"expt_logger: could not add the expt backend to verl: {e!r}", file=sys.stderr)


if not any(isinstance(f, _Finder) for f in sys.meta_path):
    sys.meta_path.insert(0, _Finder())  # type: ignore[arg-type]
