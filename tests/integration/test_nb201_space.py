"""The NAS-Bench-201 cell space (`autokeras_nas.spaces.nb201`) on tiny real
models: its normal builds (2-D and 1-D), its hyperparameters, saving, a
search over it, the workflow's default of supernet strategies, and
`autokeras-nas search --space nb201`."""

import json

import keras
import keras_tuner
import numpy as np
import pytest

import autokeras_nas
from autokeras_nas.core import SpaceKind
from autokeras_nas.data import Dataset
from autokeras_nas.plugins import load as load_strategy
from autokeras_nas.spaces import Nb201Space
from autokeras_nas.spaces.nb201 import CONDITIONS, EDGES, OPS
from autokeras_nas.testing import assert_no_pickles
from autokeras_nas.testing.forkserver import ForkServer
from autokeras_nas.testing.spaces import NB201_EDGES, NB201_OPS
from autokeras_nas.tuner.trainers.fused_adam import fuse_adam
from autokeras_nas.tuner.trainers.weights import build_training_state
from autokeras_nas.workflow import default_space, make_space
from autokeras_nas_plugins.random_search import RandomStrategy

pytestmark = pytest.mark.tf


def _layer_names(model):
    return [layer.name for layer in model.layers]


def _dataset(kind, shape, n=60, classes=3):
    rng = np.random.default_rng(0)
    y = rng.integers(0, classes, n)
    x = rng.normal(size=(n, *shape)).astype("float32")
    part = n // 3
    return Dataset(name=f"tiny-{kind}", kind=kind, x_train=x[:part * 2], y_train=y[:part * 2],
                   x_val=x[part * 2:], y_val=y[part * 2:], x_test=x[part * 2:],
                   y_test=y[part * 2:], num_classes=classes, input_shape=tuple(shape))


@pytest.mark.parametrize("shape, dims, conv", [((16, 16, 3), 2, keras.layers.Conv2D),
                                               ((24, 2), 1, keras.layers.Conv1D)])
