"""Plugin `random`: random search, optionally with ASHA early stopping."""

from autokeras_nas_plugins.random_search.strategy import RandomStrategy

__all__ = ["RandomStrategy"]
