"""Running one branch of several, chosen by an index tensor in the graph.

`keras.ops.switch` is `tf.switch_case` on TensorFlow: a `Case` op that
TensorFlow lowers to Switch/Merge nodes when it runs the step function, so
only the chosen branch computes, and its gradient keeps only that branch's
activations (the other branches' intermediates are empty optionals). Kept
unlowered (`lower_using_switch_merge=False`), the same op held as much
activation memory as running every branch, so the default must stay.
"""

from __future__ import annotations

from typing import Any, Sequence

from keras import ops


def run_one(index: Any, branches: Sequence[Any], inputs: Any, training: Any) -> Any:
    """`branches[index](inputs)`; only the chosen branch runs."""
    fns = [lambda x, b=b: b(x, training=training) for b in branches]
    return ops.switch(index, fns, inputs)
