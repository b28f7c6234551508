"""The user's ImageNet-1k copy: detect its layout, find the files ImageNet-S needs.

Accepted layouts (the LAYOUTS table, walked in order; extracted folders win
over archives when both are present):
- "class_folders": train/<wnid>/<wnid>_<n>.JPEG and val/<wnid>/ILSVRC2012_val_*.JPEG
- "flat_val": the same train/ and a flat val/ILSVRC2012_val_*.JPEG
- "kaggle": ILSVRC/Data/CLS-LOC/{train,val}/ (also from inside ILSVRC/ or Data/)
- "archives": the original ILSVRC2012_img_train.tar (a tar of per-class tars
  <wnid>.tar) and ILSVRC2012_img_val.tar (flat), read in place, never extracted.

Nothing is copied or modified. Folders are listed once each with os.scandir
(no per-file stat), and only the folders a config needs are listed, so a full
train tree is resolved in well under a second per thousand classes. Archives
are indexed by walking their tar headers (tarfile seeks from header to header,
image data is never read), only the per-class tars a config needs, and the
index is cached under the imagenets_hf cache keyed by the archive's real path,
size and mtime; images are then read with one os.pread each, bytes unchanged.

Val images are found by file name (ILSVRC2012_val_XXXXXXXX.JPEG names are
unique), so class-folder and flat val directories both work. Train images live
in train/<wnid>/<wnid>_<n>.JPEG (or <wnid>.tar/<wnid>_<n>.JPEG) in every layout.

For the archives layout there is no file path to return: the path methods
(`val_path`, `train_path`, `train_paths`, `find_val`, `find_train`) return
`ArchiveMember`s instead, which are the image's address (archive, offset,
size), read its bytes (`read_bytes`) and are read-only binary file objects
(`PIL.Image.open(member)` works). `read_image_bytes` reads either kind.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import tarfile
import threading
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

from ._io import atomic_write_text

logger = logging.getLogger(__name__)

# Image file extensions found in ImageNet folders (the real train set has a few
# PNG and CMYK files, all named .JPEG; anything else in a folder is ignored).
IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png")


@dataclass(frozen=True)
class Layout:
    """A way ImageNet is laid out on disk: train and val folders (or archives) relative to the root."""

    name: str
    train: str
    val: str
    description: str
    archives: bool = False  # train and val are tar files read in place, not folders


# One table, walked in order by `ImageNetSource.discover`; "class_folders" vs
# "flat_val" is decided after the table match by looking inside val/. Folders
# come first: with both an extracted copy and the archives, the folders win
# (no index to build, images referenced by path).
LAYOUTS: tuple[Layout, ...] = (
    Layout("kaggle", "ILSVRC/Data/CLS-LOC/train", "ILSVRC/Data/CLS-LOC/val", "Kaggle: ILSVRC/Data/CLS-LOC/{train,val}"),
    Layout("kaggle", "Data/CLS-LOC/train", "Data/CLS-LOC/val", "Kaggle, from inside ILSVRC/: Data/CLS-LOC/{train,val}"),
    Layout("kaggle", "CLS-LOC/train", "CLS-LOC/val", "Kaggle, from inside ILSVRC/Data/: CLS-LOC/{train,val}"),
    Layout("class_folders", "train", "val", "train/<wnid>/*.JPEG and val/ (class folders or flat)"),
    Layout(
        "archives", "ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar",
        "the original archives ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar", archives=True,
    ),
)

ARCHIVES = tuple(name for layout in LAYOUTS if layout.archives for name in (layout.train, layout.val))

INDEX_FOLDER = "archive-index"  # under metadata.default_cache_dir()
MAX_OPEN_ARCHIVES = 8  # read descriptors kept open per process


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")


class ImageNetSource:
    """Where the images of one ImageNet copy are.

    Build with `ImageNetSource.discover(imagenet_dir)`. Paths returned are absolute;
    for the archives layout discover returns an `ArchiveSource`, whose path
    methods return `ArchiveMember`s (check `is_archive`).
    Picklable (listings are rebuilt lazily in each process if needed).
    """

    is_archive = False  # images live in files of their own (paths can be referenced)

    def __init__(self, root: str, layout: str, train_dir: str, val_dir: str):
        self.root = root
        self.layout = layout
        self.train_dir = train_dir
        self.val_dir = val_dir
        self._train_listings: dict[str, tuple[str, ...] | None] = {}
        self._val_index: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"ImageNetSource(root={self.root!r}, layout={self.layout!r})"

    @classmethod
    def discover(cls, imagenet_dir: str | os.PathLike) -> "ImageNetSource":
        """Detect the layout of `imagenet_dir` (cheap: archives are indexed when first needed).

        Raises:
            FileNotFoundError: the folder does not exist, holds no accepted
                layout (the message lists every path that was looked for), or
                holds only part of one (e.g. one of the two archives: named).
        """
        root = os.path.abspath(os.path.expanduser(os.fspath(imagenet_dir)))
        if os.path.isfile(root):
            raise NotADirectoryError(
                f"--imagenet-dir {root} is a file, not a folder: give the folder that holds train/ and val/"
            )
        if not os.path.isdir(root):
            raise FileNotFoundError(f"ImageNet folder not found: {root}; give the folder that holds train/ and val/")
        partial = []
        for layout in LAYOUTS:
            exists = os.path.isfile if layout.archives else os.path.isdir
            train_dir, val_dir = os.path.join(root, layout.train), os.path.join(root, layout.val)
            found = [path for path in (train_dir, val_dir) if exists(path)]
            if len(found) == 2:
                if layout.archives:
                    return ArchiveSource(root, layout.name, train_dir, val_dir)
                name = layout.name
                if name == "class_folders" and not _has_subfolders(val_dir):
                    name = "flat_val"
                return cls(root, name, train_dir, val_dir)
            if found and layout.archives:
                partial.append((layout, found[0], train_dir if found[0] == val_dir else val_dir))
        if partial:
            layout, present, absent = partial[0]
            raise FileNotFoundError(
                f"{root} holds {os.path.basename(present)} but not {os.path.basename(absent)}: the {layout.name} "
                f"layout needs both ({layout.description}); put {absent} next to it, or give a folder holding "
                "the extracted train/ and val/"
            )
        expected = "; ".join(
            f"{layout.description}: {os.path.join(root, layout.train)} and {os.path.join(root, layout.val)}"
            for layout in LAYOUTS
        )
        raise FileNotFoundError(f"no ImageNet found in {root}: looked for {expected}")

    # -- train ---------------------------------------------------------------

    def _train_listing(self, wnid: str) -> tuple[str, ...] | None:
        """Sorted image file names of train/<wnid>/ (None when the folder is missing), listed once."""
        if wnid not in self._train_listings:
            try:
                with os.scandir(os.path.join(self.train_dir, wnid)) as entries:
                    # d_type from scandir: no stat per file; symlinks to files count as files
                    names = sorted(entry.name for entry in entries if _is_image(entry.name) and not entry.is_dir())
                self._train_listings[wnid] = tuple(names)
            except (FileNotFoundError, NotADirectoryError):
                self._train_listings[wnid] = None
        return self._train_listings[wnid]

    def has_train_folder(self, wnid: str) -> bool:
        return self._train_listing(wnid) is not None

    def train_folder(self, wnid: str) -> str:
        return os.path.join(self.train_dir, wnid)

    def train_names(self, wnid: str) -> tuple[str, ...]:
        """Sorted file names in train/<wnid>/ (empty when the folder is missing)."""
        return self._train_listing(wnid) or ()

    def train_paths(self, wnid: str) -> list[str]:
        """Absolute paths of every image in train/<wnid>/, sorted by name (empty when the folder is missing)."""
        folder = os.path.join(self.train_dir, wnid)
        return [os.path.join(folder, name) for name in self.train_names(wnid)]

    def expected_train_path(self, relpath: str) -> str:
        """Where a train image of a names list ("<class>/<wnid>_<n>.JPEG") should be.

        The folder is the file name's prefix, not the list's folder: images of
        merged synsets are listed under their ImageNet-S class but stored in
        their own ImageNet folder.
        """
        file_name = relpath.rsplit("/", 1)[-1]
        return os.path.join(self.train_dir, file_name.split("_", 1)[0], file_name)

    def find_train(self, relpath: str) -> str | None:
        """`expected_train_path(relpath)` if that file exists, else None (checked against the folder listing)."""
        path = self.expected_train_path(relpath)
        folder, file_name = os.path.split(path)
        names = self._train_listing(os.path.basename(folder))
        if names is None:
            return None
        return path if _contains_sorted(names, file_name) else None

    def train_path(self, relpath: str) -> str:
        """`find_train`, raising FileNotFoundError naming the expected path."""
        path = self.find_train(relpath)
        if path is None:
            raise FileNotFoundError(f"ImageNet train image not found: {self.expected_train_path(relpath)}")
        return path

    # -- val -----------------------------------------------------------------

    def _index_val(self) -> dict[str, str]:
        if self._val_index is None:
            index: dict[str, str] = {}
            stack = [self.val_dir]
            # flat val: one listing; class-folder val: one listing per folder (one level deep, as ImageNet has)
            for depth in range(2):
                subfolders = []
                for folder in stack:
                    with os.scandir(folder) as entries:
                        for entry in entries:
                            if entry.is_dir():
                                subfolders.append(entry.path)
                            elif _is_image(entry.name):
                                index.setdefault(entry.name, entry.path)
                stack = sorted(subfolders)
            self._val_index = index
        return self._val_index

    def expected_val_path(self, src_relpath: str) -> str:
        """Where a val image of a mapping list ("<wnid>/ILSVRC2012_val_X.JPEG") is expected in this layout."""
        file_name = src_relpath.rsplit("/", 1)[-1]
        if self.layout == "class_folders":
            return os.path.join(self.val_dir, src_relpath)
        return os.path.join(self.val_dir, file_name)

    def find_val(self, file_name: str) -> str | None:
        """Absolute path of val image `file_name` (a name or a "wnid/name" relpath), None if absent."""
        return self._index_val().get(file_name.rsplit("/", 1)[-1])

    def val_path(self, file_name: str) -> str:
        """`find_val`, raising FileNotFoundError naming the expected path."""
        path = self.find_val(file_name)
        if path is None:
            raise FileNotFoundError(f"ImageNet val image not found: {self.expected_val_path(file_name)}")
        return path

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_val_index"] = None  # cheap to rebuild, large to pickle
        state["_train_listings"] = {}
        return state


def _has_subfolders(folder: str) -> bool:
    with os.scandir(folder) as entries:
        return any(entry.is_dir() for entry in entries)


def _contains_sorted(names: tuple[str, ...], name: str) -> bool:
    import bisect

    position = bisect.bisect_left(names, name)
    return position < len(names) and names[position] == name


# -- archives ----------------------------------------------------------------------


class ArchiveMember:
    """An image inside an uncompressed tar: `size` bytes at byte `offset` of the file `archive`.

    The address of an image of the "archives" layout, which has no file path.
    `read_bytes()` returns the image's encoded bytes, unchanged (one os.pread).
    It is also a read-only binary file object over those bytes (read, seek,
    tell), so `PIL.Image.open(member)` reads it, headers only when only the size
    is asked. Picklable; equal when the addresses are.

    Attributes:
        archive: absolute path of the outer tar file.
        member: the image's name in the archive: "ILSVRC2012_val_X.JPEG", or
            "<wnid>.tar/<wnid>_<n>.JPEG" for an image of a per-class train tar.
        offset: byte offset of the image's data in `archive`.
        size: the image's size in bytes.
    """

    __slots__ = ("archive", "member", "offset", "size", "_position")

    def __init__(self, archive: str, member: str, offset: int, size: int):
        self.archive = archive
        self.member = member
        self.offset = int(offset)
        self.size = int(size)
        self._position = 0

    @property
    def file_name(self) -> str:
        """The image's file name, e.g. "n01440764_10026.JPEG"."""
        return self.member.rsplit("/", 1)[-1]

    def read_bytes(self) -> bytes:
        """The image's encoded bytes (whatever the file position)."""
        return _read_span(self.archive, self.offset, self.size)

    def __str__(self) -> str:
        return f"{self.archive}!{self.member}"

    def __repr__(self) -> str:
        return f"ArchiveMember({self.archive!r}, {self.member!r}, offset={self.offset}, size={self.size})"

    def _address(self) -> tuple:
        return self.archive, self.member, self.offset, self.size

    def __eq__(self, other) -> bool:
        return isinstance(other, ArchiveMember) and self._address() == other._address()

    def __hash__(self) -> int:
        return hash(self._address())

    def __getstate__(self):
        return self._address()

    def __setstate__(self, state) -> None:
        self.__init__(*state)

    # read-only binary file protocol (for PIL and other readers of file objects)

    def read(self, size: int = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self._position + size)
        if end <= self._position:
            return b""
        data = _read_span(self.archive, self.offset + self._position, end - self._position)
        self._position = end
        return data

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + position < 0:
            raise ValueError(f"negative seek position {base + position} in {self}")
        self._position = base + position
        return self._position

    def tell(self) -> int:
        return self._position

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._position = 0

    def __enter__(self) -> "ArchiveMember":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


