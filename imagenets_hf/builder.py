"""The ImageNet-S `datasets` builder: the user's ImageNet + the official lists and masks.

Thin by design: `_info` declares the features from the config's lists,
`_split_generators` resolves and checks every path up front (a missing file
fails before anything is written, with the count and the first expected
paths), `_generate_examples` only reads what was planned, in list order, with
the image id as key.

Images are referenced by absolute path by default (zero copy, like the
authors' symlinked folders): the Arrow files then only stay valid while the
ImageNet copy stays where it is. `embed_images=True` copies the encoded bytes
instead. Either way nothing is decoded or re-encoded: the few odd files of the
real train set (grayscale and CMYK JPEGs, a PNG named .JPEG) are kept as they
are, and `datasets.Image` decodes them when read (CMYK and L images come out in
their own mode; use `.convert("RGB")` if a model needs 3 channels). Masks are
always embedded: the official RGB PNG bytes, unchanged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from dataclasses import dataclass
from typing import Optional

import datasets

from .annotations import Annotations
from .configs import CONFIGS, get_config
from .imagenet import ImageNetSource
from .metadata import METADATA_ENV, Metadata, load_metadata

logger = logging.getLogger(__name__)

VERSION = datasets.Version("1.0.0")

MAX_LISTED_MISSING = 10  # how many missing paths an error or warning spells out

_CITATION = """\
@article{gao2022luss,
  title={Large-scale Unsupervised Semantic Segmentation},
  author={Gao, Shanghua and Li, Zhong-Yu and Yang, Ming-Hsuan and Cheng, Ming-Ming and Han, Junwei and Torr, Philip},
  journal={IEEE Transactions on Pattern Analysis and Machine Intelligence},
  year={2022}
}
"""

# split name -> annotation folder of its masks (None: no public masks)
SPLIT_MASKS = {
    "train": None,
    "train_semi": "train-semi-segmentation",
    "validation": "validation-segmentation",
    "test": None,
}

# Row of a non-train split, as planned by `plan_examples`:
# (image_id, image path, label, mask relpath or "", imagenet synset)
Row = tuple


@dataclass
class ImageNetSConfig(datasets.BuilderConfig):
    """A config ("50", "300", "919") plus where the user's data is.

    Attributes:
        imagenet_dir: the user's ImageNet-1k folder (any layout of imagenets_hf.imagenet.LAYOUTS).
        annotations: the official zip or its extracted folder; None downloads it.
        metadata_dir: a copy of the authors' data/ folder; None uses env
            IMAGENETS_METADATA_DIR or downloads the lists.
        embed_images: copy image bytes into the Arrow files instead of referencing paths.
        allow_missing: skip (with a warning) images and masks that are missing
            instead of failing.
    """

    imagenet_dir: Optional[str] = None
    annotations: Optional[str] = None
    metadata_dir: Optional[str] = None
    embed_images: bool = False
    allow_missing: bool = False

    def create_config_id(self, config_kwargs: dict, custom_features=None) -> str:
        # Two ImageNet copies (or option sets) must not share a cache folder, and the
        # same copy reached by two spellings of its path must: hash canonical paths.
        options = {key: value for key, value in config_kwargs.items() if key not in ("name", "version")}
        if not options and custom_features is None:
            return self.name
        if options.get("metadata_dir") is None and os.environ.get(METADATA_ENV):
            options["metadata_dir"] = os.environ[METADATA_ENV]
        for key in ("imagenet_dir", "annotations", "metadata_dir", "data_dir"):
            if options.get(key) is not None:
                options[key] = os.path.realpath(os.path.expanduser(os.fspath(options[key])))
        options = {key: value for key, value in sorted(options.items()) if value not in (None, False)}
        if custom_features is not None:
            options["features"] = repr(custom_features)
        digest = hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()[:16]
        return f"{self.name}-{digest}"


class ImageNetS(datasets.GeneratorBasedBuilder):
    """ImageNet-S (configs "50", "300", "919") from the user's ImageNet copy and the official annotations."""

    BUILDER_CONFIG_CLASS = ImageNetSConfig
    BUILDER_CONFIGS = [
        ImageNetSConfig(
            name=spec.name,
            version=VERSION,
            description=f"ImageNet-S{spec.name}: {spec.num_classes} classes of ImageNet with pixel masks",
        )
        for spec in CONFIGS.values()
    ]
    DEFAULT_CONFIG_NAME = "50"

    def __init__(self, *args, writer_batch_size: Optional[int] = None, **kwargs):
        self._metadata: Optional[Metadata] = None
        super().__init__(*args, writer_batch_size=writer_batch_size, **kwargs)
        if writer_batch_size is None:
            # Rows are tiny in reference mode: big batches make writing ~10x cheaper.
            # Embedded rows weigh ~100 KB each: 500 keeps a batch near 50 MB.
            self._writer_batch_size = 500 if self.config.embed_images else 10_000

    @property
    def metadata(self) -> Metadata:
        if self._metadata is None:
            self._metadata = load_metadata(self.config.name, self.config.metadata_dir)
        return self._metadata

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description="ImageNet-S: large-scale unsupervised semantic segmentation on ImageNet",
            features=datasets.Features(
                {
                    "image_id": datasets.Value("string"),
                    "image": datasets.Image(),
                    # label == the class id carried by the image's mask pixels (0 = other)
                    "label": datasets.ClassLabel(names=self.metadata.label_names),
                    "segmentation": datasets.Image(),
                    "imagenet_synset": datasets.Value("string"),
                }
            ),
            homepage="https://github.com/LUSSeg/ImageNet-S",
            citation=_CITATION,
            license="Annotations: see https://github.com/LUSSeg/ImageNet-S; images: ImageNet terms of access",
        )

    def _split_generators(self, dl_manager):
        config = self.config
        if not config.imagenet_dir:
            raise ValueError(
                "ImageNet-S is built from your own ImageNet-1k copy: pass imagenet_dir= (the folder holding train/ and val/)"
            )
        source = ImageNetSource.discover(config.imagenet_dir)
        annotations = Annotations.open(config.annotations, config.name)
        plan = plan_examples(self.metadata, source, annotations, allow_missing=config.allow_missing)
        return [
            datasets.SplitGenerator(
                name=split,
                gen_kwargs={
                    "rows": rows,
                    "split": split,
                    "mask_folder": SPLIT_MASKS[split],
                    "annotations": annotations if SPLIT_MASKS[split] else None,
                    "embed_images": config.embed_images,
                },
            )
            for split, rows in plan.items()
        ]

    def _generate_examples(self, rows, split, mask_folder, annotations, embed_images):
        if split == "train":
            yield from _generate_train(rows, embed_images)
            return
        for image_id, path, label, mask, synset in rows:
            yield image_id, {
                "image_id": image_id,
                "image": _image(path, embed_images),
                "label": label,
                "segmentation": {"path": mask.rsplit("/", 1)[-1], "bytes": annotations.read(mask_folder, mask)}
                if mask
                else None,
                "imagenet_synset": synset,
            }


