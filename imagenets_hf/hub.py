"""Push an exported folder (see `imagenets_hf.export`) to a dataset repository on the hub.

ImageNet's terms of access forbid redistributing its images, so a push goes to
a private repository (the default) or to a gated one, and never to a
repository that is public without a gate.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from typing import Any

from .export import README_NAME, card_text, merge_card_data, read_manifest

REPO_TYPE = "dataset"
GATED_MODES = ("auto", "manual")


@dataclass(frozen=True)
class UploadFile:
    """One file of an upload: its path in the repository (posix, relative) and its size in bytes."""

    path: str
    size: int


def _missing(folder: str, what: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"{folder} is not an exported ImageNet-S folder: {what}. "
        f"Create it with `imagenets-hf export CONFIG --output {folder} --imagenet-dir ...`"
    )


def _parse_card_data(text: str, where: str, fix: str) -> dict:
    import yaml
    from huggingface_hub import DatasetCard

    try:
        return DatasetCard(text).data.to_dict()
    except (ValueError, yaml.YAMLError) as error:  # YAML that does not parse, or is not a mapping
        reason = " ".join(str(error).split())  # YAML errors span lines
        raise ValueError(f"the YAML header of {where} is invalid ({reason}): {fix}") from None


def read_card_data(folder: str | os.PathLike) -> dict:
    """FOLDER/README.md's YAML as a dict, checked to have a `configs` list."""
    folder = os.fspath(folder)
    readme = os.path.join(folder, README_NAME)
    if os.path.isfile(folder):
        raise _missing(folder, "it is a file; give the folder that holds README.md and the config folders")
    if not os.path.isdir(folder):
        raise _missing(folder, "the folder does not exist")
    if not os.path.isfile(readme):
        raise _missing(folder, f"{README_NAME} is missing")
    with open(readme, encoding="utf-8", newline="") as file:
        data = _parse_card_data(file.read(), readme, "re-run `imagenets-hf export`")
    configs = data.get("configs")
    if not configs or not isinstance(configs, list):
        raise _missing(folder, f"{README_NAME} has no `configs` list in its YAML header")
    return data


def read_card_configs(folder: str | os.PathLike) -> list[dict]:
    """The `configs` entries of FOLDER/README.md's YAML ([{"config_name", "data_files": [...]}, ...])."""
    return read_card_data(folder)["configs"]


def _config_names(card_data: dict) -> list[str]:
    return [c.get("config_name", "default") for c in card_data.get("configs") or [] if isinstance(c, dict)]


def _data_file_patterns(config: dict) -> list[str]:
    data_files = config.get("data_files")
    if isinstance(data_files, str):
        return [data_files]
    patterns = []
    for entry in data_files or []:
        paths = entry.get("path") if isinstance(entry, dict) else entry
        patterns.extend([paths] if isinstance(paths, str) else list(paths or []))
    return patterns


def list_upload(folder: str | os.PathLike) -> list[UploadFile]:
    """Check FOLDER and list what a push uploads: README.md and every data file its configs name, sorted.

    Raises FileNotFoundError naming what is missing: README.md, its configs, a
    config whose patterns match no file, or a shard that the config's export
    manifest lists but that is absent or of another size (an export that did not finish).
    """
    folder = os.fspath(folder)
    configs = read_card_configs(folder)
    files = {}
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # staging folders and caches stay local
        for name in names:
            if not name.startswith("."):
                path = os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
                files[path] = os.path.getsize(os.path.join(root, name))
    selected = {README_NAME}
    for config in configs:
        name = config.get("config_name", "default")
        patterns = _data_file_patterns(config)
        manifest = read_manifest(folder, name)
        if manifest is not None:
            for split in manifest["splits"].values():
                for shard in split["shards"]:
                    if files.get(shard["path"]) != shard["size"]:
                        state = "is missing" if shard["path"] not in files else "has another size than when written"
                        raise _missing(folder, f"shard {shard['path']} of config {name!r} {state}")
        if not patterns:
            raise _missing(folder, f"config {name!r} lists no data files in {README_NAME}")
        matched = set()
        for pattern in patterns:
            matches = {path for path in files if fnmatch.fnmatchcase(path, pattern)}
            if not matches:
                raise _missing(folder, f"config {name!r} lists {pattern} but no such file exists")
            matched |= matches
        selected |= matched
    return [UploadFile(path, files[path]) for path in sorted(selected)]


