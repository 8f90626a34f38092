"""Matplotlib figures made without pyplot, shared by the report's plots.

The lowest module of `autokeras_nas.report`: `plots`, `pareto` and
`lineage` import it, and it imports none of them.
"""

from __future__ import annotations

from typing import Any


def subplots(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """A matplotlib `Figure` and its axes, made without pyplot: nothing is
    registered with pyplot or a GUI backend, so callers just `savefig` and
    drop the figure (and a notebook's `%matplotlib` backend is untouched).

    `figsize`, `dpi` go to the Figure; the rest (`squeeze`, `gridspec_kw`, ...)
    to `Figure.subplots`.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=kwargs.pop("figsize", None), dpi=kwargs.pop("dpi", None))
    return fig, fig.subplots(nrows, ncols, **kwargs)
