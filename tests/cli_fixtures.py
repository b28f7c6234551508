"""Fake ground truth in every accepted form, and predictions derived from it, for the CLI tests.

Built on imagenets_hf.testing (fake metadata and the official-style annotation
zip of config "50"); predictions are the ground truth with permuted labels and
seeded noise, so scores are neither perfect nor trivial.
"""

from __future__ import annotations

import json
import math
import os
import zipfile

import numpy as np
from PIL import Image

from imagenets_hf import testing
from imagenets_hf.configs import IGNORE_LABEL, get_config
from imagenets_hf.masks import decode_mask, encode_mask_png

CONFIG = "50"
NUM_CLASSES = get_config(CONFIG).num_classes
FOLDER = "validation-segmentation"


def validation_masks(annotations: str) -> dict[str, np.ndarray]:
    """relpath "wnid/NAME.png" -> (H, W) uint16 mask, read from the fake annotation zip."""
    masks = {}
    with zipfile.ZipFile(annotations) as archive:
        for name in archive.namelist():
            if f"/{FOLDER}/" in name and name.endswith(".png"):
                masks[name.split(f"{FOLDER}/", 1)[1]] = decode_mask(archive.read(name))
    return masks


def varied_masks(masks: dict[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """The fake masks with a second object of another class in half of them, so
    size buckets, co-occurrence and boundaries get more than one case."""
    rng = np.random.default_rng(seed)
    varied = {}
    for index, (relpath, mask) in enumerate(sorted(masks.items())):
        mask = mask.copy()
        if index % 2:
            other = int(rng.integers(1, 5))
            mask[: mask.shape[0] // 4, : mask.shape[1] // 3] = other
        varied[relpath] = mask
    return varied


def derive_predictions(
    masks: dict[str, np.ndarray], *, seed: int = 1, permutation=None, noise: float = 0.1, noise_labels: int = 6
):
    """Predictions from ground truth: ignore -> background, labels permuted, a fraction
    `noise` of pixels replaced by random labels 0..noise_labels - 1."""
    rng = np.random.default_rng(seed)
    predictions = {}
    for relpath, mask in sorted(masks.items()):
        labels = mask.astype(np.int64)
        labels[labels == IGNORE_LABEL] = 0
        if permutation is not None:
            labels = np.asarray(permutation)[labels]
        flip = rng.random(labels.shape) < noise
        labels[flip] = rng.integers(0, noise_labels, size=int(flip.sum()))
        predictions[relpath] = labels.astype(np.uint16)
    return predictions


def write_tree(folder: str, maps: dict[str, np.ndarray]) -> str:
    for relpath, labels in maps.items():
        path = os.path.join(folder, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(encode_mask_png(labels))
    return folder


def write_zip(path: str, maps: dict[str, np.ndarray], top: str = "") -> str:
    with zipfile.ZipFile(path, "w") as archive:
        for relpath, labels in maps.items():
            archive.writestr(top + relpath, encode_mask_png(labels))
    return path


def write_annotation_zip(path: str, masks: dict[str, np.ndarray]) -> str:
    """Official layout: ImageNetS50/validation-segmentation/<relpath>."""
    return write_zip(path, masks, top=f"ImageNetS{CONFIG}/{FOLDER}/")


def extract(zip_path: str, folder: str) -> str:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(folder)
    return folder


def write_prepared(folder: str, masks: dict[str, np.ndarray], *, kind: str = "arrow", test_sizes=None) -> str:
    """A prepared dataset as the builder writes it: image_id "wnid/NAME", segmentation
    (Image), as `DatasetDict.save_to_disk` (kind "arrow") or Parquet shards (kind "parquet").
    `test_sizes` adds a test split: relpath -> (width, height) of its images."""
    import datasets

    features = datasets.Features({"image_id": datasets.Value("string"), "image": datasets.Image(),
                                  "segmentation": datasets.Image()})
    rows = {"image_id": [], "image": [], "segmentation": []}
    for relpath, mask in sorted(masks.items()):
        rows["image_id"].append(relpath[:-4])
        rows["image"].append(_jpeg(mask.shape[1], mask.shape[0]))
        rows["segmentation"].append({"bytes": encode_mask_png(mask), "path": None})
    splits = {"validation": datasets.Dataset.from_dict(rows, features=features)} if masks else {}
    if test_sizes is not None:
        test = {"image_id": [], "image": [], "segmentation": []}
        for relpath, (width, height) in sorted(test_sizes.items()):
            test["image_id"].append(relpath[:-4])
            test["image"].append(_jpeg(width, height))
            test["segmentation"].append(None)
        splits["test"] = datasets.Dataset.from_dict(test, features=features)
    dataset = datasets.DatasetDict(splits)
    if kind == "arrow":
        dataset.save_to_disk(folder)
    else:
        os.makedirs(os.path.join(folder, CONFIG), exist_ok=True)
        for split, part in dataset.items():
            part.to_parquet(os.path.join(folder, CONFIG, f"{split}-00000-of-00001.parquet"))
    return folder


def _jpeg(width: int, height: int) -> dict:
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 60, 30)).save(buffer, format="JPEG")
    return {"bytes": buffer.getvalue(), "path": None}


def core_scores(predictions: dict, masks: dict, relpaths, *, match=None, solver="munkres") -> dict:
    """The metric core's numbers on the same arrays, computed directly."""
    from imagenets_hf.evaluation import evaluate_segmentation

    pairs = [(predictions[relpath], masks[relpath]) for relpath in relpaths]
    return evaluate_segmentation(pairs, NUM_CLASSES, match=match, solver=solver)


def assert_same_scores(printed: dict, expected: dict) -> None:
    """Printed JSON scores (NaN as null) equal the core's, key by key."""
    keys = [key for key in expected if key != "match"]
    assert sorted(printed) == sorted(keys)
    for key in keys:
        want = expected[key]
        if isinstance(want, list):
            assert printed[key] == want, key
        elif math.isnan(want):
            assert printed[key] is None, key
        else:
            assert printed[key] == want, key


def load_json_output(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def make_fake(tmp_path) -> dict:
    """Metadata, masks, annotation zip and derived predictions for config "50"."""
    metadata_dir = testing.make_fake_metadata(os.path.join(tmp_path, "metadata"))
    base = testing.make_fake_annotations(os.path.join(tmp_path, "fake-annotations"), metadata_dir, CONFIG)
    masks = varied_masks(validation_masks(base))
    annotations = write_annotation_zip(os.path.join(tmp_path, "ImageNetS50.zip"), masks)
    return {"metadata_dir": metadata_dir, "masks": masks, "annotations": annotations}


def listing(folder: str) -> list:
    """Every file below `folder` (to check that nothing was written there)."""
    return sorted(os.path.relpath(os.path.join(root, name), folder)
                  for root, _dirs, names in os.walk(folder) for name in names)
