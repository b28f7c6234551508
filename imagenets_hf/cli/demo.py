"""`imagenets-hf demo`: the whole prepare-and-read path on fake data, offline, in seconds."""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

ORDER = 0

REAL_DATA_CODE = """\
# on your own ImageNet copy (lists and masks are downloaded and checked once):
from imagenets_hf import load_dataset, decode_mask
ds = load_dataset("50", imagenet_dir="/data/imagenet")   # or "300", "919"
example = ds["validation"][0]
class_ids = decode_mask(example["segmentation"])          # (H, W) uint16
# or from a shell:  imagenets-hf prepare 50 --imagenet-dir /data/imagenet"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="build ImageNet-S 50 from generated fake data (offline, seconds) and show an example",
        description=(
            "Generate a tiny fake ImageNet, fake lists and a fake annotation zip in a temporary folder, "
            "build config 50 from them (its cache stays in that folder) and print what you would see on real data."
        ),
    )
    parser.add_argument("--workdir", help="keep the fake data and cache in this folder (default: a temporary one, removed)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=run)


def demo(workdir: str) -> dict:
    import datasets

    from .. import decode_mask, testing
    from ..loading import load_dataset

    setup = testing.make_fake_setup(workdir, "50", "class_folders")
    enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        dataset = load_dataset(
            "50",
            imagenet_dir=setup.imagenet_dir,
            annotations=setup.annotations,
            metadata_dir=setup.metadata_dir,
            cache_dir=os.path.join(workdir, "cache"),
        )
    finally:
        if enabled:
            datasets.enable_progress_bars()
    validation = dataset["validation"]
    raw = validation.cast_column("segmentation", datasets.Image(decode=False))[0]
    example = validation[0]
    class_ids = decode_mask(raw["segmentation"])
    values, counts = np.unique(class_ids, return_counts=True)
    names = validation.features["label"].names

    def name_of(value: int) -> str:
        if value == 1000:
            return "ignore"
        return names[value] if value < len(names) else "?"

    return {
        "splits": {split: dataset[split].num_rows for split in dataset},
        "example": {
            "image_id": example["image_id"],
            "image": f"{type(example['image']).__name__} mode={example['image'].mode} size={example['image'].size}",
            "label": f"{example['label']} ({names[example['label']]})",
            "segmentation": f"RGB PNG size={example['segmentation'].size}",
            "imagenet_synset": example["imagenet_synset"],
        },
        "mask_class_ids": {int(value): {"name": name_of(int(value)), "pixels": int(count)} for value, count in zip(values, counts)},
        "real_data": REAL_DATA_CODE,
    }


def format_demo(result: dict) -> str:
    lines = ["ImageNet-S config 50 built from generated fake data (fake classes, tiny images):"]
    lines += [f"  {split:<10}  {count:>4} examples" for split, count in result["splits"].items()]
    lines.append('ds["validation"][0]:')
    lines += [f"  {key:<15} {value}" for key, value in result["example"].items()]
    lines.append('decode_mask(example["segmentation"]) class ids:')
    lines += [f"  {value:>5}  {entry['name']:<10} {entry['pixels']:>4} px" for value, entry in result["mask_class_ids"].items()]
    lines += ["", result["real_data"]]
    return "\n".join(lines)


def run(args) -> int:
    if args.workdir:
        if os.path.exists(args.workdir) and not os.path.isdir(args.workdir):
            raise NotADirectoryError(f"--workdir {args.workdir} is a file: give a folder (it is created if needed)")
        os.makedirs(args.workdir, exist_ok=True)
        result = demo(os.path.abspath(args.workdir))
    else:
        with tempfile.TemporaryDirectory(prefix="imagenets-hf-demo-") as workdir:
            result = demo(workdir)
    print(json.dumps(result, indent=2) if args.json else format_demo(result))
    return 0
