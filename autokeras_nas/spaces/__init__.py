"""Search spaces that are also Keras functional-model builders.

Importing this package is light; a space's module imports Keras when it is
first used (`from autokeras_nas.spaces import image_classifier` imports Keras).

* `image_classifier(input_shape, num_classes)`: the CLI's default small-CNN
  space for image classification (`autokeras_nas.spaces.image`).
* A morphable network space (NASH-style network morphisms): specs and
  function-preserving morphisms in numpy (`autokeras_nas.spaces.morph_graph`:
  `start_network`, `random_morphism`, `apply`, `transfer`, `describe`,
  `shapes`, `nonnegative`, `to_json`, `from_json`, ...; no Keras import), and
  their Keras models (`autokeras_nas.spaces.morph`: `build_model`, `morph`,
  `get_weights`, `set_weights`, `preservation_error`). Exported here under
  other names: `apply_morphism`, `transfer_weights`, `describe_morphism`,
  `validate_network` and `morph_network` (`morph` stays the submodule).
* The PNAS / POPNASv3 cell space: cells, their canonical forms, expansions and
  encodings, and the macro architecture in numpy
  (`autokeras_nas.spaces.cell_graph`: `CellSpace`, `MacroConfig`, `OPS_2D`,
  `OPS_1D`, `OP_COST`; no Keras import), and their Keras models
  (`autokeras_nas.spaces.cells.build_model`, exported as `build_cell_model`).
* `Nb201Space(input_shape=, num_classes=)`: the NAS-Bench-201 cell space (6
  edges, each a `choose` of 5 operations; 2-D or 1-D), the default space of
  the one-shot strategies and searchable by every other
  (`autokeras_nas.spaces.nb201`; `--space nb201`).
* `MBConvSpace(input_shape=, num_classes=)`: ProxylessNAS' mobile space, one
  `choose` per inverted-bottleneck block among 6 MBConv operations (and
  `zero`, a skipped block); 2-D or 1-D (`autokeras_nas.spaces.mbconv`;
  `--space mbconv`).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "image_classifier": "autokeras_nas.spaces.image",
    "max_conv_blocks": "autokeras_nas.spaces.image",
    # numpy only
    "MORPHISM_TYPES": "autokeras_nas.spaces.morph_graph",
    "apply_morphism": "autokeras_nas.spaces.morph_graph",
    "describe_morphism": "autokeras_nas.spaces.morph_graph",
    "from_json": "autokeras_nas.spaces.morph_graph",
    "nonnegative": "autokeras_nas.spaces.morph_graph",
    "random_morphism": "autokeras_nas.spaces.morph_graph",
    "shapes": "autokeras_nas.spaces.morph_graph",
    "start_network": "autokeras_nas.spaces.morph_graph",
    "to_json": "autokeras_nas.spaces.morph_graph",
    "transfer_weights": "autokeras_nas.spaces.morph_graph",
    "validate_network": "autokeras_nas.spaces.morph_graph",
    "weight_shapes": "autokeras_nas.spaces.morph_graph",
    "cell_cost_features": "autokeras_nas.spaces.cell_graph",
    "CellSpace": "autokeras_nas.spaces.cell_graph",
    "MacroConfig": "autokeras_nas.spaces.cell_graph",
    "OPS_1D": "autokeras_nas.spaces.cell_graph",
    "OPS_2D": "autokeras_nas.spaces.cell_graph",
    "OP_COST": "autokeras_nas.spaces.cell_graph",
    # Keras
    "build_model": "autokeras_nas.spaces.morph",
    "get_weights": "autokeras_nas.spaces.morph",
    "morph_network": "autokeras_nas.spaces.morph",
    "preservation_error": "autokeras_nas.spaces.morph",
    "set_weights": "autokeras_nas.spaces.morph",
    "build_cell_model": "autokeras_nas.spaces.cells",
    "Nb201Space": "autokeras_nas.spaces.nb201",
    "MBConvSpace": "autokeras_nas.spaces.mbconv",
}
#: Names exported under another name than in their module: too generic here,
#: or (`morph`) the name of the submodule itself.
_RENAMED = {
    "cell_cost_features": "cost_features",
    "morph_network": "morph",
    "apply_morphism": "apply",
    "describe_morphism": "describe",
    "transfer_weights": "transfer",
    "validate_network": "validate",
    "build_cell_model": "build_model",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), _RENAMED.get(name, name))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
