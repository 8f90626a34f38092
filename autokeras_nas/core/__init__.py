"""Pure-Python core of autokeras_nas: spaces, strategies, Pareto tools, stopping.

Nothing here imports TensorFlow, Keras or KerasTuner; everything is numpy.
"""

from autokeras_nas.core.constraints import (
    CONSTRAINT_METRICS,
    Constraint,
    first_violation,
    is_infeasible,
    make_constraints,
    parse_constraint,
)
from autokeras_nas.core.costs import (
    MODEL_RESOURCES,
    RESOURCES,
    TARGET_SCOPES,
    architecture_cost,
    cost_vector,
    expected_cost,
)
from autokeras_nas.core.pareto import (
    crowding_distance,
    hypervolume,
    non_dominated_sort,
    pareto_order,
)
from autokeras_nas.core.hyperparameters import (
    Boolean,
    Choice,
    Condition,
    Fixed,
    Float,
    Int,
    to_python,
)
from autokeras_nas.core.oneshot import (
    DEFAULT_COLLAPSE_STOP,
    DEFAULT_MAX_PARAMETER_FREE,
    PHASE_RETRAIN,
    PHASE_SEARCH,
    PHASE_SUPERNET,
    PHASES,
    OneShotStrategy,
    architecture_values,
    choice_subspace,
    supernet_choices,
)
from autokeras_nas.core.rng import fresh_seed, make_rng, rng_state, set_rng_state
from autokeras_nas.core.warmup import (
    DEFAULT_PROXY,
    KNOWN_PROXIES,
    WARMUP_SHARE,
    ZeroCostWarmup,
    parse_proxies,
    parse_warmup,
    vote_order,
)
from autokeras_nas.core.space import HyperSpace, SearchSpace
from autokeras_nas.core.stopping import (
    ASHA,
    EARLY_STOPPING_NAMES,
    Hyperband,
    MedianStopping,
    Promotion,
    PromotionScheduler,
    StoppingASHA,
    StoppingRule,
    make_stopping_rule,
)
from autokeras_nas.core.strategy import (
    ANNEAL,
    ARCH,
    CONTINUES,
    EDITS_SEEN,
    EPOCHS,
    ESTIMATE_TASKS,
    INITIAL_EPOCH,
    PARENT,
    PROMOTABLE,
    RESERVED_PREFIX,
    TASK,
    TASK_CONFIG,
    TASK_ESTIMATE,
    TASK_SALIENCY,
    TASK_SCORE,
    TASK_EVALUATE,
    TASK_SUPERNET,
    TASK_TRAIN,
    BaseStrategy,
    Objective,
    Observation,
    Scalar,
    SpaceKind,
    Strategy,
    Suggestion,
    TrialStatus,
    is_python_scalar,
    is_reserved,
    makes_model,
)

__all__ = [
    "MODEL_RESOURCES", "RESOURCES", "TARGET_SCOPES", "DEFAULT_COLLAPSE_STOP",
    "DEFAULT_MAX_PARAMETER_FREE",
    "ANNEAL", "ARCH", "ASHA", "BaseStrategy", "Boolean", "CONSTRAINT_METRICS", "CONTINUES", "Choice",
    "Condition", "Constraint", "first_violation", "is_infeasible", "make_constraints",
    "parse_constraint",
    "EARLY_STOPPING_NAMES", "EPOCHS", "Hyperband", "Promotion", "PromotionScheduler", "StoppingASHA",
    "Fixed", "Float", "HyperSpace", "INITIAL_EPOCH", "Int", "ESTIMATE_TASKS", "MedianStopping",
    "Objective", "Observation", "OneShotStrategy", "PARENT", "PHASES", "PHASE_RETRAIN",
    "PHASE_SEARCH", "PHASE_SUPERNET", "PROMOTABLE", "EDITS_SEEN", "RESERVED_PREFIX", "Scalar",
    "SearchSpace", "SpaceKind", "StoppingRule", "Strategy", "Suggestion", "TASK",
    "TASK_CONFIG", "TASK_ESTIMATE", "TASK_EVALUATE", "TASK_SALIENCY", "TASK_SCORE",
    "TASK_SUPERNET", "TASK_TRAIN",
    "TrialStatus", "architecture_cost", "architecture_values", "choice_subspace",
    "cost_vector", "crowding_distance",
    "expected_cost", "fresh_seed", "hypervolume",
    "is_python_scalar", "is_reserved", "make_rng", "make_stopping_rule", "makes_model",
    "DEFAULT_PROXY", "KNOWN_PROXIES", "WARMUP_SHARE", "ZeroCostWarmup", "parse_proxies",
    "parse_warmup", "vote_order",
    "non_dominated_sort", "pareto_order", "rng_state", "set_rng_state", "supernet_choices", "to_python",
]
