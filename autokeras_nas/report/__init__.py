"""Reports from a search's `results.json` (no TensorFlow): predictor
correlations, the Pareto-front plot, the search trajectory, the trials'
lineage, the one-shot view (supernet curve, estimated against retrained),
and `write_plots`, which writes the plots a search calls for.
Plots need matplotlib; they never touch pyplot's backend.

`autokeras_nas.report.analysis` gives the data of the dashboard's views as
JSON (`analysis.importance(results)`, ...); it is imported here as a module,
not name by name, since its `best_so_far` and `lineage` are not the ones
above."""

from autokeras_nas.report import analysis
from autokeras_nas.report.lineage import chain, has_lineage, lineage_plot
from autokeras_nas.report.oneshot import (
    format_oneshot,
    is_oneshot,
    oneshot_plot,
    oneshot_summary,
    rank_correlations,
)
from autokeras_nas.report.pareto import pareto_plot, predictor_correlations
from autokeras_nas.report.plots import (
    best_so_far,
    pareto_axes,
    prediction_pairs,
    prediction_points,
    predictions_plot,
    progress_plot,
    trajectory,
    write_plots,
)

__all__ = [
    "analysis", "best_so_far", "chain", "format_oneshot", "has_lineage", "is_oneshot",
    "lineage_plot", "oneshot_plot", "oneshot_summary", "pareto_axes", "pareto_plot",
    "prediction_pairs", "prediction_points", "predictions_plot", "predictor_correlations",
    "progress_plot", "rank_correlations", "trajectory", "write_plots",
]
