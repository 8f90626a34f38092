"""The MBConv block space (`autokeras_nas.spaces.mbconv`) on tiny real models:
normal builds (2-D and 1-D), skipped blocks, its choices, a supernet whose
fixed path computes what the normal build that inherits its weights does,
saving and its built-in name. (The memory of its supernet's modes is
measured by `python -m autokeras_nas.oneshot.memory --space mbconv`: tracing
them takes about two minutes, too long for a test.)"""

import keras
import keras_tuner
import numpy as np
import pytest

from autokeras_nas.data import Dataset
from autokeras_nas.oneshot import build_supernet, set_paths
from autokeras_nas.oneshot.paths import inherit_supernet_weights
from autokeras_nas.plugins import load as load_strategy
from autokeras_nas.spaces import MBConvSpace
from autokeras_nas.spaces.mbconv import MBCONV_OPS
from autokeras_nas.workflow import make_space

pytestmark = pytest.mark.tf


def _all_layers(model):
    stack, found = list(model.layers), []
    while stack:
        layer = stack.pop()
        found.append(layer)
        stack.extend(getattr(layer, "layers", []))
    return found


@pytest.mark.parametrize("shape, dims, depthwise", [
    ((12, 12, 3), 2, keras.layers.DepthwiseConv2D),
    ((24, 2), 1, keras.layers.DepthwiseConv1D)])
