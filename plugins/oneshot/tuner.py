"""`autokeras_nas.SPOS`, `.RandomWS`, `.OneShot`, `.ENAS`, `.DARTS`,
`.SNAS`, `.GDAS` and `.ProxylessNAS`: one-shot (weight-sharing) search as
KerasTuner tuners; `.ZeroCost`: search without training, by training-free
proxies (no supernet: architectures scored, the best trained); `.FreeDARTS`:
the DARTS supernet scored at initialization, its derived architecture
trained; `.SMASH`: a hypernetwork generating the supernet's weights for any
architecture, random architectures ranked with them.

Each takes a `build_model(hp)` written with `autokeras_nas.oneshot.choose`
(or, given only `input_shape` and `num_classes`, the NAS-Bench-201 cell
space, `autokeras_nas.spaces.Nb201Space`) and runs its strategy's three
phases: one trial trains the supernet, cheap trials estimate architectures
with its weights, and the best are retrained (from the supernet's weights
of their operations; `retrain_from="scratch"`: from fresh ones). The retrained
trials are the search's answer: `get_best_models` returns a plain Keras
model holding only the chosen operations (no mixed operation), which saves
and reloads with `keras.saving.load_model(..., safe_mode=True)` without
`autokeras_nas`. The same `build_model(hp)` runs unchanged with
`keras_tuner.RandomSearch`, which trains every architecture on its own.
"""

from __future__ import annotations

from typing import Any, Sequence

from autokeras_nas_plugins.oneshot import differentiable as differentiable_module
from autokeras_nas_plugins.oneshot import enas as enas_module
from autokeras_nas_plugins.oneshot import freedarts as freedarts_module
from autokeras_nas_plugins.oneshot import smash as smash_module
from autokeras_nas_plugins.oneshot import strategy as strategy_module
from autokeras_nas_plugins.oneshot import zerocost as zerocost_module

from autokeras_nas import results as results_module
from autokeras_nas.report import oneshot_summary
from autokeras_nas.tuner import StrategyTuner


class OneShotTuner(StrategyTuner):
    """The base of the one-shot tuners: `max_trials` defaults to None (the
    strategy's `candidates` and `top_k` size the search: a one-shot trial
    is mostly a cheap estimate, so KerasTuner's 10 would leave 7 of them),
    and the default hypermodel is the NAS-Bench-201 cell space."""

    default_max_trials = None

    @classmethod
    def default_hypermodel(cls, *, input_shape: Sequence[int] | None = None,
                           num_classes: int | None = None,
                           cells_per_stage: int | None = None,
                           channels: int | None = None) -> Any:
        """The NAS-Bench-201 cell space for `input_shape` and `num_classes`.

        Args:
            input_shape: `(height, width, channels)` or `(steps, channels)`
                (a 1-D cell for time series), for the default space.
            num_classes: Number of classes, for the default space.
            cells_per_stage: Cells in each of its 3 stages; `None`: the
                space's default.
            channels: Channels of its first stage; `None`: the space's default.
        """
        if input_shape is None or num_classes is None:
            return None
        from autokeras_nas.spaces import Nb201Space

        options = {k: v for k, v in (("cells_per_stage", cells_per_stage),
                                     ("channels", channels)) if v is not None}
        return Nb201Space(input_shape=input_shape, num_classes=num_classes, **options)

    def oneshot_summary(self) -> dict[str, Any]:
        """The supernet's training curve and each retrained architecture's
        estimate beside its retrained result, with Kendall's tau and
        Spearman's rho over them (see `autokeras_nas.report.oneshot_summary`)."""
        return oneshot_summary(results_module.read_results(self.project_dir))


class SPOS(OneShotTuner):
    """Single-path one-shot (Guo et al. 2019) as a drop-in for `keras_tuner.RandomSearch`.

    The supernet trains one uniformly sampled path per batch; aging
    evolution searches the architectures, each scored with the supernet's
    weights after batch-norm recalibration; the best `top_k` are retrained.

        tuner = autokeras_nas.SPOS(build_model, objective="val_accuracy",
                                   supernet_epochs=10, candidates=100, top_k=2)
        tuner.search(x, y, validation_data=(x_val, y_val), batch_size=64)
        model = tuner.get_best_models(1)[0]   # retrained, plain Keras layers
    """

    strategy_class = strategy_module.Spos


