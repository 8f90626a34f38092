"""Training-free estimators: score a network at initialization.

Each proxy is a function `score(model, batch) -> float`, higher meaning the
network is expected to train to a better accuracy:

* `synflow` (Tanaka et al. 2020; as a NAS proxy, Abdelfattah et al. 2021):
  data-free. Every weight is replaced by its absolute value, an input of
  ones goes through the network in inference mode, and the score is
  `sum |w * dR/dw|` over the kernels, R being the sum of the network's
  outputs (its logits: a final softmax or sigmoid is left out). The sum of
  products of positive weights over every path grows geometrically with
  depth, so the network is evaluated in float64 (a clone of the model; the
  model itself is not changed), where it does not overflow.
* `snip` (Lee et al. 2019): `sum |w * dL/dw|` over the kernels, L the
  cross-entropy of one batch.
* `grad_norm`: the sum over kernels of the L2 norm of dL/dw.
* `jacob_cov` (Mellor et al. 2020, first version): how uncorrelated the
  input Jacobians of the batch's samples are; `-sum(log(v + k) + 1/(v + k))`
  over the eigenvalues v of their correlation matrix, k = 1e-5.
* `naswot` (Mellor et al. 2021): the binary codes of the ReLU units of
  each sample (which units are active); the log-determinant of the kernel
  `K[i, j] = units where samples i and j agree` (plus 1e-3 on its diagonal, so
  that samples with identical codes give a low, finite score). It needs ReLUs at the
  model's top level (`ReLU` layers, `Activation("relu")` or layers with
  `activation="relu"`), as the spaces of this package have.

The data-dependent proxies take the batch as `(x, y)` (labels as class
indices, or one-hot); `synflow` needs only the input shape. They run
eagerly (no graph is traced, so a score of a new model costs no tracing)
and never change the model: batch-norm statistics are not updated and no
weight is written. `score(name, model, batch)` calls one by name;
`PROXIES` lists them.

    from autokeras_nas import zerocost
    value = zerocost.score("synflow", model)
    values = {name: zerocost.score(name, model, (x[:64], y[:64])) for name in zerocost.PROXIES}
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

__all__ = ["PROXIES", "grad_norm", "jacob_cov", "naswot", "operation_saliency", "score", "snip",
           "synflow", "synflow_of_paths"]

#: Eigenvalue offset of `jacob_cov`, as Mellor et al.
_JACOB_K = 1e-5
_SQUASHING = ("softmax", "sigmoid", "log_softmax")
#: Added to the diagonal of `naswot`'s kernel: two samples with the same
#: code make it singular, and the score is then low and finite instead of
#: minus infinity (the kernel's entries count units, so it moves nothing else).
_NASWOT_RIDGE = 1e-3


def _kernel_indices(model: keras.Model) -> list[int]:
    """Positions in `model.trainable_variables` of its weight matrices and
    convolution kernels: the variables of rank 2 or more (biases and
    normalization vectors left out, as the proxies' authors leave them out)."""
    return [i for i, v in enumerate(model.trainable_variables) if len(v.shape) >= 2]


def _activation_name(fn: Any) -> str | None:
    name = getattr(fn, "__name__", None)
    return None if name is None else str(name)


@contextmanager
def _logits(model: keras.Model) -> Iterator[None]:
    """The model outputs its logits inside the block: a final layer's
    softmax or sigmoid activation is replaced by the identity, then put
    back."""
    last = model.layers[-1] if getattr(model, "layers", None) else None
    original = getattr(last, "activation", None)
    swapped = last is not None and _activation_name(original) in _SQUASHING
    if swapped:
        last.activation = keras.activations.linear
    try:
        yield
    finally:
        if swapped:
            last.activation = original


def _input_shape(model: keras.Model, batch: Any) -> tuple[int, ...]:
    inputs = getattr(model, "inputs", None)
    if inputs:
        if len(inputs) != 1:
            raise ValueError(f"a proxy scores models of one input; this one has {len(inputs)}")
        shape = tuple(inputs[0].shape[1:])
        if all(d is not None for d in shape):
            return tuple(int(d) for d in shape)
    if batch is None:
        raise ValueError("synflow needs the input shape: give a batch, or a model built on "
                         "an Input of known shape")
    x = batch[0] if isinstance(batch, (tuple, list)) else batch
    return tuple(int(d) for d in np.shape(x)[1:])


def _split(batch: Any, proxy: str, *, labels: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    if batch is None:
        raise ValueError(f"{proxy} needs a batch of data: score({proxy!r}, model, (x, y))")
    if isinstance(batch, (tuple, list)):
        x, y = batch[0], (batch[1] if len(batch) > 1 else None)
    else:
        x, y = batch, None
    x = np.asarray(x)
    if x.ndim < 2 or len(x) < 2:
        raise ValueError(f"{proxy} needs a batch of at least 2 samples, got shape {x.shape}")
    if labels and y is None:
        raise ValueError(f"{proxy} needs labels: give the batch as (x, y)")
    return x, (None if y is None else np.asarray(y))


def _forward(model: keras.Model, values: Sequence[Any], x: Any, *, training: bool) -> Any:
    """The model's output with `values` as its trainable variables, without
    writing any variable (batch-norm statistics included)."""
    non_trainable = [v.value for v in model.non_trainable_variables]
    outputs, _ = model.stateless_call(list(values), non_trainable, x, training=training)
    return outputs


def _loss_gradients(model: keras.Model, batch: Any, proxy: str) -> list[tuple[Any, Any]]:
    """(kernel value, dL/dkernel) for every kernel, L the mean cross-entropy
    of the batch's logits, the model in training mode (batch statistics in
    its normalization layers, as when it trains)."""
    x, y = _split(batch, proxy)
    x = tf.convert_to_tensor(x, dtype=model.inputs[0].dtype if getattr(model, "inputs", None)
                             else "float32")
    values = [v.value for v in model.trainable_variables]
    kernels = _kernel_indices(model)
    if not kernels:
        raise ValueError(f"{proxy}: the model has no weight matrix or kernel to score")
    with tf.GradientTape() as tape:
        tape.watch(values)
        with _logits(model):
            logits = _forward(model, values, x, training=True)
        if isinstance(logits, (list, tuple, dict)):
            raise ValueError(f"{proxy} scores models of one output")
        logits = tf.reshape(tf.cast(logits, "float32"), (tf.shape(logits)[0], -1))
        if y.ndim > 1 and y.shape[-1] == logits.shape[-1] and y.shape[-1] > 1:
            labels = tf.argmax(y, axis=-1)
        else:
            labels = tf.reshape(tf.cast(y, "int64"), (-1,))
        if logits.shape[-1] == 1:  # a binary classifier's one logit
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.cast(labels, "float32"), logits=logits[:, 0]))
        else:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits))
    grads = tape.gradient(loss, [values[i] for i in kernels])
    return [(values[i], g) for i, g in zip(kernels, grads) if g is not None]


