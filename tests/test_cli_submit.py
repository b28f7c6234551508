"""`imagenets-hf submit`: the zip's exact contents, and refusal of partial or bad submissions."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

from cli_fixtures import CONFIG, listing, write_prepared, write_tree
from imagenets_hf import testing
from imagenets_hf.cli import main
from imagenets_hf.masks import encode_mask_png
from imagenets_hf.metadata import load_metadata

WIDTH, HEIGHT = testing.IMAGE_SIZE


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("submit")
    fake = testing.make_fake_setup(str(tmp), CONFIG)
    metadata = load_metadata(CONFIG, fake.metadata_dir)
    expected = sorted(dst[: -len(".JPEG")] + ".png" for _src, dst in metadata.test_mapping)
    rng = np.random.default_rng(5)
    predictions = {relpath: rng.integers(0, 51, size=(HEIGHT, WIDTH)).astype(np.uint16) for relpath in expected}
    return {"fake": fake, "expected": expected, "predictions": predictions, "tmp": tmp}


@pytest.fixture()
def prediction_dir(setup, tmp_path):
    return write_tree(str(tmp_path / "test-predictions"), setup["predictions"])


def _submit(setup, predictions, output, *extra, sizes=None):
    sizes = sizes or ["--imagenet-dir", setup["fake"].imagenet_dir]
    return main(["submit", CONFIG, "--predictions", predictions, "--method-name", "My Method",
                 "--method-description", "k-means on DINO features", "--output", output,
                 "--metadata-dir", setup["fake"].metadata_dir, "--workers", "1", "--no-progress", *sizes, *extra])


def test_zip_holds_exactly_the_expected_files(setup, prediction_dir, tmp_path, capsys):
    # an extra prediction (not a test image) is left out, and the user's folder is untouched
    write_tree(prediction_dir, {"n10000000/not_a_test_image.png": np.zeros((HEIGHT, WIDTH), np.uint16)})
    before = listing(prediction_dir)
    output = str(tmp_path / "out" / "submission.zip")
    assert _submit(setup, prediction_dir, output) == 0
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
        assert sorted(names) == sorted(setup["expected"] + ["method.txt"])
        assert len(setup["expected"]) == 8
        assert archive.read("method.txt").decode() == "My Method\nk-means on DINO features\n"
        first = setup["expected"][0]
        with open(os.path.join(prediction_dir, first), "rb") as file:
            assert archive.read(first) == file.read()  # bytes copied unchanged
    captured = capsys.readouterr()
    assert f"wrote {output}: 8 predictions + method.txt" in captured.out
    assert "1 predictions are not test images" in captured.err
    assert listing(prediction_dir) == before
    assert os.listdir(tmp_path / "out") == ["submission.zip"]


def test_zip_with_match_and_prediction_zip_and_workers(setup, tmp_path, capsys):
    # cluster ids 100..104 mapped by a match.json to classes
    match = {"0": 0, "100": 1, "101": 2, "102": 3, "103": 4}
    rng = np.random.default_rng(6)
    clusters = {r: rng.choice([0, 100, 101, 102, 103], size=(HEIGHT, WIDTH)).astype(np.uint16)
                for r in setup["expected"]}
    predictions = str(tmp_path / "clusters.zip")
    with zipfile.ZipFile(predictions, "w") as archive:
        for relpath, labels in clusters.items():
            archive.writestr("run-7/" + relpath, encode_mask_png(labels))
    match_path = tmp_path / "match.json"
    match_path.write_text(json.dumps(match))
    output = str(tmp_path / "submission.zip")
    assert _submit(setup, predictions, output, "--match", str(match_path), "--workers", "2") == 0
    with zipfile.ZipFile(output) as archive:
        assert sorted(archive.namelist()) == sorted(setup["expected"] + ["match.json", "method.txt"])
        assert json.loads(archive.read("match.json")) == match
    # without the match, cluster ids are not classes of config 50
    assert _submit(setup, predictions, str(tmp_path / "other.zip")) == 2
    error = capsys.readouterr().err
    assert "8 predictions are not valid label maps" in error and "labels 100, 101, 102" in error
    assert not os.path.exists(tmp_path / "other.zip")


def test_sizes_from_a_prepared_dataset(setup, prediction_dir, tmp_path, capsys):
    sizes = {relpath: (WIDTH, HEIGHT) for relpath in setup["expected"]}
    sizes[setup["expected"][2]] = (WIDTH + 1, HEIGHT)
    for kind in ("arrow", "parquet"):
        prepared = write_prepared(str(tmp_path / f"prepared-{kind}"), {}, kind=kind, test_sizes=sizes)
        output = str(tmp_path / f"{kind}.zip")
        assert _submit(setup, prediction_dir, output, sizes=["--dataset", prepared]) == 2
        error = capsys.readouterr().err
        assert f"1 predictions differ in size from their ImageNet image (e.g. {setup['expected'][2]} (20x16, image 21x16))" in error
        assert not os.path.exists(output)


def test_missing_prediction_stops_it_and_leaves_no_zip(setup, prediction_dir, tmp_path, capsys):
    for relpath in setup["expected"][:2]:
        os.remove(os.path.join(prediction_dir, relpath))
    out = tmp_path / "out"
    assert _submit(setup, prediction_dir, str(out / "submission.zip")) == 2
    error = capsys.readouterr().err
    assert "error: no submission written" in error
    assert f"2 of 8 predictions are missing (e.g. {setup['expected'][0]}, {setup['expected'][1]})" in error
    assert not out.exists() or os.listdir(out) == []


def test_mis_sized_and_invalid_predictions_are_all_listed(setup, prediction_dir, tmp_path, capsys):
    first, second, third = setup["expected"][:3]
    with open(os.path.join(prediction_dir, first), "wb") as file:
        file.write(encode_mask_png(np.zeros((HEIGHT, WIDTH - 2), np.uint16)))
    labels = setup["predictions"][second].copy()
    labels[0, 0] = 51
    with open(os.path.join(prediction_dir, second), "wb") as file:
        file.write(encode_mask_png(labels))
    with open(os.path.join(prediction_dir, third), "wb") as file:
        file.write(b"garbage")
    output = tmp_path / "submission.zip"
    output.write_bytes(b"an older submission")  # must survive a failed run
    assert _submit(setup, prediction_dir, str(output)) == 2
    error = capsys.readouterr().err
    assert f"1 predictions differ in size from their ImageNet image (e.g. {first} (18x16, image 20x16))" in error
    assert "2 predictions are not valid label maps" in error
    assert f"{second} (labels 51 not allowed)" in error and f"{third} (not a readable PNG" in error
    assert output.read_bytes() == b"an older submission"
    assert sorted(os.listdir(tmp_path)) == ["submission.zip", "test-predictions"]


def test_bad_arguments(setup, prediction_dir, tmp_path, capsys):
    assert main(["submit", "51", "-p", prediction_dir, "--method-name", "x", "-o", str(tmp_path / "s.zip"),
                 "--imagenet-dir", setup["fake"].imagenet_dir]) == 2
    assert "unknown ImageNet-S config '51'" in capsys.readouterr().err
    assert _submit(setup, prediction_dir, str(tmp_path / "s.zip"), "--method-name", " ") == 2
    assert "--method-name must be one non-empty line" in capsys.readouterr().err
    bad_match = tmp_path / "bad.json"
    bad_match.write_text('{"0": 0, "1": [2]}')
    assert _submit(setup, prediction_dir, str(tmp_path / "s.zip"), "--match", str(bad_match)) == 2
    assert str(bad_match) in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "s.zip")


def test_sizes_from_the_builders_dataset(setup, prediction_dir, tmp_path):
    from imagenets_hf.loading import load_dataset

    fake = setup["fake"]
    dataset = load_dataset(CONFIG, imagenet_dir=fake.imagenet_dir, annotations=fake.annotations,
                           metadata_dir=fake.metadata_dir, cache_dir=str(tmp_path / "cache"))
    prepared = str(tmp_path / "prepared")
    dataset.save_to_disk(prepared)
    output = str(tmp_path / "submission.zip")
    assert _submit(setup, prediction_dir, output, sizes=["--dataset", prepared]) == 0
    with zipfile.ZipFile(output) as archive:
        assert sorted(archive.namelist()) == sorted(setup["expected"] + ["method.txt"])


def test_sizes_from_an_export_folder(setup, prediction_dir, tmp_path):
    export = pytest.importorskip("imagenets_hf.export", reason="the export module is on another branch")

    fake = setup["fake"]
    export.export(CONFIG, str(tmp_path / "hub"), imagenet_dir=fake.imagenet_dir, annotations=fake.annotations,
                  metadata_dir=fake.metadata_dir, cache_dir=str(tmp_path / "cache"), progress=False)
    output = str(tmp_path / "submission.zip")
    assert _submit(setup, prediction_dir, output, sizes=["--dataset", str(tmp_path / "hub")]) == 0
    with zipfile.ZipFile(output) as archive:
        assert sorted(archive.namelist()) == sorted(setup["expected"] + ["method.txt"])


def test_corrupt_imagenet_image_is_named(setup, prediction_dir, tmp_path, capsys):
    import shutil

    imagenet = str(tmp_path / "imagenet")
    shutil.copytree(setup["fake"].imagenet_dir, imagenet)
    metadata = load_metadata(CONFIG, setup["fake"].metadata_dir)
    source, _ = metadata.test_mapping[0]
    path = os.path.join(imagenet, "val", source)
    with open(path, "wb") as file:
        file.write(b"truncated")
    assert _submit(setup, prediction_dir, str(tmp_path / "s.zip"), sizes=["--imagenet-dir", imagenet]) == 2
    error = capsys.readouterr().err
    assert path in error and "cannot read the size of the test image" in error
    assert not os.path.exists(tmp_path / "s.zip")
