"""HyperSpace cross-checked against a real keras_tuner.HyperParameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

import keras_tuner  # noqa: E402

from autokeras_nas.core.space import Choice, Condition, Float, HyperSpace, Int  # noqa: E402

pytestmark = pytest.mark.tf


def build_kt_hps() -> "keras_tuner.HyperParameters":
    hp = keras_tuner.HyperParameters()
    hp.Int("layers", 1, 4)
    hp.Int("width", 16, 256, step=2, sampling="log")
    hp.Int("odd", 1, 13, step=3)
    hp.Int("anyint", 1, 100, sampling="log")
    hp.Int("rev", 1, 10, step=2, sampling="reverse_log")
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Float("lrs", 1e-3, 10.0, step=10, sampling="log")
    hp.Float("mom", 0.0, 1.0)
    hp.Float("wd", 0.0, 1.0, step=0.25)
    hp.Choice("model", ["mlp", "cnn", "none"])
    hp.Choice("batch", [32, 64, 128], default=64)
    hp.Boolean("bn", default=True)
    hp.Fixed("epochs", 5)
    with hp.conditional_scope("model", ["mlp"]):
        hp.Int("units", 32, 512, step=32)
        hp.Boolean("dropout")
        with hp.conditional_scope("dropout", [True]):
            hp.Float("rate", 0.1, 0.5, step=0.1)
    with hp.conditional_scope("model", ["cnn", "none"]):
        hp.Choice("kernel", [3, 5])
    return hp


@pytest.fixture(scope="module")
def kt_and_space():
    hp = build_kt_hps()
    return hp, HyperSpace.from_keras_tuner_config(hp.get_config())


def test_same_parameters_and_defaults(kt_and_space):
    hp, space = kt_and_space
    assert [p.name for p in space.params] == [h.name for h in hp.space]
    for ours, theirs in zip(space.params, hp.space):
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.default == theirs.default and type(ours.default) is type(theirs.default)
        assert [(c.name, list(c.values)) for c in ours.conditions] == \
            [(c.name, list(c.values)) for c in theirs.conditions]
    assert space.complete({}) == hp.values


def test_same_legal_values(kt_and_space):
    hp, space = kt_and_space
    for ours, theirs in zip(space.params, hp.space):
        kt_values = list(theirs.values)
        if isinstance(ours, Int):  # KerasTuner lists log-grid ints as floats (16.0)
            assert all(float(v).is_integer() for v in kt_values)
            kt_values = [int(v) for v in kt_values]
        for v in kt_values:  # KerasTuner's values are legal for us
            assert ours.check(v) == pytest.approx(v)
        domain = ours.domain()
        if getattr(theirs, "step", 0) is None:  # KerasTuner lists 10 samples only
            assert domain is None or domain == tuple(range(ours.min_value, ours.max_value + 1))
            continue
        extra = [v for v in domain if not any(math.isclose(v, k) if isinstance(v, float) else v == k
                                              for k in kt_values)]
        if ours.name == "rev":
            assert extra == [1]  # KerasTuner's default, off its step grid
        else:
            assert extra == [], ours.name
        assert len(domain) == len(set(domain)) == len(set(kt_values)) + len(extra)


def test_same_value_mapping_as_keras_tuner(kt_and_space):
    hp, space = kt_and_space
    units = np.linspace(0.0, 0.9999, 101)
    for ours, theirs in zip(space.params, hp.space):
        for u in units:
            mine, kts = ours.from_unit(float(u)), theirs.prob_to_value(float(u))
            if isinstance(kts, float):
                assert mine == pytest.approx(kts, rel=1e-9), (ours.name, u)
            else:
                assert mine == kts, (ours.name, u)


def test_same_activity_and_active_values(kt_and_space):
    hp, space = kt_and_space
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(200):
        values = space.sample(rng)
        kt = hp.copy()
        kt.values = dict(values)
        for h in kt.space:
            assert space.is_active(h.name, values) == kt.is_active(h)
        kt.ensure_active_values()  # would add missing / remove inactive values
        assert kt.values == values
        seen.add((values["model"], values.get("dropout")))
    assert seen == {("mlp", True), ("mlp", False), ("cnn", None), ("none", None)}


def test_keras_tuner_accepts_our_config(kt_and_space):
    _, space = kt_and_space
    kt = keras_tuner.HyperParameters.from_config(space.to_config())
    assert HyperSpace.from_keras_tuner_config(kt.get_config()) == space
    assert kt.values == space.complete({})
    own = HyperSpace([
        Choice("act", ["relu", "tanh"]),
        Int("n", 1, 8, step=1, conditions=[Condition("act", ["relu"])]),
        Float("lr", 1e-4, 1e-2, sampling="log", default=1e-3),
    ])
    kt = keras_tuner.HyperParameters.from_config(own.to_config())
    assert kt.get("lr") == 1e-3 and kt.get("n") == 1
    assert HyperSpace.from_keras_tuner_config(kt.get_config()) == own


def test_reserved_keys_skipped():
    hp = build_kt_hps()
    hp.Fixed("nas/epochs", 3)
    hp.Choice("nas/arch", ["{}"])
    space = HyperSpace.from_keras_tuner_config(hp.get_config())
    assert not any(n.startswith("nas/") for n in space.names)
    assert len(space) == len(hp.space) - 2


def test_bool_choice_from_keras_tuner():
    hp = keras_tuner.HyperParameters()
    hp.Choice("flag", [True, False])  # KerasTuner stores these as 1 and 0
    space = HyperSpace.from_keras_tuner_config(hp.get_config())
    assert space.get("flag").values == (1, 0)
    assert space.complete(hp.values) == hp.values


def test_float_step_grid_keeps_max_value_unlike_keras_tuner():
    """Documented deviation: KerasTuner computes (1.0 - 0.0) // 0.1 == 9.0 and so
    never proposes 1.0 for Float(0, 1, step=0.1); we include it."""
    hp = keras_tuner.HyperParameters()
    hp.Float("f", 0.0, 1.0, step=0.1)
    ours = HyperSpace.from_keras_tuner_config(hp.get_config()).get("f")
    assert len(list(hp.space[0].values)) == 10
    assert ours.domain() == pytest.approx([i / 10 for i in range(11)])
    assert ours.domain()[3] == 0.3  # grid values are tidied
