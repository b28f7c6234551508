"""Where masks and predictions are read from: folders, zips and prepared datasets.

Every source answers the same three questions about PNG masks named by their
relative path "wnid/NAME.png": which ones exist (`list`), whether one exists
(`contains`) and its file bytes (`read`). Sources are picklable and open their
zip or dataset lazily, so worker processes each get their own handle.

Layouts accepted:
- a prediction tree `<wnid>/<name>.png`, as a folder or a zip (the zip may wrap
  it in one top folder);
- the official annotations, zipped or extracted, holding
  `[ImageNetS<N>/]validation-segmentation/` and `train-semi-segmentation/`;
- a dataset prepared by the builder: its cache folder (printed by `imagenets-hf
  prepare`), a `DatasetDict.save_to_disk` folder or a folder of Parquet shards
  written by `imagenets-hf export`;
- a plain folder (or zip) of masks `<wnid>/<name>.png`.
"""

from __future__ import annotations

import glob
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Optional

MASK_SUFFIX = ".png"

SPLIT_FOLDERS = {
    # dataset split -> folder of its masks in the official annotations
    "validation": "validation-segmentation",
    "train_semi": "train-semi-segmentation",
}

_SKIPPED_PREFIXES = ("__MACOSX/", ".")


def split_folder(split: str) -> str:
    """The annotation folder of `split` ("validation" or "train_semi")."""
    if split not in SPLIT_FOLDERS:
        raise ValueError(f"unknown split {split!r}: use one of {', '.join(SPLIT_FOLDERS)}")
    return SPLIT_FOLDERS[split]


def mask_relpath(image_relpath: str) -> str:
    """"wnid/NAME.JPEG" (or "wnid/NAME") -> "wnid/NAME.png"."""
    stem, extension = os.path.splitext(image_relpath)
    if extension.lower() not in (".jpeg", ".jpg", ".png", ""):
        stem = image_relpath
    return stem + MASK_SUFFIX


# --------------------------------------------------------------------------- #
# Trees of PNG files in a folder or a zip
# --------------------------------------------------------------------------- #


@dataclass
class MaskTree:
    """PNG masks `<wnid>/<name>.png` below `prefix` of a folder or a zip.

    Attributes:
        location: the folder or zip file.
        prefix: path inside it where the `<wnid>/` folders start ("" or "top/").
        is_zip: whether `location` is a zip.
    """

    location: str
    prefix: str = ""
    is_zip: bool = False
    _zip: Optional[zipfile.ZipFile] = field(default=None, repr=False, compare=False)
    _names: Optional[frozenset] = field(default=None, repr=False, compare=False)

    def __getstate__(self):
        # an open zip handle cannot cross processes; each worker reopens it
        state = self.__dict__.copy()
        state["_zip"] = None
        state["_names"] = None
        return state

    def describe(self, relpath: str = "") -> str:
        """How to name `relpath` (or the tree) in a message a user can act on."""
        if self.is_zip:
            inner = self.prefix + relpath
            return f"{self.location}:{inner}" if inner else self.location
        return os.path.join(self.location, self.prefix, relpath) if relpath else os.path.join(self.location, self.prefix)

    def _archive(self) -> zipfile.ZipFile:
        if self._zip is None:
            self._zip = zipfile.ZipFile(self.location)
            self._names = frozenset(self._zip.namelist())
        return self._zip

    def list(self) -> list[str]:
        """Sorted relpaths "wnid/NAME.png" of every PNG two levels below the root."""
        return sorted(path for path in self.list_files() if path.lower().endswith(MASK_SUFFIX))

    def list_files(self) -> list[str]:
        """Relpaths "folder/file" of every file two levels below the root, PNG or not."""
        if self.is_zip:
            found = []
            for name in self._archive().namelist():
                if not name.startswith(self.prefix) or name.endswith("/"):
                    continue
                relpath = name[len(self.prefix):]
                parts = relpath.split("/")
                if len(parts) == 2 and not parts[1].startswith(".") and not name.startswith(_SKIPPED_PREFIXES):
                    found.append(relpath)
            return found
        root = os.path.join(self.location, self.prefix)
        found = []
        with os.scandir(root) as folders:
            for folder in folders:
                if folder.name.startswith(".") or not folder.is_dir():
                    continue
                with os.scandir(folder.path) as files:
                    found.extend(
                        f"{folder.name}/{entry.name}"
                        for entry in files
                        if not entry.name.startswith(".") and entry.is_file()
                    )
        return found

    def contains(self, relpath: str) -> bool:
        if self.is_zip:
            self._archive()
            return self.prefix + relpath in self._names
        return os.path.isfile(os.path.join(self.location, self.prefix, relpath))

    def read(self, relpath: str) -> bytes:
        """The file bytes of `relpath`; FileNotFoundError naming it when absent."""
        if self.is_zip:
            try:
                return self._archive().read(self.prefix + relpath)
            except KeyError:
                raise FileNotFoundError(f"{self.describe(relpath)} is not in the zip") from None
            except (zipfile.BadZipFile, zlib.error, EOFError) as error:
                raise ValueError(
                    f"{self.describe(relpath)}: the zip is damaged ({error}); copy or download {self.location} again"
                ) from None
        path = os.path.join(self.location, self.prefix, relpath)
        try:
            with open(path, "rb") as file:
                return file.read()
        except (FileNotFoundError, IsADirectoryError):
            raise FileNotFoundError(f"{path} not found") from None


