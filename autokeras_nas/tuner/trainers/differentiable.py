"""`DifferentiableTrainer`: the "differentiable" task, a relaxed supernet
whose architecture parameters are learned with gradients (DARTS, SNAS,
GDAS, ProxylessNAS) inside one trial.

The trial's hypermodel is built as a supernet in a relaxed mode
(`autokeras_nas.oneshot.MixedOp`) and fitted by the fit loop of
`SupernetTrainer` (backup and resume, time budget, NaN stop) with the
bilevel step of `autokeras_nas.oneshot.bilevel` as its `train_step`: each
training batch first updates the architecture parameters on the next
validation batch with their own optimizer, then the weights on the
training batch. The architecture parameters are weights of the model, so
the per-epoch backup holds them; the architecture optimizer's state and the
probability history are saved after every epoch in the trial's directory
(`differentiable/optimizer-<epochs>.npz`, `probabilities-<epochs>.json`,
the last two kept), so a trial resumed after a crash continues exactly.

Task options (`nas/task_config`), besides `SupernetTrainer`'s
(`time_budget_s`):

* `mode` ("darts" (default), "snas", "gdas", "proxyless"): the relaxation.
* `order` (1 (default) or 2): the architecture gradient; 2 is DARTS'
  second-order approximation (three more forward and backward passes).
* `arch_lr`, `arch_weight_decay` (default 1e-3): the architecture
  optimizer (Adam, betas 0.5 and 0.999, as DARTS). By default `arch_lr` is
  sized to the training: DARTS' 3e-4 over its 50 epochs of 390 steps lets
  Adam move a logit by up to about 6, so the default is 6 / (the planned
  architecture steps: epochs after the warm-up x batches per epoch), kept
  within [3e-4, 0.05] (a short search on small data gets a larger rate, or
  its probabilities would barely leave uniform); 3e-3 when the batches per
  epoch are unknown (a dataset without a length).
* `tau_max`, `tau_min`: the Gumbel-softmax temperature, annealed linearly
  over the epochs from `tau_max` at the first to `tau_min` at the last
  ("snas" and "gdas"; defaults 10 -> 0.1 for "gdas", GDAS' own, and 1 ->
  0.1 for "snas").
* `warmup_epochs` (int, default 0): epochs that train the weights only
  before the architecture parameters start to move.
* `resource` (None (default), "params", "flops", "latency",
  "tflite_latency"): a resource cost added to the architecture's loss, from
  the supernet's per-candidate table (`autokeras_nas.oneshot.costs`:
  parameters, multiply-accumulates, latency measured in Keras or in the
  TFLite interpreter, ms); `resource_weight` (default 1.0) its weight and
  `resource_target` (optional, the table's units) a target: see
  `autokeras_nas.oneshot.bilevel.ResourceCost`. With a target, the output
  architectures are the most probable ones whose table cost is within it
  (the cheapest architecture when none is).
* `target_scope` ("operations" (default) or "model"): what
  `resource_target` bounds. "operations": the table's sum, the chosen
  operations alone. "model": the whole stand-alone model as it is exported
  (`resource` "params", "latency" or "tflite_latency"): before training,
  the trainer builds the reference architecture (each choice's cheapest
  operation other than "none") as a normal model, measures it with the
  table's own timer (or counts its parameters), and takes what it costs
  beyond its table cost as the fixed part of every architecture (stem,
  reductions, head, the cells' sums); the table's target is the model's
  minus that part. A model target at or below the fixed part fails the
  trial with the figures.
* Without a `resource`, a search constraint on `tflite_latency_ms`,
  `latency_ms` or `params` (`NasTuner(constraints=...)`, `search
  --constraint`; the first of these present) is the whole-model target
  (`with_constraint`). The supernet itself is built without the
  constraints (it holds every candidate); the retrained model is checked
  against them as every trained model is.
* `beta_decay` (float, default 0: off): the weight of beta-decay
  regularization of the logits (`autokeras_nas.oneshot.bilevel.BetaDecay`,
  Ye et al. 2022), a remedy against DARTS' collapse to parameter-free
  operations.
* `collapse_stop` (float in (0, 1) or None: off; default the mode's in
  `autokeras_nas.core.DEFAULT_COLLAPSE_STOP`: 0.5 for darts and snas, off
  for gdas and proxyless): early stopping against collapse (DARTS+,
  Liang et al. 2019): after an epoch whose derived architecture has more
  than this share of parameter-free choices (`collapse_share`: among the
  choices that offer a candidate with weights), the supernet stops training
  and the architectures are derived from the probabilities of the epoch
  before (the last one before the collapse; the collapsing epoch's own when
  it is the first the logits moved in).
  Outputs `collapse_stopped_at` (that epoch, 1-based) and
  `derived_from_epoch`.
* `max_parameter_free` (float in [0, 1] or None: off; default the mode's
  in `autokeras_nas.core.DEFAULT_MAX_PARAMETER_FREE`: 0.5 for gdas, off for
  the others): the largest share of the derived architectures' contested
  choices that may
  take a weightless candidate (P-DARTS' limit on skip connections, Chen et
  al. 2019; `autokeras_nas.oneshot.cap_parameter_free`): the weightless
  choices over it that lose the least probability take their most probable
  candidate with weights. It changes the derivation only, not the training.
* `architectures` (int, default 5): how many architectures to output.
* `seed` (int, default 0): seed of the validation batches' order.

Outputs, besides `SupernetTrainer`'s (`choices`, `mode`, ...):
`architectures` (the most probable distinct architectures under the final
probabilities, the most probable (the derived one) first, never with a
`zero()` ("none") operation: DARTS never derives it), `probabilities`
(choice -> candidate -> softmax of its logits), `probabilities_by_epoch`
(`[{"epoch": 1, "probabilities": {...}}, ...]`, a resumed trial's earlier
epochs included), `parameter_free_share` (the share of the derived
architecture's choices that took a weightless candidate: skip, pooling;
DARTS' collapse shows as a share near 1) and `architecture_steps`; with a
`resource`, also `resource` (its name, the table, the table's target, the
`scope`, the expected cost under the final probabilities and the derived
architecture's cost; with a model target also `model_target`, `fixed`,
`reference`, `reference_model` (its measured cost) and `derived_model`, the
derived architecture's predicted whole-model cost).
Per
epoch the curve holds `arch_entropy` (mean entropy of the choices'
probabilities, in nats) and `parameter_free_share` of that epoch's derived
architecture.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import keras
import keras_tuner
import numpy as np

from autokeras_nas.core import DEFAULT_COLLAPSE_STOP, DEFAULT_MAX_PARAMETER_FREE
from autokeras_nas.core.costs import MODEL_RESOURCES, RESOURCES, TARGET_SCOPES
from autokeras_nas.results import write_json_atomic
from autokeras_nas.tuner.trainers.base import TrialContext, TrialResult
from autokeras_nas.tuner.trainers.epochs import epoch_files
from autokeras_nas.tuner.trainers.supernet import SupernetTrainer, supernet_options

_Failed = keras_tuner.errors.FailedTrialError
#: The task of a differentiable supernet.
TASK = "differentiable"
#: The directory of the per-epoch states, in the trial's directory.
STATE_DIR = "differentiable"
_OPTIMIZER, _HISTORY = ("optimizer", "npz"), ("probabilities", "json")
#: Default temperatures (max, min) by mode.
TEMPERATURES = {"gdas": (10.0, 0.1), "snas": (1.0, 0.1)}
#: Most probable architectures examined for those within a resource target.
_TARGET_POOL = 500


def differentiable_options(config: dict[str, Any]) -> dict[str, Any]:
    """The options of a "differentiable" task config, validated (see the
    module docstring); raises FailedTrialError with a one-line reason."""
    from autokeras_nas.oneshot import RELAXED_MODES

    mode = config.get("mode", "darts")
    if mode not in RELAXED_MODES:
        raise _Failed(f"differentiable mode must be one of {', '.join(RELAXED_MODES)}, "
                      f"got {mode!r}")
    options = supernet_options({**config, "mode": mode}, modes=RELAXED_MODES)
    if config.get("conditional"):
        raise _Failed("conditional weights need a single-path supernet, not a relaxed one")
    ints = {"order": (1, 1), "warmup_epochs": (0, 0), "architectures": (5, 1), "seed": (0, 0)}
    for key, (default, low) in ints.items():
        value = config.get(key, default)
        if type(value) is not int or value < low:
            raise _Failed(f"{key} must be an int >= {low}, got {value!r}")
        options[key] = value
    if options["order"] not in (1, 2):
        raise _Failed(f"order must be 1 or 2, got {options['order']!r}")
    tau_max, tau_min = TEMPERATURES.get(mode, (1.0, 1.0))
    floats = {"arch_lr": (None, False), "arch_weight_decay": (1e-3, True),
              "tau_max": (tau_max, False), "tau_min": (tau_min, False)}
    for key, (default, zero_ok) in floats.items():
        value = config.get(key, default)
        if value is None and key == "arch_lr":
            options[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
            what = "a number >= 0" if zero_ok else "a positive number"
            raise _Failed(f"{key} must be {what}, got {value!r}")
        options[key] = float(value)
    resource = config.get("resource")
    if resource is not None and resource not in RESOURCES:
        raise _Failed(f"resource must be one of {', '.join(RESOURCES)} or null, got {resource!r}")
    options["resource"] = resource
    for key, default in (("resource_weight", 1.0), ("resource_target", None),
                         ("beta_decay", 0.0)):
        value = config.get(key, default)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value) or value < 0
                                  or (key == "resource_target" and value == 0)):
            raise _Failed(f"{key} must be a positive number, got {value!r}")
        options[key] = None if value is None else float(value)
    if options["resource_target"] is not None and resource is None:
        raise _Failed("resource_target needs a resource to measure it in")
    scope = config.get("target_scope", "operations")
    if scope not in TARGET_SCOPES:
        raise _Failed(f"target_scope must be one of {', '.join(TARGET_SCOPES)}, got {scope!r}")
    if scope == "model" and (options["resource_target"] is None
                             or resource not in MODEL_RESOURCES):
        raise _Failed("target_scope model needs a resource_target in one of "
                      f"{', '.join(MODEL_RESOURCES)}")
    options["target_scope"] = scope
    stop = config.get("collapse_stop", DEFAULT_COLLAPSE_STOP.get(mode))
    if stop is not None and (isinstance(stop, bool) or not isinstance(stop, (int, float))
                             or not 0 < stop < 1):
        raise _Failed(f"collapse_stop must be a share in (0, 1) or null, got {stop!r}")
    options["collapse_stop"] = None if stop is None else float(stop)
    cap = config.get("max_parameter_free", DEFAULT_MAX_PARAMETER_FREE.get(mode))
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, (int, float))
                            or not 0 <= cap <= 1):
        raise _Failed(f"max_parameter_free must be a share in [0, 1] or null, got {cap!r}")
    options["max_parameter_free"] = None if cap is None else float(cap)
    if options["tau_min"] > options["tau_max"]:
        raise _Failed(f"tau_min ({options['tau_min']}) must not exceed tau_max "
                      f"({options['tau_max']})")
    return options


#: The reach of DARTS' architecture learning rate over its search (3e-4 x
#: 50 epochs x 390 steps), and the bounds of the sized default.
_ARCH_REACH, _ARCH_LR_BOUNDS, _ARCH_LR_UNSIZED = 6.0, (3e-4, 0.05), 3e-3


def default_arch_lr(steps_per_epoch: int | None, epochs: int, warmup: int) -> float:
    """The sized default of `arch_lr` (see the module docstring)."""
    if not steps_per_epoch:
        return _ARCH_LR_UNSIZED
    steps = max(1, epochs - warmup) * steps_per_epoch
    low, high = _ARCH_LR_BOUNDS
    return float(min(high, max(low, _ARCH_REACH / steps)))


def _steps_per_epoch(context: TrialContext) -> int | None:
    """Training batches per epoch, when the data's length is known."""
    kwargs = context.fit_kwargs
    if kwargs.get("steps_per_epoch"):
        return int(kwargs["steps_per_epoch"])
    x = context.fit_args[0] if context.fit_args else kwargs.get("x")
    if x is None:
        return None
    try:
        n = len(x) if not isinstance(x, dict) else len(next(iter(x.values())))
    except TypeError:
        return None
    if hasattr(x, "element_spec"):  # a batched tf.data.Dataset: its length is batches
        return int(n)
    return max(1, math.ceil(n / int(kwargs.get("batch_size") or 32)))