def _finite(value: float, proxy: str) -> float:
    if not np.isfinite(value):
        raise FloatingPointError(f"{proxy} is not finite ({value}) for this model")
    return float(value)


def snip(model: keras.Model, batch: Any = None) -> float:
    """SNIP's connection sensitivity: sum |w * dL/dw| over the kernels, L the
    cross-entropy of `batch` = (x, y)."""
    total = sum(float(tf.reduce_sum(tf.abs(w * g))) for w, g in _loss_gradients(model, batch, "snip"))
    return _finite(total, "snip")


def grad_norm(model: keras.Model, batch: Any = None) -> float:
    """The sum over kernels of the L2 norm of the loss gradient on `batch`
    = (x, y)."""
    total = sum(float(tf.norm(g)) for _, g in _loss_gradients(model, batch, "grad_norm"))
    return _finite(total, "grad_norm")


def _float64_clone(model: keras.Model) -> keras.Model:
    """A copy of `model` computing in float64, its weights the model's."""
    if all(v.dtype == "float64" for v in model.weights):
        clone = keras.models.clone_model(model)
    else:
        def as_float64(layer: keras.layers.Layer) -> keras.layers.Layer:
            config = layer.get_config()
            config["dtype"] = "float64"
            return layer.__class__.from_config(config)

        try:
            clone = keras.models.clone_model(model, clone_function=as_float64)
        except Exception as error:  # noqa: BLE001 - any layer that cannot be rebuilt
            raise ValueError(
                "synflow evaluates a float64 copy of the model and could not make one "
                f"({type(error).__name__}: {error}); every layer needs get_config/from_config"
            ) from error
    if len(clone.weights) != len(model.weights):
        raise ValueError("synflow: the float64 copy of the model has other weights than it")
    for target, source in zip(clone.weights, model.weights):
        target.assign(np.asarray(source.numpy(), dtype="float64"))
    return clone


