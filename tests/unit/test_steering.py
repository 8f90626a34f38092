"""The analyst's edits of a space (`autokeras_nas.steering`) and the
space operations that keep working on values from before a narrowing."""

import json
import threading

import numpy as np
import pytest

from autokeras_nas import steering
from autokeras_nas.core import Boolean, Choice, Fixed, Float, HyperSpace, Int
from autokeras_nas.core.hyperparameters import Condition

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


def cell_space():
    return HyperSpace([Choice(f"edge_{i}", OPS, default="nor_conv_3x3") for i in range(3)]
                      + [Boolean("bn"), Float("lr", 1e-4, 1e-1, sampling="log"), Int("units", 8, 64)])


def edit(i, action, param, value=None):
    return {"id": i, "action": action, "param": param, "value": value}


def test_exclude_pin_clear_in_file_order():
    space = cell_space()
    s = steering.narrow(space, [edit(1, "exclude", "edge_0", "none"),
                                edit(2, "exclude", "edge_0", "avg_pool_3x3"),
                                edit(3, "pin", "units", 32),
                                edit(4, "clear", "edge_0", "none")])
    assert s.space.get("edge_0").values == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
    assert s.space.get("units") == Fixed("units", 32)
    assert s.space.get("edge_1") == space.get("edge_1")
    assert s.excluded == {"edge_0": ["avg_pool_3x3"]} and s.pinned == {"units": 32}
    assert s.last_id == 4 and not s.ignored
    rng = np.random.default_rng(0)
    for _ in range(200):
        values = s.space.sample(rng)
        assert values["edge_0"] != "avg_pool_3x3" and values["units"] == 32
        assert not s.violations(values)
    assert steering.narrow(space, [edit(1, "pin", "units", 32), edit(2, "clear", "units")]).space == space


def test_every_edge_and_the_default_moves_off_an_excluded_value():
    s = steering.narrow(cell_space(), [edit(1, "exclude", "*", "nor_conv_3x3")])
    for i in range(3):
        p = s.space.get(f"edge_{i}")
        assert "nor_conv_3x3" not in p.values and p.default == "none"
    assert s.space.get("bn") == Boolean("bn")  # a boolean does not hold the op
    assert s.violations({"edge_2": "nor_conv_3x3", "edge_0": "none"}) == ["edge_2='nor_conv_3x3'"]


def test_edits_that_cannot_apply_are_ignored_with_a_reason():
    space = cell_space()
    edits = [edit(1, "exclude", "lr", 0.01), edit(2, "exclude", "depth", 3),
             edit(3, "pin", "units", 1000)] + [edit(4 + i, "exclude", "edge_1", op)
                                                for i, op in enumerate(OPS)]
    s = steering.narrow(space, edits)
    why = {e["id"]: reason for e, reason in s.ignored}
    assert "pin lr instead" in why[1]
    assert "no hyperparameter 'depth'" in why[2]
    assert "units cannot take 1000" in why[3]
    assert "would leave edge_1 without a value" in why[8]
    assert s.space.get("edge_1") == Fixed("edge_1", "avg_pool_3x3")  # the one value left
    # a boolean with one value excluded is the other one
    assert steering.narrow(space, [edit(1, "exclude", "bn", False)]).space.get("bn") == Fixed("bn", True)


def test_conditions_are_kept_when_a_parent_is_pinned():
    space = HyperSpace([Choice("blocks", (1, 2)),
                        Int("f2", 8, 32, conditions=(Condition("blocks", (2,)),))])
    s = steering.narrow(space, [edit(1, "pin", "blocks", 1)])
    rng = np.random.default_rng(1)
    assert all(s.space.sample(rng) == {"blocks": 1} for _ in range(20))


