"""Benchmark `prepare` on a fake ImageNet laid out like the real one (config 50, real lists).

Needs the real lists: env IMAGENETS_METADATA_DIR (a copy of LUSSeg/ImageNet-S data/).

1. Reference mode (default): training rows per second, one process, for
   50 classes x 1300 training images (target: >= 20,000 rows/s).
2. Embedded mode: validation + test (2,434 distinct files of ~110 KB) built
   with embed_images=True, as a ratio to reading the same source bytes from
   disk once (target: <= 2.0). Measured twice:
   - cold: the source files are evicted from the page cache
     (posix_fadvise DONTNEED) before the baseline read and before each build,
     so both really read from the disk, as the first build of a real copy does;
   - warm: the sources are in the page cache for both. Building must also
     write the bytes once, which a page-cache read does not, so this ratio is
     bounded below by the "floor" printed beside it (read + copy into Arrow +
     write, nothing else). With the Arrow cache on the disk that write is paced
     by the disk's write-back, so the ratio is also given with the cache on
     tmpfs (/dev/shm, if present).

Usage: python benchmarks/bench_prepare.py [--workdir DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import datasets

from imagenets_hf import testing
from imagenets_hf.builder import ImageNetS
from imagenets_hf.imagenet import ImageNetSource
from imagenets_hf.metadata import load_metadata


class _OnlySplits(ImageNetS):
    """ImageNetS building only some splits, so that each part times only what it measures."""

    SPLITS: tuple[str, ...] = ()

    def _split_generators(self, dl_manager):
        return [generator for generator in super()._split_generators(dl_manager) if generator.name in self.SPLITS]


class TrainOnly(_OnlySplits):
    SPLITS = ("train",)


class ValidationTestOnly(_OnlySplits):
    SPLITS = ("validation", "test")


def _build(builder_class, cache_dir: str, **config) -> tuple[float, datasets.DatasetDict]:
    shutil.rmtree(cache_dir, ignore_errors=True)
    builder = builder_class(config_name="50", cache_dir=cache_dir, **config)
    start = time.perf_counter()
    builder.download_and_prepare()
    seconds = time.perf_counter() - start
    return seconds, builder.as_dataset()


def _read_all(paths: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    total = 0
    for path in paths:
        with open(path, "rb") as file:
            total += len(file.read())
    return time.perf_counter() - start, total


def _evict(paths: list[str]) -> None:
    """Drop the files' pages from the page cache, so that the next read comes from the disk."""
    os.sync()  # DONTNEED skips dirty pages: freshly written files must reach the disk first
    for path in paths:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def _read_cold(paths: list[str]) -> tuple[float, int]:
    _evict(paths)
    return _read_all(paths)


def _build_cold(paths: list[str], builder_class, cache_dir: str, **config) -> tuple[float, datasets.DatasetDict]:
    _evict(paths)
    return _build(builder_class, cache_dir, **config)