def _synflow_sum(model: keras.Model, weights: Sequence[Any], shape: tuple[int, ...]) -> Any:
    """`sum |w * dR/dw|` over the kernels of a float64 `model` whose
    trainable variables take the values `weights` (their absolute values),
    R the sum of its outputs for an input of ones (call it inside
    `_logits`)."""
    kernels = _kernel_indices(model)
    if not kernels:
        raise ValueError("synflow: the model has no weight matrix or kernel to score")
    ones = tf.ones((1, *shape), dtype="float64")
    with tf.GradientTape() as tape:
        tape.watch(weights)
        outputs = _forward(model, weights, ones, training=False)
        total = tf.add_n([tf.reduce_sum(tf.cast(o, "float64"))
                          for o in tf.nest.flatten(outputs)])
    grads = tape.gradient(total, [weights[i] for i in kernels])
    # (a layer left in float32 by the copy sums in its own dtype)
    return tf.add_n([tf.cast(tf.reduce_sum(tf.abs(weights[i] * g)), "float64")
                     for i, g in zip(kernels, grads) if g is not None])


def synflow(model: keras.Model, batch: Any = None) -> float:
    """Synaptic flow: data-free (`batch` only gives the input shape when the
    model has no Input of known shape). See the module's docs."""
    shape = _input_shape(model, batch)
    clone = _float64_clone(model)
    for variable in clone.weights:
        variable.assign(tf.abs(variable.value))
    with _logits(clone):
        value = _synflow_sum(clone, [v.value for v in clone.trainable_variables], shape)
    return _finite(float(value), "synflow")


def synflow_of_paths(supernet: keras.Model, architectures: Iterable[Mapping[str, str]],
                     batch: Any = None) -> Iterator[float]:
    """Synflow of many architectures with the weights of one supernet: the
    architecture's path is fixed in the supernet (`oneshot.set_paths`) and
    the operations off the path get no gradient and add nothing, so each
    score is `synflow` of the architecture built alone with the supernet's
    weights of its operations. One traced step serves every architecture
    (a score costs one forward and one backward pass, no build).

    Args:
        supernet: A supernet built in "single" mode whose weights are
            float64 (built under `keras.config.set_dtype_policy("float64")`:
            synflow overflows float32 in deep networks). It is not changed
            except for its fixed paths, which are put back at the end.
        architectures: Each a mapping choice -> candidate naming every
            choice of the supernet.
        batch: As for `synflow` (only the input shape, when the supernet
            has no Input of known shape).

    Yields:
        The score of each architecture, in order.

    Raises:
        ValueError: weights that are not float64, no kernel, or an
            architecture that names an unknown choice or candidate.
    """
    from autokeras_nas import oneshot

    if any(v.dtype != "float64" for v in supernet.trainable_variables):
        raise ValueError("synflow_of_paths needs a float64 supernet: build it under "
                         "keras.config.set_dtype_policy('float64')")
    shape = _input_shape(supernet, batch)
    weights = [tf.abs(v.value) for v in supernet.trainable_variables]
    step = tf.function(lambda: _synflow_sum(supernet, weights, shape))
    try:
        with _logits(supernet):
            for architecture in architectures:
                oneshot.set_paths(supernet, architecture)
                yield _finite(float(step()), "synflow")
    finally:
        oneshot.set_paths(supernet, None)


#: The logit of a pruned candidate: its softmax weight is exactly 0 in
#: float64 (exp(-1e4) underflows), so it adds nothing to the sum.
_PRUNED_LOGIT = -1e4


