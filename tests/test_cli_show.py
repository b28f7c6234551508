"""`imagenets-hf show`: which images get panels, what they show, and the per-class plot."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from PIL import Image

from cli_fixtures import CONFIG, NUM_CLASSES, derive_predictions, listing, make_fake, write_tree
from imagenets_hf.cli import main
from imagenets_hf.show import IGNORE_COLOUR, apply_mapping, class_colour, image_miou, palette



@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("show")
    data = make_fake(str(tmp))
    predictions = derive_predictions(data["masks"], noise=0.02, noise_labels=1)
    # make two images clearly worse: their object predicted as another class
    relpaths = sorted(predictions)
    for relpath, wrong in ((relpaths[5], 1), (relpaths[2], 4)):
        labels = predictions[relpath].copy()
        labels[labels > 0] = wrong
        predictions[relpath] = labels
    data["predictions"] = predictions
    data["prediction_dir"] = write_tree(str(tmp / "predictions"), predictions)
    data["tmp"] = tmp
    return data


def _show(fake, output, *extra):
    return main(["show", CONFIG, "-p", fake["prediction_dir"], "-g", fake["annotations"], "--metadata-dir",
                 fake["metadata_dir"], "--workers", "1", "--no-progress", "--output-dir", output, *extra])


def _expected_image_miou(prediction, mask):
    valid = mask != 1000
    labels = np.union1d(np.unique(prediction[valid]), np.unique(mask[valid]))
    ious = []
    for label in labels:
        p, g = (prediction == label) & valid, (mask == label) & valid
        ious.append(100 * (p & g).sum() / ((p | g).sum() + 1e-10))
    return float(np.mean(ious))


def test_worst_images_get_panels_and_a_per_class_plot(fake, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    output = str(tmp_path / "show")
    before = listing(fake["prediction_dir"])
    assert _show(fake, output, "--worst", "2") == 0
    printed = capsys.readouterr().out
    relpaths = sorted(fake["predictions"])
    mious = {r: _expected_image_miou(fake["predictions"][r].astype(np.int64), fake["masks"][r]) for r in relpaths}
    worst = sorted(relpaths, key=lambda r: (mious[r], r))[:2]
    assert set(worst) == {relpaths[5], relpaths[2]}
    panels = sorted(os.listdir(os.path.join(output, "panels")))
    assert panels == sorted(r[:-4].replace("/", "_") + ".png" for r in worst)
    for relpath in worst:
        assert f"{relpath}  image mIoU {mious[relpath]:.1f}" in printed
    with Image.open(os.path.join(output, "per_class_iou.png")) as plot:
        assert plot.format == "PNG" and plot.size[0] >= 800
    assert listing(fake["prediction_dir"]) == before


def test_chosen_images_and_panel_colours(fake, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    output = str(tmp_path / "show")
    relpath = sorted(fake["predictions"])[1]
    assert _show(fake, output, "--images", relpath[:-4]) == 0
    panel_path = os.path.join(output, "panels", relpath[:-4].replace("/", "_") + ".png")
    assert os.listdir(os.path.join(output, "panels")) == [os.path.basename(panel_path)]
    with Image.open(panel_path) as panel:
        colours = {tuple(c) for c in np.asarray(panel.convert("RGB")).reshape(-1, 3)}
    mask = fake["masks"][relpath]
    klass = int(mask[mask.shape[0] // 2, mask.shape[1] // 2])
    assert class_colour(klass) in colours and IGNORE_COLOUR in colours
    assert _show(fake, output, "--images", "n10000000/nothing") == 2
    assert "--images n10000000/nothing: no such image" in capsys.readouterr().err


def test_palette_is_fixed_and_distinct():
    colours = palette(NUM_CLASSES)
    assert tuple(colours[0]) == (0, 0, 0) and tuple(colours[1000]) == IGNORE_COLOUR
    assert tuple(colours[NUM_CLASSES + 1]) == (255, 255, 255)
    assert len({tuple(c) for c in colours[1 : NUM_CLASSES + 1]}) == NUM_CLASSES
    assert (palette(NUM_CLASSES) == colours).all()


def test_mapping_and_image_miou_helpers():
    from imagenets_hf.evaluation import image_statistics

    prediction = np.array([[0, 7, 7], [9, 9, 0]], dtype=np.uint16)
    mapped = apply_mapping(prediction, {0: 0, 7: 2}, NUM_CLASSES)
    assert mapped.tolist() == [[0, 2, 2], [51, 51, 0]]
    truth = np.array([[0, 2, 2], [1, 1000, 0]], dtype=np.uint16)
    statistics = image_statistics(prediction, truth, NUM_CLASSES)
    # after mapping: label 0 IoU 2/2, label 2 IoU 2/2, label 1 IoU 0/1 -> mean 66.67
    assert image_miou(statistics, NUM_CLASSES, {0: 0, 7: 2}) == pytest.approx(200 / 3, abs=1e-6)


def test_missing_matplotlib_says_what_to_install(fake, tmp_path, monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert _show(fake, str(tmp_path / "show")) == 2
    assert 'pip install "imagenets-hf[show]"' in capsys.readouterr().err
    assert not (tmp_path / "show").exists()


def test_panel_with_the_imagenet_picture(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from cli_fixtures import validation_masks

    from imagenets_hf import testing

    setup = testing.make_fake_setup(str(tmp_path), CONFIG)
    masks = validation_masks(setup.annotations)
    folder = write_tree(str(tmp_path / "predictions"), derive_predictions(masks, seed=4))
    relpath = sorted(masks)[0]
    widths = []
    for extra in ([], ["--imagenet-dir", setup.imagenet_dir]):
        output = str(tmp_path / f"show{len(extra)}")
        assert main(["show", CONFIG, "-p", folder, "-g", setup.annotations, "--metadata-dir", setup.metadata_dir,
                     "--workers", "2", "--no-progress", "-o", output, "--images", relpath, *extra]) == 0
        with Image.open(os.path.join(output, "panels", relpath[:-4].replace("/", "_") + ".png")) as panel:
            widths.append(panel.size[0])
    # three panels (image, ground truth, prediction) instead of two
    assert widths[1] > widths[0] * 1.3
