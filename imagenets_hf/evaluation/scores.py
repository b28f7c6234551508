"""Scores: pure functions of an Accumulator's totals and a matching.

Applying a matching m relabels the raw predicted labels of the accumulated
confusions (labels m does not map become void), so matching and scoring share
one pass over the images.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .accumulator import SIZE_BUCKETS, Accumulator
from .matching import Matching, match_to_json_dict, validate_mapping
from .statistics import GROUND_TRUTH_BAND, PREDICTED_BAND

EPSILON_IOU = 1e-10
EPSILON_F = 1e-20
F_BETA_SQUARED = 0.3  # the F-measure's beta^2, as in the saliency literature

RESULT_KEYS = ("Acc", "mIoU", "mBIoU", "S", "MS", "ML", "L", "BS", "BMS", "BML", "BL", "FMeasure", "IoUs")


def score(accumulator: Accumulator, mapping: Mapping[int, int] | Matching | None = None) -> dict:
    """Every official number, in percent: {"Acc", "mIoU", "mBIoU", "S", "MS", "ML", "L", "BS",
    "BMS", "BML", "BL", "FMeasure": float, "IoUs": list of N + 1 floats (background first)},
    plus "match" (the official JSON layout) when a mapping is given. Buckets without any
    label are NaN."""
    lookup = _lookup(accumulator, mapping)
    totals = _confusion_totals(accumulator, lookup)
    pixel_all, boundary_all = totals["all"]
    iou = _iou(*pixel_all)
    result = {"Acc": _image_accuracy(accumulator, lookup), "mIoU": float(iou.mean())}
    result["mBIoU"] = float(_iou(*boundary_all).mean())
    for bucket in SIZE_BUCKETS:
        result[bucket.name] = _present_mean(*totals[bucket.name][0])
    for bucket in SIZE_BUCKETS:
        result[bucket.boundary_name] = _present_mean(*totals[bucket.name][1])
    result["FMeasure"] = _f_measure(accumulator, lookup)
    result["IoUs"] = iou.tolist()
    if mapping is not None:
        result["match"] = match_to_json_dict(_mapping_dict(accumulator, mapping))
    return result


def per_class(accumulator: Accumulator, mapping: Mapping[int, int] | Matching | None = None) -> dict[str, np.ndarray]:
    """Per label 0..N: "IoU", "BIoU" ((N + 1,) float64, percent), "gt_pixels" and
    "predicted_pixels" ((N + 1,) int64, valid pixels, after the matching)."""
    totals = _confusion_totals(accumulator, _lookup(accumulator, mapping), buckets=False)
    (predicted, gt, hits), boundary = totals["all"]
    return {"IoU": _iou(predicted, gt, hits), "BIoU": _iou(*boundary), "gt_pixels": gt, "predicted_pixels": predicted}


def _mapping_dict(accumulator: Accumulator, mapping) -> dict[int, int]:
    if isinstance(mapping, Matching):
        return mapping.mapping
    return validate_mapping(mapping, accumulator.num_classes, "the matching")


def _lookup(accumulator: Accumulator, mapping) -> np.ndarray:
    """(65536,) int64: raw predicted label -> label 0..N, or -1 (void)."""
    lookup = np.full(65536, -1, dtype=np.int64)
    if mapping is None:
        lookup[: accumulator.num_labels] = np.arange(accumulator.num_labels)
    else:
        mapping = _mapping_dict(accumulator, mapping)
        lookup[np.fromiter(mapping.keys(), np.int64)] = np.fromiter(mapping.values(), np.int64)
    return lookup


def _confusion_totals(accumulator: Accumulator, lookup: np.ndarray, buckets: bool = True) -> dict:
    """{"all" or bucket name: ((predicted, gt, hits), (boundary predicted, gt, hits))}, each (N + 1,) int64."""
    joint = accumulator.joint()
    predicted = lookup[joint["predicted"]]
    gt, flags, count = joint["ground_truth"], joint["flags"], joint["count"]
    predicted_band = (flags & PREDICTED_BAND) > 0
    gt_band = (flags & GROUND_TRUTH_BAND) > 0
    selections = {"all": None}
    if buckets:
        selections.update(
            {bucket.name: (joint["bucket_mask"] >> index) & 1 > 0 for index, bucket in enumerate(SIZE_BUCKETS)}
        )
    num_labels = accumulator.num_labels
    totals = {}
    for name, selected in selections.items():
        in_set = np.ones(len(count), dtype=bool) if selected is None else selected
        pixel = _areas(predicted, gt, count, in_set, in_set, num_labels)
        boundary = _areas(predicted, gt, count, in_set & predicted_band, in_set & gt_band, num_labels)
        totals[name] = (pixel, boundary)
    return totals


def _areas(predicted, gt, count, predicted_in, gt_in, num_labels):
    """(predicted area, gt area, intersection) per label; void predictions (-1) count nowhere."""
    predicted_in = predicted_in & (predicted >= 0)
    hits_in = predicted_in & gt_in & (predicted == gt)
    return tuple(
        np.bincount(labels[selected], weights=count[selected], minlength=num_labels).astype(np.int64)
        for labels, selected in ((predicted, predicted_in), (gt, gt_in), (gt, hits_in))
    )


def _iou(predicted: np.ndarray, gt: np.ndarray, hits: np.ndarray) -> np.ndarray:
    return 100 * hits / (predicted + gt - hits + EPSILON_IOU)


def _present_mean(predicted, gt, hits) -> float:
    """Mean IoU over labels with ground-truth pixels in the set; NaN when there is none."""
    present = gt > 0
    if not present.any():
        return float("nan")
    return float(_iou(predicted, gt, hits)[present].mean())


def _image_accuracy(accumulator: Accumulator, lookup: np.ndarray) -> float:
    """Percent of images whose most predicted class (first on ties) is present in both maps."""
    if accumulator.num_images == 0:
        return float("nan")
    predicted_rows, gt_rows = accumulator.image_records()
    image, label, pixels = predicted_rows[:, 0], lookup[predicted_rows[:, 1]], predicted_rows[:, 2]
    is_class = label >= 1
    num_labels = accumulator.num_labels
    codes, inverse = np.unique(image[is_class] * num_labels + label[is_class], return_inverse=True)
    area = np.bincount(inverse, weights=pixels[is_class], minlength=len(codes))
    code_image, code_label = codes // num_labels, codes % num_labels
    # per image: largest area first, smallest label among equals
    order = np.lexsort((code_label, -area, code_image))
    first = order[np.r_[True, code_image[order][1:] != code_image[order][:-1]]] if len(order) else order
    chosen = code_image[first] * num_labels + code_label[first]
    present = gt_rows[:, 0] * num_labels + gt_rows[:, 1]
    correct = np.isin(chosen, present).sum()  # an image without predicted classes is wrong
    return float(100 * correct / accumulator.num_images)


def _f_measure(accumulator: Accumulator, lookup: np.ndarray) -> float:
    """100 * mean over images of F(beta^2 = 0.3) of foreground (label > 0, void included) vs gt > 0."""
    if accumulator.num_images == 0:
        return float("nan")
    predicted_rows, gt_rows = accumulator.image_records()
    images = accumulator.num_images
    foreground = lookup[predicted_rows[:, 1]] != 0  # classes and void
    rows = predicted_rows[foreground]
    predicted = np.bincount(rows[:, 0], weights=rows[:, 2], minlength=images)
    hits = np.bincount(rows[:, 0], weights=rows[:, 3], minlength=images)
    gt = np.bincount(gt_rows[:, 0], weights=gt_rows[:, 2], minlength=images)
    recall = hits / (gt + EPSILON_F)
    precision = hits / (predicted + EPSILON_F)
    f = (1 + F_BETA_SQUARED) * precision * recall / (F_BETA_SQUARED * precision + recall + EPSILON_F)
    return float(100 * f.mean())
