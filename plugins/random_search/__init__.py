"""Plugins `random` (random search, optionally with ASHA early stopping) and
`grid` (grid search)."""

from autokeras_nas_plugins.random_search.grid import GridStrategy
from autokeras_nas_plugins.random_search.strategy import RandomStrategy

__all__ = ["GridStrategy", "RandomStrategy"]
