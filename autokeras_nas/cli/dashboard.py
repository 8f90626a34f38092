"""`autokeras-nas dashboard DIR [DIR ...]`: a live web page of searches.

Serves `autokeras_nas.dashboard` (Starlette and uvicorn, the `dashboard`
extra, imported when the command runs: `--help` needs neither) on
127.0.0.1 unless `--host` says otherwise; a non-loopback host needs a
token (`--token`, or one generated and printed). TensorFlow is never
imported.
"""

from __future__ import annotations

from pathlib import Path

import click

from autokeras_nas.cli.errors import fail


@click.command()
@click.argument("directories", nargs=-1, required=True, metavar="DIR [DIR ...]",
                type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback requires a token.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: a free one, printed).")
@click.option("--allow-edit", is_flag=True,
              help="Let the page steer the searches: exclude or pin hyperparameter values "
                   "(written to DIR/steering.json, honoured from the next proposal).")
@click.option("--token", default=None, metavar="T",
              help="Require T from every request (?token=T once, then a cookie). "
                   "[default: none on loopback, else a generated one, printed]")
def dashboard(directories: tuple[Path, ...], host: str, port: int, allow_edit: bool,
              token: str | None) -> None:
    """Serve a live web page of the searches in DIR, to watch and steer them.

    A DIR holding no results.json adds its subdirectories that hold one.
    The page shows the leaderboard, each trial (learning curves,
    architecture, notes), the best value so far against trials and time,
    the Pareto front of any two metrics, the hyperparameters against the
    objective and their importance, the architecture space, and the
    one-shot and lineage views where they apply; new trials appear as the
    searches write them. Read-only unless --allow-edit.
    """
    from autokeras_nas.dashboard.data import DashboardError, discover

    try:
        discover(directories)  # bad directories fail before the server is imported
        from autokeras_nas.dashboard import server
    except DashboardError as e:
        fail(str(e))
    except ImportError as e:
        fail(str(e))
    try:
        server.serve(directories, host=host, port=port, allow_edit=allow_edit, token=token,
                     echo=click.echo)
    except DashboardError as e:
        fail(str(e))
    except KeyboardInterrupt:
        pass
