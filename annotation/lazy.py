"""Package attributes imported on first use, so importing a package (and `framestance --help`) stays light."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def lazy_attributes(package: str, names: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` that imports each name in `names` from its module when first asked for."""

    def __getattr__(name: str) -> object:
        if name in names:
            return getattr(import_module(names[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
