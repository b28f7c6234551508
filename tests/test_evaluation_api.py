"""The plain entry points: evaluate_segmentation and accumulate (sources, workers, errors)."""

import functools

import numpy as np
import pytest
from PIL import Image

import imagenets_hf
from imagenets_hf.evaluation import Accumulator, accumulate, evaluate_segmentation, score
from imagenets_hf.masks import encode_mask, encode_mask_png

IGN = 1000


def same(a, b):
    """Equal results; NaN equals NaN; floats to 1e-9 (image order may change summation order)."""
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], float) and np.isnan(a[key]):
            assert np.isnan(b[key]), key
        elif key == "match":
            assert a[key] == b[key]
        else:
            assert a[key] == pytest.approx(b[key], abs=1e-9), key
    return True


def make_pairs(count, num_classes=5, seed=0):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        gt = np.zeros((int(rng.integers(8, 30)), int(rng.integers(8, 30))), dtype=np.uint16)
        gt[2:-2, 3:-3] = rng.integers(1, num_classes + 1)
        gt[1, :] = IGN
        prediction = gt.copy()
        prediction[gt == IGN] = 0
        prediction[rng.random(gt.shape) < 0.2] = rng.integers(0, num_classes + 3)
        pairs.append((prediction, gt))
    return pairs


def test_sources_give_identical_results(tmp_path):
    arrays = make_pairs(6)
    expected = evaluate_segmentation(arrays, 5)
    as_bytes = [(encode_mask_png(p), encode_mask_png(g)) for p, g in arrays]
    assert same(evaluate_segmentation(as_bytes, 5), expected)
    as_images = [(Image.fromarray(p.astype(np.int32), mode="I"), encode_mask(g)) for p, g in arrays]
    assert same(evaluate_segmentation(as_images, 5), expected)
    paths = []
    for index, (p, g) in enumerate(arrays):
        paths.append((tmp_path / f"p{index}.png", tmp_path / f"g{index}.png"))
        encode_mask(p).save(paths[-1][0])
        encode_mask(g).save(paths[-1][1])
    assert same(evaluate_segmentation([(str(p), str(g)) for p, g in paths], 5), expected)
    assert same(evaluate_segmentation([({"bytes": p, "path": None}, g) for p, g in as_bytes], 5), expected)


def test_workers_give_identical_results():
    pairs = [(encode_mask_png(p), encode_mask_png(g)) for p, g in make_pairs(40, seed=1)]
    expected = evaluate_segmentation(pairs, 5, match="image")
    assert same(evaluate_segmentation(pairs, 5, match="image", num_workers=2), expected)
    # a generator without len, with a progress bar
    assert same(evaluate_segmentation((pair for pair in pairs), 5, match="image", num_workers=2, progress=True), expected)


def load_shifted(item, offset):
    """A custom loader: item is an index into module-level data; predictions shifted by `offset`."""
    prediction, gt = _DATA[item]
    return prediction + offset, gt


_DATA = make_pairs(10, seed=2)


def test_accumulate_with_a_custom_picklable_loader():
    load = functools.partial(load_shifted, offset=0)
    direct = accumulate(range(10), 5, load=load)
    in_workers = accumulate(range(10), 5, load=load, num_workers=2)
    assert isinstance(direct, Accumulator) and direct.num_images == in_workers.num_images == 10
    assert same(score(direct), score(in_workers)) and same(score(direct), evaluate_segmentation(_DATA, 5))
    # labels shifted by 10 are all void (N = 5)
    shifted = accumulate(range(10), 5, load=functools.partial(load_shifted, offset=10))
    assert shifted.void_pixels == sum(int((g != IGN).sum()) for _, g in _DATA)


def test_matching_options_through_the_entry_point(tmp_path):
    pairs = make_pairs(8, seed=3)
    for match in ("image", "pixel", "majority"):
        assert "match" in evaluate_segmentation(pairs, 5, match=match)
    fast = evaluate_segmentation(pairs, 5, match="image", solver="scipy")
    assert set(fast["match"]) == {str(i) for i in range(6)}


def test_errors_name_the_file(tmp_path):
    good = encode_mask_png(np.zeros((4, 4), dtype=np.uint16))
    with pytest.raises(FileNotFoundError, match="nope.png"):
        evaluate_segmentation([(str(tmp_path / "nope.png"), good)], 5)
    with pytest.raises(ValueError, match="differ in size"):
        evaluate_segmentation([(encode_mask_png(np.zeros((4, 5), dtype=np.uint16)), good)], 5)
    with pytest.raises(ValueError, match="pair"):
        evaluate_segmentation([good], 5)
    with pytest.raises(ValueError, match="positive"):
        evaluate_segmentation([], 0)


def test_public_exports():
    assert imagenets_hf.evaluate_segmentation is evaluate_segmentation
    assert imagenets_hf.Accumulator is Accumulator
    assert callable(imagenets_hf.image_statistics)


def _load_reporting_process(item):
    """A `load` that tags each image with the id of the process that decoded it."""
    import os

    labels = np.full((2, 2), os.getpid() % 50, dtype=np.uint16)
    return labels, np.zeros((2, 2), dtype=np.uint16)


def test_no_more_worker_processes_than_chunks():
    import os

    # 4 items fit one chunk: they are decoded here, not in a pool of 8 idle processes
    accumulator = accumulate(list(range(4)), 50, load=_load_reporting_process, num_workers=8)
    labels, _ = accumulator.confusion()
    assert labels.tolist() == [os.getpid() % 50]
