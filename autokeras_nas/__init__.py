"""autokeras_nas: neural architecture search strategies as KerasTuner tuners.

`import autokeras_nas` is light: names are loaded on first use, and
TensorFlow is imported only by the names that train (`NasTuner`,
`StrategyOracle`, `RandomSearch`, ...).

    import autokeras_nas
    tuner = autokeras_nas.RandomSearch(build_model, objective="val_accuracy",
                                       max_trials=20, early_stopping="asha")
    tuner.search(x, y, validation_data=(x_val, y_val), epochs=9)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Modules whose public names (no leading underscore) plugins may import.
PUBLIC_MODULES = (
    "autokeras_nas",
    "autokeras_nas.core",
    "autokeras_nas.testing",
    "autokeras_nas.plugins",
    "autokeras_nas.results",
    "autokeras_nas.tuner",
    "autokeras_nas.spaces",
    "autokeras_nas.data",
    "autokeras_nas.report",
    "autokeras_nas.launch",
    "autokeras_nas.workflow",
    "autokeras_nas.oneshot",
    "autokeras_nas.zerocost",
)

_LAZY = {
    # The oracle layer (imports TensorFlow).
    "NasTuner": "autokeras_nas.tuner",
    "StrategyOracle": "autokeras_nas.tuner",
    # Convenience tuners of the first-party strategies.
    "RandomSearch": "autokeras_nas_plugins.random_search.tuner",
    # KerasTuner's other tuners, same signatures, on this package's strategies.
    "Hyperband": "autokeras_nas_plugins.random_search.tuner",
    "BayesianOptimization": "autokeras_nas_plugins.popnas.tuner",
    "GridSearch": "autokeras_nas_plugins.random_search.tuner",
    "AgingEvolution": "autokeras_nas_plugins.aging_evolution.tuner",
    "Nash": "autokeras_nas_plugins.nash.tuner",
    "Popnas": "autokeras_nas_plugins.popnas.tuner",
    "Pnas": "autokeras_nas_plugins.popnas.tuner",
    # One-shot (weight-sharing) search: supernet, estimates, retrain.
    "SPOS": "autokeras_nas_plugins.oneshot.tuner",
    "RandomWS": "autokeras_nas_plugins.oneshot.tuner",
    "OneShot": "autokeras_nas_plugins.oneshot.tuner",
    "ENAS": "autokeras_nas_plugins.oneshot.tuner",
    # Differentiable NAS: architecture parameters learned with gradients.
    "DARTS": "autokeras_nas_plugins.oneshot.tuner",
    "SNAS": "autokeras_nas_plugins.oneshot.tuner",
    "GDAS": "autokeras_nas_plugins.oneshot.tuner",
    "ProxylessNAS": "autokeras_nas_plugins.oneshot.tuner",
    # Training-free search: proxies at initialization, the best trained.
    "ZeroCost": "autokeras_nas_plugins.oneshot.tuner",
    "FreeDARTS": "autokeras_nas_plugins.oneshot.tuner",
    "SMASH": "autokeras_nas_plugins.oneshot.tuner",
    # One-shot NAS: alternative layers of a space (imports Keras).
    "choose": "autokeras_nas.oneshot",
    # The numpy core.
    "ASHA": "autokeras_nas.core",
    "BaseStrategy": "autokeras_nas.core",
    "HyperSpace": "autokeras_nas.core",
    "MedianStopping": "autokeras_nas.core",
    "StoppingASHA": "autokeras_nas.core",
    "Objective": "autokeras_nas.core",
    "Observation": "autokeras_nas.core",
    "Strategy": "autokeras_nas.core",
    "Suggestion": "autokeras_nas.core",
    "TrialStatus": "autokeras_nas.core",
    "read_results": "autokeras_nas.results",
    # Parallel trials: a chief and workers (no TensorFlow in the launcher).
    "run_parallel": "autokeras_nas.launch",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autokeras_nas' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
