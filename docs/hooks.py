"""MkDocs hook (mkdocs.yml `hooks:`): the site's pages whose sources live
outside docs/, made at every build in memory (nothing is written to docs/).

* `index.md`, the home page: the README, its links to `docs/...` made
  relative to the site's pages (LICENSE, which it links to, is copied too);
* `tutorials/index.md`: the tutorials' README;
* `tutorials/01_drop_in.md`, ...: each jupytext source `tutorials/NN_name.py`
  as Markdown, its text cells as they are and its code cells as Python
  blocks. The notebooks are not executed (tests/e2e/test_tutorials.py runs
  them), so the site builds in seconds without their data. jupytext, which
  the tutorials are edited with, reads the sources: no notebook renderer
  (nbconvert) and no copy of the notebooks is needed.

`generated_pages` is also what tests/unit/test_docs.py counts as existing
pages of the site; it imports neither MkDocs nor jupytext.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The README's links into docs/ lose that folder on the site, whose pages are docs/.
_DOCS_LINK = re.compile(r"\]\(docs/")


def generated_pages(root: Path = ROOT) -> dict[str, Path]:
    """The pages this hook adds (path in the site's sources -> its source)."""
    pages = {"index.md": root / "README.md", "tutorials/index.md": root / "tutorials" / "README.md"}
    for source in sorted((root / "tutorials").glob("[0-9][0-9]_*.py")):
        pages[f"tutorials/{source.stem}.md"] = source
    return pages


def home_page(readme: Path) -> str:
    """The README as the site's home page."""
    return _DOCS_LINK.sub("](", readme.read_text(encoding="utf-8"))


def tutorial_page(source: Path) -> str:
    """The jupytext percent script `source` as a Markdown page (not run)."""
    import jupytext

    parts = []
    for cell in jupytext.read(source).cells:
        text = cell.source.strip("\n")
        if text and cell.cell_type == "markdown":
            parts.append(text)
        elif text and cell.cell_type == "code":
            parts.append(f"```python\n{text}\n```")
    note = (f"!!! note \"Run it\"\n    This page is the notebook `tutorials/{source.stem}.ipynb` "
            f"(source: `tutorials/{source.name}`) without its outputs: run it in Jupyter "
            "to see them, as the [tutorials' page](index.md) says.")
    if parts and parts[0].startswith("# "):
        title, _, rest = parts[0].partition("\n")
        parts[0] = f"{title}\n\n{note}\n{rest}"
    else:
        parts.insert(0, note)
    return "\n\n".join(parts) + "\n"


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for page, source in generated_pages().items():
        if page == "index.md":
            content = home_page(source)
        elif source.suffix == ".py":
            content = tutorial_page(source)
        else:
            content = source.read_text(encoding="utf-8")
        files.append(File.generated(config, page, content=content))
    files.append(File.generated(config, "LICENSE", content=(ROOT / "LICENSE").read_bytes()))
    return files
