"""Export throughput: MB/s of Parquet written by `imagenets-hf export`, as a ratio to copying the source bytes once.

    PYTHONPATH=. python benchmarks/bench_export.py [--train-per-class 10] [--repeat 3] [--workdir DIR]

A fake ImageNet with realistically sized JPEGs (~100 KB, like ImageNet's
average) is written for config "50", with the real lists when
IMAGENETS_METADATA_DIR is set (752 validation, 1682 test, 500 train_semi
images) and fake lists of similar size otherwise; train holds
--train-per-class images per class. The builder's Arrow cache is prepared
first (the export reads it); then, alternately, the source files are copied
once (shutil.copyfile per file, the baseline) and the config is exported.

ratio = (copy MB/s of source bytes) / (export MB/s of Parquet bytes); target <= 2.5.
Also printed: the ratio to a stricter baseline that copies the same bytes into
a single file (no per-file cost). Each timed step starts after os.sync(), and
ratios are taken per (copy, export) pair, then the median: the machine's load
drifts less within a pair.
Both write without fsync for the copy and with one fsync per shard for the
export (an export is durable when it says it is done). Also measured: the
alternative of building with embed_images=True (bytes copied into the Arrow
cache) and exporting that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

import datasets

from imagenets_hf import testing
from imagenets_hf.export import export_dataset_dict
from imagenets_hf.loading import load_dataset

IMAGE_SIZE = (380, 285)  # noise JPEG of ~100 KB: ImageNet's average file size


def _source_files(dataset_dict) -> list[str]:
    """Every file the export reads: the referenced images (masks are already bytes in the Arrow cache)."""
    paths = []
    for dataset in dataset_dict.values():
        table = dataset.data.table if hasattr(dataset.data, "table") else dataset.data
        paths.extend(p for p in table.column("image").combine_chunks().field("path").to_pylist() if p)
    return paths


def _mask_bytes(dataset_dict) -> int:
    total = 0
    for dataset in dataset_dict.values():
        column = dataset.data.column("segmentation").combine_chunks().field("bytes")
        total += sum(len(b) for b in column.to_pylist() if b)
    return total


def _copy(paths: list[str], destination: str) -> float:
    shutil.rmtree(destination, ignore_errors=True)
    os.makedirs(destination)
    os.sync()  # start with no dirty pages of the previous step being written back
    start = time.perf_counter()
    for index, path in enumerate(paths):
        shutil.copyfile(path, os.path.join(destination, f"{index}.JPEG"))
    return time.perf_counter() - start


def _concatenate(paths: list[str], destination: str) -> float:
    """The stricter baseline: the same bytes copied into one file (no per-file creation cost)."""
    if os.path.exists(destination):
        os.unlink(destination)
    os.sync()
    start = time.perf_counter()
    with open(destination, "wb") as output:
        for path in paths:
            with open(path, "rb") as source:
                shutil.copyfileobj(source, output, 1 << 20)
    return time.perf_counter() - start


def _export(dataset_dict, output: str, num_proc) -> tuple[float, int]:
    shutil.rmtree(output, ignore_errors=True)
    os.sync()
    start = time.perf_counter()
    manifest = export_dataset_dict(dataset_dict, output, "50", num_proc=num_proc, progress=False)
    return time.perf_counter() - start, manifest["download_size"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-per-class", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--num-proc", type=int, default=None)
    parser.add_argument("--workdir", default=None, help="folder for the fake data and outputs (default: a temp dir)")
    args = parser.parse_args(argv)
    datasets.disable_progress_bars()  # the figures, not bars

    workdir = args.workdir or tempfile.mkdtemp(prefix="bench-export-")
    metadata_dir = os.environ.get("IMAGENETS_METADATA_DIR") or testing.make_fake_metadata(
        os.path.join(workdir, "metadata"), val_per_class=188, test_per_class=420, semi_per_class=125
    )
    imagenet = os.path.join(workdir, "imagenet")
    if not os.path.isdir(imagenet):
        # distinct files (no hard links), as in a real ImageNet copy
        testing.make_fake_imagenet(imagenet, metadata_dir, "50", train_per_class=args.train_per_class,
                                   image_size=IMAGE_SIZE, link=False)
    annotations = os.path.join(workdir, "annotations", "ImageNetS50.zip")
    if not os.path.exists(annotations):
        testing.make_fake_annotations(annotations, metadata_dir, "50", image_size=IMAGE_SIZE)
    sources = {"imagenet_dir": imagenet, "annotations": annotations, "metadata_dir": metadata_dir}

    for cache in ("cache", "cache-embedded"):  # both builds are timed from scratch
        shutil.rmtree(os.path.join(workdir, cache), ignore_errors=True)
    start = time.perf_counter()
    by_path = load_dataset("50", cache_dir=os.path.join(workdir, "cache"), **sources)
    build_seconds = time.perf_counter() - start
    paths = _source_files(by_path)
    source_bytes = sum(os.path.getsize(p) for p in paths) + _mask_bytes(by_path)
    image_bytes = source_bytes - _mask_bytes(by_path)
    rows = {split: len(ds) for split, ds in by_path.items()}
    print(f"config 50: {rows}; {len(paths)} images, {source_bytes / 1e6:.1f} MB of images and masks")
    print(f"build (reference mode, once): {build_seconds:.2f} s")

    _copy(paths, os.path.join(workdir, "copy"))  # warm the page cache for both contenders
    copies, concatenations, exports = [], [], []
    for _ in range(args.repeat):
        copies.append(_copy(paths, os.path.join(workdir, "copy")))
        concatenations.append(_concatenate(paths, os.path.join(workdir, "concatenated.bin")))
        exports.append(_export(by_path, os.path.join(workdir, "out"), args.num_proc))
    copy_seconds = statistics.median(copies)
    export_seconds = statistics.median(seconds for seconds, _ in exports)
    parquet_bytes = exports[-1][1]
    copy_rate = image_bytes / copy_seconds / 1e6
    export_rate = parquet_bytes / export_seconds / 1e6
    # each copy is paired with the export right after it: the machine's load drifts less within a pair
    ratios = [(image_bytes / c) / (parquet_bytes / e) for c, (e, _) in zip(copies, exports)]
    print(f"copy the source images once: {copy_seconds:.2f} s, {copy_rate:.0f} MB/s (median of {args.repeat})")
    print(f"export (embed + Parquet):     {export_seconds:.2f} s, {export_rate:.0f} MB/s of Parquet "
          f"({parquet_bytes / 1e6:.1f} MB, median of {args.repeat})")
    print(f"ratio copy/export throughput: {statistics.median(ratios):.2f} (median of pairs "
          f"{', '.join(f'{r:.2f}' for r in ratios)}; target <= 2.5)")
    strict = [(image_bytes / c) / (parquet_bytes / e) for c, (e, _) in zip(concatenations, exports)]
    concatenate_seconds = statistics.median(concatenations)
    print(f"stricter baseline, the same bytes into one file: {concatenate_seconds:.2f} s, "
          f"{image_bytes / concatenate_seconds / 1e6:.0f} MB/s; ratio {statistics.median(strict):.2f} "
          f"(pairs {', '.join(f'{r:.2f}' for r in strict)})")

    start = time.perf_counter()
    embedded = load_dataset("50", cache_dir=os.path.join(workdir, "cache-embedded"), embed_images=True, **sources)
    embedded_build = time.perf_counter() - start
    embedded_export, _ = _export(embedded, os.path.join(workdir, "out-embedded"), args.num_proc)
    print(f"alternative, build with embed_images=True then export: {embedded_build:.2f} s build + "
          f"{embedded_export:.2f} s export = {embedded_build + embedded_export:.2f} s "
          f"(reference mode: {build_seconds:.2f} s build + {export_seconds:.2f} s export = "
          f"{build_seconds + export_seconds:.2f} s)")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
