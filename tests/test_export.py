"""Hub-native export: `datasets.load_dataset(DIR, CONFIG)` gives the builder's examples; re-runs resume cleanly."""

from __future__ import annotations

import hashlib
import json
import os

import datasets
import pytest
import yaml

from imagenets_hf import export as export_module
from imagenets_hf import testing
from imagenets_hf.cli import main
from imagenets_hf.export import estimate_nbytes, export, export_dataset_dict, read_manifest
from imagenets_hf.loading import load_dataset as build

SPLITS = ("train", "train_semi", "validation", "test")


@pytest.fixture(scope="module")
def setups(tmp_path_factory):
    root = tmp_path_factory.mktemp("fake")
    metadata_dir = testing.make_fake_metadata(root / "metadata")
    return {
        name: testing.make_fake_setup(root / name, config=name, metadata_dir=metadata_dir) for name in ("50", "300")
    }


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("hf-cache"))


def _sources(setup):
    return {"imagenet_dir": setup.imagenet_dir, "annotations": setup.annotations, "metadata_dir": setup.metadata_dir}


@pytest.fixture(scope="module")
def built(setups, cache_dir):
    """The builder's DatasetDict of each config (the reference every export is compared with)."""
    return {name: build(name, cache_dir=cache_dir, **_sources(setup)) for name, setup in setups.items()}


def _three_train_shards(dataset_dict) -> int:
    """A max_shard_size that makes push_to_hub's rule (nbytes // size + 1) give exactly 3 train shards."""
    return estimate_nbytes(dataset_dict["train"]) // 3 + 1


def _raw(dataset):
    """Rows with images undecoded: {"bytes", "path"} dicts."""
    for column in ("image", "segmentation"):
        dataset = dataset.cast_column(column, datasets.Image(decode=False))
    return list(dataset)


def _image_bytes(value):
    if value is None:
        return None
    if value["bytes"] is not None:
        return value["bytes"]
    with open(value["path"], "rb") as file:
        return file.read()


def _comparable(rows):
    return [
        {
            "image_id": row["image_id"],
            "image": _image_bytes(row["image"]),
            "label": row["label"],
            "segmentation": _image_bytes(row["segmentation"]),
            "imagenet_synset": row["imagenet_synset"],
        }
        for row in rows
    ]


def _hashes(folder) -> dict[str, str]:
    result = {}
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as file:
                result[os.path.relpath(path, folder)] = hashlib.sha256(file.read()).hexdigest()
    return result


def _readme_yaml(folder) -> dict:
    with open(os.path.join(folder, "README.md"), encoding="utf-8") as file:
        text = file.read()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


