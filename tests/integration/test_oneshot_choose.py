"""`choose` in a normal build: only the chosen candidate, as plain Keras
layers named `{choice}__{candidate}`; the model reloads with safe_mode in a
process that never imports autokeras_nas; KerasTuner searches the choice."""

import subprocess
import sys
import textwrap

import keras
import keras_tuner
import numpy as np
import pytest
from keras import layers

from autokeras_nas.oneshot import choose, supernet_scope, zero

pytestmark = pytest.mark.tf

OPS = {
    "conv3": lambda: layers.Conv2D(4, 3, padding="same", activation="relu"),
    "chain": lambda: keras.Sequential([layers.Conv2D(4, 1), layers.BatchNormalization()]),
    "skip": lambda: layers.Identity(),
    "none": zero,
}


def build(hp):
    inputs = keras.Input((6, 6, 2))
    x = layers.Conv2D(4, 3, padding="same", name="stem")(inputs)
    x = choose(hp, "op1", OPS)(x)
    x = choose(hp, "op2", OPS, default="skip", condition_on="op1")(x)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax", name="head")(x))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=32):
    rng = np.random.default_rng(0)
    return rng.random((n, 6, 6, 2), dtype="float32"), rng.integers(0, 3, n)


def test_normal_build_holds_only_the_chosen_candidates_named_by_choice():
    hp = keras_tuner.HyperParameters()
    model = build(hp)
    assert hp.values == {"op1": "conv3", "op2": "skip"}  # first candidate / the default
    names = [layer.name for layer in model.layers]
    assert names[2:4] == ["op1__conv3", "op2__skip__conv3"]
    assert {type(layer).__module__.split(".")[0] for layer in model.layers} == {"keras"}
    space = {h.name: list(h.values) for h in hp.space}
    assert space == {"op1": list(OPS), "op2": list(OPS)}


def test_normal_build_of_given_values_and_zero():
    hp = keras_tuner.HyperParameters()
    hp.values.update({"op1": "chain", "op2": "none"})
    model = build(hp)
    assert [layer.name for layer in model.layers][2:4] == ["op1__chain", "op2__none__chain"]
    x, _ = _data(4)
    inner = keras.Model(model.input, model.get_layer("op2__none__chain").output)
    np.testing.assert_array_equal(inner.predict(x, verbose=0), 0.0)


def test_saved_model_reloads_with_safe_mode_without_autokeras_nas(tmp_path):
    hp = keras_tuner.HyperParameters()
    hp.values.update({"op1": "chain", "op2": "conv3"})
    model = build(hp)
    x, y = _data()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "p.npy", model.predict(x, verbose=0))
    script = textwrap.dedent(f"""
        import sys, numpy as np, keras
        model = keras.saving.load_model({str(path)!r}, safe_mode=True)
        assert not any(m.startswith("autokeras_nas") for m in sys.modules), "imported"
        p = model.predict(np.load({str(tmp_path / 'x.npy')!r}), verbose=0)
        np.testing.assert_allclose(p, np.load({str(tmp_path / 'p.npy')!r}), atol=1e-6)
        print([layer.name for layer in model.layers][2:4])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "['op1__chain', 'op2__conv3__chain']" in out.stdout


def test_random_search_over_a_choose_space(tmp_path):
    tuner = keras_tuner.RandomSearch(build, objective="val_accuracy", max_trials=2, seed=3,
                                     directory=str(tmp_path), project_name="p")
    x, y = _data()
    tuner.search(x, y, validation_data=(x, y), epochs=1, batch_size=16, verbose=0)
    trials = tuner.oracle.get_best_trials(2)
    assert len(trials) == 2
    for trial in trials:
        assert set(trial.hyperparameters.values) == {"op1", "op2"}
    best = tuner.get_best_models(1)[0]
    values = trials[0].hyperparameters.values
    assert best.layers[2].name == f"op1__{values['op1']}"


@pytest.mark.parametrize("bad, message", [
    (dict(name="a/b", candidates=OPS), "without '/'"),
    (dict(name="op", candidates={}), "non-empty mapping"),
    (dict(name="op", candidates={"x": 3}), "zero-argument factory"),
    (dict(name="op", candidates={"x": lambda: 3}), "must return a Keras layer"),
    (dict(name="op", candidates=OPS, default="pool"), "default 'pool' is not one of"),
    (dict(name="op", candidates=OPS, condition_on="later"), "not an earlier choice"),
])
def test_bad_choose_arguments_give_clear_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        choose(keras_tuner.HyperParameters(), **bad)


def test_bad_scope_arguments_give_clear_errors():
    with pytest.raises(ValueError, match="mode must be one of"):
        with supernet_scope(mode="enas"):
            pass
    with pytest.raises(ValueError, match="conditional weights need mode 'single'"):
        with supernet_scope(mode="all", conditional=True):
            pass
