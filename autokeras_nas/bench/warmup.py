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

#: Proxies with shipped scores of every NAS-Bench-201 cell.
TABLE_PROXIES = ("synflow",)
#: Best-scored cells a strategy starts from by default: about aging
#: evolution's default population (12) and popnas' initial design (18).
DEFAULT_KEEP = 10


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
        """`PROXY:POOL` or `PROXY:POOL:KEEP` ("synflow:3000:10").

        Raises:
            WarmupError: another form, a proxy without shipped scores, or
                sizes that are not 1 <= KEEP <= POOL <= `N_CELLS` (15,625).
        """
        parts = str(text).split(":")
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            proxy, pool = parts[0].strip(), int(parts[1])
            keep = int(parts[2]) if len(parts) == 3 else min(DEFAULT_KEEP, pool)
        except ValueError:
            raise WarmupError(f"a warm-up is PROXY:POOL or PROXY:POOL:KEEP (e.g. synflow:3000), "
                              f"got {text!r}") from None
        if proxy not in TABLE_PROXIES:
            raise WarmupError(f"no NAS-Bench-201 scores of {proxy!r}; the package ships "
                              f"{', '.join(TABLE_PROXIES)}")
        if not 1 <= keep <= pool <= N_CELLS:
            raise WarmupError(f"a warm-up needs 1 <= KEEP <= POOL <= {N_CELLS}, got {text!r}")
        return cls(proxy, pool, keep)

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
