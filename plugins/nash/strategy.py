"""NASH: hill climbing with network morphisms (Elsken, Metzen & Hutter 2017)."""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from autokeras_nas.core import BaseStrategy, Observation, Scalar, SpaceKind, Suggestion

#: The paper's settings (CIFAR-10 on a GPU) and the CPU-scaled defaults.
PAPER = {"n_steps": 8, "n_neigh": 8, "n_nm": 5, "epochs_start": 20, "epochs_neigh": 17,
         "epochs_final": 20}
MORPHISM_KINDS = ("deeper", "wider", "skip_add", "skip_concat")
#: Tries to find a child not proposed before.
_CHILD_TRIES = 20


class Nash(BaseStrategy):
    """Hill climbing whose moves are network morphisms (NASH).

    1. The start network is trained for `epochs_start` epochs.
    2. Each of `n_steps` steps makes `n_neigh` neighbours of the current
       best: `n_neigh - 1` children, each made by `n_nm` random network
       morphisms (deeper, wider, skip connections: the child computes the
       same function as the trained parent, so it starts where the parent
       ended), plus the parent itself trained further. Each is trained for
       `epochs_neigh` epochs with SGDR (cosine annealing restarted for every
       neighbour) from the inherited weights; the best on the validation
       objective becomes the next parent.
    3. The winner is trained for `epochs_final` more epochs.

    Neighbours of one step run in parallel on parallel workers; the next
    step waits for all of them ("wait").

    The paper (CIFAR-10 on a GPU) used n_steps=8, n_neigh=8, n_nm=5,
    epochs 20 / 17 / 20. On a CPU the defaults are n_neigh=4, n_nm=3,
    epochs 4 / 2 / 6, and as many steps as `max_trials` or the time budget
    allow: the same shape of search (each step a short restart from
    inherited weights, the winner trained longest) at about a twentieth of
    the paper's training per step. The start
    network is the paper's conv-pool-conv-pool-conv-dense with fewer filters
    (see `autokeras_nas.tuner.MorphHyperModel`).

    Two kinds of space:

    * A morphable network (`network=` a spec from
      `autokeras_nas.spaces.start_network`, as `autokeras_nas.Nash` passes
      for a `MorphHyperModel`): children carry their architecture and the
      morphisms that made it (`Suggestion.arch`); the worker applies them to
      the parent's saved model, checks that the child computes the same
      function (the error goes into the trial's notes) and trains it.
    * Any other space (a user's `build_model(hp)`): a neighbour changes `n_nm`
      hyperparameters of the current best, and starts from the parent's
      weights in the layers whose names and shapes match (the tuner's
      generic inheritance), so it is hill climbing with warm starts, not
      function-preserving. Every neighbour is a new configuration, so the
      parent is not trained further and there is no final training (train
      the best model further yourself).

    With several objectives the first one decides.

    Args:
        n_steps: Hill-climbing steps; `None` (the default): as many as
            `max_trials` and `time_budget_s` allow, keeping one trial for the
            final training (without either, the search goes on until stopped).
        n_neigh: Neighbours per step (the parent trained further is one of
            them on a morphable network).
        n_nm: Morphisms (or hyperparameter changes) per child.
        epochs_start, epochs_neigh, epochs_final: Training epochs of the
            start network, of each neighbour, of the final winner.
        network: Start network spec of a morphable space (a dict or its
            JSON); `None` for a generic space.
        morphisms: Kinds of morphism to draw from.
        time_budget_s: Optional budget of training time (the sum of the
            trials' `train_time_s`): no new step starts when that step and
            the final training are expected to exceed it.
        seed: Seed of the strategy's generator; `None` draws one and records it.
    """

    name = "nash"
    space_kinds = (SpaceKind.NETWORK, SpaceKind.HYPERPARAMETERS)

    def __init__(
        self,
        *,
        n_steps: int | None = None,
        n_neigh: int = 4,
        n_nm: int = 3,
        epochs_start: int = 4,
        epochs_neigh: int = 2,
        epochs_final: int = 6,
        network: Mapping[str, Any] | str | None = None,
        morphisms: Sequence[str] = MORPHISM_KINDS,
        time_budget_s: float | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        if n_steps is not None and (type(n_steps) is not int or n_steps < 0):
            raise ValueError(f"n_steps must be None or an int >= 0, got {n_steps!r}")
        for arg, value, low in (("n_neigh", n_neigh, 1), ("n_nm", n_nm, 1),
                                ("epochs_start", epochs_start, 1), ("epochs_neigh", epochs_neigh, 1),
                                ("epochs_final", epochs_final, 1)):
            if type(value) is not int or value < low:
                raise ValueError(f"{arg} must be an int >= {low}, got {value!r}")
        unknown = set(morphisms) - set(MORPHISM_KINDS)
        if unknown or not morphisms:
            raise ValueError(f"morphisms must be among {MORPHISM_KINDS}, got {list(morphisms)}")
        if time_budget_s is not None and not time_budget_s > 0:
            raise ValueError(f"time_budget_s must be positive, got {time_budget_s!r}")
        self.n_steps, self.n_neigh, self.n_nm = n_steps, n_neigh, n_nm
        self.epochs_start, self.epochs_neigh, self.epochs_final = epochs_start, epochs_neigh, epochs_final
        self.morphisms = tuple(morphisms)
        self.time_budget_s = time_budget_s
        if isinstance(network, str):
            network = json.loads(network)
        self.network = None if network is None else dict(network)
        self._state = self._initial_state()
        #: trial id -> network of every proposed trial (morphable spaces).
        self._nets: dict[str, Any] = {}
        #: trial id -> observation.
        self._told_by_id: dict[str, Observation] = {}

    def bind_structure(self, kind: SpaceKind, structure: Any) -> None:
        """`use_space(SpaceKind.NETWORK, start_network)`: see `use_network`."""
        self.use_network(structure)

    def use_network(self, network: Mapping[str, Any] | str) -> None:
        """Searches a morphable network from this start network (a spec of
        `autokeras_nas.spaces.start_network`, or its JSON). Call it before
        the search starts, as `autokeras_nas.Nash` and the CLI do."""
        if self.asked:
            raise RuntimeError("use_network() must be called before the first trial")
        self.network = dict(json.loads(network) if isinstance(network, str) else network)

    @staticmethod
    def _initial_state() -> dict[str, Any]:
        return {
            "phase": "start",      # start -> step -> final -> done
            "step": 0,
            "best": None,           # {"trial_id", "values", "net", "score", "time_per_epoch"}
            "batch": [],            # trial ids proposed in the current phase
            "step_bests": [],       # best trial id after each step (snapshot ensemble)
            "done_reason": "",
        }

    # -- proposals -------------------------------------------------------------
    def propose(self, trial_id: str) -> Suggestion:
        self._advance()
        st = self._state
        if st["phase"] == "done":
            return Suggestion.done(st["done_reason"])
        if st["phase"] == "start":
            if st["batch"]:
                return Suggestion.wait()
            suggestion = self._start_suggestion()
        elif st["phase"] == "step":
            if len(st["batch"]) >= self.n_neigh:
                return Suggestion.wait()
            suggestion = self._neighbour(len(st["batch"]))
        else:  # final
            if st["batch"]:
                return Suggestion.wait()
            suggestion = self._final()
        if suggestion.kind == "run":
            st["batch"].append(trial_id)
        return suggestion

    def _morph(self) -> bool:
        return self.network is not None

    def _start_suggestion(self) -> Suggestion:
        notes = {"origin": "start"}
        if self._morph():
            return Suggestion.run(self.space.complete({}), epochs=self.epochs_start, notes=notes,
                                  arch=_arch(self.network, []))
        values = self.space.complete({}) if not self.history else self.sample_new()
        if values is None or not self.is_new(values):
            values = self.sample_new()
        if values is None:
            return Suggestion.done("search space exhausted")
        return Suggestion.run(values, epochs=self.epochs_start, notes=notes)

    def _neighbour(self, index: int) -> Suggestion:
        best = self._state["best"]
        notes: dict[str, Any] = {"origin": "neighbour", "parent": best["trial_id"],
                                 "step": self._state["step"] + 1}
        if self._morph():
            if index == self.n_neigh - 1:
                notes["morphisms"] = []  # the parent, trained further
                net, morphisms = best["net"], []
            else:
                net, morphisms = self._new_morph_child(best["net"])
                notes["morphisms"] = [_describe(m) for m in morphisms]
            return Suggestion.run(self.space.complete({}), parent_id=best["trial_id"],
                                  epochs=self.epochs_neigh, notes=notes,
                                  arch=_arch(net, morphisms))
        values = self._changed(best["values"])
        if values is None:
            return Suggestion.done("search space exhausted")
        return Suggestion.run(values, parent_id=best["trial_id"], epochs=self.epochs_neigh, notes=notes)

    def _new_morph_child(self, net: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A child of `net` whose architecture was not proposed before (a
        sibling drawn alike would train the same network from the same
        weights); after `_CHILD_TRIES` draws, the last one."""
        for _ in range(_CHILD_TRIES):
            child, morphisms = self._morph_child(net)
            if self.is_new(self.space.complete({}), _arch(child, morphisms)):
                break
        return child, morphisms

    def _morph_child(self, net: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        from autokeras_nas.spaces import apply_morphism, random_morphism

        applied: list[dict[str, Any]] = []
        child = dict(net)
        for _ in range(self.n_nm):
            morphism = random_morphism(child, self.rng, kinds=self.morphisms)
            if morphism is None:
                break
            child = apply_morphism(child, morphism)
            applied.append(morphism)
        return child, applied

    def _changed(self, values: Mapping[str, Scalar]) -> dict[str, Scalar] | None:
        """`n_nm` hyperparameter changes of `values`, not proposed before."""
        for _ in range(_CHILD_TRIES):
            child = dict(values)
            for _ in range(self.n_nm):
                child = self.space.mutate(child, self.rng)
            if self.is_new(child):
                return child
        fresh = [n for n in self.space.neighbours(values) if self.is_new(n)]
        if fresh:
            return fresh[int(self.rng.integers(len(fresh)))]
        return self.sample_new()

    def _final(self) -> Suggestion:
        best = self._state["best"]
        notes = {"origin": "final", "parent": best["trial_id"], "morphisms": [],
                 "snapshot_ensemble": list(self._state["step_bests"])}
        return Suggestion.run(self.space.complete({}), parent_id=best["trial_id"],
                              epochs=self.epochs_final, notes=notes, arch=_arch(best["net"], []))

    # -- the state machine -------------------------------------------------------
    def _results(self, trial_ids: Sequence[str]) -> list[Observation] | None:
        """Observations of `trial_ids`, or None while some are not told yet."""
        if any(t not in self._told_by_id for t in trial_ids):
            return None
        return [self._told_by_id[t] for t in trial_ids]

    def observe(self, observation: Observation) -> None:
        self._told_by_id[observation.trial_id] = observation

    def _advance(self) -> None:
        """Moves to the next phase once every trial of the current one is told."""
        st = self._state
        if st["phase"] == "done" or not st["batch"]:
            return
        if st["phase"] == "step" and len(st["batch"]) < self.n_neigh:
            return  # neighbours of this step are still to be proposed
        results = self._results(st["batch"])
        if results is None:
            return
        if st["phase"] == "start":
            best = self._candidate(results[0])
            if best is None:
                if self._morph():
                    st.update(phase="done", done_reason=f"the start network failed: {results[0].message}")
                    return
                st["batch"] = []  # try another start configuration
                return
            st.update(best=best, batch=[], phase="step")
        elif st["phase"] == "step":
            candidates = [c for c in map(self._candidate, results) if c is not None]
            if not self._morph() and st["best"] is not None:
                candidates.append(st["best"])  # generic hill climbing keeps the parent
            if candidates:
                st["best"] = max(candidates, key=lambda c: c["score"])
            st["step"] += 1
            st["step_bests"].append(st["best"]["trial_id"])
            st["batch"] = []
        else:
            st.update(phase="done", batch=[], done_reason="final training finished")
            return
        if st["phase"] == "step" and not self._another_step(results):
            if self._morph():
                st["phase"] = "final"
            else:
                st.update(phase="done", done_reason=f"{st['step']} hill-climbing steps finished")

    def _another_step(self, last: Sequence[Observation]) -> bool:
        st = self._state
        if self.n_steps is not None and st["step"] >= self.n_steps:
            return False
        if self.max_trials is not None:
            final = 1 if self._morph() else 0
            if len(self.asked) + self.n_neigh + final > self.max_trials:
                return False
        if self.time_budget_s is None:
            return True
        used = sum(float(o.metrics.get("train_time_s", 0.0)) for o in self.history)
        step = sum(float(o.metrics.get("train_time_s", 0.0)) for o in last)
        if st["phase"] == "step" and st["step"] == 0:  # only the start network so far
            step = st["best"]["time_per_epoch"] * self.epochs_neigh * self.n_neigh
        final = st["best"]["time_per_epoch"] * self.epochs_final if self._morph() else 0.0
        return used + step + final <= self.time_budget_s

    def _candidate(self, observation: Observation) -> dict[str, Any] | None:
        score = self.score(observation)
        if score is None:
            return None
        epochs = observation.epochs or observation.metrics.get("epochs") or 1
        return {
            "trial_id": observation.trial_id,
            "values": dict(observation.values),
            "net": self._net_of(observation.trial_id),
            "score": score,
            "time_per_epoch": float(observation.metrics.get("train_time_s", 0.0)) / max(1.0, float(epochs)),
        }

    def _net_of(self, trial_id: str) -> dict[str, Any] | None:
        return self._nets.get(trial_id) if self._morph() else None

    # -- bookkeeping of architectures ----------------------------------------------
    def ask(self, trial_id: str) -> Suggestion:
        suggestion = super().ask(trial_id)
        if suggestion.kind == "run" and suggestion.arch is not None:
            self._nets[trial_id] = json.loads(suggestion.arch)["net"]
        return suggestion

    def extra_state(self) -> dict[str, Any]:
        return {"nash": json.loads(json.dumps(self._state)), "nets": dict(self._nets)}

    def load_extra_state(self, state: Mapping[str, Any]) -> None:
        self._state = json.loads(json.dumps(state.get("nash") or self._initial_state()))
        self._nets = dict(state.get("nets") or {})
        self._told_by_id = {o.trial_id: o for o in self.history}


def _arch(net: Mapping[str, Any], morphisms: Sequence[Mapping[str, Any]]) -> str:
    """The JSON travelling under `nas/arch`: the child's network and the
    morphisms that turn its parent into it."""
    return json.dumps({"net": net, "morphisms": list(morphisms)}, sort_keys=True,
                      separators=(",", ":"))


def _describe(morphism: Mapping[str, Any]) -> str:
    from autokeras_nas.spaces import describe_morphism

    return describe_morphism(morphism)
