"""`images:DIR`: a folder with one sub-folder of images per class.

```
DIR/
  cat/  001.png  002.jpg ...
  dog/  a.jpeg  b/c.png ...      (nested folders count for their class)
```

The layout of `keras.utils.image_dataset_from_directory`:

- Classes: the sub-folders' names, sorted; class id `i` is the `i`-th name
  (`Dataset.class_names`). Every class needs at least one image.
- Files: `.png`, `.jpg`, `.jpeg`, `.bmp` and `.gif` (first frame), any case,
  at any depth under the class folder; other files and hidden ones
  (starting with `.`) are ignored. Every file's header is read with Pillow
  first: a file Pillow cannot identify is an error naming it.
- Size: every image is resized (bilinear) to one size, `image_size=(H, W)`
  (`--image-size H,W` or `HxW`), any size. Default: the folder's most
  common size, shrunk proportionally only when one decoded image would
  exceed `DEFAULT_IMAGE_BYTES` (1 MiB of float32, e.g. 256x256 RGB fits,
  512x512 RGB becomes 295x295).
- Channels: 1 (grey) when every image is grey, else 3 (RGB); alpha
  channels are dropped. 8-bit values are scaled to [0, 1] (float32).
- Splits: a seeded stratified 20 % test split, then `validation_split` of
  the rest for validation, of the file list, so the same seed gives the
  same files in each split whether the folder is loaded or streamed.

Loaded or streamed (`stream`, `--stream/--no-stream`; default: by size):

- Loaded (`stream=False`, the default while the decoded folder,
  `n * H * W * C * 4` bytes, is at most `STREAM_ABOVE`, 1 GiB): every image
  is decoded with Pillow into numpy arrays, as any other dataset.
- Streamed (`stream=True`, the default above `STREAM_ABOVE`): the
  `Dataset`'s `x_train`, `x_val` and `x_test` are `ImageFiles`, the split's
  file paths, and each becomes a `tf.data` pipeline when a search trains or
  evaluates on it: read -> `tf.image.decode_image` -> `tf.image.resize`
  (bilinear), the steps of Keras' own directory loader
  (`keras.utils.image_dataset_from_directory`, whose pixels the pipeline
  reproduces to within rounding to 8 bits), run in parallel, batched and
  prefetched. Keras' loader itself is not called because it splits only
  into training and validation parts, not the stratified three-way split
  every dataset here has. A split's 8-bit pixels are cached in memory when
  they take at most `CACHE_BELOW` (512 MiB; a shuffled split's buffer then
  holds as much again), so only the first epoch reads the disk; larger
  splits are decoded again every epoch (their file names are shuffled, not
  their pixels) and never held whole.
  A streamed folder is validated on the split, never by k-fold. An image
  whose header reads but whose pixel data is corrupt fails when the
  pipeline reaches it (the trial fails with TensorFlow's message).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from autokeras_nas.data.arrays import make_dataset
from autokeras_nas.data.base import Dataset, register

#: File name endings read as images (compared in lower case).
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
#: Largest decoded float32 image (`H * W * C * 4` bytes) of the default size.
DEFAULT_IMAGE_BYTES = 2**20
#: Decoded float32 size of a folder (`n * H * W * C * 4` bytes) above which it
#: is streamed by default: loading it whole peaks at several times this.
STREAM_ABOVE = 2**30
#: Most bytes of 8-bit pixels (`n * H * W * C`) a streamed split caches in memory.
CACHE_BELOW = 2**29
#: Pillow modes read as grey (one channel).
GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})

SUMMARY = ("one sub-folder of PNG/JPEG images per class; resized to --image-size (default: "
           "the most common size), scaled to [0, 1]; streamed from disk above 1 GiB decoded")


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


def survey(paths: Sequence[Path]) -> tuple[tuple[int, int], bool]:
    """The most common `(H, W)` of the images (ties: the first in order) and
    whether every one is grey, from their headers (no pixels decoded).

    Raises:
        ValueError: A file Pillow cannot identify as an image.
    """
    sizes: Counter[tuple[int, int]] = Counter()
    grey = True
    for path in paths:
        with _open(path) as image:
            width, height = image.size
            grey = grey and image.mode in GREY_MODES
        sizes[(height, width)] += 1
    return sizes.most_common(1)[0][0], grey


def default_size(size: tuple[int, int], channels: int) -> tuple[int, int]:
    """`size`, shrunk proportionally so that one float32 image of `channels`
    takes at most `DEFAULT_IMAGE_BYTES`."""
    height, width = size
    scale = min(1.0, (DEFAULT_IMAGE_BYTES / (height * width * channels * 4)) ** 0.5)
    return max(1, int(height * scale)), max(1, int(width * scale))


def _read(path: Path, size: tuple[int, int], mode: str) -> np.ndarray:
    from PIL import Image

    with _open(path) as image:
        try:
            image.seek(0)
            converted = image.convert(mode).resize((size[1], size[0]), Image.Resampling.BILINEAR)
        except (OSError, ValueError) as e:  # truncated or corrupt pixel data
            raise ValueError(f"images: cannot read image {path}: {e}") from None
    return np.asarray(converted, dtype=np.uint8)


_SIZE_TEXT = re.compile(r"\s*(\d+)\s*[,xX]\s*(\d+)\s*")


def parse_image_size(value: str | Sequence[int] | None) -> tuple[int, int] | None:
    """`"96,80"`, `"96x80"` or `(96, 80)` -> `(96, 80)` (height, width); None stays None.

    Raises:
        ValueError: anything else, or a side that is not a positive integer.
    """
    if value is None:
        return None
    if isinstance(value, str):
        match = _SIZE_TEXT.fullmatch(value)
        size = (int(match.group(1)), int(match.group(2))) if match else ()
    else:
        size = tuple(value)
    if len(size) != 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                                 and s > 0 for s in size):
        raise ValueError(f"image size must be HEIGHT,WIDTH in pixels (e.g. 96,80 or 96x80), "
                         f"got {value!r}")
    return int(size[0]), int(size[1])


@dataclass(frozen=True, eq=False)
class ImageFiles:
    """The inputs of a streamed split: image files, decoded when iterated.

    Stands where a loaded `Dataset` has a float32 array: `len()`, `shape`
    (`(n, H, W, C)`) and indexing by an index array (a subset) work as on
    the array; `pipeline` makes the `tf.data` pipeline a search trains on
    (see the module docstring) and `to_numpy` decodes every image (for an
    export's evaluation).
    """

    paths: tuple[str, ...]
    image_size: tuple[int, int]
    channels: int

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.paths), *self.image_size, self.channels)

    @property
    def pixel_bytes(self) -> int:
        """Bytes of the split's 8-bit pixels (`n * H * W * C`)."""
        return int(np.prod(self.shape, dtype=np.int64))

    def __getitem__(self, indices: Any) -> "ImageFiles":
        picked = np.asarray(self.paths, dtype=object)[np.asarray(indices)]
        return ImageFiles(tuple(picked.tolist()), self.image_size, self.channels)

    def join(self, other: "ImageFiles") -> "ImageFiles":
        """This split's files followed by `other`'s."""
        return ImageFiles(self.paths + other.paths, self.image_size, self.channels)

    def pipeline(self, labels: np.ndarray, batch_size: int, *, shuffle: bool = False,
                 seed: int = 0, cache: bool | None = None) -> Any:
        """A batched `tf.data.Dataset` of `(float32 images in [0, 1], int64 labels)`.

        Args:
            labels: One class id per file, in the files' order.
            batch_size: Samples per batch.
            shuffle: Reshuffle the files every epoch (seeded).
            seed: Seed of the shuffle.
            cache: Keep the 8-bit pixels in memory after the first pass;
                default: when they take at most `CACHE_BELOW` bytes.
        """
        import tensorflow as tf

        if len(labels) != len(self.paths):
            raise ValueError(f"{len(labels)} labels for {len(self.paths)} image files")
        size, channels = self.image_size, self.channels

        def decode(path: Any) -> Any:  # keras' image_dataset_utils.load_image, to 8 bits
            # Decoded as stored, then to `channels`: TensorFlow decodes no BMP to 1 channel.
            image = tf.io.decode_image(tf.io.read_file(path), channels=0,
                                       expand_animations=False)
            stored = tf.shape(image)[-1]
            if channels == 1:
                image = tf.cond(stored >= 3, lambda: tf.image.rgb_to_grayscale(image[..., :3]),
                                lambda: image[..., :1])
            else:
                image = tf.cond(stored >= 3, lambda: image[..., :3],
                                lambda: tf.image.grayscale_to_rgb(image[..., :1]))
            image = tf.image.resize(image, size, method="bilinear")
            image = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)
            image.set_shape((*size, channels))
            return image

        labels = np.asarray(labels, dtype=np.int64)
        data = tf.data.Dataset.from_tensor_slices((np.asarray(self.paths, dtype=str), labels))
        if cache is None:
            cache = self.pixel_bytes <= CACHE_BELOW
        if shuffle and not cache:  # shuffle the (small) file names, not decoded images
            data = data.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
        data = data.map(lambda path, label: (decode(path), label),
                        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if cache:
            data = data.cache()
            if shuffle:
                data = data.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
        data = data.batch(batch_size)
        data = data.map(lambda image, label: (tf.cast(image, tf.float32) / 255.0, label),
                        num_parallel_calls=tf.data.AUTOTUNE)
        return data.prefetch(tf.data.AUTOTUNE)

    def to_numpy(self, batch_size: int = 64) -> np.ndarray:
        """Every image decoded, as float32 `(n, H, W, C)` in [0, 1]."""
        batches = [x.numpy() for x, _ in self.pipeline(np.zeros(len(self.paths), np.int64),
                                                        batch_size, cache=False)]
        return np.concatenate(batches) if batches else np.zeros(self.shape, np.float32)


def decoded_bytes(n: int, size: tuple[int, int], channels: int) -> int:
    """Bytes of `n` float32 images of `size` and `channels`."""
    return int(n) * size[0] * size[1] * channels * 4


@register("images", prefix=True, usage="images:DIR", summary=SUMMARY,
          options=("image_size", "stream"))
def load_images(
    argument: str,
    *,
    seed: int = 0,
    validation_split: float = 0.2,
    image_size: str | Sequence[int] | None = None,
    stream: bool | None = None,
) -> Dataset:
    """Loads `images:DIR` as float32 `(H, W, C)` images in [0, 1] with int labels.

    Args:
        argument: The DIR of `images:DIR` (`~` is expanded).
        seed: Seed of the stratified test and validation splits.
        validation_split: Fraction of the non-test images for validation.
        image_size: `(height, width)` or `"H,W"` / `"HxW"` every image is
            resized to; default as the module docstring says.
        stream: True: stream the images from disk (`ImageFiles` inputs);
            False: decode them all into arrays; None: stream when the
            decoded folder exceeds `STREAM_ABOVE`.

    Returns:
        The `Dataset` named `images:DIR`, with the folder names as
        `class_names`.

    Raises:
        ValueError: A missing directory, fewer than two classes, an empty
            class folder, an unreadable image or a bad `image_size`.
    """
    size = parse_image_size(image_size)
    if not argument:
        raise ValueError("images needs a directory, e.g. images:photos/")
    directory = Path(argument).expanduser()
    classes, items = scan(directory)
    paths = [path for path, _ in items]
    common, grey = survey(paths)
    channels = 1 if grey else 3
    size = size or default_size(common, channels)
    decoded = decoded_bytes(len(paths), size, channels)
    streamed = decoded > STREAM_ABOVE if stream is None else bool(stream)
    y = np.array([label for _, label in items], dtype=np.int64)
    if streamed:
        x: Any = ImageFiles(tuple(str(p) for p in paths), size, channels)
    else:
        # Decoded straight into one float32 array: no 8-bit stack or temporary copy beside it.
        x = np.empty((len(paths), *size, channels), dtype=np.float32)
        for i, path in enumerate(paths):
            pixels = _read(path, size, "L" if grey else "RGB")
            x[i] = (pixels[..., np.newaxis] if grey else pixels) / np.float32(255.0)
    how = "streamed from disk" if streamed else "loaded"
    return make_dataset(
        name=f"images:{argument}", kind="image", x=x, y=y,
        seed=seed, validation_split=validation_split, class_names=classes,
        source=(f"{len(paths)} images from {directory}, resized to {size[0]}x{size[1]}, "
                f"{'grey' if grey else 'RGB'}, {how} ({decoded / 2**20:.0f} MiB decoded); "
                "stratified 20 % test split"),
    )
