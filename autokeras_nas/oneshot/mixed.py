"""`MixedOp`: one choice of a supernet, holding every candidate layer.

Modes: "single" runs one path per batch, sampled in the graph (a fixed path
when its `path` variable is >= 0), so changing the path never retraces;
"all" runs every path and sums them, each path dropped with the rate in the
`drop_rate` variable during training (never all of them).

The relaxed modes learn the choice as architecture parameters: a vector of
logits `arch_logits` per choice (a non-trainable weight, so that a model's
own optimizer leaves it alone; the bilevel step of
`autokeras_nas.oneshot.bilevel` trains it on validation batches):

- "darts" (Liu et al. 2019): the softmax-weighted sum of every path;
- "snas" (Xie et al. 2019): in training, the sum weighted by a soft
  Gumbel-softmax sample at the temperature in the `temperature` variable;
- "gdas" (Dong & Yang 2019): in training, one hard Gumbel-softmax sample per
  batch: only the sampled path runs, scaled by its straight-through weight
  (1 in the forward pass), whose gradient reaches every logit;
- "proxyless" (Cai et al. 2019): in training, two paths drawn from the
  softmax without replacement and one of them made active by a binary gate
  drawn from their two-way softmax; only the active path runs in the forward
  pass, the other runs (without gradient) in the backward pass for its
  gate's gradient, and the gates' gradients <dL/dy, path output> reach the
  two logits (the paper's two-path estimate; its implementation recomputes
  the inactive path in the backward pass too).

"hyper" (SMASH, Brock et al. 2017) runs the fixed path of every choice (a
path is always fixed: a callback draws the architecture of each training
batch, `set_paths` fixes one for an estimate), each candidate's kernels
generated from the whole architecture: `kernel + reshape(h @ delta)`, with
`h = tanh(e @ W + b)` a small hypernetwork of this MixedOp (`hyper_dims`
units) and `e` a fixed random embedding of every choice's path (each
choice's candidates have random vectors of `HYPER_EMBEDDING` numbers, seeded
by their names, summed over the choices). The `delta` matrices start at
zero, so an untrained hypernetwork is the plain weight-sharing supernet.

Outside training the relaxed modes run: "darts" and "snas" the
softmax-weighted sum, "gdas" and "proxyless" the most probable path. A fixed
path (`set_paths`) overrides every mode; only its candidate runs, except in a
compiled training step of "all", "darts" and "snas", where every candidate
runs and the sum is masked to the fixed one (its output and gradients are
the fixed path's; the others' batch-norm statistics move): no conditional,
which would make tracing the step about twice as long. Sampling and the
temperature are in the graph: changing either never retraces. With
`condition_on`, the candidates are kept once per path of an earlier
choice, and the copy used is the one matching that choice's path for the
batch. A choice used by several layers (a cell repeated in a network) has
one MixedOp per use; the first samples the batch's path, the others take it.
"""

from __future__ import annotations

import functools
import threading
import weakref
import zlib
from typing import Any, Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from autokeras_nas.oneshot.modes import MODES, RELAXED_MODES
from autokeras_nas.oneshot.switch import run_one

#: Size of the fixed random embedding of an architecture ("hyper" mode).
HYPER_EMBEDDING = 64


class Peers:
    """The first MixedOp of each choice of a "hyper" supernet, whose paths
    make the architecture every MixedOp's hypernetwork reads (a plain
    object, so Keras does not track the MixedOps twice)."""

    def __init__(self) -> None:
        self.ops: list[Any] = []


@functools.lru_cache(maxsize=None)
def _embedding(choice: str, candidates: tuple[str, ...]) -> np.ndarray:
    """Each candidate's fixed random vector (`HYPER_EMBEDDING` numbers),
    seeded by the choice's and the candidate's names (computed once)."""
    rows = [np.random.default_rng(zlib.crc32(f"{choice}/{c}".encode())).normal(
        size=HYPER_EMBEDDING) for c in candidates]
    return (np.asarray(rows) / np.sqrt(HYPER_EMBEDDING)).astype("float32")


# The path each choice took in the trace being run, read by the MixedOps that
# follow it or are conditioned on it: {graph: {(thread, choice): index}} (a
# graph per trace; eager calls use _EAGER). Threads separate the replicas of
# a MirroredStrategy, which trace the model in one graph.
_TRACES: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()
_EAGER: dict[tuple[int, str], Any] = {}


def _record(choice: str, index: Any) -> None:
    paths = _EAGER if tf.executing_eagerly() else _TRACES.setdefault(
        tf.compat.v1.get_default_graph(), {})
    paths[(threading.get_ident(), choice)] = index


