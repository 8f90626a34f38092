"""Peak memory of supernet training, one mode per process.

`python -m autokeras_nas.oneshot.memory` trains a space as a supernet for
one epoch of random 28x28 images in each mode
("single", "all", and with `--modes` the relaxed ones: "darts", "snas",
"gdas", "proxyless", trained with their bilevel step on random validation
batches), each in a fresh process, and prints one JSON object. The space
(`--space`) is the NAS-Bench-201 cell (`nb201`, the default), where only
the two convolutions of the five operations hold activations and the
choices are shared by every cell, or the MBConv blocks of `autokeras_nas.spaces.mbconv` (`mbconv`),
where every candidate holds an expanded tensor. Per mode:

- `tensor_peak_mb`: the peak of TensorFlow's CPU allocator during the epoch
  above what it held before (activations, gradients, kernel workspaces):
  the memory the mode itself decides;
- `rss_growth_mb`: the process's peak resident memory (Linux `VmHWM`)
  minus its resident memory before `fit`; it adds what tracing and running
  the step function costs besides tensors (graphs, kernels, Python objects).

TensorFlow keeps allocator statistics only with its default oneDNN setting,
so the children run with `TF_ENABLE_ONEDNN_OPTS=1`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any, Sequence

MODES = ("single", "all", "darts", "snas", "gdas", "proxyless")
#: The spaces measured: name -> (module:class, the keyword of its depth).
SPACES = {"nb201": ("autokeras_nas.spaces.nb201:Nb201Space", "cells_per_stage"),
          "mbconv": ("autokeras_nas.spaces.mbconv:MBConvSpace", "blocks_per_stage")}
#: The modes compared by default.
DEFAULT_MODES = ("single", "all")
#: The ratios reported when both modes were measured: (mode, against).
RATIOS = (("single", "all"), ("gdas", "darts"), ("proxyless", "darts"), ("snas", "darts"))


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status (memory figures need Linux)")


def training_tensor_peak_mb(model: Any, x: Any, y: Any, *, batch_size: int) -> float:
    """Fits `model` one epoch; returns the peak of TensorFlow's CPU allocator
    above what it held before, in MiB.

    Raises:
        RuntimeError: TensorFlow keeps no allocator statistics (it was
            imported with TF_ENABLE_ONEDNN_OPTS=0).
    """
    import tensorflow as tf

    try:
        held = tf.config.experimental.get_memory_info("CPU:0")["current"]
    except ValueError as e:
        raise RuntimeError("TensorFlow keeps no CPU allocator statistics here; import it "
                           "with TF_ENABLE_ONEDNN_OPTS=1 (its default)") from e
    tf.config.experimental.reset_memory_stats("CPU:0")
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return (tf.config.experimental.get_memory_info("CPU:0")["peak"] - held) / 2**20


def measure_here(mode: str, *, space: str = "nb201", input_shape: Sequence[int] = (28, 28, 1),
                 channels: int = 16, cells_per_stage: int = 1, batch_size: int = 64,
                 batches: int = 8, seed: int = 0) -> dict[str, Any]:
    """Trains `space`'s supernet in `mode` for one epoch of random data in
    this process; returns its memory figures (MiB). `cells_per_stage` is
    the depth of each stage (the MBConv space's `blocks_per_stage`). Run it
    once per fresh process: the resident peak is the process's since it
    started.

    Raises:
        ValueError: an unknown mode or space, or a size below 1.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if space not in SPACES:
        raise ValueError(f"space must be one of {tuple(SPACES)}, got {space!r}")
    if min(channels, cells_per_stage, batch_size, batches) < 1:
        raise ValueError("channels, cells_per_stage, batch_size and batches must be >= 1")
    import keras
    import keras_tuner
    import importlib

    import numpy as np

    from autokeras_nas.oneshot.choose import build_supernet

    keras.utils.set_random_seed(seed)
    target, depth = SPACES[space]
    module, name = target.split(":")
    options = {"conditional": False} if space == "nb201" else {}
    hypermodel = getattr(importlib.import_module(module), name)(
        input_shape=tuple(input_shape), num_classes=10, channels=channels,
        **{depth: cells_per_stage}, **options)
    model = build_supernet(hypermodel, keras_tuner.HyperParameters(), mode=mode, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.random((batch_size * batches, *input_shape), dtype="float32")
    y = rng.integers(0, 10, len(x))
    if mode not in DEFAULT_MODES:  # relaxed: the bilevel step, on validation batches too
        from autokeras_nas.oneshot.bilevel import BilevelStep, validation_iterator

        val = (rng.random((batch_size * 2, *input_shape), dtype="float32"),
               rng.integers(0, 10, batch_size * 2))
        BilevelStep(model, validation_iterator(val, batch_size, seed)).install()
    # The optimizer's slots and the metrics' state made first, as a search makes them
    # (`autokeras_nas.tuner.trainers.weights.build_training_state`, a layer above this one,
    # does this for any data): the step is traced once, and the figures hold what training
    # itself takes.
    model._symbolic_build(data_batch=(x[:1], y[:1]))
    before = _status_mb("VmRSS")
    tensors = training_tensor_peak_mb(model, x, y, batch_size=batch_size)
    peak = _status_mb("VmHWM")
    return {"mode": mode, "space": space, "tensor_peak_mb": round(tensors, 1),
            "rss_before_mb": round(before, 1), "rss_peak_mb": round(peak, 1),
            "rss_growth_mb": round(peak - before, 1), "params": int(model.count_params()),
            "channels": channels, "cells_per_stage": cells_per_stage,
            "batch_size": batch_size, "batches": batches, "input_shape": list(input_shape)}


def compare_modes(modes: Sequence[str] = DEFAULT_MODES, **kwargs: Any) -> dict[str, Any]:
    """`measure_here(mode, **kwargs)` for each mode in a fresh process, and
    the ratios of both figures for the pairs of `RATIOS` measured (e.g.
    `single_over_all_tensor_peak_mb`, `gdas_over_darts_tensor_peak_mb`).

    Raises:
        RuntimeError: a child process failed (its last error lines).
    """
    results: dict[str, Any] = {}
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "1"}
    for mode in modes:
        cmd = [sys.executable, "-m", "autokeras_nas.oneshot.memory", "--child", mode,
               "--options", json.dumps(kwargs)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"memory run of mode {mode!r} failed: {proc.stderr[-1500:]}")
        results[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    for mode, against in RATIOS:
        if mode in results and against in results:
            for key in ("tensor_peak_mb", "rss_growth_mb"):
                results[f"{mode}_over_{against}_{key}"] = round(
                    results[mode][key] / results[against][key], 3)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: sizes as options, the JSON on stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m autokeras_nas.oneshot.memory",
        description="Peak memory of one epoch of supernet training, single vs all paths.")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--space", choices=tuple(SPACES), default="nb201")
    parser.add_argument("--cells-per-stage", "--blocks-per-stage", dest="cells_per_stage",
                        type=int, default=None,
                        help="depth of each stage [default: 1 cell (nb201), 2 blocks (mbconv)]")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--modes", default=",".join(DEFAULT_MODES),
                        help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure_here(args.child, **json.loads(args.options))))
        return
    depth = args.cells_per_stage or (1 if args.space == "nb201" else 2)
    options = {"space": args.space, "channels": args.channels, "cells_per_stage": depth,
               "batch_size": args.batch_size, "batches": args.batches}
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown or not modes:
        parser.error(f"--modes: unknown {unknown}; choose from {', '.join(MODES)}")
    print(json.dumps(compare_modes(modes, **options), indent=1))


if __name__ == "__main__":
    main()