def _image(path: str, embed: bool) -> dict:
    if not embed:
        return {"path": path, "bytes": None}
    with open(path, "rb") as file:
        return {"path": os.path.basename(path), "bytes": file.read()}


def _generate_train(groups, embed_images):
    # One group per (class, ImageNet folder); the file names were listed while planning.
    for class_wnid, label, folder, names in groups:
        synset = os.path.basename(folder)
        for name in names:
            image_id = f"{class_wnid}/{name.rsplit('.', 1)[0]}"
            yield image_id, {
                "image_id": image_id,
                "image": _image(os.path.join(folder, name), embed_images),
                "label": label,
                "segmentation": None,
                "imagenet_synset": synset,
            }


def plan_examples(
    metadata: Metadata, source: ImageNetSource, annotations: Optional[Annotations], *, allow_missing: bool = False
) -> dict[str, list]:
    """Resolve every file of every split, in list order.

    Returns {split: rows}: for "train", groups (class wnid, label, ImageNet train
    folder, sorted file names), one per class and pooled folder (config 919
    pools merged synsets into their target); for the other splits, rows
    (image_id, image path, label, mask relpath or "", imagenet synset).

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
                missing.append(source.train_folder(synset) + os.sep + " (class folder missing or empty)")
                continue
            plan["train"].append((wnid, label, source.train_folder(synset), names))

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
        split: sum(len(group[3]) for group in rows) if split == "train" else len(rows) for split, rows in plan.items()
    }
