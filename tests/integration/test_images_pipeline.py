"""A streamed `images:DIR` on TensorFlow: the pipeline's pixels are those of
Keras' own directory loader (to within 8-bit rounding), caching changes
nothing, shuffling reorders every epoch with the labels attached, and the
workflow's accuracy reads it batch by batch."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from autokeras_nas.data import load_dataset
from autokeras_nas.data.images import ImageFiles, scan
from autokeras_nas.workflow.training import accuracy, make_pipeline

pytestmark = pytest.mark.tf


def _folder(root: Path, mode: str, formats=(".png", ".jpg", ".bmp", ".gif")) -> Path:
    """Three classes of mixed sizes and formats; class = brightest channel (or level)."""
    rng = np.random.default_rng(0)
    for label in range(3):
        (root / "xyz"[label]).mkdir(parents=True)
        for i in range(6):
            size = (30 + 7 * i, 24 + 5 * label)  # (H, W), resized by the loader
            pixels = rng.integers(0, 60, (*size, 3), dtype=np.uint8)
            pixels[..., label] += 180
            image = Image.fromarray(pixels)
            image = image.convert("L") if mode == "L" else image
            image.save(root / "xyz"[label] / f"{i}{formats[i % len(formats)]}")
    return root


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_pixels_are_keras_directory_loaders(tmp_path: Path, mode: str) -> None:
    # Keras' loader cannot read a BMP or GIF as grey (TensorFlow decodes neither to 1 channel).
    root = _folder(tmp_path, mode, (".png", ".jpg") if mode == "L" else
                   (".png", ".jpg", ".bmp", ".gif"))
    channels = 1 if mode == "L" else 3
    keras_data = keras.utils.image_dataset_from_directory(
        str(root), image_size=(20, 16), color_mode="grayscale" if mode == "L" else "rgb",
        shuffle=False, batch_size=8, interpolation="bilinear", verbose=False)
    expected = np.concatenate([x.numpy() for x, _ in keras_data]) / 255.0
    labels = np.concatenate([y.numpy() for _, y in keras_data])
    _, items = scan(root)
    files = ImageFiles(tuple(str(p) for p, _ in items), (20, 16), channels)
    order = [files.paths.index(p) for p in keras_data.file_paths]
    assert np.array_equal(np.array([label for _, label in items])[order], labels)
    streamed = files.to_numpy(batch_size=5)[order]
    assert streamed.shape == (18, 20, 16, channels) and streamed.dtype == np.float32
    assert np.abs(streamed - expected).max() <= 0.5 / 255 + 1e-6


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_every_format_streams_as_it_loads(tmp_path: Path, mode: str) -> None:
    """Grey BMPs too (a GIF opens as a palette image, so it counts as
    colour). Pillow's bilinear resize (antialiased when shrinking) and
    TensorFlow's (not) differ pixel by pixel on noise, and their JPEG
    decoders a little: each image's mean colour agrees."""
    root = _folder(tmp_path, mode, (".png", ".jpg", ".bmp") if mode == "L" else
                   (".png", ".jpg", ".bmp", ".gif"))
    Image.fromarray(np.full((9, 9, 2), 90, np.uint8), "LA").save(root / "y" / "la.png")
    if mode == "RGB":  # and grey images in a colour folder
        Image.fromarray(np.full((9, 9, 4), 200, np.uint8), "RGBA").save(root / "x" / "rgba.png")
        Image.fromarray(np.full((9, 9), 70, np.uint8), "L").save(root / "z" / "grey.bmp")
    loaded = load_dataset(f"images:{root}", image_size="20,16", stream=False)
    streamed = load_dataset(f"images:{root}", image_size="20,16", stream=True)
    assert loaded.input_shape == streamed.input_shape == (20, 16, 1 if mode == "L" else 3)
    for a, b in ((loaded.x_train, streamed.x_train), (loaded.x_test, streamed.x_test)):
        b = b.to_numpy()
        assert np.abs(a.mean(axis=(1, 2)) - b.mean(axis=(1, 2))).max() < 0.03


def test_cache_and_shuffle(tmp_path: Path) -> None:
    ds = load_dataset(f"images:{_folder(tmp_path, 'RGB')}", image_size="12x10", stream=True,
                      validation_split=0.0)
    x, y = ds.x_train, ds.y_train
    plain = [b for b in x.pipeline(y, 4, cache=False)]
    cached = x.pipeline(y, 4, cache=True)
    for _ in range(2):  # the first pass fills the cache, the second reads it
        again = list(cached)
        assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
                   for a, b in zip(plain, again))
    images = np.concatenate([b[0].numpy() for b in plain])
    assert images.shape == (len(y), 12, 10, 3) and 0.0 <= images.min() <= images.max() <= 1.0
    # Every image's brightest channel is its label, whichever order the epoch takes.
    for cache in (False, True):
        shuffled = x.pipeline(y, 4, shuffle=True, seed=1, cache=cache)
        epochs = [[(b[0].numpy(), b[1].numpy()) for b in shuffled] for _ in range(2)]
        orders = [np.concatenate([labels for _, labels in epoch]) for epoch in epochs]
        for epoch in epochs:
            pixels = np.concatenate([p for p, _ in epoch])
            assert np.array_equal(pixels.mean(axis=(1, 2)).argmax(axis=1),
                                  np.concatenate([labels for _, labels in epoch]))
            assert np.isclose(pixels.sum(), images.sum(), rtol=1e-5)
        assert sorted(orders[0]) == sorted(y.tolist())
        paths = [np.concatenate([p.reshape(len(p), -1)[:, 0] for p, _ in e]) for e in epochs]
        assert not np.array_equal(paths[0], paths[1])  # a new order every epoch


def test_accuracy_and_pipeline_of_streamed_inputs(tmp_path: Path) -> None:
    ds = load_dataset(f"images:{_folder(tmp_path, 'RGB')}", image_size="12x10", stream=True)
    inputs = keras.Input((12, 10, 3))
    means = keras.layers.GlobalAveragePooling2D()(inputs)  # the brightest channel wins
    model = keras.Model(inputs, keras.layers.Softmax()(means * 100.0))
    assert accuracy(model, ds.x_test, ds.y_test, batch_size=2) == 1.0
    arrays = ds.x_test.to_numpy()
    assert accuracy(model, arrays, ds.y_test, batch_size=2) == 1.0
    batch = next(iter(make_pipeline(ds.x_train, ds.y_train, 3, shuffle=True, seed=0)))
    assert batch[0].shape == (3, 12, 10, 3) and batch[1].dtype == "int64"
