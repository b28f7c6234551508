import os
import shutil

import datasets
import numpy as np
import pytest

from imagenets_hf import MERGED_SYNSETS, decode_mask, load_dataset, testing
from imagenets_hf.builder import plan_examples, split_sizes
from imagenets_hf.annotations import Annotations
from imagenets_hf.imagenet import ImageNetSource
from imagenets_hf.loading import make_builder, with_class_ids
from imagenets_hf.metadata import load_metadata

CONFIGS = ["50", "300", "919"]
LAYOUTS = ["class_folders", "flat_val", "kaggle"]
TRAIN_PER_CLASS = 3  # testing.make_fake_imagenet's default


def _as_mask_bytes(dataset):
    return dataset.cast_column("segmentation", datasets.Image(decode=False))


@pytest.fixture(scope="module", params=[(c, l) for c in CONFIGS for l in LAYOUTS], ids=lambda p: f"{p[0]}-{p[1]}")
def built(request, tmp_path_factory, fake_metadata_dir):
    config, layout = request.param
    tmp = tmp_path_factory.mktemp(f"b{config}{layout}")
    setup = testing.make_fake_setup(tmp, config, layout, metadata_dir=fake_metadata_dir)
    dataset = load_dataset(
        config,
        imagenet_dir=setup.imagenet_dir,
        annotations=setup.annotations,
        metadata_dir=setup.metadata_dir,
        cache_dir=tmp / "cache",
    )
    return config, layout, setup, dataset, load_metadata(config, fake_metadata_dir)


def test_split_sizes(built):
    config, _, _, dataset, metadata = built
    classes = len(metadata.categories)
    train_folders = classes + (len(MERGED_SYNSETS) if config == "919" else 0)
    assert {split: dataset[split].num_rows for split in dataset} == {
        "train": train_folders * TRAIN_PER_CLASS,
        "train_semi": 2 * classes,
        "validation": 2 * classes,
        "test": 2 * classes,
    }


def test_features(built):
    _, _, _, dataset, metadata = built
    features = dataset["validation"].features
    assert features["label"].names == ["other", *metadata.categories]
    assert isinstance(features["image"], datasets.Image) and isinstance(features["segmentation"], datasets.Image)
    assert features["image_id"] == datasets.Value("string") and features["imagenet_synset"] == datasets.Value("string")


def test_labels_are_the_dst_class(built):
    _, _, _, dataset, metadata = built
    for split, mapping in (("validation", metadata.validation_mapping), ("test", metadata.test_mapping)):
        rows = dataset[split].select_columns(["image_id", "label", "imagenet_synset"]).to_list()
        expected = [
            {"image_id": dst[:-5], "label": metadata.class_id(dst.split("/")[0]), "imagenet_synset": src.split("/")[0]}
            for src, dst in mapping
        ]
        assert rows == expected
    relabelled = [row for row in dataset["validation"].select_columns(["image_id", "imagenet_synset"]).to_list()
                  if row["image_id"].split("/")[0] != row["imagenet_synset"]]
    assert relabelled  # the planted relabelled images keep their ImageNet synset


def test_masks_decode_to_the_label(built):
    _, _, _, dataset, metadata = built
    for split in ("validation", "train_semi"):
        for example in _as_mask_bytes(dataset[split]):
            labels = decode_mask(example["segmentation"])
            np.testing.assert_array_equal(labels, testing.fake_mask_labels(example["label"]))
            assert labels.dtype == np.uint16
    for split in ("train", "test"):
        assert set(dataset[split]["segmentation"]) == {None}


def test_train_semi_merged_prefix(built):
    config, _, setup, dataset, metadata = built
    rows = dataset["train_semi"].select_columns(["image_id", "label", "imagenet_synset"]).to_list()
    merged = [row for row in rows if row["imagenet_synset"] != row["image_id"].split("/")[0]]
    if config == "919":
        assert sorted((row["image_id"], row["imagenet_synset"]) for row in merged) == sorted(
            (f"{target}/{source}_1", source) for source, target in MERGED_SYNSETS.items()
        )
        assert all(row["label"] == metadata.class_id(row["image_id"].split("/")[0]) for row in merged)
    else:
        assert merged == []


