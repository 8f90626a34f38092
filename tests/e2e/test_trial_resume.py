"""A trial killed with SIGKILL after some epochs resumes at its last finished
epoch when the search is resumed, instead of starting over."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from autokeras_nas.testing.processes import finish, kill_when

pytestmark = pytest.mark.tf

#: A 6-epoch search of one trial; the hypermodel's `fit` appends a line to
#: epochs.txt after every epoch (after the tuner's own callbacks: the epoch
#: is backed up by then) and then sleeps, so that the test can kill it there.
#: Run as `python -c SCRIPT DIRECTORY overwrite|resume`, forked by `fork_server`.
SCRIPT = textwrap.dedent('''
    import json, sys, time
    import keras
    import keras_tuner
    from sklearn.datasets import load_digits
    from autokeras_nas.tuner import NasTuner

    directory, overwrite = sys.argv[1], sys.argv[2] == "overwrite"
    x, y = load_digits(return_X_y=True)
    x, y = (x / 16.0).astype("float32"), y.astype("int32")

    class Counted(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            with open(f"{directory}/epochs.txt", "a") as f:
                f.write(f"{epoch + 1}\\n")
            time.sleep(0.5)

    class CountedModel(keras_tuner.HyperModel):
        def build(self, hp):
            model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(hp.Choice("units", [16])),
                                      keras.layers.BatchNormalization(),
                                      keras.layers.Dense(10, activation="softmax")])
            model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            return model

        def fit(self, hp, model, *args, callbacks=(), **kwargs):
            return model.fit(*args, callbacks=list(callbacks) + [Counted()], **kwargs)

    tuner = NasTuner(CountedModel(), strategy="random", objective="val_accuracy", max_trials=1,
                     directory=directory, project_name="p", overwrite=overwrite)
    tuner.search(x[:1200], y[:1200], validation_data=(x[1200:], y[1200:]), epochs=6,
                 batch_size=64, verbose=0)
    model = tuner.get_best_models(1)[0]
    _, accuracy = model.evaluate(x[1200:], y[1200:], verbose=0)
    print("RESULT " + json.dumps({"best_accuracy": accuracy}), flush=True)
''')


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_a_trial_killed_after_epoch_3_resumes_there_and_runs_at_most_7_epochs(
        tmp_path, fork_server):
    def start(mode: str):  # `python -c SCRIPT tmp_path MODE`, in its own process group
        return fork_server.start([str(tmp_path), mode], script=SCRIPT, cwd=tmp_path,
                                 merge_stderr=True)

    counted = tmp_path / "epochs.txt"
    first = start("overwrite")
    assert kill_when(first, lambda: len(_lines(counted)) >= 3), "the search ended before the kill"
    killed_after = len(_lines(counted))
    state = json.loads((tmp_path / "p" / "trial_0" / "backup" / "state.json").read_text())
    assert state["current"]["epoch"] == killed_after == 3
    before = json.loads((tmp_path / "p" / "results.json").read_text())["trials"]
    assert [t["status"] for t in before] == ["running"]

    second = start("resume")
    output = finish(second)
    assert second.returncode == 0, output[-3000:]
    assert "trial 0: resuming at epoch 4" in output
    epochs = [int(e) for e in _lines(counted)]
    assert len(epochs) <= 7
    assert epochs == [1, 2, 3, 4, 5, 6]  # killed while epoch 3's line was written: none re-run

    (trial,) = json.loads((tmp_path / "p" / "results.json").read_text())["trials"]
    assert trial["status"] == "completed" and trial["epochs"] == 6
    assert [c["epoch"] for c in trial["curve"]] == [1, 2, 3, 4, 5, 6]
    assert trial["curve"][:3] == state["current"]["curve"]  # the epochs before the kill, replayed
    best = max(c["val_accuracy"] for c in trial["curve"])
    assert trial["metrics"]["val_accuracy"] == pytest.approx(best)
    line = next(ln for ln in output.splitlines() if ln.startswith("RESULT "))
    # the checkpoint holds the best epoch, whichever side of the kill it was on
    assert json.loads(line[len("RESULT "):])["best_accuracy"] == pytest.approx(best, abs=1e-4)
    assert not (tmp_path / "p" / "trial_0" / "backup").exists()  # removed when the trial ended


def test_cli_resume_continues_a_killed_trial_at_its_last_finished_epoch(tmp_path, fork_server):
    command = ["search", "--dataset", "digits", "--max-trials", "1",
               "--epochs", "6", "--seed", "2", "--out", "run",
               "--early-stopping", "none"]  # `autokeras-nas ...`: one trial of 6 epochs
    state = tmp_path / "run" / "trial_0" / "backup" / "state.json"

    def backed_up() -> int:
        try:
            return json.loads(state.read_text())["current"]["epoch"]
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    first = fork_server.start(command, cwd=tmp_path, merge_stderr=True)
    assert kill_when(first, lambda: backed_up() >= 2), "the search ended before the kill"
    done = backed_up()
    second = fork_server.start(command + ["--resume"], cwd=tmp_path, merge_stderr=True)
    output = finish(second)
    assert second.returncode == 0, output[-3000:]
    assert "resuming the search" in output
    assert f"trial 0: resuming at epoch {done + 1}" in output
    (trial,) = json.loads((tmp_path / "run" / "results.json").read_text())["trials"]
    assert trial["status"] == "completed" and trial["epochs"] == 6
    assert [c["epoch"] for c in trial["curve"]] == [1, 2, 3, 4, 5, 6]
