"""metric/imagenet_s/README.md: the evaluate hub's card format, and its example gives what it prints."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "metric" / "imagenet_s" / "README.md"


def _card():
    text = CARD.read_text(encoding="utf-8")
    header, body = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S).groups()
    return yaml.safe_load(header), body


def test_card_header_has_the_evaluate_hub_fields():
    header, _ = _card()
    assert set(header) == {
        "title", "emoji", "colorFrom", "colorTo", "sdk", "sdk_version", "app_file", "pinned", "tags", "description"
    }
    assert header["sdk"] == "gradio" and header["app_file"] == "app.py" and header["pinned"] is False
    assert header["tags"] == ["evaluate", "metric"]


def test_card_has_the_metric_card_sections_in_order():
    _, body = _card()
    headings = re.findall(r"^#+ (.+)$", body, re.M)
    expected = ["Metric Description", "How to Use", "Inputs", "Output Values", "Examples",
                "Limitations and Bias", "Citation", "Further References"]
    assert [h for h in headings if h in expected] == expected
    for key in ("Acc", "mIoU", "mBIoU", "S", "MS", "ML", "L", "BS", "BMS", "BML", "BL", "FMeasure", "IoUs", "match"):
        assert f"`{key}`" in body


def test_card_example_runs_and_prints_what_the_card_says(monkeypatch):
    pytest.importorskip("evaluate")
    if not (ROOT / "metric" / "imagenet_s" / "imagenet_s.py").exists():
        pytest.skip("the metric module metric/imagenet_s/imagenet_s.py is not in this checkout")
    _, body = _card()
    example = body.split("### Examples", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)  # evaluate.load("metric/imagenet_s") is relative to the repository root
    test = doctest.DocTestParser().get_doctest(example, {}, "metric card example", str(CARD), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted == 10 and result.failed == 0
