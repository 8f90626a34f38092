"""Trial tasks on tiny real models: the "evaluate" trainer, failures of a
task with their one-line reason, and trainers given to the tuner."""

import json
import os

import keras
import keras_tuner
import numpy as np
import pytest

from autokeras_nas.testing.driver import ScriptedStrategy
from autokeras_nas.tuner import NasTuner, Trainer, TrialResult
from autokeras_nas.tuner.trainers import recalibrate_batch_norm

pytestmark = pytest.mark.tf




def _build(hp):
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(hp.Choice("units", [24, 32]), activation="relu", name="hidden"),
        keras.layers.BatchNormalization(name="norm"),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _search(script, tmp_path, digits, validation=True, objective="val_accuracy", **kwargs):
    tuner = NasTuner(_build, strategy=ScriptedStrategy(script, seed=0), objective=objective,
                     max_trials=len(script), max_consecutive_failed_trials=len(script) + 1,
                     directory=str(tmp_path), project_name="p", **kwargs)
    x, y, xv, yv = digits
    extra = {"validation_data": (xv, yv)} if validation else {}
    tuner.search(x, y, epochs=2, batch_size=64, verbose=0, **extra)
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        return tuner, json.load(f)["trials"]


def test_evaluate_scores_the_parents_weights_with_zero_epochs(tmp_path, digits):
    tuner, (parent, child, recalibrated) = _search([
        {},
        {"parent_id": "0", "task": "evaluate"},
        {"parent_id": "0", "task": "evaluate", "task_config": {"recalibrate_batches": 4}},
    ], tmp_path, digits)
    assert [t["status"] for t in (parent, child, recalibrated)] == ["completed"] * 3
    m = child["metrics"]
    # the same architecture with the parent's best weights: the parent's best epoch
    assert m["val_accuracy"] == pytest.approx(parent["metrics"]["val_accuracy"], abs=1e-4)
    assert m["val_loss"] == pytest.approx(parent["metrics"]["val_loss"], rel=1e-4)
    assert m["epochs"] == 0 and m["train_time_s"] == 0 and child["curve"] == []
    assert m["inherited_layers"] == 3 and m["params"] == parent["metrics"]["params"]
    assert m["latency_ms"] > 0 and m["eval_time_s"] > 0
    assert "loss" not in m  # nothing was trained
    assert child["outputs"] == {} and recalibrated["outputs"] == {"recalibrated_batches": 4}
    x, y, xv, yv = digits
    load = lambda t: tuner.load_model(tuner.oracle.get_trial(t["trial_id"]))
    evaluated = load(child)
    assert evaluated.evaluate(xv, yv, verbose=0)[1] == pytest.approx(m["val_accuracy"], abs=1e-4)
    # Recalibrated: the batch-norm means are those of the first 4 training batches of 64.
    hidden = load(parent).get_layer("hidden")
    means = np.mean([hidden(x[i * 64:(i + 1) * 64]).numpy().mean(0) for i in range(4)], axis=0)
    norm = load(recalibrated).get_layer("norm")
    assert np.allclose(norm.moving_mean.numpy(), means, atol=1e-5)
    assert not np.allclose(evaluated.get_layer("norm").moving_mean.numpy(), means, atol=1e-5)


def test_a_task_that_cannot_run_fails_with_a_one_line_reason(tmp_path, digits):
    _, trials = _search([
        {"task": "evaluate"},
        {"parent_id": "7", "task": "evaluate"},
        {"task": "no-such-task"},
        {"parent_id": "0", "task": "evaluate", "task_config": {"recalibrate_batches": -1}},
    ], tmp_path, digits)
    assert [t["status"] for t in trials] == ["failed"] * 4
    messages = [t["message"] for t in trials]
    assert messages[0] == "evaluate needs a parent trial (nas/parent) to inherit weights from"
    assert messages[1].startswith("cannot load the parent trial 7: KeyError")
    assert messages[2].startswith("unknown trainer 'no-such-task' (nas/task); installed "
                                  "trainers: ") and "evaluate" in messages[2]
    assert messages[3] == "recalibrate_batches must be an int >= 0, got -1"
    assert all("\n" not in m for m in messages)


def test_evaluate_without_validation_data_fails_with_its_reason(tmp_path, digits):
    _, (trained, evaluated) = _search([{}, {"parent_id": "0", "task": "evaluate"}], tmp_path,
                                      digits, validation=False, objective="loss:min")
    assert trained["status"] == "completed"
    assert evaluated["status"] == "failed"
    assert evaluated["message"] == "evaluate needs validation data: pass validation_data to search()"


class _Probe(Trainer):
    """Returns a fixed score and whatever outputs it was made with."""

    def __init__(self, outputs):
        self.outputs = outputs

    def run(self, context):
        model = context.build_model()
        context.save_checkpoint(model)
        return TrialResult({"val_accuracy": 0.5, "n": len(context.config)}, self.outputs)


