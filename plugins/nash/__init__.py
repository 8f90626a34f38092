"""Plugin `nash`: hill climbing with network morphisms (Elsken et al. 2017)."""

from autokeras_nas_plugins.nash.strategy import Nash

__all__ = ["Nash"]
