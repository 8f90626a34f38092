"""Plugins `darts`, `snas`, `gdas` and `proxyless`: differentiable NAS.

Each learns the choice of operations as architecture parameters with
gradients, inside one trial of task "differentiable" (the Keras side:
`autokeras_nas.tuner.trainers.differentiable`, with the bilevel step of
`autokeras_nas.oneshot.bilevel`); the strategy stays numpy-only and runs the
phases of `autokeras_nas.core.OneShotStrategy`:

1. one trial of task "differentiable": the relaxed supernet, its weights on
   training batches and its architecture parameters on validation batches;
2. estimates (task "estimate", parent = that trial) of the most probable
   architectures it reported, the derived one (the most probable, never
   with a "none" operation) first;
3. the best estimate retrained from scratch (the papers' protocol;
   `retrain_from="supernet"` starts from the supernet's weights instead).

The four differ in the supernet's mode (`autokeras_nas.oneshot.MixedOp`):
DARTS sums every path weighted by the softmax of the logits, SNAS by a soft
Gumbel-softmax sample, GDAS runs one hard Gumbel sample per batch, and
ProxylessNAS two paths under binary gates (one keeping activations).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from autokeras_nas_plugins.oneshot.enas import ControllerArchitectures

from autokeras_nas.core import (
    DEFAULT_COLLAPSE_STOP,
    DEFAULT_MAX_PARAMETER_FREE,
    MODEL_RESOURCES,
    RESOURCES,
    TARGET_SCOPES,
    BaseStrategy,
    OneShotStrategy,
)

#: The task of the differentiable supernet's trial.
TASK_DIFFERENTIABLE = "differentiable"


class Differentiable(OneShotStrategy):
    """The base of the differentiable strategies: the supernet's mode is the
    subclass's, the rest is shared.

    Args:
        order: 1 (default) or 2: the architecture gradient (2: DARTS'
            second-order approximation, about three times the cost of a
            step).
        warmup_epochs: Supernet epochs that train the weights only before
            the architecture parameters move (default 0).
        arch_lr: The architecture optimizer's learning rate; None (default):
            the trainer's (DARTS' 3e-4).
        tau_max, tau_min: The Gumbel-softmax temperature's start and end
            ("snas", "gdas"); None: the trainer's defaults.
        resource: A resource cost for the architecture's loss: "params",
            "flops", "latency" (Keras, ms) or "tflite_latency" (the TFLite
            interpreter, ms); None (default): none. See
            `autokeras_nas.tuner.trainers.differentiable`.
        resource_weight: Its weight in the loss (default 1.0).
        resource_target: A target in the resource's units: no pressure below
            it, and the architectures reported are the most probable within
            it.
        target_scope: What `resource_target` bounds: "operations"
            (default; the chosen operations' table sum) or "model" (the
            whole exported model; "params", "latency" or "tflite_latency":
            the trainer measures the part outside the choices once).
        collapse_stop: Early stopping against collapse (DARTS+): once the
            derived architecture has more than this share of parameter-free
            choices after an epoch (among the choices offering a candidate
            with weights), the supernet stops and the architecture is
            derived from the epoch before; None: off; "default" (default):
            the mode's, 0.5 for darts and snas, off for gdas and proxyless
            (`autokeras_nas.core.DEFAULT_COLLAPSE_STOP`).
        beta_decay: The weight of beta-decay regularization of the logits
            (Ye et al. 2022), against DARTS' collapse to parameter-free
            operations; 0 (default): off.
        max_parameter_free: The largest share of the derived
            architectures' contested choices that may be parameter-free
            (P-DARTS' limit on skip connections): the derivation gives the
            weightless choices over it that lose the least probability their
            most probable candidate with weights; None: no limit; "default"
            (default): the mode's, 0.5 for gdas, off for the others
            (`autokeras_nas.core.DEFAULT_MAX_PARAMETER_FREE`).
        candidates: Architectures the supernet trial reports (the most
            probable) and the search estimates (at most); default 5.
        top_k: Best estimates retrained; default 1.
        retrain_from: "scratch" (default, the papers') or "supernet".
        **kwargs: As for `autokeras_nas.core.OneShotStrategy` (sizes,
            `seed`).

    Raises:
        ValueError: A bad setting or size.
    """

    supernet_task: ClassVar[str] = TASK_DIFFERENTIABLE

    def __init__(self, *, order: int = 1, warmup_epochs: int = 0,
                 arch_lr: float | None = None, tau_max: float | None = None,
                 tau_min: float | None = None, resource: str | None = None,
                 resource_weight: float = 1.0, resource_target: float | None = None,
                 target_scope: str = "operations", beta_decay: float = 0.0,
                 collapse_stop: float | str | None = "default",
                 max_parameter_free: float | str | None = "default",
                 candidates: int = 5, top_k: int = 1, retrain_from: str = "scratch",
                 **kwargs: Any) -> None:
        if kwargs.get("conditional"):
            raise ValueError(f"{self.name} has no conditional weights (a relaxed supernet "
                             f"holds one copy of each operation)")
        super().__init__(candidates=candidates, top_k=top_k, retrain_from=retrain_from,
                         **kwargs)
        if order not in (1, 2) or isinstance(order, bool):
            raise ValueError(f"order must be 1 or 2, got {order!r}")
        if type(warmup_epochs) is not int or warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be an int >= 0, got {warmup_epochs!r}")
        for key, value in (("arch_lr", arch_lr), ("tau_max", tau_max), ("tau_min", tau_min)):
            if value is not None and not (_number(value) and value > 0):
                raise ValueError(f"{key} must be a positive number or None, got {value!r}")
        if resource not in RESOURCES + (None,):
            raise ValueError(f"resource must be one of {', '.join(RESOURCES)} or None, "
                             f"got {resource!r}")
        if not (_number(resource_weight) and resource_weight >= 0):
            raise ValueError(f"resource_weight must be a number >= 0, got {resource_weight!r}")
        if resource_target is not None and not (_number(resource_target) and resource_target > 0):
            raise ValueError(f"resource_target must be a positive number or None, "
                             f"got {resource_target!r}")
        if resource_target is not None and resource is None:
            raise ValueError("resource_target needs a resource to measure it in")
        if target_scope not in TARGET_SCOPES:
            raise ValueError(f"target_scope must be one of {', '.join(TARGET_SCOPES)}, "
                             f"got {target_scope!r}")
        if target_scope == "model" and (resource_target is None
                                        or resource not in MODEL_RESOURCES):
            raise ValueError("target_scope='model' needs a resource_target in one of "
                             f"{', '.join(MODEL_RESOURCES)}")
        self.resource = {"resource": resource, "resource_weight": float(resource_weight),
                         "resource_target": resource_target}
        if target_scope != "operations":
            self.resource["target_scope"] = target_scope
        if not (_number(beta_decay) and beta_decay >= 0):
            raise ValueError(f"beta_decay must be a number >= 0, got {beta_decay!r}")
        self.beta_decay = float(beta_decay)
        if collapse_stop == "default":
            collapse_stop = DEFAULT_COLLAPSE_STOP.get(self.mode)
        if collapse_stop is not None and not (_number(collapse_stop) and 0 < collapse_stop < 1):
            raise ValueError(f"collapse_stop must be a share in (0, 1) or None, "
                             f"got {collapse_stop!r}")
        self.collapse_stop = collapse_stop
        if max_parameter_free == "default":
            max_parameter_free = DEFAULT_MAX_PARAMETER_FREE.get(self.mode)
        if max_parameter_free is not None and not (_number(max_parameter_free)
                                                   and 0 <= max_parameter_free <= 1):
            raise ValueError(f"max_parameter_free must be a share in [0, 1] or None, "
                             f"got {max_parameter_free!r}")
        self.max_parameter_free = max_parameter_free
        self.order = order
        self.warmup_epochs = warmup_epochs
        self.settings = {"arch_lr": arch_lr, "tau_max": tau_max, "tau_min": tau_min}

    def supernet_options(self) -> dict[str, Any]:
        """The trial's options: the gradient's order, the warm-up, as many
        architectures as the search estimates, the strategy's seed."""
        options: dict[str, Any] = {"order": self.order, "warmup_epochs": self.warmup_epochs,
                                   "architectures": max(1, self.plan().estimates),
                                   "seed": int(self.seed)}
        options.update({k: v for k, v in self.settings.items() if v is not None})
        if self.resource["resource"] is not None:
            options.update(self.resource)
        if self.beta_decay:
            options["beta_decay"] = self.beta_decay
        options["collapse_stop"] = self.collapse_stop
        # None is passed on too: the trainer's own default would turn it on.
        options["max_parameter_free"] = self.max_parameter_free
        return options

    def make_inner(self, seed: int) -> BaseStrategy:
        supernet = self.supernet_result()
        found = supernet.outputs.get("architectures") if supernet is not None else None
        listed = [a for a in found or [] if isinstance(a, dict)]
        return ControllerArchitectures(listed, source=f"{self.name} (most probable)", seed=seed)


class Darts(Differentiable):
    """DARTS (Liu et al. 2019): every edge the softmax-weighted sum of its
    operations; architecture parameters by gradient on validation batches,
    first order by default (`order=2`: the paper's second order). The
    supernet holds every path's activations: the most memory of the four.
    See `Differentiable` for the arguments."""

    name = "darts"
    mode: ClassVar[str] = "darts"


class Snas(Differentiable):
    """SNAS (Xie et al. 2019): each edge weighted by a soft Gumbel-softmax
    sample of its logits, the temperature annealed; like DARTS every path
    runs. See `Differentiable` for the arguments."""

    name = "snas"
    mode: ClassVar[str] = "snas"


class Gdas(Differentiable):
    """GDAS (Dong & Yang 2019): one hard Gumbel-softmax sample per edge per
    batch, only the sampled operation runs (straight-through gradient to
    every logit), the temperature annealed from 10 to 0.1. See
    `Differentiable` for the arguments."""

    name = "gdas"
    mode: ClassVar[str] = "gdas"


class Proxyless(Differentiable):
    """ProxylessNAS (Cai et al. 2019): binarized paths: two operations drawn
    per edge per batch, one active under a binary gate; only the active one
    keeps activations, and the gates' gradients train the logits.

    Args:
        latency_target_ms: A latency target for the exported model, in ms of
            one sample in the TFLite interpreter (1 thread) on this machine:
            the operations' expected latency (measured per candidate) plus
            the rest of the model (measured once) is pushed below it, and the
            architectures reported are the most probable predicted within it
            (shorthand for `resource="tflite_latency", resource_target=...,
            target_scope="model"`).
        **kwargs: As for `Differentiable`.
    """

    name = "proxyless"
    mode: ClassVar[str] = "proxyless"

    def __init__(self, *, latency_target_ms: float | None = None, **kwargs: Any) -> None:
        if latency_target_ms is not None:
            kwargs.setdefault("resource", "tflite_latency")
            kwargs.setdefault("resource_target", latency_target_ms)
            kwargs.setdefault("target_scope", "model")
        super().__init__(**kwargs)


def _number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))
