import os
import subprocess
import sys

import numpy as np
import pytest

import imagenets_hf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_public_name_resolves():
    missing = [name for name in imagenets_hf.__all__ if not hasattr(imagenets_hf, name)]
    assert missing == []
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        imagenets_hf.nonexistent


def test_metric_path_is_the_evaluate_module_and_loads(tmp_path, monkeypatch):
    evaluate = pytest.importorskip("evaluate")
    path = imagenets_hf.metric_path()
    assert os.path.samefile(path, os.path.join(ROOT, "metric", "imagenet_s", "imagenet_s.py"))
    monkeypatch.chdir(tmp_path)  # works from anywhere, not only the repository root
    metric = evaluate.load(path, "50")
    ground_truth = np.zeros((8, 8), dtype=np.uint16)
    ground_truth[2:6, 2:6] = 3
    result = metric.compute(predictions=[ground_truth], references=[ground_truth])
    # labels 0 and 3 are perfect (IoU 100), the other 49 of the 51 labels count 0
    assert result["mIoU"] == pytest.approx(200 / 51, abs=1e-9)
    assert result["IoUs"][3] == pytest.approx(100.0, abs=1e-9)


def test_python_dash_m_is_the_cli():
    completed = subprocess.run(
        [sys.executable, "-m", "imagenets_hf", "--help"], capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert completed.returncode == 0
    for command in ("prepare", "demo", "evaluate", "match", "submit", "show", "export", "push"):
        assert command in completed.stdout
