"""A long search keeps no graph of a finished trial (bounded memory).

TensorFlow registers every `tf.custom_gradient` traced in a `tf.function`
globally, with a closure that keeps the traced graph alive after
`clear_session` (tensorflow/tensorflow#97697); `NasTuner` drops the
registrations of each finished trial (`autokeras_nas.tuner.graphs`).
"""

import gc

from autokeras_nas.tuner import NasTuner
from autokeras_nas.tuner.graphs import CUSTOM_GRADIENT_PREFIX, GraphRegistrations, _registry


def custom_gradient_keys() -> set[str]:
    return {k for k in _registry() if str(k).startswith(CUSTOM_GRADIENT_PREFIX)}


def live_step_graphs() -> int:
    """Keras' traced train/test/predict steps still alive."""
    from tensorflow.python.framework.func_graph import FuncGraph

    gc.collect()
    return sum(1 for o in gc.get_objects()
               if isinstance(o, FuncGraph) and o.name == "one_step_on_data")


def traced_step():
    """A fresh tf.function whose trace differentiates a custom gradient."""
    import tensorflow as tf

    @tf.custom_gradient
    def double(x):
        return 2.0 * x, lambda dy: 2.0 * dy

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = double(x)
        return tape.gradient(y, x)

    return step


def test_release_drops_only_what_was_registered_since_start() -> None:
    import tensorflow as tf

    assert float(traced_step()(tf.constant(1.0))) == 2.0
    kept = custom_gradient_keys()
    guard = GraphRegistrations()
    guard.start()
    later = traced_step()
    assert float(later(tf.constant(3.0))) == 2.0
    added = custom_gradient_keys() - kept
    assert added  # the TF leak this guards against is still there
    assert guard.release() == len(added)
    assert custom_gradient_keys() == kept
    # A traced function keeps working: its gradient was built when it was traced.
    assert float(later(tf.constant(5.0))) == 2.0
    assert guard.release() == 0  # nothing without a new start


def small_search(directory, digits, build_model, trials: int) -> NasTuner:
    x, y, xv, yv = digits
    tuner = NasTuner(build_model, strategy="random", objective="val_accuracy", max_trials=trials,
                     directory=str(directory), project_name="mem")
    tuner.search(x[:300], y[:300], validation_data=(xv[:100], yv[:100]), epochs=1,
                 batch_size=64, verbose=0)
    assert len(tuner.oracle.trials) == trials
    return tuner


def test_a_search_leaves_no_traced_graph_of_its_trials(tmp_path, digits, build_model) -> None:
    before_keys, before_graphs = custom_gradient_keys(), live_step_graphs()
    small_search(tmp_path, digits, build_model, 4)
    assert custom_gradient_keys() == before_keys
    # Without the release each trial would leave its train and test steps
    # (the negative control below).
    assert live_step_graphs() <= before_graphs


def test_without_the_release_a_search_leaves_the_graphs_of_its_trials(
        tmp_path, digits, build_model, monkeypatch) -> None:
    """The negative control of the test above: with `release` a no-op, each
    trial's registrations stay and keep its traced steps alive. If Keras ever
    stops registering custom gradients, this fails (and the release is moot)."""
    before_keys, before_graphs = custom_gradient_keys(), live_step_graphs()
    cleanup = GraphRegistrations()
    cleanup.start()
    release = GraphRegistrations.release
    monkeypatch.setattr(GraphRegistrations, "release", lambda self: 0)
    small_search(tmp_path, digits, build_model, 2)
    left = custom_gradient_keys() - before_keys
    graphs = live_step_graphs()
    release(cleanup)  # drop them now that they are counted
    assert len(left) >= 2  # at least one per trial
    assert graphs >= before_graphs + 2  # at least a train step per trial


def test_release_is_a_no_op_when_the_registry_moved(monkeypatch) -> None:
    from autokeras_nas.tuner import graphs

    monkeypatch.setattr(graphs, "_registry", lambda: None)
    guard = GraphRegistrations()
    guard.start()
    assert guard.release() == 0


def test_the_search_freezes_older_objects_only_while_it_runs() -> None:
    import gc

    from autokeras_nas.tuner.graphs import collector_skips_older_objects

    assert gc.get_freeze_count() == 0
    with collector_skips_older_objects():
        assert gc.get_freeze_count() > 0  # the collection after a trial skips them
    assert gc.get_freeze_count() == 0  # the user's process is left as it was
    gc.freeze()  # a process that froze objects itself keeps them frozen
    try:
        with collector_skips_older_objects():
            pass
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
