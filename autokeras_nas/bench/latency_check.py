"""How well a latency table adds up to a whole network's latency.

`python -m autokeras_nas.bench.latency_check [--backend keras|tflite]`
builds the NAS-Bench-201 cell space's supernet (28x28x1 inputs, C=16, one
cell per stage by default), measures its `latency_table`, then builds
whole networks normally (every edge the same operation) and times them with
the same function, and prints one JSON object:

- `table_sum_of_max_ms`: the sum over choices of the slowest candidate;
- `table_ms`: the table's cost of each all-same architecture;
- `network_ms`: the measured latency of each such network;
- `fixed_ms`: the all-`skip_connect` network's latency (the stem, the
  reduction blocks, the head and the sums of the cells' nodes; skip itself
  costs about 0);
- `predicted_ms`: `fixed_ms + table(arch) - table(all skip)`, and
  `error`: `predicted / network - 1`, per architecture.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Sequence

REFERENCE = "skip_connect"


def check(*, backend: str = "keras", repeats: int | None = None, chain: int | None = None,
          channels: int = 16, cells_per_stage: int = 1,
          input_shape: Sequence[int] = (28, 28, 1)) -> dict[str, Any]:
    """The figures of the module's docs for one backend (see there)."""
    import keras_tuner

    from autokeras_nas.core.costs import architecture_cost
    from autokeras_nas.oneshot.choose import build_supernet
    from autokeras_nas.oneshot.costs import DEFAULT_CHAIN, latency_table
    from autokeras_nas.spaces.nb201 import EDGES, OPS, Nb201Space
    from autokeras_nas.tuner.trainers import tflite
    from autokeras_nas.tuner.trainers.measure import latency_timer, measure_latency_ms

    chain = DEFAULT_CHAIN if chain is None else chain
    space = Nb201Space(input_shape=tuple(input_shape), num_classes=10, channels=channels,
                       cells_per_stage=cells_per_stage)
    supernet = build_supernet(space, keras_tuner.HyperParameters(), mode="single")
    t0 = time.perf_counter()
    table = latency_table(supernet, latency_timer(backend, repeats=repeats), chain=chain)
    seconds = time.perf_counter() - t0
    args = {} if repeats is None else {"repeats": repeats}

    def whole_ms(op: str) -> float:
        hp = keras_tuner.HyperParameters()
        for edge in EDGES:
            hp.Fixed(edge, op)
        model = space.build(hp)
        if backend == "keras":
            return float(measure_latency_ms(model, **args))
        return tflite.measure_latency(tflite.convert(model)[0], **args).median_ms

    archs = {op: {edge: op for edge in EDGES} for op in OPS}
    network = {op: whole_ms(op) for op in OPS}
    costs = {op: architecture_cost(table, arch) for op, arch in archs.items()}
    fixed = network[REFERENCE]
    predicted = {op: fixed + costs[op] - costs[REFERENCE] for op in OPS}
    return {
        "backend": backend, "chain": chain, "repeats": repeats, "channels": channels,
        "cells_per_stage": cells_per_stage, "input_shape": list(input_shape),
        "table_seconds": round(seconds, 1),
        "table_sum_of_max_ms": round(sum(max(row.values()) for row in table.values()), 4),
        "table_ms": _rounded(costs), "network_ms": _rounded(network),
        "fixed_ms": round(fixed, 4), "predicted_ms": _rounded(predicted),
        "error": {op: round(predicted[op] / network[op] - 1, 3) for op in OPS},
    }


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in values.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autokeras_nas.bench.latency_check",
        description="Compare an NB201 supernet's latency table with whole networks' latency.")
    parser.add_argument("--backend", choices=("keras", "tflite"), default="keras")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per model (default: the timing function's)")
    parser.add_argument("--chain", type=int, default=None,
                        help="latency_table's chain (default 4; 0: each candidate alone)")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--cells-per-stage", type=int, default=1)
    args = parser.parse_args(argv)
    result = check(backend=args.backend, repeats=args.repeats, chain=args.chain,
                   channels=args.channels, cells_per_stage=args.cells_per_stage)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
