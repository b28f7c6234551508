"""The official ImageNet-S pixel annotations: a zip read in place, or its extracted folder.

The zips are published with their MD5 in the file name
(ImageNetS50-a0fe9d82231f9bc4787ee76e304dfa51.zip); when no source is given the
config's zip is downloaded into the cache and its MD5 is checked. A zip is never
extracted: masks are read from it directly. An `Annotations` object is
picklable and reopens the zip in each process (zipfile handles are not
shareable across fork), so it can be handed to `datasets` worker processes.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import urllib.error
import urllib.request
import zipfile
import zlib

from ._io import file_digest
from .configs import ConfigSpec, get_config
from .metadata import default_cache_dir, is_offline

SPLIT_FOLDERS = ("validation-segmentation", "train-semi-segmentation")

_MD5_IN_NAME = re.compile(r"ImageNetS(\d+)-([0-9a-f]{32})\.zip$")


class Annotations:
    """Masks of one config, from a zip or a folder.

    Attributes:
        source: absolute path of the zip or folder.
        config: the config's spec.
    """

    def __init__(self, source: str, config: ConfigSpec, prefix: str, names: dict[str, frozenset[str]], is_zip: bool):
        self.source = source
        self.config = config
        self._prefix = prefix  # "ImageNetS50/" or "" inside the zip; the folder holding the split folders otherwise
        self._names = names
        self._is_zip = is_zip
        self._zip: zipfile.ZipFile | None = None
        self._zip_pid: int | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Annotations({self.source!r}, config={self.config.name!r})"

    @classmethod
    def open(cls, source: str | os.PathLike | None, config: str | ConfigSpec, *, cache_dir: str | None = None) -> "Annotations":
        """Open the annotations of `config`.

        Args:
            source: the official zip, an extracted folder (with or without its
                top ImageNetS<N>/ folder), or None to download the official zip
                (MD5-checked, cached under `cache_dir`, default the imagenets_hf cache).

        Raises:
            FileNotFoundError: `source` does not exist.
            ValueError: a zip of another config (by the MD5 in its name or its
                top folder), a corrupt zip, a folder without the split folders,
                a download whose MD5 does not match, or no source while offline.
        """
        spec = config if isinstance(config, ConfigSpec) else get_config(config)
        if source is None:
            path = download_annotations(spec, cache_dir=cache_dir)
        else:
            path = os.path.abspath(os.path.expanduser(os.fspath(source)))
        if os.path.isdir(path):
            return cls._open_folder(path, spec)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"annotations not found: {path}; give the official {spec.annotations_filename} "
                f"(from {spec.annotations_url}), its extracted folder, or nothing to download it"
            )
        return cls._open_zip(path, spec)

    @classmethod
    def _open_zip(cls, path: str, spec: ConfigSpec) -> "Annotations":
        match = _MD5_IN_NAME.search(os.path.basename(path))
        if match and (match.group(1) != spec.name or match.group(2) != spec.annotations_md5):
            raise ValueError(
                f"{path} is not the annotation zip of ImageNet-S config {spec.name}: its name carries MD5 "
                f"{match.group(2)} (config {match.group(1)}), config {spec.name}'s is {spec.annotations_md5} "
                f"({spec.annotations_filename}); give that zip or choose config {match.group(1)}"
            )
        try:
            with zipfile.ZipFile(path) as archive:
                members = [info.filename for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, OSError) as error:
            raise ValueError(f"{path}: not a readable zip ({error}); download {spec.annotations_url} again") from None
        prefix, names = _index(members, path, spec)
        return cls(path, spec, prefix, names, is_zip=True)

    @classmethod
    def _open_folder(cls, path: str, spec: ConfigSpec) -> "Annotations":
        for base in (path, os.path.join(path, spec.top_folder)):
            if any(os.path.isdir(os.path.join(base, folder)) for folder in SPLIT_FOLDERS):
                members = []
                for folder in SPLIT_FOLDERS:
                    top = os.path.join(base, folder)
                    if not os.path.isdir(top):
                        continue
                    with os.scandir(top) as classes:
                        for class_entry in classes:
                            if class_entry.is_dir():
                                with os.scandir(class_entry.path) as files:
                                    members.extend(f"{folder}/{class_entry.name}/{f.name}" for f in files)
                _, names = _index(members, path, spec)
                return cls(path, spec, base, names, is_zip=False)
        raise ValueError(
            f"{path} holds neither {' nor '.join(SPLIT_FOLDERS)} (directly or under {spec.top_folder}/); "
            f"give the extracted {spec.annotations_filename} or the zip itself"
        )

    # -- access ----------------------------------------------------------------

    def list(self, split_folder: str) -> list[str]:
        """Sorted mask relpaths "wnid/NAME.png" under `split_folder`."""
        return sorted(self._names[_check_split(split_folder)])

    def contains(self, split_folder: str, relpath: str) -> bool:
        return relpath in self._names[_check_split(split_folder)]

    def location(self, split_folder: str, relpath: str) -> str:
        """Human-readable location of a mask, for messages: "zip!member" or a file path."""
        if self._is_zip:
            return f"{self.source}!{self._prefix}{split_folder}/{relpath}"
        return os.path.join(self._prefix, split_folder, relpath)

    def read(self, split_folder: str, relpath: str) -> bytes:
        """The mask's PNG bytes, unchanged. FileNotFoundError naming the mask when absent."""
        if not self.contains(split_folder, relpath):
            raise FileNotFoundError(f"mask not found: {self.location(split_folder, relpath)}")
        if not self._is_zip:
            with open(os.path.join(self._prefix, split_folder, relpath), "rb") as file:
                return file.read()
        with self._lock:
            archive = self._archive()
            try:
                return archive.read(f"{self._prefix}{split_folder}/{relpath}")
            except (zipfile.BadZipFile, zlib.error, EOFError) as error:
                raise ValueError(
                    f"{self.location(split_folder, relpath)}: the zip is damaged ({error}); "
                    f"download {self.config.annotations_url} again"
                ) from None

    def _archive(self) -> zipfile.ZipFile:
        # a zip handle opened before a fork shares its file offset with the parent: reopen per process
        if self._zip is None or self._zip_pid != os.getpid():
            self._zip = zipfile.ZipFile(self.source)
            self._zip_pid = os.getpid()
        return self._zip

    def close(self) -> None:
        if self._zip is not None and self._zip_pid == os.getpid():
            self._zip.close()
        self._zip = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_zip"] = None
        state["_zip_pid"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()


def _check_split(split_folder: str) -> str:
    if split_folder not in SPLIT_FOLDERS:
        raise ValueError(f"unknown annotation folder {split_folder!r}: use one of {', '.join(SPLIT_FOLDERS)}")
    return split_folder


def _index(members: list[str], source: str, spec: ConfigSpec) -> tuple[str, dict[str, frozenset[str]]]:
    """(prefix, {split folder: relpaths}) of archive/folder members "[Top/]split-folder/wnid/NAME.png"."""
    names: dict[str, set[str]] = {folder: set() for folder in SPLIT_FOLDERS}
    prefixes = set()
    for member in members:
        if not member.endswith(".png") or member.startswith("__MACOSX/") or "/." in member:
            continue  # archive junk (macOS resource forks, hidden files)
        parts = member.split("/")
        for position, part in enumerate(parts[:-2]):
            if part in names and position == len(parts) - 3:
                names[part].add("/".join(parts[-2:]))
                prefixes.add("/".join(parts[:position]))
                break
    if not any(names.values()):
        raise ValueError(
            f"{source} holds no masks under {' or '.join(SPLIT_FOLDERS)}; it is not an ImageNet-S annotation archive "
            f"(expected {spec.annotations_filename})"
        )
    tops = {prefix.rsplit("/", 1)[-1] for prefix in prefixes if prefix}
    wrong = [top for top in tops if re.fullmatch(r"ImageNetS\d+", top) and top != spec.top_folder]
    if wrong:
        raise ValueError(
            f"{source} holds the annotations of {wrong[0]}, not {spec.top_folder}: give the annotations of "
            f"config {spec.name} ({spec.annotations_filename})"
        )
    if len(prefixes) > 1:
        raise ValueError(f"{source}: masks under several top folders ({', '.join(sorted(prefixes))}); give one config's annotations")
    prefix = next(iter(prefixes))
    return (prefix + "/" if prefix else ""), {folder: frozenset(values) for folder, values in names.items()}



def download_annotations(config: str | ConfigSpec, *, cache_dir: str | None = None) -> str:
    """Path of the config's official zip in the cache, downloading it (MD5-checked) on first use."""
    spec = config if isinstance(config, ConfigSpec) else get_config(config)
    folder = os.path.join(cache_dir or default_cache_dir(), "annotations")
    path = os.path.join(folder, spec.annotations_filename)
    if os.path.isfile(path):
        return path  # only ever renamed into place after its MD5 matched
    if is_offline():
        raise ValueError(
            f"the annotations of config {spec.name} are not in the cache ({path}) and offline mode is on; "
            f"give annotations= / --annotations (the zip {spec.annotations_filename} or its extracted folder), "
            "or go online to download them"
        )
    os.makedirs(folder, exist_ok=True)
    partial = path + f".{os.getpid()}.part"
    try:
        with urllib.request.urlopen(spec.annotations_url, timeout=60) as response, open(partial, "wb") as file:
            shutil.copyfileobj(response, file, 1 << 22)
    except (urllib.error.URLError, OSError) as error:
        if os.path.exists(partial):
            os.unlink(partial)
        raise ValueError(
            f"downloading {spec.annotations_url} failed ({error}); download it yourself and give its path "
            "with annotations= / --annotations"
        ) from None
    actual = file_digest(partial, "md5")
    if actual != spec.annotations_md5:
        os.unlink(partial)
        raise ValueError(
            f"downloaded {spec.annotations_filename} has MD5 {actual}, expected {spec.annotations_md5}: the download "
            f"is corrupt or incomplete; run again, or download {spec.annotations_url} yourself and give its path "
            "with annotations= / --annotations"
        )
    os.replace(partial, path)
    return path
