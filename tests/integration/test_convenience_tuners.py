"""The convenience tuners take their arguments from their strategy's
constructor (`autokeras_nas.tuner.StrategyTuner`): same names, same defaults,
documented, passed through; and a third party makes a tuner the same way."""

from __future__ import annotations

import inspect
import json
import os

import keras_tuner
import pytest

import autokeras_nas
from autokeras_nas.core import BaseStrategy, Objective, SpaceKind, Suggestion
from autokeras_nas.tuner import (
    DEFAULT_MAX_TRIALS,
    CellHyperModel,
    MorphHyperModel,
    StrategyTuner,
    space_of,
)
from autokeras_nas.tuner.convenience import POSITIONAL, arg_docs, strategy_arguments
from autokeras_nas_plugins.aging_evolution import AgingEvolution as AgingStrategy
from autokeras_nas_plugins.nash import Nash as NashStrategy
from autokeras_nas_plugins.popnas import Pnas as PnasStrategy
from autokeras_nas_plugins.popnas import Popnas as PopnasStrategy
from autokeras_nas_plugins.random_search import RandomStrategy

pytestmark = pytest.mark.tf

#: tuner name -> (its strategy, the strategy arguments the tuner does not take).
TUNERS = {
    "RandomSearch": (RandomStrategy, ()),
    "AgingEvolution": (AgingStrategy, ()),
    "Nash": (NashStrategy, ("network",)),
    "Popnas": (PopnasStrategy, ("mode", "cells")),
    "Pnas": (PnasStrategy, ("mode", "cells")),
}


def _keyword_defaults(cls: type) -> dict[str, object]:
    """Keyword arguments and defaults of a strategy constructor, read here
    independently of the helper (Pnas passes **kwargs on to Popnas)."""
    init = PopnasStrategy.__init__ if cls is PnasStrategy else cls.__init__
    return {p.name: p.default for p in inspect.signature(init).parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.name != "seed"}


