"""Check test-set predictions and pack them as the online server expects.

submission.zip:
    <wnid>/<name>.png   one prediction per test image (DST path of the test
                        mapping, extension .png), at the top of the zip
    match.json          optional: {"0": 0, "1": j, ...}
    method.txt          first line the method name, then its description

A submission is all-or-nothing: `check_submission` reads every prediction
(in worker processes) and `write_submission` refuses to write when any is
missing, of the wrong size, or not a valid label map.
"""

from __future__ import annotations

import functools
import json
import os
import zipfile
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ._io import atomic_write
from ._parallel import parallel_map
from .configs import ConfigSpec, get_config
from .mask_sources import MaskTree, PreparedSplit, mask_relpath, open_predictions, open_prepared
from .masks import MAX_LABEL, decode_mask
from .predictions import first_few, image_size

MATCH_FILENAME = "match.json"
METHOD_FILENAME = "method.txt"


@dataclass
class SubmissionCheck:
    """Outcome of checking a prediction tree against a config's test set.

    Attributes:
        expected: prediction relpaths "wnid/NAME.png" the server needs, in order.
        missing, mis_sized, invalid: problems found, as (relpath, detail) pairs
            (detail is "" for missing).
        extra: predictions that are not test images (left out of the zip).
    """

    config: ConfigSpec
    predictions: MaskTree
    expected: list
    missing: list = field(default_factory=list)
    mis_sized: list = field(default_factory=list)
    invalid: list = field(default_factory=list)
    extra: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.mis_sized or self.invalid)

    def error_message(self) -> str:
        """One message listing every kind of problem with its count and first few files."""
        parts = []
        total = len(self.expected)
        if self.missing:
            parts.append(
                f"{len(self.missing)} of {total} predictions are missing "
                f"(e.g. {first_few(relpath for relpath, _ in self.missing)})"
            )
            if len(self.missing) == total and self.extra:
                # a common slip: the validation predictions (or another config's) given instead of the test ones
                parts[-1] += (
                    f", and the {len(self.extra)} predictions it holds are not test images of config "
                    f"{self.config.name} (e.g. {first_few(self.extra, 2)}; validation predictions instead of test ones?)"
                )
        if self.mis_sized:
            parts.append(
                f"{len(self.mis_sized)} predictions differ in size from their ImageNet image "
                f"(e.g. {first_few(f'{relpath} ({detail})' for relpath, detail in self.mis_sized)})"
            )
        if self.invalid:
            parts.append(
                f"{len(self.invalid)} predictions are not valid label maps "
                f"(e.g. {first_few(f'{relpath} ({detail})' for relpath, detail in self.invalid)})"
            )
        return (
            f"no submission written: in {self.predictions.describe()}, " + "; ".join(parts)
            + f". Write one <wnid>/<name>.png per test image of config {self.config.name}, at the size of "
            f"the image, with labels 0..{self.config.num_classes} (R = I % 256, G = I // 256), or the "
            "labels of your match.json"
        )


def expected_predictions(test_mapping) -> list:
    """(prediction relpath, ImageNet val file name) per test image.

    The prediction path is the DST of the test mapping with extension .png; the
    image is found in the user's ImageNet val by the SRC file name.
    """
    return [(mask_relpath(destination), os.path.basename(source)) for source, destination in test_mapping]


def allowed_labels(num_classes: int, match: Optional[dict] = None) -> np.ndarray:
    """(65536,) bool: which label values a prediction may hold.

    Without a matching, the class ids 0..N; with one, the predicted labels it maps.
    """
    allowed = np.zeros(MAX_LABEL + 1, dtype=bool)
    if match is None:
        allowed[: num_classes + 1] = True
    else:
        keys = np.fromiter((int(k) for k in match), dtype=np.int64)
        allowed[keys[(keys >= 0) & (keys <= MAX_LABEL)]] = True
    return allowed


def check_prediction(predictions: MaskTree, images: Optional[PreparedSplit], allowed: np.ndarray, item) -> tuple:
    """Check one prediction; runs in the workers.

    Args:
        item: (prediction relpath, image locator) where the locator is an image
            path, or the relpath of the image in the prepared `images` split.

    Returns:
        (relpath, kind, detail) with kind in {"ok", "mis_sized", "invalid"}.
    """
    relpath, image = item
    try:
        labels = decode_mask(predictions.read(relpath), name=relpath)
    except ValueError as error:
        return relpath, "invalid", str(error).removeprefix(f"{relpath}: ")
    try:
        if images is not None:
            with images.open(image) as file:
                width, height = image_size(file)
        else:
            width, height = image_size(image)
    except OSError as error:  # PIL's UnidentifiedImageError is an OSError
        where = images.describe(image) if images is not None else image
        raise ValueError(
            f"{where}: cannot read the size of the test image of {relpath} ({error}); "
            "check your ImageNet copy or prepared dataset"
        ) from None
    if labels.shape != (height, width):
        return relpath, "mis_sized", f"{labels.shape[1]}x{labels.shape[0]}, image {width}x{height}"
    present = np.flatnonzero(np.bincount(labels.ravel(), minlength=1))
    bad = present[~allowed[present]]
    if bad.size:
        return relpath, "invalid", f"labels {first_few([str(v) for v in bad], 3)} not allowed"
    return relpath, "ok", ""


