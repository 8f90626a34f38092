"""The workflow's search spaces on tiny real models: the tabular MLP and 1-D
CNN defaults, the default chosen by the strategy's declared space kinds,
`--space` resolution and checks, and the tf.data pipeline."""

import json

import keras
import keras_tuner
import numpy as np
import pytest

from autokeras_nas import workflow
from autokeras_nas.core import SpaceKind
from autokeras_nas.data import Dataset
from autokeras_nas.workflow import SpaceError, default_space, make_space
from autokeras_nas.workflow.hypermodels import bind_space, check_space_builds, resolve_space
from autokeras_nas.workflow.training import make_pipeline
from autokeras_nas.spaces.image import image_classifier
from autokeras_nas.spaces.tabular import tabular_classifier
from autokeras_nas.spaces.timeseries import timeseries_classifier
from autokeras_nas.tuner import CellHyperModel, MorphHyperModel
from autokeras_nas_plugins.nash import Nash
from autokeras_nas_plugins.popnas import Popnas
from autokeras_nas_plugins.random_search import RandomStrategy

pytestmark = pytest.mark.tf


def _dataset(kind, shape, n=120, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(size=(n, *shape)).astype("float32") * 3 + 5
    x += 3 * y.reshape((n,) + (1,) * len(shape)).astype("float32")  # learnable
    part = n // 3
    return Dataset(name=f"tiny-{kind}", kind=kind, x_train=x[:part * 2], y_train=y[:part * 2],
                   x_val=x[part * 2:], y_val=y[part * 2:], x_test=x[part * 2:],
                   y_test=y[part * 2:], num_classes=classes, input_shape=tuple(shape))


# -- default spaces ---------------------------------------------------------------
def test_tabular_space_registers_every_hyperparameter_and_names_its_layers():
    x = np.random.default_rng(0).normal(5.0, 3.0, size=(50, 4)).astype("float32")
    build = tabular_classifier((4,), 3, mean=x.mean(0), variance=x.var(0))
    hp = keras_tuner.HyperParameters()
    model = build(hp)
    assert {p.name for p in hp.space} == {"layers", "batch_norm", "dropout", "units_0",
                                          "units_1", "units_2", "learning_rate"}
    hp.values.update(layers=2, units_0=64, units_1=32, batch_norm=True)
    deeper = build(hp)
    names = {layer.name for layer in deeper.layers}
    assert {"standardize", "dense0", "dense0_bn", "dense1", "dense1_dropout", "classifier"} <= names
    assert model.get_layer("dense0").kernel.shape == (4, 32)
    standardized = keras.Model(model.inputs[0], model.get_layer("standardize").output)(x)
    assert np.allclose(np.mean(standardized, 0), 0, atol=1e-4)
    assert np.allclose(np.std(standardized, 0), 1, atol=1e-3)


def test_tabular_space_learns_a_tiny_problem():
    ds = _dataset("tabular", (6,))
    build, name, _ = default_space(ds, RandomStrategy(seed=0))
    assert name == "tabular MLP"
    model = build(keras_tuner.HyperParameters())
    model.fit(ds.x_train, ds.y_train, epochs=20, batch_size=16, verbose=0)
    assert model.evaluate(ds.x_val, ds.y_val, verbose=0)[1] > 0.6  # chance: 1/3


@pytest.mark.parametrize("bad, match", [
    ({"input_shape": (8, 8, 1)}, "input_shape must be"),
    ({"num_classes": 1}, "num_classes must be at least 2"),
    ({"mean": np.zeros(4)}, "both mean and variance"),
    ({"mean": np.zeros(3), "variance": np.ones(3)}, "must have shape"),
])
def test_tabular_space_validates(bad, match):
    kwargs = {"input_shape": (4,), "num_classes": 3, **bad}
    with pytest.raises(ValueError, match=match):
        tabular_classifier(**kwargs)


@pytest.mark.parametrize("shape", [(32, 1), (1, 3), (5, 2)])
def test_timeseries_space_builds_and_fits(shape):
    ds = _dataset("timeseries", shape, n=60)
    build = timeseries_classifier(shape, 3)
    hp = keras_tuner.HyperParameters()
    model = build(hp)
    assert model.input_shape == (None, *shape)
    assert {"conv_blocks", "kernel_size", "head", "learning_rate"} <= {p.name for p in hp.space}
    model.fit(ds.x_train, ds.y_train, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="steps, channels"):
        timeseries_classifier((8, 8, 1), 3)


def test_default_space_by_kind_and_strategy():
    series, table, images = (_dataset("timeseries", (16, 1)), _dataset("tabular", (5,)),
                             _dataset("image", (8, 8, 1)))
    assert default_space(images, RandomStrategy(seed=0))[1] == "CNN"
    assert default_space(series, RandomStrategy(seed=0))[1] == "1-D CNN"
    nash = Nash(seed=0)
    space, name, kind = default_space(series, nash)
    assert isinstance(space, MorphHyperModel) and nash.network is not None
    popnas = Popnas(seed=0)
    assert isinstance(default_space(series, popnas)[0], CellHyperModel)
    assert popnas.cells is not None
    # Tables: the MLP for every strategy; nash and popnas search it generically.
    for strategy in (Nash(seed=0), Popnas(seed=0)):
        assert default_space(table, strategy)[1] == "tabular MLP"
        assert getattr(strategy, "network", None) is None and getattr(strategy, "cells", None) is None


# -- --space: resolve, bind, check ------------------------------------------------------
class Wide(keras_tuner.HyperModel):
    def __init__(self, input_shape, num_classes):
        super().__init__()
        self.shape, self.classes = input_shape, num_classes

    def build(self, hp):
        inputs = keras.Input(self.shape)
        x = keras.layers.Flatten()(inputs)
        outputs = keras.layers.Dense(self.classes, activation="softmax")(x)
        model = keras.Model(inputs, outputs)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model


def test_resolve_space_calls_factories_and_classes_with_the_data():
    images = _dataset("image", (8, 8, 1))
    made = resolve_space(Wide, "m:Wide", images)
    assert isinstance(made, Wide) and made.shape == (8, 8, 1) and made.classes == 3
    instance = Wide((8, 8, 1), 3)
    assert resolve_space(instance, "m:instance", images) is instance
    assert callable(resolve_space(image_classifier, "m:image_classifier", images))

    def build_model(hp):
        return None

    assert resolve_space(build_model, "m:build_model", images) is build_model


@pytest.mark.parametrize("obj, match", [
    (image_classifier, "cannot be used with tiny-timeseries (timeseries data, input (16, 1)): "
                       "input_shape must be (height, width, channels)"),
    (dict, "the class dict is not a keras_tuner.HyperModel"),
    (lambda input_shape: 3, "returned a int, not a build_model"),
])
def test_resolve_space_errors(obj, match):
    with pytest.raises(SpaceError) as info:
        resolve_space(obj, "m:x", _dataset("timeseries", (16, 1)))
    assert match in str(info.value)


def test_spaces_of_their_own_need_their_strategy():
    with pytest.raises(SpaceError, match="cell space .* --strategy random cannot search it; "
                                         "use --strategy pnas or popnas"):
        bind_space(CellHyperModel((8, 8, 1), 10), RandomStrategy(seed=0), "s")
    with pytest.raises(SpaceError, match="morphable network .* use --strategy nash"):
        bind_space(MorphHyperModel((8, 8, 1), 10), Popnas(seed=0), "s")
    popnas = Popnas(seed=0)
    assert bind_space(CellHyperModel((8, 8, 1), 10), popnas, "s") is SpaceKind.CELLS
    assert popnas.cells["max_blocks"] == 3
    nash = Nash(seed=0)
    # generic: nothing bound
    assert bind_space(Wide((8, 8, 1), 10), nash, "s") is SpaceKind.HYPERPARAMETERS
    assert nash.network is None


class _Declares(RandomStrategy):
    """A random strategy declaring other space kinds; records what it is bound to."""

    name = "declares"

    def __init__(self, kinds, **kwargs):
        super().__init__(**kwargs)
        self.space_kinds = tuple(kinds)
        self.bound = []

    def bind_structure(self, kind, structure):
        self.bound.append(kind)


@pytest.mark.parametrize("kinds, data_kind, name, bound", [
    ((SpaceKind.SUPERNET, SpaceKind.CELLS, SpaceKind.HYPERPARAMETERS), "image",
     "NAS-Bench-201 cell space", [SpaceKind.SUPERNET]),
    ((SpaceKind.CELLS, SpaceKind.SUPERNET), "image", "cell space", [SpaceKind.CELLS]),
    ((SpaceKind.HYPERPARAMETERS, SpaceKind.NETWORK), "timeseries", "1-D CNN", []),
    ((SpaceKind.CELLS, SpaceKind.NETWORK), "timeseries", "cell space", [SpaceKind.CELLS]),
    ((SpaceKind.NETWORK, SpaceKind.HYPERPARAMETERS), "tabular", "tabular MLP", []),
])
def test_the_default_space_is_the_first_declared_kind_the_data_has(kinds, data_kind, name, bound):
    shape = {"image": (8, 8, 1), "timeseries": (16, 1), "tabular": (5,)}[data_kind]
    strategy = _Declares(kinds, seed=0)
    space = default_space(_dataset(data_kind, shape), strategy)
    assert (space.name, strategy.bound) == (name, bound)
    assert space.kind is (bound[0] if bound else SpaceKind.HYPERPARAMETERS)


def test_no_default_space_for_kinds_the_data_has_none_of():
    strategy = _Declares((SpaceKind.SUPERNET,), seed=0)
    with pytest.raises(SpaceError, match="no default search space for tabular data that "
                                         "strategy 'declares' can search .*supernet.*--space"):
        default_space(_dataset("tabular", (5,)), strategy)
    cells_only = _Declares((SpaceKind.CELLS,), seed=0)
    with pytest.raises(SpaceError, match="tabular data"):
        default_space(_dataset("tabular", (5,)), cells_only)


def test_a_hyperparameter_space_needs_a_strategy_that_declares_it():
    strategy = _Declares((SpaceKind.NETWORK,), seed=0)
    with pytest.raises(SpaceError) as info:
        make_space(_dataset("image", (8, 8, 1)), strategy, Wide, label="m:Wide")
    message = str(info.value)
    assert message.startswith("--space m:Wide is a hyperparameter space: --strategy declares "
                              "cannot search it; use --strategy ")
    assert all(name in message for name in ("aging-evolution", "nash", "random"))


def _sequential(shape, compiled=True):
    def build_model(hp):
        layers = [keras.Input(shape)] if shape else []
        model = keras.Sequential(layers + [keras.layers.Flatten(), keras.layers.Dense(3)])
        if compiled:
            model.compile("adam", "sparse_categorical_crossentropy")
        return model
    return build_model


def _fails(hp):
    raise ValueError("no such layer\nsecond line")


@pytest.mark.parametrize("space, match", [
    (_fails, "building a model with the default hyperparameters failed: ValueError: no such layer"),
    (lambda hp: "model", "building returned a str, not a keras.Model"),
    (_sequential((8, 8, 1), compiled=False), "the model is not compiled"),
    (_sequential((64,)), "the model takes inputs of shape (64,), but tiny-image (image data) "
                         "has inputs of shape (8, 8, 1)"),
])
def test_check_space_builds_errors(space, match):
    with pytest.raises(SpaceError) as info:
        check_space_builds(space, "m:s", _dataset("image", (8, 8, 1)))
    assert match in str(info.value) and "\n" not in str(info.value)


def test_check_space_builds_accepts_good_spaces():
    images = _dataset("image", (8, 8, 1))
    check_space_builds(_sequential((8, 8, 1)), "m:s", images)
    check_space_builds(_sequential(None), "m:s", images)  # no Input: built on the data
    check_space_builds(Wide((8, 8, 1), 3), "m:s", images)


def test_make_space_loads_a_user_space_by_its_spec(tmp_path, monkeypatch):
    (tmp_path / "rebuilt_space.py").write_text(
        "import keras\n"
        "def build_model(hp):\n"
        "    m = keras.Sequential([keras.Input((5,)), keras.layers.Dense(hp.Int('u', 2, 4))])\n"
        "    m.compile('adam', 'mse')\n"
        "    return m\n")
    monkeypatch.chdir(tmp_path)
    table = _dataset("tabular", (5,))
    space = make_space(table, RandomStrategy(seed=0), "rebuilt_space.py:build_model")
    assert space.name == "rebuilt_space.py:build_model"
    assert space.hypermodel(keras_tuner.HyperParameters()).output_shape == (None, 2)
    assert make_space(table, RandomStrategy(seed=0)).name == "tabular MLP"  # the default


# -- the tf.data pipeline ---------------------------------------------------------------------
def test_pipeline_batches_everything_and_reshuffles_each_epoch():
    x = np.arange(50, dtype="float32").reshape(50, 1)
    y = np.arange(50)
    train = make_pipeline(x, y, 8, shuffle=True, seed=0)
    epochs = [np.concatenate([b[1].numpy() for b in train]) for _ in range(2)]
    assert [len(b[1]) for b in train][:6] == [8] * 6
    assert all(sorted(e) == list(range(50)) for e in epochs)
    assert list(epochs[0]) != list(epochs[1]) and list(epochs[0]) != list(range(50))
    val = make_pipeline(x, y, 8, shuffle=False, seed=0)
    assert list(np.concatenate([b[1].numpy() for b in val])) == list(range(50))


# -- export rebuilds the search's space with the search's strategy params ---------------------
def test_export_rebuilds_the_strategy_with_the_params_of_summary_json(tmp_path):
    search = tmp_path / "s"
    (search / "trial_0").mkdir(parents=True)
    for name in ("trial.json", "checkpoint.weights.h5"):
        (search / "trial_0" / name).write_text("{}")
    (search / "results.json").write_text(json.dumps({
        "format": "autokeras_nas.results", "version": 1, "strategy": "nash",
        "objectives": [{"name": "val_accuracy", "direction": "max"}], "best_trial_ids": ["0"],
        "trials": [{"trial_id": "0", "status": "completed", "values": {}, "metrics": {}}]}))
    summary = {"dataset": "digits", "strategy": "nash", "seed": 0, "params": {"n_neigh": 0}}
    (search / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(workflow.WorkflowError) as info:
        workflow.export(search, formats=["keras"])
    assert str(info.value).startswith("cannot rebuild the search space: cannot create strategy "
                                      "'nash' with n_neigh=0: n_neigh must be")
    assert not (search / "export").exists()