ImageLocation = Union[str, ArchiveMember]
"""Where an image is: a file path (folder layouts) or an `ArchiveMember` (archives layout)."""


def read_image_bytes(image: ImageLocation) -> bytes:
    """The encoded bytes of an image found by an `ImageNetSource`, unchanged."""
    if isinstance(image, ArchiveMember):
        return image.read_bytes()
    with open(image, "rb") as file:
        return file.read()


# Read descriptors per archive path, owned by one process: after a fork the
# parent's descriptors are shared, which pread alone would survive, but a
# descriptor the parent closes or replaces must not be used: reopen per pid.
_descriptors: dict[str, int] = {}
_descriptors_pid = os.getpid()
_descriptors_lock = threading.Lock()


def _descriptor(path: str) -> int:
    global _descriptors_pid
    with _descriptors_lock:
        if _descriptors_pid != os.getpid():
            for fd in _descriptors.values():  # this process's copies of the parent's descriptors
                _close_quietly(fd)
            _descriptors.clear()
            _descriptors_pid = os.getpid()
        fd = _descriptors.get(path)
        if fd is None:
            if len(_descriptors) >= MAX_OPEN_ARCHIVES:
                _close_quietly(_descriptors.pop(next(iter(_descriptors))))
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            _descriptors[path] = fd
        return fd