def check_submission(
    predictions: str | os.PathLike,
    config: str,
    *,
    imagenet_dir: Optional[str] = None,
    dataset: Optional[str] = None,
    metadata_dir: Optional[str] = None,
    match: Optional[dict] = None,
    num_workers: int = 0,
    progress: bool = False,
) -> SubmissionCheck:
    """Check that every test image of `config` has a valid, right-sized prediction.

    Image sizes come from the user's ImageNet copy (`imagenet_dir`, headers only)
    or from the test split of a prepared dataset (`dataset`).
    """
    from .metadata import load_metadata

    spec = get_config(config)
    if (imagenet_dir is None) == (dataset is None):
        raise ValueError(
            "give exactly one of --imagenet-dir (your ImageNet copy) or --dataset (a prepared dataset): "
            "the test images' sizes are read from it"
        )
    tree = open_predictions(predictions)
    metadata = load_metadata(spec.name, metadata_dir)
    expected = expected_predictions(metadata.test_mapping)
    check = SubmissionCheck(spec, tree, [relpath for relpath, _ in expected])
    available = set(tree.list())
    check.extra = sorted(available - set(check.expected))
    check.missing = [(relpath, "") for relpath, _ in expected if relpath not in available]

    images = None
    items = []
    if dataset is not None:
        images = open_prepared(dataset, "test", spec.name).with_column("image")
        known = images.index()
        for relpath, _filename in expected:
            if relpath not in available:
                continue
            if relpath not in known:
                raise ValueError(
                    f"{images.describe()}: has no test image {relpath[:-4]}; give a complete prepared dataset "
                    "of this config or --imagenet-dir"
                )
            items.append((relpath, relpath))
    else:
        from .imagenet import ImageNetSource

        source = ImageNetSource.discover(imagenet_dir)
        for relpath, filename in expected:
            if relpath in available:
                items.append((relpath, source.val_path(filename)))

    check_one = functools.partial(check_prediction, tree, images, allowed_labels(spec.num_classes, match))
    for relpath, kind, detail in parallel_map(
        check_one, items, num_workers=num_workers, progress=progress, description="checking"
    ):
        if kind == "mis_sized":
            check.mis_sized.append((relpath, detail))
        elif kind == "invalid":
            check.invalid.append((relpath, detail))
    return check


def method_text(method_name: str, method_description: str = "") -> str:
    """method.txt: the method name on the first line, then its description."""
    name = method_name.strip()
    if not name or "\n" in name:
        raise ValueError("--method-name must be one non-empty line naming your method")
    description = method_description.strip()
    return f"{name}\n{description}\n" if description else f"{name}\n"


def match_json(mapping: dict) -> str:
    """The official match.json text {"0": 0, "1": j, ...} (keys sorted numerically)."""
    from .evaluation import match_to_json_dict

    return json.dumps(match_to_json_dict(mapping)) + "\n"


def write_submission(
    check: SubmissionCheck,
    output: str | os.PathLike,
    *,
    method_name: str,
    method_description: str = "",
    match: Optional[dict] = None,
) -> list:
    """Write submission.zip atomically from a successful check; returns its file list.

    Raises:
        ValueError: the check found problems (nothing is written).
    """
    if not check.ok:
        raise ValueError(check.error_message())
    text = method_text(method_name, method_description)
    written = []
    with atomic_write(output, "wb") as file, zipfile.ZipFile(file, "w") as archive:
        for relpath in check.expected:
            # PNGs are already compressed: store them as they are, bit for bit
            archive.writestr(relpath, check.predictions.read(relpath), compress_type=zipfile.ZIP_STORED)
            written.append(relpath)
        if match is not None:
            archive.writestr(MATCH_FILENAME, match_json(match), compress_type=zipfile.ZIP_DEFLATED)
            written.append(MATCH_FILENAME)
        archive.writestr(METHOD_FILENAME, text, compress_type=zipfile.ZIP_DEFLATED)
        written.append(METHOD_FILENAME)
    return written
