"""Properties (batching, merging, permutation invariance) and independent naive references."""

import math
import pickle

import numpy as np
import pytest

from imagenets_hf.evaluation import (
    Accumulator,
    boundary_band,
    boundary_width,
    image_statistics,
    match_image,
    per_class,
    score,
)

IGN = 1000


def random_pair(rng, num_classes, height=None, width=None, void=True):
    height = height or int(rng.integers(3, 40))
    width = width or int(rng.integers(3, 40))
    gt = np.zeros((height, width), dtype=np.uint16)
    for _ in range(int(rng.integers(1, 4))):  # rectangles of classes, with ignore pixels
        top, left = rng.integers(0, height), rng.integers(0, width)
        gt[top : top + rng.integers(1, height), left : left + rng.integers(1, width)] = rng.integers(1, num_classes + 1)
    gt[rng.random(gt.shape) < 0.05] = IGN
    prediction = gt.copy()
    prediction[gt == IGN] = 0
    noise = rng.random(gt.shape) < 0.2
    top = num_classes + 3 if void else num_classes
    prediction[noise] = rng.integers(0, top + 1, int(noise.sum()))
    return prediction, gt


def same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if key == "IoUs":
            assert a[key] == pytest.approx(b[key], abs=1e-9)
        elif key == "match":
            assert a[key] == b[key]
        elif math.isnan(a[key]):
            assert math.isnan(b[key]), key
        else:
            assert a[key] == pytest.approx(b[key], abs=1e-9), key


def accumulate(pairs, num_classes):
    accumulator = Accumulator(num_classes)
    for prediction, gt in pairs:
        accumulator.add(image_statistics(prediction, gt, num_classes))
    return accumulator


@pytest.mark.parametrize("seed", range(3))
def test_batches_and_merged_halves_equal_one_pass(seed):
    rng = np.random.default_rng(seed)
    pairs = [random_pair(rng, 6) for _ in range(30)]
    whole = score(accumulate(pairs, 6), match_image(accumulate(pairs, 6)))
    halves = accumulate(pairs[:13], 6).merge(accumulate(pairs[13:], 6))
    same(score(halves, match_image(halves)), whole)
    batched = Accumulator(6)
    for start in range(0, 30, 7):
        batched += accumulate(pairs[start : start + 7], 6)
    same(score(batched, match_image(batched)), whole)
    # and through pickling, as across processes
    same(score(pickle.loads(pickle.dumps(batched))), score(accumulate(pairs, 6)))


def test_accumulator_compacts_many_images(monkeypatch):
    from imagenets_hf.evaluation import accumulator as module

    monkeypatch.setattr(module, "_COMPACT_ENTRIES", 16)  # force many intermediate compactions
    rng = np.random.default_rng(9)
    pairs = [random_pair(rng, 4) for _ in range(40)]
    compacted = accumulate(pairs, 4)
    monkeypatch.setattr(module, "_COMPACT_ENTRIES", 1 << 20)
    same(score(compacted), score(accumulate(pairs, 4)))


@pytest.mark.parametrize("seed", range(3))
def test_scores_invariant_under_label_permutation_with_official_matching(seed):
    rng = np.random.default_rng(seed)
    n = 8
    pairs = []
    for image in range(24):
        gt = np.zeros((12, 16), dtype=np.uint16)
        # every class appears alone in some image -> the co-occurrence optimum is unique
        classes = [image % n + 1] if image < 2 * n else list(rng.choice(np.arange(1, n + 1), 2, replace=False))
        for k, c in enumerate(classes):
            gt[2 + 4 * k : 6 + 4 * k, 3 : 3 + int(rng.integers(4, 12))] = c
        gt[0, rng.integers(0, 16)] = IGN
        prediction = gt.copy()
        prediction[gt == IGN] = 0
        prediction[rng.random(gt.shape) < 0.1] = rng.integers(0, n + 1)
        pairs.append((prediction, gt))
    permutation = np.concatenate([[0], rng.permutation(np.arange(1, n + 1))])
    permuted = [(permutation[p].astype(np.uint16), g) for p, g in pairs]
    plain = score(accumulate(pairs, n))
    accumulator = accumulate(permuted, n)
    matching = match_image(accumulator)
    assert matching.mapping == {int(permutation[c]): c for c in range(n + 1)}
    result = score(accumulator, matching)
    del result["match"]
    same(result, plain)