def temperature(options: dict[str, Any], epoch: int, epochs: int) -> float:
    """The temperature of epoch `epoch` (from 0) of `epochs`: linear from
    `tau_max` to `tau_min`."""
    if epochs <= 1:
        return options["tau_max"]
    share = min(1.0, epoch / (epochs - 1))
    return options["tau_max"] + (options["tau_min"] - options["tau_max"]) * share


def parameter_free_share(architecture: dict[str, str], free: dict[str, list[str]]) -> float:
    """The share of `architecture`'s choices that took a weightless candidate."""
    if not architecture:
        return 0.0
    return sum(c in free.get(name, ()) for name, c in architecture.items()) / len(architecture)


def collapse_share(architecture: dict[str, str], free: dict[str, list[str]],
                   candidates: dict[str, Any]) -> float:
    """`parameter_free_share` among the choices that could have taken a
    candidate with weights (`candidates`: each choice's candidates). A choice
    between weightless candidates only (two poolings) is no sign of collapse,
    so a space of such choices never stops early."""
    contested = {name: c for name, c in architecture.items()
                 if any(k not in free.get(name, ()) for k in candidates.get(name, ()))}
    return parameter_free_share(contested, free)


def entropy(probs: dict[str, dict[str, float]]) -> float:
    """The mean entropy (nats) of the choices' distributions."""
    values = [-sum(p * math.log(p) for p in dist.values() if p > 0) for dist in probs.values()]
    return float(np.mean(values)) if values else 0.0


