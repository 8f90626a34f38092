"""The dataset of a search: loaded by name (numpy only), with one-line errors.

`load_dataset` loads what a new search asks for; `search_dataset` loads the
dataset a finished search used, with the same split, from its summary.json.
"""

from __future__ import annotations

from typing import Any, Mapping

from autokeras_nas.workflow.base import WorkflowError

__all__ = ["DEFAULT_VALIDATION_SPLIT", "load_dataset", "search_dataset"]

#: validation_split of a search whose summary.json does not record one
#: (the command line's default before summaries recorded it).
DEFAULT_VALIDATION_SPLIT = 0.2


def load_dataset(name: str, *, seed: int = 0, validation_split: float = 0.2,
                 target: str | None = None, data_dir: str | None = None,
                 task: str | None = None, image_size: str | None = None,
                 stream: bool | None = None) -> Any:
    """`autokeras_nas.data.load_dataset`, passing `target`, `data_dir`,
    `task`, `image_size` and `stream` only when given (a dataset that does
    not take them refuses them; `task` None or `auto`: decided from the data).

    Returns:
        The `autokeras_nas.data.Dataset`.

    Raises:
        WorkflowError: an unknown dataset or option, or the loader's error.
    """
    from autokeras_nas import data

    options = {k: v for k, v in (("target", target), ("data_dir", data_dir), ("task", task),
                                 ("image_size", image_size), ("stream", stream))
               if v is not None}
    try:
        return data.load_dataset(name, seed=seed, validation_split=validation_split, **options)
    except ValueError as e:
        raise WorkflowError(str(e)) from None


def search_dataset(summary: Mapping[str, Any]) -> Any:
    """The dataset of a search with its split (same seed, same split), from
    its summary.json (`dataset`, `seed`, `validation_split`, `target`,
    `data_dir`, `task`, `image_size`, `stream`; a summary without `task` is
    a classification's: every search was one before regression came).

    Raises:
        WorkflowError: the dataset cannot be loaded any more.
    """
    split = summary.get("validation_split")
    try:
        return load_dataset(summary["dataset"], seed=int(summary.get("seed") or 0),
                            validation_split=float(DEFAULT_VALIDATION_SPLIT if split is None
                                                   else split),
                            target=summary.get("target"), data_dir=summary.get("data_dir"),
                            task=summary.get("task") or "classification",
                            image_size=summary.get("image_size"), stream=summary.get("stream"))
    except (WorkflowError, OSError) as e:
        raise WorkflowError(f"cannot load the search's dataset {summary['dataset']!r}: {e}") \
            from None
