"""Output warpings: the objective values a generic-mode model is fitted on.

A Gaussian process fitted on raw values of a loss that spans orders of
magnitude sees only its largest values: once they are standardised, every
good configuration sits near the same value and the model cannot rank them.
A warping is a monotone map of the observed values (larger stays better)
that takes their scale away.

* `"rank"`: the Gaussian copula (Salinas et al. 2020): the i-th smallest of
  n values becomes the standard normal quantile of (i - 1/2) / n; ties share
  their mean rank. Any scale, any sign.
* `"log"`: minus the logarithm of a positive loss: -log(-y) when every value
  is negative (a positive quantity minimised, oriented larger-is-better);
  other values unchanged, as an accuracy's log would only squeeze its best
  values together.
* `"none"`: the raw values.
"""

from __future__ import annotations

import numpy as np

#: The warpings `warp` knows.
WARPINGS = ("rank", "log", "none")


def warp(y: np.ndarray, method: str) -> np.ndarray:
    """`y` (larger is better) warped by `method`, one of `WARPINGS`.

    Raises:
        ValueError: an unknown method.
    """
    y = np.asarray(y, dtype=float)
    if method == "none" or len(y) == 0:
        return y
    if method == "rank":
        from scipy.special import ndtri
        from scipy.stats import rankdata

        return ndtri((rankdata(y) - 0.5) / len(y))
    if method == "log":
        return -np.log(-y) if np.all(y < 0) else y
    raise ValueError(f"output warping must be one of {', '.join(WARPINGS)}; got {method!r}")
