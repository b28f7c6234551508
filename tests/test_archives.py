"""The "archives" layout: ImageNet read in place from ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar."""

from __future__ import annotations

import io
import logging
import os
import pickle
import tarfile

import datasets
import numpy as np
import pytest
from PIL import Image

from imagenets_hf import MERGED_SYNSETS, testing
from imagenets_hf import imagenet
from imagenets_hf.imagenet import ArchiveMember, ImageNetSource, read_image_bytes
from imagenets_hf.loading import load_dataset, make_builder
from imagenets_hf.metadata import load_metadata

CONFIGS = ["50", "300", "919"]
TRAIN_TAR, VAL_TAR = "ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar"
COLUMNS = ["image_id", "label", "imagenet_synset"]


def _raw(dataset):
    return dataset.cast_column("image", datasets.Image(decode=False)).cast_column(
        "segmentation", datasets.Image(decode=False)
    )


def _build(setup, cache_dir, **options):
    return load_dataset(
        setup.config, imagenet_dir=setup.imagenet_dir, annotations=setup.annotations,
        metadata_dir=setup.metadata_dir, cache_dir=cache_dir, **options,
    )


def _rewrite_tar(path, keep):
    """Rewrite the tar `path` with only the members whose name `keep` accepts (data copied unchanged)."""
    with tarfile.open(path) as source:
        members = [(info, source.extractfile(info).read()) for info in source.getmembers() if keep(info.name)]
    with tarfile.open(path, "w") as target:
        for info, data in members:
            target.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module", params=CONFIGS)
def both_builds(request, tmp_path_factory, fake_metadata_dir):
    config = request.param
    tmp = tmp_path_factory.mktemp(f"arch{config}")
    folders = testing.make_fake_setup(tmp / "folders", config, "class_folders", metadata_dir=fake_metadata_dir)
    archives = testing.make_fake_setup(tmp / "archives", config, "archives", metadata_dir=fake_metadata_dir)
    with pytest.MonkeyPatch.context() as patch:  # a module fixture: the autouse per-test cache is not set yet
        patch.setenv("IMAGENETS_HF_CACHE", str(tmp / "imagenets-hf-cache"))
        patch.setenv("HF_DATASETS_OFFLINE", "1")
        from_folders = _build(folders, tmp / "c-folders")
        from_archives = _build(archives, tmp / "c-archives")
    return config, folders, archives, from_folders, from_archives


def test_archives_build_equals_the_class_folders_build(both_builds):
    config, _, _, from_folders, from_archives = both_builds
    assert {split: from_archives[split].num_rows for split in from_archives} == {
        split: from_folders[split].num_rows for split in from_folders
    }
    for split in from_folders:
        folder_rows, archive_rows = _raw(from_folders[split]).to_list(), _raw(from_archives[split]).to_list()
        assert [{key: row[key] for key in COLUMNS} for row in archive_rows] == [
            {key: row[key] for key in COLUMNS} for row in folder_rows
        ]
        assert [row["segmentation"] for row in archive_rows] == [row["segmentation"] for row in folder_rows]
        for folder_row, archive_row in zip(folder_rows, archive_rows):
            path = folder_row["image"]["path"]
            assert folder_row["image"]["bytes"] is None and os.path.isfile(path)  # referenced by path
            with open(path, "rb") as file:
                assert archive_row["image"] == {"bytes": file.read(), "path": os.path.basename(path)}
    if config == "919":
        synsets = set(from_archives["train"]["imagenet_synset"])
        assert set(MERGED_SYNSETS) <= synsets  # merged synsets' own class tars are read


