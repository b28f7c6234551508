import hashlib
import os
import shutil

import pytest

from imagenets_hf import MERGED_SYNSETS, testing
from imagenets_hf.metadata import SHA256, Metadata, list_paths, load_metadata


@pytest.mark.parametrize("config", ["50", "300", "919"])
def test_fake_metadata_loads(fake_metadata_dir, config):
    metadata = load_metadata(config, fake_metadata_dir)
    assert isinstance(metadata, Metadata)
    assert metadata.config.name == config
    assert list(metadata.categories) == testing.fake_categories(config)
    assert metadata.label_names == ["other", *metadata.categories]
    assert metadata.class_id(metadata.categories[0]) == 1
    assert metadata.class_id(metadata.categories[-1]) == len(metadata.categories)
    count = len(metadata.categories)
    assert len(metadata.validation_mapping) == 2 * count
    assert len(metadata.test_mapping) == 2 * count
    assert len(metadata.train_semi_names) == 2 * count
    assert [dst for _, dst in metadata.validation_mapping] == [image for image, _ in metadata.validation_names]
    relabelled = [(src, dst) for src, dst in metadata.validation_mapping if src.split("/")[0] != dst.split("/")[0]]
    assert len(relabelled) == (3 if config == "919" else 2)
    merged_names = [image for image, _ in metadata.train_semi_names if image.split("/")[1].split("_")[0] != image.split("/")[0]]
    assert len(merged_names) == (5 if config == "919" else 0)


def test_merge_targets_only_in_919(fake_metadata_dir):
    targets = set(MERGED_SYNSETS.values())
    assert targets <= set(load_metadata("919", fake_metadata_dir).categories)
    for config in ("50", "300"):
        assert not targets & set(load_metadata(config, fake_metadata_dir).categories)
    for config in ("50", "300", "919"):
        assert not set(MERGED_SYNSETS) & set(load_metadata(config, fake_metadata_dir).categories)
    assert load_metadata("919", fake_metadata_dir).train_sources("n02808440") == ("n02808440", "n04493381")
    assert load_metadata("50", fake_metadata_dir).train_sources(testing.fake_wnids(1)[0]) == (testing.fake_wnids(1)[0],)


def test_class_id_outside_config(fake_metadata_dir):
    with pytest.raises(ValueError, match=r"'n02808440' is not a class of ImageNet-S config 50"):
        load_metadata("50", fake_metadata_dir).class_id("n02808440")


def test_env_folder(fake_metadata_dir, monkeypatch):
    monkeypatch.setenv("IMAGENETS_METADATA_DIR", fake_metadata_dir)
    assert load_metadata("300").categories == tuple(testing.fake_categories("300"))


def test_malformed_line_names_file_and_line(fake_metadata_dir, tmp_path):
    folder = tmp_path / "meta"
    shutil.copytree(fake_metadata_dir, folder)
    path = folder / "mapping" / "ImageNetS_im50_mapping_test.txt"
    lines = path.read_text().split("\n")
    lines[2] = lines[2].replace(" ", "\t")
    path.write_text("\n".join(lines))
    with pytest.raises(ValueError, match=rf"{path}, line 3: malformed line"):
        load_metadata("50", folder)


def test_unsorted_categories(fake_metadata_dir, tmp_path):
    folder = tmp_path / "meta"
    shutil.copytree(fake_metadata_dir, folder)
    path = folder / "categories" / "ImageNetS_categories_im50.txt"
    path.write_text("\n".join(reversed(path.read_text().split("\n"))))
    with pytest.raises(ValueError, match="must be sorted and unique"):
        load_metadata("50", folder)


def test_missing_list(fake_metadata_dir, tmp_path):
    folder = tmp_path / "meta"
    shutil.copytree(fake_metadata_dir, folder)
    os.remove(folder / "names" / "ImageNetSemi_im300_train.txt")
    with pytest.raises(FileNotFoundError, match=r"lacks 1 list\(s\) of config 300: .*ImageNetSemi_im300_train.txt"):
        load_metadata("300", folder)


def test_offline_without_folder_names_both_options(monkeypatch):
    monkeypatch.delenv("IMAGENETS_METADATA_DIR", raising=False)
    with pytest.raises(ValueError) as error:
        load_metadata("50")
    message = str(error.value)
    assert "metadata_dir=" in message and "IMAGENETS_METADATA_DIR" in message and "go online" in message


def test_download_checksum_mismatch(monkeypatch, tmp_path):
    import imagenets_hf.metadata as metadata_module

    class FakeResponse:
        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def read(self):
            return b"n00000001"

    monkeypatch.delenv("IMAGENETS_METADATA_DIR", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(metadata_module.urllib.request, "urlopen", lambda url, timeout: FakeResponse())
    wrong = hashlib.sha256(b"n00000001").hexdigest()
    expected = SHA256["categories/ImageNetS_categories_im50.txt"]
    with pytest.raises(ValueError, match=rf"ImageNetS_categories_im50.txt .* has sha256 {wrong}, expected {expected}"):
        load_metadata("50", cache_dir=str(tmp_path))
    assert not (tmp_path / "metadata").exists() or not any((tmp_path / "metadata").rglob("*.txt"))


def test_download_is_cached(monkeypatch, tmp_path, real_metadata_dir):
    import imagenets_hf.metadata as metadata_module

    calls = []

    class Response:
        def __init__(self, data):
            self.data = data

        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def read(self):
            return self.data

    def urlopen(url, timeout):
        calls.append(url)
        relpath = url.split("/data/", 1)[1]
        return Response(open(os.path.join(real_metadata_dir, relpath), "rb").read())

    monkeypatch.delenv("IMAGENETS_METADATA_DIR", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(metadata_module.urllib.request, "urlopen", urlopen)
    first = load_metadata("50", cache_dir=str(tmp_path))
    assert len(calls) == 5
    assert calls[0].startswith("https://raw.githubusercontent.com/LUSSeg/ImageNet-S/b2312ba7396151f883362bdc86d71469aa81066e/data/")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the cache needs no network
    second = load_metadata("50", cache_dir=str(tmp_path))
    assert len(calls) == 5 and second.categories == first.categories


@pytest.mark.parametrize("config,sizes", [("50", (50, 500, 752, 1682)), ("300", (300, 3000, 4097, 9088)), ("919", (919, 9190, 12419, 27423))])
def test_real_lists(real_metadata_dir, config, sizes):
    metadata = load_metadata(config, real_metadata_dir)
    got = (len(metadata.categories), len(metadata.train_semi_names), len(metadata.validation_mapping), len(metadata.test_mapping))
    assert got == sizes
    for relpath in list_paths(config).values():
        with open(os.path.join(real_metadata_dir, relpath), "rb") as file:
            assert hashlib.sha256(file.read()).hexdigest() == SHA256[relpath]
