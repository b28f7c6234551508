"""Hub-native export: Parquet shards with embedded images plus a README whose YAML lists the configs.

Since datasets 4.0 the hub runs no loading scripts: a dataset there is Parquet
files and a README.md. `export` writes exactly the folder that
`DatasetDict.push_to_hub(repo_id, config_name=CONFIG)` would create, so that
`datasets.load_dataset(DIR, CONFIG)` works locally and, once the folder is
pushed (`imagenets_hf.hub.push`), `datasets.load_dataset(ORG/NAME, CONFIG)`
works anywhere, streaming included:

    DIR/README.md                                 YAML (configs + dataset_info) + card
    DIR/<config>/<split>-00000-of-000NN.parquet   ~max_shard_size each
    DIR/<config>/.export.json                     manifest, written last (not uploaded)

Interruptions: shards are written into DIR/.<config>.partial/ (temporary name,
then rename), next to a plan; a re-run with the same plan keeps the shards
already there. Once every shard is written the manifest is added and the
folder is swapped in for DIR/<config>, and the README is rewritten last. So a
finished export is never half-overwritten, and the export only ever deletes
inside DIR/<config>/ and its own hidden DIR/.<config>.* folders.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._io import atomic_write_text
from ._parquet import (
    ROW_GROUP_ROWS,
    fsync_file,
    gone_since_build,
    is_plain_local_path,
    media_columns,
    write_embedded_parquet,
)

if TYPE_CHECKING:  # heavy imports stay lazy: `imagenets-hf --help` must start fast
    import datasets

MANIFEST_NAME = ".export.json"
PLAN_NAME = ".plan.json"
README_NAME = "README.md"

FORMAT_VERSION = 1
"""Bumped when the bytes written for the same input change, so that old partial shards are not reused."""

DEFAULT_MAX_SHARD_SIZE = "500MB"

_SIZE_UNITS = {
    "": 1, "B": 1,
    "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
}


def parse_size(size: int | str) -> int:
    """Bytes in `size`: an int, or a string such as "500MB", "2GiB", "4096" (decimal and binary units)."""
    if isinstance(size, int) and not isinstance(size, bool):
        value = size
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B?)\s*", str(size).upper())
        if not match or match.group(2) not in _SIZE_UNITS:
            raise ValueError(f"invalid size {size!r}: write it like 500MB, 2GB, 512MiB or a number of bytes")
        value = int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])
    if value <= 0:
        raise ValueError(f"invalid size {size!r}: it must be positive")
    return value


@dataclass(frozen=True)
class ShardPlan:
    """One Parquet file to write: rows [start, stop) of split `split`."""

    config_name: str
    split: str
    index: int
    num_shards: int
    start: int
    stop: int

    @property
    def name(self) -> str:
        """File name, as push_to_hub names shards: "train-00000-of-00003.parquet"."""
        return f"{self.split}-{self.index:05d}-of-{self.num_shards:05d}.parquet"

    @property
    def path_in_repo(self) -> str:
        return f"{self.config_name}/{self.name}"


def _file_size(path: str) -> int:
    if is_plain_local_path(path):
        try:
            return os.path.getsize(path)
        except FileNotFoundError:
            raise gone_since_build(path) from None
    from datasets.utils.file_utils import xgetsize  # zip://, tar:// and remote paths

    return xgetsize(path)


def estimate_nbytes(dataset: datasets.Dataset, *, sample_rows: int = 1000) -> int:
    """Arrow bytes of `dataset` once its images are embedded (the size push_to_hub shards by).

    Images referenced by path count with their file size, measured on the first
    `sample_rows` rows and extrapolated, as datasets does (exact for small datasets).
    """
    nbytes = dataset.data.nbytes
    if len(dataset) == 0:
        return nbytes
    media = media_columns(dataset.features)
    if media:
        sample = dataset.data.slice(0, min(sample_rows, len(dataset.data))).select(media)
        extra = 0
        for column in sample.itercolumns():
            for value in column.to_pylist():
                if value is not None and value.get("bytes") is None and value.get("path"):
                    extra += _file_size(value["path"])
            extra -= column.combine_chunks().field("path").nbytes
        nbytes += extra * len(dataset.data) // len(sample)
    if len(dataset) != len(dataset.data):  # an indices mapping selects a subset
        nbytes = nbytes * len(dataset) // len(dataset.data)
    return nbytes


def plan_shards(
    dataset_dict: Mapping[str, datasets.Dataset], config_name: str, max_shard_size: int | str
) -> list[ShardPlan]:
    """Contiguous shards of about `max_shard_size` per split, numbered like push_to_hub's."""
    limit = parse_size(max_shard_size)
    plans = []
    for split, dataset in dataset_dict.items():
        rows = len(dataset)
        num_shards = max(1, min(rows, estimate_nbytes(dataset) // limit + 1))
        # the same contiguous split as datasets.Dataset.shard(num_shards, i, contiguous=True)
        div, mod = divmod(rows, num_shards)
        start = 0
        for index in range(num_shards):
            stop = start + div + (1 if index < mod else 0)
            plans.append(ShardPlan(config_name, split, index, num_shards, start, stop))
            start = stop
    return plans


def _fingerprint(dataset_dict: Mapping[str, datasets.Dataset], plans: list[ShardPlan]) -> str:
    """Identifies the bytes an export will write: same fingerprint => partial shards can be reused."""
    state = {
        "format": FORMAT_VERSION,
        "row_group_rows": ROW_GROUP_ROWS,
        "splits": {
            split: {"fingerprint": getattr(ds, "_fingerprint", None), "rows": len(ds), "features": ds.features.to_dict()}
            for split, ds in dataset_dict.items()
        },
        "shards": [(p.split, p.index, p.num_shards, p.start, p.stop) for p in plans],
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


def _write_shard(dataset: datasets.Dataset, path: str) -> dict[str, int]:
    """Write `dataset` (one shard) to Parquet at `path` atomically (temporary name, fsync, rename), images embedded.

    Returns {"num_examples", "num_bytes" (Arrow bytes, embedded), "size" (file bytes)}.
    """
    folder, name = os.path.split(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        num_bytes = write_embedded_parquet(dataset, temporary)
        fsync_file(temporary)
        _make_readable(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return {"num_examples": len(dataset), "num_bytes": num_bytes, "size": os.path.getsize(path)}


def _write_shard_job(job: tuple[datasets.Dataset, str]) -> dict[str, int]:
    # module-level so that worker processes can unpickle it; looks _write_shard up at call time
    dataset, path = job
    return _write_shard(dataset, path)


def _shard_dataset(dataset: datasets.Dataset, plan: ShardPlan) -> datasets.Dataset:
    if (plan.start, plan.stop) == (0, len(dataset)):
        return dataset
    return dataset.select(range(plan.start, plan.stop))  # contiguous: a slice of the Arrow table, no copy


def _run_window(executor, jobs, width: int, on_done) -> None:
    """Run `_write_shard_job` over `jobs` ((plan, job) pairs), at most `width` at a time, in order of submission.

    A failure stops new submissions; shards already in flight are finished and
    recorded (so a re-run keeps them), then the first error is raised.
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    jobs = iter(jobs)
    pending = {}

    def submit() -> None:
        for plan, job in jobs:
            pending[executor.submit(_write_shard_job, job)] = plan
            return

    for _ in range(width):
        submit()
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: (pending[f].split, pending[f].index)):
                plan = pending.pop(future)
                on_done(plan, future.result())
                submit()
    except BaseException:
        for future, plan in list(pending.items()):
            try:
                on_done(plan, future.result())
            except BaseException:  # noqa: S110 - the first error is the one to report
                pass
        raise


# -- folder bookkeeping ---------------------------------------------------------------------------


def _config_dir(output_dir: str, config_name: str) -> str:
    return os.path.join(output_dir, config_name)


def _staging_dir(output_dir: str, config_name: str) -> str:
    return os.path.join(output_dir, f".{config_name}.partial")


def _retired_dir(output_dir: str, config_name: str) -> str:
    return os.path.join(output_dir, f".{config_name}.old")


def _make_readable(path: str) -> None:
    """Give `path` the permissions a plain open() would have (atomic writes start private: mkstemp's 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def _read_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return None


def read_manifest(output_dir: str | os.PathLike, config_name: str) -> dict | None:
    """The manifest of a finished export of `config_name` in `output_dir`, or None."""
    return _read_json(os.path.join(_config_dir(os.fspath(output_dir), config_name), MANIFEST_NAME))


def _recover_swap(output_dir: str, config_name: str) -> None:
    """Finish or undo a swap that an interruption cut between its two renames."""
    final, staging, retired = (f(output_dir, config_name) for f in (_config_dir, _staging_dir, _retired_dir))
    if os.path.isdir(retired):
        if not os.path.exists(final):
            complete = os.path.exists(os.path.join(staging, MANIFEST_NAME))
            os.replace(staging if complete else retired, final)
        if os.path.isdir(retired):
            shutil.rmtree(retired)


def _swap_in(output_dir: str, config_name: str) -> None:
    final, staging, retired = (f(output_dir, config_name) for f in (_config_dir, _staging_dir, _retired_dir))
    if os.path.exists(final):
        os.replace(final, retired)
    os.replace(staging, final)
    if os.path.isdir(retired):
        shutil.rmtree(retired)


SHARD_NAME = re.compile(r"[A-Za-z0-9_.-]+-\d{5}-of-\d{5}\.parquet")


def _check_card_owned(output_dir: str) -> None:
    """Refuse a DIR/README.md that is not a dataset card (no YAML `configs` / `dataset_info`) in a
    folder that holds no export yet: writing the card would replace the user's own README (a project
    folder given as --output)."""
    import yaml  # PyYAML, a dependency of datasets and huggingface_hub
    from huggingface_hub import DatasetCard

    readme = os.path.join(output_dir, README_NAME)
    if not os.path.isfile(readme):
        return
    if any(os.path.isfile(os.path.join(output_dir, name, MANIFEST_NAME)) for name in os.listdir(output_dir)):
        return  # an export folder already: its card is rebuilt from the manifests, whatever it says now
    with open(readme, encoding="utf-8", newline="") as file:
        text = file.read()
    try:
        data = DatasetCard(text).data.to_dict() if text.startswith("---") else {}
    except (ValueError, yaml.YAMLError):  # not YAML, or not a mapping: not a card of ours
        data = {}
    if not (data.get("configs") or data.get("dataset_info")):
        raise FileExistsError(
            f"{readme} exists and is not a dataset card written by an export (no `configs` in a YAML header): "
            "export into an empty or new --output folder, or move that README away"
        )


def _check_owned(output_dir: str, config_name: str) -> None:
    """Refuse to replace a DIR/<config> that an export did not write: it may hold the user's files."""
    final = _config_dir(output_dir, config_name)
    if not os.path.exists(final) or os.path.exists(os.path.join(final, MANIFEST_NAME)):
        return
    foreign = sorted(
        name for name in os.listdir(final) if not SHARD_NAME.fullmatch(name) and not name.startswith(".")
    ) if os.path.isdir(final) else [config_name]
    if foreign:
        raise FileExistsError(
            f"{final} exists and was not written by an export (it holds {', '.join(foreign[:3])}"
            f"{', ...' if len(foreign) > 3 else ''}): move it away or choose another --output"
        )


def _prepare_staging(staging: str, fingerprint: str, plans: list[ShardPlan]) -> dict[str, dict]:
    """Make `staging` hold only shards of this plan; returns {shard name: info} of those already written."""
    plan = _read_json(os.path.join(staging, PLAN_NAME))
    if plan is None or plan.get("fingerprint") != fingerprint:
        if os.path.isdir(staging):
            shutil.rmtree(staging)  # another plan (shard count, source, format): redo
        os.makedirs(staging)
        plan = {"fingerprint": fingerprint, "written": {}}
        atomic_write_text(os.path.join(staging, PLAN_NAME), json.dumps(plan))
    wanted = {p.name for p in plans} | {PLAN_NAME}
    for name in os.listdir(staging):
        if name not in wanted:  # temporaries of a killed writer, shards of an older numbering
            path = os.path.join(staging, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
    return {
        name: info for name, info in plan["written"].items() if os.path.exists(os.path.join(staging, name))
    }


def export_dataset_dict(
    dataset_dict: Mapping[str, datasets.Dataset],
    output_dir: str | os.PathLike,
    config_name: str,
    *,
    max_shard_size: int | str = DEFAULT_MAX_SHARD_SIZE,
    num_proc: int | None = None,
    progress: bool = True,
    update_card: bool = True,
) -> dict:
    """Export an already-built DatasetDict as config `config_name` of the hub folder `output_dir`.

    Splits are written in the order of `dataset_dict`. Re-running after an
    interruption keeps the shards already written when nothing changed; an
    export that is already complete and identical is not rewritten. Returns the
    manifest: {"config_name", "fingerprint", "features", "splits": {split:
    {"num_examples", "num_bytes", "shards": [{"path", "num_examples",
    "num_bytes", "size"}]}}, "download_size", "dataset_size"}.
    """
    import datasets
    from tqdm.auto import tqdm

    output_dir = os.fspath(output_dir)
    config_name = str(config_name)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", config_name):
        raise ValueError(f"invalid config name {config_name!r}: use letters, digits, '_', '-' and '.'")
    if not dataset_dict:
        raise ValueError(f"nothing to export for config {config_name!r}: the DatasetDict has no split")
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise NotADirectoryError(f"output {output_dir} exists and is not a folder: choose another --output")
    features = None
    for split, dataset in dataset_dict.items():
        if not isinstance(dataset, datasets.Dataset):
            raise ValueError(f"split {split!r} is a {type(dataset).__name__}, not a datasets.Dataset")
        if features is not None and dataset.features != features:
            raise ValueError(f"split {split!r} has other features than the first split: one config, one schema")
        features = dataset.features
    if config_name == README_NAME:
        raise ValueError(f"invalid config name {config_name!r}: it is the card's file name")
    os.makedirs(output_dir, exist_ok=True)
    _recover_swap(output_dir, config_name)
    _check_owned(output_dir, config_name)
    _check_card_owned(output_dir)

    plans = plan_shards(dataset_dict, config_name, max_shard_size)
    fingerprint = _fingerprint(dataset_dict, plans)
    manifest = read_manifest(output_dir, config_name)
    if manifest is None or manifest.get("fingerprint") != fingerprint:
        manifest = _write_config(dataset_dict, output_dir, config_name, plans, fingerprint, num_proc, progress, tqdm)
    if update_card:
        write_card(output_dir)
    return manifest


def _write_config(dataset_dict, output_dir, config_name, plans, fingerprint, num_proc, progress, tqdm) -> dict:
    staging = _staging_dir(output_dir, config_name)
    written = _prepare_staging(staging, fingerprint, plans)
    todo = [p for p in plans if p.name not in written]
    plan_path = os.path.join(staging, PLAN_NAME)

    def record(plan: ShardPlan, info: dict) -> None:
        written[plan.name] = info
        # the plan file says which shards are complete; the shard itself was renamed into place before
        atomic_write_text(plan_path, json.dumps({"fingerprint": fingerprint, "written": written}))

    jobs = (
        (plan, (_shard_dataset(dataset_dict[plan.split], plan), os.path.join(staging, plan.name))) for plan in todo
    )
    bar = tqdm(total=len(plans), initial=len(plans) - len(todo), unit="shard",
               desc=f"Exporting config {config_name}", disable=not progress)
    if num_proc and num_proc > 1:
        from concurrent.futures import ProcessPoolExecutor as Executor

        width = num_proc
    else:
        # Two threads in one process: pyarrow, file reads and fsync release the GIL, so one shard's
        # flush to disk overlaps the next shard's writing (fsync alone was ~40% of a serial export).
        from concurrent.futures import ThreadPoolExecutor as Executor

        width = 2
    with bar, Executor(max_workers=max(1, min(width, len(todo)))) as executor:
        _run_window(executor, jobs, width, lambda plan, info: (record(plan, info), bar.update()))

    splits: dict[str, dict] = {}
    for plan in plans:
        info = written[plan.name]
        split = splits.setdefault(plan.split, {"num_examples": 0, "num_bytes": 0, "shards": []})
        split["num_examples"] += info["num_examples"]
        split["num_bytes"] += info["num_bytes"]
        split["shards"].append({"path": plan.path_in_repo, **info})
    features = next(iter(dataset_dict.values())).features
    manifest = {
        "format": FORMAT_VERSION,
        "config_name": config_name,
        "fingerprint": fingerprint,
        "features": features.to_dict(),
        "splits": splits,
        "download_size": sum(s["size"] for split in splits.values() for s in split["shards"]),
        "dataset_size": sum(split["num_bytes"] for split in splits.values()),
    }
    os.unlink(plan_path)
    atomic_write_text(os.path.join(staging, MANIFEST_NAME), json.dumps(manifest, indent=1))
    _swap_in(output_dir, config_name)
    return manifest


# -- README ---------------------------------------------------------------------------------------


def _card_entries(manifest: dict):
    """(configs entry, dataset_info entry) of the README YAML for one exported config."""
    import datasets

    config_name = manifest["config_name"]
    splits = datasets.SplitDict()
    for split, info in manifest["splits"].items():
        splits.add(datasets.SplitInfo(name=split, num_bytes=info["num_bytes"], num_examples=info["num_examples"]))
    info = datasets.DatasetInfo(
        features=datasets.Features.from_dict(manifest["features"]),
        splits=splits,
        download_size=manifest["download_size"],
        dataset_size=manifest["dataset_size"],
    )
    data_files = [{"split": split, "path": f"{config_name}/{split}-*"} for split in manifest["splits"]]
    return {"data_files": data_files}, info


def _config_sort_key(name: str):
    return (0, int(name), name) if name.isdigit() else (1, 0, name)


def write_card(output_dir: str | os.PathLike, *, pretty_name: str = "ImageNet-S") -> str:
    """(Re)write DIR/README.md: YAML listing every exported config, then the dataset card. Returns its path.

    Configs come from the manifests of DIR/<config>/ and, for configs without a
    folder here, from the existing README's YAML (kept as they are).
    """
    import yaml  # PyYAML, a dependency of datasets and huggingface_hub
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard, DatasetCardData

    output_dir = os.fspath(output_dir)
    readme = os.path.join(output_dir, README_NAME)
    if os.path.exists(readme):
        with open(readme, encoding="utf-8", newline="") as file:
            try:
                old_data = DatasetCard(file.read()).data.to_dict()
            except (ValueError, yaml.YAMLError) as error:  # not YAML, or not a mapping
                raise ValueError(f"cannot read the YAML header of {readme} ({error}): fix or delete that file") from None
    else:
        old_data = {}

    manifests = {}
    for name in os.listdir(output_dir):
        is_config_dir = not name.startswith(".") and os.path.isdir(os.path.join(output_dir, name))
        manifest = read_manifest(output_dir, name) if is_config_dir else None
        if manifest is not None and manifest.get("config_name") == name:
            manifests[name] = manifest

    configs, infos = {}, {}
    for name, manifest in manifests.items():
        configs[name], infos[name] = _card_entries(manifest)
    card_data = DatasetCardData(
        pretty_name=pretty_name,
        license="other",
        license_name="imagenet-terms-of-access",
        license_link="https://image-net.org/download.php",
        task_categories=["image-segmentation"],
        task_ids=["semantic-segmentation"],
        tags=["imagenet", "unsupervised-semantic-segmentation", "imagenet-s"],
    )
    # datasets' own YAML writers (push_to_hub's); merge_card_data then orders the configs and adds the old ones
    DatasetInfosDict(infos).to_dataset_card_data(card_data)
    MetadataConfigs(configs).to_dataset_card_data(card_data)
    atomic_write_text(readme, card_text(merge_card_data(card_data.to_dict(), old_data)))
    _make_readable(readme)
    return readme


def _entries_by_config(card_data: dict) -> tuple[dict[str, dict], dict[str, dict]]:
    """The `configs` and the `dataset_info` entries of a README's YAML (as a dict), each by config name."""
    infos = card_data.get("dataset_info") or []
    if isinstance(infos, dict):  # datasets writes a single config's info as a mapping, without a "default" name
        infos = [infos]
    by_name = ({}, {})
    for entries, found in zip((card_data.get("configs") or [], infos), by_name):
        for entry in entries:
            if isinstance(entry, dict):
                found[entry.get("config_name", "default")] = {k: v for k, v in entry.items() if k != "config_name"}
    return by_name


def merge_card_data(card_data: dict, kept: dict) -> dict:
    """`card_data` (a README's YAML as a dict) with the configs of `kept` (another one) that it does not list.

    Configs that both list take `card_data`'s entries; the others keep their
    `configs` and `dataset_info` entries from `kept` unchanged. Both lists come
    out in config order ("50", "300", "919", then other names), and
    size_categories counts the rows of the largest config of either.
    """
    configs, infos = _entries_by_config(card_data)
    kept_configs, kept_infos = _entries_by_config(kept)
    for name in kept_configs.keys() - configs.keys():
        configs[name] = kept_configs[name]
        if name in kept_infos:
            infos[name] = kept_infos[name]
    order = sorted(configs, key=_config_sort_key)
    infos = {name: infos[name] for name in order if name in infos}
    rows = [sum(split.get("num_examples", 0) for split in info.get("splits") or []) for info in infos.values()]
    return {
        **card_data,
        "size_categories": [_size_category(max(rows, default=0))],
        "dataset_info": [{"config_name": name, **info} for name, info in infos.items()],
        "configs": [{"config_name": name, **configs[name]} for name in order],
    }


def card_text(card_data: dict) -> str:
    """The text of README.md: `card_data` (the YAML as a dict) as its header, then the card rendered from it."""
    from huggingface_hub import DatasetCardData

    from .card import render_card

    return f"---\n{DatasetCardData(**card_data).to_yaml()}\n---\n" + render_card(card_data)


def _size_category(rows: int) -> str:
    for limit, label in ((10**3, "n<1K"), (10**4, "1K<n<10K"), (10**5, "10K<n<100K"), (10**6, "100K<n<1M")):
        if rows < limit:
            return label
    return "1M<n<10M"


# -- from ImageNet to the hub folder ---------------------------------------------------------------


def export(
    configs: str | Iterable[str],
    output_dir: str | os.PathLike,
    *,
    imagenet_dir: str | os.PathLike,
    annotations: str | os.PathLike | None = None,
    metadata_dir: str | os.PathLike | None = None,
    max_shard_size: int | str = DEFAULT_MAX_SHARD_SIZE,
    num_proc: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    allow_missing: bool = False,
) -> dict[str, dict]:
    """Build each ImageNet-S config from the user's ImageNet copy and export it into `output_dir`.

    `configs`: "50", "300", "919" or several of them; they share the folder and its README.
    `annotations`: the official zip or folder for that config (None downloads
    it; with several configs, pass None or a folder holding the official zips).
    `allow_missing`: skip images missing from the ImageNet copy (with a warning) instead of failing.
    Returns {config name: manifest} (see `export_dataset_dict`).
    """
    from .configs import get_config

    names = [configs] if isinstance(configs, (str, int)) else list(configs)
    if not names:
        raise ValueError("no config to export: name one or more of '50', '300', '919'")
    names = list(dict.fromkeys(get_config(name).name for name in names))  # validates, keeps order
    parse_size(max_shard_size)
    _check_card_owned(os.fspath(output_dir))  # before the (long) builds
    with _datasets_progress_bars(progress):
        return _export_configs(names, output_dir, imagenet_dir=imagenet_dir, annotations=annotations,
                               metadata_dir=metadata_dir, max_shard_size=max_shard_size, num_proc=num_proc,
                               cache_dir=cache_dir, progress=progress, allow_missing=allow_missing)


@contextlib.contextmanager
def _datasets_progress_bars(enabled: bool):
    """datasets' own bars (building, loading) follow `progress` too, and are restored afterwards."""
    from datasets.utils.tqdm import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_disabled = are_progress_bars_disabled()
    if not enabled:
        disable_progress_bars()
    try:
        yield
    finally:
        if not enabled and not was_disabled:
            enable_progress_bars()


def _export_configs(names, output_dir, *, imagenet_dir, annotations, metadata_dir, max_shard_size, num_proc,
                    cache_dir, progress, allow_missing=False) -> dict[str, dict]:
    from .loading import load_dataset

    # every config's annotations are resolved before the first (long) build
    annotations_of = {name: _annotations_for(annotations, name, several=len(names) > 1) for name in names}
    manifests = {}
    for name in names:
        dataset_dict = load_dataset(
            name,
            imagenet_dir=imagenet_dir,
            annotations=annotations_of[name],
            metadata_dir=metadata_dir,
            num_proc=num_proc,
            cache_dir=cache_dir,
            allow_missing=allow_missing,
        )
        manifests[name] = export_dataset_dict(
            dataset_dict, output_dir, name, max_shard_size=max_shard_size, num_proc=num_proc,
            progress=progress, update_card=False,
        )
        write_card(output_dir)  # after each config: an interrupted multi-config export keeps the finished ones listed
    return manifests


def _annotations_for(annotations, config_name: str, *, several: bool):
    """With several configs, `annotations` may be a folder holding every config's official zip."""
    if annotations is None or not several:
        return annotations
    from .configs import get_config

    spec = get_config(config_name)
    folder = os.fspath(annotations)
    if os.path.isdir(folder):
        for candidate in (spec.annotations_filename, f"{spec.top_folder}.zip", spec.top_folder):
            if os.path.exists(os.path.join(folder, candidate)):
                return os.path.join(folder, candidate)
    raise ValueError(
        f"--annotations {folder} is used for several configs: make it a folder holding "
        f"{spec.annotations_filename} (or {spec.top_folder}/) for config {config_name}, or export one config at a time"
    )