def _recorded(choice: str, reader: str) -> Any:
    """The index `choice` took in this trace (or an enclosing one)."""
    key = (threading.get_ident(), choice)
    if tf.executing_eagerly():
        index = _EAGER.get(key)
    else:
        graph, index = tf.compat.v1.get_default_graph(), None
        while graph is not None and index is None:
            index = _TRACES.get(graph, {}).get(key)
            graph = getattr(graph, "outer_graph", None)
    if index is None:
        raise ValueError(f"MixedOp {reader!r} needs the path of choice {choice!r}, whose first "
                         f"mixed operation has not run before it: {reader!r} must be computed "
                         f"from its output")
    return index


@keras.saving.register_keras_serializable(package="autokeras_nas")
class MixedOp(keras.layers.Layer):
    """Every candidate of one `choose`, run one at a time or all summed.

    Built by `choose` inside `supernet_scope`; `set_paths`, `set_drop_rate`
    and `mixed_ops` act on the MixedOps of a model. Renaming the layer
    renames its candidates alike (`{name}__{candidate}`), as the chosen layer
    of a normal build would be renamed.

    Args:
        branches: the candidate layers, candidate-major: with
            `condition_candidates` of length m, branch `i * m + j` is
            candidate i's copy for path j of `condition_on`.
        candidates: the candidate names, in order.
        choice: the choice (hyperparameter) name; None means the layer name.
        follows: whether an earlier MixedOp of the same choice samples the
            path (this one takes the path that one took for the batch).
        mode: one of `MODES` (see the module docstring).
        condition_on: the choice whose path selects the copy, or None.
        condition_candidates: that choice's candidate names (with
            `condition_on`).
        seed: seed of the path sampling (and of the architecture logits'
            initialization); None draws one from Keras' global seed.
        hyper_dims: the hypernetwork's units ("hyper" mode).
        **kwargs: `keras.layers.Layer` arguments.
    """

    def __init__(self, *, branches: Sequence[keras.layers.Layer], candidates: Sequence[str],
                 choice: str | None = None, follows: bool = False, mode: str = "single",
                 condition_on: str | None = None,
                 condition_candidates: Sequence[str] | None = None, seed: int | None = None,
                 hyper_dims: int = 8, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _validate(self.name, branches, candidates, mode, condition_on, condition_candidates)
        self.choice = choice or self.name
        self.follows = bool(follows)
        self._candidate_names = tuple(candidates)
        self._condition_names = tuple(condition_candidates or ())
        self.mode = mode
        self.condition_on = condition_on
        self.seed = seed
        self.branches = list(branches)
        self.seed_generator = keras.random.SeedGenerator(seed)
        if type(hyper_dims) is not int or hyper_dims < 1:
            raise ValueError(f"MixedOp {self.name!r}: hyper_dims must be an int >= 1, "
                             f"got {hyper_dims!r}")
        self.hyper_dims = hyper_dims
        self.__dict__["_peers"] = None

    def attach_peers(self, peers: Peers) -> None:
        """The choices whose paths this "hyper" MixedOp's weights depend on
        (`choose` attaches the supernet's; alone, only its own)."""
        self.__dict__["_peers"] = peers

    @property
    def name(self) -> str:
        """The layer name; setting it renames the candidates' prefix too."""
        return self.__dict__.get("_mixed_name", "")

    @name.setter
    def name(self, value: str) -> None:
        old = self.__dict__.get("_mixed_name")
        self.__dict__["_mixed_name"] = value
        for branch in self.__dict__.get("branches", None) or []:
            if old and branch.name.startswith(f"{old}__"):
                branch.name = value + branch.name[len(old):]

    @property
    def candidates(self) -> list[str]:
        """The candidate names, in the order of the path indices."""
        return list(self._candidate_names)

    @property
    def condition_candidates(self) -> list[str]:
        """The candidate names of `condition_on` (empty when unconditioned)."""
        return list(self._condition_names)

    def build(self, input_shape: Any) -> None:
        #: The input shape the candidates were built for (batch axis first).
        self.built_input_shape = tuple(input_shape)
        x = keras.KerasTensor(input_shape, dtype=self.compute_dtype)
        shapes = [tuple(branch(x).shape) for branch in self.branches]
        if len(set(shapes)) > 1:
            found = ", ".join(f"{b.name} -> {s}" for b, s in zip(self.branches, shapes))
            raise ValueError(f"choose {self.choice!r}: the candidates map the input "
                             f"{tuple(input_shape)} to different shapes: {found}")
        self.fixed_path = self.add_weight(name="path", shape=(), dtype="int32",
                                          trainable=False,
                                          initializer=keras.initializers.Constant(-1))
        if self.mode == "all":
            self.drop_rate = self.add_weight(name="drop_rate", shape=(), trainable=False,
                                             initializer="zeros")
        if self.mode in RELAXED_MODES and not self.follows:
            # DARTS' initialization: logits near zero, all paths about equal.
            self.arch_logits = self.add_weight(
                name="arch_logits", shape=(len(self._candidate_names),), trainable=False,
                initializer=keras.initializers.RandomNormal(stddev=1e-3, seed=self.seed))
            self.temperature = self.add_weight(name="temperature", shape=(), trainable=False,
                                               initializer=keras.initializers.Constant(1.0))
        if self.mode == "hyper":
            self._build_hypernetwork()

    def _build_hypernetwork(self) -> None:
        """The hypernetwork's layer (`hyper_w`, `hyper_b`) and, for every
        kernel (a variable of rank 2 or more) of every candidate, its
        `delta` matrix, zeros."""
        d = self.hyper_dims
        self.hyper_w = self.add_weight(name="hyper_w", shape=(HYPER_EMBEDDING, d),
                                       initializer=keras.initializers.GlorotUniform(self.seed))
        self.hyper_b = self.add_weight(name="hyper_b", shape=(d,), initializer="zeros")
        self._deltas: list[list[Any]] = []
        for i, branch in enumerate(self.branches):
            deltas = []
            for j, variable in enumerate(branch.trainable_variables):
                size = int(np.prod(variable.shape))
                deltas.append(None if len(variable.shape) < 2 else self.add_weight(
                    name=f"delta_{i}_{j}", shape=(d, size), initializer="zeros"))
            self._deltas.append(deltas)

    def compute_output_spec(self, inputs: Any, training: Any = None) -> Any:
        return self.branches[0].compute_output_spec(inputs)

    def call(self, inputs: Any, training: Any = None) -> Any:
        if self.mode == "hyper":
            return self._hyper(inputs, training)
        if self.mode in RELAXED_MODES:
            # The gates are made outside the cond, where the later uses of
            # the choice find them (a cond branch is a graph of its own).
            gates = _recorded(self.choice, self.name) if self.follows else \
                self._gates(bool(training))
            if not self.follows:
                _record(self.choice, gates)
            if self.mode in ("gdas", "proxyless") or _compiled_training(training):
                # one path (gdas, proxyless): the fixed one is a gate; in a
                # compiled training step, the weights of the sum (no cond)
                return self._relaxed(self._fix(gates), inputs, training)
            return ops.cond(self.fixed_path >= 0,
                            lambda: self._run(self.fixed_path, inputs, training),
                            lambda: self._relaxed(gates, inputs, training))
        if self.mode == "all":
            if _compiled_training(training):
                return self._sum(inputs, True)  # a fixed path is its mask (no cond)
            return ops.cond(self.fixed_path >= 0,
                            lambda: self._run(self.fixed_path, inputs, training),
                            lambda: self._sum(inputs, bool(training)))
        index = self._path_index()
        if self.condition_on is not None:
            index = index * len(self._condition_names) + _recorded(self.condition_on, self.name)
        return self._run(index, inputs, training)

    def _path_index(self) -> Any:
        """This batch's path: the fixed one, else sampled uniformly (by the
        first MixedOp of the choice; the others take its index)."""
        if self.follows:
            return _recorded(self.choice, self.name)
        n = len(self._candidate_names)
        sampled = keras.random.randint((), 0, n, dtype="int32", seed=self.seed_generator)
        index = ops.where(self.fixed_path >= 0, self.fixed_path, sampled)
        _record(self.choice, index)
        return index

    def _run(self, index: Any, inputs: Any, training: Any) -> Any:
        return run_one(index, self.branches, inputs, training)

    def architecture_encoding(self) -> Any:
        """`e`: the sum over the choices (this one's peers, or itself alone)
        of their fixed path's embedding ("hyper" mode)."""
        peers = self.__dict__.get("_peers")
        ops_ = peers.ops if peers is not None and peers.ops else [self]
        total = 0
        for op in ops_:
            table = ops.convert_to_tensor(_embedding(op.choice, tuple(op.candidates)),
                                          dtype=self.compute_dtype)
            total = total + ops.take(table, ops.maximum(op.fixed_path, 0), axis=0)
        return total

    def _hyper(self, inputs: Any, training: Any) -> Any:
        """The fixed path's candidate with kernels generated from the
        architecture (see the module docstring)."""
        h = ops.tanh(ops.matmul(ops.expand_dims(self.architecture_encoding(), 0),
                                self.hyper_w) + self.hyper_b)
        fns = [lambda x, i=i: self._generated(i, h, x, training)
               for i in range(len(self.branches))]
        return ops.switch(ops.maximum(self.fixed_path, 0), fns, inputs)

    def _generated(self, i: int, h: Any, inputs: Any, training: Any) -> Any:
        branch = self.branches[i]
        values = []
        for variable, delta in zip(branch.trainable_variables, self._deltas[i]):
            value = variable.value
            if delta is not None:
                value = value + ops.reshape(ops.matmul(h, delta), variable.shape)
            values.append(value)
        fixed = branch.non_trainable_variables
        # `stateless_call` hands its keywords to `call` as they are (`__call__`
        # drops `training` for a layer whose `call` does not take it)
        kwargs = {"training": training} if _takes_training(branch) else {}
        out, updated = branch.stateless_call(values, [v.value for v in fixed], inputs, **kwargs)
        if training:
            for variable, value in zip(fixed, updated):
                variable.assign(value)  # batch-norm statistics
        return out

    def _gates(self, training: bool) -> dict[str, Any]:
        """This batch's mixing of the paths (see the module docstring):
        `weights` for the weighted sums, `index` for one path, and for
        "proxyless" in training the two drawn paths and their gates."""
        logits = ops.convert_to_tensor(self.arch_logits)
        n = len(self._candidate_names)
        if self.mode in ("darts", "snas"):
            if self.mode == "snas" and training:
                logits = (logits + _gumbel((n,), self.seed_generator, logits.dtype)
                          ) / self.temperature
            return {"weights": ops.softmax(logits)}
        if not training:
            return {"index": ops.cast(ops.argmax(logits), "int32")}
        noisy = logits + _gumbel((n,), self.seed_generator, logits.dtype)
        if self.mode == "gdas":
            soft = ops.softmax(noisy / self.temperature)
            index = ops.cast(ops.argmax(soft), "int32")
            hard = ops.one_hot(index, n, dtype=soft.dtype)
            return {"index": index, "weight": ops.take(
                hard - ops.stop_gradient(soft) + soft, index)}
        # proxyless: two paths without replacement (Gumbel top-2), one active
        pair = ops.cast(ops.top_k(noisy, 2)[1], "int32")
        probs = ops.softmax(ops.take(logits, pair))
        active = ops.cast(keras.random.uniform((), seed=self.seed_generator, dtype=probs.dtype)
                          >= probs[0], "int32")
        gates = ops.one_hot(active, 2, dtype=probs.dtype)
        return {"pair": pair, "active": active,
                "gates": gates - ops.stop_gradient(probs) + probs}

    def _fix(self, gates: dict[str, Any]) -> dict[str, Any]:
        """The gates with the fixed path, when there is one, in place of the
        sampled or most probable one, or of the weighted sum (no cond: the
        path is an index, or the one-hot weights of the sum)."""
        path = ops.convert_to_tensor(self.fixed_path)
        fixed = path >= 0
        out = dict(gates)
        if "pair" in gates:
            out["pair"] = ops.where(fixed, ops.zeros((2,), "int32") + path, gates["pair"])
            return out
        if "weights" in gates:  # a weighted sum: the fixed path's weight is 1, the others 0
            one_hot = ops.one_hot(ops.maximum(path, 0), len(self._candidate_names),
                                  dtype=gates["weights"].dtype)
            out["weights"] = ops.where(fixed, one_hot, gates["weights"])
            return out
        out["index"] = ops.where(fixed, path, gates["index"])
        if "weight" in gates:
            out["weight"] = ops.where(fixed, ops.ones_like(gates["weight"]), gates["weight"])
        return out

    def _relaxed(self, gates: dict[str, Any], inputs: Any, training: Any) -> Any:
        if "weights" in gates:
            total = 0
            for i, branch in enumerate(self.branches):
                out = branch(inputs, training=training)
                total = total + ops.cast(gates["weights"][i], out.dtype) * out
            return total
        if "pair" not in gates:
            out = self._run(gates["index"], inputs, training)
            weight = gates.get("weight")
            return out if weight is None else ops.cast(weight, out.dtype) * out
        pair, active, g = gates["pair"], gates["active"], gates["gates"]
        chosen = self._run(ops.take(pair, active), inputs, training)
        g = ops.cast(g, chosen.dtype)
        ga, go = ops.take(g, active), ops.take(g, 1 - active)
        other_index = ops.take(pair, 1 - active)

        @tf.custom_gradient
        def gated(y: Any, x: Any, index: Any, g_active: Any, g_other: Any) -> Any:
            def grad(dy: Any) -> Any:
                # The inactive path runs here, in the backward pass, without
                # gradient: the forward pass keeps only the active path's
                # activations (ProxylessNAS' own implementation does so).
                other = tf.stop_gradient(self._run(index, x, training))
                return (dy, None, None, tf.reduce_sum(dy * y),
                        tf.reduce_sum(dy * tf.cast(other, dy.dtype)))
            return tf.identity(y), grad

        # the forward value is the active path's; the gates' gradients are
        # <dL/dy, each path's output>
        return gated(chosen, ops.stop_gradient(inputs), other_index, ga, go)

    def _sum(self, inputs: Any, training: bool) -> Any:
        outputs = [branch(inputs, training=training) for branch in self.branches]
        if not training:
            return ops.sum(ops.stack(outputs), axis=0)
        keep = _keep_mask(ops.shape(inputs)[0], len(outputs), self.drop_rate,
                          self.seed_generator)
        only = ops.one_hot(ops.maximum(self.fixed_path, 0), len(outputs)) > 0
        keep = ops.where(self.fixed_path >= 0, ops.broadcast_to(only, ops.shape(keep)), keep)
        total = 0
        for i, out in enumerate(outputs):
            mask = ops.reshape(keep[:, i], (-1,) + (1,) * (len(out.shape) - 1))
            total = total + out * ops.cast(mask, out.dtype)
        return total

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            branches=[keras.saving.serialize_keras_object(b) for b in self.branches],
            candidates=self.candidates, choice=self.choice, follows=self.follows,
            mode=self.mode, condition_on=self.condition_on,
            condition_candidates=self.condition_candidates or None, seed=self.seed)
        if self.mode == "hyper":
            config["hyper_dims"] = self.hyper_dims
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "MixedOp":
        config = dict(config)
        config["branches"] = [keras.saving.deserialize_keras_object(b)
                              for b in config["branches"]]
        return cls(**config)