def test_archives_keep_the_quirky_files(both_builds):
    _, _, _, _, from_archives = both_builds
    kinds = {bytes(row["image"]["bytes"][:4]) for row in _raw(from_archives["train"]).select_columns(["image"])}
    assert kinds == {b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xee", b"\x89PNG"}  # JFIF, Adobe (CMYK) JPEG, PNG
    modes = {example["image"].mode for example in from_archives["train"]}
    assert {"L", "CMYK", "RGB"} <= modes
    assert {example["image"].mode for example in from_archives["validation"]} == {"L", "RGB"}


def test_source_members_read_bytes_unchanged(both_builds):
    config, folders, archives, _, _ = both_builds
    folder_source = ImageNetSource.discover(folders.imagenet_dir)
    archive_source = ImageNetSource.discover(archives.imagenet_dir)
    metadata = load_metadata(config, folders.metadata_dir)
    for src, _ in metadata.validation_mapping + metadata.test_mapping:
        member = archive_source.val_path(src)
        assert isinstance(member, ArchiveMember)
        assert str(member) == os.path.join(archives.imagenet_dir, VAL_TAR) + "!" + src.split("/")[1]
        assert read_image_bytes(member) == read_image_bytes(folder_source.val_path(src))
    for image, _ in metadata.train_semi_names:
        member = archive_source.train_path(image)
        synset = image.split("/")[1].split("_")[0]
        assert member.member == f"{synset}.tar/{image.split('/')[1]}"
        assert member.read_bytes() == read_image_bytes(folder_source.train_path(image))
    wnid = metadata.categories[-1]
    assert [m.file_name for m in archive_source.train_paths(wnid)] == list(folder_source.train_names(wnid))
    assert archive_source.train_paths("n00000000") == []
    assert archive_source.find_train("n00000000/n00000000_1.JPEG") is None
    assert archive_source.find_val("ILSVRC2012_val_09999999.JPEG") is None
    unknown = r"ImageNet val image not found: .*ILSVRC2012_img_val\.tar!ILSVRC2012_val_09999999\.JPEG"
    with pytest.raises(FileNotFoundError, match=unknown):
        archive_source.val_path("n10000000/ILSVRC2012_val_09999999.JPEG")


def test_member_is_a_file_object_and_pickles(tmp_path, fake_metadata_dir):
    root = testing.make_fake_imagenet(tmp_path / "tars", fake_metadata_dir, "50", "archives")
    source = ImageNetSource.discover(root)
    member = source.train_paths(testing.fake_wnids(1)[0])[1]  # the CMYK JPEG
    data = member.read_bytes()
    assert data == testing.fake_image_bytes("cmyk")
    assert member.read(4) == data[:4] and member.tell() == 4
    assert member.read() == data[4:] and member.read() == b""
    assert member.seek(-3, io.SEEK_END) == len(data) - 3 and member.read(10) == data[-3:]
    with Image.open(member) as image:  # as submit and show read image sizes
        assert (image.format, image.mode, image.size) == ("JPEG", "CMYK", testing.IMAGE_SIZE)
    clone = pickle.loads(pickle.dumps(member))
    assert clone == member and hash(clone) == hash(member) and clone.tell() == 0
    assert clone.read_bytes() == data
    restored = pickle.loads(pickle.dumps(source))  # indexes are not pickled: re-read from the cache
    assert restored.train_paths(testing.fake_wnids(1)[0]) == source.train_paths(testing.fake_wnids(1)[0])


def test_index_is_cached_and_rescanned_when_an_archive_changes(tmp_path, fake_metadata_dir, monkeypatch):
    root = testing.make_fake_imagenet(tmp_path / "tars", fake_metadata_dir, "50", "archives")
    scanned = []
    scan = imagenet.scan_tar
    def counting_scan(path, *args, **kwargs):
        scanned.append(kwargs["label"])
        return scan(path, *args, **kwargs)

    monkeypatch.setattr(imagenet, "scan_tar", counting_scan)
    wnid = testing.fake_wnids(1)[0]
    train, val = os.path.join(root, TRAIN_TAR), os.path.join(root, VAL_TAR)

    def use(source):
        return source.train_names(wnid), source.find_val("ILSVRC2012_val_00000002.JPEG")

    first = use(ImageNetSource.discover(root))
    assert scanned == [train, f"{train}!{wnid}.tar", val]  # the outer tar, one class tar, the val tar
    assert use(ImageNetSource.discover(root)) == first
    assert len(scanned) == 3  # second discovery: all from the cache
    os.utime(val, ns=(os.stat(val).st_atime_ns, os.stat(val).st_mtime_ns + 10**9))  # touch
    assert use(ImageNetSource.discover(root)) == first
    assert scanned[3:] == [val]
    with open(train, "ab") as file:  # appended bytes after the end-of-archive blocks
        file.write(b"\0" * 1024)
    assert use(ImageNetSource.discover(root)) == first
    assert scanned[4:] == [train, f"{train}!{wnid}.tar"]
    index_root = os.path.join(os.environ["IMAGENETS_HF_CACHE"], imagenet.INDEX_FOLDER)
    stamps = [os.listdir(os.path.join(index_root, key)) for key in os.listdir(index_root)]
    assert [len(folders) for folders in stamps] == [1, 1]  # the stale indexes were removed


def test_missing_class_tar_and_val_member(tmp_path, fake_metadata_dir):
    setup = testing.make_fake_setup(tmp_path, "50", "archives", metadata_dir=fake_metadata_dir)
    metadata = load_metadata("50", fake_metadata_dir)
    wnid = metadata.categories[1]
    gone_val = [src.split("/")[1] for src, _ in metadata.test_mapping[:2]]
    train, val = os.path.join(setup.imagenet_dir, TRAIN_TAR), os.path.join(setup.imagenet_dir, VAL_TAR)
    _rewrite_tar(train, lambda name: name != f"{wnid}.tar")
    _rewrite_tar(val, lambda name: name not in gone_val)
    with pytest.raises(FileNotFoundError) as error:
        _build(setup, tmp_path / "c")
    message = str(error.value)
    # the class tar, the train_semi images in it, the two val images
    semi = [image.split("/")[1] for image, _ in metadata.train_semi_names if image.startswith(wnid + "/")]
    assert len(semi) == 2
    assert message.startswith(f"{1 + len(semi) + 2} file(s) that ImageNet-S config 50 needs are missing")
    assert "(layout archives)" in message
    expected = [f"{train}!{wnid}.tar (class tar missing or empty)", *[f"{train}!{wnid}.tar/{name}" for name in semi],
                *[f"{val}!{name}" for name in gone_val]]
    assert "expected at:\n  " + "\n  ".join(expected) + "\n" in message
    with pytest.warns(UserWarning, match=rf"skipping {len(expected)} missing file\(s\)"):
        dataset = _build(setup, tmp_path / "c", allow_missing=True)
    assert dataset["test"].num_rows == len(metadata.test_mapping) - 2
    assert wnid not in set(dataset["train"]["imagenet_synset"])


@pytest.mark.parametrize("archive", [TRAIN_TAR, VAL_TAR])
def test_archive_that_is_not_a_tar(tmp_path, fake_metadata_dir, archive):
    setup = testing.make_fake_setup(tmp_path, "50", "archives", metadata_dir=fake_metadata_dir)
    path = os.path.join(setup.imagenet_dir, archive)
    with open(path, "wb") as file:
        file.write(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError) as error:
        _build(setup, tmp_path / "c")
    assert str(error.value).startswith(f"{path} is not a complete uncompressed tar archive (")
    assert "download it again from image-net.org" in str(error.value)


def test_truncated_archive(tmp_path, fake_metadata_dir):
    root = testing.make_fake_imagenet(tmp_path / "tars", fake_metadata_dir, "50", "archives")
    val = os.path.join(root, VAL_TAR)
    with tarfile.open(val) as tar:
        last = tar.getmembers()[-1]
    os.truncate(val, last.offset_data + last.size // 2)
    with pytest.raises(ValueError, match=rf"^{val} is not a complete uncompressed tar archive"):
        ImageNetSource.discover(root).find_val(last.name)


def test_num_proc_streaming_and_writer_batch(tmp_path, fake_metadata_dir, caplog):
    setup = testing.make_fake_setup(tmp_path, "919", "archives", metadata_dir=fake_metadata_dir)
    with caplog.at_level(logging.WARNING, logger="imagenets_hf.builder"):
        one = _build(setup, tmp_path / "c1")
    embedded_notes = [record for record in caplog.records if "images are embedded" in record.getMessage()]
    assert len(embedded_notes) == 1
    two = _build(setup, tmp_path / "c2", num_proc=2)
    for split in one:
        assert _raw(two[split]).to_list() == _raw(one[split]).to_list()
    builder = make_builder(
        "919", imagenet_dir=setup.imagenet_dir, annotations=setup.annotations, metadata_dir=setup.metadata_dir
    )
    streamed = builder.as_streaming_dataset()
    for split in one:
        rows = [{key: example[key] for key in COLUMNS} for example in streamed[split]]
        assert rows == one[split].select_columns(COLUMNS).to_list()
    first = next(iter(_raw_stream(streamed["train"])))
    assert first["image"]["bytes"] == _raw(one["train"])[0]["image"]["bytes"]
    builder.as_streaming_dataset()  # _split_generators ran: embedded rows get the small writer batches
    assert builder._writer_batch_size == 500


def _raw_stream(dataset):
    return dataset.cast_column("image", datasets.Image(decode=False))


def test_submission_sizes_read_from_the_archive(tmp_path, fake_metadata_dir):
    from cli_fixtures import write_tree
    from imagenets_hf.submission import check_submission

    setup = testing.make_fake_setup(tmp_path, "50", "archives", metadata_dir=fake_metadata_dir)
    metadata = load_metadata("50", fake_metadata_dir)
    width, height = testing.IMAGE_SIZE
    expected = sorted(dst[: -len(".JPEG")] + ".png" for _, dst in metadata.test_mapping)
    maps = {relpath: np.zeros((height, width), np.uint16) for relpath in expected}
    maps[expected[0]] = np.zeros((height, width - 2), np.uint16)
    predictions = write_tree(str(tmp_path / "predictions"), maps)
    for workers in (0, 2):
        check = check_submission(
            predictions, "50", imagenet_dir=setup.imagenet_dir, metadata_dir=fake_metadata_dir, num_workers=workers
        )
        assert (check.mis_sized, check.invalid, check.missing) == ([(expected[0], "18x16, image 20x16")], [], [])


def test_prepare_cli_says_images_are_embedded(tmp_path, fake_metadata_dir, capsys):
    from imagenets_hf.cli import main

    setup = testing.make_fake_setup(tmp_path, "50", "archives", metadata_dir=fake_metadata_dir)
    args = ["prepare", "50", "--imagenet-dir", setup.imagenet_dir, "--annotations", setup.annotations,
            "--metadata-dir", setup.metadata_dir, "--cache-dir", str(tmp_path / "c"), "--no-progress"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert text.startswith("ImageNet-S 50 is ready (embedded from the tar archives; ")
    assert "keep them there" not in text
    os.remove(os.path.join(setup.imagenet_dir, VAL_TAR))
    assert main([*args, "--cache-dir", str(tmp_path / "c2")]) == 2
    assert f"error: {setup.imagenet_dir} holds {TRAIN_TAR} but not {VAL_TAR}" in capsys.readouterr().err


def test_fake_archives_hold_every_config_and_the_quirks(tmp_path, fake_metadata_dir):
    root = testing.make_fake_imagenet(tmp_path / "tars", fake_metadata_dir, None, "archives")
    train, val = testing.needed_files(fake_metadata_dir)
    with tarfile.open(os.path.join(root, TRAIN_TAR)) as tar:
        assert tar.getnames() == [f"{wnid}.tar" for wnid in train]
        assert set(MERGED_SYNSETS) | {testing.FAKE_EXCLUDED_WNID} <= {name[:-4] for name in tar.getnames()}
    with tarfile.open(os.path.join(root, VAL_TAR)) as tar:
        assert tar.getnames() == list(val)
    source = ImageNetSource.discover(root)
    assert {wnid: list(source.train_names(wnid)) for wnid in train} == train
    first = next(wnid for wnid in train if wnid != testing.FAKE_EXCLUDED_WNID)
    opened = [Image.open(member) for member in source.train_paths(first)[:3]]
    assert [(image.format, image.mode) for image in opened] == [("JPEG", "L"), ("JPEG", "CMYK"), ("PNG", "RGB")]
    assert Image.open(source.val_path(next(iter(val)))).mode == "L"
