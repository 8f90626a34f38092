"""The tutorial notebooks: each `.ipynb` matches its jupytext source, is stored
without outputs, checks what it claims with visible `assert`s, and runs top to
bottom in a fresh kernel on a small budget (a failing `assert` fails the run).

Regenerate a notebook after editing its source with
`jupytext --update --to ipynb tutorials/NN_name.py` (keeps the cell ids).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import jupytext
import nbformat
import pytest

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"
SOURCES = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
#: The budget switch every notebook reads (fewer trials and epochs).
QUICK = "AUTOKERAS_NAS_TUTORIAL_QUICK"
#: Figures each notebook saves into its working directory.
FIGURES = {
    "01_drop_in": ["01_best_so_far.png"],
    "02_cli": ["runs_cli/digits/progress.png", "runs_cli/digits/pareto.png"],
    "03_multi_objective": ["03_pareto_latency.png", "03_fronts.png"],
    "04_nash_morphisms": ["04_growth.png", "04_preservation.png"],
    "05_timeseries_popnas": ["05_series.png", "05_predicted_vs_actual.png"],
    "06_nasbench201": ["06_regret.png", "06_hypervolume.png"],
    "07_parallel": ["07_timeline.png"],
}
#: A plot with data is larger than this: empty labelled axes saved at the
#: notebooks' sizes and dpi take 9-10 kB; the smallest quick-run plot ~17 kB.
MIN_FIGURE_BYTES = 12_000


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_every_tutorial_is_found_and_paired() -> None:
    assert len(SOURCES) >= 5
    notebooks = sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))
    assert [p.stem for p in notebooks] == [p.stem for p in SOURCES]
    assert {p.stem for p in SOURCES} <= set(FIGURES)


@pytest.mark.parametrize("source", SOURCES, ids=_ids(SOURCES))
def test_notebook_matches_its_source_and_has_no_outputs(source: Path) -> None:
    expected = jupytext.read(source)
    stored = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    nbformat.validate(stored)
    regenerate = f"regenerate with: jupytext --update --to ipynb tutorials/{source.name}"
    assert [(c.cell_type, c.source) for c in stored.cells] == [
        (c.cell_type, c.source) for c in expected.cells], regenerate
    for cell in stored.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{source.stem}.ipynb is stored with outputs; {regenerate}")
    assert stored.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("source", SOURCES, ids=_ids(SOURCES))
def test_notebook_has_a_budget_switch_and_gpu_advice(source: Path) -> None:
    text = source.read_text()
    assert QUICK in text
    markdown = [c.source for c in jupytext.read(source).cells if c.cell_type == "markdown"]
    assert any("On a GPU, raise" in m for m in markdown), source.name


@pytest.mark.parametrize("source", SOURCES, ids=_ids(SOURCES))
def test_notebook_checks_what_it_claims(source: Path) -> None:
    """At least one code cell asserts a claim of the notebook on its own results,
    so running it in CI tests the claim, not only that it does not crash."""
    code = [c.source for c in jupytext.read(source).cells if c.cell_type == "code"]
    asserts = [line for cell in code for line in cell.splitlines()
               if line.lstrip().startswith("assert ")]
    assert asserts, f"{source.name} asserts nothing about its results"


@pytest.mark.tf
@pytest.mark.parametrize("source", SOURCES, ids=_ids(SOURCES))
def test_notebook_runs_on_a_small_budget(source: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from nbclient import NotebookClient

    monkeypatch.setenv(QUICK, "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    elapsed = time.perf_counter() - start
    print(f"{source.stem}: executed in {elapsed:.1f} s")
    shown = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
             if "image/png" in o.get("data", {})]
    assert shown, f"{source.stem} shows no plot"
    for name in FIGURES[source.stem]:
        path = tmp_path / name
        assert path.is_file(), f"{source.stem} did not save {name}"
        assert path.stat().st_size > MIN_FIGURE_BYTES, f"{name} looks empty"
    if os.environ.get("AUTOKERAS_NAS_TUTORIAL_KEEP"):
        # Keep the executed notebook and its figures for a look.
        keep = Path(os.environ["AUTOKERAS_NAS_TUTORIAL_KEEP"]) / source.stem
        keep.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, keep / f"{source.stem}.ipynb")
        for png in tmp_path.rglob("*.png"):
            (keep / png.name).write_bytes(png.read_bytes())
