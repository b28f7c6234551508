"""Evaluate a folder (or zip) of prediction PNGs against ImageNet-S ground truth.

The main process only lists files and merges statistics: reading, decoding and
per-image statistics run in the worker processes of the core's `accumulate`,
fed by `load_prediction_pair`, a picklable function of (sources, item).

Flow: `plan_evaluation` (which images, which prediction is missing or extra)
-> `accumulate_plan` (one pass) -> `EvaluationResult` (matching, scores).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import numpy as np
from PIL import Image

from .configs import IGNORE_LABEL, ConfigSpec, get_config
from .evaluation.matching import MATCH_METHODS
from .mask_sources import GroundTruth, MaskTree, open_ground_truth, open_predictions, read_names_list
from .masks import decode_mask

if TYPE_CHECKING:
    from .evaluation import Accumulator

RESIZE_MODES = ("nearest",)
EXAMPLES_SHOWN = 5  # how many file names an error message lists


def first_few(relpaths, count: int = EXAMPLES_SHOWN) -> str:
    """"a, b, c, ..." for error messages."""
    relpaths = list(relpaths)
    shown = ", ".join(relpaths[:count])
    return shown + (", ..." if len(relpaths) > count else "")


@dataclass
class EvaluationPlan:
    """What one evaluation pass reads.

    Attributes:
        config: the ImageNet-S config.
        items: (ground-truth relpath, prediction relpath or None when missing and allowed).
        missing: relpaths that have ground truth but no prediction.
        extra: prediction relpaths that have no ground truth (counted, not scored).
        non_png: prediction files that are not .png (reported to explain missing ones).
    """

    config: ConfigSpec
    predictions: MaskTree
    ground_truth: GroundTruth
    items: list
    missing: list = field(default_factory=list)
    extra: list = field(default_factory=list)
    non_png: list = field(default_factory=list)
    resize: Optional[str] = None

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    def loader(self):
        """The picklable `load(item) -> (prediction, ground_truth)` for `accumulate`."""
        return functools.partial(
            load_prediction_pair, self.predictions, self.ground_truth.source, self.resize, num_classes=self.num_classes
        )


def image_list(
    ground_truth: GroundTruth,
    config: ConfigSpec,
    split: str,
    *,
    names: Optional[str] = None,
    metadata_dir: Optional[str] = None,
) -> list[str]:
    """Mask relpaths to evaluate: the names list, else the metadata's split list
    for official ground truth, else every PNG of a plain mask folder."""
    if names is not None:
        return read_names_list(names)
    if ground_truth.official:
        from .metadata import load_metadata

        metadata = load_metadata(config.name, metadata_dir)
        pairs = metadata.validation_names if split == "validation" else metadata.train_semi_names
        return [mask for _image, mask in pairs]
    listed = ground_truth.source.list()
    if not listed:
        raise ValueError(
            f"{ground_truth.source.describe()}: no <wnid>/<name>.png mask found; give the official "
            "annotations, a prepared dataset or a folder of masks"
        )
    return listed


def plan_evaluation(
    predictions: str | os.PathLike,
    ground_truth: str | os.PathLike,
    config: str,
    *,
    split: str = "validation",
    names: Optional[str] = None,
    metadata_dir: Optional[str] = None,
    allow_missing: bool = False,
    resize: Optional[str] = None,
) -> EvaluationPlan:
    """Pair every image to evaluate with its prediction, checking that none is missing.

    Raises:
        ValueError: unknown config or resize mode; predictions missing (unless
            `allow_missing`); ground truth missing for images of the list.
        FileNotFoundError: a path does not exist.
    """
    spec = get_config(config)
    if resize is not None and resize not in RESIZE_MODES:
        raise ValueError(f"unknown resize mode {resize!r}: use one of {', '.join(RESIZE_MODES)}")
    truth = open_ground_truth(ground_truth, split, spec.name)
    tree = open_predictions(predictions)
    wanted = image_list(truth, spec, split, names=names, metadata_dir=metadata_dir)
    if truth.kind == "prepared" and names is None:
        _check_prepared_classes(truth.source, spec, metadata_dir)

    available_truth = set(truth.source.list())
    lacking_truth = [relpath for relpath in wanted if relpath not in available_truth]
    if lacking_truth:
        raise ValueError(
            f"the ground truth {truth.source.describe()} lacks {len(lacking_truth)} of the {len(wanted)} "
            f"masks to evaluate (e.g. {first_few(lacking_truth)}); give the complete annotations, "
            "the right --split, or --names listing the images you have"
        )
    files = tree.list_files()
    available = {f for f in files if f.lower().endswith(".png")}
    non_png = sorted(f for f in files if not f.lower().endswith(".png"))
    wanted_set = set(wanted)
    missing = [relpath for relpath in wanted if relpath not in available]
    extra = sorted(available - wanted_set)
    if missing and not available:
        found = _find_below(tree, missing[0])
        if found is not None:
            raise ValueError(
                f"{tree.describe()} holds no <wnid>/<name>.png prediction, but {found} exists: pass the folder "
                f"above its <wnid>/ folders as --predictions ({found[: -len(missing[0])].rstrip('/:') or '.'})"
            )
        if not files and not allow_missing:
            raise ValueError(
                f"{tree.describe()} holds no prediction file: write one <wnid>/<name>.png per image to evaluate "
                f"({len(wanted)} images, e.g. {first_few(wanted, 2)})"
            )
    if missing and not allow_missing:
        hint = ""
        if non_png:
            hint = f"; note: {len(non_png)} files are not .png (e.g. {first_few(non_png, 3)}): predictions must be PNG"
        raise ValueError(
            f"{len(missing)} of the {len(wanted)} predictions are missing from {tree.describe()} "
            f"(e.g. {first_few(missing)}); write one <wnid>/<name>.png per image, or pass --allow-missing "
            f"to score them as all background{hint}"
        )
    items = [(relpath, None if relpath not in available else relpath) for relpath in wanted]
    return EvaluationPlan(spec, tree, truth, items, missing, extra, non_png, resize)


def _check_prepared_classes(prepared, spec: ConfigSpec, metadata_dir: Optional[str]) -> None:
    """A prepared dataset of another config has the images of this one (50 is inside 300) but
    masks in its own class ids: compare its ClassLabel with this config's classes."""
    from .metadata import load_metadata

    found = prepared.label_names()
    expected = list(load_metadata(spec.name, metadata_dir).label_names)
    if found is not None and found != expected:
        raise ValueError(
            f"{prepared.describe()} is a dataset of {len(found) - 1} classes, not of config {spec.name} "
            f"({len(expected) - 1} classes): its masks use other class ids; give the dataset prepared for "
            f"config {spec.name}, or evaluate the config it was prepared for"
        )


