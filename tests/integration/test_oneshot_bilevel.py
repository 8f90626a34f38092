"""Differentiable supernets (`autokeras_nas.oneshot.bilevel` and the
relaxed modes of `MixedOp`): the second-order architecture gradient against
a finite-difference reference, no retrace when the temperature, the path or
the warm-up switch changes, the architecture parameters learning which
operation helps, and the architecture optimizer's state round trip."""

from __future__ import annotations

import json

import keras
import keras_tuner
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from autokeras_nas import oneshot
from autokeras_nas.oneshot import bilevel

pytestmark = pytest.mark.tf


def _tiny(hp):
    inputs = keras.Input((4,))
    x = layers.Dense(4, activation="tanh")(inputs)
    x = oneshot.choose(hp, "op", {"tanh": lambda: layers.Dense(4, activation="tanh"),
                                  "sigmoid": lambda: layers.Dense(4, activation="sigmoid"),
                                  "skip": lambda: layers.Identity()})(x)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    return model


@pytest.fixture
def float64():
    """Layers in float64 (finite differences need it), restored after."""
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        yield
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


def test_second_order_gradient_matches_the_unrolled_finite_difference(float64):
    """d/da L_val(w - xi grad_w L_train(w, a), a) by central differences on
    a: DARTS' second order is close to it (its Hessian term is evaluated at
    w, so it is exact only to first order in xi), much closer than the
    first order."""
    rng = np.random.default_rng(0)
    train = (rng.random((16, 4)), rng.integers(0, 3, 16))
    val = (rng.random((16, 4)), rng.integers(0, 3, 16))
    keras.utils.set_random_seed(0)
    model = oneshot.build_supernet(_tiny, keras_tuner.HyperParameters(), mode="darts", seed=1)
    (alpha,) = oneshot.architecture_variables(model)
    assert alpha.dtype == "float64" and model.trainable_variables[0].dtype == "float64"
    a0 = np.array([0.3, -0.2, 0.1])
    alpha.assign(a0)
    weights = model.trainable_variables
    w0 = [w.numpy() for w in weights]
    xi = 0.05

    second = bilevel.architecture_gradient(model, train, val, order=2, xi=xi)[0].numpy()
    assert all(np.array_equal(w.numpy(), v) for w, v in zip(weights, w0))  # restored
    first = bilevel.architecture_gradient(model, train, val, order=1)[0].numpy()

    def unrolled_val_loss(a):
        alpha.assign(a)
        for w, v in zip(weights, w0):
            w.assign(v)
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=train[0], y=train[1], y_pred=model(train[0]))
        for w, g in zip(weights, tape.gradient(loss, [w.value for w in weights])):
            w.assign_sub(xi * g)
        out = model.compute_loss(x=val[0], y=val[1], y_pred=model(val[0])).numpy()
        for w, v in zip(weights, w0):
            w.assign(v)
        return out

    h = 1e-5
    reference = np.array([(unrolled_val_loss(a0 + h * e) - unrolled_val_loss(a0 - h * e))
                          / (2 * h) for e in np.eye(3)])
    scale = np.abs(reference).max()
    assert np.abs(second - reference).max() < 0.01 * scale, (second, reference)
    assert np.abs(second - reference).max() < 0.3 * np.abs(first - reference).max()


def _digits_model(hp):
    inputs = keras.Input((64,))
    x = layers.Dense(16, activation="relu")(inputs)
    x = oneshot.choose(hp, "op", {"dense": lambda: layers.Dense(16, activation="relu"),
                                  "zero": oneshot.zero})(x)
    model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.mark.parametrize("mode", ["darts", "snas", "gdas", "proxyless"])
def test_the_architecture_learns_which_operation_helps(digits, mode):
    """Between a useful layer and zeros, the bilevel step moves every
    relaxation's probability to the useful one; the weights' own optimizer
    never touches the logits."""
    x, y, xv, yv = digits
    keras.utils.set_random_seed(0)
    model = oneshot.build_supernet(_digits_model, keras_tuner.HyperParameters(), mode=mode,
                                   seed=0)
    assert not any("arch_logits" in v.path for v in model.trainable_variables)
    step = bilevel.BilevelStep(model, bilevel.validation_iterator((xv, yv), 64),
                               learning_rate=0.03).install()
    oneshot.set_temperature(model, 1.0)
    model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    probs = oneshot.probabilities(model)["op"]
    assert probs["dense"] > 0.7, probs
    assert int(step.optimizer.iterations.numpy()) == 3 * int(np.ceil(len(x) / 64))


