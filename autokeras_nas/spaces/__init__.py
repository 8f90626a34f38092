"""Search spaces that are also Keras functional-model builders.

Importing this package is light; a space's module imports Keras when it is
first used (`from autokeras_nas.spaces import image_classifier` imports Keras).

* `image_classifier(input_shape, num_classes)`: the CLI's default small-CNN
  space for image classification (`autokeras_nas.spaces.image`).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "image_classifier": "autokeras_nas.spaces.image",
    "max_conv_blocks": "autokeras_nas.spaces.image",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