def _takes_training(layer: Any) -> bool:
    """Whether `layer.call` takes a `training` argument."""
    return _call_takes_training(type(layer))


@functools.lru_cache(maxsize=None)
def _call_takes_training(cls: type) -> bool:
    """Whether `cls.call` takes a `training` argument (read once per class:
    an eager call of a "hyper" MixedOp asks at every batch)."""
    import inspect

    params = inspect.signature(cls.call).parameters
    return "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _compiled_training(training: Any) -> bool:
    """Whether this call is traced for a training step. There a fixed path
    is a mask on the sum of every path ("all", "darts", "snas"), not a
    cond: the gradient of a cond around a switch made the first epoch's
    trace of a supernet take twice as long."""
    return bool(training) and not tf.executing_eagerly()


def _gumbel(shape: tuple[int, ...], seed: Any, dtype: Any = "float32") -> Any:
    """Standard Gumbel noise."""
    u = keras.random.uniform(shape, minval=1e-6, maxval=1.0 - 1e-6, seed=seed, dtype=dtype)
    return -ops.log(-ops.log(u))


def _keep_mask(batch: Any, n: int, rate: Any, seed: Any) -> Any:
    """(batch, n) booleans: each path kept with probability 1 - rate, and one
    path drawn uniformly kept for an example whose paths were all dropped."""
    keep = keras.random.uniform((batch, n), seed=seed) >= rate
    forced = ops.one_hot(keras.random.randint((batch,), 0, n, seed=seed), n) > 0
    return ops.where(ops.any(keep, axis=1, keepdims=True), keep, forced)


def _validate(name: str, branches: Sequence[Any], candidates: Sequence[str], mode: str,
              condition_on: str | None, condition_candidates: Sequence[str] | None) -> None:
    if mode not in MODES:
        raise ValueError(f"MixedOp {name!r}: mode must be one of {MODES}, got {mode!r}")
    if not candidates or len(set(candidates)) != len(candidates):
        raise ValueError(f"MixedOp {name!r}: candidates must be distinct names, got "
                         f"{list(candidates)}")
    if (condition_on is None) != (not condition_candidates):
        raise ValueError(f"MixedOp {name!r}: condition_on and condition_candidates go together")
    if condition_on is not None and mode != "single":
        raise ValueError(f"MixedOp {name!r}: conditional weights need mode 'single'")
    copies = len(condition_candidates or ()) or 1
    if len(branches) != len(candidates) * copies:
        raise ValueError(f"MixedOp {name!r}: expected {len(candidates) * copies} branches "
                         f"({len(candidates)} candidates x {copies}), got {len(branches)}")
    for branch in branches:
        if not isinstance(branch, keras.layers.Layer):
            raise ValueError(f"MixedOp {name!r}: branches must be Keras layers, got {branch!r}")