def _zip_png_prefix(path: str, names: list[str]) -> str:
    """The prefix above `<wnid>/<name>.png` in a zip: "" or one top folder "top/"."""
    pngs = [n for n in names if n.lower().endswith(MASK_SUFFIX) and not n.startswith(_SKIPPED_PREFIXES)]
    if not pngs:
        raise ValueError(f"{path}: the zip holds no PNG file; predictions must be <wnid>/<name>.png")
    depths = {n.count("/") for n in pngs}
    if depths == {1}:
        return ""
    tops = {n.split("/", 1)[0] for n in pngs}
    if depths == {2} and len(tops) == 1:
        return tops.pop() + "/"
    example = sorted(pngs)[0]
    raise ValueError(
        f"{path}: layout not recognised (e.g. {example!r}); the zip must hold <wnid>/<name>.png, "
        "optionally inside one top folder"
    )


def _refuse_damaged_zip(path: str) -> None:
    """A file named .zip that zipfile cannot open is a damaged copy, not a wrong kind of input."""
    if path.lower().endswith(".zip"):
        raise ValueError(
            f"{path}: not a readable zip (truncated or damaged, e.g. an interrupted download or copy); "
            "copy or download it again"
        )


def open_predictions(path: str | os.PathLike) -> MaskTree:
    """Open a prediction folder or zip in the official layout `<wnid>/<name>.png`.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: not a folder or zip, or a zip in another layout.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        tree = MaskTree(path)
        if not tree.list():
            # a folder that wraps the tree in one top folder (e.g. an extracted zip)
            entries = [e for e in os.scandir(path) if not e.name.startswith(".")]
            if len(entries) == 1 and entries[0].is_dir() and MaskTree(path, entries[0].name + "/").list():
                return MaskTree(path, entries[0].name + "/")
            flat = [e.name for e in entries if e.is_file() and e.name.lower().endswith(MASK_SUFFIX)]
            if flat:
                raise ValueError(
                    f"{path}: holds PNGs directly (e.g. {flat[0]}) but predictions must be in class folders, "
                    "<wnid>/<name>.png, the layout of the ground-truth masks"
                )
        return tree
    if not os.path.exists(path):
        raise FileNotFoundError(f"predictions not found: {path}; give a folder or a zip of <wnid>/<name>.png")
    if not zipfile.is_zipfile(path):
        _refuse_damaged_zip(path)
        raise ValueError(f"{path}: predictions must be a folder or a .zip of <wnid>/<name>.png files")
    with zipfile.ZipFile(path) as archive:
        prefix = _zip_png_prefix(path, archive.namelist())
    return MaskTree(path, prefix, is_zip=True)


# --------------------------------------------------------------------------- #
# Prepared datasets (builder output)
# --------------------------------------------------------------------------- #

# per-process cache of opened prepared splits: (kind, location, split) -> reader
_PREPARED_CACHE: dict = {}


@dataclass
class PreparedSplit:
    """The `segmentation` column of one split of a dataset prepared by the builder.

    `kind` is "arrow" (a `DatasetDict.save_to_disk` folder), "cache" (the builder's
    cache folder, as `imagenets-hf prepare` prints it) or "parquet" (export shards). Masks are addressed by "wnid/NAME.png" = image_id + ".png".
    """

    location: str
    split: str
    kind: str
    files: tuple = ()
    column: str = "segmentation"
    _index: Optional[dict] = field(default=None, repr=False, compare=False)

    def __getstate__(self):
        # the index is rebuilt once in each worker (one cheap column read) rather than pickled
        state = self.__dict__.copy()
        state["_index"] = None
        return state

    def with_column(self, column: str, split: Optional[str] = None) -> "PreparedSplit":
        """The same dataset, another column (e.g. "image") and optionally another split."""
        split = split or self.split
        files = self.files
        if self.kind == "parquet" and split != self.split:
            files = _parquet_shards(self.location, split)
            if not files:
                raise ValueError(f"{self.location}: no Parquet shards of split {split!r} ({split}-*.parquet)")
        if self.kind == "cache" and split != self.split:
            files = _cache_files(self.location, split)
            if not files:
                raise ValueError(f"{self.location}: no Arrow file of split {split!r} (*-{split}.arrow)")
        return PreparedSplit(self.location, split, self.kind, files, column)

    def describe(self, relpath: str = "") -> str:
        where = f"{self.location} (split {self.split!r})"
        return f"{where}: {relpath}" if relpath else where

    def _dataset(self):
        key = ("arrow", self.location, self.split)
        if key not in _PREPARED_CACHE:
            import datasets

            if self.kind == "cache":
                # the builder's cache folder (`imagenets-hf prepare`): one or more Arrow files per split
                loaded = datasets.concatenate_datasets([datasets.Dataset.from_file(file) for file in self.files])
            else:
                loaded = datasets.load_from_disk(self.location)
            if isinstance(loaded, datasets.DatasetDict):
                if self.split not in loaded:
                    raise ValueError(
                        f"{self.location}: the prepared dataset has no split {self.split!r} "
                        f"(it has {', '.join(loaded)}); pass --split with one of them"
                    )
                loaded = loaded[self.split]
            _PREPARED_CACHE[key] = loaded.with_format("arrow")
        return _PREPARED_CACHE[key]

    def _parquet_column(self, file: str, column: str):
        key = ("parquet", file, column)
        if key not in _PREPARED_CACHE:
            import pyarrow.parquet as pq

            # keep only the last few shards: a worker walks the items in order
            for old in [k for k in _PREPARED_CACHE if k[0] == "parquet"][:-2]:
                del _PREPARED_CACHE[old]
            _PREPARED_CACHE[key] = pq.read_table(file, columns=[column]).column(column)
        return _PREPARED_CACHE[key]

    def label_names(self) -> Optional[list]:
        """The names of the dataset's `label` ClassLabel (["other", wnid, ...]), None if it has none."""
        if self.kind in ("arrow", "cache"):
            feature = self._dataset().features.get("label")
            return list(feature.names) if hasattr(feature, "names") else None
        import json

        import pyarrow.parquet as pq

        metadata = pq.read_schema(self.files[0]).metadata or {}
        try:
            feature = json.loads(metadata[b"huggingface"])["info"]["features"]["label"]
        except (KeyError, ValueError, TypeError):
            return None
        return list(feature["names"]) if isinstance(feature, dict) and "names" in feature else None

    def index(self) -> dict:
        """relpath "wnid/NAME.png" -> (file number, row) for every example of the split."""
        if self._index is None:
            index = {}
            if self.kind in ("arrow", "cache"):
                dataset = self._dataset()
                if "image_id" not in dataset.column_names or self.column not in dataset.column_names:
                    raise ValueError(
                        f"{self.describe()}: has no 'image_id' and {self.column!r} columns; "
                        "give a dataset prepared by imagenets-hf"
                    )
                ids = dataset.data.column("image_id").to_pylist()
                index = {mask_relpath(image_id): (0, row) for row, image_id in enumerate(ids)}
            else:
                for number, file in enumerate(self.files):
                    ids = self._parquet_column(file, "image_id").to_pylist()
                    for row, image_id in enumerate(ids):
                        index[mask_relpath(image_id)] = (number, row)
            self._index = index
        return self._index

    def list(self) -> list[str]:
        return sorted(self.index())

    def contains(self, relpath: str) -> bool:
        return relpath in self.index()

    def read(self, relpath: str) -> bytes:
        if relpath not in self.index():
            raise FileNotFoundError(f"{self.describe(relpath)}: no example with this image_id")
        number, row = self.index()[relpath]
        if self.kind in ("arrow", "cache"):
            value = self._dataset().data.column(self.column)[row].as_py()
        else:
            value = self._parquet_column(self.files[number], self.column)[row].as_py()
        if not value or value.get("bytes") is None:
            if value and value.get("path") and os.path.isfile(value["path"]):
                with open(value["path"], "rb") as file:
                    return file.read()
            raise ValueError(f"{self.describe(relpath)}: the example has no {self.column}")
        return value["bytes"]

    def open(self, relpath: str):
        import io

        return io.BytesIO(self.read(relpath))


