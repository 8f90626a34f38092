"""The bilevel step of differentiable NAS, as a Keras `train_step`.

A relaxed supernet (`supernet_scope(mode="darts" | "snas" | "gdas" |
"proxyless")`) holds its architecture parameters apart from its weights: one
logits vector per choice, a non-trainable weight, so the model's own
optimizer never touches it. `install_bilevel_step` replaces the model's
`train_step` by one that, on every training batch,

1. draws the next validation batch (from an endless iterator of the
   validation data, in the step function: nothing leaves the graph), and
   updates the architecture parameters with their own optimizer on the
   validation loss (plus an optional resource cost; see `ResourceCost`);
2. then updates the weights on the training batch, as the model's own
   `train_step` does (its metrics, its optimizer).

Architecture gradients (`architecture_gradient`):

- first order: the gradient of the validation loss at the current weights;
- second order (DARTS, Liu et al. 2019, eq. 7-8): the gradient at the
  weights after one virtual step on the training batch, w' = w - xi *
  grad_w L_train(w, a) (xi: the weights' learning rate; a plain gradient
  step, without the optimizer's momentum), minus xi times the product of
  the mixed Hessian with grad_w' L_val(w', a), estimated by central finite
  differences: (grad_a L_train(w+, a) - grad_a L_train(w-, a)) / (2 eps)
  with w+- = w +- eps * grad_w' L_val and eps = 0.01 / ||grad_w' L_val||.
  The weights are restored exactly afterwards.

The step can be switched off and on without retracing (`enabled`, a
variable: warm-up epochs train the weights only): while it is off, no
validation batch is drawn, no gradient computed, and the optimizer's
learning rate reads 0 (the optimizer still runs, so that the step has the
same synchronization points on every batch, as a `MirroredStrategy`
requires; the architecture parameters and the optimizer's moments do not
move). Under a `tf.distribute` strategy the architecture parameters are
mirrored like the weights, their optimizer is made in the strategy's scope,
and each replica draws its own validation batch; the replicas' gradients are
summed by the optimizer as the weights' are, so the architecture parameters
stay identical on every replica. TensorFlow backend only.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from autokeras_nas.oneshot.paths import architecture_ops, architecture_variables

#: DARTS' architecture optimizer: Adam, learning rate 3e-4, betas (0.5,
#: 0.999), weight decay 1e-3.
DEFAULT_ARCH_LR = 3e-4
DEFAULT_ARCH_BETA_1 = 0.5
DEFAULT_ARCH_WEIGHT_DECAY = 1e-3
#: The finite-difference step of the second-order gradient, over the norm
#: of the direction (DARTS' 0.01).
HESSIAN_EPS = 0.01


def architecture_optimizer(learning_rate: Any = DEFAULT_ARCH_LR,
                           beta_1: float = DEFAULT_ARCH_BETA_1,
                           weight_decay: float = DEFAULT_ARCH_WEIGHT_DECAY) -> Any:
    """Adam with DARTS' settings for the architecture parameters."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=0.999,
                                 weight_decay=weight_decay or None)


class _GatedRate(keras.optimizers.schedules.LearningRateSchedule):
    """`rate` while `enabled` holds, else 0 (read in the graph)."""

    def __init__(self, rate: float, enabled: Any) -> None:
        self.rate = float(rate)
        self.enabled = enabled

    def __call__(self, step: Any) -> Any:
        return self.rate * tf.cast(self.enabled, tf.float32)

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate}


class ResourceCost:
    """A differentiable resource cost of the architecture parameters: the
    expected cost sum over choices of sum_i p_i * cost_i, with p each
    choice's softmax (ProxylessNAS' expected latency, SNAS' resource
    constraint), in the units of `table`.

    The loss added to the architecture's validation loss is `weight *
    expected / scale`, where `scale` is the most expensive architecture's
    cost (so that `weight` means the same on any table); with `target`, it
    is `weight * max(0, expected / target - 1)`: no pressure once the
    expected cost is at or below the target.

    Args:
        table: choice -> candidate -> cost (ms, parameters, ...); choices
            missing from it cost nothing.
        weight: the loss weight (>= 0).
        target: the cost to stay under, or None.

    Raises:
        ValueError: a negative weight or cost, a target <= 0.
    """

    def __init__(self, table: Mapping[str, Mapping[str, float]], weight: float,
                 target: float | None = None) -> None:
        if not weight >= 0:
            raise ValueError(f"the resource cost's weight must be >= 0, got {weight!r}")
        if target is not None and not target > 0:
            raise ValueError(f"the resource target must be > 0, got {target!r}")
        if any(float(c) < 0 for costs in table.values() for c in costs.values()):
            raise ValueError("resource costs must be >= 0")
        self.table = {str(k): {str(c): float(v) for c, v in costs.items()}
                      for k, costs in table.items()}
        self.weight = float(weight)
        self.target = None if target is None else float(target)
        self.scale = max(1e-12, sum(max(costs.values(), default=0.0)
                                    for costs in self.table.values()))

    def expected(self, model: Any) -> Any:
        """The expected cost under the model's current probabilities (a tensor)."""
        total = tf.constant(0.0)
        for name, op in architecture_ops(model).items():
            costs = self.table.get(name)
            if not costs:
                continue
            vector = tf.constant([costs.get(c, 0.0) for c in op.candidates], tf.float32)
            probs = tf.nn.softmax(tf.cast(op.arch_logits.value, tf.float32))
            total = total + tf.reduce_sum(probs * vector)
        return total

    def loss(self, model: Any) -> Any:
        expected = self.expected(model)
        if self.target is None:
            return self.weight * expected / self.scale
        return self.weight * tf.nn.relu(expected / self.target - 1.0)