def test_space_operations_accept_values_from_before_the_narrowing():
    space = cell_space()
    narrowed = steering.narrow(space, [edit(1, "exclude", "*", "none"), edit(2, "pin", "bn", True)]).space
    old = {"edge_0": "none", "edge_1": "none", "edge_2": "skip_connect", "bn": False,
           "lr": 0.01, "units": 16}
    # encoding: the same length as any value of the narrowed space, the excluded one zero
    code = narrowed.encode(old)
    assert code.shape == (narrowed.encoded_dim,) and np.isfinite(code).all()
    assert not code[:4].any()  # edge_0's one-hot holds no 'none' any more
    rng = np.random.default_rng(2)
    for _ in range(50):
        child = narrowed.mutate(old, rng)
        assert child["edge_0"] != "none" and child["edge_1"] != "none" and child["bn"] is True
    for n in narrowed.neighbours(old):
        assert n["edge_0"] != "none" and n["bn"] is True
    projected = narrowed.project({**old, "nas/parent": "3"})
    assert projected["edge_0"] == "nor_conv_3x3" and projected["edge_2"] == "skip_connect"
    assert projected["nas/parent"] == "3" and narrowed.complete(projected)
    with pytest.raises(ValueError):
        narrowed.complete(old)  # the oracle projects before it completes


def test_add_edit_appends_with_ids_and_times(tmp_path):
    d = str(tmp_path)
    assert steering.read_edits(d) == [] and steering.signature(d) is None
    first = steering.add_edit(d, action="exclude", param="edge_0", value="none", source="cli")
    sig = steering.signature(d)
    second = steering.add_edit(d, action="pin", param="units", value=16)
    assert (first["id"], second["id"]) == (1, 2) and first["time"].endswith("Z")
    assert steering.signature(d) != sig
    assert [e["id"] for e in steering.read_edits(d)] == [1, 2]
    assert steering.read_edits(d)[0]["source"] == "cli"


@pytest.mark.parametrize("kwargs, message", [
    ({"action": "delete", "param": "x", "value": 1}, "unknown action"),
    ({"action": "exclude", "param": "", "value": 1}, "needs a hyperparameter name"),
    ({"action": "exclude", "param": "x"}, "exclude needs a value"),
    ({"action": "pin", "param": "*", "value": 1}, "pin needs one hyperparameter"),
    ({"action": "pin", "param": "x", "value": [1]}, "must be a number"),
])
def test_bad_edits_are_refused_in_one_line(tmp_path, kwargs, message):
    with pytest.raises(steering.SteeringError, match=message) as e:
        steering.add_edit(str(tmp_path), **kwargs)
    assert "\n" not in str(e.value)
    assert steering.read_edits(str(tmp_path)) == []


def test_add_edit_checks_against_the_space_when_given(tmp_path):
    space = cell_space()
    with pytest.raises(steering.SteeringError, match="no value 'conv_5x5'"):
        steering.add_edit(str(tmp_path), action="exclude", param="edge_0", value="conv_5x5", space=space)
    for op in OPS[:-1]:
        steering.add_edit(str(tmp_path), action="exclude", param="edge_0", value=op, space=space)
    with pytest.raises(steering.SteeringError, match="without a value"):
        steering.add_edit(str(tmp_path), action="exclude", param="edge_0", value=OPS[-1], space=space)
    assert len(steering.read_edits(str(tmp_path))) == 4
    with pytest.raises(steering.SteeringError, match="no search directory"):
        steering.add_edit(str(tmp_path / "missing"), action="clear", param="x")


def test_a_corrupted_file_is_one_line(tmp_path):
    (tmp_path / steering.FILENAME).write_text("{not json")
    with pytest.raises(steering.SteeringError, match="cannot read") as e:
        steering.read_edits(str(tmp_path))
    assert "\n" not in str(e.value)
    (tmp_path / steering.FILENAME).write_text(json.dumps({"edits": []}))
    with pytest.raises(steering.SteeringError, match="not a steering file"):
        steering.read_edits(str(tmp_path))


def test_concurrent_writers_lose_no_edit(tmp_path):
    def write(k):
        for i in range(10):
            steering.add_edit(str(tmp_path), action="exclude", param=f"p{k}", value=i)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    edits = steering.read_edits(str(tmp_path))
    assert len(edits) == 40 and sorted(e["id"] for e in edits) == list(range(1, 41))