class RandomWS(OneShotTuner):
    """Random search with weight sharing (Li & Talwalkar 2019) as a drop-in
    for `keras_tuner.RandomSearch`: a random path per batch trains the
    supernet, random architectures are ranked with its weights, the best
    `top_k` are retrained."""

    strategy_class = strategy_module.RandomWS


class OneShot(OneShotTuner):
    """Bender et al. 2018's one-shot model as a drop-in for
    `keras_tuner.RandomSearch`: the supernet runs every path with path
    dropout raised to `drop_rate` over its training; random architectures
    are ranked with it and the best `top_k` retrained. Every path runs on
    every batch, so the supernet needs the memory of all of them."""

    strategy_class = strategy_module.OneShot


class ENAS(OneShotTuner):
    """ENAS (Pham et al. 2018) as a drop-in for `keras_tuner.RandomSearch`:
    an LSTM controller samples the supernet's path of every batch and learns
    by REINFORCE from the validation accuracy of its samples; the
    architectures it finds most probable are estimated and the best
    retrained."""

    strategy_class = enas_module.Enas


class DARTS(OneShotTuner):
    """DARTS (Liu et al. 2019) as a drop-in for `keras_tuner.RandomSearch`:
    a supernet whose edges sum every operation weighted by the softmax of
    architecture parameters, learned on validation batches (`order=2`: the
    second-order gradient); the most probable architectures (never with
    "none") are estimated and the best retrained from scratch.

        tuner = autokeras_nas.DARTS(build_model, objective="val_accuracy",
                                    supernet_epochs=10, retrain_epochs=10)
        tuner.search(x, y, validation_data=(x_val, y_val), batch_size=64)
    """

    strategy_class = differentiable_module.Darts


class SNAS(OneShotTuner):
    """SNAS (Xie et al. 2019) as a drop-in for `keras_tuner.RandomSearch`:
    like `DARTS` with each edge weighted by a soft Gumbel-softmax sample,
    the temperature annealed."""

    strategy_class = differentiable_module.Snas


class GDAS(OneShotTuner):
    """GDAS (Dong & Yang 2019) as a drop-in for `keras_tuner.RandomSearch`:
    one hard Gumbel-softmax sample per edge and batch, only the sampled
    operation computed."""

    strategy_class = differentiable_module.Gdas


class ProxylessNAS(OneShotTuner):
    """ProxylessNAS (Cai et al. 2019) as a drop-in for
    `keras_tuner.RandomSearch`: binarized paths, two operations drawn per
    edge and batch and one active, so the supernet keeps about one path's
    activations."""

    strategy_class = differentiable_module.Proxyless


class ZeroCost(OneShotTuner):
    """Zero-cost search (Abdelfattah et al. 2021) as a drop-in for
    `keras_tuner.RandomSearch`: `candidates` random architectures are scored
    at initialization by training-free proxies (`autokeras_nas.zerocost`,
    one batch of training data, no training) and the best `top_k` trained
    from scratch.

        tuner = autokeras_nas.ZeroCost(build_model, objective="val_accuracy",
                                       proxies="jacob_cov", candidates=100, top_k=2)
        tuner.search(x, y, validation_data=(x_val, y_val), batch_size=64)
    """

    strategy_class = zerocost_module.ZeroCost


class FreeDARTS(OneShotTuner):
    """FreeDARTS (Zhang et al. 2021) as a drop-in for
    `keras_tuner.RandomSearch`: the relaxed supernet of `DARTS` is scored
    at initialization, with no training and no data (the synaptic flow
    through every operation, the least salient pruned round by round), and
    the derived architecture is trained from scratch.

        tuner = autokeras_nas.FreeDARTS(build_model, objective="val_accuracy",
                                        retrain_epochs=10)
        tuner.search(x, y, validation_data=(x_val, y_val), batch_size=64)
    """

    strategy_class = freedarts_module.FreeDarts


class SMASH(OneShotTuner):
    """SMASH (Brock et al. 2017) as a drop-in for `keras_tuner.RandomSearch`:
    one trial trains hypernetworks that generate every candidate's kernels
    from an encoding of the whole architecture (a random architecture per
    batch); `candidates` random architectures are ranked with the weights
    generated for them, and the best is trained from scratch.

        tuner = autokeras_nas.SMASH(build_model, objective="val_accuracy",
                                    supernet_epochs=10, candidates=100)
        tuner.search(x, y, validation_data=(x_val, y_val), batch_size=64)
    """

    strategy_class = smash_module.Smash
