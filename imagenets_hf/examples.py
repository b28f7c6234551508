"""What each split holds (planning) and the examples themselves (generation).

Kept apart from builder.py on purpose: `datasets` patches the builder's module
(open, os.path.*) with fsspec wrappers for streaming, which costs more than the
work itself per example. Here the plain functions are used.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, Optional

from .annotations import Annotations
from .imagenet import ArchiveMember, ImageNetSource, read_image_bytes
from .metadata import Metadata

logger = logging.getLogger(__name__)

MAX_LISTED_MISSING = 10  # how many missing paths an error or warning spells out

# Embedding reads every image file: a few threads read ahead (file reads release
# the GIL) so that reading the next images overlaps writing the previous ones.
READ_AHEAD_THREADS = 2
READ_AHEAD_IMAGES = 64

# split name -> annotation folder of its masks (None: no public masks)
SPLIT_MASKS = {
    "train": None,
    "train_semi": "train-semi-segmentation",
    "validation": "validation-segmentation",
    "test": None,
}

# Row of a non-train split, as planned by `plan_examples`:
# (image_id, image path or ArchiveMember, label, mask relpath or "", imagenet synset)
Row = tuple


class TrainGroup(NamedTuple):
    """The train images of one class from one ImageNet synset (config 919 pools merged synsets).

    `spans` is None for folder layouts (image path = folder + "/" + name); for
    the archives layout it is (train archive path, offsets, sizes) with int64
    arrays aligned with `names`: each image's bytes in the archive.
    """

    class_wnid: str
    label: int
    folder: str
    names: tuple
    synset: str
    spans: Optional[tuple] = None


def generate_examples(rows, split, mask_folder, annotations, embed_images):
    """(key, example) pairs of a split from its planned rows; the key is the image id."""
    if split == "train":
        yield from _generate_train(rows, embed_images)
        return
    images = _images((row[1] for row in rows), embed_images)
    for (image_id, _, label, mask, synset), image in zip(rows, images):
        yield image_id, {
            "image_id": image_id,
            "image": image,
            "label": label,
            "segmentation": {"path": mask.rsplit("/", 1)[-1], "bytes": annotations.read(mask_folder, mask)}
            if mask
            else None,
            "imagenet_synset": synset,
        }


def _images(images, embed: bool):
    """The image values of `images` (paths or ArchiveMembers), in order; bytes are read ahead when
    embedded (the builder always embeds images of the archives layout)."""
    if not embed:
        return (_image(image, embed) for image in images)
    return _read_ahead(images, functools.partial(_image, embed=embed))


def _read_ahead(items, read):
    """`read(item)` for each item, in order, with up to READ_AHEAD_IMAGES reads in flight."""
    with ThreadPoolExecutor(READ_AHEAD_THREADS) as pool:
        pending = collections.deque()
        for item in items:
            pending.append(pool.submit(read, item))
            if len(pending) >= READ_AHEAD_IMAGES:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _image(image, embed: bool) -> dict:
    # an archive member has no path to reference: always embedded, named by its file name
    if isinstance(image, ArchiveMember):
        return {"path": image.file_name, "bytes": image.read_bytes()}
    if not embed:
        return {"path": image, "bytes": None}
    return {"path": os.path.basename(image), "bytes": read_image_bytes(image)}


def _generate_train(groups, embed_images):
    # One group per (class, ImageNet folder or per-class tar); the file names were listed while planning.
    for group in groups:
        if group.spans is not None:
            archive, offsets, sizes = group.spans
            images = (
                ArchiveMember(archive, f"{group.synset}.tar/{name}", offset, size)
                for name, offset, size in zip(group.names, offsets.tolist(), sizes.tolist())
            )
        else:
            folder = os.path.join(group.folder, "")  # with its trailing separator: paths by concatenation
            images = (folder + name for name in group.names)
        for name, image in zip(group.names, _images(images, embed_images)):
            image_id = f"{group.class_wnid}/{name.rsplit('.', 1)[0]}"
            yield image_id, {
                "image_id": image_id,
                "image": image,
                "label": group.label,
                "segmentation": None,
                "imagenet_synset": group.synset,
            }


def plan_examples(
    metadata: Metadata, source: ImageNetSource, annotations: Optional[Annotations], *, allow_missing: bool = False
) -> dict[str, list]:
    """Resolve every file of every split, in list order.

    Returns {split: rows}: for "train", `TrainGroup`s (class wnid, label,
    ImageNet train folder, sorted file names, synset, archive spans), one per
    class and pooled folder (config 919 pools merged synsets into their
    target); for the other splits, rows (image_id, image path or
    ArchiveMember, label, mask relpath or "", imagenet synset).

    `annotations` None skips the mask checks (for planning without the zip,
    e.g. counting split sizes).

    Raises:
        FileNotFoundError: images or masks are missing (count and the first
            expected paths), unless `allow_missing`, which skips them with a
            warning listing them.
    """
    missing: list[str] = []
    plan: dict[str, list] = {"train": [], "train_semi": [], "validation": [], "test": []}

    for wnid in metadata.categories:
        label = metadata.class_id(wnid)
        for synset in metadata.train_sources(wnid):
            names = source.train_names(synset)
            if not names:
                if source.is_archive:
                    missing.append(source.train_folder(synset) + " (class tar missing or empty)")
                else:
                    missing.append(source.train_folder(synset) + os.sep + " (class folder missing or empty)")
                continue
            spans = (source.train_dir, *source.train_spans(synset)) if source.is_archive else None
            plan["train"].append(TrainGroup(wnid, label, source.train_folder(synset), names, synset, spans))

    def mask_of(split_folder: str, relpath: str) -> Optional[str]:
        if annotations is None or annotations.contains(split_folder, relpath):
            return relpath
        missing.append(annotations.location(split_folder, relpath))
        return None

    for image, mask in metadata.train_semi_names:
        folder, file_name = image.split("/", 1)
        path = source.find_train(image)
        if path is None:
            missing.append(source.expected_train_path(image))
            continue
        mask = mask_of("train-semi-segmentation", mask)
        if mask is not None:
            plan["train_semi"].append(
                (image[: -len(".JPEG")], path, metadata.class_id(folder), mask, file_name.split("_", 1)[0])
            )

    masks_of_validation = dict(metadata.validation_names)
    for split, mapping in (("validation", metadata.validation_mapping), ("test", metadata.test_mapping)):
        for src, dst in mapping:
            path = source.find_val(src)
            if path is None:
                missing.append(source.expected_val_path(src))
                continue
            mask = ""
            if split == "validation":
                if dst not in masks_of_validation:
                    raise ValueError(
                        f"{dst} is in the validation mapping but not in the validation names list of "
                        f"config {metadata.config.name} ({metadata.source}); the metadata lists are inconsistent"
                    )
                mask = mask_of("validation-segmentation", masks_of_validation[dst])
                if mask is None:
                    continue
            class_wnid = dst.split("/", 1)[0]
            plan[split].append((dst[: -len(".JPEG")], path, metadata.class_id(class_wnid), mask, src.split("/", 1)[0]))

    if missing:
        shown = "\n  ".join(missing[:MAX_LISTED_MISSING])
        more = f"\n  ... and {len(missing) - MAX_LISTED_MISSING} more" if len(missing) > MAX_LISTED_MISSING else ""
        where = f"ImageNet {source.root} (layout {source.layout})" + (f", annotations {annotations.source}" if annotations else "")
        if not allow_missing:
            raise FileNotFoundError(
                f"{len(missing)} file(s) that ImageNet-S config {metadata.config.name} needs are missing ({where}); "
                f"expected at:\n  {shown}{more}\n"
                "Complete the copy, or pass allow_missing=True (CLI: --allow-missing) to skip these examples"
            )
        message = f"skipping {len(missing)} missing file(s) of ImageNet-S config {metadata.config.name} ({where})"
        logger.warning("%s:\n  %s", message, "\n  ".join(missing))  # the full list
        warnings.warn(f"{message}:\n  {shown}{more}", stacklevel=2)
    return plan


def split_sizes(plan: dict[str, list]) -> dict[str, int]:
    """Number of examples of each split of a plan from `plan_examples`."""
    return {
        split: sum(len(group.names) for group in rows) if split == "train" else len(rows) for split, rows in plan.items()
    }
