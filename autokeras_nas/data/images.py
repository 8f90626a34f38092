"""`images:DIR`: a folder with one sub-folder of images per class.

```
DIR/
  cat/  001.png  002.jpg ...
  dog/  a.jpeg  b/c.png ...      (nested folders count for their class)
```

The layout of `keras.utils.image_dataset_from_directory`, read with Pillow
(no TensorFlow):

- Classes: the sub-folders' names, sorted; class id `i` is the `i`-th name
  (`Dataset.class_names`). Every class needs at least one image.
- Files: `.png`, `.jpg`, `.jpeg`, `.bmp` and `.gif` (first frame), any case,
  at any depth under the class folder; other files and hidden ones
  (starting with `.`) are ignored. An image file Pillow cannot read is an
  error naming it.
- Size: every image is resized (bilinear) to one size. Default: the size of
  the first image (first class, first file in sorted order), shrunk
  proportionally so that neither side exceeds `MAX_SIDE` (64) pixels;
  `load_images(..., image_size=(H, W))` sets it.
- Channels: 1 (grey) when every image is grey, else 3 (RGB); alpha
  channels are dropped. 8-bit values are scaled to [0, 1] (float32).
- Splits: a seeded stratified 20 % test split, then `validation_split` of
  the rest for validation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from autokeras_nas.data.arrays import make_dataset
from autokeras_nas.data.base import Dataset, register

#: File name endings read as images (compared in lower case).
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
#: Longest side of the default image size.
MAX_SIDE = 64
#: Pillow modes read as grey (one channel).
GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})

SUMMARY = ("one sub-folder of PNG/JPEG images per class; resized to the first image's "
           f"size (at most {MAX_SIDE}x{MAX_SIDE}), scaled to [0, 1]")


def _image_files(folder: Path) -> list[Path]:
    files = []
    for path in sorted(folder.rglob("*")):
        hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
        if not hidden and path.is_file() and path.suffix.lower() in EXTENSIONS:
            files.append(path)
    return files


def scan(directory: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """The class names and the `(file, class id)` of every image under `directory`.

    Raises:
        ValueError: Not a directory, fewer than two class folders, or a
            class folder without images.
    """
    if not directory.is_dir():
        raise ValueError(f"images: no such directory: {directory}")
    classes = sorted(p.name for p in directory.iterdir()
                     if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise ValueError(f"images: {directory} needs one sub-folder of images per class, at least "
                         f"2, found {len(classes)}")
    items = []
    for label, name in enumerate(classes):
        files = _image_files(directory / name)
        if not files:
            raise ValueError(f"images: class folder {directory / name} has no image files "
                             f"({', '.join(EXTENSIONS)})")
        items.extend((path, label) for path in files)
    return classes, items


def _open(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(path)
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"images: cannot read image {path}: {e}") from None


def default_size(first: Path) -> tuple[int, int]:
    """`(H, W)` of the image at `first`, shrunk to fit in `MAX_SIDE` x `MAX_SIDE`."""
    with _open(first) as image:
        width, height = image.size
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _all_grey(paths: Sequence[Path]) -> bool:
    for path in paths:
        with _open(path) as image:
            if image.mode not in GREY_MODES:
                return False
    return True


def _read(path: Path, size: tuple[int, int], mode: str) -> np.ndarray:
    from PIL import Image

    with _open(path) as image:
        try:
            image.seek(0)
            converted = image.convert(mode).resize((size[1], size[0]), Image.Resampling.BILINEAR)
        except (OSError, ValueError) as e:  # truncated or corrupt pixel data
            raise ValueError(f"images: cannot read image {path}: {e}") from None
    return np.asarray(converted, dtype=np.uint8)


def _check_size(image_size: Sequence[int] | None) -> tuple[int, int] | None:
    if image_size is None:
        return None
    size = tuple(image_size)
    if len(size) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size):
        raise ValueError(f"image_size must be (height, width) in pixels, got {image_size!r}")
    return int(size[0]), int(size[1])


@register("images", prefix=True, usage="images:DIR", summary=SUMMARY)
def load_images(
    argument: str,
    *,
    seed: int = 0,
    validation_split: float = 0.2,
    image_size: Sequence[int] | None = None,
) -> Dataset:
    """Loads `images:DIR` as float32 `(H, W, C)` images in [0, 1] with int labels.

    Args:
        argument: The DIR of `images:DIR` (`~` is expanded).
        seed: Seed of the stratified test and validation splits.
        validation_split: Fraction of the non-test images for validation.
        image_size: `(height, width)` every image is resized to; default as
            the module docstring says.

    Returns:
        The `Dataset` named `images:DIR`, with the folder names as
        `class_names`.

    Raises:
        ValueError: A missing directory, fewer than two classes, an empty
            class folder, an unreadable image or a bad `image_size`.
    """
    size = _check_size(image_size)
    if not argument:
        raise ValueError("images needs a directory, e.g. images:photos/")
    directory = Path(argument).expanduser()
    classes, items = scan(directory)
    paths = [path for path, _ in items]
    size = size or default_size(paths[0])
    mode = "L" if _all_grey(paths) else "RGB"
    pixels = np.stack([_read(path, size, mode) for path in paths])
    x = pixels.astype(np.float32) / np.float32(255.0)
    if mode == "L":
        x = x[..., np.newaxis]
    y = np.array([label for _, label in items], dtype=np.int64)
    return make_dataset(
        name=f"images:{argument}", kind="image", x=x, y=y,
        seed=seed, validation_split=validation_split, class_names=classes,
        source=(f"{len(paths)} images from {directory}, resized to {size[0]}x{size[1]}, "
                f"{'grey' if mode == 'L' else 'RGB'}; stratified 20 % test split"),
    )
