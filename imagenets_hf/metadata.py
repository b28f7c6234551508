"""The ImageNet-S metadata lists: which images make up each split of a config.

The lists come from the authors' repository (folder data/ of LUSSeg/ImageNet-S at
a pinned commit). They are read from a local folder laid out like that data/
folder when the user names one (argument or env IMAGENETS_METADATA_DIR), else
downloaded once from the pinned commit, checked against the sha256 table below
and cached. A local folder is parsed strictly but not checksum-checked, so that
fake metadata (imagenets_hf.testing) loads too.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import cached_property

from ._io import atomic_write_bytes, file_digest
from .configs import MERGED_SYNSETS, ConfigSpec, get_config

METADATA_ENV = "IMAGENETS_METADATA_DIR"
CACHE_ENV = "IMAGENETS_HF_CACHE"

PINNED_COMMIT = "b2312ba7396151f883362bdc86d71469aa81066e"
RAW_BASE_URL = f"https://raw.githubusercontent.com/LUSSeg/ImageNet-S/{PINNED_COMMIT}/data/"

# What each list is, as a path template inside the authors' data/ folder; {n} is the config name.
LIST_FILES: dict[str, str] = {
    "categories": "categories/ImageNetS_categories_im{n}.txt",
    "validation_mapping": "mapping/ImageNetS_im{n}_mapping_validation.txt",
    "test_mapping": "mapping/ImageNetS_im{n}_mapping_test.txt",
    "validation_names": "names/ImageNetS_im{n}_validation.txt",
    "train_semi_names": "names/ImageNetSemi_im{n}_train.txt",
}

# sha256 of every file at the pinned commit; a download that does not match is refused.
SHA256: dict[str, str] = {
    "categories/ImageNetS_categories_im300.txt": "9327409a512019ff7be95354f33daf2735852c04fecd0ac261790ce23e4115ca",
    "categories/ImageNetS_categories_im50.txt": "cba1701f5d94bf0dfbb40f2d529daab362dff552b9bfcea4bcdddbb5fcf762ad",
    "categories/ImageNetS_categories_im919.txt": "b2ee89cf2d5def583dcea806b8cc99def3d9bb7355ae981fc4c986c6d8dec1da",
    "mapping/ImageNetS_im300_mapping_test.txt": "94f26c4bc8c1acf4b2756138055c621df01b064094d863289cd3d6c81476cb64",
    "mapping/ImageNetS_im300_mapping_validation.txt": "d887652204f140a57775740f000ea7660f7e34a458d7bcfcf9b3898501351482",
    "mapping/ImageNetS_im50_mapping_test.txt": "27b06a0b774f2a47b7660cee64187bf051ed98b734a0402f4b0c00e04f1dcbb4",
    "mapping/ImageNetS_im50_mapping_validation.txt": "d51e06461f83d3742527768a86e7cb2543adad64ba273cd22dfb27d57ea02458",
    "mapping/ImageNetS_im919_mapping_test.txt": "b2e60b72dafe47c71ba3d912d912dce5d4b612aae60ee6dfbdd95d780133dd61",
    "mapping/ImageNetS_im919_mapping_validation.txt": "52de0512c75cd04289f1b5be7fe2aad932a6f6e47288947d63e724985c5904b3",
    "names/ImageNetS_im300_validation.txt": "36f9cbe4b3be25ccf6875e1627347d084ddd5a19971ff167ede5f8eafa4a3a41",
    "names/ImageNetS_im50_validation.txt": "683614c6dd07d508e26862b24b3bcffccb919e50ee1ad1d14eb0e809ba8ee979",
    "names/ImageNetS_im919_validation.txt": "76b5e5ca74b4270568d8197a6aa7bf1c658859da84966d9308d11263fda9a83c",
    "names/ImageNetSemi_im300_train.txt": "05f032374bd7a9a81213828940809e09e1eeedc5b43d78a4e41c1d64cb7e492a",
    "names/ImageNetSemi_im50_train.txt": "830e654142938b28f8856951bc4b264018cc1c13bf577777bb1359cf37a7f969",
    "names/ImageNetSemi_im919_train.txt": "d8a33edfeda5ea6a302fbf5bfc41735dc6b8f3d525a7dfc09bc5cb39d6ec44db",
}

WNID = re.compile(r"n\d{8}")
_IMAGE_PATH = r"n\d{8}/[A-Za-z0-9_]+\.JPEG"
# One pattern per kind of line: (pattern, what a line should look like, for the error message).
_LINE_FORMATS: dict[str, tuple[re.Pattern, str]] = {
    "categories": (re.compile(r"n\d{8}"), "a WordNet id such as n01443537"),
    "mapping": (
        re.compile(rf"{_IMAGE_PATH} {_IMAGE_PATH}"),
        '"SRC DST", e.g. "n01443537/ILSVRC2012_val_00004677.JPEG n01443537/ILSVRC2012_val_00004677.JPEG"',
    ),
    "names": (
        re.compile(rf"{_IMAGE_PATH} n\d{{8}}/[A-Za-z0-9_]+\.png"),
        '"IMAGE MASK", e.g. "n01443537/n01443537_23292.JPEG n01443537/n01443537_23292.png"',
    ),
}


def default_cache_dir() -> str:
    """Where downloads are cached: env IMAGENETS_HF_CACHE, else <huggingface cache>/imagenets_hf."""
    if os.environ.get(CACHE_ENV):
        return os.path.abspath(os.path.expanduser(os.environ[CACHE_ENV]))
    try:
        from huggingface_hub.constants import HF_HOME
    except ImportError:  # pragma: no cover - huggingface_hub is a dependency
        HF_HOME = os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return os.path.join(HF_HOME, "imagenets_hf")


def is_offline() -> bool:
    """True when the Hugging Face offline switches are set (then nothing is downloaded)."""
    return any(
        os.environ.get(name, "").strip().upper() in ("1", "ON", "YES", "TRUE")
        for name in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE", "IMAGENETS_HF_OFFLINE")
    )


@dataclass(frozen=True)
class Metadata:
    """The lists of one config.

    Attributes:
        config: the config's spec.
        categories: sorted wnids; class id i is categories[i - 1] (0 is "other").
        validation_mapping, test_mapping: (SRC, DST) image relpaths; SRC is the
            image's place in a class-folder ImageNet val folder, DST's folder is
            its ImageNet-S class.
        validation_names, train_semi_names: (image relpath, mask relpath).
        source: the folder or cache the lists were read from.
    """

    config: ConfigSpec
    categories: tuple[str, ...]
    validation_mapping: tuple[tuple[str, str], ...]
    test_mapping: tuple[tuple[str, str], ...]
    validation_names: tuple[tuple[str, str], ...]
    train_semi_names: tuple[tuple[str, str], ...]
    source: str = ""

    @property
    def label_names(self) -> list[str]:
        """ClassLabel names: "other" then the wnids, so a label equals its mask class id."""
        return ["other", *self.categories]

    @cached_property
    def _class_ids(self) -> dict[str, int]:
        return {wnid: index + 1 for index, wnid in enumerate(self.categories)}

    def class_id(self, wnid: str) -> int:
        """Class id (1..N) of an ImageNet-S class; ValueError for a wnid outside the config."""
        try:
            return self._class_ids[wnid]
        except KeyError:
            raise ValueError(f"{wnid!r} is not a class of ImageNet-S config {self.config.name}") from None

    def train_sources(self, wnid: str) -> tuple[str, ...]:
        """ImageNet train folders pooled into class `wnid` (itself, plus merged synsets in config 919)."""
        if not self.config.merges_synsets:
            return (wnid,)
        return (wnid, *sorted(source for source, target in MERGED_SYNSETS.items() if target == wnid))


def list_paths(config: str | ConfigSpec) -> dict[str, str]:
    """Relative path (inside the authors' data/ folder) of each list of a config."""
    spec = config if isinstance(config, ConfigSpec) else get_config(config)
    return {kind: template.format(n=spec.name) for kind, template in LIST_FILES.items()}


def load_metadata(
    config: str | int | ConfigSpec, metadata_dir: str | os.PathLike | None = None, *, cache_dir: str | None = None
) -> Metadata:
    """Load the lists of a config.

    Args:
        config: "50", "300" or "919".
        metadata_dir: a folder laid out like the authors' data/ folder
            (categories/, mapping/, names/). Defaults to env
            IMAGENETS_METADATA_DIR, else the lists are downloaded from the
            pinned commit (sha256-checked) and cached.
        cache_dir: download cache (default `default_cache_dir()`).

    Raises:
        FileNotFoundError: a list is missing from the folder.
        ValueError: a malformed line (names file and line), a download whose
            checksum does not match, or no folder while offline.
    """
    spec = config if isinstance(config, ConfigSpec) else get_config(config)
    if metadata_dir is None and os.environ.get(METADATA_ENV):
        metadata_dir = os.environ[METADATA_ENV]
    paths = list_paths(spec)
    if metadata_dir is not None:
        folder = os.path.abspath(os.path.expanduser(os.fspath(metadata_dir)))
        if not os.path.isdir(folder):
            from_env = os.environ.get(METADATA_ENV)
            if from_env and os.path.abspath(os.path.expanduser(from_env)) == folder:
                # the user may not remember setting it: say where the path came from
                raise FileNotFoundError(
                    f"metadata folder not found: {folder} (from env {METADATA_ENV}); fix or unset {METADATA_ENV}, "
                    "or give --metadata-dir, a folder laid out like the data/ folder of LUSSeg/ImageNet-S"
                )
            raise FileNotFoundError(
                f"metadata folder not found: {folder}; give a folder laid out like the data/ folder of "
                "LUSSeg/ImageNet-S (categories/, mapping/, names/), or none to download the lists"
            )
        missing = [os.path.join(folder, p) for p in paths.values() if not os.path.isfile(os.path.join(folder, p))]
        if missing:
            raise FileNotFoundError(
                f"metadata folder {folder} lacks {len(missing)} list(s) of config {spec.name}: "
                + ", ".join(missing)
                + " (expected the layout of the data/ folder of LUSSeg/ImageNet-S)"
            )
        files = {kind: os.path.join(folder, p) for kind, p in paths.items()}
    else:
        folder = os.path.join(cache_dir or default_cache_dir(), "metadata", PINNED_COMMIT)
        files = {kind: _fetch(p, folder) for kind, p in paths.items()}
    texts = {kind: _read_text(path) for kind, path in files.items()}
    metadata = Metadata(
        config=spec,
        categories=tuple(_parse(texts["categories"], files["categories"], "categories")),
        validation_mapping=tuple(_parse(texts["validation_mapping"], files["validation_mapping"], "mapping")),
        test_mapping=tuple(_parse(texts["test_mapping"], files["test_mapping"], "mapping")),
        validation_names=tuple(_parse(texts["validation_names"], files["validation_names"], "names")),
        train_semi_names=tuple(_parse(texts["train_semi_names"], files["train_semi_names"], "names")),
        source=folder,
    )
    _check_consistency(metadata, files)
    return metadata


def _read_text(path: str) -> str:
    with open(path, "rb") as file:
        data = file.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error}); replace it with the file from LUSSeg/ImageNet-S") from None


