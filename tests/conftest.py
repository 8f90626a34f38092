"""Every test: on CI (CI=true) a skipped test fails the run.

`.ci/run` installs every requirement of the tests (the `test` extra, the
Debian fashion-mnist package), so on CI no test may skip; locally the
optional data may be missing and its tests skip with their reason (`-rs`).

The `fork_server` fixture runs `autokeras-nas` (or a TensorFlow script) in
processes forked from one interpreter that imported TensorFlow once.
"""

from __future__ import annotations

import pytest

from autokeras_nas.testing.ci import NoSkipsOnCI, on_ci


def pytest_configure(config) -> None:
    # In the controlling process only: with xdist it receives every worker's reports.
    if on_ci() and not hasattr(config, "workerinput"):
        config.pluginmanager.register(NoSkipsOnCI(), "no-skips-on-ci")


@pytest.fixture(scope="session")
def fork_server(tmp_path_factory):
    """Runs of `autokeras-nas` (and TensorFlow scripts), each a process forked
    from one interpreter of this test process that imported TensorFlow once
    (`autokeras_nas.testing.forkserver`): 0.1 s to start a run instead of
    TensorFlow's import. Its children share one string-hash seed."""
    from autokeras_nas.testing.forkserver import ForkServer

    with ForkServer(tmp_path_factory.mktemp("fork-server")) as server:
        yield server


@pytest.fixture
def fixed_hp():
    """`fixed_hp(name=value, ...)`: a `keras_tuner.HyperParameters` holding
    each value as a `Fixed` one (the build of one given architecture)."""
    import keras_tuner

    def make(**values):
        hp = keras_tuner.HyperParameters()
        for name, value in values.items():
            hp.Fixed(name, value)
        return hp

    return make
