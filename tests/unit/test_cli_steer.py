"""`autokeras-nas steer`: edits from the command line, checked against the
space the search records, without TensorFlow."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from autokeras_nas import steering
from autokeras_nas.cli import main
from autokeras_nas.core import Choice, HyperSpace, Int
from autokeras_nas.testing.cli import one_line_error, probe_cli

SPACE = HyperSpace([Choice("edge_0_1", ("none", "skip_connect", "nor_conv_3x3")),
                    Choice("edge_1_2", ("none", "nor_conv_3x3")),
                    Choice("units", (16, 32)), Int("blocks", 1, 3)])


def search_dir(tmp_path: Path) -> Path:
    (tmp_path / "results.json").write_text(json.dumps(
        {"format": "autokeras_nas.results", "version": 1, "strategy": "random", "objectives": [],
         "trials": [], "space": SPACE.to_config()["space"]}))
    return tmp_path


def steer(*args: str):
    return CliRunner().invoke(main, ["steer", *args])


def test_edits_are_added_typed_by_the_recorded_space_and_listed(tmp_path):
    d = search_dir(tmp_path)
    result = steer(str(d), "--exclude", "*=nor_conv_3x3", "--pin", "units=32", "--pin", "blocks=2")
    assert result.exit_code == 0, result.output
    assert result.output.count("added #") == 3
    edits = steering.read_edits(str(d))
    assert [(e["action"], e["param"], e["value"], e["source"]) for e in edits] == [
        ("exclude", "*", "nor_conv_3x3", "cli"), ("pin", "units", 32, "cli"),
        ("pin", "blocks", 2, "cli")]
    narrowed = steering.narrow(SPACE, edits).space
    assert narrowed.get("edge_1_2").value == "none"  # one value left: fixed
    assert narrowed.get("units").value == 32
    assert steer(str(d), "--clear", "units").exit_code == 0
    listing = steer(str(d)).output.splitlines()
    assert len(listing) == 4 and listing[-1].startswith("#4 ") and "clear units" in listing[-1]


def test_bad_edits_are_one_line_errors_and_write_nothing(tmp_path):
    d = search_dir(tmp_path)
    for args, message in [(["--exclude", "units"], "takes NAME=VALUE"),
                          (["--exclude", "units=64"], "units has no value"),
                          (["--exclude", "depth=3"], "no hyperparameter 'depth'"),
                          (["--exclude", "blocks=2"], "pin blocks instead"),
                          (["--pin", "*=none"], "pin needs one hyperparameter")]:
        result = steer(str(d), *args)
        assert result.exit_code == 2 and message in one_line_error(result.output), result.output
    assert steering.read_edits(str(d)) == []
    assert "no search directory" in one_line_error(steer(str(tmp_path / "nope")).output)
    assert steer(str(d)).output.strip() == f"no edits in {d}"


def test_steer_imports_no_tensorflow(tmp_path):
    report, _, stderr = probe_cli("steer", str(search_dir(tmp_path)), "--pin", "units=16")
    assert report["code"] == 0 and report["loaded"] == [], stderr
