"""The three ImageNet-S configs as one table; every per-config fact is looked up here."""

from __future__ import annotations

from dataclasses import dataclass

IGNORE_LABEL = 1000
"""Mask value of pixels excluded from every statistic (object borders, unsure regions)."""

BACKGROUND_LABEL = 0
"""Mask value of "other": pixels that belong to no ImageNet-S class."""

ANNOTATIONS_BASE_URL = "https://github.com/LUSSeg/ImageNet-S/releases/download/ImageNet-S/"

MERGED_SYNSETS: dict[str, str] = {
    # Config 919 merges these ImageNet synsets (key) into another class (value):
    # their training images are pooled into the value's class.
    "n04356056": "n04355933",
    "n04493381": "n02808440",
    "n03642806": "n03832673",
    "n04008634": "n03773504",
    "n03887697": "n15075141",
}

SPLITS = ("train", "train_semi", "validation", "test")

CITATION = """\
@article{gao2022luss,
  title={Large-scale Unsupervised Semantic Segmentation},
  author={Gao, Shanghua and Li, Zhong-Yu and Yang, Ming-Hsuan and Cheng, Ming-Ming and Han, Junwei and Torr, Philip},
  journal={IEEE Transactions on Pattern Analysis and Machine Intelligence (TPAMI)},
  year={2022}
}"""


@dataclass(frozen=True)
class ConfigSpec:
    """Everything that differs between the configs "50", "300" and "919"."""

    name: str
    num_classes: int
    split_sizes: dict[str, int]
    annotations_md5: str
    merges_synsets: bool

    @property
    def num_labels(self) -> int:
        """K = N + 1: the classes plus background (label 0)."""
        return self.num_classes + 1

    @property
    def top_folder(self) -> str:
        """Folder name the authors use for this config, e.g. "ImageNetS919"."""
        return f"ImageNetS{self.name}"

    @property
    def annotations_filename(self) -> str:
        return f"{self.top_folder}-{self.annotations_md5}.zip"

    @property
    def annotations_url(self) -> str:
        return ANNOTATIONS_BASE_URL + self.annotations_filename


CONFIGS: dict[str, ConfigSpec] = {
    spec.name: spec
    for spec in (
        ConfigSpec(
            name="50",
            num_classes=50,
            split_sizes={"train": 64431, "train_semi": 500, "validation": 752, "test": 1682},
            annotations_md5="a0fe9d82231f9bc4787ee76e304dfa51",
            merges_synsets=False,
        ),
        ConfigSpec(
            name="300",
            num_classes=300,
            split_sizes={"train": 384862, "train_semi": 3000, "validation": 4097, "test": 9088},
            annotations_md5="dd8e42e156bac415a35c3c239de297bf",
            merges_synsets=False,
        ),
        ConfigSpec(
            name="919",
            num_classes=919,
            split_sizes={"train": 1183322, "train_semi": 9190, "validation": 12419, "test": 27423},
            annotations_md5="5f7f58ae1003d21da9409a8576bf7680",
            merges_synsets=True,
        ),
    )
}


def get_config(name: str | int) -> ConfigSpec:
    """The spec of config `name` ("50", "300" or "919"; ints and "ImageNetS50"-style names accepted)."""
    key = str(name).strip()
    for prefix in ("ImageNetS", "imagenet-s-", "imagenets"):
        if key.lower().startswith(prefix.lower()):
            key = key[len(prefix):]
    if key == "full":
        key = "919"
    if key not in CONFIGS:
        raise ValueError(
            f"unknown ImageNet-S config {name!r}: use one of {', '.join(repr(c) for c in CONFIGS)}"
        )
    return CONFIGS[key]
