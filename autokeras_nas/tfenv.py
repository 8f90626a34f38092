"""TensorFlow's environment defaults for the processes the package starts.

`prepare()` must run before TensorFlow is imported; it only fills variables
the user has not set:

- `TF_CPP_MIN_LOG_LEVEL=2`: no C++ info/warning lines in the CLI's output.
- `TF_ENABLE_ONEDNN_OPTS=0`: TF 2.21's oneDNN CPU kernels abort the process
  ("free(): invalid size", "double free or corruption") while training
  some of the 1-D cell space's models (a dilated conv beside a strided
  projection on UCR GunPoint, POPNAS' first trial in tutorial 5). An abort
  cannot be caught as a failed trial. The plain kernels compute the same,
  and on the 2-core CPU a tiny CNN epoch takes as long either way
  (digits Conv2D 0.31 vs 0.32 s, Conv1D 0.17 vs 0.21 s per epoch).

The `autokeras-nas` commands call it; in your own script set the variable
before `import tensorflow` / `import keras` if you train 1-D cells on CPU.
No TensorFlow here.
"""

from __future__ import annotations

import os

DEFAULTS = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}


def prepare() -> None:
    """Sets each of `DEFAULTS` that is not set already (before importing TF)."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