class DifferentiableTrainer(SupernetTrainer):
    """Trains a relaxed supernet with the bilevel step (see the module
    docstring)."""

    name = TASK

    def __init__(self) -> None:
        super().__init__()
        self._callback: _ArchitectureSchedule | None = None
        self._table: dict[str, dict[str, float]] | None = None
        #: The options make_model ran with (a search constraint may set the resource).
        self._resource: dict[str, Any] = {}
        #: A whole-model target's fixed part (`fixed_cost`), and the table's target.
        self._fixed: dict[str, Any] | None = None
        self._table_target: float | None = None
        self.arch_lr: float | None = None

    def supernet_modes(self) -> tuple[str, ...]:
        from autokeras_nas.oneshot import RELAXED_MODES

        return RELAXED_MODES

    def make_model(self, context: TrialContext) -> Any:
        from autokeras_nas.oneshot import bilevel

        options = self._resource = with_constraint(differentiable_options(context.config),
                                                   getattr(context.tuner, "constraints", ()))
        model = super().make_model(context)
        validation = context.fit_kwargs.get("validation_data")
        if validation is None:
            raise _Failed(f"{options['mode']} needs validation data for the architecture "
                          "parameters: pass validation_data to search()")
        size = int(context.fit_kwargs.get("batch_size") or 32)
        try:
            batches = bilevel.validation_iterator(validation, size, options["seed"])
        except ValueError as e:
            raise _Failed(str(e)) from None
        arch_lr = options["arch_lr"]
        if arch_lr is None:
            arch_lr = default_arch_lr(_steps_per_epoch(context),
                                      int(context.fit_kwargs.get("epochs", 1)),
                                      options["warmup_epochs"])
        self.arch_lr = arch_lr
        cost: list[Any] = []
        self._table, self._fixed = None, None
        self._table_target = options["resource_target"]
        if options["resource"] is not None:
            self._table = resource_table(model, options["resource"])
            if options["target_scope"] == "model":
                self._fixed = fixed_cost(context, model, self._table, options["resource"])
                self._table_target = options["resource_target"] - self._fixed["cost"]
                if self._table_target <= 0:
                    raise _Failed(
                        f"the model target {options['resource_target']:g} "
                        f"({options['resource']}) is at or below what the model costs "
                        f"outside its choices ({self._fixed['cost']:.4g}): no architecture "
                        "can meet it")
            cost.append(bilevel.ResourceCost(self._table, options["resource_weight"],
                                             self._table_target))
        if options["beta_decay"]:
            cost.append(bilevel.BetaDecay(options["beta_decay"]))
        try:
            bilevel.BilevelStep(
                model, batches, learning_rate=arch_lr,
                weight_decay=options["arch_weight_decay"], order=options["order"],
                cost=cost).install()
        except ValueError as e:
            raise _Failed(str(e)) from None
        return model

    def extra_callbacks(self, context: TrialContext) -> list:
        options = differentiable_options(context.config)
        epochs = int(context.fit_kwargs.get("epochs", 1))
        self._callback = _ArchitectureSchedule(
            options, epochs, os.path.join(context.directory, STATE_DIR))
        return [self._callback] + super().extra_callbacks(context)

    def run(self, context: TrialContext) -> TrialResult:
        self._callback = None
        result = super().run(context)
        options = self._resource
        callback = self._callback
        if callback is None or callback.last is None:
            raise _Failed("the architecture parameters were never trained (no epoch finished)")
        probs, free, zero = callback.last
        outputs = dict(result.outputs)
        derived = derive_within(probs, zero, {**options, "resource_target": self._table_target},
                                self._table, free=free)
        if callback.stopped_at is not None:
            outputs.update(collapse_stopped_at=callback.stopped_at,
                           derived_from_epoch=callback.last_epoch)
        outputs.update(architectures=derived, probabilities=probs,
                       probabilities_by_epoch=callback.history,
                       parameter_free_share=parameter_free_share(derived[0], free),
                       architecture_steps=callback.steps, temperature=callback.temperature,
                       arch_lr=self.arch_lr)
        if self._table is not None:
            from autokeras_nas.core.costs import architecture_cost, expected_cost

            resource = outputs["resource"] = {
                "name": options["resource"], "table": self._table,
                "target": self._table_target, "scope": options["target_scope"],
                "from_constraint": options.get("from_constraint"),
                "expected": expected_cost(self._table, probs),
                "derived": architecture_cost(self._table, derived[0])}
            if self._fixed is not None:
                fixed = self._fixed["cost"]
                resource.update(model_target=options["resource_target"], fixed=fixed,
                                reference=self._fixed["reference"],
                                reference_model=self._fixed["model"],
                                derived_model=fixed + resource["derived"])
        directory = os.path.join(context.directory, STATE_DIR)
        for _, path in (epoch_files(directory, *_OPTIMIZER) + epoch_files(directory, *_HISTORY)):
            os.remove(path)
        return TrialResult(result.metrics, outputs)