def test_a_normal_build_has_three_stages_of_mb3_k3_blocks(shape, dims, depthwise):
    space = MBConvSpace(input_shape=shape, num_classes=5, channels=8)
    assert space.dims == dims
    model = space.build(keras_tuner.HyperParameters())
    names = [layer.name for layer in model.layers]
    assert [n for n in names if "__" in n] == [f"block{b}__mb3_k3" for b in range(6)]
    # residual sums on every block but a stage's first
    assert [n for n in names if n.endswith("_add")] == ["block1_add", "block3_add", "block5_add"]
    widths = [model.get_layer(f"block{b}__mb3_k3").output.shape[-1] for b in range(6)]
    assert widths == [8, 8, 16, 16, 32, 32]
    sizes = [model.get_layer(f"block{b}__mb3_k3").output.shape[1] for b in (1, 3, 5)]
    assert sizes == [shape[0], shape[0] // 2, shape[0] // 4]
    block = model.get_layer("block2__mb3_k3")
    expand, dw = block.layers[0], block.layers[3]
    assert expand.filters == 8 * 3 and isinstance(dw, depthwise)
    assert dw.kernel_size == (3,) * dims and dw.strides == (2,) * dims
    x = np.random.default_rng(0).normal(size=(4, *shape)).astype("float32")
    probabilities = keras.ops.convert_to_numpy(model(x))
    assert probabilities.shape == (4, 5) and np.allclose(probabilities.sum(-1), 1, atol=1e-5)
    assert model.optimizer is not None and model.loss == "sparse_categorical_crossentropy"


def test_its_choices_are_the_blocks_and_only_repeated_blocks_may_be_zero():
    space = MBConvSpace(input_shape=(8, 8, 1), num_classes=3, blocks_per_stage=3)
    assert list(space.choices) == [f"block{b}" for b in range(9)]
    for b, ops in enumerate(space.choices.values()):
        assert ops == list(MBCONV_OPS) + (["zero"] if b % 3 else [])
    assert MBCONV_OPS == ("mb3_k3", "mb3_k5", "mb3_k7", "mb6_k3", "mb6_k5", "mb6_k7")
    hp = keras_tuner.HyperParameters()
    space.build(hp)
    assert {n: p.values for n, p in ((p.name, p) for p in hp.space)} == space.choices


def test_a_zero_block_leaves_no_layer_and_kernel_and_expansion_follow_the_name(fixed_hp):
    space = MBConvSpace(input_shape=(8, 8, 1), num_classes=3, channels=4)
    values = {"block0": "mb6_k7", "block1": "zero", "block2": "mb3_k5", "block3": "zero",
              "block4": "mb6_k3", "block5": "mb3_k7"}
    model = space.build(fixed_hp(**values))
    names = [layer.name for layer in model.layers]
    assert not any(n.startswith(("block1", "block3")) for n in names)
    assert "block5_add" in names
    for block, (expansion, kernel) in (("block0", (6, 7)), ("block2", (3, 5)),
                                       ("block4", (6, 3))):
        seq = model.get_layer(f"{block}__{values[block]}")
        assert seq.layers[3].kernel_size == (kernel, kernel)
        assert seq.layers[0].filters == seq.input.shape[-1] * expansion


def test_a_fixed_path_of_the_supernet_computes_what_the_inheriting_normal_build_does(fixed_hp):
    space = MBConvSpace(input_shape=(8, 8, 1), num_classes=3, channels=4)
    x = np.random.default_rng(0).normal(size=(8, 8, 8, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    supernet = build_supernet(space, keras_tuner.HyperParameters(), mode="single", seed=0)
    values = {"block0": "mb6_k5", "block1": "zero", "block2": "mb3_k7", "block3": "mb6_k3",
              "block4": "mb3_k3", "block5": "zero"}
    set_paths(supernet, values)
    expected = keras.ops.convert_to_numpy(supernet(x))  # eager: no trace of the switches
    model = space.build(fixed_hp(**values))
    def gap():
        return np.abs(keras.ops.convert_to_numpy(model(x)) - expected).max()

    assert gap() > 1e-5  # its own initial weights (an untrained net's outputs are near 1/3)
    # the stem's conv and batch norm, the four chosen blocks and the classifier
    assert inherit_supernet_weights(model, supernet) == 7
    assert gap() < 1e-7


def test_the_model_saves_and_reloads_in_safe_mode_with_plain_keras_layers(tmp_path, fixed_hp):
    model = MBConvSpace(input_shape=(8, 8, 1), num_classes=3, channels=4).build(
        fixed_hp(block1="zero", block3="mb6_k7"))
    x = np.random.default_rng(1).normal(size=(3, 8, 8, 1)).astype("float32")
    model.save(tmp_path / "mbconv.keras")
    reloaded = keras.models.load_model(tmp_path / "mbconv.keras", safe_mode=True)
    assert np.allclose(keras.ops.convert_to_numpy(reloaded(x)),
                       keras.ops.convert_to_numpy(model(x)), atol=1e-6)
    assert all(type(layer).__module__.startswith("keras.") for layer in _all_layers(reloaded))


@pytest.mark.parametrize("kwargs, message", [
    ({"input_shape": (8,)}, "input_shape must be"),
    ({"dims": 1}, "dims must be 2 for input_shape"),
    ({"num_classes": 1}, "num_classes must be an integer >= 2"),
    ({"blocks_per_stage": 0}, "blocks_per_stage must be an integer >= 1"),
    ({"channels": True}, "channels must be an integer >= 1"),
    ({"learning_rate": -1.0}, "learning_rate must be positive"),
    ({"stem_strides": 4}, "stem_strides must be 1 or 2"),
])
def test_bad_arguments_are_one_line_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MBConvSpace(**({"input_shape": (8, 8, 1), "num_classes": 3} | kwargs))


@pytest.mark.parametrize("strategy", ["random", "spos"])
def test_strategies_take_it_by_its_built_in_name(strategy):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 8, 8, 1)).astype("float32"), rng.integers(0, 3, 30)
    data = Dataset(name="tiny", kind="image", x_train=x[:20], y_train=y[:20], x_val=x[20:],
                   y_val=y[20:], x_test=x[20:], y_test=y[20:], num_classes=3,
                   input_shape=(8, 8, 1))
    space = make_space(data, load_strategy(strategy)(seed=0), "mbconv")
    assert space.name == "mbconv" and isinstance(space.hypermodel, MBConvSpace)
    assert space.hypermodel.input_shape == (8, 8, 1) and space.hypermodel.num_classes == 3



def test_the_memory_tool_names_its_spaces_in_an_unknown_space_error():
    from autokeras_nas.oneshot.memory import SPACES, measure_here

    assert set(SPACES) == {"nb201", "mbconv"}
    with pytest.raises(ValueError, match=r"space must be one of \('nb201', 'mbconv'\)"):
        measure_here("single", space="mobilenet")
