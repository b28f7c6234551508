"""Fake ImageNet-S data for tests, demos and benchmarks (public, no network).

Everything here writes small files that look like the real ones, including the
quirks that real data has and that code must survive (TFDS-style fake data):

- `make_fake_metadata` writes synthetic lists for the three configs in the
  authors' data/ layout: fake but well-formed sorted wnids; config 919 holds
  the five merge targets of `MERGED_SYNSETS`, whose merged source synsets
  exist only as ImageNet train folders; some validation/test images are
  relabelled (their ImageNet val folder differs from their ImageNet-S class);
  train_semi holds an image of a merged synset (name prefix != folder).
- `make_fake_imagenet` writes an ImageNet copy holding exactly the files a
  config needs (from fake or real lists), in one of the supported layouts, with
  a grayscale JPEG, a CMYK JPEG and a PNG named .JPEG in the train set (as in
  the real ILSVRC2012 train set), and an extra class outside ImageNet-S; in
  the "archives" layout the same files go into ILSVRC2012_img_train.tar (one
  inner <wnid>.tar per folder, merged synsets' own included) and a flat
  ILSVRC2012_img_val.tar, quirks included.
- `make_fake_annotations` writes an official-style annotation zip: RGB PNG
  masks (label = R + 256 * G) with an object of the image's class, background
  0 and an ignore band (1000) around the object.
- `make_fake_setup` does all three for a test in one call.

File contents are shared (one encoded JPEG written many times), so even the
real 919 lists (~50k files) take seconds.
"""

from __future__ import annotations

import errno
import io
import os
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from .configs import CONFIGS, IGNORE_LABEL, MERGED_SYNSETS, get_config
from .masks import encode_mask_png
from .metadata import LIST_FILES, load_metadata

LAYOUTS = ("class_folders", "flat_val", "kaggle", "archives")

FAKE_NUM_CLASSES = {"50": 4, "300": 6, "919": 9}
"""Classes per config in the fake lists (919's include the 5 merge targets)."""

FAKE_EXCLUDED_WNID = "n09999999"
"""An ImageNet class outside ImageNet-S: relabelled val images come from it; its train folder must be ignored."""

_FAKE = [f"n{10000000 + 7919 * index:08d}" for index in range(max(FAKE_NUM_CLASSES.values()))]
RELABELLED_VALIDATION = {_FAKE[0]: FAKE_EXCLUDED_WNID, _FAKE[1]: _FAKE[2], "n02808440": FAKE_EXCLUDED_WNID}
"""Validation image j=0 of these classes (keys) comes from another ImageNet val folder (values)."""
RELABELLED_TEST = {_FAKE[2]: FAKE_EXCLUDED_WNID, "n15075141": _FAKE[0]}
"""Test image j=0 of these classes (keys) comes from another ImageNet val folder (values)."""

IMAGE_SIZE = (20, 16)  # (width, height) of fake images and masks


@dataclass(frozen=True)
class FakeSetup:
    imagenet_dir: str
    annotations: str
    metadata_dir: str
    config: str


def fake_wnids(count: int) -> list[str]:
    """`count` well-formed fake WordNet ids, sorted (none is a real ImageNet-S class)."""
    return _FAKE[:count] if count <= len(_FAKE) else [f"n{10000000 + 7919 * index:08d}" for index in range(count)]


def fake_categories(config: str) -> list[str]:
    spec = get_config(config)
    count = FAKE_NUM_CLASSES[spec.name]
    if spec.merges_synsets:
        return sorted(fake_wnids(count - len(MERGED_SYNSETS)) + list(MERGED_SYNSETS.values()))
    return fake_wnids(count)


