"""Pictures of an evaluation: per-image panels and the per-class IoU plot.

matplotlib is an optional extra (`pip install "imagenets-hf[show]"`); it is
imported on first use with the non-interactive Agg backend. Every figure is
rendered to memory and written atomically.
"""

from __future__ import annotations

import colorsys
import functools
import io
import math
import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ._io import atomic_write_bytes
from ._parallel import parallel_map
from .configs import IGNORE_LABEL
from .masks import MAX_LABEL
from .predictions import EvaluationPlan, load_prediction_pair, plan_evaluation

DEFAULT_WORST = 8
BACKGROUND_COLOUR = (0, 0, 0)
IGNORE_COLOUR = (128, 128, 128)
VOID_COLOUR = (255, 255, 255)  # predicted labels that are no class (above N, or unmatched)
_GOLDEN_RATIO = (math.sqrt(5) - 1) / 2


def require_matplotlib():
    """Import matplotlib with the Agg backend, or say how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            'showing results needs matplotlib: pip install "imagenets-hf[show]"'
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def class_colour(label: int) -> tuple:
    """A fixed RGB colour for class `label` >= 1: hues spread by the golden ratio,
    with three lightness/saturation levels so neighbouring ids differ clearly."""
    hue = (label * _GOLDEN_RATIO) % 1.0
    lightness = (0.45, 0.6, 0.35)[label % 3]
    saturation = (0.9, 0.7, 0.95)[(label // 3) % 3]
    return tuple(int(round(255 * c)) for c in colorsys.hls_to_rgb(hue, lightness, saturation))


def palette(num_classes: int) -> np.ndarray:
    """(65536, 3) uint8 colour of every label value: background black, classes
    1..N from `class_colour`, ignore (1000) grey, anything else (void) white."""
    colours = np.empty((MAX_LABEL + 1, 3), dtype=np.uint8)
    colours[:] = VOID_COLOUR
    colours[0] = BACKGROUND_COLOUR
    for label in range(1, num_classes + 1):
        colours[label] = class_colour(label)
    colours[IGNORE_LABEL] = IGNORE_COLOUR
    return colours


def apply_mapping(prediction: np.ndarray, mapping: Optional[dict], num_classes: int) -> np.ndarray:
    """(H, W) uint16 prediction relabelled by `mapping`; unmapped labels become
    void (a value above N that is not the ignore label)."""
    if mapping is None:
        return prediction
    void = num_classes + 1 if num_classes + 1 != IGNORE_LABEL else num_classes + 2
    table = np.full(MAX_LABEL + 1, void, dtype=np.uint16)
    for source, target in mapping.items():
        table[int(source)] = int(target)
    return table[prediction]


# --------------------------------------------------------------------------- #
# Choosing images
# --------------------------------------------------------------------------- #


def image_statistics_of(predictions, ground_truth, resize, num_classes, item):
    """(item, ImageStatistics) of one image; runs in the workers."""
    from .evaluation import image_statistics

    prediction, truth = load_prediction_pair(predictions, ground_truth, resize, item)
    return item, image_statistics(prediction, truth, num_classes)


def image_miou(statistics, num_classes: int, mapping: Optional[dict]) -> float:
    """mIoU of one image over the labels present in its ground truth or prediction."""
    from .evaluation import Accumulator, per_class

    classes = per_class(Accumulator(num_classes).add(statistics), mapping)
    present = (np.asarray(classes["gt_pixels"]) > 0) | (np.asarray(classes["predicted_pixels"]) > 0)
    if not present.any():
        return float("nan")
    return float(np.asarray(classes["IoU"])[present].mean())


def resolve_image_names(requested: list, items: list) -> list:
    """Items for image names given as "wnid/NAME.png", "wnid/NAME" or "NAME".

    Raises:
        ValueError: a name matches no image, or several.
    """
    by_key = {}
    for item in items:
        relpath = item[0]
        stem = relpath[:-4]
        for key in {relpath, stem, stem.split("/", 1)[-1], relpath.split("/", 1)[-1]}:
            by_key.setdefault(key, []).append(item)
    chosen = []
    for name in requested:
        key = name[:-5] if name.endswith(".JPEG") else name
        found = by_key.get(key, [])
        if not found:
            raise ValueError(f"--images {name}: no such image among the {len(items)} evaluated; give wnid/NAME")
        if len(found) > 1:
            raise ValueError(f"--images {name}: several images match; give wnid/NAME")
        chosen.append(found[0])
    return chosen


# --------------------------------------------------------------------------- #
# Drawing
# --------------------------------------------------------------------------- #


def _label_text(label: int, label_names: Optional[list]) -> str:
    """"3 n01443537" (class id and wnid), or "3" when the wnid is unknown."""
    if label_names and label < len(label_names):
        return f"{label} {label_names[label]}"
    return str(label)


def _figure_png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def render_panel(
    name: str,
    truth: np.ndarray,
    prediction: np.ndarray,
    num_classes: int,
    *,
    image: Optional[np.ndarray] = None,
    label_names: Optional[list] = None,
    miou: Optional[float] = None,
) -> bytes:
    """PNG bytes of [image,] ground truth and prediction side by side.

    Args:
        truth, prediction: (H, W) uint16 label maps (prediction already matched).
        image: optional (h, w, 3) uint8 RGB picture.
        label_names: names by class id (["other", wnid, ...]) for the legend.
    """
    plt = require_matplotlib()
    from matplotlib.patches import Patch

    colours = palette(num_classes)
    panels = ([("image", image)] if image is not None else []) + [
        ("ground truth", colours[truth]),
        ("prediction", colours[prediction]),
    ]
    height, width = truth.shape
    scale = 4.0 / max(height, width)
    figure, axes = plt.subplots(
        1, len(panels), figsize=(len(panels) * width * scale + 0.4, height * scale + 1.6), squeeze=False
    )
    for axis, (title, picture) in zip(axes[0], panels):
        axis.imshow(picture, interpolation="nearest")
        axis.set_title(title, fontsize=10)
        axis.set_xticks([])
        axis.set_yticks([])
    labels = [int(v) for v in np.union1d(np.unique(truth), np.unique(prediction))]
    handles = []
    for label in labels:
        if label == IGNORE_LABEL:
            text = "ignore (not scored)"
        elif label > num_classes:
            text = "void (no class)"
        else:
            text = _label_text(label, label_names)
        handles.append(Patch(facecolor=np.asarray(colours[label]) / 255, edgecolor="black", label=text))
    shown = handles[:12]
    if len(handles) > len(shown):
        shown.append(Patch(facecolor="none", edgecolor="none", label=f"+{len(handles) - len(shown)} more"))
    figure.legend(handles=shown, loc="lower center", ncol=min(4, len(shown)), fontsize=8, frameon=False)
    title = name if miou is None or math.isnan(miou) else f"{name}   image mIoU {miou:.1f}"
    figure.suptitle(title, fontsize=10)
    figure.tight_layout(rect=(0, 0.12, 1, 0.95))
    data = _figure_png(figure)
    plt.close(figure)
    return data


BUCKET_KEYS = (("S", "BS"), ("MS", "BMS"), ("ML", "BML"), ("L", "BL"))


def render_per_class(
    ious: np.ndarray,
    scores: dict,
    *,
    label_names: Optional[list] = None,
    title: str = "",
) -> bytes:
    """PNG bytes of the per-class IoU, sorted high to low, with mIoU and the
    size-bucket scores (S/MS/ML/L and their boundary versions) annotated.

    Args:
        ious: (K,) float IoU per label, background first.
    """
    plt = require_matplotlib()
    ious = np.asarray(ious, dtype=float)
    order = np.argsort(-ious, kind="stable")
    colours = palette(len(ious) - 1)
    figure, axis = plt.subplots(figsize=(max(8.0, min(20.0, len(ious) * 0.12)), 4.5))
    axis.bar(np.arange(len(ious)), ious[order], width=1.0 if len(ious) > 100 else 0.8,
             color=colours[order] / 255, edgecolor="none")
    axis.axhline(scores["mIoU"], color="black", linestyle="--", linewidth=1)
    axis.text(len(ious) - 0.5, scores["mIoU"], f" mIoU {scores['mIoU']:.1f}", va="bottom", ha="right", fontsize=9)
    axis.set_xlim(-0.5, len(ious) - 0.5)
    axis.set_ylim(0, 100)
    axis.set_ylabel("IoU (%)")
    axis.set_xlabel("class (sorted by IoU)")
    if len(ious) <= 60 and label_names:
        axis.set_xticks(np.arange(len(ious)))
        axis.set_xticklabels([_label_text(int(i), label_names) for i in order], rotation=90, fontsize=6)
    else:
        axis.set_xticks([])

    def number(value):
        return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"

    rows = [("mIoU", "mIoU", "mBIoU", "mBIoU"), ("Acc", "Acc", "F", "FMeasure")]
    rows += [(key, key, bkey, bkey) for key, bkey in BUCKET_KEYS]
    lines = [f"{a:<5}{number(scores[ka]):>6}   {b:<5}{number(scores[kb]):>6}" for a, ka, b, kb in rows]
    axis.text(0.99, 0.97, "\n".join(lines), transform=axis.transAxes, ha="right", va="top", family="monospace",
              fontsize=9, bbox={"facecolor": "white", "edgecolor": "grey", "alpha": 0.9})
    axis.set_title(title or "per-class IoU", fontsize=10)
    figure.tight_layout()
    data = _figure_png(figure)
    plt.close(figure)
    return data


# --------------------------------------------------------------------------- #
# The whole show
# --------------------------------------------------------------------------- #


@dataclass
class ShowResult:
    """What `show_predictions` wrote.

    Attributes:
        panels: (relpath, image mIoU, panel path) for each chosen image.
        per_class_plot: path of the per-class IoU plot.
        scores: the dataset-level scores.
    """

    panels: list = field(default_factory=list)
    per_class_plot: str = ""
    scores: dict = field(default_factory=dict)


def _panel_filename(relpath: str) -> str:
    return relpath[:-4].replace("/", "_") + ".png"


def _read_picture(path: str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def show_predictions(
    predictions: str | os.PathLike,
    ground_truth: str | os.PathLike,
    config: str,
    output_dir: str | os.PathLike,
    *,
    images: Optional[list] = None,
    worst: Optional[int] = None,
    match=None,
    solver: str = "munkres",
    split: str = "validation",
    names: Optional[str] = None,
    metadata_dir: Optional[str] = None,
    imagenet_dir: Optional[str] = None,
    allow_missing: bool = False,
    resize: Optional[str] = None,
    num_workers: int = 0,
    progress: bool = False,
) -> ShowResult:
    """Write panels for chosen (or the `worst` scoring) images and the per-class plot.

    One pass computes every image's statistics (in workers); the matching and the
    scores come from their sum, and each image's mIoU from its own statistics.
    """
    from .evaluation import Accumulator, per_class, resolve_match, score

    require_matplotlib()
    if worst is not None and worst < 1:
        raise ValueError(f"--worst {worst}: give a positive number of images")
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        # checked before the pass over the images, which can take minutes
        raise NotADirectoryError(f"--output-dir {os.fspath(output_dir)} is a file: give a folder (it is created if needed)")
    plan: EvaluationPlan = plan_evaluation(
        predictions, ground_truth, config, split=split, names=names, metadata_dir=metadata_dir,
        allow_missing=allow_missing, resize=resize,
    )
    chosen_items = resolve_image_names(images, plan.items) if images else None
    num_classes = plan.num_classes
    compute = functools.partial(
        image_statistics_of, plan.predictions, plan.ground_truth.source, plan.resize, num_classes
    )
    accumulator = Accumulator(num_classes)
    per_image = []
    for item, statistics in parallel_map(
        compute, plan.items, num_workers=num_workers, progress=progress, description="evaluating"
    ):
        accumulator.add(statistics)
        per_image.append((item, statistics))
    matching = resolve_match(accumulator, match, solver=solver)
    mapping = matching.mapping if matching is not None else None
    scores = score(accumulator, mapping)
    label_names = _label_names(plan, metadata_dir)

    mious = {item[0]: image_miou(statistics, num_classes, mapping) for item, statistics in per_image}
    if chosen_items is None:
        count = worst or DEFAULT_WORST
        ranked = sorted(per_image, key=lambda pair: (_nan_last(mious[pair[0][0]]), pair[0][0]))
        chosen_items = [item for item, _ in ranked[:count]]

    source = None
    if imagenet_dir is not None:
        from .imagenet import ImageNetSource

        source = ImageNetSource.discover(imagenet_dir)
    result = ShowResult(scores=scores)
    for item in chosen_items:
        relpath = item[0]
        prediction, truth = load_prediction_pair(plan.predictions, plan.ground_truth.source, plan.resize, item)
        picture = None
        if source is not None:
            picture = _read_picture(_image_path(source, relpath, split))
        data = render_panel(
            relpath, truth, apply_mapping(prediction, mapping, num_classes), num_classes,
            image=picture, label_names=label_names, miou=mious[relpath],
        )
        path = os.path.join(output_dir, "panels", _panel_filename(relpath))
        atomic_write_bytes(path, data)
        result.panels.append((relpath, mious[relpath], path))

    classes = per_class(accumulator, mapping)
    title = f"ImageNet-S {plan.config.name}, {split}, {accumulator.num_images} images"
    plot = render_per_class(classes["IoU"], scores, label_names=label_names, title=title)
    result.per_class_plot = os.path.join(output_dir, "per_class_iou.png")
    atomic_write_bytes(result.per_class_plot, plot)
    return result


def _nan_last(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _label_names(plan: EvaluationPlan, metadata_dir: Optional[str]) -> Optional[list]:
    """["other", wnid, ...] when the metadata is at hand (official ground truth or a
    named metadata folder); None otherwise, so plots fall back to class ids."""
    if not (plan.ground_truth.official or metadata_dir or os.environ.get("IMAGENETS_METADATA_DIR")):
        return None
    from .metadata import load_metadata

    return list(load_metadata(plan.config.name, metadata_dir).label_names)


def _image_path(source, mask_relpath: str, split: str) -> str:
    """Path of the ImageNet picture of a mask "wnid/NAME.png"."""
    name = mask_relpath.split("/", 1)[1][:-4] + ".JPEG"
    if split == "validation":
        return source.val_path(name)
    return source.train_path(f"{name.split('_', 1)[0]}/{name}")