def _parquet_shards(path: str, split: str) -> tuple:
    """Parquet files of `split` directly in `path`: `<split>-*.parquet` or `<split>/*.parquet`."""
    return tuple(
        sorted(glob.glob(os.path.join(path, f"{split}-*.parquet")) + glob.glob(os.path.join(path, split, "*.parquet")))
    )


def _cache_files(path: str, split: str) -> tuple:
    """Arrow files of `split` in a `datasets` builder cache folder (the one `imagenets-hf prepare` prints)."""
    if not os.path.isfile(os.path.join(path, "dataset_info.json")):
        return ()
    single = glob.glob(os.path.join(path, f"*-{split}.arrow"))
    shards = glob.glob(os.path.join(path, f"*-{split}-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9].arrow"))
    return tuple(sorted(single + shards))


def _prepared_folders(path: str, config: Optional[str]) -> list:
    """Where a prepared config may sit below `path`: `path/<config>/` (an export of
    several configs), `path/data/` (hub layout), or `path` itself."""
    folders = [os.path.join(path, config)] if config else []
    return folders + [os.path.join(path, "data"), path]


def open_prepared(path: str | os.PathLike, split: str, config: Optional[str] = None) -> PreparedSplit:
    """A split of a prepared dataset folder (save_to_disk or Parquet export)."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"prepared dataset not found: {path}; give the folder written by imagenets-hf")
    prepared = _find_prepared(path, split, config)
    if prepared is None:
        raise ValueError(
            f"{path}: not a prepared dataset (no dataset_dict.json, state.json or {split} Parquet shards); "
            "give the folder written by `imagenets-hf prepare` or `imagenets-hf export`"
        )
    return prepared


def _find_prepared(path: str, split: str, config: Optional[str] = None) -> Optional[PreparedSplit]:
    """A PreparedSplit if `path` is a save_to_disk folder or a folder of Parquet shards."""
    for folder in _prepared_folders(path, config):
        if os.path.isfile(os.path.join(folder, "dataset_dict.json")) or os.path.isfile(
            os.path.join(folder, "state.json")
        ):
            return PreparedSplit(folder, split, "arrow")
        shards = _parquet_shards(folder, split)
        if shards:
            return PreparedSplit(folder, split, "parquet", shards)
        cached = _cache_files(folder, split)
        if cached:
            return PreparedSplit(folder, split, "cache", cached)
    found = sorted(glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True))
    if found:
        raise ValueError(
            f"{path}: holds Parquet files (e.g. {os.path.relpath(found[0], path)}) but no shards of split "
            f"{split!r}" + (f" of config {config}" if config else "")
            + f" (expected {config or '<config>'}/{split}-*.parquet); pass --split, the right config or folder"
        )
    return None


# --------------------------------------------------------------------------- #
# Ground truth
# --------------------------------------------------------------------------- #


@dataclass
class GroundTruth:
    """Ground-truth masks and what kind of source they came from.

    `official` is True for the official annotations and prepared datasets (their
    image list comes from the metadata), False for a plain folder of masks (every
    PNG in it is evaluated).
    """

    source: object  # MaskTree | PreparedSplit
    official: bool
    kind: str  # "annotations-zip", "annotations-folder", "prepared", "mask-folder", "mask-zip"


def _official_prefix_in_zip(names: list[str], folder: str) -> Optional[str]:
    for name in names:
        parts = name.split("/")
        for depth in (0, 1):
            if len(parts) > depth + 1 and parts[depth] == folder:
                return "/".join(parts[: depth + 1]) + "/"
    return None


def _check_annotations_config(top_folder: str, config: Optional[str], path: str) -> None:
    """Official annotations of another config (top folder ImageNetS<M>) carry M's class ids: refuse them."""
    match = re.fullmatch(r"ImageNetS(\d+)", top_folder)
    if config is not None and match and match.group(1) != config:
        raise ValueError(
            f"{path} holds the annotations of config {match.group(1)} ({top_folder}/), whose masks use that "
            f"config's class ids; give the annotations of config {config} (ImageNetS{config}/), "
            f"or evaluate config {match.group(1)}"
        )