def check_repo_id(repo_id: str) -> None:
    """ValueError unless `repo_id` reads ORG/NAME (checked by --dry-run too)."""
    if "/" not in repo_id or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"invalid --repo-id {repo_id!r}: write it as ORG/NAME (or USER/NAME)")


def push(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    private: bool = True,
    gated: str | None = None,
    revision: str | None = None,
    token: str | None = None,
    commit_message: str | None = None,
    api: Any = None,
) -> Any:
    """Upload FOLDER (an export) to the dataset repository `repo_id` in one commit; returns the commit info.

    The repository is created if needed: private by default; with `gated`
    ("auto" or "manual") public but gated, so that users must accept terms
    first. Refuses a repository that exists and is public without a gate.
    Configs that the remote README.md lists and FOLDER does not hold (pushed
    from another folder) stay listed: the uploaded README's YAML keeps their
    entries and its card is rendered from the merged YAML. Remote shards of the
    pushed configs that this upload does not contain (an older shard count)
    are deleted in the same commit; other configs' files are never touched.
    The commit is refused by the hub if `revision` moved since its README was
    read. `revision`: a branch, created if needed. The token comes from
    `token`, else HF_TOKEN or `hf auth login`. `api`: an `huggingface_hub.HfApi`
    (tests pass a fake).
    """
    check_repo_id(repo_id)
    if gated is not None and gated not in GATED_MODES:
        raise ValueError(f"invalid gated mode {gated!r}: use one of {', '.join(GATED_MODES)}")
    folder = os.fspath(folder)
    upload = list_upload(folder)
    card_data = read_card_data(folder)
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    public_gated = gated is not None
    api.create_repo(repo_id, repo_type=REPO_TYPE, private=not public_gated and private, exist_ok=True)
    if public_gated:
        api.update_repo_settings(repo_id, repo_type=REPO_TYPE, gated=gated)
    info = api.repo_info(repo_id, repo_type=REPO_TYPE)
    if not getattr(info, "private", False) and not getattr(info, "gated", False):
        raise ValueError(
            f"dataset repo {repo_id} is public and not gated: ImageNet's terms forbid redistributing its images. "
            "Make it private or gated in its settings on the hub (or push with --gated manual), then push again"
        )
    if revision and revision != "main":
        api.create_branch(repo_id, branch=revision, repo_type=REPO_TYPE, exist_ok=True)
        info = api.repo_info(repo_id, repo_type=REPO_TYPE, revision=revision)
    # read the remote state at one commit, and commit on top of that one only (parent_commit)
    head = getattr(info, "sha", None)
    remote_files = api.list_repo_files(repo_id, revision=head or revision, repo_type=REPO_TYPE)
    configs = _config_names(card_data)
    readme: str | bytes = os.path.join(folder, README_NAME)
    if README_NAME in remote_files:
        path = api.hf_hub_download(repo_id, filename=README_NAME, repo_type=REPO_TYPE, revision=head or revision)
        where = f"{README_NAME} in dataset repo {repo_id}" + (f" (revision {revision})" if revision else "")
        with open(path, encoding="utf-8", newline="") as file:
            remote_data = _parse_card_data(
                file.read(), where, "fix it on the hub (its configs would be lost otherwise), then push again"
            )
        if set(_config_names(remote_data)) - set(configs):
            readme = card_text(merge_card_data(card_data, remote_data)).encode("utf-8")
    return api.create_commit(
        repo_id,
        operations=_commit_operations(folder, upload, readme, remote_files, configs),
        commit_message=commit_message or f"Upload ImageNet-S (configs {', '.join(configs)}) with imagenets-hf",
        repo_type=REPO_TYPE,
        revision=revision,
        parent_commit=head,
    )


def _commit_operations(
    folder: str, upload: list[UploadFile], readme: str | bytes, remote_files: list[str], configs: list[str]
) -> list:
    """Add every file of `upload` (README.md from `readme`: a path or the merged bytes), and delete the
    remote shards <config>/*.parquet of the pushed `configs` that the upload does not contain."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    uploaded = {file.path for file in upload}
    operations = [
        CommitOperationAdd(
            path_in_repo=file.path,
            path_or_fileobj=readme if file.path == README_NAME else os.path.join(folder, *file.path.split("/")),
        )
        for file in upload
    ]
    for path in remote_files:
        config, _, name = path.rpartition("/")
        if config in configs and name.endswith(".parquet") and path not in uploaded:
            operations.append(CommitOperationDelete(path_in_repo=path))
    return operations
