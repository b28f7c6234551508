import json
import os

import pytest

from imagenets_hf import testing
from imagenets_hf.cli import main


@pytest.fixture(scope="module")
def setup_50(tmp_path_factory, fake_metadata_dir):
    return testing.make_fake_setup(tmp_path_factory.mktemp("cli"), "50", "flat_val", metadata_dir=fake_metadata_dir)


def _args(setup, cache):
    return ["--imagenet-dir", setup.imagenet_dir, "--annotations", setup.annotations,
            "--metadata-dir", setup.metadata_dir, "--cache-dir", str(cache)]


def test_prepare_json(setup_50, tmp_path, capsys):
    assert main(["prepare", "50", *_args(setup_50, tmp_path / "c"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["splits"] == {"train": 12, "train_semi": 8, "validation": 8, "test": 8}
    assert summary["config"] == "50" and summary["config_id"].startswith("50-")
    assert summary["cache_dir"].startswith(str(tmp_path / "c"))
    assert os.path.isdir(summary["cache_dir"])
    assert summary["images"] == "referenced by path"
    assert f'imagenet_dir="{setup_50.imagenet_dir}"' in summary["load"]


def test_prepare_text_and_rerun(setup_50, tmp_path, capsys):
    args = ["prepare", "50", *_args(setup_50, tmp_path / "c"), "--no-progress", "--embed-images"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert first.startswith("ImageNet-S 50 is ready (embedded; ")
    assert "  validation          8 examples" in first
    assert "keep them there" not in first
    assert main(args) == 0  # a re-run finds the cache
    assert capsys.readouterr().out == first


def test_prepare_user_errors(setup_50, tmp_path, capsys):
    assert main(["prepare", "51", "--imagenet-dir", setup_50.imagenet_dir]) == 2
    assert "imagenets-hf prepare: error: unknown ImageNet-S config '51'" in capsys.readouterr().err
    assert main(["prepare", "50", *_args(setup_50, tmp_path / "c"), "--imagenet-dir", str(tmp_path / "none")]) == 2
    assert f"imagenets-hf prepare: error: ImageNet folder not found: {tmp_path / 'none'}" in capsys.readouterr().err
    assert main(["prepare", "50", *_args(setup_50, tmp_path / "c"), "--num-proc", "0"]) == 2
    assert "--num-proc must be at least 1" in capsys.readouterr().err


def test_demo(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("IMAGENETS_METADATA_DIR", raising=False)
    assert main(["demo", "--json", "--workdir", str(tmp_path / "demo")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["splits"] == {"train": 12, "train_semi": 8, "validation": 8, "test": 8}
    assert result["mask_class_ids"] == {
        "0": {"name": "other", "pixels": 200},
        "1": {"name": "n10000000", "pixels": 80},
        "1000": {"name": "ignore", "pixels": 40},
    }
    assert os.path.isdir(tmp_path / "demo" / "cache")  # never the user's cache
    assert main(["demo"]) == 0
    text = capsys.readouterr().out
    assert "image_id        n10000000/ILSVRC2012_val_00000401" in text
    assert 'load_dataset("50", imagenet_dir="/data/imagenet")' in text
