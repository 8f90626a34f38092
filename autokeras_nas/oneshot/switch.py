"""Running one branch of several, chosen by an index tensor in the graph."""

from __future__ import annotations

from typing import Any, Sequence

from keras import ops


def run_one(index: Any, branches: Sequence[Any], inputs: Any, training: Any) -> Any:
    """`branches[index](inputs)`; only the chosen branch runs."""
    fns = [lambda x, b=b: b(x, training=training) for b in branches]
    return ops.switch(index, fns, inputs)
