"""The shipped synflow scores of every NAS-Bench-201 cell (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from autokeras_nas.bench import nb201_synflow
from autokeras_nas.bench.nb201 import cell_index


def test_the_shipped_scores_hold_every_cell(tmp_path) -> None:
    scores = nb201_synflow.load_scores()
    assert scores.shape == (15625,) and np.all(np.isfinite(scores))
    # A cell whose output does not depend on its input (every edge into
    # node 3 is none) has no synaptic flow through it.
    assert scores[cell_index({"edge_0_1": "nor_conv_3x3", "edge_0_2": "nor_conv_3x3",
                              "edge_1_2": "nor_conv_3x3", "edge_0_3": "none",
                              "edge_1_3": "none", "edge_2_3": "none"})] == 0.0
    bad = tmp_path / "bad.json"
    bad.write_text('{"scores": [1.0, 2.0]}')
    with pytest.raises(nb201_synflow.ScoresError, match="holds 2 scores"):
        nb201_synflow.load_scores(bad)