def test_changing_temperature_path_or_warmup_never_retraces(digits):
    """The temperature, the fixed path and the warm-up switch are variables:
    the training step traced in the first epoch serves every later one
    (TensorFlow traces it twice on its first call, creating variables), and
    the architecture parameters stay put while the step is switched off."""
    x, y, xv, yv = digits
    keras.utils.set_random_seed(0)
    model = oneshot.build_supernet(_digits_model, keras_tuner.HyperParameters(), mode="gdas",
                                   seed=0)
    step = bilevel.BilevelStep(model, bilevel.validation_iterator((xv, yv), 64)).install()
    (alpha,) = oneshot.architecture_variables(model)
    moved = []

    class Vary(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            oneshot.set_temperature(self.model, 10.0 / (epoch + 1))
            step.enabled.assign(epoch % 2 == 1)
            oneshot.set_paths(self.model, {"op": "dense"} if epoch == 2 else None)
            self.start = alpha.numpy().copy()

        def on_epoch_end(self, epoch, logs=None):
            moved.append(not np.array_equal(alpha.numpy(), self.start))

    model.fit(x[:256], y[:256], batch_size=64, epochs=1, verbose=0)
    traced = step.traces
    assert traced >= 1
    model.fit(x[:256], y[:256], batch_size=64, epochs=4, verbose=0, callbacks=[Vary()])
    assert step.traces == traced
    # epochs 1 and 3 took architecture steps; 0 and 2 (switched off) left them
    assert moved == [False, True, False, True]


def test_the_architecture_optimizer_state_round_trips(digits):
    x, y, xv, yv = digits
    keras.utils.set_random_seed(0)
    model = oneshot.build_supernet(_digits_model, keras_tuner.HyperParameters(), mode="darts",
                                   seed=0)
    step = bilevel.BilevelStep(model, bilevel.validation_iterator((xv, yv), 64)).install()
    model.fit(x[:128], y[:128], batch_size=64, epochs=1, verbose=0)
    saved = step.state()
    assert any(np.any(a != 0) for a in saved)
    other = bilevel.BilevelStep(model, bilevel.validation_iterator((xv, yv), 64))
    other.load_state(saved)
    assert all(np.array_equal(a, b) for a, b in zip(other.state(), saved))
    with pytest.raises(ValueError, match="does not match"):
        other.load_state(saved[:-1])
    # the schedule finds the installed step on the model; `other` is not installed
    assert bilevel.BilevelStep.installed(model) is step
    assert bilevel.BilevelStep.installed(keras.Sequential([layers.Dense(1)])) is None


def test_bad_input_is_refused():
    model = oneshot.build_supernet(_digits_model, keras_tuner.HyperParameters(), mode="single")
    with pytest.raises(ValueError, match="no architecture parameters"):
        bilevel.BilevelStep(model, iter([]))
    with pytest.raises(ValueError, match="arrays"):
        bilevel.validation_iterator("data", 32)
    with pytest.raises(ValueError, match="excluded"):
        oneshot.derive({"op": {"zero": 1.0}}, excluded={"op": ["zero"]})
    assert oneshot.derive({"a": {"x": 0.6, "y": 0.4}, "b": {"p": 0.1, "none": 0.9}},
                          excluded={"b": ["none"]}, top=3) == [
        {"a": "x", "b": "p"}, {"a": "y", "b": "p"}]


def test_a_resource_cost_moves_the_architecture_to_the_cheaper_operation(digits):
    """With a heavy parameter cost the architecture leaves the useful but
    costly layer for zeros; a target the costly layer already meets puts no
    pressure on it."""
    from autokeras_nas.oneshot import costs

    x, y, xv, yv = digits
    found = {}
    for label, weight, target in (("heavy", 50.0, None), ("met", 50.0, 1e9)):
        keras.utils.set_random_seed(0)
        model = oneshot.build_supernet(_digits_model, keras_tuner.HyperParameters(),
                                       mode="darts", seed=0)
        table = costs.candidate_params(model)
        assert table["op"] == {"dense": 16 * 16 + 16, "zero": 0.0}
        cost = bilevel.ResourceCost(table, weight, target)
        bilevel.BilevelStep(model, bilevel.validation_iterator((xv, yv), 64),
                            learning_rate=0.03, cost=cost).install()
        model.fit(x, y, batch_size=64, epochs=2, verbose=0)
        found[label] = oneshot.probabilities(model)["op"]["dense"]
    assert found["heavy"] < 0.3 < 0.7 < found["met"], found


def test_beta_decay_pulls_each_choice_by_its_softmax():
    """beta-decay's gradient on a choice's logits is its weight times their
    softmax over the number of choices: the largest logit is pulled most."""
    keras.utils.set_random_seed(0)
    model = oneshot.build_supernet(_tiny, keras_tuner.HyperParameters(), mode="darts", seed=1)
    (alpha,) = oneshot.architecture_variables(model)
    alpha.assign([2.0, 0.0, -1.0])
    with tf.GradientTape() as tape:
        tape.watch(alpha.value)
        loss = bilevel.BetaDecay(3.0).loss(model)
    grad = tape.gradient(loss, alpha.value).numpy()
    np.testing.assert_allclose(grad, 3.0 * tf.nn.softmax([2.0, 0.0, -1.0]).numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="beta-decay weight"):
        bilevel.BetaDecay(-1.0)


class _Step:
    """What the schedule reads of a `BilevelStep`: its switch and state."""

    def __init__(self) -> None:
        self.enabled = tf.Variable(False)

    def state(self) -> list:
        return []


@pytest.mark.parametrize("warmup, shares, stopped, derived_from", [
    (0, ["tanh", "tanh", "skip", "tanh"], 3, 2),  # the epoch before the collapse
    (1, ["skip", "tanh", "tanh", "tanh"], None, None),  # the warm-up never stops
    (1, ["tanh", "skip", "tanh", "tanh"], 2, 2),  # the first moving epoch: its own
])
def test_collapse_stop_ends_the_supernet_and_derives_from_the_epoch_before(
        tmp_path, monkeypatch, warmup, shares, stopped, derived_from):
    """DARTS+'s early stopping: the first epoch (after the warm-up) whose
    derived cell is more than `collapse_stop` parameter-free stops the
    training, and the architecture comes from the epoch before."""
    from autokeras_nas.tuner.trainers import differentiable

    model = oneshot.build_supernet(_tiny, keras_tuner.HyperParameters(), mode="darts", seed=1)
    leader = {"tanh": {"tanh": 0.6, "sigmoid": 0.2, "skip": 0.2},
              "skip": {"tanh": 0.2, "sigmoid": 0.2, "skip": 0.6}}
    scripted = iter([{"op": leader[s]} for s in shares])
    monkeypatch.setattr(oneshot, "probabilities", lambda m: next(scripted))
    options = differentiable.differentiable_options(
        {"mode": "darts", "collapse_stop": 0.5, "warmup_epochs": warmup})
    schedule = differentiable._ArchitectureSchedule(options, 4, str(tmp_path))
    schedule.step = _Step()
    schedule.set_model(model)
    model.stop_training = False
    for epoch in range(4):
        schedule.on_epoch_begin(epoch)
        schedule.on_epoch_end(epoch, {})
        if model.stop_training:
            break
    assert schedule.stopped_at == stopped
    if stopped is None:
        assert epoch == 3 and schedule.last_epoch == 4
        return
    assert epoch + 1 == stopped and schedule.last_epoch == derived_from
    assert schedule.last[0] == {"op": leader[shares[derived_from - 1]]}
    with pytest.raises(keras_tuner.errors.FailedTrialError, match="collapse_stop must be"):
        differentiable.differentiable_options({"collapse_stop": 1.0})


def test_collapse_stop_defaults_by_mode_and_counts_only_contested_choices():
    from autokeras_nas.tuner.trainers import differentiable

    assert differentiable.differentiable_options({})["collapse_stop"] == 0.5  # darts
    assert differentiable.differentiable_options({"mode": "snas"})["collapse_stop"] == 0.5
    assert differentiable.differentiable_options({"mode": "gdas"})["collapse_stop"] is None
    assert differentiable.differentiable_options({"collapse_stop": None})["collapse_stop"] is None
    free = {"edge": ["none", "skip"], "pool": ["max", "avg"]}
    candidates = {"edge": {"none": 0.1, "skip": 0.5, "conv": 0.4},
                  "pool": {"max": 0.5, "avg": 0.5}}
    # A choice between weightless candidates only is no sign of collapse.
    assert differentiable.collapse_share({"edge": "conv", "pool": "max"}, free, candidates) == 0.0
    assert differentiable.collapse_share({"edge": "skip", "pool": "max"}, free, candidates) == 1.0
    assert differentiable.parameter_free_share({"edge": "conv", "pool": "max"}, free) == 0.5
    assert differentiable.collapse_share({"pool": "avg"}, free, candidates) == 0.0


def test_max_parameter_free_switches_the_cheapest_weightless_choices():
    """P-DARTS' limit: the weightless choices over the limit that lose the
    least probability take their best candidate with weights, so the result
    is the most probable architecture within the limit (checked by brute
    force), and a choice of weightless candidates only is not counted."""
    import itertools

    from autokeras_nas.tuner.trainers import differentiable

    probs = {"a": {"skip": 0.5, "conv": 0.4, "none": 0.1},
             "b": {"skip": 0.7, "conv": 0.2, "none": 0.1},
             "c": {"pool": 0.45, "conv": 0.35, "sep": 0.2},
             "d": {"skip": 0.3, "conv": 0.6, "none": 0.1},
             "e": {"max": 0.6, "avg": 0.4}}
    free = {name: [c for c in dist if c in ("skip", "pool", "none", "max", "avg")]
            for name, dist in probs.items()}
    zero = {name: ["none"] for name in probs if "none" in probs[name]}
    best = oneshot.derive(probs, excluded=zero)[0]
    assert [best[n] for n in "abcd"] == ["skip", "skip", "pool", "conv"]  # 3 of 4 contested free
    for share, expect_free in ((0.5, 2), (0.25, 1), (0.0, 0), (1.0, 3)):
        capped = oneshot.cap_parameter_free(best, probs, free, share, excluded=zero)
        contested = [n for n in "abcd" if capped[n] in free[n]]
        assert len(contested) == expect_free and capped["e"] == "max"
        within = [dict(zip(probs, combo)) for combo in itertools.product(*map(list, probs.values()))
                  if "none" not in combo
                  and sum(combo[i] in free[n] for i, n in enumerate("abcd")) <= expect_free]
        top = max(within, key=lambda a: np.prod([probs[n][a[n]] for n in probs]))
        assert capped == top
    # the trainer's derivation applies it to every reported architecture
    options = {**differentiable.differentiable_options({"max_parameter_free": 0.5}),
               "architectures": 3}
    derived = differentiable.derive_within(probs, zero, options, None, free=free)
    assert len(derived) == 3 and len({json.dumps(a, sort_keys=True) for a in derived}) == 3
    assert all(sum(a[n] in free[n] for n in "abcd") <= 2 for a in derived)
    assert derived[0] == oneshot.cap_parameter_free(best, probs, free, 0.5, excluded=zero)
    # The mode's default: on for gdas only.
    assert differentiable.differentiable_options({})["max_parameter_free"] is None
    assert differentiable.differentiable_options({"mode": "gdas"})["max_parameter_free"] == 0.5
    assert differentiable.differentiable_options(
        {"mode": "gdas", "max_parameter_free": None})["max_parameter_free"] is None
    with pytest.raises(keras_tuner.errors.FailedTrialError, match="max_parameter_free must be"):
        differentiable.differentiable_options({"max_parameter_free": 1.5})