def _forget_descriptor(path: str) -> None:
    """Close `path`'s cached descriptor (the archive was re-indexed: it may be another file now)."""
    with _descriptors_lock:
        if _descriptors_pid == os.getpid() and path in _descriptors:
            _close_quietly(_descriptors.pop(path))


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _read_span(archive: str, offset: int, size: int) -> bytes:
    data = os.pread(_descriptor(archive), size, offset)
    if len(data) != size:
        raise OSError(
            f"{archive}: {size} bytes expected at offset {offset}, got {len(data)}: the archive changed since it "
            "was indexed; run again (it is re-indexed)"
        )
    return data


class _Window:
    """A read-only, seekable view of bytes [start, start + length) of an open file (tarfile walks inner tars in it)."""

    def __init__(self, file, start: int, length: int):
        self.file, self.start, self.length, self.position = file, start, length, 0

    def read(self, size: int = -1) -> bytes:
        end = self.length if size is None or size < 0 else min(self.length, self.position + size)
        if end <= self.position:
            return b""
        self.file.seek(self.start + self.position)
        data = self.file.read(end - self.position)
        self.position += len(data)
        return data

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        self.position = base + position
        return self.position

    def tell(self) -> int:
        return self.position


def scan_tar(path: str, start: int = 0, length: Optional[int] = None, *, label: Optional[str] = None) -> dict:
    """Regular-file members of the uncompressed tar at bytes [start, start + length) of `path`, from headers only.

    tarfile reads each 512-byte header and seeks over the member's data, so a
    50,000-member tar is walked in seconds without reading any image.

    Returns:
        {"names": [base names, sorted], "offsets": [absolute data offsets in
        `path`], "sizes": [bytes]}, aligned; a name seen twice keeps its last
        member (as tar extraction would).

    Raises:
        ValueError: not an uncompressed tar, or truncated (names `label`).
    """
    label = label or path
    with open(path, "rb") as file:
        if length is None:
            length = os.fstat(file.fileno()).st_size
        members: dict[str, tuple[int, int]] = {}
        try:
            with tarfile.open(fileobj=_Window(file, start, length), mode="r:") as tar:
                for info in tar:
                    if not info.isfile():
                        continue
                    if info.offset_data + info.size > length:
                        raise tarfile.ReadError(f"member {info.name} ends after the end of the data (truncated)")
                    members[info.name.rsplit("/", 1)[-1]] = (start + info.offset_data, info.size)
        except tarfile.TarError as error:
            raise ValueError(
                f"{label} is not a complete uncompressed tar archive ({error}); download it again from "
                "image-net.org (check its size and MD5), or give a folder holding the extracted train/ and val/"
            ) from None
    names = sorted(members)
    return {
        "names": names,
        "offsets": [members[name][0] for name in names],
        "sizes": [members[name][1] for name in names],
    }