def make_fake_metadata(
    folder: str | os.PathLike, *, val_per_class: int = 2, test_per_class: int = 2, semi_per_class: int = 2
) -> str:
    """Write synthetic lists for configs "50", "300", "919" in the authors' layout; returns `folder`.

    Val image numbers are derived from a class's place in one shared pool, so
    an image has the same name (and the same SRC folder) in every config that
    holds its class, as in the real lists. Relabelled images (SRC folder !=
    DST folder) are the j=0 images listed in RELABELLED_VALIDATION and
    RELABELLED_TEST (class -> SRC folder). Train_semi image names are
    <wnid>_<1..semi_per_class>; a merge target's first one is <source>_1.
    """
    folder = os.path.abspath(os.fspath(folder))
    pool = sorted(set(fake_wnids(max(FAKE_NUM_CLASSES.values()))) | set(MERGED_SYNSETS.values()))
    pool_index = {wnid: index for index, wnid in enumerate(pool)}
    sources_of = {target: source for source, target in MERGED_SYNSETS.items()}
    for name in CONFIGS:
        categories = fake_categories(name)
        validation, test, semi = [], [], []
        for wnid in categories:
            base = 1 + 100 * pool_index[wnid]
            for j in range(val_per_class):
                src = RELABELLED_VALIDATION.get(wnid, wnid) if j == 0 else wnid
                validation.append((f"{src}/ILSVRC2012_val_{base + j:08d}.JPEG", f"{wnid}/ILSVRC2012_val_{base + j:08d}.JPEG"))
            for j in range(test_per_class):
                src = RELABELLED_TEST.get(wnid, wnid) if j == 0 else wnid
                number = base + 50 + j
                test.append((f"{src}/ILSVRC2012_val_{number:08d}.JPEG", f"{wnid}/ILSVRC2012_val_{number:08d}.JPEG"))
            for j in range(1, semi_per_class + 1):
                prefix = sources_of[wnid] if (j == 1 and get_config(name).merges_synsets and wnid in sources_of) else wnid
                semi.append((f"{wnid}/{prefix}_{j}.JPEG", f"{wnid}/{prefix}_{j}.png"))
        names = [(dst, dst[: -len(".JPEG")] + ".png") for _, dst in validation]
        texts = {
            "categories": "\n".join(categories),
            "validation_mapping": "\n".join(" ".join(row) for row in validation),
            "test_mapping": "\n".join(" ".join(row) for row in test),
            "validation_names": "\n".join(" ".join(row) for row in names),
            "train_semi_names": "\n".join(" ".join(row) for row in semi),
        }
        for kind, template in LIST_FILES.items():
            path = os.path.join(folder, template.format(n=name))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as file:
                file.write(texts[kind])  # like the real files: no trailing newline
    return folder


@lru_cache(maxsize=None)
def fake_image_bytes(kind: str = "rgb", size: tuple[int, int] = IMAGE_SIZE, quality: int = 90) -> bytes:
    """Encoded bytes of a fake image: kind "rgb", "gray", "cmyk" (JPEGs) or "png" (a PNG to be named .JPEG).

    The content is seeded noise, so a (500, 375) JPEG weighs ~100 KB like a real one.
    """
    width, height = size
    rng = np.random.default_rng(width * 7919 + height)
    pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    image = Image.fromarray(pixels, mode="RGB")
    buffer = io.BytesIO()
    if kind == "rgb":
        image.save(buffer, format="JPEG", quality=quality)
    elif kind == "gray":
        image.convert("L").save(buffer, format="JPEG", quality=quality)
    elif kind == "cmyk":
        image.convert("CMYK").save(buffer, format="JPEG", quality=quality)
    elif kind == "png":
        image.save(buffer, format="PNG")
    else:
        raise ValueError(f"unknown fake image kind {kind!r}: use 'rgb', 'gray', 'cmyk' or 'png'")
    return buffer.getvalue()


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as file:
        file.write(data)


class _FileMaker:
    """Writes many files with few distinct contents: each content once, then hard links to it.

    Creating a hard link is ~20x cheaper than writing a small file on a busy
    ext4 disk, which is what makes the real 919 lists (~50k files) take
    seconds. Falls back to plain writes where links are impossible, or when
    `link` is False (benchmarks need distinct files, not one cached inode).
    """

    def __init__(self, root: str, link: bool = True):
        self.blobs = os.path.join(root, ".imagenets-hf-fake-blobs")
        self.link = link
        self._blob_of: dict[bytes, str] = {}

    def write(self, path: str, data: bytes) -> None:
        if self.link:
            try:
                self._link(data, path)
                return
            except OSError as error:
                if error.errno != errno.EMLINK:
                    self.link = False  # cross-device or no hard links on this file system
                else:  # ext4 allows 65000 links per inode: start a new copy
                    self._blob_of.pop(data)
                    self._link(data, path)
                    return
        _write(path, data)

    def _link(self, data: bytes, path: str) -> None:
        blob = self._blob_of.get(data)
        if blob is None:
            os.makedirs(self.blobs, exist_ok=True)
            fd, blob = tempfile.mkstemp(suffix=".bin", dir=self.blobs)  # never reuse an earlier run's copy
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            self._blob_of[data] = blob
        try:
            os.link(blob, path)
        except FileExistsError:  # a re-run over an earlier fake tree
            os.unlink(path)
            os.link(blob, path)


