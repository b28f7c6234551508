"""Matchings: munkres 1.1.4 parity on tie-heavy matrices, the official cost matrix, the
non-official options and the match.json format."""

import json

import numpy as np
import pytest

from imagenets_hf.evaluation import (
    Accumulator,
    image_statistics,
    load_match,
    match_image,
    match_majority,
    match_pixel,
    munkres_assignment,
    resolve_match,
    save_match,
)

munkres = pytest.importorskip("munkres", reason="munkres==1.1.4 (a test dependency) defines the official tie-breaking")


def reference_assignment(cost):
    assert munkres.__version__ == "1.1.4"
    return munkres.Munkres().compute(np.asarray(cost).tolist())


def tie_heavy_matrices(seed, count):
    rng = np.random.default_rng(seed)
    for index in range(count):
        rows = int(rng.integers(1, 10))
        columns = rows if index % 3 else int(rng.integers(1, 10))
        kind = index % 4
        if kind == 0:  # few distinct integer costs
            yield rng.integers(0, 3, (rows, columns)).astype(float)
        elif kind == 1:  # the official cost of a small co-occurrence matrix
            images = int(rng.integers(2, 9))
            cooccurrence = rng.integers(0, images + 1, (rows, columns)) * (rng.random((rows, columns)) < 0.4)
            yield (1 - cooccurrence / images).astype(np.float32).astype(float)
        elif kind == 2:  # non-dyadic values: exercises float subtraction
            yield rng.choice([0.0, 0.1, 0.2, 0.3, 0.7, 1.0], (rows, columns))
        else:  # identical rows and columns
            base = rng.integers(0, 2, (1, columns)).astype(float)
            yield np.repeat(base, rows, axis=0)


@pytest.mark.parametrize("seed", range(4))
def test_reproduces_munkres_1_1_4_on_tie_heavy_matrices(seed):
    for cost in tie_heavy_matrices(seed, 400):
        assert munkres_assignment(cost) == reference_assignment(cost), cost


def test_reproduces_munkres_1_1_4_on_sparse_cooccurrence_40x40():
    rng = np.random.default_rng(7)
    for _ in range(5):
        images = 30
        cooccurrence = rng.integers(0, 4, (40, 40)) * (rng.random((40, 40)) < 0.1)
        cost = (1 - cooccurrence / images).astype(np.float32).astype(float)
        assert munkres_assignment(cost) == reference_assignment(cost)


