"""The ImageNet-S `datasets` builder: the user's ImageNet + the official lists and masks.

Thin by design: `_info` declares the features from the config's lists,
`_split_generators` resolves and checks every path up front (a missing file
fails before anything is written, with the count and the first expected
paths), `_generate_examples` only reads what was planned, in list order, with
the image id as key.

Images are referenced by absolute path by default (zero copy, like the
authors' symlinked folders): the Arrow files then only stay valid while the
ImageNet copy stays where it is. `embed_images=True` copies the encoded bytes
instead. From the original tar archives (the "archives" layout) there is no
file to reference: images are then always embedded, read from the archives
with one pread each. Either way nothing is decoded or re-encoded: the few odd files of the
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
from dataclasses import dataclass
from typing import Optional

import datasets

from .annotations import Annotations
from .configs import CITATION, CONFIGS
from .examples import SPLIT_MASKS, generate_examples, plan_examples, split_sizes
from .imagenet import ImageNetSource
from .metadata import METADATA_ENV, Metadata, load_metadata

VERSION = datasets.Version("1.0.0")

logger = logging.getLogger(__name__)

# Rows are ~200 bytes in reference mode: big batches amortise the per-batch cost.
# Embedded rows weigh ~110 KB each: 500 keeps a batch near 50 MB of memory.
WRITER_BATCH_SIZE = {"referenced": 10_000, "embedded": 500}


@dataclass
class ImageNetSConfig(datasets.BuilderConfig):
    """A config ("50", "300", "919") plus where the user's data is.

    Attributes:
        imagenet_dir: the user's ImageNet-1k folder (any layout of imagenets_hf.imagenet.LAYOUTS).
        annotations: the official zip or its extracted folder; None downloads it.
        metadata_dir: a copy of the authors' data/ folder; None uses env
            IMAGENETS_METADATA_DIR or downloads the lists.
        embed_images: copy image bytes into the Arrow files instead of referencing
            paths (always done when the images come from the tar archives).
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


class _PlannedFeatures(datasets.Features):
    """The builder's features; `encode_example` passes planned rows through unchanged.

    `generate_examples` yields rows already in storage form (strings, int labels,
    {"path", "bytes"} dicts, None). The generic encoder would walk each row and
    stat every image path (Image.encode_example calls os.path.isfile), which
    costs more than everything else in reference mode, and would even drop
    embedded bytes whose file name happens to exist in the working directory.
    """

    def encode_example(self, example):
        return example


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
        self._default_writer_batch_size = writer_batch_size is None
        if writer_batch_size is None:
            self._writer_batch_size = WRITER_BATCH_SIZE["embedded" if self.config.embed_images else "referenced"]

    @property
    def metadata(self) -> Metadata:
        if self._metadata is None:
            self._metadata = load_metadata(self.config.name, self.config.metadata_dir)
        return self._metadata

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description="ImageNet-S: large-scale unsupervised semantic segmentation on ImageNet",
            features=_PlannedFeatures(
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
            citation=CITATION,
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
        embed_images = config.embed_images
        if source.is_archive and not embed_images:
            logger.warning(
                "ImageNet comes from the tar archives in %s: the images are embedded in the dataset "
                "(read from the archives, bytes unchanged), as there is no file path to reference",
                source.root,
            )
            embed_images = True
            if self._default_writer_batch_size:
                self._writer_batch_size = WRITER_BATCH_SIZE["embedded"]
        return [
            datasets.SplitGenerator(
                name=split,
                gen_kwargs={
                    "rows": rows,
                    "split": split,
                    "mask_folder": SPLIT_MASKS[split],
                    "annotations": annotations if SPLIT_MASKS[split] else None,
                    "embed_images": embed_images,
                },
            )
            for split, rows in plan.items()
        ]

    def _generate_examples(self, rows, split, mask_folder, annotations, embed_images):
        # Lives in .examples: datasets patches this module's open/os.path for streaming,
        # which would put fsspec on the path of every local file.
        return generate_examples(rows, split, mask_folder, annotations, embed_images)


__all__ = ["ImageNetS", "ImageNetSConfig", "plan_examples", "split_sizes"]
