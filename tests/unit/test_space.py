"""Unit tests of autokeras_nas.core.space (no TensorFlow)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from autokeras_nas.core.space import (
    Boolean,
    Choice,
    Condition,
    Fixed,
    Float,
    HyperSpace,
    Int,
    SearchSpace,
    to_python,
)

PY_SCALARS = (bool, int, float, str)


def conditional_space() -> HyperSpace:
    """model in {mlp, cnn, none}; mlp -> units, dropout(bool) -> rate; cnn -> filters."""
    return HyperSpace([
        Choice("model", ["mlp", "cnn", "none"]),
        Int("units", 16, 256, step=2, sampling="log", conditions=[Condition("model", ["mlp"])]),
        Boolean("dropout", conditions=[Condition("model", ["mlp"])]),
        Float("rate", 0.1, 0.5, step=0.1, conditions=[Condition("dropout", [True])]),
        Choice("filters", [8, 16, 32], conditions=[Condition("model", ["cnn"])]),
        Float("lr", 1e-4, 1e-1, sampling="log"),
        Fixed("epochs", 3),
    ])


def brute_force_configs(space: HyperSpace) -> set[str]:
    """All distinct active configurations by enumerating every assignment."""
    configs = set()
    for combo in itertools.product(*(p.domain() for p in space.params)):
        active: dict = {}
        for p, v in zip(space.params, combo):
            if p.name in active:
                continue
            if all(c.name in active and active[c.name] in c.values for c in p.conditions):
                active[p.name] = v
        configs.add(json.dumps(sorted((k, type(v).__name__, v) for k, v in active.items())))
    return configs


def active_names(space: HyperSpace, values: dict) -> set[str]:
    return {n for n in space.names if space.is_active(n, values)}


# -- to_python ---------------------------------------------------------------
def test_to_python_converts_numpy_and_keeps_python():
    for value, expected in [(np.int64(3), 3), (np.float32(0.5), 0.5), (np.bool_(True), True),
                            (np.str_("a"), "a"), (np.array(7), 7), (2, 2), ("x", "x"), (False, False)]:
        out = to_python(value)
        assert out == expected and type(out) is type(expected)
    with pytest.raises(TypeError):
        to_python([1])
    with pytest.raises(TypeError):
        to_python(None)


# -- parameters: KerasTuner semantics ----------------------------------------
def test_defaults_follow_keras_tuner():
    assert Choice("c", ["b", "a"]).default == "b"
    assert Int("i", 3, 9).default == 3 and Int("i", 3, 9).step == 1
    assert Int("i", 2, 32, sampling="log").step is None
    assert Float("f", 0.5, 2.0).default == 0.5 and Float("f", 0.5, 2.0).step is None
    assert Boolean("b").default is False
    assert Fixed("x", "v").default == "v"
    assert Choice("c", [1, 2]).ordered is True
    assert Choice("c", [0.1, 0.2]).ordered is True
    assert Choice("c", ["a", "b"]).ordered is False


@pytest.mark.parametrize("param, expected", [
    (Int("i", 6, 12), tuple(range(6, 13))),
    (Int("i", 6, 13, step=3), (6, 9, 12)),
    (Int("i", 2, 32, step=2, sampling="log"), (2, 4, 8, 16, 32)),
    (Int("i", 1, 10, step=2, sampling="reverse_log"), (10, 9, 7, 3, 1)),  # 1 = default
    (Float("f", 0.001, 10, step=10, sampling="log"), (0.001, 0.01, 0.1, 1.0, 10.0)),
    (Float("f", 0.0, 1.0, step=0.2), (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)),
    (Choice("c", ["a", "b"]), ("a", "b")),
    (Boolean("b"), (True, False)),
    (Fixed("x", 2.5), (2.5,)),
])
def test_domain(param, expected):
    if isinstance(expected[0], str):
        assert param.domain() == expected
    else:
        assert param.domain() == pytest.approx(expected)
    assert param.cardinality() == len(expected)


def test_continuous_float_is_infinite():
    assert Float("f", 0.0, 1.0).cardinality() == math.inf and Float("f", 0.0, 1.0).domain() is None
    assert Float("f", 1.0, 1.0).cardinality() == 1


@pytest.mark.parametrize("make", [
    lambda: Choice("c", [1, "a"]),
    lambda: Choice("c", []),
    lambda: Choice("c", [1, 1]),
    lambda: Choice("c", ["a", "b"], ordered=True),
    lambda: Choice("c", ["a", "b"], default="z"),
    lambda: Int("i", 5, 1),
    lambda: Int("i", 0, 10, sampling="log"),
    lambda: Int("i", 1, 10, step=1, sampling="log"),
    lambda: Int("i", 1, 10, sampling="cubic"),
    lambda: Int("i", 1.5, 10),
    lambda: Int("i", 1, 10, default=11),
    lambda: Float("f", 0.0, 1.0, default=2.0),
    lambda: Float("f", 0.0, 1.0, step=-0.1),
    lambda: Boolean("b", default=1),
    lambda: Fixed("x", [1]),
    lambda: Int("x", 1, 3, conditions=[Condition("x", [1])]),
    lambda: Condition("p", []),
])
def test_invalid_parameters_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_legality_checks():
    i = Int("i", 6, 13, step=3)
    assert i.check(9) == 9 and i.check(np.int64(12)) == 12
    for bad in (7, 15, 9.0, True, "9"):
        with pytest.raises(ValueError, match="'i'"):
            i.check(bad)
    f = Float("f", 0.0, 1.0, step=0.1)
    assert f.check(0.30000000000000004) == pytest.approx(0.3)
    assert f.check(1) == 1.0 and type(f.check(1)) is float
    with pytest.raises(ValueError):
        f.check(0.35)
    c = Choice("c", [0.5, 1.0])
    assert c.check(1) == 1.0 and type(c.check(1)) is float
    with pytest.raises(ValueError):
        Choice("c", [1, 2]).check(True)
    with pytest.raises(ValueError):
        Boolean("b").check(1)
    with pytest.raises(ValueError):
        Fixed("x", 3).check(4)
    assert Int("r", 1, 10, step=2, sampling="reverse_log").check(1) == 1  # default off the grid


def test_bool_choice_keeps_bool_type():
    c = Choice("c", [True, False])
    assert all(type(v) is bool for v in c.values)


# -- construction ------------------------------------------------------------
def test_space_rejects_reserved_undefined_parent_and_duplicates():
    with pytest.raises(ValueError, match="reserved"):
        HyperSpace([Int("nas/epochs", 1, 3)])
    with pytest.raises(ValueError, match="not defined before"):
        HyperSpace([Int("a", 1, 3, conditions=[Condition("b", [1])]), Int("b", 1, 3)])
    with pytest.raises(ValueError, match="twice"):
        HyperSpace([Int("a", 1, 3), Int("a", 1, 5)])


def test_container_api():
    space = conditional_space()
    assert isinstance(space, SearchSpace)
    assert len(space) == 7 and space.names[0] == "model" and "rate" in space
    assert "nope" not in space
    assert space.get("units") == space.params[1]
    with pytest.raises(KeyError):
        space.get("nope")


# -- KerasTuner config -------------------------------------------------------
def test_config_round_trip():
    space = conditional_space()
    config = space.to_config()
    json.dumps(config)  # serialisable
    assert HyperSpace.from_keras_tuner_config(config) == space
    assert config["values"] == {"model": "mlp", "units": 16, "dropout": False, "lr": 1e-4, "epochs": 3}


def test_hand_written_keras_tuner_config():
    def parent(name, values):
        return {"class_name": "Parent", "config": {"name": name, "values": values}}

    config = {
        "space": [
            {"class_name": "Choice", "config": {"name": "model", "default": "a", "conditions": [],
                                                "values": ["a", "b"], "ordered": False}},
            {"class_name": "Int", "config": {"name": "units", "default": None,
                                             "conditions": [parent("model", ["b"])],
                                             "min_value": 32, "max_value": 512, "step": 32,
                                             "sampling": "linear"}},
            {"class_name": "Choice", "config": {"name": "bn", "default": 1, "conditions": [],
                                                "values": [1, 0], "ordered": True}},
            {"class_name": "Float", "config": {"name": "lr", "default": 0.001, "conditions": [],
                                               "min_value": 0.0001, "max_value": 0.1, "step": None,
                                               "sampling": "log"}},
            {"class_name": "Fixed", "config": {"name": "nas/epochs", "conditions": [], "value": 3}},
            {"class_name": "Boolean", "config": {"name": "x", "default": True,
                                                 "conditions": [parent("nas/epochs", [3])]}},
        ],
        "values": {"model": "a", "bn": 1, "lr": 0.001, "nas/epochs": 3},
    }
    space = HyperSpace.from_keras_tuner_config(config)
    assert space.names == ("model", "units", "bn", "lr")
    units = space.get("units")
    assert isinstance(units, Int) and units.default == 32 and units.step == 32
    assert units.conditions == (Condition("model", ("b",)),)
    assert space.get("lr").sampling == "log" and space.get("bn").ordered
    assert space.complete({}) == {"model": "a", "bn": 1, "lr": 0.001}
    assert space.complete({"model": "b"}) == {"model": "b", "units": 32, "bn": 1, "lr": 0.001}
    assert space.size() == math.inf
    assert HyperSpace.from_keras_tuner_config(space.to_config()) == space


# -- activity, sample --------------------------------------------------------
def test_is_active_is_recursive():
    space = conditional_space()
    values = {"model": "cnn", "dropout": True, "rate": 0.2, "filters": 8}
    assert not space.is_active("dropout", values)
    assert not space.is_active("rate", values)  # parent present but inactive
    assert space.is_active("filters", values)
    assert space.is_active("rate", {"model": "mlp", "dropout": True})
    assert not space.is_active("rate", {"model": "mlp"})  # missing parent
    with pytest.raises(KeyError):
        space.is_active("nope", {})


def test_sample_active_legal_python_reproducible():
    space = conditional_space()
    rng = np.random.default_rng(0)
    seen_models = set()
    for _ in range(300):
        v = space.sample(rng)
        assert set(v) == active_names(space, v)
        assert space.complete(v) == v  # legal
        assert all(type(x) in PY_SCALARS for x in v.values())
        seen_models.add(v["model"])
    assert seen_models == {"mlp", "cnn", "none"}
    a = [space.sample(np.random.default_rng(7)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    with pytest.raises(TypeError):
        space.sample(42)  # type: ignore[arg-type]


def test_sample_distributions():
    rng = np.random.default_rng(1)
    n = 6000
    counts = np.zeros(3)
    space = HyperSpace([Choice("c", ["a", "b", "c"]), Float("lr", 1e-4, 1.0, sampling="log"),
                        Int("k", 1, 4), Int("g", 2, 32, step=2, sampling="log")])
    draws = [space.sample(rng) for _ in range(n)]
    for d in draws:
        counts["abc".index(d["c"])] += 1
    assert np.all(np.abs(counts / n - 1 / 3) < 0.03)
    logs = np.log10([d["lr"] for d in draws])
    assert abs(np.median(logs) + 2) < 0.15  # log-uniform on [1e-4, 1]
    assert abs(np.mean(logs < -3) - 0.25) < 0.03
    ks = np.bincount([d["k"] for d in draws], minlength=5)[1:]
    assert np.all(np.abs(ks / n - 0.25) < 0.03)
    assert {d["g"] for d in draws} == {2, 4, 8, 16, 32}


def test_int_log_without_step_samples_every_integer_log_uniformly():
    p = Int("i", 1, 100, sampling="log")
    rng = np.random.default_rng(3)
    draws = np.array([p.sample(rng) for _ in range(5000)])
    assert draws.min() >= 1 and draws.max() <= 100
    assert abs(np.mean(draws < 10) - math.log(10) / math.log(101)) < 0.03
    # as KerasTuner: log-uniform on [min, max + 1), truncated, so max is reachable
    assert Int("i", 1, 3, sampling="log").from_unit(0.99) == 3
    assert Int("i", 1, 3, sampling="reverse_log").from_unit(0.0) == 1


# -- complete -----------------------------------------------------------------
def test_complete_fills_drops_keeps_reserved():
    space = conditional_space()
    out = space.complete({"model": "mlp", "dropout": True, "filters": 32, "unknown": 1,
                          "nas/parent": "t1", "lr": np.float64(0.01)})
    assert out == {"model": "mlp", "units": 16, "dropout": True, "rate": 0.1, "lr": 0.01,
                   "epochs": 3, "nas/parent": "t1"}
    assert type(out["lr"]) is float
    assert space.complete({}) == {"model": "mlp", "units": 16, "dropout": False, "lr": 1e-4,
                                  "epochs": 3}


@pytest.mark.parametrize("values, name", [
    ({"model": "rnn"}, "model"),
    ({"model": "mlp", "units": 17}, "units"),
    ({"model": "mlp", "units": 512}, "units"),
    ({"lr": 1.0}, "lr"),
    ({"lr": "0.01"}, "lr"),
    ({"model": "mlp", "dropout": "yes"}, "dropout"),
    ({"epochs": 4}, "epochs"),
])
def test_complete_rejects_illegal_values(values, name):
    with pytest.raises(ValueError, match=repr(name)):
        conditional_space().complete(values)


def test_complete_ignores_illegal_inactive_values():
    assert conditional_space().complete({"model": "cnn", "units": 17})["filters"] == 8


# -- mutate ---------------------------------------------------------------------
def test_mutate_changes_exactly_one_active_value():
    space = conditional_space()
    rng = np.random.default_rng(5)
    changed_names = set()
    for _ in range(500):
        v = space.sample(rng)
        m = space.mutate(v, rng)
        assert space.complete(m) == m and set(m) == active_names(space, m)
        common = set(v) & set(m)
        diff = [k for k in common if v[k] != m[k]]
        assert len(diff) == 1 and diff[0] != "epochs"
        changed_names.add(diff[0])
        # everything that appears or disappears is a descendant of the change
        for k in set(v) ^ set(m):
            assert k in {"units", "dropout", "rate", "filters"}
    assert changed_names == {"model", "units", "dropout", "rate", "filters", "lr"}


def test_mutate_reproducible_and_fixed_only():
    space = conditional_space()
    v = space.complete({"model": "mlp"})
    a = space.mutate(v, np.random.default_rng(2))
    b = space.mutate(v, np.random.default_rng(2))
    assert a == b
    fixed = HyperSpace([Fixed("x", 1), Choice("c", ["only"])])
    out = fixed.mutate({"x": 1}, np.random.default_rng(0))
    assert out == {"x": 1, "c": "only"}


def test_mutate_samples_newly_active_params():
    space = HyperSpace([Boolean("b"), Int("k", 1, 1000, conditions=[Condition("b", [True])])])
    ks = {space.mutate({"b": False}, np.random.default_rng(s))["k"] for s in range(20)}
    assert len(ks) > 5  # sampled, not the default


# -- neighbours -------------------------------------------------------------------
def test_neighbours_small_space():
    space = HyperSpace([
        Choice("c", ["a", "b", "c"]),
        Boolean("b", conditions=[Condition("c", ["b"])]),
        Int("i", 1, 9, step=2),
        Fixed("x", 0),
    ])
    got = space.neighbours({"c": "a", "i": 5})
    assert got == [
        {"c": "b", "b": False, "i": 5, "x": 0},
        {"c": "c", "i": 5, "x": 0},
        {"i": 3, "c": "a", "x": 0},
        {"i": 7, "c": "a", "x": 0},
    ]
    assert space.neighbours({"c": "a", "i": 9})[-1]["i"] == 7
    assert len(space.neighbours({"c": "a", "i": 9})) == 3


def test_neighbours_numeric_moves():
    assert Int("g", 2, 32, step=2, sampling="log").neighbours(8) == [4, 16]
    assert Int("g", 2, 32, sampling="log").neighbours(32) == [31]
    f = Float("lr", 1e-4, 1.0, sampling="log")
    low, high = f.neighbours(1e-2)
    assert low == pytest.approx(1e-2 * 10 ** -0.4) and high == pytest.approx(1e-2 * 10 ** 0.4)
    assert f.neighbours(1.0) == [pytest.approx(10 ** -0.4)]
    assert Float("s", 0.0, 1.0, step=0.25).neighbours(0.5) == [0.25, 0.75]
    rev = Int("r", 1, 10, step=2, sampling="reverse_log")  # grid 10, 9, 7, 3; default 1
    assert rev.neighbours(1) == [3] and rev.neighbours(9) == [10, 7]


def test_neighbours_properties_on_conditional_space():
    space = conditional_space()
    rng = np.random.default_rng(11)
    for _ in range(50):
        v = space.sample(rng)
        nbrs = space.neighbours(v)
        keys = [space.key(n) for n in nbrs]
        assert len(keys) == len(set(keys)) and space.key(v) not in keys
        assert nbrs == space.neighbours(v)  # deterministic
        for n in nbrs:
            assert space.complete(n) == n
            assert sum(v[k] != n[k] for k in set(v) & set(n)) == 1


# -- key ----------------------------------------------------------------------------
def test_key_ignores_inactive_values_and_order():
    space = conditional_space()
    a = {"model": "cnn", "filters": 16, "lr": 0.01, "epochs": 3}
    b = {"lr": 0.01, "units": 64, "epochs": 3, "filters": 16, "model": "cnn", "dropout": True}
    assert space.key(a) == space.key(b)
    assert space.key(a) == space.key({**a, "lr": 0.01 + 1e-14})
    assert space.key(a) != space.key({**a, "lr": 0.011})
    assert space.key(a) != space.key({**a, "filters": 32})
    assert space.key({"model": "mlp"}) == space.key(space.complete({}))  # missing = defaults


def test_key_distinguishes_bool_and_int():
    space = HyperSpace([Choice("v", [1, 0]), Boolean("w")])
    assert space.key({"v": 1}) != space.key({"v": True})  # illegal True kept distinct
    assert space.key({"v": 1, "w": True}) != space.key({"v": 1, "w": False})


# -- encode --------------------------------------------------------------------------
def test_encode_shape_range_and_inactive_zeros():
    space = conditional_space()
    # model one-hot 3, units 1, dropout 1, rate 1, filters (ordered) 1, lr 1, epochs 0
    assert space.encoded_dim == 8
    rng = np.random.default_rng(2)
    for _ in range(100):
        vec = space.encode(space.sample(rng))
        assert vec.shape == (8,) and np.all((vec >= 0) & (vec <= 1))
    vec = space.encode({"model": "cnn", "filters": 32, "lr": 1e-1})
    assert vec.tolist() == pytest.approx([0, 1, 0, 0, 0, 0, 1, 1])
    vec = space.encode({"model": "mlp", "units": 64, "dropout": True, "rate": 0.3, "lr": 1e-4})
    assert vec.tolist() == pytest.approx([1, 0, 0, 0.5, 1, 0.5, 0, 0])


# -- size ------------------------------------------------------------------------------
def test_size_nested_conditions_matches_brute_force():
    space = HyperSpace([p for p in conditional_space().params if p.name != "lr"])
    # mlp: 5 units * (1 + 5 rates) = 30; cnn: 3; none: 1
    assert space.size() == 34 == len(brute_force_configs(space))


def test_size_infinite_and_multiple_conditions():
    assert conditional_space().size() == math.inf
    space = HyperSpace([
        Boolean("a"), Int("n", 1, 4),
        Choice("c", ["x", "y"], conditions=[Condition("a", [True]), Condition("n", [2, 3])]),
        Float("f", 0.0, 1.0, conditions=[Condition("c", ["y"])]),
    ])
    assert space.size() == math.inf
    finite = HyperSpace([p for p in space.params if p.name != "f"])
    assert finite.size() == len(brute_force_configs(finite)) == 4 + 2 + 2 * 2


def test_size_with_repeated_names_under_different_conditions():
    space = HyperSpace([
        Choice("m", ["a", "b", "c"]),
        Int("units", 1, 3, conditions=[Condition("m", ["a"])]),
        Int("units", 10, 50, step=10, conditions=[Condition("m", ["b"])]),
        Boolean("deep", conditions=[Condition("units", [2, 30])]),
    ])
    assert space.size() == len(brute_force_configs(space)) == (3 + 1) + (5 + 1) + 1
    assert space.complete({"m": "b"}) == {"m": "b", "units": 10}
    with pytest.raises(ValueError):
        space.complete({"m": "b", "units": 2})


def test_repeated_name_first_active_definition_governs():
    space = HyperSpace([
        Choice("m", ["a", "b"]),
        Int("units", 1, 3, conditions=[Condition("m", ["a", "b"])]),
        Int("units", 10, 50, step=10, conditions=[Condition("m", ["b"])]),
    ])
    assert space.complete({"m": "b"}) == {"m": "b", "units": 1}  # as KerasTuner's defaults
    assert space.size() == len(brute_force_configs(space)) == 6
    rng = np.random.default_rng(0)
    assert all(space.sample(rng)["units"] in (1, 2, 3) for _ in range(50))


def test_key_never_raises_on_values_of_an_older_space():
    space = conditional_space()
    old = {"model": "rnn", "lr": np.float64(0.5), "extra": 1}
    assert space.key(old) == space.key(dict(old))
    assert space.key(old) != space.key({**old, "model": "gru"})
    # an unhashable value is keyed too (not remembered), the same every time
    assert space.key({"model": ["cnn"]}) == space.key({"model": ["cnn"]}) != space.key({})


def test_remembered_keys_are_those_of_a_fresh_space():
    space, fresh = conditional_space(), conditional_space()
    rng = np.random.default_rng(0)
    values = [space.sample(rng) for _ in range(30)]
    values += [{**v, "lr": float(v.get("lr", 0.01)) + 1e-14} for v in values]  # same key
    values += [{**v, "filters": 16} for v in values[:5]] + [{"model": "cnn", "filters": 16.0}]
    first = [space.key(v) for v in values]
    assert [space.key(v) for v in values] == first == [fresh.key(v) for v in reversed(values)][::-1]


def _random_space(rng: np.random.Generator) -> HyperSpace:
    params: list = []
    for i in range(int(rng.integers(3, 7))):
        kind = int(rng.integers(4))
        conditions = []
        parents = [p for p in params if p.cardinality() > 1]
        for _ in range(int(rng.integers(0, 3)) if parents else 0):
            parent = parents[int(rng.integers(len(parents)))]
            dom = list(parent.domain())
            chosen = rng.choice(len(dom), size=int(rng.integers(1, len(dom) + 1)), replace=False)
            cond = Condition(parent.name, [dom[j] for j in sorted(chosen)])
            if cond.name not in {c.name for c in conditions}:
                conditions.append(cond)
        name = f"p{i}"
        if kind == 0:
            params.append(Choice(name, ["a", "b", "c"][: int(rng.integers(1, 4))], conditions=conditions))
        elif kind == 1:
            params.append(Boolean(name, conditions=conditions))
        elif kind == 2:
            params.append(Int(name, 1, int(rng.integers(1, 5)), conditions=conditions))
        else:
            params.append(Float(name, 0.0, 1.0, step=0.5, conditions=conditions))
    return HyperSpace(params)


def test_size_random_conditional_spaces_match_brute_force():
    rng = np.random.default_rng(123)
    for _ in range(60):
        space = _random_space(rng)
        assert space.size() == len(brute_force_configs(space)), space


def test_size_many_independent_branches_is_fast():
    params: list = []
    for i in range(40):
        params += [Boolean(f"b{i}"), Int(f"k{i}", 1, 3, conditions=[Condition(f"b{i}", [True])])]
    assert HyperSpace(params).size() == 4 ** 40
