"""No silent skips on CI.

CI sets `CI=true` (`on_ci()`). There, a requirement the tests need is
installed by `.ci/run`, so a skipped test means a broken environment, not
an optional extra: `NoSkipsOnCI` is a pytest plugin that collects every
skipped test or module and turns a passing run into a failing one (exit
status 1) with the list of what was skipped and why. `tests/conftest.py`
registers it in the controlling process (with xdist, the workers' reports
reach it), never in an xdist worker.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

#: The environment variable CI services set to "true".
CI_ENV = "CI"
#: pytest's exit statuses: all passed, some failed, none collected (all
#: skipped at collection).
OK, TESTS_FAILED, NO_TESTS_COLLECTED = 0, 1, 5


def on_ci(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this runs on CI (`CI=true`, any case)."""
    env = os.environ if environ is None else environ
    return env.get(CI_ENV, "").strip().lower() == "true"


def _reason(report: Any) -> str:
    """The skip reason of a pytest report (its longrepr is (path, line, reason))."""
    longrepr = report.longrepr
    if isinstance(longrepr, (tuple, list)) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


class NoSkipsOnCI:
    """A pytest plugin: any skip fails the run, listed in the summary."""

    def __init__(self) -> None:
        #: (node id, reason) of every skipped test or collected module.
        self.skipped: list[tuple[str, str]] = []

    def pytest_runtest_logreport(self, report: Any) -> None:
        """Records a skipped test (an expected failure, xfail, is not a skip)."""
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skipped.append((report.nodeid, _reason(report)))

    def pytest_collectreport(self, report: Any) -> None:
        """Records a module skipped as a whole (e.g. `pytest.importorskip`)."""
        if report.skipped:
            self.skipped.append((report.nodeid, _reason(report)))

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        """Makes a run that would pass (or collect nothing but skips) fail
        when something was skipped."""
        if self.skipped and session.exitstatus in (OK, NO_TESTS_COLLECTED):
            session.exitstatus = TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Lists the skipped tests and why the run failed."""
        if not self.skipped:
            return
        terminalreporter.section("skipped on CI (CI=true): the run fails", sep="=", red=True)
        for nodeid, reason in self.skipped:
            terminalreporter.line(f"SKIPPED {nodeid}: {reason}")
        terminalreporter.line(f"{len(self.skipped)} skipped; on CI every requirement of the "
                              "tests is installed (.ci/run), so no test may skip")
