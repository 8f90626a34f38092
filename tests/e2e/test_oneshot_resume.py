"""A one-shot search killed with SIGKILL while its supernet trains: the
resumed search continues the supernet at its last finished epoch and then
proposes exactly the architectures an uninterrupted search proposes, with
the same estimates, bit for bit (under TensorFlow's op determinism: the
backup keeps the supernet's path-sampling generators, ENAS's controller and
where its reward batches were). Each run is a process forked from an
interpreter that imported TensorFlow once; the resume runs in another
interpreter than the killed search, as after a real crash (another
string-hash seed)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from autokeras_nas.testing.forkserver import ForkServer
from autokeras_nas.testing.processes import finish, kill_when

pytestmark = pytest.mark.tf

#: A one-shot search (the tuner class is the third argument) of a digits space
#: of 18 architectures: a supernet of 4 epochs
#: (each epoch's end sleeps, so that the test can kill it between two), 4
#: estimates (SPOS: a population of 2 random cells, then 2 children, which
#: follow the estimates) and 1 retrain of 1 epoch. ENAS' controller takes 10 steps per
#: epoch (not its default 50, which were a third of each run), each on the
#: next of the 9 validation batches of 64: a resumed epoch e starts at batch
#: 10 * e mod 9 = e, not at 0 where a restarted iterator would.
SCRIPT = textwrap.dedent('''
    import sys, time
    import keras
    import tensorflow as tf
    keras.utils.set_random_seed(1)
    tf.config.experimental.enable_op_determinism()
    from sklearn.datasets import load_digits
    import autokeras_nas
    from autokeras_nas.oneshot import choose

    directory, overwrite = sys.argv[1], sys.argv[2] == "overwrite"
    x, y = load_digits(return_X_y=True)
    x, y = (x / 16.0).astype("float32"), y.astype("int32")

    def build_model(hp):
        inputs = keras.Input((64,))
        h = keras.layers.Dense(32, activation="relu")(inputs)
        h = choose(hp, "first", {
            "wide": lambda: keras.layers.Dense(32, activation="relu"),
            "tanh": lambda: keras.layers.Dense(32, activation="tanh"),
            "skip": lambda: keras.layers.Identity()})(h)
        h = choose(hp, "second", {
            "relu": lambda: keras.layers.Dense(32, activation="relu"),
            "zero": lambda: keras.layers.Rescaling(0.0)})(h)
        h = choose(hp, "third", {
            "relu": lambda: keras.layers.Dense(32, activation="relu"),
            "tanh": lambda: keras.layers.Dense(32, activation="tanh"),
            "skip": lambda: keras.layers.Identity()})(h)
        model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))
        model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    class Slow(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            time.sleep(0.3)

    extra = {"ENAS": {"controller_steps": 10}}.get(sys.argv[3], {})
    tuner = getattr(autokeras_nas, sys.argv[3])(build_model, objective="val_accuracy", seed=3,
                                   supernet_epochs=4, candidates=4, top_k=1, retrain_epochs=1,
                                   directory=directory, project_name="p", overwrite=overwrite,
                                   **extra)
    tuner.search(x[:1200], y[:1200], validation_data=(x[1200:], y[1200:]), batch_size=64,
                 callbacks=[Slow()], verbose=0)
''')


@pytest.fixture(scope="module")
def resume_server(tmp_path_factory):
    """A second fork server: the resumed runs start from another interpreter."""
    with ForkServer(tmp_path_factory.mktemp("resume-server")) as server:
        yield server


def _trials(directory: Path) -> list[dict]:
    return json.loads((directory / "p" / "results.json").read_text())["trials"]


def _backup(directory: Path) -> dict:
    """The supernet trial's in-trial backup state."""
    return json.loads((directory / "p" / "trial_0000" / "backup" / "state.json").read_text())


def _supernet_epoch(directory: Path) -> int:
    """The supernet trial's last backed-up epoch (0 before its first)."""
    try:
        return _backup(directory)["current"]["epoch"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0


# SPOS' proposals follow its estimates (its evolution ranks by them), ENAS's
# follow its controller, trained on reward batches after every epoch, DARTS'
# its logits, trained on validation batches; random-ws trains SPOS' supernet
# and proposes at random.
@pytest.mark.parametrize("tuner", ["SPOS", "ENAS", "DARTS"])
def test_a_supernet_killed_mid_training_resumes_at_its_epoch_and_the_search_ends_alike(
        tmp_path: Path, tuner: str, fork_server: ForkServer,
        resume_server: ForkServer) -> None:
    def spawn(server: ForkServer, *args: str):
        return server.start(list(args), script=SCRIPT, cwd=tmp_path, merge_stderr=True)

    killed, straight = tmp_path / "killed", tmp_path / "straight"
    first = spawn(fork_server, str(killed), "overwrite", tuner)
    assert kill_when(first, lambda: _supernet_epoch(killed) >= 2), "it ended before the kill"
    done = _supernet_epoch(killed)
    before_kill = _backup(killed)["current"]["curve"]
    assert 2 <= done < 4
    assert [(t["trial_id"], t["status"]) for t in _trials(killed)] == [("0000", "running")]

    second = spawn(resume_server, str(killed), "resume", tuner)
    output = finish(second)
    assert second.returncode == 0, output[-3000:]
    assert f"trial 0000: resuming at epoch {done + 1}" in output

    third = spawn(fork_server, str(straight), "overwrite", tuner)
    output = finish(third)
    assert third.returncode == 0, output[-3000:]

    resumed, uninterrupted = _trials(killed), _trials(straight)
    assert all(t["status"] == "completed" for t in resumed)
    supernet = resumed[0]
    assert supernet["task"] == {"ENAS": "enas", "DARTS": "differentiable"}.get(tuner, "supernet")
    # Continued where it was killed: 4 epochs in all, none of them twice.
    assert [c["epoch"] for c in supernet["curve"]] == [1, 2, 3, 4]
    assert supernet["metrics"]["epochs"] == 4
    assert supernet["curve"][:done] == before_kill

    def proposals(trials: list[dict]) -> list[tuple[str, str, float]]:
        return [(t["notes"]["phase"], json.dumps(t["values"], sort_keys=True),
                 t["metrics"]["val_accuracy"]) for t in trials if t["notes"]["phase"] == "search"]

    assert len(proposals(resumed)) == {"SPOS": 4, "ENAS": 4, "DARTS": 4}[tuner]
    # The same architectures in the same order, with the same estimates.
    assert proposals(resumed) == proposals(uninterrupted)
    assert [t["notes"]["phase"] for t in resumed] == [t["notes"]["phase"] for t in uninterrupted]
    assert supernet["curve"] == uninterrupted[0]["curve"]
    assert resumed[-1]["values"] == uninterrupted[-1]["values"]
    if tuner != "DARTS":  # retrained from the supernet's weights
        assert resumed[-1]["metrics"]["val_accuracy"] == \
            uninterrupted[-1]["metrics"]["val_accuracy"]
    # DARTS retrains from scratch, from initial weights drawn from the process's global
    # generator, which a restarted process has drawn less from.