def test_trainers_given_to_the_tuner_run_their_task_and_outputs_must_be_json(tmp_path, digits):
    tuner, (good, bad) = _search(
        [{"task": "probe", "task_config": {"a": 1}}, {"task": "bad"}], tmp_path, digits,
        trainers={"probe": _Probe({"probabilities": [[0.25, 0.75]]}), "bad": _Probe({"x": {1, 2}})})
    assert good["status"] == "completed"
    assert good["metrics"]["n"] == 1 and good["outputs"] == {"probabilities": [[0.25, 0.75]]}
    assert tuner.oracle.strategy.history[0].outputs == good["outputs"]
    assert bad["status"] == "failed"
    assert bad["message"].startswith("trainer 'bad' returned bad outputs: outputs must be JSON")
    with pytest.raises(ValueError, match="trainers must map task names to Trainer instances"):
        NasTuner(_build, strategy="random", trainers={"probe": object()},
                 directory=str(tmp_path), project_name="q")


class _Score(Trainer):
    """A third party's task that makes no model: a score, no objective."""

    makes_model = False

    def run(self, context):
        return TrialResult({"my_score": 3.0})


class _ScoreClaimingAModel(_Score):
    makes_model = True


def test_a_third_party_task_that_makes_no_model_may_end_without_the_objective(tmp_path, digits):
    tuner, (score, trained) = _search([{"task": "mine"}, {}], tmp_path, digits,
                                      trainers={"mine": _Score()})
    assert score["status"] == "completed" and score["metrics"]["my_score"] == 3.0
    assert tuner.task_makes_model("mine") is False and tuner.task_makes_model(None) is True
    assert tuner.task_makes_model("score") is False and tuner.task_makes_model("nope") is True
    # never the search's answer, though its worst score is no worse than a failure's
    assert [t.trial_id for t in tuner.oracle.get_best_trials(2)] == [trained["trial_id"]]
    # the same trainer saying it makes a model must report the objective
    _, (claimed, _) = _search([{"task": "mine"}, {}], tmp_path / "b", digits,
                              trainers={"mine": _ScoreClaimingAModel()})
    assert claimed["status"] == "failed" and "objective ['val_accuracy'] not among" in \
        claimed["message"]


def test_recalibration_sets_batch_norm_statistics_to_the_average_of_the_batches():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, name="d"),
                              keras.layers.BatchNormalization(momentum=0.9, name="bn")])
    rng = np.random.default_rng(0)
    batches = [rng.normal(loc=i, scale=1 + i, size=(16, 3)).astype("float32") for i in range(4)]
    assert recalibrate_batch_norm(model, iter(batches)) == 4
    inputs = [model.get_layer("d")(b).numpy() for b in batches]
    norm = model.get_layer("bn")
    assert np.allclose(norm.moving_mean.numpy(), np.mean([h.mean(0) for h in inputs], 0), atol=1e-4)
    assert np.allclose(norm.moving_variance.numpy(), np.mean([h.var(0) for h in inputs], 0),
                       rtol=1e-3)
    assert norm.momentum == 0.9


class _Interrupt(keras.callbacks.Callback):
    """Counts epochs per execution; raises KeyboardInterrupt (as Ctrl-C would)
    after epoch `at` of the `execution`-th fit it sees (0-based; -1: never)."""

    def __init__(self, log, execution, at):
        super().__init__()
        self.log, self.execution, self.at = log, execution, at

    def on_train_begin(self, logs=None):
        self.log.append([])

    def on_epoch_end(self, epoch, logs=None):
        self.log[-1].append(epoch + 1)
        if len(self.log) == self.execution + 1 and epoch + 1 == self.at:
            raise KeyboardInterrupt


def test_an_interrupted_trial_resumes_inside_its_second_execution(tmp_path, digits):
    runs = []

    def tuner(interrupt, overwrite):
        class Model(keras_tuner.HyperModel):
            def build(self, hp):
                return _build(hp)

            def fit(self, hp, model, *args, callbacks=(), **kwargs):
                return model.fit(*args, callbacks=list(callbacks) + [interrupt], **kwargs)

        return NasTuner(Model(), strategy="random", objective="val_accuracy", max_trials=1,
                        executions_per_trial=2, early_stopping="asha-stop", overwrite=overwrite,
                        directory=str(tmp_path), project_name="p")

    x, y, xv, yv = digits
    fit = dict(validation_data=(xv, yv), epochs=3, batch_size=64, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        tuner(_Interrupt(runs, execution=1, at=2), overwrite=True).search(x, y, **fit)
    assert runs == [[1, 2, 3], [1, 2]]
    resumed = tuner(_Interrupt(runs, execution=-1, at=0), overwrite=False)
    resumed.search(x, y, **fit)
    assert runs == [[1, 2, 3], [1, 2], [3]]  # execution 0 kept, execution 1 from epoch 3
    with open(os.path.join(resumed.project_dir, "results.json")) as f:
        (trial,) = json.load(f)["trials"]
    assert trial["status"] == "completed" and trial["metrics"]["epochs"] == 3
    assert [c["epoch"] for c in trial["curve"]] == [1, 2, 3]
    # The rung values of the reloaded stopping rule are those of the curve (epoch 1 replayed).
    rungs = resumed.oracle.stopping.state_dict()["rungs"]
    assert rungs["1"]["0"] == trial["curve"][0]["val_accuracy"]
    assert rungs["3"]["0"] == trial["curve"][2]["val_accuracy"]
    assert not os.path.exists(os.path.join(resumed.project_dir, "trial_0", "backup"))
