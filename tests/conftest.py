import os

import pytest

from imagenets_hf import testing


@pytest.fixture(scope="session")
def fake_metadata_dir(tmp_path_factory):
    return testing.make_fake_metadata(tmp_path_factory.mktemp("metadata"))


@pytest.fixture(scope="session")
def real_metadata_dir():
    folder = os.environ.get("IMAGENETS_METADATA_DIR")
    if not folder:
        pytest.skip("needs the real ImageNet-S lists: set IMAGENETS_METADATA_DIR to a copy of LUSSeg/ImageNet-S data/")
    return folder


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    # tests never touch the network nor the user's cache
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("IMAGENETS_HF_CACHE", str(tmp_path / "imagenets-hf-cache"))
