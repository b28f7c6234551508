"""`load_dataset`: ImageNet-S as a `datasets.DatasetDict`, in one call."""

from __future__ import annotations

import os
from typing import Optional

from .configs import get_config


def _absolute(path: str | os.PathLike | None) -> Optional[str]:
    return None if path is None else os.path.abspath(os.path.expanduser(os.fspath(path)))


def make_builder(
    config: str | int,
    *,
    imagenet_dir: str | os.PathLike,
    annotations: str | os.PathLike | None = None,
    metadata_dir: str | os.PathLike | None = None,
    embed_images: bool = False,
    cache_dir: str | os.PathLike | None = None,
    allow_missing: bool = False,
):
    """The `ImageNetS` builder for these options (not prepared yet); see `load_dataset`."""
    from .builder import ImageNetS

    spec = get_config(config)  # unknown config: ValueError listing the valid ones, before any work
    if imagenet_dir is None:
        raise ValueError("imagenet_dir is required: the folder of your ImageNet-1k copy (holding train/ and val/)")
    if metadata_dir is None and os.environ.get("IMAGENETS_METADATA_DIR"):
        metadata_dir = os.environ["IMAGENETS_METADATA_DIR"]
    return ImageNetS(
        config_name=spec.name,
        cache_dir=_absolute(cache_dir),
        imagenet_dir=_absolute(imagenet_dir),
        annotations=_absolute(annotations),
        metadata_dir=_absolute(metadata_dir),
        embed_images=bool(embed_images),
        allow_missing=bool(allow_missing),
    )


def load_dataset(
    config: str | int,
    *,
    imagenet_dir: str | os.PathLike,
    annotations: str | os.PathLike | None = None,
    metadata_dir: str | os.PathLike | None = None,
    embed_images: bool = False,
    num_proc: Optional[int] = None,
    cache_dir: str | os.PathLike | None = None,
    allow_missing: bool = False,
):
    """Build (once, then from the cache) ImageNet-S config `config` and return its splits.

    Args:
        config: "50", "300" or "919".
        imagenet_dir: your ImageNet-1k folder: train/<wnid>/ with val/ in class
            folders or flat, Kaggle's ILSVRC/Data/CLS-LOC layout, or the
            original ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar
            (read in place, never extracted; images are then embedded).
        annotations: the official ImageNetS<N>-<md5>.zip or its extracted
            folder; None downloads it (MD5-checked, cached).
        metadata_dir: a copy of the authors' data/ folder; None uses env
            IMAGENETS_METADATA_DIR, else downloads the pinned lists (sha256-checked).
        embed_images: copy the image bytes into the cache instead of
            referencing the files by path (default: by path, zero copy).
        num_proc: build with this many processes.
        cache_dir: `datasets` cache folder (default the Hugging Face cache).
        allow_missing: skip missing images/masks with a warning instead of failing.

    Returns:
        DatasetDict with splits train, train_semi, validation, test; features
        image_id, image, label, segmentation, imagenet_synset.
        `imagenets_hf.decode_mask(example["segmentation"])` gives the (H, W)
        uint16 class-id map of a mask (load with `.cast_column("segmentation",
        datasets.Image(decode=False))` to skip PIL decoding).
    """
    builder = make_builder(
        config,
        imagenet_dir=imagenet_dir,
        annotations=annotations,
        metadata_dir=metadata_dir,
        embed_images=embed_images,
        cache_dir=cache_dir,
        allow_missing=allow_missing,
    )
    builder.download_and_prepare(num_proc=num_proc)
    return builder.as_dataset()


def with_class_ids(batch: dict) -> dict:
    """`dataset.with_transform(with_class_ids)`: adds "class_ids", the (H, W) uint16 maps of the batch's masks (None where absent)."""
    from .masks import decode_mask

    batch["class_ids"] = [None if mask is None else decode_mask(mask) for mask in batch["segmentation"]]
    return batch
