"""Negative controls at the oracle level, on deterministic look-up searches
(no training): Pareto ranking of a two-objective search through
`get_best_trials` and results.json, and ASHA's state across a resume.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import keras_tuner
import pytest

from autokeras_nas import plugins
from autokeras_nas.core import EPOCHS as EPOCHS_KEY
from autokeras_nas.core import INITIAL_EPOCH
from autokeras_nas.tuner import NasTuner

pytestmark = pytest.mark.tf

# (accuracy, cost) of each cell; accuracy is maximised, cost minimised.
# Front 1: A, B, C (A and C its extremes, B inside); front 2: D, E, F (D, E
# extremes, F inside); front 3: G. H fails, I has a NaN accuracy and J an
# infinite cost: none of the three may be ranked, though I and J would
# dominate everything if their values were taken as numbers.
CELLS = {
    "A": (0.90, 10.0), "B": (0.80, 5.0), "C": (0.70, 1.0),
    "D": (0.85, 12.0), "E": (0.60, 2.0), "F": (0.75, 6.0),
    "G": (0.50, 20.0),
    "H": None, "I": (math.nan, 0.5), "J": (0.99, math.inf),
}


class LookupTuner(NasTuner):
    """A trial is a look-up of its cell in `CELLS`."""

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        found = CELLS[trial.hyperparameters.values["cell"]]
        if found is None:
            raise keras_tuner.errors.FailedTrialError("cell H does not train")
        return self._check_objectives({"acc": found[0], "cost": found[1]})

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        """No model."""


def _cells_hp() -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    hp.Choice("cell", list(CELLS), ordered=False)
    return hp


def test_pareto_ranking_of_a_two_objective_search(tmp_path: Path) -> None:
    tuner = LookupTuner(None, strategy=plugins.load("random")(seed=0), objective=["acc:max", "cost:min"],
                        max_trials=len(CELLS), hyperparameters=_cells_hp(),
                        allow_new_entries=False, directory=str(tmp_path), project_name="p",
                        max_consecutive_failed_trials=5)
    tuner.search(verbose=0, epochs=EPOCHS)
    cell_of = {t.trial_id: t.hyperparameters.values["cell"]
               for t in tuner.oracle.trials.values()}
    assert sorted(cell_of.values()) == sorted(CELLS)  # every cell was tried once

    ranked = [cell_of[t.trial_id] for t in tuner.oracle.get_best_trials(len(CELLS))]
    results = json.loads((tmp_path / "p" / "results.json").read_text())
    best = [cell_of[str(i)] for i in results["best_trial_ids"]]
    for order in (ranked[:7], best):
        # Fronts in order; within each, the extremes (infinite crowding) first.
        assert set(order[:2]) == {"A", "C"} and order[2] == "B", order
        assert set(order[3:5]) == {"D", "E"} and order[5] == "F", order
        assert order[6] == "G", order
    assert best == ranked[:7]
    assert set(ranked[7:]) == {"H", "I", "J"}  # unranked trials only after all ranked ones
    statuses = {cell_of[str(t["trial_id"])]: t["status"] for t in results["trials"]}
    assert statuses["H"] == "failed"
    assert [cell_of[t.trial_id] for t in tuner.oracle.get_best_trials(3)] == ranked[:3]


# -- ASHA across a resume -------------------------------------------------------------
#: Final quality of each cell; a trial's score after e epochs approaches it.
QUALITY = {f"c{i:02d}": q for i, q in enumerate(
    [0.31, 0.72, 0.55, 0.90, 0.12, 0.66, 0.47, 0.83, 0.25, 0.59, 0.78, 0.40, 0.94, 0.05])}
EPOCHS = 9


class Interrupted(BaseException):
    """Stands for a kill: not an `Exception`, so KerasTuner does not catch it."""


class CurveTuner(NasTuner):
    """A trial reports an analytic learning curve epoch by epoch; the oracle's
    stopping rule may stop it. `interrupt_at` = (trial id, epoch): raise
    `Interrupted` after reporting that epoch of that trial."""

    interrupt_at: tuple[str, int] | None = None

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        values = trial.hyperparameters.values
        quality = QUALITY[values["cell"]]
        # Scheduled by promotions: from the initial epoch to the trial's rung.
        first, last = values.get(INITIAL_EPOCH, 0) + 1, values.get(EPOCHS_KEY, EPOCHS)
        ran, score = 0, 0.0
        for epoch in range(first, last + 1):
            score = quality * (1.0 - 0.5 ** epoch)
            ran = epoch - first + 1
            go_on = self.report_epoch(trial.trial_id, epoch, {"score": score})
            if self.interrupt_at == (trial.trial_id, epoch):
                raise Interrupted
            if not go_on:
                break
        return {"score": score, "epochs": float(ran),
                "stopped_early": float(ran < last - first + 1)}

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        """No model."""


def _curve_search(directory: Path, *, overwrite: bool, interrupt_at: tuple[str, int] | None,
                  early_stopping: str) -> CurveTuner:
    tuner = CurveTuner(None, strategy=plugins.load("random")(seed=3), objective="score:max", max_trials=len(QUALITY),
                       hyperparameters=_cells(), allow_new_entries=False, early_stopping=early_stopping,
                       directory=str(directory), project_name="p", overwrite=overwrite)
    tuner.interrupt_at = interrupt_at
    return tuner





def _outcome(directory: Path) -> tuple[list[tuple], dict]:
    results = json.loads((directory / "p" / "results.json").read_text())
    trials = [(t["trial_id"], t["values"]["cell"], t["status"], t["epochs"],
               [round(c["score"], 6) for c in t["curve"]]) for t in results["trials"]]
    oracle = json.loads((directory / "p" / "oracle.json").read_text())
    return trials, oracle["nas"]["stopping"] or oracle["nas"]["scheduler"]


@pytest.mark.parametrize("rule", ["asha-stop", "median"])
def test_stopping_rule_state_survives_a_resume(tmp_path: Path, rule: str) -> None:
    _curve_search(tmp_path / "straight", overwrite=True, interrupt_at=None,
                  early_stopping=rule).search(verbose=0, epochs=EPOCHS)
    reference, reference_rule = _outcome(tmp_path / "straight")
    stopped = [t for t in reference if t[2] == "stopped"]
    assert stopped and len(stopped) < len(reference), reference  # the rule acted

    # Killed inside a later trial that passed its first rung (at epoch 2), and
    # at the first epoch of a trial after it; resumed each time.
    first = next(t for t in reference[4:] if t[3] >= 2)
    second = next(t for t in reference if int(t[0]) > int(first[0]))
    cuts = [(first[0], 2), (second[0], 1)]
    resumed = tmp_path / "resumed"
    for cut in cuts:
        with pytest.raises(Interrupted):
            _curve_search(resumed, overwrite=cut == cuts[0], interrupt_at=cut,
                          early_stopping=rule).search(verbose=0, epochs=EPOCHS)
    _curve_search(resumed, overwrite=False, interrupt_at=None, early_stopping=rule).search(verbose=0, epochs=EPOCHS)
    trials, state = _outcome(resumed)
    assert trials == reference
    assert state == reference_rule


def test_promotion_schedule_survives_a_resume(tmp_path: Path) -> None:
    """Under promotions ("asha"), a search interrupted inside a promoted
    trial and inside a new one resumes into exactly the trials, epochs,
    curves and scheduler state of an uninterrupted run."""
    _curve_search(tmp_path / "straight", overwrite=True, interrupt_at=None,
                  early_stopping="asha").search(verbose=0, epochs=EPOCHS)
    reference, reference_state = _outcome(tmp_path / "straight")
    results = json.loads((tmp_path / "straight" / "p" / "results.json").read_text())
    promoted = [t for t in results["trials"] if t["continues"] is not None]
    assert {t["epochs"] for t in promoted} == {2, 6}  # rungs 1 -> 3 -> 9
    # Killed in the second epoch of a trial promoted to 9 epochs, then in a new one.
    top = next(t for t in promoted if t["epochs"] == 6)
    new = next(t for t in results["trials"] if t["continues"] is None
               and int(t["trial_id"]) > int(top["trial_id"]))
    cuts = [(top["trial_id"], 5), (new["trial_id"], 1)]
    resumed = tmp_path / "resumed"
    for cut in cuts:
        with pytest.raises(Interrupted):
            _curve_search(resumed, overwrite=cut == cuts[0], interrupt_at=cut,
                          early_stopping="asha").search(verbose=0, epochs=EPOCHS)
    _curve_search(resumed, overwrite=False, interrupt_at=None,
                  early_stopping="asha").search(verbose=0, epochs=EPOCHS)
    trials, state = _outcome(resumed)
    assert trials == reference
    assert state == reference_state


def test_hyperband_schedule_runs_to_its_end_then_the_search_stops(tmp_path: Path) -> None:
    tuner = CurveTuner(None, strategy=plugins.load("random")(seed=3), objective="score:max",
                       max_trials=100, hyperparameters=_cells(), allow_new_entries=False,
                       early_stopping="hyperband", directory=str(tmp_path), project_name="p")
    tuner.search(verbose=0, epochs=3)  # brackets: 3 at 1 epoch, the best to 3; 2 at 3
    results = json.loads((tmp_path / "p" / "results.json").read_text())
    trials = results["trials"]
    assert [(t["epochs"], t["continues"] is not None) for t in trials] == [
        (1, False), (1, False), (1, False), (2, True), (3, False), (3, False)]
    first = {t["trial_id"]: QUALITY[t["values"]["cell"]] for t in trials[:3]}
    assert trials[3]["continues"] == max(first, key=first.get)
    assert trials[3]["curve"][0]["epoch"] == 2  # it goes on from epoch 1


def _cells() -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    hp.Choice("cell", list(QUALITY), ordered=False)
    return hp