#: The search constraints a differentiable search takes as its whole-model
#: target when no resource is given, the first one found in this order.
CONSTRAINT_RESOURCES = {"tflite_latency_ms": "tflite_latency", "latency_ms": "latency",
                        "params": "params"}


def with_constraint(options: dict[str, Any], constraints: Any) -> dict[str, Any]:
    """`options`, or, when they name no resource and the search has a
    constraint on `tflite_latency_ms`, `latency_ms` or `params`, `options`
    with that constraint as a whole-model target (the first of these three
    present): `--constraint tflite_latency_ms<=0.1` makes ProxylessNAS' latency
    loss, and the retrained model is checked against the same bound."""
    if options["resource"] is not None:
        return options
    bounds = {c.metric: c.bound for c in constraints or ()}
    for metric, resource in CONSTRAINT_RESOURCES.items():
        if metric in bounds:
            return {**options, "resource": resource, "resource_target": bounds[metric],
                    "target_scope": "model", "from_constraint": metric}
    return options


def resource_table(model: Any, resource: str) -> dict[str, dict[str, float]]:
    """The supernet's per-candidate table of `resource` (see `RESOURCES`)."""
    from autokeras_nas.oneshot import costs

    if resource == "params":
        return costs.candidate_params(model)
    if resource == "flops":
        return costs.candidate_flops(model)
    from autokeras_nas.tuner.trainers.measure import latency_timer

    return costs.latency_table(model, latency_timer("tflite" if resource == "tflite_latency"
                                                    else "keras"))


