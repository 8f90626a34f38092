"""`CellHyperModel`: POPNAS's cell space as a KerasTuner hypermodel.

A trial's architecture travels under `nas/arch` as JSON
`{"cell": [[in1, op1, in2, op2], ...], "macro": {...}}` (see
`autokeras_nas.spaces.cell_graph`).
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import keras
import keras_tuner

from autokeras_nas.core import ARCH
from autokeras_nas.spaces import cell_graph, cells
from autokeras_nas.spaces.nb201 import stem_strides_for


class CellHyperModel(keras_tuner.HyperModel):
    """Networks of stacked cells for images (2-D ops) or time series (1-D ops).

    Args:
        input_shape: `(height, width, channels)` or `(steps, channels)`.
        num_classes: Number of classes (integer labels).
        ops: Operator set; default `OPS_2D` or `OPS_1D` by the input's rank.
        max_blocks: B, the most blocks of a cell.
        motifs, normal_cells, filters, residual: The macro structure (M
            motifs of N normal cells, reduction cells between them, filters
            doubling at each reduction). Default 3 motifs of 1 normal cell
            of 16 filters: on Fashion-MNIST a third motif (ending at 7x7)
            raised the validation accuracy of the same cell after 2 epochs
            from 0.81 to 0.85, more than doubling the filters of 2 motifs did,
            at two more cells of the same multiply-adds each.
        stem_stride: Stride of the stem (`MacroConfig.stem_stride`), 1 or
            2. Default (`None`): 2 for images whose sides are both at least
            28 pixels (`autokeras_nas.spaces.nb201.stem_strides_for`, the
            rule of the NAS-Bench-201 space), else 1. On Fashion-MNIST the
            strided stem halved an epoch of a one-block cell (17 to 27 s
            instead of 33 to 43 s with 20,000 images in batches of 32) at
            the same validation accuracy after 3 epochs (0.873 against
            0.855). Series keep stride 1 (not measured).
        drop_path: NASNet's ScheduledDropPath rate (`MacroConfig.drop_path`);
            default 0, as 0.3 lowered that accuracy from 0.85 to 0.76 in
            the short trainings of a search.
        learning_rate: Adam's learning rate.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        *,
        ops: Sequence[str] | None = None,
        max_blocks: int = 3,
        motifs: int = 3,
        normal_cells: int = 1,
        filters: int = 16,
        residual: bool = False,
        stem_stride: int | None = None,
        drop_path: float = 0.0,
        learning_rate: float = 1e-3,
    ) -> None:
        super().__init__(name="cells")
        self.input_shape = tuple(input_shape)
        self.num_classes = int(num_classes)
        if ops is None:
            ops = cell_graph.OPS_2D if len(self.input_shape) == 3 else cell_graph.OPS_1D
        self.space = cell_graph.CellSpace(ops=tuple(ops), max_blocks=max_blocks)
        if stem_stride is None:
            stem_stride = stem_strides_for(self.input_shape) if len(self.input_shape) == 3 else 1
        self.macro = cell_graph.MacroConfig(motifs=motifs, normal_cells=normal_cells,
                                            filters=filters, residual=residual,
                                            drop_path=drop_path, stem_stride=stem_stride)
        self.learning_rate = learning_rate

    @property
    def cells(self) -> dict[str, Any]:
        """The cell-space spec a progressive strategy needs (`use_cells`)."""
        return {"ops": list(self.space.ops), "max_blocks": self.space.max_blocks,
                "lookback": self.space.lookback, "macro": self.macro.to_dict()}

    def build(self, hp: Any) -> keras.Model:
        text = hp.values.get(ARCH)
        if text is None:
            cell, macro = self.space.one_block_cells()[0], self.macro
        else:
            arch = json.loads(text)
            cell = tuple(tuple(b) for b in arch["cell"])
            macro = cell_graph.MacroConfig.from_dict(arch["macro"])
        model = cells.build_model(cell, macro, self.input_shape, self.num_classes, space=self.space)
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model
