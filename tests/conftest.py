"""Every test: on CI (CI=true) a skipped test fails the run.

`.ci/run` installs every requirement of the tests (the `test` extra, the
Debian fashion-mnist package), so on CI no test may skip; locally the
optional data may be missing and its tests skip with their reason (`-rs`).
"""

from __future__ import annotations

from autokeras_nas.testing.ci import NoSkipsOnCI, on_ci


def pytest_configure(config) -> None:
    # In the controlling process only: with xdist it receives every worker's reports.
    if on_ci() and not hasattr(config, "workerinput"):
        config.pluginmanager.register(NoSkipsOnCI(), "no-skips-on-ci")
