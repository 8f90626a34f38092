"""`autokeras-nas search --dataset images:DIR --image-size 96,80 --stream`
end to end: a folder of 96x80 PNGs (larger than the old 64-pixel cap)
streamed from disk through tf.data, searched, scored on its test split and
exported from the same files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from autokeras_nas.testing.forkserver import ForkServer

pytestmark = pytest.mark.tf


def _shapes(root: Path) -> Path:
    """3 classes x 12 PNGs of 96x80 (H x W): a red disc, a green square, a
    blue triangle, at random places and sizes on a noisy background."""
    rng = np.random.default_rng(0)
    for name in ("disc", "square", "triangle"):
        (root / name).mkdir(parents=True)
        for i in range(12):
            image = Image.fromarray(rng.integers(0, 50, (96, 80, 3), dtype=np.uint8))
            draw = ImageDraw.Draw(image)
            r = int(rng.integers(12, 24))
            cx, cy = int(rng.integers(r, 80 - r)), int(rng.integers(r, 96 - r))
            if name == "disc":
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(230, 40, 40))
            elif name == "square":
                draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=(40, 220, 40))
            else:
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)],
                             fill=(40, 40, 230))
            image.save(root / name / f"{i:02d}.png")
    return root


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory, fork_server: ForkServer
             ) -> tuple[Path, subprocess.CompletedProcess]:
    """The search, forked from the interpreter that imported TensorFlow once."""
    cwd = tmp_path_factory.mktemp("images")
    folder = _shapes(cwd / "shapes")
    return cwd, fork_server.run(["search", "--dataset", f"images:{folder}", "--image-size",
                                 "96,80", "--stream", "--max-trials", "2", "--epochs", "1",
                                 "--out", "run"], cwd=cwd, timeout=600)


def test_a_streamed_folder_is_searched_and_scored(searched) -> None:
    cwd, proc = searched
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "23 train / 6 val / 7 test, 3 classes, input (96, 80, 3), streamed from disk" \
        in proc.stdout
    assert "validation: validation split of 6 samples (auto: streamed from disk)" in proc.stdout
    assert sum(": completed" in line for line in proc.stdout.splitlines()) == 2
    summary = json.loads((cwd / "run" / "summary.json").read_text())
    assert summary["image_size"] == "96,80" and summary["stream"] is True
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    assert f"test accuracy {summary['test_accuracy']:.4f}" in proc.stdout

    import keras

    model = keras.saving.load_model(cwd / "run" / "best_model.keras")
    assert tuple(model.inputs[0].shape) == (None, 96, 80, 3)


def test_the_export_reads_the_same_streamed_files(searched) -> None:
    cwd, proc = searched
    assert proc.returncode == 0, proc.stderr[-3000:]
    # The export in this process (click's runner): TensorFlow is loaded already.
    from click.testing import CliRunner

    from autokeras_nas.cli import main

    export = CliRunner().invoke(main, ["export", str(cwd / "run"), "--format", "keras"])
    assert export.exit_code == 0 and export.exception is None, export.output
    manifest = json.loads((cwd / "run" / "export" / "export.json").read_text())
    summary = json.loads((cwd / "run" / "summary.json").read_text())
    assert manifest["test_accuracy"]["keras"] == pytest.approx(summary["test_accuracy"])
