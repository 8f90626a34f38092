"""Seeded random generators whose state round-trips through JSON.

Every strategy owns its generators; nothing in the package touches a global
random state. A generator's full state is a small JSON-serialisable dict, so a
strategy restored from `state_dict()` continues with exactly the draws an
uninterrupted run would have made.
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np


def fresh_seed() -> int:
    """Returns a new 63-bit seed drawn from the operating system's entropy."""
    return secrets.randbits(63)


def make_rng(seed: int | None) -> np.random.Generator:
    """Creates a PCG64 generator.

    Args:
        seed: A non-negative integer. `None` is rejected on purpose: callers
            that want a random seed call `fresh_seed()` and record it.

    Returns:
        A `numpy.random.Generator`.
    """
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.Generator(np.random.PCG64(int(seed)))


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """Returns the generator's state as a JSON-serialisable dict."""
    state = rng.bit_generator.state
    # PCG64 state holds Python ints (arbitrarily large, fine for JSON).
    return {
        "bit_generator": state["bit_generator"],
        "state": {k: int(v) for k, v in state["state"].items()},
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


def set_rng_state(rng: np.random.Generator, state: dict[str, Any]) -> None:
    """Restores a state produced by `rng_state()` into `rng`."""
    if state.get("bit_generator") != rng.bit_generator.state["bit_generator"]:
        raise ValueError(
            f"cannot restore a {state.get('bit_generator')!r} state into a "
            f"{rng.bit_generator.state['bit_generator']!r} generator"
        )
    rng.bit_generator.state = {
        "bit_generator": state["bit_generator"],
        "state": dict(state["state"]),
        "has_uint32": state["has_uint32"],
        "uinteger": state["uinteger"],
    }
