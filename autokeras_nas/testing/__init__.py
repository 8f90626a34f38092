"""Test tools for strategy authors: the conformance suite, drivers, spaces.

Every strategy plugin, first-party or third-party, must pass::

    from autokeras_nas.testing import check_strategy
    check_strategy(MyStrategy)                      # built as MyStrategy(seed=...)
    check_strategy(MyStrategy, make_kwargs=lambda seed: {"seed": seed, "population_size": 8})

Nothing here imports TensorFlow, Keras or KerasTuner: strategies are driven
against analytic objectives on small standard spaces.
"""

from autokeras_nas.testing.conformance import (
    CHECKS,
    check_failed_observations,
    check_max_trials,
    check_no_duplicates_until_exhausted,
    check_python_scalars,
    check_resume_equivalence,
    check_same_seed_same_proposals,
    check_strategy,
    suggestion_problems,
)
from autokeras_nas.testing.driver import (
    SCORE,
    Driver,
    Step,
    cost_metrics,
    failure_pattern,
    make_observation,
    run_async,
    run_sequential,
)
from autokeras_nas.testing.spaces import (
    NB201_EDGES,
    NB201_OPS,
    finite_space,
    mixed_space,
    nb201_space,
    objective_for,
    score_values,
    standard_objectives,
    standard_spaces,
)

__all__ = [
    "CHECKS", "Driver", "NB201_EDGES", "NB201_OPS", "SCORE", "Step",
    "check_failed_observations", "check_max_trials",
    "check_no_duplicates_until_exhausted", "check_python_scalars",
    "check_resume_equivalence", "check_same_seed_same_proposals",
    "check_strategy", "cost_metrics", "failure_pattern", "finite_space",
    "make_observation", "mixed_space", "nb201_space", "objective_for",
    "run_async", "run_sequential", "score_values", "standard_objectives",
    "standard_spaces", "suggestion_problems",
]
