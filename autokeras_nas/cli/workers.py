"""`autokeras-nas search --workers N`: the same search as a chief and N workers.

The parent process imports no TensorFlow: it re-runs the command it was
given (without `--workers`, resuming what is in `--out`) as KerasTuner's
chief and N workers on loopback (`autokeras_nas.launch.run_parallel`),
echoes their output prefixed `[chief]`, `[tuner0]`, ... (also written to
`--out/logs/<id>.log`), and waits. The chief serves the oracle, then prints
the leaderboard and exports the best model as a one-process search does;
the workers train. Their GPUs, if any, are split among them.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import click

from autokeras_nas.launch import ParallelError, auto_workers, is_chief, is_worker, run_parallel

__all__ = ["WorkersType", "child_args", "is_parallel_child", "is_worker", "resolve_workers",
           "run_search_in_parallel"]

#: Options of the parent only, never passed on to the chief and workers.
PARENT_ONLY = ("workers", "oracle_host", "overwrite")
LOG_DIRNAME = "logs"


class WorkersType(click.ParamType):
    """`--workers`: a number of worker processes (0: one process) or "auto"."""

    name = "workers"

    def convert(self, value: Any, param: Any, ctx: Any) -> int | str:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif str(value).strip().lower() == "auto":
            return "auto"
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is neither a number of workers nor 'auto'", param, ctx)
        if number < 0:
            self.fail(f"{value!r} is negative: 0 means one process", param, ctx)
        return number


def resolve_workers(value: int | str) -> int:
    """The number of workers of `--workers` (auto: `launch.auto_workers`);
    0 in a chief or worker, which runs the search itself."""
    if is_parallel_child():
        return 0
    if value == "auto":
        workers = auto_workers()
        if not workers:
            click.echo("--workers auto: one process (one core, or one GPU)")
        return workers
    return int(value)


def is_parallel_child() -> bool:
    """Whether this process is a chief or a worker of a parallel search."""
    return is_chief() or is_worker()


def child_args(ctx: click.Context, drop: tuple[str, ...] = PARENT_ONLY) -> list[str]:
    """The command line of the current command rebuilt from its parsed
    values, without the options in `drop`."""
    out: list[str] = []
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name in drop:
            continue
        value = ctx.params.get(param.name)
        if value is None:  # not given, no default (e.g. --stream/--no-stream: decided later)
            continue
        if param.is_flag and param.secondary_opts:
            out.append(param.opts[0] if value else param.secondary_opts[0])
        elif param.is_flag:
            if value:
                out.append(param.opts[0])
        elif param.multiple:
            for item in value:
                out += [param.opts[0], str(item)]
        else:
            out += [param.opts[0], str(value)]
    return out


def run_search_in_parallel(ctx: click.Context, out_dir: Path, workers: int, host: str,
                           overwrite: bool) -> None:
    """Runs the search command in `ctx` as a chief and `workers` workers."""
    if overwrite and out_dir.exists():
        shutil.rmtree(out_dir)  # checked before: it holds a search
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "autokeras_nas.cli", ctx.info_name or "search",
               *child_args(ctx), "--resume"]
    logs = out_dir / LOG_DIRNAME
    click.echo(f"a chief and {workers} worker(s) on {host}; logs in {logs}")
    try:
        result = run_parallel(command, workers=workers, log_dir=logs, host=host,
                              echo=_echo)
    except ParallelError as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        click.echo("\ninterrupted; rerun the same command to resume", err=True)
        raise SystemExit(130) from None
    if result.failed_workers:
        click.echo(f"worker(s) {', '.join(result.failed_workers)} exited early; their "
                   f"trials were re-run by the others (see {logs})")
    click.echo(f"parallel search done in {result.wall_s:.1f}s")


def _echo(line: str, **_: Any) -> None:
    click.echo(line)
