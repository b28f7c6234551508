"""The `evaluate` module metric/imagenet_s: a thin adapter that stores statistics, not pixels."""

import doctest
import importlib.util
import math
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

evaluate = pytest.importorskip("evaluate")

from imagenets_hf.evaluation import evaluate_segmentation  # noqa: E402
from imagenets_hf.masks import encode_mask, encode_mask_png  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODULE_DIR = ROOT / "metric" / "imagenet_s"
IGN = 1000


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(ROOT)  # the docstring example loads "metric/imagenet_s"


def load(config="50", **kwargs):
    return evaluate.load(str(MODULE_DIR), config, **kwargs)


def make_pairs(count, num_classes=50, seed=0):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        gt = np.zeros((int(rng.integers(10, 40)), int(rng.integers(10, 40))), dtype=np.uint16)
        gt[3:-3, 2:-2] = rng.integers(1, num_classes + 1)
        gt[0, :] = IGN
        prediction = gt.copy()
        prediction[rng.random(gt.shape) < 0.3] = rng.integers(0, num_classes + 4)
        pairs.append((prediction, gt))
    return pairs


def same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], float) and math.isnan(a[key]):
            assert math.isnan(b[key]), key
        elif key == "match":
            assert a[key] == b[key]
        else:
            assert a[key] == pytest.approx(b[key], abs=1e-9), key
    return True


def test_docstring_example_runs():
    module = load()
    docstring = type(module).__module__
    source = sys.modules[docstring]
    examples = source._KWARGS_DESCRIPTION
    parser = doctest.DocTestParser()
    test = parser.get_doctest(examples, {}, "imagenet_s._KWARGS_DESCRIPTION", str(MODULE_DIR / "imagenet_s.py"), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and runner.tries >= 8


@pytest.mark.parametrize("config", ["50", "300", "919"])
def test_config_gives_the_number_of_classes(config):
    prediction = np.zeros((4, 4), dtype=np.uint16)
    result = load(config).compute(predictions=[prediction], references=[prediction])
    assert len(result["IoUs"]) == int(config) + 1


def test_add_add_batch_and_compute_equal_the_direct_path():
    pairs = make_pairs(12)
    expected = evaluate_segmentation(pairs, 50, match="image")
    module = load()
    module.add(prediction=pairs[0][0], reference=pairs[0][1])
    module.add_batch(predictions=[encode_mask_png(p) for p, _ in pairs[1:6]], references=[encode_mask(g) for _, g in pairs[1:6]])
    module.add_batch(predictions=[p.tolist() for p, _ in pairs[6:]], references=[g for _, g in pairs[6:]])
    assert same(module.compute(match="image"), expected)
    assert same(load().compute(predictions=[p for p, _ in pairs], references=[g for _, g in pairs]), evaluate_segmentation(pairs, 50))


def test_stores_statistics_not_pixels():
    module = load()
    big = np.zeros((300, 400), dtype=np.uint16)
    big[50:250, 100:300] = 3
    module.add(prediction=big, reference=big)
    module._finalize()
    stored = module.data
    assert stored.column_names == ["predictions", "references"]
    assert len(stored["predictions"][0]) < 100  # a few (label, label, flags, count) groups
    assert stored["references"][0] == [300, 400]


def test_matching_options(tmp_path):
    pairs = make_pairs(6, seed=1)
    predictions, references = [p for p, _ in pairs], [g for _, g in pairs]
    for match in ("image", "pixel", "majority"):
        result = load().compute(predictions=predictions, references=references, match=match)
        assert same(result, evaluate_segmentation(pairs, 50, match=match))
    path = tmp_path / "match.json"
    path.write_text('{"0": 0, "1": 2, "2": 1}')
    result = load().compute(predictions=predictions, references=references, match=str(path))
    assert result["match"] == {"0": 0, "1": 2, "2": 1}
    result = load().compute(predictions=predictions, references=references, match={1: 2, 2: 1})
    assert same(result, evaluate_segmentation(pairs, 50, match=str(path)))


def test_two_processes_share_an_experiment(tmp_path):
    # evaluate's rendez-vous needs both instances alive at once: process 1 runs in a thread
    pairs = make_pairs(8, seed=2)
    common = dict(num_process=2, experiment_id="imagenets-test", cache_dir=str(tmp_path), timeout=30)
    process_0 = load(process_id=0, **common)
    process_1 = load(process_id=1, **common)
    outcome = {}

    def run_process_1():
        try:
            process_1.add_batch(predictions=[p for p, _ in pairs[4:]], references=[g for _, g in pairs[4:]])
            outcome["process 1"] = process_1.compute()
        except Exception as error:  # surfaced below
            outcome["process 1"] = error

    thread = threading.Thread(target=run_process_1)
    thread.start()
    process_0.add_batch(predictions=[p for p, _ in pairs[:4]], references=[g for _, g in pairs[:4]])
    result = process_0.compute(match="image")
    thread.join(timeout=60)
    assert outcome["process 1"] is None  # only process 0 gets results
    assert same(result, evaluate_segmentation(pairs, 50, match="image"))


def test_errors_are_clear():
    module = load()
    with pytest.raises(ValueError, match="differ in size|mask's size"):
        module.add(prediction=np.zeros((3, 4), dtype=np.uint16), reference=np.zeros((4, 3), dtype=np.uint16))
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        module.add_batch(predictions=[np.zeros((2, 2))] * 2, references=[np.zeros((2, 2))])
    with pytest.raises(ValueError, match="unknown ImageNet-S config"):
        load("51").compute(predictions=[np.zeros((2, 2), np.uint16)], references=[np.zeros((2, 2), np.uint16)])


def test_missing_package_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "imagenets_hf", None)
    monkeypatch.setitem(sys.modules, "imagenets_hf.evaluation", None)
    spec = importlib.util.spec_from_file_location("imagenet_s_without_package", MODULE_DIR / "imagenet_s.py")
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(ImportError, match="pip install imagenets-hf"):
        spec.loader.exec_module(module)
