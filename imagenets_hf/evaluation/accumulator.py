"""The accumulator: additive totals of per-image statistics, merged by addition.

Memory does not grow with the pixels seen: the totals are sparse histograms
over (raw predicted label, ground-truth label, band flags, size buckets) whose
size is bounded by the labels in use, plus a few small ints per image (the
per-image record that image-level accuracy and F-measure need, because both
depend on the matching image by image).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..configs import IGNORE_LABEL
from .statistics import ImageStatistics


@dataclass(frozen=True)
class SizeBucket:
    """Objects whose area is at most `max_percent` % of the image's valid pixels (and above the previous bucket's)."""

    name: str
    boundary_name: str
    max_percent: int


SIZE_BUCKETS = (
    SizeBucket("S", "BS", 5),
    SizeBucket("MS", "BMS", 25),
    SizeBucket("ML", "BML", 50),
    SizeBucket("L", "BL", 100),
)
_BUCKET_LIMITS = np.array([bucket.max_percent for bucket in SIZE_BUCKETS])
_NUM_BUCKET_MASKS = 1 << len(SIZE_BUCKETS)

_COMPACT_ENTRIES = 1 << 13  # pending sparse entries (at least) before they are summed up
_DENSE_KEY_RANGE = 1 << 22  # keys below this are summed with a dense histogram (32 MB of float64 at most)


class _SparseCounter:
    """Counts per int64 key; additions are buffered and summed in batches."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_size = 0

    def add(self, keys: np.ndarray, counts: np.ndarray) -> None:
        self._pending.append((keys, counts))
        self._pending_size += len(keys)
        if self._pending_size > max(_COMPACT_ENTRIES, len(self.keys)):
            self.compact()

    def merge(self, other: _SparseCounter) -> None:
        other.compact()
        self.add(other.keys, other.counts)

    def compact(self) -> _SparseCounter:
        if self._pending:
            keys = np.concatenate([self.keys, *(k for k, _ in self._pending)])
            counts = np.concatenate([self.counts, *(c for _, c in self._pending)])
            if len(keys) and keys.max() < max(_DENSE_KEY_RANGE, 4 * len(keys)):
                # small key range (e.g. the N x N co-occurrence): a histogram beats sorting
                totals = np.bincount(keys, weights=counts)
                self.keys = np.flatnonzero(totals)
                self.counts = totals[self.keys].astype(np.int64)
            else:
                self.keys, inverse = np.unique(keys, return_inverse=True)
                self.counts = np.bincount(inverse, weights=counts, minlength=len(self.keys)).astype(np.int64)
            self._pending, self._pending_size = [], 0
        return self

    def __getstate__(self):
        self.compact()
        return {"keys": self.keys, "counts": self.counts}

    def __setstate__(self, state):
        self.__init__()
        self.keys, self.counts = state["keys"], state["counts"]


