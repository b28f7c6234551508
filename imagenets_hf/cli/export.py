"""`imagenets-hf export`: write configs as hub-native Parquet shards + README (see imagenets_hf.export)."""

from __future__ import annotations

import argparse
import json

from ._common import show_progress

ORDER = 60


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write configs as Parquet shards + README.md, ready for `imagenets-hf push` and datasets.load_dataset",
        description=(
            "Build each CONFIG from your ImageNet copy and write it into --output as Parquet shards with the "
            "images and masks embedded, plus a README.md listing every config exported there. "
            "Re-run the same command after an interruption: finished shards are kept."
        ),
    )
    parser.add_argument("configs", nargs="+", metavar="CONFIG", help='"50", "300" or "919" (several allowed)')
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="folder to write (shared by the configs)")
    parser.add_argument("--imagenet-dir", required=True, metavar="PATH", help="your ImageNet-1k copy")
    parser.add_argument(
        "--annotations", metavar="PATH",
        help="official annotations zip or folder (default: download); with several configs, a folder holding their zips",
    )
    parser.add_argument("--metadata-dir", metavar="PATH", help="a copy of the authors' data/ folder (default: download)")
    parser.add_argument("--max-shard-size", default="500MB", metavar="SIZE", help="about this much per shard (default 500MB)")
    parser.add_argument("--num-proc", type=int, metavar="N", help="processes for building and writing shards")
    parser.add_argument("--cache-dir", metavar="DIR", help="datasets cache for the build (default: HF_DATASETS_CACHE)")
    parser.add_argument(
        "--allow-missing", action="store_true", help="skip images missing from your ImageNet copy, with a warning"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (there are none anyway when stderr is not a terminal)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..export import export

    if args.num_proc is not None and args.num_proc < 1:
        raise ValueError(f"--num-proc {args.num_proc}: give a number of processes >= 1")
    manifests = export(
        args.configs,
        args.output,
        imagenet_dir=args.imagenet_dir,
        annotations=args.annotations,
        metadata_dir=args.metadata_dir,
        max_shard_size=args.max_shard_size,
        num_proc=args.num_proc,
        cache_dir=args.cache_dir,
        progress=show_progress(args),  # like evaluate: no bars unless stderr is a terminal
        allow_missing=args.allow_missing,
    )
    summary = {
        name: {
            split: {"num_examples": info["num_examples"], "num_shards": len(info["shards"])}
            for split, info in manifest["splits"].items()
        }
        | {"download_size": manifest["download_size"]}
        for name, manifest in manifests.items()
    }
    if args.json:
        print(json.dumps({"output": args.output, "configs": summary}, indent=2))
        return 0
    for name, manifest in manifests.items():
        splits = ", ".join(
            f"{split} {info['num_examples']} ({len(info['shards'])} shard{'s' if len(info['shards']) != 1 else ''})"
            for split, info in manifest["splits"].items()
        )
        print(f'config "{name}": {splits}; {manifest["download_size"]:,} bytes of Parquet')
    print(f"wrote {args.output}; check it with `imagenets-hf push {args.output} --repo-id ORG/NAME --dry-run`")
    return 0
