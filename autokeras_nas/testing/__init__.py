"""Test tools for strategy authors: the conformance suite, drivers, spaces.

Every strategy plugin, first-party or third-party, must pass::

    from autokeras_nas.testing import check_strategy
    check_strategy(MyStrategy)                      # built as MyStrategy(seed=...)
    check_strategy(MyStrategy, make_kwargs=lambda seed: {"seed": seed, "population_size": 8})

Nothing here imports TensorFlow, Keras or KerasTuner: strategies are driven
against analytic objectives on small standard spaces, and on toy structured
spaces (a morphable network, a cell space) for the strategies that declare
those kinds of space.
"""

from autokeras_nas.testing.conformance import (
    CHECKS,
    FOUNDATION_TASKS,
    check_failed_observations,
    check_max_trials,
    check_no_duplicates_until_exhausted,
    check_python_scalars,
    check_resume_equivalence,
    check_same_seed_same_proposals,
    check_strategy,
    declared_kinds,
)
from autokeras_nas.testing.driver import (
    SCORE,
    Driver,
    Step,
    canonical_arch,
    cost_metrics,
    describe,
    failure_pattern,
    late_failure_pattern,
    make_observation,
    run_async,
    run_sequential,
    supernet_outputs,
)
from autokeras_nas.testing.files import assert_no_pickles, pickle_files
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
from autokeras_nas.testing.structured import (
    DRIVEN_KINDS,
    StructuredSpace,
    cells_objective,
    network_objective,
    structured_space_for,
    structured_spaces,
    toy_cells,
    toy_network,
)
from autokeras_nas.testing.validity import suggestion_problems

__all__ = [
    "CHECKS", "DRIVEN_KINDS", "Driver", "FOUNDATION_TASKS", "NB201_EDGES", "NB201_OPS", "SCORE",
    "Step",
    "StructuredSpace", "assert_no_pickles", "canonical_arch", "cells_objective",
    "check_failed_observations", "check_max_trials",
    "check_no_duplicates_until_exhausted", "check_python_scalars",
    "check_resume_equivalence", "check_same_seed_same_proposals",
    "check_strategy", "cost_metrics", "declared_kinds", "describe", "failure_pattern",
    "finite_space", "late_failure_pattern", "make_observation", "mixed_space",
    "nb201_space", "network_objective", "objective_for", "pickle_files", "run_async",
    "run_sequential",
    "score_values", "standard_objectives", "standard_spaces", "structured_space_for",
    "structured_spaces", "suggestion_problems", "supernet_outputs", "toy_cells", "toy_network",
]
