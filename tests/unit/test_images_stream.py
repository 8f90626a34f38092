"""`images:DIR` without TensorFlow: `--image-size` parsing, the default size,
loaded versus streamed (the same seeded stratified split of the files), and
the one-line errors, from Python and the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autokeras_nas.data import images as images_module
from autokeras_nas.data import load_dataset
from autokeras_nas.data.images import ImageFiles, default_size, parse_image_size, survey
from autokeras_nas.testing.cli import HEAVY_MODULES, one_line_error, probe_cli_runs
from autokeras_nas.workflow import SearchConfig, WorkflowError, plan_validation


def _folder(root: Path, per_class=(7, 9, 5), size=(20, 30)) -> Path:
    """Classes a, b, c of `per_class` RGB PNGs, `size` = (H, W), class = brightest channel."""
    rng = np.random.default_rng(1)
    for label, count in enumerate(per_class):
        folder = root / "abc"[label]
        folder.mkdir(parents=True)
        for i in range(count):
            pixels = rng.integers(0, 80, (*size, 3), dtype=np.uint8)
            pixels[..., label] += 150
            Image.fromarray(pixels).save(folder / f"{i:02d}.png")
    return root


def _error(name: str, **options) -> str:
    with pytest.raises(ValueError) as info:
        load_dataset(name, **options)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("text, size", [("96,80", (96, 80)), ("96x80", (96, 80)),
                                        (" 7 X 5 ", (7, 5)), ((3, 4), (3, 4)), (None, None)])
def test_parse_image_size(text, size) -> None:
    assert parse_image_size(text) == size


@pytest.mark.parametrize("text", ["96", "96,80,3", "0,5", "5,0", "-1,5", "a,b", "96;80", "",
                                  (1.5, 2), (True, 2), (8,)])
def test_parse_image_size_refuses_in_one_line(text) -> None:
    with pytest.raises(ValueError) as info:
        parse_image_size(text)
    assert str(info.value) == ("image size must be HEIGHT,WIDTH in pixels (e.g. 96,80 or "
                               f"96x80), got {text!r}")


def test_default_size_is_the_most_common_within_one_mib(tmp_path: Path) -> None:
    assert default_size((256, 256), 3) == (256, 256)      # 768 KiB decoded: kept
    assert default_size((512, 512), 1) == (512, 512)      # 1 MiB exactly: kept
    assert default_size((512, 512), 3) == (295, 295)      # shrunk to 1 MiB, proportionally
    assert default_size((1000, 250), 3) == (591, 147)
    _folder(tmp_path, per_class=(2, 2, 1), size=(20, 30))
    Image.fromarray(np.zeros((70, 90), np.uint8)).save(tmp_path / "a" / "00.png")  # first file
    assert survey(sorted(tmp_path.rglob("*.png"))) == ((20, 30), False)
    ds = load_dataset(f"images:{tmp_path}")
    assert ds.input_shape == (20, 30, 3) and not ds.streamed  # not the first file's 70x90


def _files(ds) -> list[list[str]]:
    return [list(x.paths) for x in (ds.x_train, ds.x_val, ds.x_test)]


def test_streamed_split_is_the_loaded_split_stratified_seeded_disjoint(tmp_path: Path) -> None:
    _folder(tmp_path)
    loaded = load_dataset(f"images:{tmp_path}", seed=3, image_size="10x12", stream=False)
    streamed = load_dataset(f"images:{tmp_path}", seed=3, image_size="10x12", stream=True)
    assert streamed.streamed and streamed.input_shape == loaded.input_shape == (10, 12, 3)
    assert "streamed from disk" in streamed.describe() and "streamed" in streamed.source
    for part in ("y_train", "y_val", "y_test"):
        assert np.array_equal(getattr(loaded, part), getattr(streamed, part))
    assert [x.shape for x in (streamed.x_train, streamed.x_val, streamed.x_test)] == [
        x.shape for x in (loaded.x_train, loaded.x_val, loaded.x_test)]
    train, val, test = _files(streamed)
    everything = train + val + test
    assert len(everything) == len(set(everything)) == 21          # disjoint, all of them
    # Stratified: 20 % test of 7/9/5 images, then 20 % of the rest for validation.
    assert np.bincount(streamed.y_test).tolist() == [1, 2, 1]
    assert np.bincount(streamed.y_val).tolist() == [1, 1, 1]
    for files, labels in zip(_files(streamed), (streamed.y_train, streamed.y_val,
                                                  streamed.y_test)):
        assert [Path(f).parent.name for f in files] == ["abc"[y] for y in labels]
    # The loaded arrays hold the same classes' images (the brightest channel is the class).
    assert np.array_equal(loaded.x_test.mean(axis=(1, 2)).argmax(axis=1), loaded.y_test)
    again = load_dataset(f"images:{tmp_path}", seed=3, stream=True)
    other = load_dataset(f"images:{tmp_path}", seed=4, stream=True)
    assert _files(again) == _files(streamed) and _files(other) != _files(streamed)
    joined = streamed.x_train.join(streamed.x_val)
    assert isinstance(joined, ImageFiles) and list(joined.paths) == train + val
    assert joined.pixel_bytes == len(joined) * 10 * 12 * 3


def test_streamed_by_default_above_the_threshold(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _folder(tmp_path)  # 21 images of 20x30x3: 151,200 bytes decoded
    assert not load_dataset(f"images:{tmp_path}").streamed
    monkeypatch.setattr(images_module, "STREAM_ABOVE", 151_199)
    assert load_dataset(f"images:{tmp_path}").streamed
    assert not load_dataset(f"images:{tmp_path}", stream=False).streamed


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    _folder(tmp_path, per_class=(2, 2, 2))
    assert _error(f"images:{tmp_path}", image_size="big") == (
        "image size must be HEIGHT,WIDTH in pixels (e.g. 96,80 or 96x80), got 'big'")
    assert _error("digits", stream=True) == (
        "--stream/--no-stream is only used by images:DIR, not by dataset 'digits'")
    assert _error("digits", image_size="8,8") == (
        "--image-size is only used by images:DIR, not by dataset 'digits'")
    (tmp_path / "b" / "zz.jpg").write_bytes(b"\xff\xd8 not really a JPEG")
    for stream in (True, False):  # the headers are read before anything is streamed
        assert _error(f"images:{tmp_path}", stream=stream).startswith(
            f"images: cannot read image {tmp_path / 'b' / 'zz.jpg'}: ")


def test_streamed_data_is_validated_on_the_split(tmp_path: Path) -> None:
    ds = load_dataset(f"images:{_folder(tmp_path)}", stream=True)
    plan = plan_validation(SearchConfig(out_dir=tmp_path / "run"), ds)
    assert not plan.kfold and plan.samples == len(ds.y_val)
    assert plan.reason == "auto: streamed from disk"
    with pytest.raises(WorkflowError) as info:
        plan_validation(SearchConfig(out_dir=tmp_path / "run", validation="kfold:3"), ds)
    assert str(info.value) == ("--validation kfold:3: images streamed from disk are validated "
                               "on the split; use --validation split or auto, or --no-stream")
    loaded = load_dataset(f"images:{tmp_path}", stream=False)
    assert plan_validation(SearchConfig(out_dir=tmp_path / "run"), loaded).kfold  # 13 < 1000


def test_cli_errors_come_before_tensorflow(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "imgs", per_class=(2, 2, 2))
    cases = [(["--image-size", "12"], "image size must be HEIGHT,WIDTH in pixels"),
             (["--stream", "--validation", "kfold:3"],
              "--validation kfold:3: images streamed from disk are validated on the split")]
    runs = probe_cli_runs(*[["search", "--dataset", f"images:{folder}", *args,
                             "--out", f"out{i}"] for i, (args, _) in enumerate(cases)],
                          cwd=tmp_path, watch=HEAVY_MODULES)
    for i, (run, (_, expected)) in enumerate(zip(runs, cases)):
        assert run["code"] == 2 and expected in one_line_error(run["stderr"]), run
        assert not [m for m in run["loaded"] if m in HEAVY_MODULES]
        assert not (tmp_path / f"out{i}").exists()
