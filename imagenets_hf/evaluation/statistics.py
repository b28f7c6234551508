"""Per-image statistics: everything the metric needs from one image, without its pixels.

One image reduces to a sparse joint histogram over its valid pixels (ground
truth != IGNORE_LABEL) of

    (raw predicted label, ground-truth label, predicted-band flag, ground-truth-band flag)

Every number of the evaluation (pixel and boundary confusions overall and per
size bucket, image-level accuracy, F-measure, label co-occurrence for the
matching) is a function of these histograms, and none depends on the matching,
so a single pass over the images serves both matching and scoring.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..configs import IGNORE_LABEL
from ..masks import MAX_LABEL, as_label_map
from .boundary import band_bits

PREDICTED_BAND = 2
"""Flag bit: the pixel lies in the boundary band of the (raw) prediction."""
GROUND_TRUTH_BAND = 1
"""Flag bit: the pixel lies in the boundary band of the ground truth."""


@dataclass(frozen=True, eq=False)
class ImageStatistics:
    """Sparse joint histogram of one image's valid pixels.

    Attributes:
        num_classes: N; ground-truth labels are 0..N.
        pairs: (M, 4) int64 rows (predicted label, ground-truth label, flags,
            pixel count), sorted, with distinct first three columns and count > 0.
            flags = PREDICTED_BAND | GROUND_TRUTH_BAND bits.
    """

    num_classes: int
    pairs: np.ndarray

    @property
    def predicted(self) -> np.ndarray:
        return self.pairs[:, 0]

    @property
    def ground_truth(self) -> np.ndarray:
        return self.pairs[:, 1]

    @property
    def counts(self) -> np.ndarray:
        return self.pairs[:, 3]

    @property
    def valid_pixels(self) -> int:
        return int(self.counts.sum())

    @property
    def void_pixels(self) -> int:
        """Valid pixels predicted with a label above N (never equal to a class)."""
        return int(self.counts[self.predicted > self.num_classes].sum())

    def to_dict(self) -> dict:
        """Plain ints, for Arrow storage: {"num_classes": N, "pairs": [p, g, flags, count, p, g, ...]}."""
        return {"num_classes": int(self.num_classes), "pairs": self.pairs.ravel().tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> ImageStatistics:
        return cls.from_flat(data["pairs"], data["num_classes"])

    @classmethod
    def from_flat(cls, flat, num_classes: int) -> ImageStatistics:
        pairs = np.asarray(flat, dtype=np.int64)
        if pairs.size % 4:
            raise ValueError(f"image statistics must hold groups of 4 ints, got {pairs.size} values")
        return cls(int(num_classes), pairs.reshape(-1, 4))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageStatistics):
            return NotImplemented
        return self.num_classes == other.num_classes and np.array_equal(self.pairs, other.pairs)

    def __repr__(self) -> str:
        return f"ImageStatistics(num_classes={self.num_classes}, valid_pixels={self.valid_pixels}, pairs={len(self.pairs)})"


def image_statistics(prediction: np.ndarray, ground_truth: np.ndarray, num_classes: int) -> ImageStatistics:
    """Reduce one image to its statistics.

    Args:
        prediction: (H, W) integer label map, values 0..65535 (above N = void).
        ground_truth: (H, W) integer label map, values 0..N or IGNORE_LABEL.
        num_classes: N.

    Raises:
        ValueError: shapes differ, maps are not 2-D integer arrays, or the
            ground truth holds a label outside 0..N other than IGNORE_LABEL.
    """
    if not 1 <= num_classes < IGNORE_LABEL:
        raise ValueError(f"num_classes must lie in 1..{IGNORE_LABEL - 1}, got {num_classes}")
    prediction = as_label_map(prediction, "prediction")
    ground_truth = as_label_map(ground_truth, "ground truth")
    if prediction.shape != ground_truth.shape:
        raise ValueError(
            f"prediction and ground truth differ in size: {prediction.shape[1]}x{prediction.shape[0]} vs "
            f"{ground_truth.shape[1]}x{ground_truth.shape[0]} (W x H); predictions must have the mask's size"
        )
    if prediction.size == 0:
        return ImageStatistics(num_classes, np.zeros((0, 4), dtype=np.int64))
    num_labels = num_classes + 1
    slots = 4 * (num_labels + 2)  # per predicted label: gt 0..N, ignore, invalid; times 4 band flags
    code = _ground_truth_codes(num_classes)[ground_truth]
    # Compact the (possibly large, up to 65535) predicted labels to 0..L-1 so that
    # the joint code fits a small bincount.
    predicted_counts = np.bincount(prediction.ravel())
    predicted_labels = np.flatnonzero(predicted_counts)
    predicted_codes = np.zeros(len(predicted_counts), dtype=np.int32)  # codes < 65536 * 4 * 922 < 2**31
    predicted_codes[predicted_labels] = np.arange(0, len(predicted_labels) * slots, slots)
    code += predicted_codes[prediction]
    code += band_bits((ground_truth, prediction))  # bit 0: GROUND_TRUTH_BAND, bit 1: PREDICTED_BAND
    code_range = len(predicted_labels) * slots
    if code_range <= 4 * code.size + 65536:
        histogram = np.bincount(code.ravel(), minlength=code_range)
        codes = np.flatnonzero(histogram)
        code_counts = histogram[codes]
    else:  # very many predicted labels in one image: sort instead of a huge histogram
        codes, code_counts = np.unique(code.ravel(), return_counts=True)
    flags, gt_labels, predicted_positions = codes % 4, (codes % slots) // 4, codes // slots
    if (gt_labels == num_labels + 1).any():
        bad = np.unique(ground_truth[(ground_truth > num_classes) & (ground_truth != IGNORE_LABEL)])
        raise ValueError(
            f"ground truth holds label(s) {bad[:5].tolist()} outside 0..{num_classes} and {IGNORE_LABEL} (ignore); "
            f"is num_classes={num_classes} the right config?"
        )
    keep = gt_labels < num_labels  # drop ignore pixels
    pairs = np.stack(
        [predicted_labels[predicted_positions[keep]], gt_labels[keep], flags[keep], code_counts[keep]], axis=1
    ).astype(np.int64)
    return ImageStatistics(num_classes, pairs)


@functools.lru_cache(maxsize=8)
def _ground_truth_codes(num_classes: int) -> np.ndarray:
    """(65536,) int32: ground-truth label -> 4 * slot; slot = label for 0..N, N + 1 for
    IGNORE_LABEL, N + 2 for anything else (an error). Read-only, shared."""
    slots = np.full(MAX_LABEL + 1, num_classes + 2, dtype=np.int32)
    slots[: num_classes + 1] = np.arange(num_classes + 1)
    slots[IGNORE_LABEL] = num_classes + 1
    codes = 4 * slots
    codes.flags.writeable = False
    return codes
