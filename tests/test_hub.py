"""`imagenets-hf push`: folder validation, the offline --dry-run listing, and the upload calls (fake HfApi)."""

from __future__ import annotations

import io
import json
import os
import types

import datasets
import huggingface_hub
import numpy as np
import pytest
from PIL import Image

from imagenets_hf.cli import main
from imagenets_hf.export import export_dataset_dict
from imagenets_hf.hub import list_upload, push

WNIDS = ["n01443537", "n01491361"]
FEATURES = datasets.Features(
    {
        "image_id": datasets.Value("string"),
        "image": datasets.Image(),
        "label": datasets.ClassLabel(names=["other", *WNIDS]),
        "segmentation": datasets.Image(),
        "imagenet_synset": datasets.Value("string"),
    }
)


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def make_dataset_dict(folder, sizes=(("train", 6, False), ("validation", 3, True))) -> datasets.DatasetDict:
    """A tiny DatasetDict with the contract's features; images referenced by path, masks as bytes."""
    rng = np.random.default_rng(0)
    splits = {}
    for split, count, with_masks in sizes:
        rows = []
        for index in range(count):
            wnid = WNIDS[index % 2]
            path = os.path.join(folder, f"{split}_{index}.JPEG")
            Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).save(path, format="JPEG")
            mask = np.zeros((12, 16, 3), np.uint8)
            mask[3:9, 4:12, 0] = index % 2 + 1
            rows.append(
                {
                    "image_id": f"{wnid}/{split}_{index}",
                    "image": path,
                    "label": index % 2 + 1,
                    "segmentation": {"bytes": _png(mask), "path": None} if with_masks else None,
                    "imagenet_synset": wnid,
                }
            )
        splits[split] = datasets.Dataset.from_list(rows, features=FEATURES)
    return datasets.DatasetDict(splits)


@pytest.fixture
def exported(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    output = tmp_path / "hub"
    export_dataset_dict(make_dataset_dict(str(source)), output, "50", progress=False)
    return output


EXPECTED_FILES = [
    "50/train-00000-of-00001.parquet",
    "50/validation-00000-of-00001.parquet",
    "README.md",
]


def test_list_upload_is_the_readme_and_the_shards_sorted_without_the_manifest(exported):
    files = list_upload(exported)
    assert [f.path for f in files] == EXPECTED_FILES
    assert [f.size for f in files] == [os.path.getsize(exported / p) for p in EXPECTED_FILES]


def test_dry_run_lists_paths_sizes_and_total_offline(exported, capsys, monkeypatch):
    monkeypatch.setattr(huggingface_hub, "HfApi", None)  # any use of the network API would fail
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert main(["push", str(exported), "--repo-id", "me/imagenet-s", "--dry-run"]) == 0
    sizes = [os.path.getsize(exported / p) for p in EXPECTED_FILES]
    total = sum(sizes)
    width = len(f"{total:,}")
    expected = [
        "would upload to dataset me/imagenet-s (private, revision main):",
        *(f"  {size:>{width},}  {path}" for path, size in zip(EXPECTED_FILES, sizes)),
        f"  {total:>{width},}  total, 3 files",
    ]
    assert capsys.readouterr().out.splitlines() == expected


def test_dry_run_json(exported, capsys):
    assert main(["push", str(exported), "--repo-id", "me/x", "--dry-run", "--gated", "manual", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["visibility"] == "gated (manual)"
    assert [f["path"] for f in result["files"]] == EXPECTED_FILES
    assert result["total_size"] == sum(os.path.getsize(exported / p) for p in EXPECTED_FILES)


class FakeApi:
    """Records what push asks of huggingface_hub.HfApi; the repo answers as configured."""

    instances: list[FakeApi] = []

    def __init__(self, token=None, *, repo_private=None, repo_gated=False):
        self.token = token
        self.calls = []
        self.repo_private = repo_private
        self.repo_gated = repo_gated
        FakeApi.instances.append(self)

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))
        if self.repo_private is None:  # a new repo takes the requested visibility
            self.repo_private = kwargs["private"]

    def update_repo_settings(self, repo_id, **kwargs):
        self.calls.append(("update_repo_settings", repo_id, kwargs))
        self.repo_gated = kwargs["gated"]

    def repo_info(self, repo_id, **kwargs):
        self.calls.append(("repo_info", repo_id, kwargs))
        return types.SimpleNamespace(private=self.repo_private, gated=self.repo_gated)

    def create_branch(self, repo_id, **kwargs):
        self.calls.append(("create_branch", repo_id, kwargs))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs["repo_id"], kwargs))
        return types.SimpleNamespace(commit_url=f"https://hub.test/{kwargs['repo_id']}/commit/1")