def operation_saliency(supernet: keras.Model, *, iterative: bool = True,
                       batch: Any = None) -> dict[str, Any]:
    """FreeDARTS' training-free derivation (Zhang et al. 2021): the synaptic
    flow through every candidate of every choice of a relaxed supernet at
    initialization, and the architecture that keeps the candidates through
    which the most flows.

    The supernet's weights are replaced by their absolute values and an
    input of ones goes through it in inference mode (data-free, as
    `synflow`), each choice the weighted sum of its surviving candidates
    with equal weights (their logits equal; "none" never survives). A
    candidate's saliency is dR/dlogit, R the sum of the outputs: its own
    flow `p * dR/dp` minus its weight's share of the choice's whole flow,
    so the candidates of a choice rank as their flows do. Iteratively (the
    default, as FreeDARTS and synflow prune), each round removes the least
    salient survivor of every choice that has several and scores the rest
    again, until each choice keeps one; otherwise the first round's order
    decides. One traced step serves every round.

    Args:
        supernet: A supernet built in "darts" mode whose weights are float64
            (built under `keras.config.set_dtype_policy("float64")`, as for
            `synflow_of_paths`). It is not changed.
        iterative: Prune one candidate per choice per round (True) or rank
            once (False).
        batch: As for `synflow` (only the input shape, when the supernet
            has no Input of known shape).

    Returns:
        `saliency` (choice -> candidate -> the first round's saliency),
        `order` (choice -> its candidates, the kept one first, then in the
        reverse order of their removal; "none" last), `architecture`
        (choice -> the kept candidate) and `rounds` (scoring passes).

    Raises:
        ValueError: weights that are not float64, a supernet that is not in
            "darts" mode, or no kernel.
        FloatingPointError: a saliency that is not finite.
    """
    from autokeras_nas import oneshot

    ops = oneshot.architecture_ops(supernet)
    if not ops or any(op.mode != "darts" for op in ops.values()):
        raise ValueError("operation_saliency needs a supernet built in 'darts' mode "
                         "(oneshot.supernet_scope(mode='darts'))")
    if any(v.dtype != "float64" for v in supernet.trainable_variables):
        raise ValueError("operation_saliency needs a float64 supernet: build it under "
                         "keras.config.set_dtype_policy('float64')")
    shape = _input_shape(supernet, batch)
    weights = [tf.abs(v.value) for v in supernet.trainable_variables]
    fixed = [v.value for v in supernet.non_trainable_variables]
    position = {id(v): i for i, v in enumerate(supernet.non_trainable_variables)}
    slots = [position[id(op.arch_logits)] for op in ops.values()]
    ones = tf.ones((1, *shape), dtype="float64")

    @tf.function
    def step(logits: list[Any]) -> list[Any]:
        values = list(fixed)
        for slot, value in zip(slots, logits):
            values[slot] = value
        with tf.GradientTape() as tape:
            tape.watch(logits)
            outputs, _ = supernet.stateless_call(weights, values, ones, training=False)
            total = tf.add_n([tf.reduce_sum(tf.cast(o, "float64"))
                              for o in tf.nest.flatten(outputs)])
        return tape.gradient(total, logits)

    zero = oneshot.zero_candidates(supernet)
    names = list(ops)
    candidates = {name: list(ops[name].candidates) for name in names}
    alive = {name: [c for c in candidates[name] if c not in zero.get(name, ())]
             or list(candidates[name]) for name in names}
    removed: dict[str, list[str]] = {name: [] for name in names}
    first: dict[str, dict[str, float]] | None = None
    rounds = 0
    with _logits(supernet):
        while first is None or any(len(alive[name]) > 1 for name in names):
            logits = [tf.constant([0.0 if c in alive[name] else _PRUNED_LOGIT
                                   for c in candidates[name]], dtype="float64")
                      for name in names]
            grads = step(logits)
            rounds += 1
            scores = {name: dict(zip(candidates[name], np.asarray(g, dtype="float64").tolist()))
                      for name, g in zip(names, grads)}
            for name in names:
                live = [scores[name][c] for c in alive[name]]
                if not np.all(np.isfinite(live)):
                    raise FloatingPointError(f"operation_saliency: a saliency of {name!r} is "
                                             f"not finite ({live})")
            if first is None:
                first = scores
            for name in names:
                # least salient first; among equals the later candidate goes first
                ranked = sorted(alive[name], key=lambda c: (scores[name][c],
                                                            -candidates[name].index(c)))
                drop = ranked[:1] if iterative else ranked[:-1]
                if len(alive[name]) > 1:
                    removed[name].extend(drop)
                    alive[name] = [c for c in alive[name] if c not in drop]
            if not iterative:
                break
    assert first is not None
    order = {name: alive[name] + removed[name][::-1]
             + [c for c in candidates[name] if c not in alive[name] + removed[name]]
             for name in names}
    return {"saliency": {name: {c: first[name][c] for c in candidates[name]
                                if c not in zero.get(name, ()) or c in order[name][:1]}
                         for name in names},
            "order": order, "architecture": {name: alive[name][0] for name in names},
            "rounds": rounds}