def fixed_cost(context: TrialContext, supernet: Any, table: dict[str, dict[str, float]],
               resource: str) -> dict[str, Any]:
    """What every architecture's stand-alone model costs outside its choices
    (see `target_scope`): the reference architecture (each choice's
    cheapest candidate that is not "none") built as a normal model and
    measured in `resource`, minus its table cost. Returns `cost`,
    `reference` and the reference `model`'s measured cost."""
    from autokeras_nas import oneshot
    from autokeras_nas.core.costs import architecture_cost

    zero = oneshot.zero_candidates(supernet)
    reference = {}
    for choice, costs in table.items():
        usable = [c for c in costs if c not in zero.get(choice, ())] or list(costs)
        reference[choice] = min(usable, key=lambda c: costs[c])
    hp = context.hyperparameters.copy()
    hp.values.update(reference)
    try:
        model = context.tuner.hypermodel.build(hp)  # outside supernet_scope: a normal model
    except Exception as e:  # noqa: BLE001 - the user's builder failed: the trial's reason
        raise _Failed(f"the reference architecture {reference} did not build for the model "
                      f"target: {type(e).__name__}: {e}") from None
    if resource == "params":
        measured = float(model.count_params())
    else:
        from autokeras_nas.tuner.trainers.measure import latency_timer

        measured = float(latency_timer("tflite" if resource == "tflite_latency"
                                       else "keras")(model))
    return {"cost": measured - architecture_cost(table, reference), "reference": reference,
            "model": measured}


