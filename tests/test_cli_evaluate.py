"""`imagenets-hf evaluate` / `match` run in-process on fake data, checked against the metric core."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from cli_fixtures import (
    CONFIG,
    NUM_CLASSES,
    assert_same_scores,
    core_scores,
    derive_predictions,
    extract,
    listing,
    load_json_output,
    make_fake,
    write_prepared,
    write_tree,
    write_zip,
)
from imagenets_hf.cli import main
from imagenets_hf.masks import encode_mask_png
from imagenets_hf.predictions import resize_nearest

PERMUTATION = [0, 3, 1, 4, 2] + list(range(5, NUM_CLASSES + 1))


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("evaluate")
    data = make_fake(str(tmp_path))
    data["predictions"] = derive_predictions(data["masks"])
    data["prediction_dir"] = write_tree(str(tmp_path / "predictions"), data["predictions"])
    data["permuted"] = derive_predictions(data["masks"], permutation=PERMUTATION, seed=2, noise_labels=1)
    data["permuted_dir"] = write_tree(str(tmp_path / "permuted"), data["permuted"])
    data["tmp"] = tmp_path
    return data


def _evaluate(fake, predictions, ground_truth, *extra):
    return main(["evaluate", CONFIG, "--predictions", predictions, "--ground-truth", ground_truth,
                 "--metadata-dir", fake["metadata_dir"], "--workers", "1", "--no-progress", "--json", "-", *extra])


def _ground_truth_forms(fake):
    tmp = fake["tmp"]
    forms = {"zip": fake["annotations"]}
    forms["extracted"] = extract(fake["annotations"], str(tmp / "extracted"))
    forms["extracted-inner"] = os.path.join(forms["extracted"], "ImageNetS50")
    forms["prepared-arrow"] = write_prepared(str(tmp / "prepared-arrow"), fake["masks"], kind="arrow")
    forms["prepared-parquet"] = write_prepared(str(tmp / "prepared-parquet"), fake["masks"], kind="parquet")
    forms["plain"] = write_tree(str(tmp / "plain-masks"), fake["masks"])
    return forms


@pytest.mark.parametrize(
    "form", ["zip", "extracted", "extracted-inner", "prepared-arrow", "prepared-parquet", "plain"]
)
def test_every_ground_truth_form_gives_the_core_numbers(fake, form, capsys):
    if "forms" not in fake:
        fake["forms"] = _ground_truth_forms(fake)
    assert _evaluate(fake, fake["prediction_dir"], fake["forms"][form]) == 0
    printed = load_json_output(capsys)
    relpaths = sorted(fake["masks"])
    assert printed["num_images"] == len(relpaths) == 8
    assert printed["missing_predictions"] == 0 and printed["extra_predictions"] == 0
    assert_same_scores(printed["scores"], core_scores(fake["predictions"], fake["masks"], relpaths))


@pytest.mark.parametrize("top", ["", "my-predictions/"])
def test_prediction_zip_with_or_without_top_folder(fake, top, capsys):
    path = write_zip(str(fake["tmp"] / f"predictions{len(top)}.zip"), fake["predictions"], top=top)
    assert _evaluate(fake, path, fake["annotations"], "--workers", "2") == 0
    printed = load_json_output(capsys)
    relpaths = sorted(fake["masks"])
    assert_same_scores(printed["scores"], core_scores(fake["predictions"], fake["masks"], relpaths))


def test_image_matching_undoes_a_permutation_and_saves_match(fake, capsys):
    match_file = str(fake["tmp"] / "out" / "applied-match.json")
    assert _evaluate(fake, fake["permuted_dir"], fake["annotations"], "--match", "image",
                     "--save-match", match_file) == 0
    printed = load_json_output(capsys)
    relpaths = sorted(fake["masks"])
    expected = core_scores(fake["permuted"], fake["masks"], relpaths, match="image")
    assert_same_scores(printed["scores"], expected)
    assert printed["match"]["mapping"] == expected["match"]
    # the permutation sends class c to PERMUTATION[c]; matching maps it back
    for klass in range(1, 5):
        assert printed["match"]["mapping"][str(PERMUTATION[klass])] == klass
    with open(match_file) as file:
        assert json.load(file) == expected["match"]
    # re-using the saved match.json gives the same numbers
    assert _evaluate(fake, fake["permuted_dir"], fake["annotations"], "--match", match_file) == 0
    assert_same_scores(load_json_output(capsys)["scores"], {**expected})


def test_match_subcommand_writes_official_json(fake, capsys):
    output = str(fake["tmp"] / "out" / "match.json")
    code = main(["match", CONFIG, "-p", fake["permuted_dir"], "-g", fake["annotations"], "--metadata-dir",
                 fake["metadata_dir"], "--workers", "1", "--no-progress", "--output", output])
    assert code == 0
    expected = core_scores(fake["permuted"], fake["masks"], sorted(fake["masks"]), match="image")["match"]
    with open(output) as file:
        assert json.load(file) == expected
    # predictions are permuted ground truth: the best total counts every (image, class present) once
    total = sum(len(set(np.unique(mask).tolist()) - {0, 1000}) for mask in fake["masks"].values())
    assert total == 11
    assert f"image matching: total {total} (images)" in capsys.readouterr().out


def test_table_per_class_and_json_file(fake, capsys):
    out = str(fake["tmp"] / "out" / "results.json")
    code = main(["evaluate", CONFIG, "-p", fake["prediction_dir"], "-g", fake["annotations"], "--metadata-dir",
                 fake["metadata_dir"], "--workers", "1", "--no-progress", "--per-class", "--json", out])
    assert code == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == "ImageNet-S 50, validation: 8 images"
    assert [line.split()[0] for line in lines[1:13]] == [
        "Acc", "mIoU", "mBIoU", "S", "MS", "ML", "L", "BS", "BMS", "BML", "BL", "FMeasure"]
    with open(out) as file:
        document = json.load(file)
    expected = core_scores(fake["predictions"], fake["masks"], sorted(fake["masks"]))
    assert f"  mIoU      {expected['mIoU']:>9.4f}\n" in text
    rows = document["per_class"]
    assert len(rows) == NUM_CLASSES + 1
    assert [row["IoU"] for row in rows] == expected["IoUs"]
    gt_pixels = np.bincount(np.concatenate([m[m != 1000].ravel() for m in fake["masks"].values()]),
                            minlength=NUM_CLASSES + 1)
    assert [row["gt_pixels"] for row in rows] == gt_pixels.tolist()
    assert rows[1]["wnid"] == "n10000000" and rows[10]["wnid"] is None


def test_names_list_selects_images_and_extra_predictions_are_reported(fake, capsys):
    chosen = sorted(fake["masks"])[:3]
    names = fake["tmp"] / "three.txt"
    names.write_text("\n".join(f"{r[:-4]}.JPEG {r}" for r in chosen))
    assert _evaluate(fake, fake["prediction_dir"], fake["annotations"], "--names", str(names)) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert printed["num_images"] == 3 and printed["extra_predictions"] == 5
    assert "5 predictions have no ground truth" in captured.err
    assert_same_scores(printed["scores"], core_scores(fake["predictions"], fake["masks"], chosen))


def test_nothing_is_written_next_to_the_predictions(fake, capsys):
    before = listing(fake["prediction_dir"])
    assert _evaluate(fake, fake["prediction_dir"], fake["annotations"], "--match", "image") == 0
    assert listing(fake["prediction_dir"]) == before


# ----------------------------------------------------------------------------- bad input


@pytest.fixture()
def broken(fake, tmp_path):
    """A writable copy of the predictions to break, one file at a time."""
    folder = write_tree(str(tmp_path / "predictions"), fake["predictions"])
    return folder, sorted(fake["predictions"])


def test_missing_predictions_are_listed(fake, broken, capsys):
    folder, relpaths = broken
    for relpath in relpaths[:2]:
        os.remove(os.path.join(folder, relpath))
    assert _evaluate(fake, folder, fake["annotations"]) == 2
    error = capsys.readouterr().err
    assert "error: 2 of the 8 predictions are missing" in error
    assert relpaths[0] in error and relpaths[1] in error and "--allow-missing" in error


def test_allow_missing_scores_them_as_background(fake, broken, capsys):
    folder, relpaths = broken
    os.remove(os.path.join(folder, relpaths[0]))
    assert _evaluate(fake, folder, fake["annotations"], "--allow-missing") == 0
    captured = capsys.readouterr()
    assert "1 images had no prediction and were scored as all background" in captured.err
    predictions = dict(fake["predictions"])
    predictions[relpaths[0]] = np.zeros_like(fake["masks"][relpaths[0]])
    printed = json.loads(captured.out)
    assert printed["missing_predictions"] == 1
    assert_same_scores(printed["scores"], core_scores(predictions, fake["masks"], relpaths))


def test_non_png_predictions_are_pointed_out(fake, broken, capsys):
    folder, relpaths = broken
    path = os.path.join(folder, relpaths[0])
    os.rename(path, path[:-4] + ".jpg")
    assert _evaluate(fake, folder, fake["annotations"]) == 2
    error = capsys.readouterr().err
    assert "1 of the 8 predictions are missing" in error
    assert "1 files are not .png" in error and relpaths[0][:-4] + ".jpg" in error


def test_size_mismatch_names_the_file_and_resize_is_opt_in(fake, broken, capsys):
    folder, relpaths = broken
    small = fake["predictions"][relpaths[0]][::2, ::2]
    with open(os.path.join(folder, relpaths[0]), "wb") as file:
        file.write(encode_mask_png(small))
    assert _evaluate(fake, folder, fake["annotations"]) == 2
    error = capsys.readouterr().err
    assert relpaths[0] in error and "10x8 (WxH)" in error and "20x16" in error and "--resize nearest" in error

    assert _evaluate(fake, folder, fake["annotations"], "--resize", "nearest") == 0
    predictions = dict(fake["predictions"])
    predictions[relpaths[0]] = resize_nearest(small, (16, 20))
    assert (predictions[relpaths[0]] == np.repeat(np.repeat(small, 2, 0), 2, 1)).all()
    assert_same_scores(load_json_output(capsys)["scores"], core_scores(predictions, fake["masks"], relpaths))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not a png at all", "not a readable PNG"),
        ("jpeg", "is a JPEG file, not a PNG"),
        ("rgba", "unsupported image mode 'RGBA'"),
    ],
)
def test_unreadable_non_png_and_bad_mode(fake, broken, capsys, content, message):
    folder, relpaths = broken
    if content == "jpeg":
        buffer = io.BytesIO()
        Image.new("RGB", (20, 16)).save(buffer, format="JPEG")
        content = buffer.getvalue()
    elif content == "rgba":
        buffer = io.BytesIO()
        Image.new("RGBA", (20, 16)).save(buffer, format="PNG")
        content = buffer.getvalue()
    with open(os.path.join(folder, relpaths[3]), "wb") as file:
        file.write(content)
    for workers in ("1", "2"):
        assert _evaluate(fake, folder, fake["annotations"], "--workers", workers) == 2
        error = capsys.readouterr().err
        assert message in error and os.path.join(folder, relpaths[3]) in error


def test_labels_above_n_are_void_with_a_warning(fake, broken, capsys):
    folder, relpaths = broken
    predictions = dict(fake["predictions"])
    labels = predictions[relpaths[0]].copy()
    labels[:, :3] = 60
    predictions[relpaths[0]] = labels
    with open(os.path.join(folder, relpaths[0]), "wb") as file:
        file.write(encode_mask_png(labels))
    assert _evaluate(fake, folder, fake["annotations"]) == 0
    captured = capsys.readouterr()
    mask = fake["masks"][relpaths[0]]
    void = int(((labels > NUM_CLASSES) & (mask != 1000)).sum())
    assert void == 48
    assert f"{void} valid pixels are predicted with labels above 50" in captured.err
    printed = json.loads(captured.out)
    assert printed["void_pixels"] == void
    assert_same_scores(printed["scores"], core_scores(predictions, fake["masks"], relpaths))


@pytest.mark.parametrize(
    "text, message",
    [
        ("[0, 1, 2]", "expected a JSON object"),
        ('{"0": 0, "1": "a"}', "every value must be an int class"),
        ("{not json", "not a JSON file"),
        ('{"0": 0, "1": 77}', "outside the classes 0..50"),
    ],
)
def test_match_file_not_in_official_format(fake, tmp_path, capsys, text, message):
    path = tmp_path / "match.json"
    path.write_text(text)
    assert _evaluate(fake, fake["prediction_dir"], fake["annotations"], "--match", str(path)) == 2
    error = capsys.readouterr().err
    assert message in error and str(path) in error


def test_match_argument_that_is_neither_method_nor_file(fake, capsys):
    assert _evaluate(fake, fake["prediction_dir"], fake["annotations"], "--match", "imagee") == 2
    assert "--match imagee: not a method (none, image, pixel, majority) nor an existing" in capsys.readouterr().err


def test_unknown_config(fake, capsys):
    code = main(["evaluate", "77", "-p", fake["prediction_dir"], "-g", fake["annotations"], "--no-progress"])
    assert code == 2
    assert "unknown ImageNet-S config '77': use one of '50', '300', '919'" in capsys.readouterr().err


def test_missing_paths_and_wrong_split(fake, tmp_path, capsys):
    assert _evaluate(fake, str(tmp_path / "nope"), fake["annotations"]) == 2
    assert "predictions not found" in capsys.readouterr().err
    assert _evaluate(fake, fake["prediction_dir"], str(tmp_path / "nope.zip")) == 2
    assert "ground truth not found" in capsys.readouterr().err
    assert _evaluate(fake, fake["prediction_dir"], fake["annotations"], "--split", "train_semi") == 2
    assert "has no train-semi-segmentation/ for split 'train_semi'" in capsys.readouterr().err


def test_ground_truth_lacking_listed_images(fake, tmp_path, capsys):
    partial = dict(sorted(fake["masks"].items())[:5])
    folder = tmp_path / "ann" / "ImageNetS50" / "validation-segmentation"
    write_tree(str(folder), partial)
    assert _evaluate(fake, fake["prediction_dir"], str(tmp_path / "ann")) == 2
    assert "lacks 3 of the 8 masks to evaluate" in capsys.readouterr().err


def test_dataset_prepared_by_the_builder(tmp_path, capsys):
    from cli_fixtures import validation_masks

    from imagenets_hf import testing
    from imagenets_hf.loading import load_dataset

    setup = testing.make_fake_setup(str(tmp_path), CONFIG)
    dataset = load_dataset(CONFIG, imagenet_dir=setup.imagenet_dir, annotations=setup.annotations,
                           metadata_dir=setup.metadata_dir, cache_dir=str(tmp_path / "cache"))
    prepared = str(tmp_path / "prepared")
    dataset.save_to_disk(prepared)
    masks = validation_masks(setup.annotations)
    predictions = derive_predictions(masks, seed=9)
    folder = write_tree(str(tmp_path / "predictions"), predictions)
    code = main(["evaluate", CONFIG, "-p", folder, "-g", prepared, "--metadata-dir", setup.metadata_dir,
                 "--workers", "2", "--no-progress", "--json", "-"])
    assert code == 0
    printed = load_json_output(capsys)
    assert printed["num_images"] == 8
    assert_same_scores(printed["scores"], core_scores(predictions, masks, sorted(masks)))


def _parity_dir() -> str:
    """The shared parity cases: beside the metadata copy (IMAGENETS_METADATA_DIR/../parity) or
    the team layout (<worktree>/../shared/parity)."""
    metadata = os.environ.get("IMAGENETS_METADATA_DIR")
    if metadata and os.path.isdir(os.path.join(metadata, "..", "parity")):
        return os.path.join(metadata, "..", "parity")
    return os.path.join(os.path.dirname(__file__), "..", "..", "shared", "parity")


PARITY_DIR = _parity_dir()


@pytest.mark.parametrize("case, match", [("P1", "none"), ("P2", "image"), ("P3", "none")])
def test_official_numbers_on_the_parity_cases(case, match, capsys):
    folder = os.path.join(PARITY_DIR, case)
    if not os.path.isdir(folder):
        pytest.skip(f"parity case {case} not found at {folder}")
    with open(os.path.join(folder, "official.json")) as file:
        official = json.load(file)
    code = main(["evaluate", "50", "-p", os.path.join(folder, "pred"), "-g", os.path.join(folder, "gt"),
                 "--names", os.path.join(folder, "names.txt"), "--match", match, "--workers", "2",
                 "--no-progress", "--json", "-"])
    assert code == 0
    printed = load_json_output(capsys)
    reference = official["official_float64_accumulators"]
    assert printed["num_images"] == official["num_images"]
    for key, value in reference["metrics"].items():
        assert printed["scores"][key] == pytest.approx(value, rel=1e-9, abs=1e-9), key
    assert printed["scores"]["IoUs"] == pytest.approx(reference["IoUs"], rel=1e-9, abs=1e-9)
    if match == "image":
        assert printed["match"]["mapping"] == {k: official["official"]["match"][k]
                                               for k in sorted(official["official"]["match"], key=int)}


def test_prediction_folder_wrapped_in_a_top_folder_or_flat(fake, tmp_path, capsys):
    wrapped = write_tree(str(tmp_path / "outer" / "run-3"), fake["predictions"])
    assert _evaluate(fake, str(tmp_path / "outer"), fake["annotations"]) == 0
    relpaths = sorted(fake["masks"])
    assert_same_scores(load_json_output(capsys)["scores"], core_scores(fake["predictions"], fake["masks"], relpaths))
    assert os.path.isdir(wrapped)
    flat = tmp_path / "flat"
    flat.mkdir()
    for relpath, labels in fake["predictions"].items():
        (flat / relpath.split("/")[1]).write_bytes(encode_mask_png(labels))
    assert _evaluate(fake, str(flat), fake["annotations"]) == 2
    assert "holds PNGs directly" in capsys.readouterr().err


def test_export_folder_of_parquet_shards(tmp_path, capsys):
    export = pytest.importorskip("imagenets_hf.export", reason="the export module is on another branch")
    from cli_fixtures import validation_masks

    from imagenets_hf import testing

    setup = testing.make_fake_setup(str(tmp_path), CONFIG)
    export.export(CONFIG, str(tmp_path / "hub"), imagenet_dir=setup.imagenet_dir, annotations=setup.annotations,
                  metadata_dir=setup.metadata_dir, cache_dir=str(tmp_path / "cache"), progress=False)
    masks = validation_masks(setup.annotations)
    predictions = derive_predictions(masks, seed=11)
    folder = write_tree(str(tmp_path / "predictions"), predictions)
    code = main(["evaluate", CONFIG, "-p", folder, "-g", str(tmp_path / "hub"), "--metadata-dir",
                 setup.metadata_dir, "--workers", "2", "--no-progress", "--json", "-"])
    assert code == 0
    printed = load_json_output(capsys)
    assert printed["num_images"] == 8
    assert_same_scores(printed["scores"], core_scores(predictions, masks, sorted(masks)))


def test_real_lists_of_config_50(real_metadata_dir, tmp_path, capsys):
    """With the real lists: all 752 validation images, ground truth in the official zip layout."""
    from cli_fixtures import validation_masks

    from imagenets_hf import testing

    annotations = testing.make_fake_annotations(str(tmp_path / "ann"), real_metadata_dir, CONFIG)
    masks = validation_masks(annotations)
    assert len(masks) == 752
    predictions = derive_predictions(masks, seed=12, permutation=PERMUTATION, noise_labels=1)
    folder = write_tree(str(tmp_path / "predictions"), predictions)
    code = main(["evaluate", CONFIG, "-p", folder, "-g", annotations, "--metadata-dir", real_metadata_dir,
                 "--workers", "2", "--no-progress", "--json", "-", "--match", "image", "--per-class"])
    assert code == 0
    printed = load_json_output(capsys)
    assert printed["num_images"] == 752
    expected = core_scores(predictions, masks, sorted(masks), match="image")
    assert_same_scores(printed["scores"], expected)
    assert printed["per_class"][1]["wnid"] == "n01443537"