def open_ground_truth(path: str | os.PathLike, split: str = "validation", config: Optional[str] = None) -> GroundTruth:
    """Open ground truth: official zip or folder, prepared dataset, or plain mask folder/zip.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: the split's masks are not in it, or the format is not recognised.
    """
    path = os.fspath(path)
    folder = split_folder(split)
    other = [f for f in SPLIT_FOLDERS.values() if f != folder]
    if os.path.isdir(path):
        prepared = _find_prepared(path, split, config)
        if prepared is not None:
            return GroundTruth(prepared, True, "prepared")
        candidates = [os.path.join(path, folder)] + sorted(glob.glob(os.path.join(path, "*", folder)))
        for candidate in candidates:
            if os.path.isdir(candidate):
                top = os.path.dirname(candidate)
                _check_annotations_config(os.path.basename(os.path.abspath(top)), config, path)
                return GroundTruth(MaskTree(top, folder + "/"), True, "annotations-folder")
        if any(os.path.isdir(os.path.join(path, f)) or glob.glob(os.path.join(path, "*", f)) for f in other):
            raise ValueError(
                f"{path}: holds official annotations but no {folder}/ for split {split!r}; "
                "pass the right --split or the complete annotation folder"
            )
        return GroundTruth(MaskTree(path), False, "mask-folder")
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"ground truth not found: {path}; give the official annotation zip, an extracted folder, "
            "a prepared dataset or a folder of <wnid>/<name>.png masks"
        )
    if not zipfile.is_zipfile(path):
        _refuse_damaged_zip(path)
        raise ValueError(
            f"{path}: ground truth must be a zip or a folder (official annotations, prepared dataset "
            "or <wnid>/<name>.png masks)"
        )
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    prefix = _official_prefix_in_zip(names, folder)
    if prefix is not None:
        _check_annotations_config(prefix.split("/")[0] if prefix.count("/") > 1 else "", config, path)
        return GroundTruth(MaskTree(path, prefix, is_zip=True), True, "annotations-zip")
    if any(_official_prefix_in_zip(names, f) for f in other):
        raise ValueError(
            f"{path}: the annotation zip has no {folder}/ for split {split!r}; pass the right --split"
        )
    return GroundTruth(MaskTree(path, _zip_png_prefix(path, names), is_zip=True), False, "mask-zip")


# --------------------------------------------------------------------------- #
# Names lists
# --------------------------------------------------------------------------- #


def read_names_list(path: str | os.PathLike) -> list[str]:
    """Mask relpaths "wnid/NAME.png" from a names list in the official format.

    Each non-empty line is "wnid/NAME.JPEG wnid/NAME.png" (image, then mask); a
    line with a single path is taken as the mask (or image) path.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line that is not in this format (the message gives its number).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"names list not found: {path}")
    with open(path, encoding="utf-8") as file:
        lines = file.read().splitlines()
    relpaths = []
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) > 2 or fields[-1].count("/") != 1:
            raise ValueError(
                f"{path}, line {number}: {line!r} is not in the names-list format "
                "'wnid/NAME.JPEG wnid/NAME.png'"
            )
        relpaths.append(mask_relpath(fields[-1]))
    if not relpaths:
        raise ValueError(f"{path}: the names list is empty")
    return relpaths
