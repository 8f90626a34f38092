"""What a search directory may hold: JSON, Keras and HDF5 files, never a pickle.

Loading a pickle runs code, so a search directory shared or downloaded must
hold none (README, "Security"). `pickle_files(directory)` finds them: by
name (`.pkl`, `.pickle`, `.joblib`, `.dill`), by content (the PROTO opcode,
byte 0x80, that starts every pickle of protocol 2 and later), numpy `.npy`
arrays of objects (stored as pickles), and the same inside zip archives
(`.keras`, `.npz`). `assert_no_pickles(directory)` is the test's one line.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import BinaryIO

#: File names that say "pickle".
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".dill")
#: The first byte of a pickle of protocol 2 and later (the PROTO opcode).
PICKLE_PROTO = b"\x80"
#: The magic string of a numpy .npy file.
NPY_MAGIC = b"\x93NUMPY"
#: Bytes read from the start of a file (enough for an .npy header).
HEAD_BYTES = 4096


def _is_pickle(name: str, head: bytes) -> bool:
    """Whether a file named `name` starting with `head` holds a pickle."""
    if name.lower().endswith(PICKLE_SUFFIXES) or head[:1] == PICKLE_PROTO:
        return True
    # An .npy of objects: its header's dtype is '|O' and the data a pickle.
    return head.startswith(NPY_MAGIC) and b"'descr': '|O'" in head


def _zip_members_with_pickles(stream: BinaryIO, prefix: str) -> list[str]:
    found = []
    with zipfile.ZipFile(stream) as archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            with archive.open(member) as handle:
                data = handle.read()
            where = f"{prefix}!{member.filename}"
            if _is_pickle(member.filename, data[:HEAD_BYTES]):
                found.append(where)
            elif zipfile.is_zipfile(io.BytesIO(data)):
                found += _zip_members_with_pickles(io.BytesIO(data), where)
    return found


def pickle_files(directory: str | Path) -> list[str]:
    """The files under `directory` that are or contain pickles.

    Returns:
        Their paths relative to `directory`, sorted; a member of a zip
        archive as `archive!member`.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"not a directory: {root}")
    found: list[str] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        relative = str(path.relative_to(root))
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
        if _is_pickle(path.name, head):
            found.append(relative)
        elif zipfile.is_zipfile(path):
            with path.open("rb") as handle:
                found += _zip_members_with_pickles(handle, relative)
    return found


def assert_no_pickles(directory: str | Path) -> None:
    """Fails, naming them, if any file under `directory` is or holds a pickle."""
    found = pickle_files(directory)
    assert found == [], f"pickles in {directory}: {found}"