def test_reproduces_munkres_1_1_4_with_many_empty_rows_and_columns():
    # few images for many classes: most predicted labels never occur (all-equal rows),
    # the case with the longest prime chains and several matrix updates
    rng = np.random.default_rng(11)
    for size in (30, 60):
        cooccurrence = np.zeros((size, size), dtype=np.int64)
        for _ in range(size // 3):
            classes = rng.choice(size, int(rng.integers(1, 4)), replace=False)
            predicted = rng.choice(size // 2, int(rng.integers(1, 4)), replace=False)
            cooccurrence[np.ix_(predicted, classes)] += 1
        cost = (1 - cooccurrence / (size // 3)).astype(np.float32).astype(float)
        assert munkres_assignment(cost) == reference_assignment(cost)


def test_munkres_rejects_bad_matrices():
    with pytest.raises(ValueError, match="non-empty 2-D"):
        munkres_assignment(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="finite"):
        munkres_assignment(np.array([[np.inf, 1.0], [0.0, 1.0]]))


def add(accumulator, prediction, gt):
    accumulator.add(image_statistics(np.array(prediction), np.array(gt), accumulator.num_classes))


def test_cooccurrence_and_image_matching_by_hand():
    # N = 3. Image 1: gt {1, 2}, predicted {2, 3}; image 2: gt {1}, predicted {2};
    # image 3: gt {3} (and an ignored pixel predicted 1: not counted), predicted {1, 3}.
    accumulator = Accumulator(3)
    add(accumulator, [[2, 3]], [[1, 2]])
    add(accumulator, [[2, 0]], [[1, 0]])
    add(accumulator, [[1, 3, 3]], [[3, 3, 1000]])
    # predicted label 1 occurs (on valid pixels) only in image 3 with class 3
    assert accumulator.cooccurrence().tolist() == [
        [0, 0, 1],  # predicted 1
        [2, 1, 0],  # predicted 2: with 1 in images 1 and 2, with 2 in image 1
        [1, 1, 1],  # predicted 3: with 1, 2 in image 1 and with 3 in image 3
    ]
    matching = match_image(accumulator)
    # best total: 1->3 (1), 2->1 (2), 3->2 (1) = 4
    assert matching.mapping == {0: 0, 1: 3, 2: 1, 3: 2}
    assert matching.total == 4 and matching.method == "image"
    scipy_matching = match_image(accumulator, solver="scipy")
    assert scipy_matching.total == 4 and scipy_matching.method == "image (scipy)"


def test_image_matching_uses_the_official_float32_cost_and_tie_order():
    rng = np.random.default_rng(3)
    accumulator = Accumulator(6)
    for _ in range(12):
        gt = rng.integers(0, 7, (3, 4))
        prediction = rng.integers(0, 9, (3, 4))  # 7, 8 are void: never matched
        add(accumulator, prediction, gt)
    cooccurrence = accumulator.cooccurrence()
    cost = (1 - cooccurrence / accumulator.num_images).astype(np.float32)
    expected = {0: 0, **{i + 1: j + 1 for i, j in reference_assignment(cost.tolist())}}
    assert match_image(accumulator).mapping == expected


def test_pixel_and_majority_matchings_by_hand():
    accumulator = Accumulator(2)
    # predicted 5 covers gt 1 on 3 pixels and gt 2 on 1; predicted 6 covers gt 1 on 2 pixels;
    # predicted 7 covers background on 2 pixels
    add(accumulator, [[5, 5, 5, 5, 6, 6, 7, 7]], [[1, 1, 1, 2, 1, 1, 0, 0]])
    pixel = match_pixel(accumulator)
    # one-to-one over classes 1, 2: 5->1 (3) + 6->2 (0) = 3 or 5->2 (1) + 6->1 (2) = 3: equal;
    # 7 cannot gain anything; the optimum total is 3
    assert pixel.total == 3 and pixel.method == "pixel"
    assert sorted(v for k, v in pixel.mapping.items() if k) == [1, 2]
    majority = match_majority(accumulator)
    assert majority.mapping == {0: 0, 5: 1, 6: 1, 7: 0}
    assert majority.total == 3 + 2 + 2


def test_resolve_match_forms(tmp_path):
    accumulator = Accumulator(2)
    add(accumulator, [[1]], [[2]])
    add(accumulator, [[2]], [[1]])
    assert resolve_match(accumulator, None) is None
    assert resolve_match(accumulator, "image").mapping == {0: 0, 1: 2, 2: 1}
    assert resolve_match(accumulator, {"1": 2, "2": 1}).mapping == {0: 0, 1: 2, 2: 1}
    path = tmp_path / "match.json"
    save_match({0: 0, 1: 2, 2: 1}, path)
    assert json.loads(path.read_text()) == {"0": 0, "1": 2, "2": 1}
    assert resolve_match(accumulator, str(path)).mapping == {0: 0, 1: 2, 2: 1}
    with pytest.raises(FileNotFoundError, match="'imagee' is neither"):
        resolve_match(accumulator, "imagee")
    with pytest.raises(ValueError, match="outside the classes 0..2"):
        resolve_match(accumulator, {1: 3})
    with pytest.raises(ValueError, match="background"):
        resolve_match(accumulator, {0: 1})
    with pytest.raises(ValueError, match="unknown solver"):
        resolve_match(accumulator, "image", solver="hungarian")
    with pytest.raises(ValueError, match="before any image"):
        match_image(Accumulator(2))


def test_load_match_validates_the_official_format(tmp_path):
    good = tmp_path / "good.json"
    good.write_text('{"1": 17, "2": 29, "0": 0}')
    assert load_match(good) == {0: 0, 1: 17, 2: 29}
    cases = {
        "notjson.json": ("{1: 2", "not a JSON file"),
        "list.json": ("[0, 1]", "expected a JSON object"),
        "string.json": ('{"0": 0, "1": "2"}', "every value must be an int"),
        "key.json": ('{"0": 0, "one": 2}', "'one' is not an int predicted label"),
        "negative.json": ('{"0": 0, "1": -2}', "outside the classes"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(ValueError, match=message) as error:
            load_match(path, 50)
        assert name in str(error.value)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        load_match(tmp_path / "missing.json")