def _find_below(tree: MaskTree, relpath: str, max_folders: int = 10_000) -> Optional[str]:
    """Where `relpath` ("wnid/NAME.png") sits deeper in the tree (a folder given one level too
    high), as a path for the message; None if not found among the first `max_folders` folders."""
    if tree.is_zip:
        return None  # open_predictions already refuses a zip whose PNGs sit deeper
    for count, (folder, folders, _files) in enumerate(os.walk(tree.describe())):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        if os.path.isfile(os.path.join(folder, relpath)):
            return os.path.join(folder, relpath)
        if count >= max_folders:
            break
    return None


def resize_nearest(labels: np.ndarray, shape: tuple) -> np.ndarray:
    """Nearest-neighbour resize of an (h, w) label map to `shape` (H, W), labels unchanged.

    Output pixel (y, x) takes input pixel (floor((y + 0.5) * h / H), floor((x + 0.5) * w / W)).
    """
    height, width = labels.shape
    rows = ((np.arange(shape[0]) + 0.5) * height / shape[0]).astype(np.intp)
    columns = ((np.arange(shape[1]) + 0.5) * width / shape[1]).astype(np.intp)
    return labels[np.minimum(rows, height - 1)[:, None], np.minimum(columns, width - 1)[None, :]]


def load_prediction_pair(predictions, ground_truth, resize, item, num_classes=None) -> tuple:
    """Read and decode one (prediction, ground truth) pair; runs in the workers.

    Args:
        predictions: a MaskTree; ground_truth: a MaskTree or PreparedSplit.
        resize: None or "nearest" (fit a differently sized prediction to the mask).
        item: (ground-truth relpath, prediction relpath or None = all background).
        num_classes: when given, a ground-truth label above it (other than ignore) is
            an error naming the mask (masks of another config).

    Returns:
        ((H, W) uint16 prediction, (H, W) uint16 ground truth).

    Raises:
        ValueError: unreadable/non-PNG file, unsupported mode, or size mismatch
            (without `resize`); the message names the file.
    """
    truth_relpath, prediction_relpath = item
    truth = decode_mask(ground_truth.read(truth_relpath), name=ground_truth.describe(truth_relpath))
    if num_classes is not None and truth.max() > num_classes:
        outside = np.unique(truth[(truth > num_classes) & (truth != IGNORE_LABEL)])
        if outside.size:
            raise ValueError(
                f"{ground_truth.describe(truth_relpath)}: the mask holds class {int(outside[0])}, above the "
                f"{num_classes} classes of this config: are these the masks of another config? Give config "
                f"{num_classes}'s masks, or the CONFIG they belong to"
            )
    if prediction_relpath is None:
        return np.zeros_like(truth), truth
    name = predictions.describe(prediction_relpath)
    prediction = decode_mask(predictions.read(prediction_relpath), name=name)
    if prediction.shape != truth.shape:
        if resize is None:
            raise ValueError(
                f"{name}: prediction is {prediction.shape[1]}x{prediction.shape[0]} (WxH) but its ground truth "
                f"is {truth.shape[1]}x{truth.shape[0]}; write predictions at the image's size, or pass "
                "--resize nearest"
            )
        prediction = resize_nearest(prediction, truth.shape)
    return prediction, truth


