"""The live view and plain lines of a k-fold search say so: the validation
in the header, the fold and epoch of the running trial."""

from __future__ import annotations

import io
from pathlib import Path

from autokeras_nas.cli.progress import LiveDisplay, ProgressPrinter


def test_live_view_names_the_validation_and_the_running_fold(tmp_path: Path) -> None:
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    display = LiveDisplay(["val_accuracy"], tmp_path, max_trials=5, epochs=4, console=console,
                          validation="5-fold")
    display({"event": "trial_begin", "trial_id": "0", "values": {"units": 16}})
    display({"event": "epoch_end", "trial_id": "0", "epoch": 3, "fold": 2, "folds": 5,
             "logs": {"val_accuracy": 0.7}})
    console.print(display.render())
    text = out.getvalue()
    assert "validation: 5-fold cross-validation, val_accuracy = mean over folds" in text
    assert "fold 2/5 epoch 3/4  val_accuracy=0.7000" in text
    plain = LiveDisplay(["val_accuracy"], tmp_path, max_trials=5, epochs=4, console=console)
    out.truncate(0)
    console.print(plain.render())
    assert "validation" not in out.getvalue()


def test_plain_lines_show_the_fold_of_each_epoch() -> None:
    lines: list[str] = []
    printer = ProgressPrinter(["val_accuracy"], verbose=True, echo=lines.append)
    printer({"event": "epoch_end", "trial_id": "3", "epoch": 1, "fold": 4, "folds": 5,
             "logs": {"val_accuracy": 0.5}})
    printer({"event": "epoch_end", "trial_id": "4", "epoch": 2, "logs": {"val_accuracy": 0.5}})
    assert lines == ["trial 3: fold 4/5 epoch 1  val_accuracy=0.5000",
                     "trial 4: epoch 2  val_accuracy=0.5000"]