@pytest.fixture(scope="module")
def exported_50(setups, built, cache_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("export") / "hub"
    manifests = export(
        "50", output, **_sources(setups["50"]), cache_dir=cache_dir,
        max_shard_size=_three_train_shards(built["50"]), progress=False,
    )
    return output, manifests["50"]


def test_shards_are_named_as_push_to_hub_names_them(exported_50, built):
    output, manifest = exported_50
    assert sorted(os.listdir(output / "50")) == sorted(
        [".export.json"] + [shard["path"].split("/")[1] for split in manifest["splits"].values() for shard in split["shards"]]
    )
    assert [shard["path"] for shard in manifest["splits"]["train"]["shards"]] == [
        "50/train-00000-of-00003.parquet",
        "50/train-00001-of-00003.parquet",
        "50/train-00002-of-00003.parquet",
    ]
    for split, info in manifest["splits"].items():
        count = len(info["shards"])
        assert [s["path"] for s in info["shards"]] == [f"50/{split}-{i:05d}-of-{count:05d}.parquet" for i in range(count)]
    assert list(manifest["splits"]) == list(built["50"])


def test_load_dataset_of_the_folder_gives_the_builder_examples(exported_50, built, tmp_path):
    output, _ = exported_50
    loaded = datasets.load_dataset(str(output), "50", cache_dir=str(tmp_path / "cache"))
    assert list(loaded) == list(built["50"]) == list(SPLITS)
    for split in SPLITS:
        assert loaded[split].features == built["50"][split].features
        expected = _comparable(_raw(built["50"][split]))
        assert len(expected) > 0
        assert _comparable(_raw(loaded[split])) == expected
    # the embedded images keep only their file name, as push_to_hub does
    row = _raw(loaded["validation"])[0]
    assert row["image"]["path"] == os.path.basename(_raw(built["50"]["validation"])[0]["image"]["path"])


def test_streaming_yields_the_same_first_examples(exported_50, built):
    output, _ = exported_50
    for split in ("train", "validation"):
        streamed = datasets.load_dataset(str(output), "50", split=split, streaming=True)
        streamed = streamed.cast_column("image", datasets.Image(decode=False))
        streamed = streamed.cast_column("segmentation", datasets.Image(decode=False))
        first = [row for _, row in zip(range(5), streamed)]
        assert _comparable(first) == _comparable(_raw(built["50"][split]))[:5]


def test_readme_yaml_lists_the_config_with_the_builder_split_sizes(exported_50, built):
    output, manifest = exported_50
    card = _readme_yaml(output)
    assert card["configs"] == [
        {"config_name": "50", "data_files": [{"split": split, "path": f"50/{split}-*"} for split in SPLITS]}
    ]
    (info,) = card["dataset_info"]
    assert info["config_name"] == "50"
    assert [(s["name"], s["num_examples"]) for s in info["splits"]] == [
        (split, built["50"][split].num_rows) for split in SPLITS
    ]
    assert [s["num_bytes"] for s in info["splits"]] == [manifest["splits"][split]["num_bytes"] for split in SPLITS]
    assert info["download_size"] == sum(
        os.path.getsize(output / shard["path"]) for split in manifest["splits"].values() for shard in split["shards"]
    )
    names = built["50"]["train"].features["label"].names
    assert info["features"][2] == {
        "name": "label", "dtype": {"class_label": {"names": {str(i): name for i, name in enumerate(names)}}}
    }
    # the card is there, after the YAML
    text = (output / "README.md").read_text()
    for needle in ('evaluate.load(imagenets_hf.metric_path()', "evaluate_segmentation", "@article{gao2022luss",
                   "Fully unsupervised", "Distance matching", "Semi-supervised", "**Free**", "R + 256 * G",
                   "terms of access", '| "50" | 4 |'):  # the fake lists have 4 classes
        assert needle in text


def test_second_config_is_added_and_the_first_kept(setups, built, cache_dir, tmp_path):
    output = tmp_path / "hub"
    export("50", output, **_sources(setups["50"]), cache_dir=cache_dir, progress=False)
    first = _readme_yaml(output)
    export(["300"], output, **_sources(setups["300"]), cache_dir=cache_dir, progress=False)
    both = _readme_yaml(output)
    assert datasets.get_dataset_config_names(str(output)) == ["50", "300"]
    assert [c["config_name"] for c in both["configs"]] == ["50", "300"]
    assert both["configs"][0] == first["configs"][0]
    assert both["dataset_info"][0] == first["dataset_info"][0]
    assert [s["num_examples"] for s in both["dataset_info"][1]["splits"]] == [built["300"][s].num_rows for s in SPLITS]
    loaded = datasets.load_dataset(str(output), "300", split="validation", cache_dir=str(tmp_path / "cache"))
    assert _comparable(_raw(loaded)) == _comparable(_raw(built["300"]["validation"]))
    # a README lost or replaced is rebuilt from the per-config manifests on the next export
    (output / "README.md").write_text("---\nlicense: other\n---\nmine\n")
    export("50", output, **_sources(setups["50"]), cache_dir=cache_dir, progress=False)
    assert _readme_yaml(output)["configs"] == both["configs"]


def test_export_interrupted_after_one_shard_resumes_to_an_identical_result(
    setups, built, cache_dir, tmp_path, monkeypatch
):
    size = _three_train_shards(built["50"])
    reference = tmp_path / "reference"
    export("50", reference, **_sources(setups["50"]), cache_dir=cache_dir, max_shard_size=size, progress=False)

    original = export_module._write_shard

    def write_one_then_fail(dataset, path):
        # shards are written two at a time: every shard but the first one fails
        if os.path.basename(path) != "train-00000-of-00003.parquet":
            raise KeyboardInterrupt("simulated interruption")
        return original(dataset, path)

    output = tmp_path / "hub"
    monkeypatch.setattr(export_module, "_write_shard", write_one_then_fail)
    with pytest.raises(KeyboardInterrupt):
        export("50", output, **_sources(setups["50"]), cache_dir=cache_dir, max_shard_size=size, progress=False)
    # nothing is published before the config is complete: no README, no DIR/50, one finished shard staged
    assert sorted(os.listdir(output)) == [".50.partial"]
    assert sorted(os.listdir(output / ".50.partial")) == [".plan.json", "train-00000-of-00003.parquet"]
    staged = (output / ".50.partial" / "train-00000-of-00003.parquet").stat().st_mtime_ns

    written = []
    monkeypatch.setattr(export_module, "_write_shard", lambda dataset, path: written.append(path) or original(dataset, path))
    export("50", output, **_sources(setups["50"]), cache_dir=cache_dir, max_shard_size=size, progress=False)
    assert _hashes(output) == _hashes(reference)
    assert len(_hashes(output)) == 2 + sum(  # README.md, 50/.export.json and the shards
        len(s["shards"]) for s in read_manifest(output, "50")["splits"].values())
    assert (output / "50" / "train-00000-of-00003.parquet").stat().st_mtime_ns == staged  # kept, not rewritten
    assert "train-00000-of-00003.parquet" not in [os.path.basename(p) for p in written]
    assert not os.path.exists(output / ".50.partial")

    # a finished export is left alone by a re-run: nothing rewritten
    written.clear()
    export("50", output, **_sources(setups["50"]), cache_dir=cache_dir, max_shard_size=size, progress=False)
    assert written == [] and _hashes(output) == _hashes(reference)


def test_reexport_with_another_shard_count_replaces_the_old_shards_only_when_complete(
    setups, built, cache_dir, tmp_path, monkeypatch
):
    output = tmp_path / "hub"
    size = _three_train_shards(built["50"])
    export("50", output, **_sources(setups["50"]), cache_dir=cache_dir, max_shard_size=size, progress=False)
    before = _hashes(output)
    (output / "notes.txt").write_text("mine")  # the user's file: never touched

    original = export_module._write_shard

    def write_two_then_fail(dataset, path):
        if os.path.basename(path).startswith(("validation", "test")):
            raise RuntimeError("disk full")
        return original(dataset, path)

    monkeypatch.setattr(export_module, "_write_shard", write_two_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        export("50", output, **_sources(setups["50"]), cache_dir=cache_dir, progress=False)  # 500MB: 1 shard per split
    after_failure = _hashes(output)
    del after_failure["notes.txt"]
    assert after_failure == before  # the finished export is intact, README included

    monkeypatch.setattr(export_module, "_write_shard", original)
    export("50", output, **_sources(setups["50"]), cache_dir=cache_dir, progress=False)
    assert sorted(os.listdir(output / "50")) == [".export.json"] + sorted(f"{split}-00000-of-00001.parquet" for split in SPLITS)
    assert (output / "notes.txt").read_text() == "mine"
    loaded = datasets.load_dataset(str(output), "50", split="train", cache_dir=str(tmp_path / "cache"))
    assert _comparable(_raw(loaded)) == _comparable(_raw(built["50"]["train"]))


def test_export_dataset_dict_parallel_writes_the_same_bytes(built, tmp_path):
    size = _three_train_shards(built["50"])
    export_dataset_dict(built["50"], tmp_path / "serial", "50", max_shard_size=size, progress=False)
    export_dataset_dict(built["50"], tmp_path / "parallel", "50", max_shard_size=size, num_proc=2, progress=False)
    assert _hashes(tmp_path / "serial") == _hashes(tmp_path / "parallel")


def test_cli_export_prints_a_json_summary(setups, built, cache_dir, tmp_path, capsys):
    output = tmp_path / "hub"
    setup = setups["50"]
    code = main([
        "export", "50", "--output", str(output), "--imagenet-dir", setup.imagenet_dir,
        "--annotations", setup.annotations, "--metadata-dir", setup.metadata_dir,
        "--cache-dir", cache_dir, "--no-progress", "--json",
    ])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["output"] == str(output)
    expected = {split: {"num_examples": built["50"][split].num_rows, "num_shards": 1} for split in SPLITS}
    expected["download_size"] = read_manifest(output, "50")["download_size"]
    assert summary["configs"] == {"50": expected}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["export", "77"], "unknown ImageNet-S config '77'"),
        (["export", "50", "--max-shard-size", "lots"], "invalid size 'lots'"),
        (["export", "50", "--num-proc", "0"], "--num-proc 0"),
    ],
)
def test_cli_export_user_errors(arguments, message, tmp_path, capsys):
    code = main([*arguments, "--output", str(tmp_path / "out"), "--imagenet-dir", str(tmp_path), "--no-progress"])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "out")


