"""Plugin `aging-evolution`: regularized evolution (Real et al. 2019)."""

from autokeras_nas_plugins.aging_evolution.strategy import AgingEvolution

__all__ = ["AgingEvolution"]