def test_merged_synsets_pooled_only_in_919(built):
    config, _, _, dataset, metadata = built
    rows = dataset["train"].select_columns(["image_id", "label", "imagenet_synset"]).to_list()
    synsets = {row["imagenet_synset"] for row in rows}
    if config == "919":
        assert set(MERGED_SYNSETS) <= synsets
        for row in rows:
            if row["imagenet_synset"] in MERGED_SYNSETS:
                target = MERGED_SYNSETS[row["imagenet_synset"]]
                assert row["label"] == metadata.class_id(target)
                assert row["image_id"].startswith(target + "/")
    else:
        assert not set(MERGED_SYNSETS) & synsets
    assert testing.FAKE_EXCLUDED_WNID not in synsets
    assert all(row["label"] == metadata.class_id(row["image_id"].split("/")[0]) for row in rows)


def test_no_example_in_two_splits(built):
    _, _, _, dataset, _ = built
    paths = {split: [image["path"] for image in dataset[split].cast_column("image", datasets.Image(decode=False))["image"]] for split in dataset}
    ids = {split: dataset[split]["image_id"] for split in dataset}
    for split in dataset:
        assert len(set(ids[split])) == len(ids[split])  # image_id unique in the split
        assert len(set(paths[split])) == len(paths[split])
    assert not set(paths["validation"]) & set(paths["test"])
    assert not (set(paths["validation"]) | set(paths["test"])) & set(paths["train"])
    assert set(paths["train_semi"]) <= set(paths["train"])  # train_semi is the annotated 1% of train
    assert set(ids["train_semi"]) <= set(ids["train"])  # under the same image ids
    assert all(os.path.isabs(path) and os.path.isfile(path) for split in paths for path in paths[split])


def test_reference_mode_keeps_quirky_files(built):
    _, _, setup, dataset, _ = built
    modes = {example["image"].mode for example in dataset["train"]}
    assert {"L", "CMYK", "RGB"} <= modes
    formats = {example["image"].format for example in dataset["train"]}
    assert formats == {"JPEG", "PNG"}


def test_rebuild_same_fingerprint_other_copy_differs(tmp_path, fake_metadata_dir):
    setup = testing.make_fake_setup(tmp_path, "50", metadata_dir=fake_metadata_dir)
    kwargs = dict(imagenet_dir=setup.imagenet_dir, annotations=setup.annotations, metadata_dir=setup.metadata_dir)
    first = load_dataset("50", cache_dir=tmp_path / "c1", **kwargs)
    second = load_dataset("50", cache_dir=tmp_path / "c2", **kwargs)
    assert {s: first[s]._fingerprint for s in first} == {s: second[s]._fingerprint for s in second}
    assert first["validation"].to_list() == second["validation"].to_list()
    # the same copy through another spelling of its path: same cache entry
    relative = os.path.relpath(setup.imagenet_dir)
    again = make_builder("50", cache_dir=tmp_path / "c1", **{**kwargs, "imagenet_dir": relative + "/"})
    assert again.config_id == make_builder("50", cache_dir=tmp_path / "c1", **kwargs).config_id
    other_copy = shutil.copytree(setup.imagenet_dir, tmp_path / "copy")
    third = load_dataset("50", cache_dir=tmp_path / "c1", **{**kwargs, "imagenet_dir": other_copy})
    assert third["train"]._fingerprint != first["train"]._fingerprint
    assert third["train"][0]["image"].filename.startswith(str(other_copy))
    embedded = make_builder("50", cache_dir=tmp_path / "c1", embed_images=True, **kwargs)
    assert embedded.config_id != make_builder("50", cache_dir=tmp_path / "c1", **kwargs).config_id