def test_a_normal_build_is_a_compiled_classifier_of_three_stages(shape, dims, conv):
    space = Nb201Space(input_shape=shape, num_classes=5, cells_per_stage=2, channels=8)
    assert space.dims == dims
    model = space.build(keras_tuner.HyperParameters())
    assert model.optimizer is not None and model.loss == "sparse_categorical_crossentropy"
    x = np.random.default_rng(0).normal(size=(4, *shape)).astype("float32")
    probabilities = keras.ops.convert_to_numpy(model(x))  # eager: no trace to wait for
    assert probabilities.shape == (4, 5) and np.allclose(probabilities.sum(-1), 1, atol=1e-5)
    names = _layer_names(model)
    # 2 cells per stage, 6 edges of nor_conv_3x3 (the default) in each.
    assert sum("__nor_conv_3x3" in n for n in names) == 6 * 6
    assert isinstance(model.get_layer("stem_conv"), conv)
    # Channels double and the size halves at each reduction block.
    channels = [model.get_layer(f"cell{k}_edge_0_1__nor_conv_3x3").output.shape[-1]
                for k in range(6)]
    assert channels == [8, 8, 16, 16, 32, 32]
    sizes = [model.get_layer(f"reduce{s}_add").output.shape[1] for s in (1, 2)]
    assert sizes == [shape[0] // 2, shape[0] // 4]
    # trains (its optimizer's and metrics' variables made first and Adam's update fused,
    # as a trial does, so that TensorFlow traces the training step of these 36
    # convolutions once, not twice, and cheaply)
    assert build_training_state(model, (x, np.arange(4) % 5), {})
    assert fuse_adam(model.optimizer)
    model.fit(x, np.arange(4) % 5, epochs=1, verbose=0)


def test_none_edges_leave_no_layer_and_a_node_without_edges_is_zero(fixed_hp):
    values = dict.fromkeys(EDGES, "none") | {"edge_1_3": "skip_connect",
                                             "edge_2_3": "nor_conv_1x1"}
    model = Nb201Space(input_shape=(8, 8, 1), num_classes=3, conditional=False).build(
        fixed_hp(**values))
    names = _layer_names(model)
    assert not [n for n in names if "__none" in n]
    cell = sorted(n for n in names if n.startswith("cell0_"))
    assert cell == ["cell0_edge_1_3__skip_connect", "cell0_edge_2_3__nor_conv_1x1",
                    "cell0_node1", "cell0_node2", "cell0_node3"]
    # Node 1 and node 2 have no incoming edge: zeros, so the cell's output is
    # 0 + conv1x1(0) = the batch norm's offset only.
    stem = model.get_layer("stem_bn").output
    probe = keras.Model(model.inputs, [model.get_layer("cell0_node1").output,
                                       model.get_layer("cell0_node3").output, stem])
    node1, node3, _ = probe.predict(np.ones((2, 8, 8, 1), "float32"), verbose=0)
    assert not node1.any()
    assert np.allclose(node3, node3[0, 0, 0])  # the same everywhere: no input left


def test_every_hyperparameter_is_one_of_the_six_edge_choices():
    hp = keras_tuner.HyperParameters()
    Nb201Space(input_shape=(8, 8, 1), num_classes=3).build(hp)
    assert [p.name for p in hp.space] == list(EDGES)
    for p in hp.space:
        assert isinstance(p, keras_tuner.engine.hyperparameters.Choice)
        assert list(p.values) == list(OPS) and p.default == "nor_conv_3x3"
    # The names of the package's NAS-Bench-201 tables and toy space.
    assert (EDGES, OPS) == (NB201_EDGES, NB201_OPS)


def test_conditional_edges_are_named_by_the_operation_they_read(fixed_hp):
    values = {"edge_0_1": "avg_pool_3x3", "edge_1_2": "nor_conv_1x1"}
    names = _layer_names(Nb201Space(input_shape=(8, 8, 1), num_classes=3).build(fixed_hp(**values)))
    assert "cell0_edge_1_2__nor_conv_1x1__avg_pool_3x3" in names
    assert "cell2_edge_1_3__nor_conv_3x3__avg_pool_3x3" in names
    assert "cell0_edge_0_2__nor_conv_3x3" in names  # not conditioned
    assert sorted(CONDITIONS) == ["edge_1_2", "edge_1_3"]
    plain = Nb201Space(input_shape=(8, 8, 1), num_classes=3, conditional=False)
    assert "cell0_edge_1_2__nor_conv_1x1" in _layer_names(plain.build(fixed_hp(**values)))


def test_the_model_saves_and_reloads_in_safe_mode_with_plain_keras_layers(tmp_path, fixed_hp):
    values = dict(zip(EDGES, ("skip_connect", "avg_pool_3x3", "nor_conv_1x1", "none",
                              "nor_conv_3x3", "skip_connect")))
    model = Nb201Space(input_shape=(12, 12, 1), num_classes=4).build(fixed_hp(**values))
    x = np.random.default_rng(1).normal(size=(3, 12, 12, 1)).astype("float32")
    assert build_training_state(model, (x, np.arange(3)), {})  # one trace of the step
    assert fuse_adam(model.optimizer)  # as a trial trains it: saved as Keras' own Adam
    model.fit(x, np.arange(3), epochs=1, verbose=0)
    path = tmp_path / "nb201.keras"
    model.save(path)
    reloaded = keras.models.load_model(path, safe_mode=True)
    assert np.allclose(keras.ops.convert_to_numpy(reloaded(x)),
                       keras.ops.convert_to_numpy(model(x)), atol=1e-6)
    stack = list(reloaded.layers)
    while stack:
        layer = stack.pop()
        assert type(layer).__module__.startswith("keras."), (layer.name, type(layer))
        stack.extend(getattr(layer, "layers", []))


@pytest.mark.parametrize("shape, stem_strides, first_stage", [
    ((28, 28, 1), None, (14, 14)),  # Fashion-MNIST: strided by default
    ((28, 28, 1), 1, (28, 28)),
    ((8, 8, 1), None, (8, 8)),  # digits: too small to stride
    ((27, 40, 3), None, (27, 40)),  # every spatial dimension must reach 28
    ((150, 1), None, (75,)),  # a long series (GunPoint) is strided too
])
def test_the_stem_strides_large_inputs_by_default(shape, stem_strides, first_stage):
    space = Nb201Space(input_shape=shape, num_classes=3, channels=4,
                       stem_strides=stem_strides)
    assert space.stem_strides == (2 if first_stage[0] < shape[0] else 1)
    model = space.build(keras_tuner.HyperParameters())
    assert model.get_layer("stem_bn").output.shape[1:-1] == first_stage
    assert model.get_layer("stem_conv").strides == (space.stem_strides,) * (len(shape) - 1)


@pytest.mark.parametrize("kwargs, message", [
    ({"input_shape": (8, 8), "dims": 2}, "dims must be 1 for input_shape"),
    ({"input_shape": (8,)}, "input_shape must be"),
    ({"dims": 1}, "dims must be 2 for input_shape"),
    ({"num_classes": 1}, "num_classes must be an integer >= 2"),
    ({"cells_per_stage": 0}, "cells_per_stage must be an integer >= 1"),
    ({"channels": 2.5}, "channels must be an integer >= 1"),
    ({"conditional": "yes"}, "conditional must be True or False"),
    ({"learning_rate": 0}, "learning_rate must be positive"),
    ({"stem_strides": 3}, "stem_strides must be 1 or 2"),
    ({"stem_strides": True}, "stem_strides must be 1 or 2"),
])
def test_bad_arguments_are_one_line_value_errors(kwargs, message):
    arguments = {"input_shape": (8, 8, 1), "num_classes": 3} | kwargs
    with pytest.raises(ValueError, match=message):
        Nb201Space(**arguments)


def test_random_search_over_the_space_completes(tmp_path, digits):
    x, y, xv, yv = digits
    x, xv = x.reshape(-1, 8, 8, 1), xv.reshape(-1, 8, 8, 1)
    tuner = autokeras_nas.RandomSearch(
        Nb201Space(input_shape=(8, 8, 1), num_classes=10, channels=8),
        objective="val_accuracy", max_trials=2, seed=0, directory=str(tmp_path),
        project_name="nb201")
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=64, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 2
    cells = [tuple(t.hyperparameters.values[e] for e in EDGES) for t in trials]
    assert len(set(cells)) == 2 and all(set(c) <= set(OPS) for c in cells)
    (model,) = tuner.get_best_models(1)
    assert model.predict(xv[:2], verbose=0).shape == (2, 10)


class _Supernet(RandomStrategy):
    """A strategy declaring supernets first; records what it is bound to."""

    name = "fake-supernet"
    space_kinds = (SpaceKind.SUPERNET, SpaceKind.HYPERPARAMETERS)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bound = []

    def bind_structure(self, kind, structure):
        self.bound.append((kind, structure))


@pytest.mark.parametrize("kind, shape, dims", [("image", (8, 8, 1), 2),
                                               ("timeseries", (32, 1), 1)])
def test_the_workflow_picks_it_as_the_default_supernet_space(kind, shape, dims):
    strategy = _Supernet(seed=0)
    space = default_space(_dataset(kind, shape), strategy)
    assert (space.name, space.kind) == ("NAS-Bench-201 cell space", SpaceKind.SUPERNET)
    assert isinstance(space.hypermodel, Nb201Space) and space.hypermodel.dims == dims
    assert strategy.bound == [(SpaceKind.SUPERNET, {e: list(OPS) for e in EDGES})]
    model = space.hypermodel.build(keras_tuner.HyperParameters())
    assert tuple(model.inputs[0].shape[1:]) == shape and model.outputs[0].shape[-1] == 3


@pytest.mark.parametrize("strategy", ["random", "aging-evolution", "popnas"])
def test_every_hyperparameter_strategy_takes_it_by_its_built_in_name(strategy):
    searcher = load_strategy(strategy)(seed=0)
    space = make_space(_dataset("image", (8, 8, 1)), searcher, "nb201")
    assert (space.name, space.kind) == ("nb201", SpaceKind.HYPERPARAMETERS)
    assert isinstance(space.hypermodel, Nb201Space)


def test_cli_search_with_space_nb201(tmp_path, fork_server: ForkServer):
    proc = fork_server.run(["search", "--dataset", "digits", "--space", "nb201", "--strategy",
                            "random", "--max-trials", "2", "--epochs", "1", "--out", "out"],
                           cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "on nb201" in proc.stdout
    out = tmp_path / "out"
    results = json.loads((out / "results.json").read_text())
    assert [t["status"] for t in results["trials"]] == ["completed"] * 2
    assert all(set(t["values"]) >= set(EDGES) for t in results["trials"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["space"] == "nb201"
    model = keras.models.load_model(out / "best_model.keras", safe_mode=True)
    assert model.name == "nb201_2d"
    assert_no_pickles(out)
