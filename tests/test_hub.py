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

from imagenets_hf.card import render_card
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
        "configs that the README.md of me/imagenet-s already lists and this folder lacks stay listed "
        "(not looked up: a dry run does not contact the hub)",
    ]
    assert capsys.readouterr().out.splitlines() == expected


def test_dry_run_json(exported, capsys):
    assert main(["push", str(exported), "--repo-id", "me/x", "--dry-run", "--gated", "manual", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["visibility"] == "gated (manual)"
    assert [f["path"] for f in result["files"]] == EXPECTED_FILES
    assert result["total_size"] == sum(os.path.getsize(exported / p) for p in EXPECTED_FILES)


HEAD = "c0ffee"


class FakeApi:
    """Records what push asks of huggingface_hub.HfApi; the repo answers as configured.

    `remote_files` ({path: bytes}) is the repo's content at its head commit HEAD;
    `download_dir` is where hf_hub_download puts the files it is asked for.
    """

    instances: list[FakeApi] = []

    def __init__(self, token=None, *, repo_private=None, repo_gated=False, remote_files=None, download_dir=None):
        self.token = token
        self.calls = []
        self.repo_private = repo_private
        self.repo_gated = repo_gated
        self.remote_files = dict(remote_files or {})
        self.download_dir = download_dir
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
        return types.SimpleNamespace(private=self.repo_private, gated=self.repo_gated, sha=HEAD)

    def create_branch(self, repo_id, **kwargs):
        self.calls.append(("create_branch", repo_id, kwargs))

    def list_repo_files(self, repo_id, **kwargs):
        self.calls.append(("list_repo_files", repo_id, kwargs))
        return sorted(self.remote_files)

    def hf_hub_download(self, repo_id, **kwargs):
        self.calls.append(("hf_hub_download", repo_id, kwargs))
        path = os.path.join(self.download_dir, kwargs["filename"])
        with open(path, "wb") as file:
            file.write(self.remote_files[kwargs["filename"]])
        return path

    def create_commit(self, repo_id, **kwargs):
        self.calls.append(("create_commit", repo_id, kwargs))
        return types.SimpleNamespace(commit_url=f"https://hub.test/{repo_id}/commit/1")


def _operations(operations):
    """A commit's operations as ("add", path_in_repo, local path or bytes) and ("delete", path_in_repo)."""
    summary = []
    for operation in operations:
        if isinstance(operation, huggingface_hub.CommitOperationAdd):
            summary.append(("add", operation.path_in_repo, operation.path_or_fileobj))
        else:
            assert isinstance(operation, huggingface_hub.CommitOperationDelete)
            summary.append(("delete", operation.path_in_repo))
    return summary


def _calls(api):
    """api.calls with create_commit's operations summarised by _operations."""
    return [
        (name, repo_id, {**kwargs, "operations": _operations(kwargs["operations"])} if "operations" in kwargs else kwargs)
        for name, repo_id, kwargs in api.calls
    ]


def _commit_kwargs(folder, revision=None, readme=None, deletes=()):
    """create_commit's expected arguments: README.md from `readme` (bytes) if given, else from the folder."""
    local = {path: os.path.join(folder, *path.split("/")) for path in EXPECTED_FILES}
    if readme is not None:
        local["README.md"] = readme
    return {
        "operations": [*(("add", path, local[path]) for path in EXPECTED_FILES), *(("delete", path) for path in deletes)],
        "commit_message": "Upload ImageNet-S (configs 50) with imagenets-hf",
        "repo_type": "dataset",
        "revision": revision,
        "parent_commit": HEAD,
    }


def test_push_cli_creates_a_private_dataset_repo_and_uploads_the_folder(exported, monkeypatch, capsys):
    FakeApi.instances.clear()
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    assert main(["push", str(exported), "--repo-id", "me/imagenet-s", "--private"]) == 0
    (api,) = FakeApi.instances
    assert api.token is None  # huggingface_hub then reads HF_TOKEN or the saved login
    assert _calls(api) == [
        ("create_repo", "me/imagenet-s", {"repo_type": "dataset", "private": True, "exist_ok": True}),
        ("repo_info", "me/imagenet-s", {"repo_type": "dataset"}),
        ("list_repo_files", "me/imagenet-s", {"revision": HEAD, "repo_type": "dataset"}),
        ("create_commit", "me/imagenet-s", _commit_kwargs(exported)),
    ]
    assert "https://hub.test/me/imagenet-s/commit/1" in capsys.readouterr().out


def test_push_gated_on_a_branch(exported):
    api = FakeApi()
    push(exported, "me/imagenet-s", gated="manual", revision="v1", api=api)
    assert _calls(api) == [
        ("create_repo", "me/imagenet-s", {"repo_type": "dataset", "private": False, "exist_ok": True}),
        ("update_repo_settings", "me/imagenet-s", {"repo_type": "dataset", "gated": "manual"}),
        ("repo_info", "me/imagenet-s", {"repo_type": "dataset"}),
        ("create_branch", "me/imagenet-s", {"branch": "v1", "repo_type": "dataset", "exist_ok": True}),
        ("repo_info", "me/imagenet-s", {"repo_type": "dataset", "revision": "v1"}),  # the branch's head commit
        ("list_repo_files", "me/imagenet-s", {"revision": HEAD, "repo_type": "dataset"}),
        ("create_commit", "me/imagenet-s", _commit_kwargs(exported, revision="v1")),
    ]


@pytest.fixture
def remote_919(tmp_path):
    """A repo's files ({path: bytes}) as `imagenets-hf push` left them after pushing an export of config "919"."""
    source = tmp_path / "source_919"
    source.mkdir()
    folder = tmp_path / "export_919"
    export_dataset_dict(make_dataset_dict(str(source), sizes=(("validation", 4, True),)), folder, "919", progress=False)
    files = {".gitattributes": b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"}
    files.update({f.path: (folder / f.path).read_bytes() for f in list_upload(folder)})
    return files


def _yaml(text: str) -> dict:
    return huggingface_hub.DatasetCard(text).data.to_dict()


def _by_name(entries):
    return {entry["config_name"]: entry for entry in entries}


def test_push_keeps_the_configs_that_the_remote_readme_lists_and_the_folder_lacks(exported, remote_919, tmp_path):
    api = FakeApi(remote_files=remote_919, download_dir=tmp_path)
    push(exported, "me/imagenet-s", api=api)
    assert [call[0] for call in api.calls] == [
        "create_repo", "repo_info", "list_repo_files", "hf_hub_download", "create_commit",
    ]
    assert api.calls[3][2] == {"filename": "README.md", "repo_type": "dataset", "revision": HEAD}
    operations = _operations(api.calls[-1][2]["operations"])
    readme = next(op[2] for op in operations if op[1] == "README.md")
    assert isinstance(readme, bytes)
    assert operations == _commit_kwargs(exported, readme=readme)["operations"]  # adds the folder, deletes nothing
    uploaded = _yaml(readme.decode())
    local, remote = _yaml((exported / "README.md").read_text()), _yaml(remote_919["README.md"].decode())
    assert [c["config_name"] for c in uploaded["configs"]] == ["50", "919"]
    assert [i["config_name"] for i in uploaded["dataset_info"]] == ["50", "919"]
    for key in ("configs", "dataset_info"):
        assert _by_name(uploaded[key])["919"] == _by_name(remote[key])["919"]  # unchanged
        assert _by_name(uploaded[key])["50"] == _by_name(local[key])["50"]
    assert {k: v for k, v in uploaded.items() if k not in ("configs", "dataset_info")} == {
        k: v for k, v in local.items() if k not in ("configs", "dataset_info")
    }
    # the card body is rendered from the merged YAML: its table has both configs
    body = readme.decode().split("\n---\n", 1)[1]
    assert body == render_card(uploaded)
    assert '| "50" | 2 | 6 | - | 3 | - |' in body and '| "919" | 2 | - | - | 4 | - |' in body

    # datasets reads the repo as it is after the commit: the merged README, the 50 shards and the 919 ones
    repo = tmp_path / "repo"
    after = {**remote_919, **{path: (exported / path).read_bytes() for path in EXPECTED_FILES}, "README.md": readme}
    for path, content in after.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(content)
    assert datasets.get_dataset_config_names(str(repo)) == ["50", "919"]
    kept = datasets.load_dataset(str(repo), "919", split="validation", cache_dir=str(tmp_path / "cache"))
    assert kept.num_rows == 4


@pytest.mark.parametrize(
    "remote_files",
    [
        {},  # a repo just created
        {".gitattributes": b"*.parquet filter=lfs\n"},
        {"README.md": b"# my notes, no YAML\n"},
        {"README.md": b"---\nlicense: other\n---\nno configs\n"},
    ],
    ids=["new", "no-readme", "readme-without-yaml", "readme-without-configs"],
)
def test_push_to_a_repo_without_other_configs_uploads_the_folder_readme_as_it_is(exported, tmp_path, remote_files):
    api = FakeApi(remote_files=remote_files, download_dir=tmp_path)
    push(exported, "me/imagenet-s", api=api)
    assert _calls(api)[-1] == ("create_commit", "me/imagenet-s", _commit_kwargs(exported))
    assert ("hf_hub_download" in [call[0] for call in api.calls]) == ("README.md" in remote_files)


def test_push_of_the_same_config_replaces_its_readme_entries(exported, tmp_path):
    """A remote README listing only configs that the folder holds is replaced by the folder's."""
    old = tmp_path / "old_50"
    old.mkdir()
    export_dataset_dict(make_dataset_dict(str(old), sizes=(("validation", 2, True),)), tmp_path / "export_50", "50",
                        progress=False)
    remote = {"README.md": (tmp_path / "export_50" / "README.md").read_bytes(),
              "50/validation-00000-of-00001.parquet": b"old"}
    api = FakeApi(remote_files=remote, download_dir=tmp_path)
    push(exported, "me/imagenet-s", api=api)
    assert _calls(api)[-1] == ("create_commit", "me/imagenet-s", _commit_kwargs(exported))


def test_push_deletes_the_stale_shards_of_the_pushed_config_only_in_the_same_commit(exported, remote_919, tmp_path):
    stale = ["50/train-00000-of-00002.parquet", "50/train-00001-of-00002.parquet"]
    remote = {
        **remote_919,
        **{path: b"older export" for path in stale},
        "50/validation-00000-of-00001.parquet": b"older export",  # replaced by the upload, not deleted
        "50/notes.txt": b"not a shard",
        "919/train-00000-of-00002.parquet": b"another config's",
        "other/50/train-00000-of-00001.parquet": b"not in the config's folder",
    }
    api = FakeApi(remote_files=remote, download_dir=tmp_path)
    push(exported, "me/imagenet-s", api=api)
    commits = [call for call in _calls(api) if call[0] == "create_commit"]
    assert len(commits) == 1
    operations = commits[0][2]["operations"]
    readme = next(op[2] for op in operations if op[1] == "README.md")
    assert operations == _commit_kwargs(exported, readme=readme, deletes=stale)["operations"]


def test_push_refuses_an_invalid_remote_readme_before_uploading(exported, tmp_path):
    api = FakeApi(remote_files={"README.md": b"---\nconfigs: [\n---\n"}, download_dir=tmp_path)
    with pytest.raises(ValueError, match="README.md in dataset repo me/imagenet-s is invalid .*fix it on the hub"):
        push(exported, "me/imagenet-s", api=api)
    assert "create_commit" not in [call[0] for call in api.calls]


def test_push_refuses_an_existing_public_ungated_repo(exported, remote_919, tmp_path):
    api = FakeApi(repo_private=False, repo_gated=False, remote_files=remote_919, download_dir=tmp_path)
    with pytest.raises(ValueError, match="me/imagenet-s is public and not gated"):
        push(exported, "me/imagenet-s", api=api)
    assert [call[0] for call in api.calls] == ["create_repo", "repo_info"]  # nothing read, nothing uploaded


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


def test_the_fake_records_calls_that_the_real_hfapi_accepts(exported, remote_919, tmp_path):
    """Every call push makes binds to huggingface_hub.HfApi's real signature (so the fake cannot drift)."""
    import inspect

    api = FakeApi(remote_files={**remote_919, "50/train-00000-of-00002.parquet": b"stale"}, download_dir=tmp_path)
    push(exported, "me/imagenet-s", gated="auto", revision="v1", api=api)
    names = [call[0] for call in api.calls]
    assert names == ["create_repo", "update_repo_settings", "repo_info", "create_branch", "repo_info",
                     "list_repo_files", "hf_hub_download", "create_commit"]
    assert ("delete", "50/train-00000-of-00002.parquet") in _operations(api.calls[-1][2]["operations"])
    for name, repo_id, kwargs in api.calls:
        inspect.signature(getattr(huggingface_hub.HfApi, name)).bind(None, repo_id, **kwargs)