def _configs(config: str | None) -> list[str]:
    return list(CONFIGS) if config is None else [get_config(config).name]


def needed_files(metadata_dir: str, config: str | None = None, *, train_per_class: int = 3):
    """What a fake ImageNet must hold for `config` (None: all three).

    Returns (train, val): train maps a wnid folder to its sorted file names;
    val maps a val file name to its class-folder wnid (the SRC folder).
    """
    train: dict[str, set[str]] = {FAKE_EXCLUDED_WNID: {f"{FAKE_EXCLUDED_WNID}_{j}.JPEG" for j in range(1, 3)}}
    val: dict[str, str] = {}
    for name in _configs(config):
        metadata = load_metadata(name, metadata_dir)
        for wnid in metadata.categories:
            for source in (wnid, *[s for s, t in MERGED_SYNSETS.items() if t == wnid]):
                # merge sources get a train folder in every config's fake ImageNet (real ImageNet has them)
                train.setdefault(source, set()).update(f"{source}_{j}.JPEG" for j in range(1, train_per_class + 1))
        for image, _ in metadata.train_semi_names:
            file_name = image.split("/", 1)[1]
            train.setdefault(file_name.split("_", 1)[0], set()).add(file_name)
        for src, _ in (*metadata.validation_mapping, *metadata.test_mapping):
            folder, file_name = src.split("/", 1)
            val[file_name] = folder
    return {wnid: sorted(names) for wnid, names in sorted(train.items())}, dict(sorted(val.items()))