def _upload_kwargs(folder, revision=None):
    return {
        "repo_id": "me/imagenet-s",
        "folder_path": str(folder),
        "repo_type": "dataset",
        "revision": revision,
        "allow_patterns": EXPECTED_FILES,
        "delete_patterns": ["50/*.parquet"],
        "commit_message": "Upload ImageNet-S (configs 50) with imagenets-hf",
    }


def test_push_cli_creates_a_private_dataset_repo_and_uploads_the_folder(exported, monkeypatch, capsys):
    FakeApi.instances.clear()
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    assert main(["push", str(exported), "--repo-id", "me/imagenet-s", "--private"]) == 0
    (api,) = FakeApi.instances
    assert api.token is None  # huggingface_hub then reads HF_TOKEN or the saved login
    assert api.calls == [
        ("create_repo", "me/imagenet-s", {"repo_type": "dataset", "private": True, "exist_ok": True}),
        ("repo_info", "me/imagenet-s", {"repo_type": "dataset"}),
        ("upload_folder", "me/imagenet-s", _upload_kwargs(exported)),
    ]
    assert "https://hub.test/me/imagenet-s/commit/1" in capsys.readouterr().out


def test_push_gated_on_a_branch(exported):
    api = FakeApi()
    push(exported, "me/imagenet-s", gated="manual", revision="v1", api=api)
    assert api.calls == [
        ("create_repo", "me/imagenet-s", {"repo_type": "dataset", "private": False, "exist_ok": True}),
        ("update_repo_settings", "me/imagenet-s", {"repo_type": "dataset", "gated": "manual"}),
        ("repo_info", "me/imagenet-s", {"repo_type": "dataset"}),
        ("create_branch", "me/imagenet-s", {"branch": "v1", "repo_type": "dataset", "exist_ok": True}),
        ("upload_folder", "me/imagenet-s", _upload_kwargs(exported, revision="v1")),
    ]


def test_push_refuses_an_existing_public_ungated_repo(exported):
    api = FakeApi(repo_private=False, repo_gated=False)
    with pytest.raises(ValueError, match="me/imagenet-s is public and not gated"):
        push(exported, "me/imagenet-s", api=api)
    assert [call[0] for call in api.calls] == ["create_repo", "repo_info"]


@pytest.mark.parametrize("repo_id", ["imagenet-s", "a/b/c", "/x"])
def test_push_rejects_a_bad_repo_id(exported, repo_id):
    with pytest.raises(ValueError, match="write it as ORG/NAME"):
        push(exported, repo_id, api=FakeApi())


def test_push_of_a_folder_without_readme_names_it_and_the_export_command(tmp_path, capsys):
    assert main(["push", str(tmp_path), "--repo-id", "me/x", "--dry-run"]) == 2
    error = capsys.readouterr().err
    assert "README.md is missing" in error and "imagenets-hf export" in error


def test_push_of_an_unfinished_export_names_the_missing_shard(exported, capsys):
    os.unlink(exported / "50" / "train-00000-of-00001.parquet")
    assert main(["push", str(exported), "--repo-id", "me/x", "--dry-run"]) == 2
    assert "shard 50/train-00000-of-00001.parquet of config '50' is missing" in capsys.readouterr().err


def test_push_of_a_readme_without_configs(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: other\n---\n# hello\n")
    with pytest.raises(FileNotFoundError, match="no `configs` list"):
        list_upload(tmp_path)


def test_push_of_a_config_whose_files_are_gone(exported):
    for name in os.listdir(exported / "50"):
        if name.startswith("validation"):
            os.unlink(exported / "50" / name)
    os.unlink(exported / "50" / ".export.json")
    with pytest.raises(FileNotFoundError, match="config '50' lists 50/validation-\\* but no such file"):
        list_upload(exported)


def test_the_fake_records_calls_that_the_real_hfapi_accepts(exported):
    """Every call push makes binds to huggingface_hub.HfApi's real signature (so the fake cannot drift)."""
    import inspect

    api = FakeApi()
    push(exported, "me/imagenet-s", gated="auto", revision="v1", api=api)
    for name, repo_id, kwargs in api.calls:
        method = getattr(huggingface_hub.HfApi, name)
        if name == "upload_folder":
            inspect.signature(method).bind(None, **kwargs)
        else:
            inspect.signature(method).bind(None, repo_id, **kwargs)