def derive_within(probs: dict[str, dict[str, float]], zero: dict[str, list[str]],
                  options: dict[str, Any], table: dict[str, dict[str, float]] | None, *,
                  free: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
    """The most probable architectures (never with a "none" operation),
    each within `max_parameter_free` when it is set (`free`: each choice's
    weightless candidates); with a resource target, those of them whose
    table cost is within it, or the cheapest of the most probable when none
    is."""
    from autokeras_nas import oneshot
    from autokeras_nas.core.costs import architecture_cost

    wanted = options["architectures"]
    target = options.get("resource_target")
    cap = options.get("max_parameter_free")
    capped = cap is not None and free is not None
    if (table is None or target is None) and not capped:
        return oneshot.derive(probs, excluded=zero, top=wanted)
    pool = oneshot.derive(probs, excluded=zero, top=max(wanted, _TARGET_POOL))
    if capped:
        unique: dict[str, dict[str, str]] = {}
        for arch in pool:
            arch = oneshot.cap_parameter_free(arch, probs, free, cap, excluded=zero)
            unique.setdefault(json.dumps(arch, sort_keys=True), arch)
        pool = list(unique.values())
    if table is None or target is None:
        return pool[:wanted]
    within = [a for a in pool if architecture_cost(table, a) <= target]
    if within:
        return within[:wanted]
    return sorted(pool, key=lambda a: architecture_cost(table, a))[:wanted]


class _ArchitectureSchedule(keras.callbacks.Callback):
    """Warm-up and temperature per epoch; after each epoch the
    probabilities, the collapse share and the architecture optimizer's
    state (saved for a resume, reloaded by a resumed trial)."""

    def __init__(self, options: dict[str, Any], epochs: int, directory: str) -> None:
        super().__init__()
        self.options = options
        self.epochs = epochs
        self.directory = directory
        self.step: Any = None
        self.history: list[dict[str, Any]] = []
        self.last: tuple[dict, dict, dict] | None = None
        #: The epoch (1-based) after which collapse_stop ended the training.
        self.stopped_at: int | None = None
        #: The epoch (1-based) whose probabilities `last` holds.
        self.last_epoch: int | None = None
        self.steps = 0
        self.temperature: float | None = None
        self._started = False
        self._on = False

    def on_train_begin(self, logs: Any = None) -> None:
        from autokeras_nas.oneshot.bilevel import BilevelStep

        # the step the trainer installed on this fit's model (a model built
        # again after running out of memory has a new one)
        self.step = BilevelStep.installed(self.model) or self.step

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if self._on:
            self.steps += 1

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        from autokeras_nas import oneshot

        if not self._started:
            self._started = True
            if epoch > 0:
                self._resume(epoch)
        self._on = epoch >= self.options["warmup_epochs"]
        self.step.enabled.assign(self._on)
        if self.options["mode"] in TEMPERATURES:
            self.temperature = temperature(self.options, epoch, self.epochs)
            oneshot.set_temperature(self.model, self.temperature)

    def _resume(self, epoch: int) -> None:
        saved = dict(epoch_files(self.directory, *_OPTIMIZER))
        histories = dict(epoch_files(self.directory, *_HISTORY))
        if epoch in saved:
            with np.load(saved[epoch]) as data:
                count = sum(1 for name in data.files if name.startswith("v"))
                self.step.load_state([data[f"v{i}"] for i in range(count)])
                self.steps = int(data["steps"]) if "steps" in data.files else 0
            # Each architecture step drew one validation batch: the batches go on where the
            # epochs before the restart left them.
            for _ in range(self.steps):
                next(self.step.validation)
        else:
            print(f"{self.options['mode']}: no architecture optimizer state of epoch {epoch}; "
                  f"it starts afresh", flush=True)
        if epoch in histories:
            with open(histories[epoch]) as f:
                self.history = json.load(f)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        from autokeras_nas import oneshot

        probs = oneshot.probabilities(self.model)
        free = oneshot.parameter_free(self.model)
        zero = oneshot.zero_candidates(self.model)
        self.last = (probs, free, zero)
        self.history = [h for h in self.history if h["epoch"] <= epoch] + [
            {"epoch": epoch + 1, "probabilities": probs}]
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"optimizer-{epoch + 1}.npz")
        with open(path + ".tmp", "wb") as f:
            np.savez(f, steps=np.int64(self.steps),
                     **{f"v{i}": a for i, a in enumerate(self.step.state())})
        os.replace(path + ".tmp", path)
        write_json_atomic(os.path.join(self.directory, f"probabilities-{epoch + 1}.json"),
                          self.history)
        for _, path in (epoch_files(self.directory, *_OPTIMIZER)[:-2]
                        + epoch_files(self.directory, *_HISTORY)[:-2]):
            os.remove(path)
        self.last_epoch = epoch + 1
        derived = oneshot.derive(probs, excluded=zero)[0]
        if self.options.get("max_parameter_free") is not None:
            derived = oneshot.cap_parameter_free(derived, probs, free,
                                                 self.options["max_parameter_free"], excluded=zero)
        if logs is not None:
            logs["arch_entropy"] = entropy(probs)
            logs["parameter_free_share"] = parameter_free_share(derived, free)
        limit = self.options.get("collapse_stop")
        if limit is not None and self._on and collapse_share(derived, free, probs) > limit:
            self.stopped_at = epoch + 1
            self.model.stop_training = True
            if epoch > self.options["warmup_epochs"] and len(self.history) >= 2:
                self.last = (self.history[-2]["probabilities"], free, zero)
                self.last_epoch = self.history[-2]["epoch"]
