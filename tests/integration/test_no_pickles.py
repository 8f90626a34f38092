"""No pickle in a search directory, for every installed strategy.

A strategy's state goes to `oracle.json` through `state_dict()`; these
tabular searches (NAS-Bench-201 look-ups, real KerasTuner files, no
training) reach each strategy's later phases (mutation, progressive steps,
NASH's steps) and the directory they leave is scanned. The structured
searches are scanned where they run: the NASH CLI search
(tests/e2e/test_cli_search.py), the POPNAS tuner
(tests/integration/test_popnas_tuner.py) and the CLI and parallel searches
(tests/e2e/test_crash_resume.py, tests/e2e/test_distributed.py).
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autokeras_nas import plugins
from autokeras_nas.testing import assert_no_pickles, pickle_files

pytestmark = pytest.mark.tf

#: Trials per search: past aging evolution's random start and POPNAS's
#: first progressive step, a few NASH steps.
TRIALS = 30


@pytest.fixture(scope="module")
def table():
    from autokeras_nas.bench import NB201Table

    return NB201Table("cifar10")


@pytest.mark.parametrize("strategy", sorted(plugins.available()))
def test_a_tabular_search_leaves_no_pickle(tmp_path: Path, table, strategy: str) -> None:
    from autokeras_nas.bench.tabular_search import TabularTuner

    # enas and the differentiable strategies estimate 10 and 5 by default
    few = ("enas", "darts", "snas", "gdas", "proxyless")
    options = {"candidates": TRIALS} if strategy in few else {}
    if strategy == "zero-cost":
        options = {"proxies": "synflow"}  # the table's only proxy
    if strategy == "freedarts":
        options = {"top_k": TRIALS}  # the saliency trial, then a retrain of each cell it names
    tuner = TabularTuner(strategy=plugins.load(strategy)(seed=3, **options), max_trials=TRIALS,
                         table=table,
                         directory=str(tmp_path), project_name="search", overwrite=True)
    tuner.search(verbose=0)
    out = tmp_path / "search"
    trials = json.loads((out / "results.json").read_text())["trials"]
    # NASH ends after its 7 hill-climbing steps of 4 children: 29 trials.
    assert TRIALS - 1 <= len(trials) <= TRIALS
    assert all(t["status"] == "completed" for t in trials), [t["status"] for t in trials]
    assert (out / "oracle.json").is_file()  # the strategy's state was saved
    assert_no_pickles(out)


def test_the_scan_finds_pickles_wherever_they_hide(tmp_path: Path) -> None:
    """The negative control: every way a pickle can be stored is found."""
    (tmp_path / "oracle.json").write_text(json.dumps({"state": [1, 2]}))
    (tmp_path / "trial_0").mkdir()
    (tmp_path / "trial_0" / "state").write_bytes(pickle.dumps({"rng": 1}))
    (tmp_path / "old.pkl").write_bytes(b"")
    np.save(tmp_path / "numbers.npy", np.arange(3))
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "arrays.npz", ok=np.zeros(2), bad=np.array([None], dtype=object))
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("deep.bin", pickle.dumps(0, protocol=4))
    with zipfile.ZipFile(tmp_path / "model.keras", "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("assets/nested.zip", inner.getvalue())
    assert pickle_files(tmp_path) == ["arrays.npz!bad.npy", "model.keras!assets/nested.zip!deep.bin",
                                      "objects.npy", "old.pkl", "trial_0/state"]
    with pytest.raises(AssertionError, match="pickles in .*old.pkl"):
        assert_no_pickles(tmp_path)
    with pytest.raises(ValueError, match="not a directory"):
        pickle_files(tmp_path / "oracle.json")
