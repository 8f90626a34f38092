"""`choose`: the one way a space offers alternative layers.

A normal build creates the chosen candidate only (a plain Keras layer); a
build inside `supernet_scope` creates a `MixedOp` holding every candidate.
Either way the choice is an ordinary `hp.Choice`, so every tuner searches it.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import keras

from autokeras_nas.oneshot.modes import MODES



@dataclass
class _Scope:
    """The supernet being built: its mode and the MixedOps made so far (by
    choice, in order of use)."""

    mode: str
    conditional: bool
    seed: int | None
    hyper_dims: int = 8
    ops: dict[str, list[Any]] = field(default_factory=dict)
    #: The first MixedOp of each choice ("hyper" mode: `mixed.Peers`).
    peers: Any = None


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "autokeras_nas_supernet_scope", default=None)


@contextlib.contextmanager
def supernet_scope(*, mode: str = "single", conditional: bool = False,
                   seed: int | None = None, hyper_dims: int = 8) -> Iterator[None]:
    """Makes every `choose` inside build a `MixedOp` with all its candidates.

    Args:
        mode: "single" (one path per training batch, sampled in the graph),
            "all" (every path, summed, with path dropout in training), or a
            relaxed mode learning architecture parameters ("darts", "snas",
            "gdas", "proxyless"; see `MixedOp`).
        conditional: keep a choice's candidate weights once per path of the
            choice named by its `condition_on` ("single" mode only).
        seed: seed of the first MixedOp's path sampling (the next ones get
            seed + 1, ...); None draws it from Keras' global seed, so
            `keras.utils.set_random_seed` makes a build reproducible.
        hyper_dims: the units of each MixedOp's hypernetwork in mode
            "hyper" (SMASH); default 8.

    Raises:
        ValueError: an unknown mode, or `conditional` with mode "all".
    """
    if mode not in MODES:
        raise ValueError(f"supernet mode must be one of {MODES}, got {mode!r}")
    if conditional and mode != "single":
        raise ValueError(f"conditional weights need mode 'single', got mode {mode!r}")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ValueError(f"seed must be an int or None, got {seed!r}")
    from autokeras_nas.oneshot.mixed import Peers

    token = _SCOPE.set(_Scope(mode=mode, conditional=bool(conditional), seed=seed,
                              hyper_dims=hyper_dims, peers=Peers()))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def in_supernet_scope() -> bool:
    """Whether a `supernet_scope` is active (in this thread / context)."""
    return _SCOPE.get() is not None


def zero() -> keras.layers.Layer:
    """The "none" operation: outputs zeros of its input's shape (a plain
    `Rescaling(0.0)`, so a model holding it reloads without this package)."""
    return keras.layers.Rescaling(0.0)


@contextlib.contextmanager
def _fixed_auto_names() -> Iterator[None]:
    """Layers created inside consume no auto-name numbers, so the layers
    made after a `choose` get the same names ("conv2d_3") in a normal build
    and in a supernet build (which creates more candidates), and a normal
    build inherits them by name. Keras keeps the numbers in its global
    state; if that ever moves, names are simply left as Keras makes them."""
    try:
        from keras.src.backend.common import global_state

        uids = global_state.get_global_attribute(
            "object_name_uids", default=collections.defaultdict(int), set_to_default=True)
        saved = dict(uids)
    except Exception:  # noqa: BLE001 - a Keras without this state: nothing to keep
        uids = None
    try:
        yield
    finally:
        if uids is not None:
            uids.clear()
            uids.update(saved)


def _check_name(what: str, name: Any) -> str:
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"{what} must be a non-empty string without '/', got {name!r}")
    return name


def _make(name: str, choice: str, factory: Callable[[], Any], layer_name: str) -> Any:
    with _fixed_auto_names():
        layer = factory()
    if not isinstance(layer, keras.layers.Layer):
        raise ValueError(f"choose {name!r}: candidate {choice!r} must return a Keras layer, "
                         f"got {type(layer).__name__}")
    layer.name = layer_name
    return layer


def _check_candidates(name: str, candidates: Any) -> list[str]:
    if not isinstance(candidates, Mapping) or not candidates:
        raise ValueError(f"choose {name!r}: candidates must be a non-empty mapping "
                         f"name -> layer factory, got {candidates!r}")
    for choice, factory in candidates.items():
        _check_name(f"choose {name!r}: a candidate name", choice)
        if not callable(factory):
            raise ValueError(f"choose {name!r}: candidate {choice!r} must be a zero-argument "
                             f"factory returning a new layer, got {factory!r}")
    return list(candidates)


def _check_condition(hp: Any, name: str, condition_on: str) -> None:
    """`condition_on` must name a choice made before `name`."""
    _check_name("condition_on", condition_on)
    if condition_on == name:
        raise ValueError(f"choose {name!r}: condition_on must name an earlier choice, not itself")
    if condition_on not in hp.values:
        raise ValueError(f"choose {name!r}: condition_on={condition_on!r} is not an earlier "
                         f"choice (choose it before {name!r})")


def choose(hp: Any, name: str, candidates: Mapping[str, Callable[[], Any]], *,
           default: str | None = None, condition_on: str | None = None) -> keras.layers.Layer:
    """One of several alternative layers, searched as `hp.Choice(name, ...)`.

    Args:
        hp: the `keras_tuner.HyperParameters` of the build.
        name: the choice's hyperparameter name (also the layers' name prefix).
        candidates: candidate name -> zero-argument factory returning a new
            Keras layer (a `keras.Sequential` for a chain). All candidates
            must map an input to outputs of one shape.
        default: the candidate tried first; None means the first one, as
            `hp.Choice` does.
        condition_on: an earlier choice's name. In a conditional supernet the
            candidates' weights are kept once per path of that choice; in a
            normal build it only adds the suffix `__{its choice}` to the
            layer's name, so weights are inherited by name.

    Returns:
        Normally the chosen candidate's layer, named `f"{name}__{choice}"`;
        inside `supernet_scope`, a `MixedOp` named `name` holding all of them.
        A choice may be used several times (a repeated cell): in a supernet
        each further use takes the first one's path in every batch. Its
        layers then need distinct names in both builds: rename the returned
        layer before calling it (`layer.name = f"cell{i}_{layer.name}"`, which
        renames a MixedOp's candidates alike).

    Raises:
        ValueError: bad names, candidates, default or condition_on.
    """
    _check_name("choose: name", name)
    choices = _check_candidates(name, candidates)
    if default is not None and default not in candidates:
        raise ValueError(f"choose {name!r}: default {default!r} is not one of {choices}")
    if condition_on is not None:
        _check_condition(hp, name, condition_on)
    chosen = hp.Choice(name, choices, default=default)
    scope = _SCOPE.get()
    if scope is None:
        suffix = f"__{hp.values[condition_on]}" if condition_on is not None else ""
        return _make(name, chosen, candidates[chosen], f"{name}__{chosen}{suffix}")
    return _mixed(scope, name, candidates, condition_on if scope.conditional else None)


def _mixed(scope: _Scope, name: str, candidates: Mapping[str, Callable[[], Any]],
           condition_on: str | None) -> keras.layers.Layer:
    """A `MixedOp` of every candidate (once per path of `condition_on` if
    given). A choice used again (a repeated cell) gets one more MixedOp that
    takes the path of the first one."""
    from autokeras_nas.oneshot.mixed import MixedOp

    uses = scope.ops.setdefault(name, [])
    if uses and uses[0].candidates != list(candidates):
        raise ValueError(f"choose {name!r}: used again with candidates {list(candidates)}, "
                         f"but its first use has {uses[0].candidates}")
    if condition_on is not None and condition_on not in scope.ops:
        raise ValueError(f"choose {name!r}: condition_on={condition_on!r} is not a choice of "
                         "this supernet")
    if uses and uses[0].condition_on != condition_on:
        raise ValueError(f"choose {name!r}: used again with condition_on={condition_on!r}, "
                         f"but its first use has {uses[0].condition_on!r}")
    conds = scope.ops[condition_on][0].candidates if condition_on is not None else []
    branches = []
    for choice, factory in candidates.items():
        for cond in conds or [None]:
            suffix = f"__{cond}" if cond is not None else ""
            branches.append(_make(name, choice, factory, f"{name}__{choice}{suffix}"))
    if len({id(b) for b in branches}) != len(branches):
        raise ValueError(f"choose {name!r}: each factory call must return a new layer")
    made = sum(len(ops) for ops in scope.ops.values())
    seed = None if scope.seed is None else scope.seed + made
    op = MixedOp(branches=branches, candidates=list(candidates), choice=name,
                 follows=bool(uses), mode=scope.mode, condition_on=condition_on,
                 condition_candidates=conds or None, seed=seed, hyper_dims=scope.hyper_dims,
                 name=name)
    if scope.mode == "hyper":
        op.attach_peers(scope.peers)
        if not uses:
            scope.peers.ops.append(op)
    uses.append(op)
    return op


def build_supernet(hypermodel: Any, hp: Any, *, mode: str = "single",
                   conditional: bool = False, seed: int | None = None,
                   hyper_dims: int = 8) -> Any:
    """`hypermodel.build(hp)` (or `hypermodel(hp)` for a function) inside
    `supernet_scope(mode=mode, conditional=conditional, seed=seed,
    hyper_dims=hyper_dims)`."""
    build = getattr(hypermodel, "build", hypermodel)
    if not callable(build):
        raise ValueError(f"hypermodel must be a HyperModel or a build function, got {hypermodel!r}")
    with supernet_scope(mode=mode, conditional=conditional, seed=seed, hyper_dims=hyper_dims):
        return build(hp)
