"""The NAS-Bench-201 cell space's place in the workflow, without TensorFlow:
the data kinds it is the default supernet space of, and its built-in
`--space` name."""

import ast
import importlib.util
from pathlib import Path

import pytest

from autokeras_nas.core import SpaceKind
from autokeras_nas.workflow.spaces import DATA_SPACE_KINDS
from autokeras_nas.workflow.userspace import BUILTIN_SPACES, SpaceError, parse_space


def test_images_and_series_have_a_default_supernet_space_tables_none():
    assert SpaceKind.SUPERNET in DATA_SPACE_KINDS["image"]
    assert SpaceKind.SUPERNET in DATA_SPACE_KINDS["timeseries"]
    assert SpaceKind.SUPERNET not in DATA_SPACE_KINDS["tabular"]


@pytest.mark.parametrize("builtin", ["nb201", "mbconv"])
def test_the_built_in_name_stands_for_the_space_class(builtin):
    module, name = parse_space(BUILTIN_SPACES[builtin])
    spec = importlib.util.find_spec(module)  # finds the file, imports nothing of it
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    assert name in {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def test_a_bad_space_text_lists_the_built_in_names():
    with pytest.raises(SpaceError, match=r"or a built-in space \(nb201, mbconv\), got 'nb20'"):
        parse_space("nb20")
