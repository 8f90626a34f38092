"""Discovering and loading strategy plugins.

Strategies register under the entry-point group `autokeras_nas.strategies`
(name -> a class implementing `autokeras_nas.core.Strategy`). First-party
strategies register the same way as third-party ones. Listing reads only the
installed metadata; loading a plugin imports that plugin alone.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

GROUP = "autokeras_nas.strategies"


class UnknownStrategyError(ValueError):
    """Raised for a strategy name no installed plugin provides."""


def _entry_points() -> dict[str, metadata.EntryPoint]:
    eps = metadata.entry_points(group=GROUP)
    return {ep.name: ep for ep in sorted(eps, key=lambda e: e.name)}


def available() -> dict[str, str]:
    """Installed strategies: name -> "module:attribute", without importing them."""
    return {name: ep.value for name, ep in _entry_points().items()}


def load(name: str) -> Any:
    """Imports and returns the strategy class registered as `name`.

    Raises:
        UnknownStrategyError: no plugin of that name is installed.
    """
    eps = _entry_points()
    if name not in eps:
        installed = ", ".join(eps) or "none"
        raise UnknownStrategyError(
            f"unknown strategy {name!r}; installed strategies: {installed}"
        )
    return eps[name].load()
