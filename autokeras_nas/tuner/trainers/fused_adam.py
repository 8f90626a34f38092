"""Adam's update as one TensorFlow op per variable (`fuse_adam`).

Keras' `Adam.update_step` builds its update from about twenty small ops per
variable (casts, powers, the two moment updates, the step), so tracing a
training step spends much of its time on the optimizer: on the NAS-Bench-201
cell (75 variables) about a third of the trace, on its supernet about a
quarter. TensorFlow's fused kernel `ResourceApplyAdam` computes the same
update (the same formula, `epsilon` added to the square root of the second
moment) in one op; the learning rate and the powers of the betas are made
once per `apply`, not once per variable.

`fuse_adam` swaps the update step of one optimizer object (an instance
attribute, so the class, its config and what a saved model holds stay
Keras' own). It leaves alone what the fused kernel does not cover, which
then runs Keras' own update: AMSGrad, subclasses other than AdamW (whose
weight decay Keras applies apart from the update step), gradient
accumulation, a distribution strategy other than the default one (its
variables are mirrored per replica), sparse gradients (`IndexedSlices`), and
eager execution.
"""

from __future__ import annotations

import types
from typing import Any

import keras
import tensorflow as tf

#: The attribute that marks a fused optimizer (its per-`apply` cache of the
#: learning rate and the betas' powers while an `apply` runs, else None).
_CACHE = "_autokeras_nas_fused"


def fuse_adam(optimizer: Any) -> bool:
    """Makes `optimizer`'s update one `ResourceApplyAdam` op per variable when
    it is a Keras `Adam` or `AdamW` without AMSGrad or gradient
    accumulation; returns whether it did (already fused counts)."""
    if type(optimizer) not in (keras.optimizers.Adam, keras.optimizers.AdamW):
        return False
    if hasattr(optimizer, _CACHE):
        return True
    if optimizer.amsgrad or getattr(optimizer, "gradient_accumulation_steps", None) \
            or not hasattr(optimizer, "_get_variable_index"):
        return False
    setattr(optimizer, _CACHE, None)
    optimizer.apply = types.MethodType(_apply, optimizer)
    optimizer.update_step = types.MethodType(_update_step, optimizer)
    return True


def _apply(self: Any, grads: Any, trainable_variables: Any = None) -> Any:
    setattr(self, _CACHE, {})
    try:
        return type(self).apply(self, grads, trainable_variables)
    finally:
        setattr(self, _CACHE, None)


def _shared(self: Any, learning_rate: Any, dtype: Any) -> tuple:
    """The learning rate, the betas' powers at this step, the betas and
    epsilon as `dtype` tensors: made once per `apply` and dtype."""
    cache = getattr(self, _CACHE)
    found = cache.get(dtype) if cache is not None else None
    if found is None:
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        found = (tf.cast(learning_rate, dtype), tf.pow(beta_1, step), tf.pow(beta_2, step),
                 beta_1, beta_2, tf.cast(self.epsilon, dtype))
        if cache is not None:
            cache[dtype] = found
    return found


def _update_step(self: Any, gradient: Any, variable: Any, learning_rate: Any) -> Any:
    if isinstance(gradient, tf.IndexedSlices) or tf.executing_eagerly() \
            or tf.distribute.has_strategy() or not hasattr(variable, "handle") \
            or not hasattr(self, "_momentums"):
        return type(self).update_step(self, gradient, variable, learning_rate)
    dtype = variable.dtype
    lr, beta_1_power, beta_2_power, beta_1, beta_2, epsilon = _shared(self, learning_rate, dtype)
    index = self._get_variable_index(variable)
    m, v = self._momentums[index], self._velocities[index]
    tf.raw_ops.ResourceApplyAdam(
        var=variable.handle, m=m.value.handle, v=v.value.handle, beta1_power=beta_1_power,
        beta2_power=beta_2_power, lr=lr, beta1=beta_1, beta2=beta_2, epsilon=epsilon,
        grad=tf.cast(gradient, dtype))
