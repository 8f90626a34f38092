"""What `autokeras-nas search` shows while it runs.

* `ProgressPrinter`: one plain line per trial start and end (and per epoch
  with `-v`), for pipes, CI and logs.
* `LiveDisplay`: on a terminal, a live view (rich): trials done out of
  `--max-trials`, elapsed time out of `--time-budget`, the running trial's
  epochs (and fold, under k-fold validation, named in the header), and the
  running top 5 of the leaderboard (read from results.json
  after every trial, so it ranks as the final leaderboard does, Pareto order
  included). Finished trials leave their plain line above the view.

`--progress auto` (the default) picks the live view when stdout is a
terminal, plain lines otherwise. Both take the tuner's progress events (see
`autokeras_nas.tuner.NasTuner`). rich is imported only by `LiveDisplay`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import click

from autokeras_nas.cli.leaderboard import format_metric, format_values

Echo = Callable[[str], None]
MODES = ("auto", "live", "plain")
#: Rows of the live leaderboard.
LIVE_TOP = 5


def format_duration(seconds: float) -> str:
    """`75.2` -> `1:15`, `3725` -> `1:02:05`."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def trial_end_line(event: Mapping[str, Any], objectives: Sequence[str],
                   seconds: float | None) -> str:
    """`trial 3: completed  val_accuracy=0.9123  4.2s  [reason]`."""
    status = str(event.get("status", "")).lower()
    metrics = event.get("metrics") or {}
    parts = [f"{name}={format_metric(metrics.get(name))}" for name in objectives]
    if seconds is not None:
        parts.append(f"{seconds:.1f}s")
    if metrics.get("stopped_by_budget"):
        parts.append("stopped by the time budget")
    message = str(event.get("message") or "").strip().splitlines()
    if message:
        parts.append(message[-1][:200])
    return f"trial {event['trial_id']}: {status}  {'  '.join(parts)}"


class ProgressPrinter:
    """Turns the tuner's progress events into one short line each.

    Args:
        objectives: Metric names shown at the end of a trial.
        verbose: Also print a line per epoch.
        echo: Where lines go (default `click.echo`).
    """

    def __init__(self, objectives: Sequence[str], verbose: bool = False,
                 echo: Echo | None = None) -> None:
        self.objectives = list(objectives)
        self.verbose = verbose
        self.echo = echo or click.echo
        self.started: dict[str, float] = {}

    def __call__(self, event: Mapping[str, Any]) -> None:
        handler = getattr(self, f"_on_{event.get('event')}", None)
        if handler is not None:
            handler(event)

    def __enter__(self) -> "ProgressPrinter":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def _on_trial_begin(self, event: Mapping[str, Any]) -> None:
        self.started[str(event["trial_id"])] = time.perf_counter()
        self.echo(f"trial {event['trial_id']}: start  {format_values(event.get('values') or {})}")

    def _on_epoch_end(self, event: Mapping[str, Any]) -> None:
        if self.verbose:
            logs = event.get("logs") or {}
            shown = " ".join(f"{k}={format_metric(v)}" for k, v in logs.items())
            fold = f"fold {event['fold']}/{event['folds']} " if "fold" in event else ""
            self.echo(f"trial {event['trial_id']}: {fold}epoch {event['epoch']}  {shown}")

    def _on_trial_end(self, event: Mapping[str, Any]) -> None:
        started = self.started.pop(str(event["trial_id"]), None)
        seconds = None if started is None else time.perf_counter() - started
        self.echo(trial_end_line(event, self.objectives, seconds))


def choose_mode(mode: str, stream: Any = None) -> str:
    """`live` or `plain`: `auto` is live on a terminal (not TERM=dumb)."""
    if mode != "auto":
        return mode
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    terminal = bool(isatty and isatty()) and os.environ.get("TERM", "") != "dumb"
    return "live" if terminal else "plain"


