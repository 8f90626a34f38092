"""Reports from a search's `results.json` (no TensorFlow): predictor
correlations and the Pareto-front plot. Plots need matplotlib."""

from autokeras_nas.report.pareto import pareto_plot, predictor_correlations

__all__ = ["pareto_plot", "predictor_correlations"]
