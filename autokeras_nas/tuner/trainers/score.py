"""`ScoreTrainer`: the "score" task, an architecture scored at
initialization by training-free proxies (`autokeras_nas.zerocost`).

The trial's model is built (its constraints checked, as for training) and
scored on the first `batch_size` samples of the training data, the same
samples for every trial of a search; nothing trains and nothing is saved.
The metrics are one per proxy, under the proxy's name (`jacob_cov`,
`synflow`, ...), plus `params`, `score_time_s` (the proxies' seconds,
building the model not counted), `train_time_s` = 0 and `epochs` = 0. A
proxy's score is no accuracy, so the trial reports no objective; the
strategy that asked for it ranks by the proxies (a trial of this task is
never a search's answer: `autokeras_nas.core.ESTIMATE_TASKS`).

Task options (`nas/task_config`):

* `proxies` (list of names, default `["jacob_cov"]`): the proxies
  computed, each one of `autokeras_nas.zerocost.PROXIES`.
* `batch_size` (int >= 2, default 64): training samples the data-dependent
  proxies see.

A proxy that cannot score the model (no ReLU for `naswot`, a non-finite
value) fails the trial with its reason.
"""

from __future__ import annotations

import time
from typing import Any

import keras_tuner
import numpy as np

from autokeras_nas.tuner.trainers.base import Trainer, TrialContext, TrialResult
from autokeras_nas.tuner.trainers.weights import training_inputs, training_labels

_Failed = keras_tuner.errors.FailedTrialError

#: The default proxy: the best rank correlation with stand-alone training on
#: the Fashion-MNIST ground truth of `bench oneshot` (`bench zero-cost`).
DEFAULT_PROXIES = ("jacob_cov",)
#: Training samples a score sees by default (the batch of Abdelfattah et al.).
DEFAULT_SCORE_BATCH = 64


class ScoreTrainer(Trainer):
    """Scores the trial's architecture at initialization (see the module
    docstring)."""

    name = "score"
    makes_model = False

    def run(self, context: TrialContext) -> TrialResult:
        from autokeras_nas import zerocost

        proxies, size = _options(context.config, zerocost.PROXIES)
        batch = first_samples(context, size)
        model = context.build_model()
        metrics: dict[str, float] = {}
        t0 = time.perf_counter()
        for proxy in proxies:
            try:
                metrics[proxy] = zerocost.score(proxy, model, batch)
            except (ValueError, FloatingPointError) as e:
                raise _Failed(f"{proxy} cannot score this model: {e}") from None
        metrics.update(score_time_s=time.perf_counter() - t0, train_time_s=0.0, epochs=0.0,
                       params=float(model.count_params()))
        return TrialResult(metrics, {"proxies": list(proxies), "score_batch": int(len(batch[0]))})


def _options(config: dict[str, Any], known: Any) -> tuple[list[str], int]:
    proxies = config.get("proxies", list(DEFAULT_PROXIES))
    if isinstance(proxies, str):
        proxies = [proxies]
    if not isinstance(proxies, list) or not proxies:
        raise _Failed(f"proxies must be a non-empty list of names, got {proxies!r}")
    unknown = [p for p in proxies if p not in known]
    if unknown:
        raise _Failed(f"unknown proxy {unknown[0]!r}; choose from {', '.join(known)}")
    size = config.get("batch_size", DEFAULT_SCORE_BATCH)
    if isinstance(size, bool) or not isinstance(size, int) or size < 2:
        raise _Failed(f"batch_size must be an int >= 2, got {size!r}")
    return list(dict.fromkeys(proxies)), size


def first_samples(context: TrialContext, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `n` training samples `(x, y)` of the search's data (arrays,
    or a tf.data.Dataset of `(x, y)` batches), as arrays.

    Raises:
        keras_tuner.errors.FailedTrialError: other data (a generator, inputs
            without labels), or fewer than 2 samples.
    """
    x = training_inputs(context.fit_args, context.fit_kwargs)
    if isinstance(x, np.ndarray):
        y = training_labels(context.fit_args, context.fit_kwargs)
        if not isinstance(y, np.ndarray):
            raise _Failed("score needs training labels as an array beside the inputs")
        xs, ys = x[:n], y[:n]
    elif hasattr(x, "take") and hasattr(x, "element_spec"):
        parts_x, parts_y, seen = [], [], 0
        for element in x:
            if not isinstance(element, (tuple, list)) or len(element) < 2:
                raise _Failed("score needs a dataset of (inputs, labels) batches")
            bx, by = np.asarray(element[0]), np.asarray(element[1])
            parts_x.append(bx)
            parts_y.append(by)
            seen += len(bx)
            if seen >= n:
                break
        if not parts_x:
            raise _Failed("score: the training dataset is empty")
        xs, ys = np.concatenate(parts_x)[:n], np.concatenate(parts_y)[:n]
    else:
        raise _Failed("score needs training data as arrays or a tf.data.Dataset")
    if len(xs) < 2:
        raise _Failed(f"score needs at least 2 training samples, got {len(xs)}")
    return np.asarray(xs), np.asarray(ys)
