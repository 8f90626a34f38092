"""A zero-cost warm-up for the strategies of `bench nb201` (numpy only).

Before a run, `pool` cells drawn at random (distinct) are ranked by a
proxy's shipped scores (`autokeras_nas.bench.nb201_synflow`), and the best
`keep` are given to the strategy with `warm_start`: its random draws return
them first, so aging evolution's first population, a model-based
strategy's initial design and random search's first trials are the
best-scored cells (Abdelfattah et al. 2021's warm-up). Scoring costs no
evaluation: N counts trained cells only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autokeras_nas.bench.nb201 import cell_values
from autokeras_nas.bench.nb201_synflow import N_CELLS
from autokeras_nas.core.warmup import DEFAULT_KEEP, parse_warmup

#: Proxies with shipped scores of every NAS-Bench-201 cell.
TABLE_PROXIES = ("synflow",)


class WarmupError(ValueError):
    """A warm-up that cannot be made (bad text, unknown proxy)."""


@dataclass(frozen=True)
class Warmup:
    """Rank `pool` random cells by `proxy`, start from the best `keep`."""

    proxy: str
    pool: int
    keep: int = DEFAULT_KEEP

    @classmethod
    def parse(cls, text: str) -> "Warmup":
        """`PROXY:POOL` or `PROXY:POOL:KEEP` ("synflow:3000:10"), read as
        `autokeras_nas.core.parse_warmup` reads a warm-up (KEEP defaults to
        min(`DEFAULT_KEEP`, POOL)), for one proxy whose scores ship.

        Raises:
            WarmupError: another form, a proxy without shipped scores, or
                sizes that are not 1 <= KEEP <= POOL <= `N_CELLS` (15,625).
        """
        try:
            parsed = parse_warmup(text)
        except ValueError as e:  # the form, an unknown proxy, KEEP > POOL
            raise WarmupError(str(e)) from None
        proxies, pool, keep = parsed["proxies"], parsed["pool"], parsed["keep"]
        if len(proxies) > 1 or proxies[0] not in TABLE_PROXIES:
            raise WarmupError(f"no NAS-Bench-201 scores of {'+'.join(proxies)!r}; the package "
                              f"ships {', '.join(TABLE_PROXIES)}")
        if pool > N_CELLS:
            raise WarmupError(f"a warm-up needs 1 <= KEEP <= POOL <= {N_CELLS}, got {text!r}")
        return cls(proxies[0], pool, keep)

    @property
    def label(self) -> str:
        return f"warmup={self.proxy}:{self.pool}:{self.keep}"

    def cells(self, scores: np.ndarray, seed: int) -> list[dict[str, Any]]:
        """The best `keep` of `pool` cells drawn with `seed`, best first
        (ties: the first drawn), as values of the NAS-Bench-201 space."""
        rng = np.random.default_rng([int(seed), 20])
        pool = rng.choice(len(scores), size=self.pool, replace=False)
        order = np.argsort(-np.asarray(scores)[pool], kind="stable")[:self.keep]
        return [cell_values(int(i)) for i in pool[order]]
