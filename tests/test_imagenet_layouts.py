import os
import pickle

import pytest

from imagenets_hf import testing
from imagenets_hf.imagenet import ImageNetSource
from imagenets_hf.metadata import load_metadata

EXPECTED_LAYOUT = {"class_folders": "class_folders", "flat_val": "flat_val", "kaggle": "kaggle"}


@pytest.fixture(scope="module", params=["class_folders", "flat_val", "kaggle"])
def fake_imagenet(request, tmp_path_factory, fake_metadata_dir):
    root = testing.make_fake_imagenet(tmp_path_factory.mktemp(request.param), fake_metadata_dir, None, request.param)
    return request.param, root


def test_layout_detected(fake_imagenet):
    layout, root = fake_imagenet
    source = ImageNetSource.discover(root)
    assert source.layout == EXPECTED_LAYOUT[layout]
    base = os.path.join(root, "ILSVRC", "Data", "CLS-LOC") if layout == "kaggle" else root
    assert source.train_dir == os.path.join(base, "train")
    assert source.val_dir == os.path.join(base, "val")


def test_val_found_by_file_name(fake_imagenet, fake_metadata_dir):
    layout, root = fake_imagenet
    source = ImageNetSource.discover(root)
    metadata = load_metadata("919", fake_metadata_dir)
    for src, _ in metadata.validation_mapping + metadata.test_mapping:
        path = source.val_path(src)
        assert os.path.isfile(path)
        assert os.path.basename(path) == src.split("/")[1]
        if layout == "class_folders":
            assert path == os.path.join(source.val_dir, src)
    assert source.find_val("ILSVRC2012_val_09999999.JPEG") is None
    with pytest.raises(FileNotFoundError, match="ImageNet val image not found: .*ILSVRC2012_val_09999999.JPEG"):
        source.val_path("n10000000/ILSVRC2012_val_09999999.JPEG")


def test_train_listing(fake_imagenet):
    _, root = fake_imagenet
    source = ImageNetSource.discover(root)
    wnid = testing.fake_wnids(1)[0]
    assert [os.path.basename(p) for p in source.train_paths(wnid)] == [f"{wnid}_{j}.JPEG" for j in (1, 2, 3)]
    assert source.train_paths("n00000000") == []
    # merged synsets: the names list says n02808440/, the file lives in train/n04493381/
    assert source.train_path("n02808440/n04493381_1.JPEG") == os.path.join(source.train_dir, "n04493381", "n04493381_1.JPEG")
    assert source.find_train("n02808440/n04493381_99.JPEG") is None
    clone = pickle.loads(pickle.dumps(source))
    assert clone.train_paths(wnid) == source.train_paths(wnid)


def test_kaggle_from_inside_ilsvrc(tmp_path, fake_metadata_dir):
    root = testing.make_fake_imagenet(tmp_path / "kaggle", fake_metadata_dir, "50", "kaggle")
    source = ImageNetSource.discover(os.path.join(root, "ILSVRC"))
    assert source.layout == "kaggle"
    assert source.train_paths(testing.fake_wnids(1)[0])


def test_quirky_files_are_planted(tmp_path, fake_metadata_dir):
    from PIL import Image

    root = testing.make_fake_imagenet(tmp_path / "in", fake_metadata_dir, "50")
    paths = ImageNetSource.discover(root).train_paths(testing.fake_wnids(1)[0])
    opened = [Image.open(path) for path in paths]
    assert [(image.format, image.mode) for image in opened] == [("JPEG", "L"), ("JPEG", "CMYK"), ("PNG", "RGB")]


def test_archives_detected_and_folders_preferred(tmp_path, fake_metadata_dir):
    root = testing.make_fake_imagenet(tmp_path / "tars", fake_metadata_dir, "50", "archives")
    assert sorted(os.listdir(root)) == ["ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar"]
    source = ImageNetSource.discover(root)
    assert (source.layout, source.is_archive) == ("archives", True)
    assert source.train_dir == os.path.join(root, "ILSVRC2012_img_train.tar")
    assert source.val_dir == os.path.join(root, "ILSVRC2012_img_val.tar")
    # extracted folders beside the archives win: no index, images referenced by path
    testing.make_fake_imagenet(root, fake_metadata_dir, "50", "flat_val")
    source = ImageNetSource.discover(root)
    assert (source.layout, source.is_archive) == ("flat_val", False)


@pytest.mark.parametrize("kept", ["ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar"])
def test_one_archive_alone_names_the_other(tmp_path, fake_metadata_dir, kept):
    root = testing.make_fake_imagenet(tmp_path / "tars", fake_metadata_dir, "50", "archives")
    other = next(name for name in ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar") if name != kept)
    os.remove(os.path.join(root, other))
    with pytest.raises(FileNotFoundError) as error:
        ImageNetSource.discover(root)
    assert str(error.value).startswith(f"{root} holds {kept} but not {other}: the archives layout needs both")
    assert f"put {os.path.join(root, other)} next to it" in str(error.value)


def test_no_imagenet_lists_expected_paths(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        ImageNetSource.discover(tmp_path)
    message = str(error.value)
    assert f"no ImageNet found in {tmp_path}" in message
    assert os.path.join(str(tmp_path), "train") in message
    assert os.path.join(str(tmp_path), "ILSVRC/Data/CLS-LOC/val") in message
    with pytest.raises(FileNotFoundError, match="ImageNet folder not found"):
        ImageNetSource.discover(tmp_path / "nowhere")
