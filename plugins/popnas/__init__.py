"""Plugins `popnas` and `pnas`: Pareto-optimal progressive SMBO (POPNASv3)."""

from autokeras_nas_plugins.popnas.strategy import Pnas, Popnas

__all__ = ["Pnas", "Popnas"]
