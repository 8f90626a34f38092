"""The progressive search of POPNAS/PNAS over a cell space."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Mapping

import numpy as np

from autokeras_nas.core import Observation, Suggestion, non_dominated_sort


#: Fewest cells a step trains under a time budget: the predictors of the
#: next step need at least two trained cells.
MIN_STEP = 2


class Progressive:
    """Step b trains cells of b blocks; the next step's cells are chosen by
    the predictors among the expansions of this step's cells.

    With a time budget (`BaseStrategy.set_time_budget`), no `max_trials`
    and no `k_initial`, the steps are sized by what the budget affords:
    step 1 queues every one-block cell in a seeded random order, and once
    two trials have measured seconds, each step trains at most
    max(2, (A - P) // S) cells, where A is the budget divided by the mean
    seconds per trial so far, P the trials proposed before the step and S
    the steps left including it (the rest of its queue is dropped, last
    first: exploration cells before Pareto ones). So the budget is shared
    evenly by the B steps and the search gets past one block even when it
    affords only a few trials; A is measured again at every proposal, so
    the costlier cells of later steps shrink their own share.

    State (JSON): the step, the queue of cells still to propose in it, the
    trial ids proposed in it, trial id -> cell of every proposal, and the
    time budget the search started with (so a resumed search sizes its
    steps as the uninterrupted one did).
    """

    def __init__(self, strategy: Any) -> None:
        from autokeras_nas.spaces import CellSpace, MacroConfig

        spec = dict(strategy.cells)
        self.strategy = strategy
        self.macro = MacroConfig(**spec.pop("macro", {}))
        self.space = CellSpace(**spec)
        self._state: dict[str, Any] = {"step": 0, "queue": [], "batch": [], "cells": {},
                                       "done": "", "budget": None}

    # -- state -----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return self._state

    def load(self, state: Mapping[str, Any]) -> None:
        self._state = dict(state)

    # -- proposals ---------------------------------------------------------------
    def propose(self, trial_id: str) -> Suggestion:
        st = self._state
        if st["step"] == 0:
            self._start()
        self._fit_budget()
        if not st["queue"] and st["batch"]:
            told = {o.trial_id for o in self.strategy.history}
            if any(t not in told for t in st["batch"]):
                return Suggestion.wait()
            self._next_step()
            self._fit_budget()
        if st["done"]:
            return Suggestion.done(st["done"])
        if not st["queue"]:
            return Suggestion.done("no cell left to train")
        entry = st["queue"].pop(0)
        st["batch"].append(trial_id)
        st["cells"][trial_id] = entry["cell"]
        arch = json.dumps({"cell": entry["cell"], "macro": self.macro.to_dict()},
                          separators=(",", ":"))
        notes = {"origin": entry["origin"], "blocks": st["step"], **entry["predicted"]}
        return Suggestion.run(self.strategy.space.complete({}), arch=arch, notes=notes)

    def _start(self) -> None:
        cells = self.space.one_block_cells()
        s = self.strategy
        limit = s.k_initial
        if limit is None and s.max_trials is not None:
            # Leave room for the later steps within max_trials.
            later = (self.space.max_blocks - 1) * (s.k + s.n_explore)
            limit = max(s.k, s.max_trials - later)
        budget = s.time_budget if s.k_initial is None and s.max_trials is None else None
        if budget is not None:
            # Random order: the step is cut to a prefix once costs are known.
            cells = [cells[int(i)] for i in s.rng.permutation(len(cells))]
        elif limit is not None and len(cells) > limit:
            picks = self.strategy.rng.choice(len(cells), size=limit, replace=False)
            cells = [cells[int(i)] for i in sorted(picks)]
        self._state.update(step=1, queue=[_entry(c, "initial", {}) for c in cells], budget=budget)

    def affordable(self) -> int | None:
        """Trials the budget the search started with affords, from the
        measured seconds of its trials (None: no budget, or fewer than two
        measured trials); as `BaseStrategy.affordable_proposals`, the seconds
        of trials that continued a proposal count towards its cost. A
        function of the history and the state."""
        budget = self._state.get("budget")
        history = self.strategy.history
        own = [o for o in history if o.continues is None and o.seconds is not None]
        if budget is None or len(own) < MIN_STEP:
            return None
        total = sum(float(o.seconds) for o in history if o.seconds is not None)
        return max(1, int(budget * len(own) / max(total, 1e-9)))

    def _fit_budget(self) -> None:
        """Cuts the current step's queue to its share of the budget."""
        st = self._state
        affordable = self.affordable()
        if affordable is None:
            return
        earlier = len(st["cells"]) - len(st["batch"])
        steps_left = self.space.max_blocks - st["step"] + 1
        share = max(MIN_STEP, (affordable - earlier) // steps_left)
        del st["queue"][max(0, share - len(st["batch"])):]

    def _next_step(self) -> None:
        st = self._state
        if st["step"] >= self.space.max_blocks:
            st["done"] = f"progressive search finished at {st['step']} blocks"
            return
        trained = self._trained()
        if len(trained) < 2:
            st["done"] = "too few trained cells to fit the predictors"
            return
        usable = {o.trial_id for o, _ in trained}
        parents = [tuple(map(tuple, st["cells"][t])) for t in st["batch"] if t in usable]
        seen = {self.space.key(tuple(map(tuple, c))) for c in st["cells"].values()}
        children: dict[str, tuple] = {}
        for cell in parents:
            for child in self.space.expand(cell):
                key = self.space.key(child)
                if key not in seen:
                    children.setdefault(key, child)
        st.update(step=st["step"] + 1, batch=[])
        if not children:
            st["done"] = "no new expansion"
            return
        st["queue"] = self._select(list(children.values()), trained)

    def _trained(self) -> list[tuple[Observation, tuple]]:
        """(observation, cell) of every usable trained cell: its latest,
        highest-fidelity result when a scheduler continued its training
        (`BaseStrategy.latest`)."""
        latest = self.strategy.latest()
        out = []
        for o in self.strategy.history:
            cell = self._state["cells"].get(o.trial_id)
            o = latest.get(o.trial_id, o)
            if cell is not None and o.objective_vector(self.strategy.objectives[:1]) is not None:
                out.append((o, tuple(map(tuple, cell))))
        return out

    # -- selection ----------------------------------------------------------------
    def fit(self, trained: list[tuple[Observation, tuple]]) -> tuple[Any, Any]:
        """The accuracy and time predictors, fitted on the trained cells."""
        s = self.strategy
        X = np.stack([self.space.encode(c) for _, c in trained])
        accuracy = np.array([s.score(o) for o, _ in trained])
        acc_model = s._make_accuracy(s.seed).fit(X, accuracy)
        if s.mode == "pnas":
            return acc_model, None
        F = np.stack([self._cost(c) for _, c in trained])
        # Seconds per epoch of a configuration's own trial: a continuation's
        # `train_time_s` covers only its own epochs.
        own = {o.trial_id: o for o in s.history if o.continues is None}
        firsts = [own.get(o.continues or o.trial_id, o) for o, _ in trained]
        per_epoch = np.array([float(o.metrics.get("train_time_s", 0.0)) / max(1.0, float(o.epochs or 1))
                              for o in firsts])
        time_model = s._make_time(s.seed).fit(F, np.maximum(per_epoch, 1e-6))
        return acc_model, time_model

    def _cost(self, cell: tuple) -> np.ndarray:
        from autokeras_nas.spaces import cell_cost_features

        features = cell_cost_features(cell, self.macro, space=self.space)
        return np.array([float(features[k]) for k in sorted(features)])

    def _select(self, candidates: list[tuple], trained: list[tuple[Observation, tuple]]) -> list[dict]:
        s = self.strategy
        acc_model, time_model = self.fit(trained)
        acc, _ = acc_model.predict(np.stack([self.space.encode(c) for c in candidates]))
        predicted = [{"predicted_accuracy": float(a)} for a in acc]
        if time_model is None:
            order = list(np.argsort(-acc, kind="stable"))
        else:
            t, _ = time_model.predict(np.stack([self._cost(c) for c in candidates]))
            for p, value in zip(predicted, t):
                p["predicted_time_per_epoch"] = float(value)
            order = [i for front in non_dominated_sort(np.stack([acc, -t], axis=1))
                     for i in sorted(front, key=lambda j: -acc[j])]
        chosen = [int(i) for i in order[:s.k]]
        explore = self._explore(candidates, chosen, s.n_explore)
        return ([_entry(candidates[i], "pareto" if time_model is not None else "top-k", predicted[i])
                 for i in chosen]
                + [_entry(candidates[i], "exploration", predicted[i]) for i in explore])

    def _explore(self, candidates: list[tuple], chosen: list[int], n: int) -> list[int]:
        """Candidates richest in the operators and inputs used least so far."""
        if n == 0:
            return []
        usage: Counter = Counter()
        for cell in list(self._state["cells"].values()) + [candidates[i] for i in chosen]:
            for in1, op1, in2, op2 in cell:
                usage.update([("op", op1), ("op", op2), ("in", in1), ("in", in2)])
        taken = set(chosen)
        scores = []
        for i, cell in enumerate(candidates):
            if i in taken:
                continue
            block = cell[-1]
            items = [("op", block[1]), ("op", block[3]), ("in", block[0]), ("in", block[2])]
            scores.append((sum(1.0 / (1 + usage[x]) for x in items), -i))
        scores.sort(reverse=True)
        return [-i for _, i in scores[:n]]


def _entry(cell: tuple, origin: str, predicted: Mapping[str, float]) -> dict[str, Any]:
    return {"cell": [list(b) for b in cell], "origin": origin, "predicted": dict(predicted)}