def _parse(text: str, path: str, kind: str) -> list:
    pattern, expected = _LINE_FORMATS[kind]
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue  # a trailing newline or blank line carries no entry
        if not pattern.fullmatch(line):
            raise ValueError(
                f"{path}, line {number}: malformed line {line[:80]!r}; expected {expected}. "
                "Replace the file with the one from LUSSeg/ImageNet-S"
            )
        rows.append(line if kind == "categories" else tuple(line.split(" ")))
    if not rows:
        raise ValueError(f"{path}: the list is empty; replace it with the file from LUSSeg/ImageNet-S")
    return rows


def _check_consistency(metadata: Metadata, files: dict[str, str]) -> None:
    categories = metadata.categories
    if list(categories) != sorted(set(categories)):
        raise ValueError(f"{files['categories']}: the wnids must be sorted and unique (class id = line number)")
    classes = set(categories)
    checks = (
        ("validation_mapping", 1),
        ("test_mapping", 1),
        ("validation_names", 0),
        ("train_semi_names", 0),
    )
    for kind, column in checks:
        rows = getattr(metadata, kind)
        for number, row in enumerate(rows, start=1):
            folder = row[column].split("/", 1)[0]
            if folder not in classes:
                raise ValueError(
                    f"{files[kind]}, entry {number}: {row[column]!r} is in folder {folder}, "
                    f"which is not a class of config {metadata.config.name} ({files['categories']})"
                )
        seen = {row[column] for row in rows}
        if len(seen) != len(rows):
            raise ValueError(f"{files[kind]}: an image is listed twice; replace it with the file from LUSSeg/ImageNet-S")