class _TarIndex:
    """The member offsets of one archive (and of its inner tars), scanned once then read from the cache.

    Cached under <imagenets_hf cache>/archive-index/<hash of the real path>/<size>-<mtime_ns>/
    as one JSON file per scanned tar ("members.json", "<wnid>.json"): a changed
    archive (new size or mtime) gets a new folder, and the stale one is removed.
    """

    def __init__(self, path: str):
        from .metadata import default_cache_dir

        self.path = path
        real = os.path.realpath(path)
        stat = os.stat(real)
        self.stamp = {"archive": real, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        parent = os.path.join(default_cache_dir(), INDEX_FOLDER, hashlib.sha256(real.encode()).hexdigest()[:16])
        self.folder = os.path.join(parent, f"{stat.st_size}-{stat.st_mtime_ns}")
        self._listings: dict[str, dict] = {}
        _forget_descriptor(path)

    def listing(self, key: str, start: int = 0, length: Optional[int] = None, *, label: str) -> dict:
        """`scan_tar` of bytes [start, start + length) as {"names": tuple, "offsets", "sizes": int64 arrays}."""
        if key not in self._listings:
            cached = os.path.join(self.folder, f"{key}.json")
            members = self._load(cached)
            if members is None:
                members = scan_tar(self.path, start, length, label=label)
                self._save(cached, members)
            self._listings[key] = {
                "names": tuple(members["names"]),
                "offsets": np.asarray(members["offsets"], dtype=np.int64),
                "sizes": np.asarray(members["sizes"], dtype=np.int64),
            }
        return self._listings[key]

    def _load(self, cached: str) -> Optional[dict]:
        try:
            with open(cached, encoding="utf-8") as file:
                data = json.load(file)
        except (OSError, ValueError):
            return None
        if data.get("stamp") != self.stamp:
            return None
        return data

    def _save(self, cached: str, members: dict) -> None:
        parent = os.path.dirname(self.folder)
        try:
            if os.path.isdir(parent):  # index folders of earlier versions of this archive: stale
                for entry in os.listdir(parent):
                    if os.path.join(parent, entry) != self.folder:
                        shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
            atomic_write_text(cached, json.dumps({"stamp": self.stamp, **members}))
        except OSError as error:  # a read-only cache costs a rescan next time, nothing else
            logger.warning("could not cache the index of %s in %s: %s", self.path, self.folder, error)


class ArchiveSource(ImageNetSource):
    """The "archives" layout: ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar read in place.

    `train_dir` and `val_dir` are the two archive paths. The path methods return
    `ArchiveMember`s; "folders" are the per-class tars, named
    "<train archive>!<wnid>.tar". Indexes are built lazily (train: only the
    per-class tars asked for) and cached on disk; they are not pickled.
    """

    is_archive = True

    def __init__(self, root: str, layout: str, train_dir: str, val_dir: str):
        super().__init__(root, layout, train_dir, val_dir)
        self._train_index: Optional[_TarIndex] = None
        self._val_tar_index: Optional[_TarIndex] = None
        self._train_spans: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # -- train ---------------------------------------------------------------

    def _class_tars(self) -> dict:
        if self._train_index is None:
            self._train_index = _TarIndex(self.train_dir)
        return self._train_index.listing("members", label=self.train_dir)

    def _train_listing(self, wnid: str) -> tuple[str, ...] | None:
        if wnid not in self._train_listings:
            class_tars = self._class_tars()
            names = class_tars["names"]
            position = _position_sorted(names, f"{wnid}.tar")
            if position is None:
                self._train_listings[wnid] = None
            else:
                start, length = int(class_tars["offsets"][position]), int(class_tars["sizes"][position])
                members = self._train_index.listing(wnid, start, length, label=self.train_folder(wnid))
                keep = [index for index, name in enumerate(members["names"]) if _is_image(name)]
                self._train_listings[wnid] = tuple(members["names"][index] for index in keep)
                self._train_spans[wnid] = (members["offsets"][keep], members["sizes"][keep])
        return self._train_listings[wnid]

    def train_folder(self, wnid: str) -> str:
        return f"{self.train_dir}!{wnid}.tar"

    def train_spans(self, wnid: str) -> tuple[np.ndarray, np.ndarray]:
        """(offsets, sizes): int64 arrays aligned with `train_names(wnid)`, each image's bytes in `train_dir`."""
        if self._train_listing(wnid) is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return self._train_spans[wnid]

    def _train_member(self, wnid: str, index: int) -> ArchiveMember:
        offsets, sizes = self._train_spans[wnid]
        name = self._train_listings[wnid][index]
        return ArchiveMember(self.train_dir, f"{wnid}.tar/{name}", offsets[index], sizes[index])

    def train_paths(self, wnid: str) -> list[ArchiveMember]:  # type: ignore[override]
        """Every image of <wnid>.tar, sorted by name (empty when that tar is missing)."""
        return [self._train_member(wnid, index) for index in range(len(self.train_names(wnid)))]

    def expected_train_path(self, relpath: str) -> str:
        file_name = relpath.rsplit("/", 1)[-1]
        return f"{self.train_folder(file_name.split('_', 1)[0])}/{file_name}"

    def find_train(self, relpath: str) -> Optional[ArchiveMember]:  # type: ignore[override]
        file_name = relpath.rsplit("/", 1)[-1]
        wnid = file_name.split("_", 1)[0]
        names = self._train_listing(wnid)
        position = None if names is None else _position_sorted(names, file_name)
        return None if position is None else self._train_member(wnid, position)

    # -- val -----------------------------------------------------------------

    def _index_val(self) -> dict:
        if self._val_index is None:
            if self._val_tar_index is None:
                self._val_tar_index = _TarIndex(self.val_dir)
            members = self._val_tar_index.listing("members", label=self.val_dir)
            self._val_index = {
                name: (offset, size)
                for name, offset, size in zip(members["names"], members["offsets"].tolist(), members["sizes"].tolist())
                if _is_image(name)
            }
        return self._val_index

    def expected_val_path(self, src_relpath: str) -> str:
        return f"{self.val_dir}!{src_relpath.rsplit('/', 1)[-1]}"

    def find_val(self, file_name: str) -> Optional[ArchiveMember]:  # type: ignore[override]
        name = file_name.rsplit("/", 1)[-1]
        span = self._index_val().get(name)
        return None if span is None else ArchiveMember(self.val_dir, name, *span)

    def __getstate__(self):
        state = super().__getstate__()
        state.update(_train_index=None, _val_tar_index=None, _train_spans={})
        return state


def _position_sorted(names: tuple[str, ...], name: str) -> Optional[int]:
    import bisect

    position = bisect.bisect_left(names, name)
    return position if position < len(names) and names[position] == name else None