class BetaDecay:
    """beta-decay regularization (Ye et al. 2022, beta-DARTS), against
    DARTS' collapse: `weight` times the mean over choices of the
    log-sum-exp of the logits, whose gradient (each choice's softmax)
    pulls the largest logits down, so no operation's weight runs away
    early.

    Raises:
        ValueError: a negative weight.
    """

    def __init__(self, weight: float) -> None:
        if not weight >= 0:
            raise ValueError(f"the beta-decay weight must be >= 0, got {weight!r}")
        self.weight = float(weight)

    def loss(self, model: Any) -> Any:
        terms = [tf.reduce_logsumexp(tf.cast(op.arch_logits.value, tf.float32))
                 for op in architecture_ops(model).values()]
        return self.weight * tf.add_n(terms) / len(terms) if terms else tf.constant(0.0)


def _extra_loss(model: Any, cost: Any) -> Any:
    """The sum of the architecture loss terms (`ResourceCost`, `BetaDecay`,
    anything with `loss(model)`), one or a sequence; 0 for None."""
    terms = [] if cost is None else list(cost) if isinstance(cost, (list, tuple)) else [cost]
    return tf.add_n([t.loss(model) for t in terms]) if terms else 0.0


def _loss(model: Any, x: Any, y: Any, sample_weight: Any = None) -> Any:
    y_pred = model(x, training=True)
    return model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)


def _zeros_for_none(grads: Sequence[Any], variables: Sequence[Any]) -> list[Any]:
    return [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
            for g, v in zip(grads, variables)]


def architecture_gradient(model: Any, train_batch: tuple, val_batch: tuple, *,
                          order: int = 1, xi: Any = None,
                          cost: Any = None) -> list[Any]:
    """The gradient of the validation loss (plus `cost`: a loss term such
    as `ResourceCost` or `BetaDecay`, or a sequence of them) with
    respect to the architecture parameters (`architecture_variables`), in
    their order; first or second order (see the module docstring). Runs
    eagerly or inside a `tf.function`. `xi` defaults to the model
    optimizer's learning rate. BatchNormalization layers see the batches in
    training mode (their moving statistics move), as in DARTS.

    Raises:
        ValueError: `order` not 1 or 2, or a model without architecture
            parameters.
    """
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    alphas = [v.value for v in architecture_variables(model)]
    if not alphas:
        raise ValueError("the model has no architecture parameters (build it in a relaxed "
                         "supernet mode: darts, snas, gdas or proxyless)")
    xv, yv, sv = keras.utils.unpack_x_y_sample_weight(val_batch)
    if order == 1:
        with tf.GradientTape() as tape:
            tape.watch(alphas)
            loss = _loss(model, xv, yv, sv) + _extra_loss(model, cost)
        return _zeros_for_none(tape.gradient(loss, alphas), alphas)

    xt, yt, st = keras.utils.unpack_x_y_sample_weight(train_batch)
    weights = [v.value for v in model.trainable_variables]
    if xi is None:
        xi = model.optimizer.learning_rate
    with tf.GradientTape() as tape:
        train_loss = _loss(model, xt, yt, st)
    grads_w = _zeros_for_none(tape.gradient(train_loss, weights), weights)
    saved = [tf.identity(w) for w in weights]
    for w, g in zip(weights, grads_w):  # the virtual step
        w.assign_sub(tf.cast(xi, w.dtype) * g)
    with tf.GradientTape() as tape:
        tape.watch(alphas)
        val_loss = _loss(model, xv, yv, sv) + _extra_loss(model, cost)
    grads = tape.gradient(val_loss, alphas + weights)
    grad_a = _zeros_for_none(grads[:len(alphas)], alphas)
    direction = _zeros_for_none(grads[len(alphas):], weights)
    norm = tf.linalg.global_norm(direction)
    eps = HESSIAN_EPS / tf.maximum(norm, 1e-12)
    hessian_terms = []
    for sign in (1.0, -1.0):
        for w, s, d in zip(weights, saved, direction):
            w.assign(s + tf.cast(sign * eps, w.dtype) * d)
        with tf.GradientTape() as tape:
            tape.watch(alphas)
            loss = _loss(model, xt, yt, st)
        hessian_terms.append(_zeros_for_none(tape.gradient(loss, alphas), alphas))
    for w, s in zip(weights, saved):
        w.assign(s)
    return [ga - tf.cast(xi, ga.dtype) * (p - m) / (2.0 * tf.cast(eps, ga.dtype))
            for ga, p, m in zip(grad_a, *hessian_terms)]