def jacob_cov(model: keras.Model, batch: Any = None) -> float:
    """Jacobian covariance: `batch` = x or (x, y) (labels unused); at least
    2 samples, 32 or more for a meaningful score."""
    x, _ = _split(batch, "jacob_cov", labels=False)
    x = tf.convert_to_tensor(x, dtype="float32")
    values = [v.value for v in model.trainable_variables]
    with tf.GradientTape() as tape:
        tape.watch(x)
        with _logits(model):
            outputs = _forward(model, values, x, training=True)
        total = tf.reduce_sum(tf.cast(outputs, "float32"))
    jacobian = tape.gradient(total, x)
    if jacobian is None:
        raise ValueError("jacob_cov: the model's output does not depend on its input")
    rows = np.asarray(jacobian, dtype="float64").reshape(len(x), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(rows)
    corr = np.nan_to_num(corr, nan=0.0)
    eig = np.clip(np.linalg.eigvalsh(corr), 0.0, None)
    return _finite(-float(np.sum(np.log(eig + _JACOB_K) + 1.0 / (eig + _JACOB_K))), "jacob_cov")


def _relu_outputs(model: keras.Model) -> list[Any]:
    found = []
    for layer in getattr(model, "layers", []):
        if isinstance(layer, keras.layers.ReLU):
            found.append(layer)
        elif isinstance(layer, keras.layers.Activation):
            if _activation_name(layer.activation) == "relu":
                found.append(layer)
        elif _activation_name(getattr(layer, "activation", None)) == "relu":
            found.append(layer)
    return found


def naswot(model: keras.Model, batch: Any = None) -> float:
    """NASWOT: `batch` = x or (x, y) (labels unused); at least 2 samples."""
    x, _ = _split(batch, "naswot", labels=False)
    layers = _relu_outputs(model)
    if not layers or not getattr(model, "inputs", None):
        raise ValueError("naswot needs a functional model with ReLUs at its top level "
                         "(ReLU layers, Activation('relu') or activation='relu')")
    probe = keras.Model(model.inputs, [layer.output for layer in layers])
    values = [v.value for v in probe.trainable_variables]
    activations = _forward(probe, values, tf.convert_to_tensor(x, dtype="float32"), training=True)
    codes = np.concatenate([np.asarray(a).reshape(len(x), -1) > 0
                            for a in tf.nest.flatten(activations)], axis=1).astype("float64")
    kernel = codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T
    _, logdet = np.linalg.slogdet(kernel + _NASWOT_RIDGE * np.eye(len(kernel)))
    return _finite(float(logdet), "naswot")


#: The proxies by name.
PROXIES: dict[str, Callable[..., float]] = {
    "synflow": synflow, "snip": snip, "grad_norm": grad_norm,
    "jacob_cov": jacob_cov, "naswot": naswot,
}


def score(name: str, model: keras.Model, batch: Any = None) -> float:
    """The proxy `name` (one of `PROXIES`) of `model` on `batch`."""
    if name not in PROXIES:
        raise ValueError(f"unknown proxy {name!r}; choose from {', '.join(PROXIES)}")
    return PROXIES[name](model, batch)