class _Records:
    """Per-image variable-length int rows, stored flat with per-image lengths.

    Additions and merges are buffered as blocks; the store is rebuilt only when
    the buffer outgrows it (geometric growth), so n additions or merges cost
    O(total rows), not O(n * total rows).
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self.values = np.zeros((0, width), dtype=np.int64)
        self.lengths = np.zeros(0, dtype=np.int64)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []  # (rows, per-image lengths)
        self._pending_rows = 0

    def add(self, rows: np.ndarray) -> None:
        self._append(rows, np.array([len(rows)], dtype=np.int64))

    def merge(self, other: _Records) -> None:
        other.compact()
        self._append(other.values, other.lengths)

    def _append(self, rows: np.ndarray, lengths: np.ndarray) -> None:
        self._pending.append((rows, lengths))
        self._pending_rows += len(rows)
        if self._pending_rows > max(_COMPACT_ENTRIES, len(self.values)):
            self.compact()
        elif len(self._pending) >= 512:  # many small blocks: fold them into one, leave the store alone
            self._pending = [_concatenate_blocks(self._pending, self.width)]

    def compact(self) -> _Records:
        if self._pending:
            values, lengths = _concatenate_blocks([(self.values, self.lengths), *self._pending], self.width)
            self.values, self.lengths = values, lengths
            self._pending, self._pending_rows = [], 0
        return self

    def image_index(self) -> np.ndarray:
        """(rows,) index of the image each row belongs to."""
        self.compact()
        return np.repeat(np.arange(len(self.lengths)), self.lengths)

    def __getstate__(self):
        self.compact()
        return {"width": self.width, "values": self.values, "lengths": self.lengths}

    def __setstate__(self, state):
        self.__init__(state["width"])
        self.values, self.lengths = state["values"], state["lengths"]


def _presence(images: np.ndarray, labels: np.ndarray, shape: tuple[int, int]):
    """Sparse 0/1 (images, N) scipy matrix with ones at (images[k], labels[k]) (pairs are unique)."""
    import scipy.sparse  # loads in ~0.3 s: only when a matching needs it

    ones = np.ones(len(images), dtype=np.int64)
    return scipy.sparse.csr_matrix((ones, (images, labels)), shape=shape)


def _concatenate_blocks(blocks: list[tuple[np.ndarray, np.ndarray]], width: int) -> tuple[np.ndarray, np.ndarray]:
    values = np.concatenate([rows.reshape(-1, width) for rows, _ in blocks])
    lengths = np.concatenate([lengths for _, lengths in blocks])
    return values, lengths


class Accumulator:
    """Sum of the statistics of any number of images, for N = `num_classes` classes.

    `add` one image's statistics, `merge` another accumulator (e.g. from another
    process); the order of images does not matter.
    """

    def __init__(self, num_classes: int) -> None:
        if not 1 <= int(num_classes) < IGNORE_LABEL:
            raise ValueError(f"num_classes must be a positive int below {IGNORE_LABEL}, got {num_classes!r}")
        self.num_classes = int(num_classes)
        self.num_images = 0
        self.void_pixels = 0
        # (raw predicted label, gt label, flags, bucket mask) -> valid pixels
        self._joint = _SparseCounter()
        # per image: (raw predicted label, valid pixels, of which on gt foreground);
        # with the gt classes below, these also give the matching's co-occurrence counts
        self._predicted = _Records(3)
        # per image: (gt class, valid pixels) for gt classes 1..N present
        self._ground_truth = _Records(2)

    @property
    def num_labels(self) -> int:
        return self.num_classes + 1

    def add(self, statistics: ImageStatistics) -> Accumulator:
        if statistics.num_classes != self.num_classes:
            raise ValueError(
                f"image statistics computed for {statistics.num_classes} classes cannot be added to an "
                f"accumulator for {self.num_classes} classes"
            )
        num_classes, num_labels = self.num_classes, self.num_labels
        predicted, gt, flags, counts = statistics.pairs.T

        class_pixels = np.bincount(gt, weights=counts, minlength=num_labels).astype(np.int64)
        valid_pixels = int(class_pixels.sum())
        present = np.flatnonzero(class_pixels[1:]) + 1
        # ceil(100 * area / valid) in exact integers (the official code uses float32)
        ratio = (100 * class_pixels[present] + valid_pixels - 1) // max(valid_pixels, 1)
        bucket_bits = np.left_shift(1, np.searchsorted(_BUCKET_LIMITS, ratio, side="left"))
        # background pixels belong to every non-empty bucket of this image
        bucket_mask = np.zeros(num_labels, dtype=np.int64)
        bucket_mask[present] = bucket_bits
        bucket_mask[0] = np.bitwise_or.reduce(bucket_bits) if len(present) else 0
        keys = ((predicted * num_labels + gt) * 4 + flags) * _NUM_BUCKET_MASKS + bucket_mask[gt]
        self._joint.add(keys, counts)

        self._ground_truth.add(np.stack([present, class_pixels[present]], axis=1))
        labels, inverse = np.unique(predicted, return_inverse=True)
        label_pixels = np.bincount(inverse, weights=counts, minlength=len(labels))
        label_foreground = np.bincount(inverse, weights=counts * (gt > 0), minlength=len(labels))
        self._predicted.add(np.stack([labels, label_pixels, label_foreground], axis=1).astype(np.int64))
        self.num_images += 1
        self.void_pixels += int(counts[predicted > num_classes].sum())
        return self

    def merge(self, other: Accumulator) -> Accumulator:
        """Add `other`'s totals to this accumulator; returns self."""
        if other.num_classes != self.num_classes:
            raise ValueError(
                f"cannot merge accumulators for {other.num_classes} and {self.num_classes} classes"
            )
        self._joint.merge(other._joint)
        self._predicted.merge(other._predicted)
        self._ground_truth.merge(other._ground_truth)
        self.num_images += other.num_images
        self.void_pixels += other.void_pixels
        return self

    def __iadd__(self, other: Accumulator) -> Accumulator:
        return self.merge(other)

    # -- read-outs used by matching and scoring -------------------------------------------

    def joint(self) -> dict[str, np.ndarray]:
        """The summed joint histogram as 1-D int64 arrays of equal length:
        "predicted" (raw label), "ground_truth", "flags", "bucket_mask", "count"."""
        counter = self._joint.compact()
        keys = counter.keys
        bucket_mask = keys % _NUM_BUCKET_MASKS
        keys = keys // _NUM_BUCKET_MASKS
        flags = keys % 4
        keys = keys // 4
        return {
            "predicted": keys // self.num_labels,
            "ground_truth": keys % self.num_labels,
            "flags": flags,
            "bucket_mask": bucket_mask,
            "count": counter.counts,
        }

    def confusion(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel confusion over all valid pixels: (labels, matrix) with `labels` the sorted raw
        predicted labels seen, (L,) int64, and `matrix` (L, N + 1) int64 pixel counts."""
        joint = self.joint()
        labels, rows = np.unique(joint["predicted"], return_inverse=True)
        matrix = np.zeros((len(labels), self.num_labels), dtype=np.int64)
        np.add.at(matrix, (rows, joint["ground_truth"]), joint["count"])
        return labels, matrix

    def cooccurrence(self) -> np.ndarray:
        """(N, N) int64: [i - 1, j - 1] = images in which predicted label i and gt class j both occur.

        Derived from the per-image records as (images x N presence of predicted labels)^T @
        (images x N presence of gt classes), a sparse product: no per-image outer products.
        """
        predicted_rows, gt_rows = self.image_records()
        n, images = self.num_classes, self.num_images
        predicted_rows = predicted_rows[(predicted_rows[:, 1] >= 1) & (predicted_rows[:, 1] <= n)]
        predicted = _presence(predicted_rows[:, 0], predicted_rows[:, 1] - 1, (images, n))
        ground_truth = _presence(gt_rows[:, 0], gt_rows[:, 1] - 1, (images, n))
        return (predicted.T @ ground_truth).toarray().astype(np.int64)

    def image_records(self):
        """Per-image records for image-level numbers: ((image, label, pixels, foreground pixels) rows,
        (image, gt class, pixels) rows), as int64 arrays."""
        predicted_image = self._predicted.image_index()
        gt_image = self._ground_truth.image_index()
        return (
            np.column_stack([predicted_image, self._predicted.values]),
            np.column_stack([gt_image, self._ground_truth.values]),
        )

    def __repr__(self) -> str:
        return f"Accumulator(num_classes={self.num_classes}, num_images={self.num_images})"