def test_embedded_bytes_unchanged(tmp_path, fake_metadata_dir):
    setup = testing.make_fake_setup(tmp_path, "50", metadata_dir=fake_metadata_dir)
    dataset = load_dataset(
        "50", imagenet_dir=setup.imagenet_dir, annotations=setup.annotations, metadata_dir=setup.metadata_dir,
        embed_images=True, cache_dir=tmp_path / "cache",
    )
    source = ImageNetSource.discover(setup.imagenet_dir)
    raw = dataset["train"].cast_column("image", datasets.Image(decode=False))
    for example in raw:
        image = example["image"]
        with open(os.path.join(source.train_dir, example["imagenet_synset"], image["path"]), "rb") as file:
            assert image["bytes"] == file.read()
    kinds = {bytes(example["image"]["bytes"][:4]) for example in raw}
    assert kinds == {b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xee", b"\x89PNG"}  # JFIF, Adobe (CMYK) JPEG, PNG


def test_num_proc_and_streaming_match(tmp_path, fake_metadata_dir):
    setup = testing.make_fake_setup(tmp_path, "919", metadata_dir=fake_metadata_dir)
    kwargs = dict(imagenet_dir=setup.imagenet_dir, annotations=setup.annotations, metadata_dir=setup.metadata_dir)
    one = load_dataset("919", cache_dir=tmp_path / "c1", **kwargs)
    two = load_dataset("919", cache_dir=tmp_path / "c2", num_proc=2, **kwargs)
    columns = ["image_id", "label", "imagenet_synset"]
    for split in one:
        assert one[split].select_columns(columns).to_list() == two[split].select_columns(columns).to_list()
    streamed = make_builder("919", **kwargs).as_streaming_dataset()
    for split in one:
        rows = [{key: example[key] for key in columns} for example in streamed[split]]
        assert rows == one[split].select_columns(columns).to_list()
    example = next(iter(streamed["validation"]))
    assert example["segmentation"].size == example["image"].size


def test_missing_image_error_and_allow_missing(tmp_path, fake_metadata_dir):
    setup = testing.make_fake_setup(tmp_path, "50", "flat_val", metadata_dir=fake_metadata_dir)
    metadata = load_metadata("50", fake_metadata_dir)
    gone = [os.path.join(setup.imagenet_dir, "val", src.split("/")[1]) for src, _ in metadata.test_mapping[:2]]
    for path in gone:
        os.remove(path)
    kwargs = dict(imagenet_dir=setup.imagenet_dir, annotations=setup.annotations, metadata_dir=setup.metadata_dir)
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("50", cache_dir=tmp_path / "c", **kwargs)
    message = str(error.value)
    assert message.startswith("2 file(s) that ImageNet-S config 50 needs are missing")
    assert f"expected at:\n  {gone[0]}\n  {gone[1]}\n" in message
    assert "allow_missing=True" in message
    with pytest.warns(UserWarning, match=r"skipping 2 missing file\(s\)") as record:
        dataset = load_dataset("50", cache_dir=tmp_path / "c", allow_missing=True, **kwargs)
    assert gone[0] in str(record[0].message)
    assert dataset["test"].num_rows == len(metadata.test_mapping) - 2
    assert not {dst[:-5] for _, dst in metadata.test_mapping[:2]} & set(dataset["test"]["image_id"])


def test_missing_class_folder_and_mask(tmp_path, fake_metadata_dir):
    setup = testing.make_fake_setup(tmp_path, "919", metadata_dir=fake_metadata_dir)
    shutil.rmtree(os.path.join(setup.imagenet_dir, "train", "n04356056"))
    metadata = load_metadata("919", fake_metadata_dir)
    source = ImageNetSource.discover(setup.imagenet_dir)
    with pytest.raises(FileNotFoundError) as error:
        plan_examples(metadata, source, Annotations.open(setup.annotations, "919"))
    message = str(error.value)
    # the pooled folder and the train_semi image stored in it
    assert message.startswith("2 file(s)")
    assert os.path.join(source.train_dir, "n04356056") + os.sep + " (class folder missing or empty)" in message
    assert os.path.join(source.train_dir, "n04356056", "n04356056_1.JPEG") in message
    # a zip lacking a mask
    import zipfile

    lacking = tmp_path / "lacking.zip"
    with zipfile.ZipFile(setup.annotations) as full, zipfile.ZipFile(lacking, "w") as out:
        for info in full.infolist()[1:]:
            out.writestr(info, full.read(info))
        dropped = full.infolist()[0].filename
    source = ImageNetSource.discover(testing.make_fake_imagenet(tmp_path / "full", fake_metadata_dir, "919"))
    with pytest.raises(FileNotFoundError, match=rf"1 file\(s\).*\n  {lacking}!{dropped}"):
        plan_examples(metadata, source, Annotations.open(lacking, "919"))


def test_unknown_config():
    with pytest.raises(ValueError, match="unknown ImageNet-S config '51': use one of '50', '300', '919'"):
        load_dataset("51", imagenet_dir="/nowhere")


def test_missing_imagenet_dir_fails_early(tmp_path, fake_metadata_dir):
    with pytest.raises(FileNotFoundError, match="ImageNet folder not found"):
        load_dataset("50", imagenet_dir=tmp_path / "nowhere", metadata_dir=fake_metadata_dir, cache_dir=tmp_path / "c")


def test_with_class_ids(built):
    _, _, _, dataset, _ = built
    view = dataset["validation"].cast_column("segmentation", datasets.Image(decode=False)).with_transform(with_class_ids)
    example = view[0]
    np.testing.assert_array_equal(example["class_ids"], testing.fake_mask_labels(dataset["validation"][0]["label"]))


# -- the real lists -----------------------------------------------------------------

REAL_SIZES = {"50": (500, 752, 1682), "300": (3000, 4097, 9088), "919": (9190, 12419, 27423)}


@pytest.fixture(scope="module")
def real_imagenet(tmp_path_factory, real_metadata_dir):
    # every file any config needs, one train image per class folder besides the train_semi ones
    root = testing.make_fake_imagenet(tmp_path_factory.mktemp("real"), real_metadata_dir, None, "flat_val", train_per_class=1)
    return root


@pytest.mark.parametrize("config", CONFIGS)
def test_real_lists_split_sizes(config, real_metadata_dir, real_imagenet):
    metadata = load_metadata(config, real_metadata_dir)
    plan = plan_examples(metadata, ImageNetSource.discover(real_imagenet), None)
    sizes = split_sizes(plan)
    assert (sizes["train_semi"], sizes["validation"], sizes["test"]) == REAL_SIZES[config]
    if config == "919":
        row = next(row for row in plan["validation"] if row[0].endswith("ILSVRC2012_val_00030368"))
        assert row[0] == "n02096585/ILSVRC2012_val_00030368"
        assert metadata.label_names[row[2]] == "n02096585"
        assert row[4] == "n04604644"
        pooled = {group[2].rsplit("/", 1)[-1]: group[0] for group in plan["train"]}
        assert {source: pooled[source] for source in MERGED_SYNSETS} == MERGED_SYNSETS


def test_real_lists_config_50_built(tmp_path, real_metadata_dir):
    imagenet = testing.make_fake_imagenet(tmp_path / "in", real_metadata_dir, "50", "class_folders", train_per_class=1)
    annotations = testing.make_fake_annotations(tmp_path, real_metadata_dir, "50")
    dataset = load_dataset("50", imagenet_dir=imagenet, annotations=annotations, metadata_dir=real_metadata_dir, cache_dir=tmp_path / "c")
    # train: one <wnid>_1.JPEG per class folder plus the train_semi files
    assert {split: dataset[split].num_rows for split in dataset} == {
        "train": 50 + 500, "train_semi": 500, "validation": 752, "test": 1682,
    }
    first = dataset["validation"][0]
    assert first["image_id"] == "n01443537/ILSVRC2012_val_00004677"
    assert dataset["validation"].features["label"].int2str(first["label"]) == "n01443537"