class LiveDisplay:
    """A live view of the search on a terminal (rich).

    Args:
        objectives: Objective names (the first ranks the running trial).
        out_dir: The search directory (its results.json feeds the leaderboard).
        max_trials: `--max-trials` (None: no limit).
        epochs: Epochs per trial unless the strategy sets them.
        budget_s: `--time-budget` in seconds, or None.
        console: A `rich.console.Console` (default: stdout's).
        top: Leaderboard rows.
        validation: Shown in the header when trials are cross-validated
            (e.g. `5-fold`); None: a validation split.
    """

    def __init__(self, objectives: Sequence[str], out_dir: Path, *, max_trials: int | None,
                 epochs: int, budget_s: float | None = None, console: Any = None,
                 top: int = LIVE_TOP, validation: str | None = None) -> None:
        from rich.console import Console

        self.objectives = list(objectives)
        self.out_dir = Path(out_dir)
        self.max_trials, self.epochs, self.budget_s, self.top = max_trials, epochs, budget_s, top
        self.console = console or Console()
        self.validation = validation
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._trial: dict[str, Any] | None = None
        self._counts = {"completed": 0, "stopped": 0, "failed": 0}
        self._rows: list[list[str]] = []
        self._live: Any = None

    # -- events ---------------------------------------------------------------
    def __call__(self, event: Mapping[str, Any]) -> None:
        kind = event.get("event")
        with self._lock:
            if kind == "trial_begin":
                self._begin(event)
            elif kind == "epoch_end" and self._trial is not None:
                self._trial.update(epoch=int(event.get("epoch", 0)),
                                   logs=dict(event.get("logs") or {}),
                                   fold=event.get("fold"), folds=event.get("folds"))
        if kind == "trial_end":
            self._end(event)
        if self._live is not None:
            self._live.refresh()

    def _begin(self, event: Mapping[str, Any]) -> None:
        values = dict(event.get("values") or {})
        epochs = int(values.get("nas/epochs", self.epochs)) - int(values.get("nas/initial_epoch", 0))
        self._trial = {"id": str(event["trial_id"]), "values": format_values(values),
                       "epoch": 0, "epochs": max(1, epochs), "logs": {}, "t0": time.monotonic(),
                       "fold": None, "folds": None}

    def _end(self, event: Mapping[str, Any]) -> None:
        with self._lock:
            trial, self._trial = self._trial, None
            status = str(event.get("status", "")).lower()
            self._counts[status if status in self._counts else "failed"] += 1
        seconds = None if trial is None else time.monotonic() - trial["t0"]
        self.console.print(trial_end_line(event, self.objectives, seconds),
                           markup=False, highlight=False)
        rows = self._leaderboard_rows()
        with self._lock:
            self._rows = rows

    def _leaderboard_rows(self) -> list[list[str]]:
        from autokeras_nas.cli.leaderboard import ordered_trials
        from autokeras_nas.results import ResultsError, read_results

        try:
            results = read_results(str(self.out_dir))
        except ResultsError:
            return []
        rows = []
        for rank, trial in ordered_trials(results)[: self.top]:
            metrics = trial.get("metrics") or {}
            rows.append(["-" if rank is None else str(rank), str(trial["trial_id"]),
                         str(trial.get("status", "")),
                         *[format_metric(metrics.get(n)) for n in self.objectives],
                         format_metric(metrics.get("train_time_s"), "{:.1f}"),
                         format_values(trial.get("values") or {})])
        return rows

    # -- rendering ------------------------------------------------------------
    def render(self) -> Any:
        """The current view (a rich renderable)."""
        from rich.console import Group

        with self._lock:
            parts = [self._header(), *self._running(), self._table()]
        return Group(*parts)

    def _header(self) -> Any:
        from rich.text import Text

        done = sum(self._counts.values())
        total = "no limit" if self.max_trials is None else str(self.max_trials)
        elapsed = time.monotonic() - self.started
        clock = format_duration(elapsed)
        if self.budget_s is not None:
            clock += f" / {format_duration(self.budget_s)}"
        counts = ", ".join(f"{n} {k}" for k, n in self._counts.items() if n)
        text = Text(f"trials {done}/{total}   elapsed {clock}", style="bold")
        if counts:
            text.append(f"   ({counts})")
        if self.validation:
            text.append(f"   validation: {self.validation} cross-validation, "
                        f"{', '.join(self.objectives)} = mean over folds")
        text.append(f"\nfiles: {self.out_dir} (results.json, trial_*/)", style="dim")
        return text

    def _running(self) -> list[Any]:
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        grid = Table.grid(padding=(0, 1))
        if self.budget_s is not None:
            elapsed = min(time.monotonic() - self.started, self.budget_s)
            grid.add_row("budget ", ProgressBar(total=self.budget_s, completed=elapsed, width=30),
                         f"{100 * elapsed / self.budget_s:.0f}%")
        trial = self._trial
        if trial is not None:
            shown = "  ".join(f"{n}={format_metric(trial['logs'].get(n))}"
                              for n in self.objectives if n in trial["logs"])
            total, completed, where = trial["epochs"], trial["epoch"], ""
            if trial["folds"]:  # k-fold: every fold trains all the epochs
                total *= int(trial["folds"])
                completed += (int(trial["fold"]) - 1) * trial["epochs"]
                where = f"fold {trial['fold']}/{trial['folds']} "
            grid.add_row(f"trial {trial['id']}",
                         ProgressBar(total=total, completed=completed, width=30),
                         f"{where}epoch {trial['epoch']}/{trial['epochs']}  {shown}".rstrip())
            grid.add_row("", "", trial["values"][:100])
        return [grid]

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title=f"top {self.top}", title_justify="left", expand=True)
        for column in ("rank", "trial", "status", *self.objectives, "train_time_s"):
            table.add_column(column, no_wrap=True, min_width=len(column))
        # The only column that shrinks (and takes what is left) on a narrow terminal.
        table.add_column("hyperparameters", overflow="ellipsis", no_wrap=True, ratio=1)
        for row in self._rows:
            table.add_row(*row)
        return table

    # -- context ----------------------------------------------------------------
    def __enter__(self) -> "LiveDisplay":
        from rich.live import Live

        self.started = time.monotonic()
        self._live = Live(get_renderable=self.render, console=self.console,
                          refresh_per_second=2, transient=True)
        self._live.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def make_progress(mode: str, *, objectives: Sequence[str], verbose: bool, out_dir: Path,
                  max_trials: int | None, epochs: int, budget_s: float | None,
                  validation: str | None = None) -> Any:
    """The display for `--progress MODE`: a context manager and event callable
    (`validation`: e.g. `5-fold` under k-fold, shown by the live view)."""
    if choose_mode(mode) == "live":
        return LiveDisplay(objectives, out_dir, max_trials=max_trials, epochs=epochs,
                           budget_s=budget_s, validation=validation)
    return ProgressPrinter(objectives, verbose)