def validation_iterator(validation: Any, batch_size: int, seed: int = 0) -> Any:
    """An endless iterator of validation batches: arrays `(x, y[, w])` are
    shuffled (seeded) and cut into full batches of `batch_size`, a
    `tf.data.Dataset` (already batched) is repeated as it is.

    Raises:
        ValueError: validation data of another kind, or too small for one
            batch.
    """
    if isinstance(validation, tf.data.Dataset):
        return iter(validation.repeat())
    if isinstance(validation, (tuple, list)) and 2 <= len(validation) <= 3:
        n = len(validation[1])
        size = max(1, min(int(batch_size), n))
        data = tf.data.Dataset.from_tensor_slices(tuple(
            np.asarray(a) if not isinstance(a, dict) else a for a in validation))
        data = data.shuffle(n, seed=seed, reshuffle_each_iteration=True).repeat()
        return iter(data.batch(size, drop_remainder=True).prefetch(2))
    raise ValueError(f"the bilevel step needs validation data as arrays (x, y) or a "
                     f"tf.data.Dataset, got {type(validation).__name__}")


class BilevelStep:
    """The bilevel training of a relaxed supernet (see the module
    docstring); `install()` puts it into the model's `train_step`.

    Args:
        model: a compiled relaxed supernet.
        validation: an iterator of validation batches
            (`validation_iterator`).
        learning_rate, weight_decay: the architecture optimizer's
            (`architecture_optimizer`, made in the model's strategy scope).
        order: 1 or 2 (2 with a single replica only: its virtual step
            writes the weights from inside the replica's step).
        cost: loss terms added to the architecture's loss: a
            `ResourceCost`, a `BetaDecay`, or a sequence of them.

    Raises:
        ValueError: a bad order, a model without architecture parameters,
            or the second order under several replicas.
    """

    def __init__(self, model: Any, validation: Any, *,
                 learning_rate: float = DEFAULT_ARCH_LR,
                 weight_decay: float = DEFAULT_ARCH_WEIGHT_DECAY, order: int = 1,
                 cost: Any = None) -> None:
        if order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {order!r}")
        strategy = model.distribute_strategy
        if order == 2 and strategy.num_replicas_in_sync > 1:
            raise ValueError("the second-order architecture gradient runs on one replica; "
                             "use order 1 under a distribution strategy")
        self.model = model
        self.validation = validation
        self.order = order
        self.cost = cost
        self.variables = architecture_variables(model)
        if not self.variables:
            raise ValueError("the model has no architecture parameters (build it in a relaxed "
                             "supernet mode: darts, snas, gdas or proxyless)")
        #: Whether the architecture step runs (a variable: no retrace).
        self.enabled = tf.Variable(True, trainable=False, name="bilevel_enabled")
        with strategy.scope():
            self.optimizer = architecture_optimizer(_GatedRate(learning_rate, self.enabled),
                                                    weight_decay=weight_decay)
            self.optimizer.build(self.variables)
        #: How many times the training step was traced (Python runs
        #: `train_step` only while TensorFlow traces it).
        self.traces = 0
        self._original: Callable[[Any], Any] | None = None

    def arch_update(self, data: Any) -> None:
        """One architecture update, the training batch `data` given (used
        by the second order); with `enabled` off, a step of rate 0 on zero
        gradients (see the module docstring)."""
        zeros = [tf.zeros_like(v.value) for v in self.variables]
        grads = tf.cond(self.enabled,
                        lambda: architecture_gradient(self.model, data, next(self.validation),
                                                      order=self.order, cost=self.cost),
                        lambda: zeros)
        self.optimizer.apply(grads, self.variables)

    def train_step(self, data: Any) -> Any:
        """The architecture update (see `arch_update`), then the model's own
        training step on `data`."""
        self.traces += 1
        self.arch_update(data)
        return self._original(data)

    @staticmethod
    def installed(model: Any) -> "BilevelStep | None":
        """The step `install` put on `model`, or None."""
        step = getattr(getattr(model, "train_step", None), "__self__", None)
        return step if isinstance(step, BilevelStep) else None

    def install(self) -> "BilevelStep":
        """Makes the model's `fit` run the bilevel step (its train function
        is made again on the next `fit`)."""
        if self._original is None:
            self._original = self.model.train_step
        self.model.train_step = self.train_step
        self.model.train_function = None
        return self

    def state(self) -> list[np.ndarray]:
        """The architecture optimizer's variables (for an exact resume)."""
        return [np.asarray(v.numpy()) for v in self.optimizer.variables]

    def load_state(self, values: Sequence[np.ndarray]) -> None:
        """Restores `state()`.

        Raises:
            ValueError: values of other shapes.
        """
        variables = self.optimizer.variables
        if len(values) != len(variables) or any(
                tuple(np.shape(a)) != tuple(v.shape) for a, v in zip(values, variables)):
            raise ValueError("the saved architecture optimizer does not match this supernet")
        for v, a in zip(variables, values):
            v.assign(a)