def test_export_refuses_a_file_as_output(built, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        export_dataset_dict(built["50"], tmp_path / "file", "50", progress=False)


BROKEN_HEADERS = ["---\nconfigs: [unclosed\n---\n", "---\n- a list, not a mapping\n---\n"]


@pytest.mark.parametrize("header", BROKEN_HEADERS)
def test_export_names_a_card_whose_yaml_it_cannot_read(built, tmp_path, header):
    export_dataset_dict(built["50"], tmp_path, "50", progress=False)
    (tmp_path / "README.md").write_text(header + "body\n")
    with pytest.raises(ValueError, match=r"(?s)cannot read the YAML header of .*README.md .*: fix or delete that file"):
        export_dataset_dict(built["50"], tmp_path, "50", progress=False)
    assert (tmp_path / "README.md").read_text() == header + "body\n"  # left as it was


@pytest.mark.parametrize("header", BROKEN_HEADERS)
def test_export_refuses_a_foreign_readme_even_with_broken_yaml(built, tmp_path, header):
    (tmp_path / "README.md").write_text(header + "body\n")
    with pytest.raises(FileExistsError, match="is not a dataset card written by an export"):
        export_dataset_dict(built["50"], tmp_path, "50", progress=False)
    assert (tmp_path / "README.md").read_text() == header + "body\n"


@pytest.mark.parametrize("size", ["500MB", "2GiB", "1kb", 4096, "1.5GB"])
def test_parse_size(size):
    expected = {"500MB": 500 * 10**6, "2GiB": 2 * 2**30, "1kb": 1000, 4096: 4096, "1.5GB": 1_500_000_000}
    assert export_module.parse_size(size) == expected[size]


def test_export_never_replaces_a_config_folder_it_did_not_write(built, tmp_path):
    output = tmp_path / "hub"
    (output / "50").mkdir(parents=True)
    (output / "50" / "my-notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"hub/50 exists and was not written by an export \(it holds my-notes.txt\)"):
        export_dataset_dict(built["50"], output, "50", progress=False)
    assert os.listdir(output / "50") == ["my-notes.txt"]


def test_several_configs_take_their_zip_from_an_annotations_folder(setups, built, cache_dir, tmp_path):
    """With several configs, --annotations is a folder holding each config's zip (here ImageNetS50.zip, ImageNetS300.zip)."""
    folder = tmp_path / "zips"
    folder.mkdir()
    for name, setup in setups.items():
        os.symlink(setup.annotations, folder / f"ImageNetS{name}.zip")
    assert all(setup.imagenet_dir for setup in setups.values())
    # one ImageNet copy holding both configs' files
    imagenet = testing.make_fake_imagenet(tmp_path / "imagenet", setups["50"].metadata_dir, None)
    output = tmp_path / "hub"
    manifests = export(["50", "300"], output, imagenet_dir=imagenet, annotations=folder,
                       metadata_dir=setups["50"].metadata_dir, cache_dir=cache_dir, progress=False)
    assert list(manifests) == ["50", "300"]
    assert [c["config_name"] for c in _readme_yaml(output)["configs"]] == ["50", "300"]
    for name in ("50", "300"):
        assert manifests[name]["splits"]["validation"]["num_examples"] == built[name]["validation"].num_rows
    with pytest.raises(ValueError, match="make it a folder holding ImageNetS919-5f7f58ae1003d21da9409a8576bf7680.zip"):
        export(["50", "919"], tmp_path / "other", imagenet_dir=imagenet, annotations=folder,
               metadata_dir=setups["50"].metadata_dir, cache_dir=cache_dir, progress=False)


def test_an_image_deleted_since_the_build_is_named(tmp_path):
    setup = testing.make_fake_setup(tmp_path / "fake", "50")
    dataset_dict = build("50", cache_dir=str(tmp_path / "cache"), **_sources(setup))
    gone = _raw(dataset_dict["validation"])[1]["image"]["path"]
    os.unlink(gone)
    with pytest.raises(FileNotFoundError, match=f"{gone} is gone since the dataset was built"):
        export_dataset_dict(dataset_dict, tmp_path / "hub", "50", progress=False)
    assert not os.path.exists(tmp_path / "hub" / "50")


def test_images_given_as_bytes_paths_or_none_are_embedded_unchanged(tmp_path):
    """The embedding keeps bytes already there, reads paths, and keeps missing images missing."""
    jpeg = testing.fake_image_bytes("rgb")
    png = testing.fake_image_bytes("png")
    (tmp_path / "a.JPEG").write_bytes(jpeg)
    features = datasets.Features({"image": datasets.Image(), "segmentation": datasets.Image()})
    rows = [
        {"image": {"bytes": None, "path": str(tmp_path / "a.JPEG")}, "segmentation": {"bytes": png, "path": "m.png"}},
        {"image": {"bytes": png, "path": None}, "segmentation": None},
        {"image": None, "segmentation": {"bytes": None, "path": str(tmp_path / "a.JPEG")}},
    ]
    dataset = datasets.Dataset.from_list(rows, features=features)
    export_dataset_dict(datasets.DatasetDict({"train": dataset}), tmp_path / "hub", "mixed", progress=False)
    loaded = datasets.load_dataset(str(tmp_path / "hub"), "mixed", split="train", cache_dir=str(tmp_path / "c"))
    loaded = loaded.cast_column("image", datasets.Image(decode=False)).cast_column(
        "segmentation", datasets.Image(decode=False))
    assert list(loaded) == [
        {"image": {"bytes": jpeg, "path": "a.JPEG"}, "segmentation": {"bytes": png, "path": "m.png"}},
        {"image": {"bytes": png, "path": None}, "segmentation": None},
        {"image": None, "segmentation": {"bytes": jpeg, "path": "a.JPEG"}},
    ]