def _fetch(relpath: str, folder: str) -> str:
    """The cached copy of list `relpath`, downloaded and sha256-checked on first use."""
    path = os.path.join(folder, relpath)
    expected = SHA256[relpath]
    if os.path.isfile(path) and file_digest(path, "sha256") == expected:
        return path
    url = RAW_BASE_URL + relpath
    if is_offline():
        raise ValueError(_offline_message(relpath, "offline mode is on (HF_DATASETS_OFFLINE / HF_HUB_OFFLINE)"))
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as error:
        raise ValueError(_offline_message(relpath, f"downloading {url} failed ({error})")) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ValueError(
            f"downloaded {relpath} from {url} has sha256 {actual}, expected {expected}; "
            "the download was corrupted or altered: retry, or give a clone of LUSSeg/ImageNet-S's data/ folder "
            f"with metadata_dir= / --metadata-dir / env {METADATA_ENV}"
        )
    atomic_write_bytes(path, data)
    return path


def _offline_message(relpath: str, reason: str) -> str:
    return (
        f"cannot get the ImageNet-S list {relpath}: {reason}. Either give a local copy of the data/ folder of "
        f"LUSSeg/ImageNet-S (commit {PINNED_COMMIT}) with metadata_dir= / --metadata-dir or env {METADATA_ENV}, "
        "or go online so that the lists can be downloaded (they are cached afterwards)"
    )