@pytest.mark.parametrize("name", sorted(TUNERS))
def test_tuner_signature_is_keras_tuners_then_its_strategys(name: str) -> None:
    tuner, (strategy, hidden) = getattr(autokeras_nas, name), TUNERS[name]
    assert tuner.strategy_class is strategy
    params = inspect.signature(tuner).parameters
    kt = inspect.signature(keras_tuner.RandomSearch).parameters
    positional = [p for p in params.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [p.name for p in positional] == list(POSITIONAL) == [n for n in kt if n != "kwargs"]
    assert {p.name: p.default for p in positional} == {n: kt[n].default for n in POSITIONAL}
    assert params["max_trials"].default == DEFAULT_MAX_TRIALS
    keyword = {p.name: p.default for p in params.values() if p.kind is p.KEYWORD_ONLY}
    expected = {n: d for n, d in _keyword_defaults(strategy).items() if n not in hidden}
    assert {n: keyword[n] for n in expected if n in keyword} == expected
    extra = set(keyword) - set(expected)
    assert extra <= {"input_shape", "num_classes", "max_blocks"}, extra


@pytest.mark.parametrize("name", sorted(TUNERS))
def test_every_argument_is_documented(name: str) -> None:
    tuner = getattr(autokeras_nas, name)
    documented = arg_docs(tuner)
    assert all(documented.values())
    names = [n for n in inspect.signature(tuner).parameters if n != "kwargs"]
    assert [n for n in names if n not in documented] == []
    assert "**kwargs" in documented


def test_strategy_arguments_reach_the_strategy(tmp_path, build_model) -> None:
    tuner = autokeras_nas.AgingEvolution(build_model, None, 12, 5, population_size=6,
                                         sample_size=3, mutations="large-scale",
                                         early_stopping="asha", directory=str(tmp_path))
    strategy = tuner.oracle.strategy
    assert isinstance(strategy, AgingStrategy) and strategy.seed == 5
    assert (strategy.population_size, strategy.sample_size, strategy.inherit_weights) == (6, 3, True)
    assert tuner.oracle.max_trials == 12 and tuner.oracle.scheduler is not None


@pytest.mark.parametrize("name", sorted(TUNERS))
def test_one_default_objective_and_max_trials(name: str, tmp_path, build_model) -> None:
    hypermodel = build_model if name in ("RandomSearch", "AgingEvolution") else None
    shape = {} if hypermodel else {"input_shape": (8, 8, 1), "num_classes": 10}
    tuner = getattr(autokeras_nas, name)(hypermodel, directory=str(tmp_path), **shape)
    assert tuner.oracle.objectives == (Objective("val_loss", "min"),)
    assert tuner.oracle.max_trials == DEFAULT_MAX_TRIALS == 10


def test_bad_arguments_are_one_line_errors(tmp_path, build_model) -> None:
    with pytest.raises(ValueError, match=r"unknown argument 'popultion_size'.*population_size"):
        autokeras_nas.AgingEvolution(build_model, popultion_size=6, directory=str(tmp_path))
    with pytest.raises(ValueError, match="makes its own strategy"):
        autokeras_nas.RandomSearch(build_model, strategy="random", directory=str(tmp_path))
    with pytest.raises(ValueError, match="unknown argument 'network'"):
        autokeras_nas.Nash(build_model, network={}, directory=str(tmp_path))
    with pytest.raises(ValueError, match="Nash needs a hypermodel, or input_shape and num_classes"):
        autokeras_nas.Nash(input_shape=(8, 8, 1), directory=str(tmp_path))
    with pytest.raises(ValueError, match="population_size must be an int >= 1"):
        autokeras_nas.AgingEvolution(build_model, population_size=0, directory=str(tmp_path))


def test_structured_spaces_are_bound_by_their_kind(tmp_path) -> None:
    nash = autokeras_nas.Nash(input_shape=(8, 8, 1), num_classes=10, directory=str(tmp_path),
                              project_name="nash")
    assert space_of(nash.hypermodel)[0] is SpaceKind.NETWORK
    assert nash.oracle.strategy.network == nash.hypermodel.start
    for name, mode in (("Popnas", "popnas"), ("Pnas", "pnas")):
        tuner = getattr(autokeras_nas, name)(input_shape=(8, 8, 1), num_classes=10, max_blocks=2,
                                             directory=str(tmp_path), project_name=name)
        cells = tuner.hypermodel
        assert isinstance(cells, CellHyperModel) and cells.space.max_blocks == 2
        assert tuner.oracle.strategy.cells == cells.cells and tuner.oracle.strategy.mode == mode
    with pytest.raises(ValueError, match="'random' cannot search a network space"):
        autokeras_nas.RandomSearch(MorphHyperModel((8, 8, 1), 10), directory=str(tmp_path))


class Stride(BaseStrategy):
    """A third-party strategy: walks one hyperparameter's values.

    Args:
        step: Values skipped between two trials.
        seed: Seed of the strategy's generator.
    """

    name = "stride"

    def __init__(self, *, step: int = 2, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        if type(step) is not int or step < 1:
            raise ValueError(f"step must be an int >= 1, got {step!r}")
        self.step = step

    def propose(self, trial_id: str) -> Suggestion:
        values = self.sample_new()
        return Suggestion.done("exhausted") if values is None else Suggestion.run(values)


class StrideSearch(StrategyTuner):
    """Stride as a tuner."""

    strategy_class = Stride


def test_a_third_party_tuner_from_its_strategy(tmp_path, digits, build_model) -> None:
    params = inspect.signature(StrideSearch).parameters
    assert params["step"].default == 2 and params["step"].kind is inspect.Parameter.KEYWORD_ONLY
    assert arg_docs(StrideSearch)["step"] == "Values skipped between two trials. Default: `2`."
    assert list(strategy_arguments(Stride)) == ["step"]
    tuner = StrideSearch(build_model, "val_accuracy", 2, 3, step=4, directory=str(tmp_path),
                         project_name="p")
    assert tuner.oracle.strategy.step == 4 and tuner.oracle.strategy.seed == 3
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=64, verbose=0)
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        results = json.load(f)
    assert results["strategy"] == "stride"
    assert [t["status"] for t in results["trials"]] == ["completed"] * 2


def test_a_tuner_whose_options_clash_with_its_strategys_is_refused() -> None:
    with pytest.raises(TypeError, match=r"\['step'\] are both"):
        class Clash(StrategyTuner):
            strategy_class = Stride

            @classmethod
            def default_hypermodel(cls, *, step: int = 1) -> None:
                return None