def make_fake_imagenet(
    root: str | os.PathLike,
    metadata_dir: str | os.PathLike,
    config: str | None = None,
    layout: str = "class_folders",
    *,
    train_per_class: int = 3,
    image_size: tuple[int, int] = IMAGE_SIZE,
    quirks: bool = True,
    link: bool = True,
) -> str:
    """Write a fake ImageNet copy with the files `config` (None: every config) needs; returns its root.

    Args:
        root: folder to write into (created).
        metadata_dir: lists to follow: fake ones from `make_fake_metadata` or the real ones.
        layout: "class_folders" (train/<wnid>/, val/<wnid>/), "flat_val"
            (train/<wnid>/, val/<file>), "kaggle" (ILSVRC/Data/CLS-LOC/{train,val}
            with a flat val and LOC_synset_mapping.txt) or "archives" (only
            ILSVRC2012_img_{train,val}.tar, as downloaded from image-net.org:
            uncompressed, train a tar of per-class tars <wnid>.tar, val flat).
        train_per_class: train images <wnid>_1..N.JPEG per class folder (the
            train_semi images are added to them).
        image_size: (width, height) of every image.
        quirks: plant a grayscale JPEG, a CMYK JPEG and a PNG named .JPEG as the
            first three train images of the first folder, and a grayscale val image.
        link: files of equal content are hard links to one hidden copy under
            root (fast); False writes every file (distinct inodes, for benchmarks).
            Ignored by "archives" (the root then holds only the two tars).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown fake ImageNet layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    root = os.path.abspath(os.fspath(root))
    train, val = needed_files(os.fspath(metadata_dir), config, train_per_class=train_per_class)
    data = fake_image_bytes("rgb", tuple(image_size))
    special: dict[str, bytes] = {}
    if quirks:
        first = next(wnid for wnid in train if wnid != FAKE_EXCLUDED_WNID)
        for file_name, kind in zip(train[first], ("gray", "cmyk", "png")):
            special[file_name] = fake_image_bytes(kind, tuple(image_size))
        if val:
            special[next(iter(val))] = fake_image_bytes("gray", tuple(image_size))
    base = os.path.join(root, "ILSVRC", "Data", "CLS-LOC") if layout == "kaggle" else root
    if layout == "archives":
        _write_archives(root, train, val, data, special)
        return root
    maker = _FileMaker(root, link)
    for wnid, names in train.items():
        folder = os.path.join(base, "train", wnid)
        os.makedirs(folder, exist_ok=True)
        for file_name in names:
            maker.write(os.path.join(folder, file_name), special.get(file_name, data))
    val_root = os.path.join(base, "val")
    os.makedirs(val_root, exist_ok=True)
    made = set()
    for file_name, wnid in val.items():
        folder = os.path.join(val_root, wnid) if layout == "class_folders" else val_root
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        maker.write(os.path.join(folder, file_name), special.get(file_name, data))
    if layout == "kaggle":
        with open(os.path.join(root, "LOC_synset_mapping.txt"), "w") as file:
            file.write("".join(f"{wnid} fake class\n" for wnid in train))
    return root


def _write_archives(root: str, train, val, data: bytes, special: dict[str, bytes]) -> None:
    """ILSVRC2012_img_val.tar (flat, sorted names) and ILSVRC2012_img_train.tar (one uncompressed <wnid>.tar per folder)."""
    os.makedirs(root, exist_ok=True)

    def add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))

    with tarfile.open(os.path.join(root, "ILSVRC2012_img_val.tar"), "w") as tar:
        for file_name in val:
            add(tar, file_name, special.get(file_name, data))
    with tarfile.open(os.path.join(root, "ILSVRC2012_img_train.tar"), "w") as tar:
        for wnid, names in train.items():
            inner = io.BytesIO()
            with tarfile.open(fileobj=inner, mode="w") as class_tar:
                for file_name in names:
                    add(class_tar, file_name, special.get(file_name, data))
            add(tar, f"{wnid}.tar", inner.getvalue())


def fake_mask_labels(class_id: int, size: tuple[int, int] = IMAGE_SIZE) -> np.ndarray:
    """(H, W) uint16 mask of a fake image: background 0, an object of `class_id`, an ignore band of 1000 around it."""
    width, height = size
    labels = np.zeros((height, width), dtype=np.uint16)
    top, bottom, left, right = height // 4, height - height // 4, width // 4, width - width // 4
    labels[top - 1 : bottom + 1, left - 1 : right + 1] = IGNORE_LABEL
    labels[top:bottom, left:right] = class_id
    return labels


def make_fake_annotations(
    path: str | os.PathLike, metadata_dir: str | os.PathLike, config: str = "50", *, image_size: tuple[int, int] = IMAGE_SIZE
) -> str:
    """Write an official-style annotation zip for `config`; returns its path.

    `path` is the zip to write, or a folder to write ImageNetS<N>.zip into. The
    zip holds ImageNetS<N>/validation-segmentation/<mask relpath> and
    ImageNetS<N>/train-semi-segmentation/<mask relpath>; each mask is
    `fake_mask_labels(class id of the mask's folder)` in the RGB encoding.
    """
    spec = get_config(config)
    metadata = load_metadata(spec, metadata_dir)
    path = os.path.abspath(os.fspath(path))
    if not path.endswith(".zip"):
        path = os.path.join(path, f"{spec.top_folder}.zip")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pngs: dict[int, bytes] = {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for folder, rows in (
            ("validation-segmentation", metadata.validation_names),
            ("train-semi-segmentation", metadata.train_semi_names),
        ):
            for _, mask in rows:
                class_id = metadata.class_id(mask.split("/", 1)[0])
                if class_id not in pngs:
                    pngs[class_id] = encode_mask_png(fake_mask_labels(class_id, tuple(image_size)), compress_level=1)
                archive.writestr(f"{spec.top_folder}/{folder}/{mask}", pngs[class_id])
    return path


def make_fake_setup(
    tmpdir: str | os.PathLike, config: str = "50", layout: str = "class_folders", metadata_dir: str | None = None
) -> FakeSetup:
    """Fake metadata (unless `metadata_dir` is given), ImageNet and annotations for `config` under `tmpdir`."""
    tmpdir = os.path.abspath(os.fspath(tmpdir))
    name = get_config(config).name
    if metadata_dir is None:
        metadata_dir = make_fake_metadata(os.path.join(tmpdir, "metadata"))
    imagenet_dir = make_fake_imagenet(os.path.join(tmpdir, f"imagenet-{layout}"), metadata_dir, name, layout)
    annotations = make_fake_annotations(os.path.join(tmpdir, "annotations"), metadata_dir, name)
    return FakeSetup(imagenet_dir=imagenet_dir, annotations=annotations, metadata_dir=os.fspath(metadata_dir), config=name)
