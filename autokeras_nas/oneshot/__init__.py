"""One-shot NAS on the Keras side: `choose` and supernets.

A space offers alternative layers with `choose(hp, name, candidates)`. A
normal build holds only the chosen candidate (plain Keras layers); a build
inside `supernet_scope(mode=...)` holds a `MixedOp` of all candidates, whose
weights a normally built sub-architecture inherits by layer name.
`candidate_params`, `candidate_flops` and `latency_table` give each
candidate's cost per choice (for differentiable searches' resource losses);
`architecture_cost` and `expected_cost` add them up. Imports
Keras (this is the Keras side of the package).
"""

from autokeras_nas.core.costs import architecture_cost, cost_vector, expected_cost
from autokeras_nas.oneshot.choose import (
    build_supernet,
    choose,
    in_supernet_scope,
    supernet_scope,
    zero,
)
from autokeras_nas.oneshot.costs import (
    candidate_flops,
    candidate_params,
    latency_table,
)
from autokeras_nas.oneshot.mixed import MixedOp
from autokeras_nas.oneshot.modes import MODES, RELAXED_MODES
from autokeras_nas.oneshot.paths import (
    PathDropoutSchedule,
    all_mixed_ops,
    architecture_ops,
    architecture_variables,
    cap_parameter_free,
    choice_names,
    derive,
    inherit_supernet_weights,
    mixed_ops,
    parameter_free,
    probabilities,
    set_drop_rate,
    set_paths,
    set_temperature,
    walk_layers,
    zero_candidates,
)

__all__ = [
    "MODES",
    "MixedOp",
    "PathDropoutSchedule",
    "RELAXED_MODES",
    "all_mixed_ops",
    "architecture_cost",
    "architecture_ops",
    "architecture_variables",
    "build_supernet",
    "candidate_flops",
    "candidate_params",
    "cap_parameter_free",
    "choice_names",
    "choose",
    "cost_vector",
    "derive",
    "expected_cost",
    "in_supernet_scope",
    "inherit_supernet_weights",
    "latency_table",
    "mixed_ops",
    "parameter_free",
    "probabilities",
    "set_drop_rate",
    "set_paths",
    "set_temperature",
    "supernet_scope",
    "walk_layers",
    "zero",
    "zero_candidates",
]
