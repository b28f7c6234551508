"""loading_script/imagenet_s.py: same examples as the package's builder on datasets 3.x; a clear pointer on >= 4.

.ci/run runs the whole suite in a venv with datasets 3.6 too, where these tests run.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import datasets
import pytest

from imagenets_hf import testing
from imagenets_hf.loading import load_dataset as build

SCRIPT = Path(__file__).resolve().parents[1] / "loading_script" / "imagenet_s.py"
DATASETS_MAJOR = int(datasets.__version__.split(".")[0])

runs_scripts = pytest.mark.skipif(
    DATASETS_MAJOR >= 4,
    reason=f"datasets {datasets.__version__} runs no loading scripts (removed in 4.0); "
    ".ci/run runs them in a venv with datasets 3.6",
)


def _raw(dataset):
    for column in ("image", "segmentation"):
        dataset = dataset.cast_column(column, datasets.Image(decode=False))
    rows = []
    for row in dataset:
        for column in ("image", "segmentation"):
            value = row[column]
            if value is not None and value["bytes"] is None:
                with open(value["path"], "rb") as file:
                    row[column] = {"bytes": file.read(), "path": os.path.basename(value["path"])}
            elif value is not None:
                row[column] = {"bytes": value["bytes"], "path": os.path.basename(value["path"] or "")}
        rows.append(row)
    return rows


@pytest.mark.datasets36
@runs_scripts
def test_loading_script_gives_the_builder_examples(tmp_path):
    setup = testing.make_fake_setup(tmp_path, "50")
    from_script = datasets.load_dataset(
        str(SCRIPT),
        "50",
        data_dir=setup.imagenet_dir,
        annotations=setup.annotations,
        metadata_dir=setup.metadata_dir,
        trust_remote_code=True,
        cache_dir=str(tmp_path / "script-cache"),
    )
    from_package = build(
        "50",
        imagenet_dir=setup.imagenet_dir,
        annotations=setup.annotations,
        metadata_dir=setup.metadata_dir,
        cache_dir=str(tmp_path / "package-cache"),
    )
    assert list(from_script) == list(from_package) == ["train", "train_semi", "validation", "test"]
    for split in from_package:
        assert from_script[split].features == from_package[split].features
        expected = _raw(from_package[split])
        assert len(expected) > 0
        assert _raw(from_script[split]) == expected


@pytest.mark.datasets36
@runs_scripts
def test_loading_script_picks_its_own_builder_class():
    from datasets.load import import_main_class

    spec = importlib.util.spec_from_file_location("imagenet_s_script_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import sys

    sys.modules[spec.name] = module
    try:
        builder_class = import_main_class(spec.name)
    finally:
        del sys.modules[spec.name]
    assert builder_class is module.ImageNetS
    from imagenets_hf.builder import ImageNetS

    assert issubclass(builder_class, ImageNetS)
    assert sorted(config.name for config in builder_class.BUILDER_CONFIGS) == ["300", "50", "919"]


@pytest.mark.skipif(DATASETS_MAJOR < 4, reason="datasets < 4 runs the script (see the datasets36 tests)")
def test_on_datasets_4_and_later_the_script_points_to_the_supported_routes():
    spec = importlib.util.spec_from_file_location("imagenet_s_script_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(ImportError) as raised:
        spec.loader.exec_module(module)
    assert str(raised.value) == (
        f"imagenet_s.py is a loading script, which datasets {datasets.__version__} (>= 4) no longer runs: "
        "build ImageNet-S with imagenets_hf.load_dataset(CONFIG, imagenet_dir=...), or load an export "
        "(`imagenets-hf export`) with datasets.load_dataset(FOLDER_OR_REPO_ID, CONFIG)."
    )
    # datasets itself refuses the script before running it
    with pytest.raises(RuntimeError, match="Dataset scripts are no longer supported"):
        datasets.load_dataset(str(SCRIPT), "50")
