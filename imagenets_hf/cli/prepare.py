"""`imagenets-hf prepare CONFIG --imagenet-dir DIR`: build ImageNet-S into the `datasets` cache."""

from __future__ import annotations

import json
import os

from ._common import show_progress

ORDER = 10


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="build ImageNet-S from your ImageNet copy into the datasets cache",
        description=(
            "Build ImageNet-S config CONFIG (50, 300 or 919) from your ImageNet-1k copy plus the official "
            "lists and masks, into the Hugging Face datasets cache; later load_dataset() calls with the same "
            "options load it from there."
        ),
    )
    parser.add_argument("config", metavar="CONFIG", help='"50", "300" or "919"')
    parser.add_argument(
        "--imagenet-dir", required=True,
        help=(
            "your ImageNet-1k folder: train/<wnid>/ + val/ (class folders or flat), Kaggle's ILSVRC/Data/CLS-LOC, "
            "or the original ILSVRC2012_img_train.tar + ILSVRC2012_img_val.tar (read in place, never extracted)"
        ),
    )
    parser.add_argument(
        "--annotations", help="the official ImageNetS<N>-<md5>.zip or its extracted folder (default: download it)"
    )
    parser.add_argument(
        "--metadata-dir",
        help="a copy of LUSSeg/ImageNet-S's data/ folder (default: env IMAGENETS_METADATA_DIR, else download)",
    )
    parser.add_argument(
        "--embed-images", action="store_true",
        help=(
            "copy image bytes into the cache (default: reference the files by path, zero copy; "
            "images read from the tar archives are always copied)"
        ),
    )
    parser.add_argument("--num-proc", type=int, default=None, metavar="N", help="build with N processes")
    parser.add_argument("--cache-dir", metavar="D", help="datasets cache folder (default: the Hugging Face cache)")
    parser.add_argument("--allow-missing", action="store_true", help="skip missing images/masks with a warning")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (there are none anyway when stderr is not a terminal)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=run)


def prepare(args) -> dict:
    """Build and return the summary (a JSON-able dict)."""
    import datasets

    from ..loading import make_builder

    if args.num_proc is not None and args.num_proc < 1:
        raise ValueError(f"--num-proc must be at least 1, got {args.num_proc}")
    builder = make_builder(
        args.config,
        imagenet_dir=args.imagenet_dir,
        annotations=args.annotations,
        metadata_dir=args.metadata_dir,
        embed_images=args.embed_images,
        cache_dir=args.cache_dir,
        allow_missing=args.allow_missing,
    )
    enabled = datasets.is_progress_bar_enabled()
    if args.json or not show_progress(args):  # like evaluate: no bars unless stderr is a terminal
        datasets.disable_progress_bars()
    try:
        builder.download_and_prepare(num_proc=args.num_proc)
    finally:
        if enabled:
            datasets.enable_progress_bars()
    info = builder.info
    return {
        "config": builder.config.name,
        "config_id": builder.config_id,
        "splits": {name: split.num_examples for name, split in info.splits.items()},
        "num_bytes": sum(split.num_bytes for split in info.splits.values()),
        "cache_dir": builder.cache_dir,
        "imagenet_dir": builder.config.imagenet_dir,
        "images": _images_kind(builder.config),
        "load": _load_code(args),
    }


def _images_kind(config) -> str:
    from ..imagenet import ImageNetSource

    if config.embed_images:
        return "embedded"
    # discovery only looks at names (the archives' index is built when first needed)
    if ImageNetSource.discover(config.imagenet_dir).is_archive:
        return "embedded from the tar archives"
    return "referenced by path"


def _load_code(args) -> str:
    options = [f'imagenet_dir="{os.path.abspath(args.imagenet_dir)}"']
    for name in ("annotations", "metadata_dir", "cache_dir"):
        value = getattr(args, name)
        if value is not None:
            options.append(f'{name}="{os.path.abspath(value)}"')
    for name in ("embed_images", "allow_missing"):
        if getattr(args, name):
            options.append(f"{name}=True")
    return f'from imagenets_hf import load_dataset\nds = load_dataset("{args.config}", {", ".join(options)})'


def format_summary(summary: dict) -> str:
    width = max(len(name) for name in summary["splits"])
    lines = [
        f"ImageNet-S {summary['config']} is ready ({summary['images']}; {summary['num_bytes'] / 1e6:.1f} MB of Arrow files)",
        *(f"  {name:<{width}}  {count:>9,d} examples" for name, count in summary["splits"].items()),
        f"cache: {summary['cache_dir']}",
    ]
    if summary["images"] == "referenced by path":
        lines.append(f"(the cache refers to the files under {summary['imagenet_dir']}: keep them there)")
    lines += ["load it with:", *("  " + line for line in summary["load"].splitlines())]
    return "\n".join(lines)


def run(args) -> int:
    summary = prepare(args)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0