def _copy_floor(paths: list[str], folder: str) -> float:
    """Seconds for the least any Arrow writer must do: read each file, copy it into an Arrow array, write that once."""
    import pyarrow as pa

    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, "floor.arrow")
    start = time.perf_counter()
    contents = []
    for path in paths:
        with open(path, "rb") as file:
            contents.append(file.read())
    table = pa.table({"bytes": pa.array(contents, type=pa.binary())})
    with pa.OSFile(target, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    seconds = time.perf_counter() - start
    os.unlink(target)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", help="where to write the fake data (default: a temporary folder, removed)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported")
    args = parser.parse_args()
    metadata_dir = os.environ.get("IMAGENETS_METADATA_DIR")
    if not metadata_dir:
        print("bench_prepare: set IMAGENETS_METADATA_DIR to a copy of LUSSeg/ImageNet-S data/", file=sys.stderr)
        return 2
    datasets.disable_progress_bars()
    workdir = args.workdir or tempfile.mkdtemp(prefix="imagenets-hf-bench-")
    try:
        metadata = load_metadata("50", metadata_dir)
        annotations = testing.make_fake_annotations(os.path.join(workdir, "ann"), metadata_dir, "50")

        # 1. reference mode, training rows
        start = time.perf_counter()
        small = testing.make_fake_imagenet(os.path.join(workdir, "tiny"), metadata_dir, "50", "class_folders", train_per_class=1300)
        made = time.perf_counter() - start
        options = dict(imagenet_dir=small, annotations=annotations, metadata_dir=metadata_dir)
        runs = [_build(TrainOnly, os.path.join(workdir, "cache-train"), **options) for _ in range(args.repeat)]
        seconds, dataset = min(runs, key=lambda run: run[0])
        rows = dataset["train"].num_rows
        print(f"fake ImageNet: 50 classes, {rows:,d} training images (written in {made:.1f} s)")
        print(
            f"[1] reference mode, train split: {rows:,d} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s "
            f"on one process (target >= 20,000; runs: {', '.join(f'{run[0]:.2f}' for run in runs)} s)"
        )

        # 2. embedded validation + test, ~100 KB JPEGs
        big = testing.make_fake_imagenet(
            os.path.join(workdir, "big"), metadata_dir, "50", "flat_val", train_per_class=1, image_size=(400, 300),
            link=False,
        )
        source = ImageNetSource.discover(big)
        paths = [source.val_path(src) for src, _ in (*metadata.validation_mapping, *metadata.test_mapping)]
        _read_all(paths)  # warm the page cache for both measurements
        read_seconds, read_bytes = min(_read_all(paths) for _ in range(args.repeat))
        options = dict(imagenet_dir=big, annotations=annotations, metadata_dir=metadata_dir, embed_images=True)
        count = len(paths)
        print(
            f"[2] embedded validation+test: {count:,d} images, {read_bytes / count / 1e3:.0f} KB each on average, "
            f"{read_bytes / 1e6:.0f} MB"
        )
        cold_read_seconds, _ = min(_read_cold(paths) for _ in range(args.repeat))
        print(
            f"    reading the source bytes once from disk (cold): {cold_read_seconds:.3f} s "
            f"({read_bytes / cold_read_seconds / 1e9:.2f} GB/s)"
        )
        print(f"    reading the source bytes once, page cache (warm): {read_seconds:.3f} s ({read_bytes / read_seconds / 1e9:.2f} GB/s)")
        caches = [("cache on the work disk", os.path.join(workdir, "cache-embed"))]
        if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
            caches.append(("cache on tmpfs /dev/shm", tempfile.mkdtemp(prefix="imagenets-hf-bench-", dir="/dev/shm")))
        try:
            for label, cache in caches:
                runs = [_build_cold(paths, ValidationTestOnly, cache, **options) for _ in range(args.repeat)]
                seconds, _ = min(runs, key=lambda run: run[0])
                print(
                    f"    cold: building embedded, {label + ':':<24} {seconds:.3f} s  ratio {seconds / cold_read_seconds:.2f} "
                    f"to the cold read (target <= 2.0; runs: {', '.join(f'{run[0]:.3f}' for run in runs)} s)"
                )
            for label, cache in caches:
                floor = min(_copy_floor(paths, cache) for _ in range(args.repeat))
                print(
                    f"    warm: floor, {label + ':':<31} {floor:.3f} s  ratio {floor / read_seconds:.2f} "
                    "(read + copy into Arrow + write, nothing else)"
                )
                runs = [_build(ValidationTestOnly, cache, **options) for _ in range(args.repeat)]
                seconds, dataset = min(runs, key=lambda run: run[0])
                assert dataset["validation"].num_rows + dataset["test"].num_rows == count
                print(
                    f"    warm: building embedded, {label + ':':<24} {seconds:.3f} s  ratio {seconds / read_seconds:.2f} "
                    f"(target <= 2.0; runs: {', '.join(f'{run[0]:.3f}' for run in runs)} s)"
                )
        finally:
            for _, cache in caches[1:]:
                shutil.rmtree(cache, ignore_errors=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
