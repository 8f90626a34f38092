"""Regularized (aging) evolution, Real et al. 2019."""

from __future__ import annotations

import collections
from typing import Any, Mapping, Sequence

import numpy as np

from autokeras_nas.core import BaseStrategy, Objective, Observation, Scalar, Suggestion, pareto_order
from autokeras_nas_plugins.aging_evolution import mutations as mutation_rules

#: Default population size P and tournament size S (see `AgingEvolution`).
DEFAULT_POPULATION = 12
DEFAULT_SAMPLE = 10
#: Random mutations of a member tried before its untried neighbours are listed.
MUTATION_TRIES = 5
#: Tournaments tried (each down its whole ranking) before a random new point.
TOURNAMENT_TRIES = 3


class AgingEvolution(BaseStrategy):
    """Regularized evolution: tournament selection, mutation, and aging.

    The search keeps a population of the last `population_size` results.
    Until that many random architectures have been proposed, each trial is a
    random one. Then each trial is a child: `sample_size` members are drawn
    from the population at random, the best of them (the tournament winner)
    is mutated, and when the child's result arrives it joins the population
    and the oldest member leaves, however good it was (aging, which
    regularizes against architectures that were lucky once). The strategy
    is asynchronous: `ask` never waits, so parallel workers stay busy; while
    no result has arrived yet it keeps proposing random architectures.

    Each child is new: a mutation that yields an architecture already
    proposed is retried, and when every child of the winner was proposed
    already the runner-up is mutated instead (a noisy benchmark rewards
    re-evaluating nothing).
    Failed trials never join the population; trials stopped early join with
    the metrics they reached. Under promotion scheduling (`early_stopping=
    "asha"`), a member's result is replaced by the result of the trial that
    continued it to a higher rung (`Observation.continues`), so tournaments
    rank configurations by the highest fidelity each reached; the member
    keeps its age. With several objectives the tournament winner
    is the first of the sample by Pareto rank, then crowding distance.

    The defaults P=12, S=10 are within the noise of the best small sizes
    measured on NAS-Bench-201 at 50 and 150 evaluations and keep the
    tournament sampled rather than greedy; the paper's P=100, S=25 adapts
    too slowly for budgets of tens to hundreds of trials (measurements in
    docs/benchmarks.md, "Aging evolution").

    Args:
        population_size: P, the number of most recent results kept.
            `None`: 12, but at most a quarter of the proposals the search
            affords (at least 2), so that a short search still evolves: of
            `max_trials`, or, in a search with a time budget and no
            `max_trials`, of the budget divided by the mean measured cost of
            a configuration, decided once 3 configurations were observed
            (`BaseStrategy.affordable_proposals`).
        sample_size: S, the tournament size (1 = random parent, P = always
            the best); at most `population_size` (an explicit P); above a
            default P it is clipped to P. `None`: 10/12 of P (rounded, at
            least 1).
        mutations: How a winner is mutated: `None` for one changed
            hyperparameter (`mutations.change_one`, Real et al. 2019),
            "large-scale" for the mutation set of Real et al. 2017 (see
            `autokeras_nas_plugins.aging_evolution.mutations`), a rule
            `rule(values, space, rng) -> values | None`, a list of rules
            (chosen uniformly) or a dict {rule: weight}.
        inherit_weights: Whether a child starts from its parent's trained
            weights (layers whose name and shape match), as in large-scale
            evolution. Defaults to True with `mutations="large-scale"` and
            False otherwise. The parent is named in the notes either way.
        seed: Seed of the strategy's generator; `None` draws one and records it.

    Raises:
        ValueError: On a size below 1, `sample_size > population_size`, or
            bad mutation rules.
    """

    name = "aging-evolution"

    def __init__(
        self,
        *,
        population_size: int | None = None,
        sample_size: int | None = None,
        mutations: Any = None,
        inherit_weights: bool | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        for arg, value in (("population_size", population_size), ("sample_size", sample_size)):
            if value is not None and (type(value) is not int or value < 1):
                raise ValueError(f"{arg} must be an int >= 1, got {value!r}")
        if population_size is not None and sample_size is not None and sample_size > population_size:
            raise ValueError(
                f"sample_size ({sample_size}) must not exceed population_size ({population_size})"
            )
        self._requested = (population_size, sample_size)
        self.population_size, self.sample_size = self._sizes(None)
        self.mutations, self._mutation_p = mutation_rules.normalise(mutations)
        large_scale = isinstance(mutations, str)
        self.inherit_weights = large_scale if inherit_weights is None else bool(inherit_weights)
        #: (trial id, values, objective vector) of the population, oldest first.
        self.population: collections.deque[tuple[str, dict[str, Scalar], tuple[float, ...]]] = (
            collections.deque(maxlen=self.population_size)
        )
        self._random_proposed = 0
        self._large_scale = large_scale
        #: The proposals the time budget affords, once measured (sizes P, S).
        self._affordable: int | None = None

    def setup(self, space: Any, objectives: Sequence[Objective], max_trials: int | None = None) -> None:
        super().setup(space, objectives, max_trials)
        self._resize(max_trials if max_trials is not None else self._affordable)
        if self._large_scale and hasattr(space, "names"):
            if not mutation_rules.applicable(self.mutations, space):
                raise ValueError(
                    "mutations='large-scale' needs hyperparameters it can act on (depth, "
                    "channels, filter size, stride, learning rate or skip); this space has "
                    f"{list(space.names)}. Pass roles through "
                    "mutations.large_scale_mutations(roles=...) or use the default mutations."
                )

    def _resize(self, affordable: int | None) -> None:
        self.population_size, self.sample_size = self._sizes(affordable)
        self.population = collections.deque(self.population, maxlen=self.population_size)
        self._rebuild_population()

    def _size_to_budget(self) -> None:
        """Sizes P and S to the time budget, once its cost is measured."""
        if (self._affordable is not None or self.max_trials is not None
                or self.time_budget is None or self._requested[0] is not None):
            return
        affordable = self.affordable_proposals(min_observed=3)
        if affordable is not None:
            self._affordable = affordable
            self._resize(affordable)

    def _sizes(self, max_trials: int | None) -> tuple[int, int]:
        """(P, S): the requested sizes, or the defaults scaled to the budget."""
        population, sample = self._requested
        if population is None:
            population = DEFAULT_POPULATION
            if max_trials is not None:
                population = min(population, max(2, max_trials // 4))
        if sample is None:
            sample = max(1, round(population * DEFAULT_SAMPLE / DEFAULT_POPULATION))
        return population, min(sample, population)

    # -- proposals -------------------------------------------------------------
    def propose(self, trial_id: str) -> Suggestion:
        self._size_to_budget()
        if self._random_proposed < self.population_size or not self.population:
            return self._random()
        for _ in range(TOURNAMENT_TRIES):
            # The winner, or the runner-up when every child of the winner was
            # already proposed, and so on down the tournament's ranking.
            for parent_id, parent_values in self._tournament():
                found = self._child(parent_values)
                if found is not None:
                    child, rule = found
                    notes = {"origin": "mutation", "parent": parent_id,
                             "mutation": mutation_rules.rule_name(rule)}
                    return Suggestion.run(
                        child, parent_id=parent_id if self.inherit_weights else None, notes=notes
                    )
        # Every neighbourhood tried is exhausted: explore elsewhere.
        return self._random()

    def _child(self, parent: Mapping[str, Scalar]) -> tuple[dict[str, Scalar], Any] | None:
        """A mutation of `parent` not proposed before, and its rule; None if
        none was found. With the default rule, a few random mutations are
        tried and then the untried one-change neighbours are enumerated, so
        None means the neighbourhood is exhausted."""
        for _ in range(MUTATION_TRIES):
            rule = self._pick_rule()
            child = rule(parent, self.space, self.rng)
            if child is not None and self.is_new(child):
                return self.space.complete(child), rule
        if self.mutations == [mutation_rules.change_one] and hasattr(self.space, "neighbours"):
            fresh = [n for n in self.space.neighbours(parent) if self.is_new(n)]
            if fresh:
                return fresh[int(self.rng.integers(len(fresh)))], mutation_rules.change_one
        return None

    def _pick_rule(self) -> Any:
        if len(self.mutations) == 1:
            return self.mutations[0]
        return self.mutations[int(self.rng.choice(len(self.mutations), p=self._mutation_p))]

    def _random(self) -> Suggestion:
        values = self.sample_new()
        if values is None:
            return Suggestion.done("search space exhausted")
        self._random_proposed += 1
        return Suggestion.run(values, notes={"origin": "random"})

    def _tournament(self) -> list[tuple[str, dict[str, Scalar]]]:
        """A tournament of `sample_size` distinct members: (id, values) of
        each, the winner first."""
        size = min(self.sample_size, len(self.population))
        picks = self.rng.choice(len(self.population), size=size, replace=False)
        members = [self.population[int(i)] for i in picks]
        if len(self.objectives) == 1:
            ranking = sorted(range(size), key=lambda i: (-members[i][2][0], i))
        else:
            ranking = pareto_order(np.array([m[2] for m in members]))
        return [(members[i][0], members[i][1]) for i in ranking]

    # -- results ---------------------------------------------------------------
    def observe(self, observation: Observation) -> None:
        self._admit(observation)

    def _admit(self, observation: Observation) -> None:
        vector = observation.objective_vector(self.objectives)
        if vector is None:
            return
        if observation.continues is None:
            self.population.append((observation.trial_id, dict(observation.values), vector))
            return
        for i, (member_id, values, _) in enumerate(self.population):
            if member_id == observation.continues:  # a higher rung's result
                self.population[i] = (member_id, values, vector)

    def extra_state(self) -> dict[str, Any]:
        return {"random_proposed": self._random_proposed, "affordable": self._affordable}

    def load_extra_state(self, state: Mapping[str, Any]) -> None:
        # The population is the last P usable results, so it follows from the history.
        self._random_proposed = int(state.get("random_proposed", 0))
        self._affordable = state.get("affordable")
        if self.space is not None:
            self._resize(self.max_trials if self.max_trials is not None else self._affordable)
        else:
            self._rebuild_population()

    def _rebuild_population(self) -> None:
        self.population.clear()
        if self.objectives:
            for observation in self.history:
                self._admit(observation)