def naive_scores(pairs, num_classes):
    """Dense per-pixel confusion of valid pixels; void predictions dropped."""
    k = num_classes + 1
    confusion = np.zeros((k + 1, k), dtype=np.int64)  # last row: void predictions
    boundary = np.zeros((3, k), dtype=np.int64)  # predicted, gt, hits on bands
    for prediction, gt in pairs:
        valid = gt != IGN
        predicted_band, gt_band = naive_band(prediction), naive_band(gt)
        for (y, x) in zip(*np.nonzero(valid)):
            p, g = int(prediction[y, x]), int(gt[y, x])
            confusion[min(p, k), g] += 1
            if p <= num_classes:
                if predicted_band[y, x]:
                    boundary[0, p] += 1
            if gt_band[y, x]:
                boundary[1, g] += 1
                if p == g and predicted_band[y, x]:
                    boundary[2, g] += 1
    predicted, gt, hits = confusion[:k].sum(1), confusion.sum(0), np.diag(confusion)
    iou = 100 * hits / (predicted + gt - hits + 1e-10)
    biou = 100 * boundary[2] / (boundary[0] + boundary[1] - boundary[2] + 1e-10)
    return iou, biou, gt, predicted


def naive_band(labels):
    """Direct definition: interior iff the whole chessboard d-window is inside and uniform."""
    height, width = labels.shape
    d = boundary_width(height, width)
    band = np.ones((height, width), dtype=bool)
    for y in range(d, height - d):
        for x in range(d, width - d):
            band[y, x] = not (labels[y - d : y + d + 1, x - d : x + d + 1] == labels[y, x]).all()
    return band


@pytest.mark.parametrize("seed", range(2))
def test_per_class_iou_equals_naive_dense_confusion(seed):
    rng = np.random.default_rng(100 + seed)
    pairs = [random_pair(rng, 5) for _ in range(12)]
    table = per_class(accumulate(pairs, 5))
    iou, biou, gt, predicted = naive_scores(pairs, 5)
    assert table["gt_pixels"].tolist() == gt.tolist()
    assert table["predicted_pixels"].tolist() == predicted.tolist()
    np.testing.assert_allclose(table["IoU"], iou, rtol=0, atol=1e-12)
    np.testing.assert_allclose(table["BIoU"], biou, rtol=0, atol=1e-12)
    assert score(accumulate(pairs, 5))["mIoU"] == pytest.approx(iou.mean(), abs=1e-12)


def test_boundary_band_equals_naive_window_definition():
    rng = np.random.default_rng(5)
    for index in range(150):
        # sizes up to 80 give d in 1..3
        height, width = (int(v) for v in rng.integers(1, 80 if index % 5 == 0 else 30, 2))
        cell = int(rng.integers(1, 8))
        blocks = rng.integers(0, 3, (height // cell + 1, width // cell + 1))
        labels = np.kron(blocks, np.ones((cell, cell), dtype=np.int64))[:height, :width]
        assert (boundary_band(labels) == naive_band(labels)).all(), (height, width, cell)


def test_statistics_equal_for_any_integer_dtype():
    rng = np.random.default_rng(2)
    prediction, gt = random_pair(rng, 5)
    reference = image_statistics(prediction, gt, 5)
    for dtype in (np.int32, np.int64, np.uint32):
        assert image_statistics(prediction.astype(dtype), gt.astype(dtype), 5) == reference


def test_many_predicted_labels_in_one_image():
    # over-clustered: thousands of labels in one image takes the sorting path
    rng = np.random.default_rng(4)
    gt = rng.integers(0, 3, (60, 70)).astype(np.uint16)
    prediction = rng.integers(0, 65536, (60, 70)).astype(np.uint16)
    statistics = image_statistics(prediction, gt, 2)
    assert statistics.valid_pixels == 60 * 70
    labels, counts = np.unique(prediction, return_counts=True)
    per_label = {}
    for p, _, _, count in statistics.pairs.tolist():
        per_label[p] = per_label.get(p, 0) + count
    assert per_label == dict(zip(labels.tolist(), counts.tolist()))
