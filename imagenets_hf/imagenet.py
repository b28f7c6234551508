"""The user's ImageNet-1k copy: detect its layout, find the files ImageNet-S needs.

Nothing is copied or modified. Folders are listed once each with os.scandir
(no per-file stat), and only the folders a config needs are listed, so a full
train tree is resolved in well under a second per thousand classes.

Val images are found by file name (ILSVRC2012_val_XXXXXXXX.JPEG names are
unique), so class-folder and flat val directories both work. Train images live
in train/<wnid>/<wnid>_<n>.JPEG in every accepted layout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# Image file extensions found in ImageNet folders (the real train set has a few
# PNG and CMYK files, all named .JPEG; anything else in a folder is ignored).
IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png")

ARCHIVES = ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar")


@dataclass(frozen=True)
class Layout:
    """A way ImageNet is laid out on disk: train and val folders relative to the root."""

    name: str
    train: str
    val: str
    description: str


# One table, walked in order by `ImageNetSource.discover`; "class_folders" vs
# "flat_val" is decided after the table match by looking inside val/.
LAYOUTS: tuple[Layout, ...] = (
    Layout("kaggle", "ILSVRC/Data/CLS-LOC/train", "ILSVRC/Data/CLS-LOC/val", "Kaggle: ILSVRC/Data/CLS-LOC/{train,val}"),
    Layout("kaggle", "Data/CLS-LOC/train", "Data/CLS-LOC/val", "Kaggle, from inside ILSVRC/: Data/CLS-LOC/{train,val}"),
    Layout("kaggle", "CLS-LOC/train", "CLS-LOC/val", "Kaggle, from inside ILSVRC/Data/: CLS-LOC/{train,val}"),
    Layout("class_folders", "train", "val", "train/<wnid>/*.JPEG and val/ (class folders or flat)"),
)

EXTRACT_COMMAND = (
    "mkdir -p train val && tar -xf ILSVRC2012_img_val.tar -C val && tar -xf ILSVRC2012_img_train.tar -C train && "
    'cd train && for f in *.tar; do mkdir -p "${f%.tar}" && tar -xf "$f" -C "${f%.tar}"; done'
)


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")


class ImageNetSource:
    """Where the images of one ImageNet copy are.

    Build with `ImageNetSource.discover(imagenet_dir)`. Paths returned are absolute.
    Picklable (listings are rebuilt lazily in each process if needed).
    """

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
        """Detect the layout of `imagenet_dir`.

        Raises:
            FileNotFoundError: the folder does not exist, or holds no accepted
                layout (the message lists every path that was looked for); if
                it holds the original tar archives, the message gives the
                command that extracts them.
        """
        root = os.path.abspath(os.path.expanduser(os.fspath(imagenet_dir)))
        if os.path.isfile(root):
            raise NotADirectoryError(
                f"--imagenet-dir {root} is a file, not a folder: give the folder that holds train/ and val/"
            )
        if not os.path.isdir(root):
            raise FileNotFoundError(f"ImageNet folder not found: {root}; give the folder that holds train/ and val/")
        for layout in LAYOUTS:
            train_dir, val_dir = os.path.join(root, layout.train), os.path.join(root, layout.val)
            if os.path.isdir(train_dir) and os.path.isdir(val_dir):
                name = layout.name
                if name == "class_folders" and not _has_subfolders(val_dir):
                    name = "flat_val"
                return cls(root, name, train_dir, val_dir)
        archives = [name for name in ARCHIVES if os.path.isfile(os.path.join(root, name))]
        if archives:
            raise FileNotFoundError(
                f"{root} holds the ImageNet archive(s) {', '.join(archives)} but no extracted train/ and val/ folders. "
                f"Extract them once (about 150 GB), from inside {root}:\n  {EXTRACT_COMMAND}\n"
                "then run again with the same folder (the archives are not needed afterwards)"
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
