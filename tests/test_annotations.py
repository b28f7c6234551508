import hashlib
import io
import os
import pickle
import shutil
import zipfile

import numpy as np
import pytest

from imagenets_hf import decode_mask, get_config, testing
from imagenets_hf.annotations import Annotations
from imagenets_hf.metadata import load_metadata


@pytest.fixture(scope="module")
def zip_50(tmp_path_factory, fake_metadata_dir):
    return testing.make_fake_annotations(tmp_path_factory.mktemp("ann"), fake_metadata_dir, "50")


def _expected_ids(metadata, mask_relpath):
    return testing.fake_mask_labels(metadata.class_id(mask_relpath.split("/")[0]))


def test_zip_read_in_place(zip_50, fake_metadata_dir):
    metadata = load_metadata("50", fake_metadata_dir)
    annotations = Annotations.open(zip_50, "50")
    assert annotations.list("validation-segmentation") == sorted(mask for _, mask in metadata.validation_names)
    assert annotations.list("train-semi-segmentation") == sorted(mask for _, mask in metadata.train_semi_names)
    for _, mask in metadata.validation_names:
        labels = decode_mask(annotations.read("validation-segmentation", mask))
        np.testing.assert_array_equal(labels, _expected_ids(metadata, mask))
        assert set(np.unique(labels)) == {0, metadata.class_id(mask.split("/")[0]), 1000}
    with pytest.raises(FileNotFoundError, match=r"mask not found: .*ImageNetS50\.zip!ImageNetS50/validation-segmentation/n10000000/x\.png"):
        annotations.read("validation-segmentation", "n10000000/x.png")
    with pytest.raises(ValueError, match="unknown annotation folder 'masks'"):
        annotations.list("masks")


def test_extracted_folder_with_and_without_top(zip_50, tmp_path, fake_metadata_dir):
    metadata = load_metadata("50", fake_metadata_dir)
    with zipfile.ZipFile(zip_50) as archive:
        archive.extractall(tmp_path / "x")
    from_zip = Annotations.open(zip_50, "50")
    mask = metadata.train_semi_names[0][1]
    for folder in (tmp_path / "x", tmp_path / "x" / "ImageNetS50"):
        annotations = Annotations.open(folder, "50")
        assert annotations.list("validation-segmentation") == from_zip.list("validation-segmentation")
        assert annotations.read("train-semi-segmentation", mask) == from_zip.read("train-semi-segmentation", mask)


def test_picklable_and_reopens(zip_50, fake_metadata_dir):
    annotations = Annotations.open(zip_50, "50")
    mask = annotations.list("validation-segmentation")[0]
    data = annotations.read("validation-segmentation", mask)
    clone = pickle.loads(pickle.dumps(annotations))
    assert clone.read("validation-segmentation", mask) == data


def test_zip_of_another_config_by_md5_name(zip_50, tmp_path):
    wrong = tmp_path / get_config("300").annotations_filename
    shutil.copy(zip_50, wrong)
    with pytest.raises(ValueError) as error:
        Annotations.open(wrong, "50")
    message = str(error.value)
    assert "dd8e42e156bac415a35c3c239de297bf" in message and "a0fe9d82231f9bc4787ee76e304dfa51" in message
    assert "not the annotation zip of ImageNet-S config 50" in message


def test_zip_of_another_config_by_top_folder(tmp_path, fake_metadata_dir):
    path = testing.make_fake_annotations(tmp_path, fake_metadata_dir, "300")
    with pytest.raises(ValueError, match="holds the annotations of ImageNetS300, not ImageNetS50"):
        Annotations.open(path, "50")


def test_not_a_zip(tmp_path):
    path = tmp_path / "ImageNetS50.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable zip"):
        Annotations.open(path, "50")
    with pytest.raises(FileNotFoundError, match="annotations not found"):
        Annotations.open(tmp_path / "missing.zip", "50")


def test_offline_without_source(tmp_path):
    with pytest.raises(ValueError, match="offline mode is on; give annotations= / --annotations"):
        Annotations.open(None, "50", cache_dir=str(tmp_path))


def test_download_md5_mismatch(monkeypatch, tmp_path, zip_50):
    import imagenets_hf.annotations as module

    payload = open(zip_50, "rb").read()
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(module.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(payload))
    with pytest.raises(ValueError) as error:
        Annotations.open(None, "50", cache_dir=str(tmp_path))
    message = str(error.value)
    assert f"has MD5 {hashlib.md5(payload).hexdigest()}, expected a0fe9d82231f9bc4787ee76e304dfa51" in message
    assert "ImageNetS50-a0fe9d82231f9bc4787ee76e304dfa51.zip" in message
    assert os.listdir(tmp_path / "annotations") == []  # nothing half-downloaded is left


def test_download_md5_match_is_cached(monkeypatch, tmp_path, zip_50):
    import imagenets_hf.annotations as module
    import imagenets_hf.configs as configs

    payload = open(zip_50, "rb").read()
    spec = configs.ConfigSpec(**{**get_config("50").__dict__, "annotations_md5": hashlib.md5(payload).hexdigest()})
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    calls = []
    monkeypatch.setattr(module.urllib.request, "urlopen", lambda url, timeout: calls.append(url) or io.BytesIO(payload))
    first = Annotations.open(None, spec, cache_dir=str(tmp_path))
    second = Annotations.open(None, spec, cache_dir=str(tmp_path))
    assert calls == [spec.annotations_url]
    assert first.source == second.source == str(tmp_path / "annotations" / spec.annotations_filename)
