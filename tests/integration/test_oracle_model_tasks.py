"""Only trials whose task makes a model are a search's answer: a supernet
or an estimate may score best, yet `get_best_trials` and results.json's
best trials skip them (look-up trials, no training)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras_tuner
import pytest

from autokeras_nas.core import EPOCHS, PROMOTABLE, TASK
from autokeras_nas.testing.driver import ScriptedStrategy
from autokeras_nas.tuner import NasTuner

pytestmark = pytest.mark.tf

#: Per trial: its options (`Suggestion.run`) and its look-up accuracy. The
#: supernet and the estimate score best; the model-making trials follow.
SCRIPT = [
    ({"task": "supernet", "epochs": 3}, 0.99),
    ({"task": "estimate", "parent_id": "0"}, 0.95),
    ({}, 0.50),
    ({"task": "evaluate", "parent_id": "2"}, 0.60),
    ({"task": "train"}, 0.70),
    ({"task": "estimate", "parent_id": "0"}, 0.97),
]


class LookupTuner(NasTuner):
    """A trial's accuracy is looked up by its id; the task is only recorded."""

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        return {"acc": SCRIPT[int(trial.trial_id)][1]}

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        """No model."""


def test_best_trials_are_only_trials_that_make_a_model(tmp_path: Path) -> None:
    hp = keras_tuner.HyperParameters()
    hp.Choice("cell", ["a"])
    strategy = ScriptedStrategy([options for options, _ in SCRIPT], seed=0)
    tuner = LookupTuner(None, strategy=strategy, objective="acc:max", max_trials=len(SCRIPT),
                        hyperparameters=hp, allow_new_entries=False,
                        directory=str(tmp_path), project_name="p")
    tuner.search(verbose=0)
    tasks = {t.trial_id: t.hyperparameters.values.get(TASK) for t in tuner.oracle.trials.values()}
    assert tasks == {"0": "supernet", "1": "estimate", "2": None, "3": "evaluate",
                     "4": "train", "5": "estimate"}

    best = [t.trial_id for t in tuner.oracle.get_best_trials(len(SCRIPT))]
    assert best == ["4", "3", "2"]  # the model-making trials only, best first
    assert [t.trial_id for t in tuner.oracle.get_best_trials(1)] == ["4"]
    results = json.loads((tmp_path / "p" / "results.json").read_text())
    assert results["best_trial_ids"] == ["4", "3", "2"]
    assert len(results["trials"]) == len(SCRIPT)  # every trial is still recorded


def test_promotions_schedule_only_trained_trials(tmp_path: Path) -> None:
    """Under ASHA a suggestion without epochs trains to the lowest rung, but
    a supernet or an estimate is not a configuration to promote."""
    hp = keras_tuner.HyperParameters()
    hp.Choice("cell", ["a"])
    strategy = ScriptedStrategy([options for options, _ in SCRIPT[:3]], seed=0)
    tuner = LookupTuner(None, strategy=strategy, objective="acc:max", max_trials=3,
                        hyperparameters=hp, allow_new_entries=False, early_stopping="asha",
                        directory=str(tmp_path), project_name="p")
    tuner.oracle.set_search_epochs(9)
    tuner.search(verbose=0)
    values = {t.trial_id: t.hyperparameters.values for t in tuner.oracle.trials.values()}
    assert values["0"].get(EPOCHS) == 3 and PROMOTABLE not in values["0"]  # its own epochs
    assert EPOCHS not in values["1"] and PROMOTABLE not in values["1"]  # estimate
    assert values["2"][EPOCHS] == 1  # a train trial: the lowest rung