def accumulate_plan(plan: EvaluationPlan, *, num_workers: int = 0, progress: bool = False):
    """One pass over the plan's images -> the core's Accumulator."""
    from .evaluation import accumulate

    return accumulate(
        plan.items, plan.num_classes, load=plan.loader(), num_workers=num_workers, progress=progress
    )


def accumulate_predictions(
    predictions: str | os.PathLike,
    ground_truth: str | os.PathLike,
    config: str,
    *,
    num_workers: int = 0,
    progress: bool = False,
    **plan_options,
) -> tuple[EvaluationPlan, "Accumulator"]:
    """`plan_evaluation` (with `plan_options`) then one pass: (plan, accumulator)."""
    plan = plan_evaluation(predictions, ground_truth, config, **plan_options)
    return plan, accumulate_plan(plan, num_workers=num_workers, progress=progress)


@dataclass
class EvaluationResult:
    """Scores of one evaluation and what the user should be told about it.

    Attributes:
        scores: the core's score dict (official keys, plus "match" when matched).
        matching: the applied Matching (None without matching).
        per_class: the core's per-class arrays, or None.
        num_images, void_pixels, missing, extra: as counted on the pass.
    """

    config: ConfigSpec
    scores: dict
    matching: object
    per_class: Optional[dict]
    num_images: int
    void_pixels: int
    missing: list
    extra: list
    used_metadata: bool = False  # the image list came from the metadata (official ground truth)
    unmapped: dict = field(default_factory=dict)  # raw predicted label the matching lacks -> valid pixels


def unmapped_labels(accumulator, matching) -> dict:
    """{raw predicted label: valid pixels} of the labels that `matching` does not map (scored as void)."""
    if matching is None:
        return {}
    labels, matrix = accumulator.confusion()
    pixels = matrix.sum(axis=1)
    return {int(label): int(count) for label, count in zip(labels, pixels) if int(label) not in matching.mapping and count}


def evaluate_predictions(
    predictions: str | os.PathLike,
    ground_truth: str | os.PathLike,
    config: str,
    *,
    split: str = "validation",
    match=None,
    solver: str = "munkres",
    names: Optional[str] = None,
    metadata_dir: Optional[str] = None,
    allow_missing: bool = False,
    resize: Optional[str] = None,
    num_workers: int = 0,
    progress: bool = False,
    with_per_class: bool = False,
) -> EvaluationResult:
    """Evaluate a prediction folder or zip; see `plan_evaluation` for the inputs.

    `match`: None (predictions already use class ids), "image", "pixel",
    "majority", a dict, or a path to a match.json.
    """
    from .evaluation import per_class, resolve_match, score

    plan, accumulator = accumulate_predictions(
        predictions, ground_truth, config, num_workers=num_workers, progress=progress,
        split=split, names=names, metadata_dir=metadata_dir, allow_missing=allow_missing, resize=resize,
    )
    matching = resolve_match(accumulator, match, solver=solver)
    mapping = matching.mapping if matching is not None else None
    scores = score(accumulator, mapping)
    classes = per_class(accumulator, mapping) if with_per_class else None
    return EvaluationResult(
        plan.config,
        scores,
        matching,
        classes,
        accumulator.num_images,
        int(accumulator.void_pixels),
        plan.missing,
        plan.extra,
        plan.ground_truth.official and names is None,
        unmapped_labels(accumulator, matching),
    )


def image_size(file) -> tuple:
    """(width, height) of an image file object, from its header only (no decoding)."""
    with Image.open(file) as image:
        return image.size


def match_predictions(
    predictions: str | os.PathLike,
    ground_truth: str | os.PathLike,
    config: str,
    *,
    method: str = "image",
    solver: str = "munkres",
    split: str = "validation",
    names: Optional[str] = None,
    metadata_dir: Optional[str] = None,
    allow_missing: bool = False,
    resize: Optional[str] = None,
    num_workers: int = 0,
    progress: bool = False,
):
    """Only the matching ("image", "pixel" or "majority") of a prediction folder -> Matching."""
    from .evaluation import resolve_match

    if method not in MATCH_METHODS:
        raise ValueError(f"unknown matching method {method!r}: use one of {', '.join(MATCH_METHODS)}")
    _, accumulator = accumulate_predictions(
        predictions, ground_truth, config, num_workers=num_workers, progress=progress,
        split=split, names=names, metadata_dir=metadata_dir, allow_missing=allow_missing, resize=resize,
    )
    return resolve_match(accumulator, method, solver=solver)
