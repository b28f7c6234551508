"""Benchmark: `imagenets-hf evaluate --workers 2` vs `--workers 1` on a realistic synthetic set.

2000 ImageNet-sized images (500x375 and 375x500), 1-3 objects each with an
ignore band around them, N = 919 classes, predictions = ground truth with
shifted objects, swapped classes and 1% noise from 4 labels per image; written as a prediction folder and a
ground-truth folder of <wnid>/<name>.png in a temporary directory.

Prints the wall time of each run and the speed-up (target >= 1.7x on 2 cores).

    PYTHONPATH=. python benchmarks/bench_cli.py [--images 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time

import numpy as np

from imagenets_hf.cli import main
from imagenets_hf.configs import IGNORE_LABEL
from imagenets_hf.masks import encode_mask_png

NUM_CLASSES = 919
SIZES = ((500, 375), (375, 500), (500, 333), (500, 400))  # (width, height), common ImageNet shapes


def _ellipse(height, width, rng):
    cy, cx = rng.uniform(0.2, 0.8) * height, rng.uniform(0.2, 0.8) * width
    ry, rx = rng.uniform(0.1, 0.4) * height, rng.uniform(0.1, 0.4) * width
    y, x = np.ogrid[:height, :width]
    return ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2


def make_pair(index: int) -> tuple[np.ndarray, np.ndarray]:
    """(ground truth, prediction) uint16 maps of synthetic image `index` (deterministic)."""
    rng = np.random.default_rng(index)
    width, height = SIZES[index % len(SIZES)]
    truth = np.zeros((height, width), dtype=np.uint16)
    prediction = np.zeros((height, width), dtype=np.uint16)
    for _ in range(int(rng.integers(1, 4))):
        klass = int(rng.integers(1, NUM_CLASSES + 1))
        distance = _ellipse(height, width, rng)
        truth[(distance <= 1.15) & (truth == 0)] = IGNORE_LABEL  # ignore band around the object
        truth[distance <= 1.0] = klass
        shifted = np.roll(distance, (int(rng.integers(-15, 16)), int(rng.integers(-15, 16))), axis=(0, 1))
        predicted = klass if rng.random() < 0.7 else int(rng.integers(1, NUM_CLASSES + 1))
        prediction[shifted <= 1.0] = predicted
    # scattered wrong pixels from a few confusable classes (a model predicts a handful
    # of labels per image, not hundreds)
    noise = rng.random((height, width)) < 0.01
    confusions = rng.integers(0, NUM_CLASSES + 1, size=4)
    prediction[noise] = rng.choice(confusions, size=int(noise.sum()))
    return truth, prediction


def _write_one(task) -> None:
    root, index = task
    truth, prediction = make_pair(index)
    relpath = f"n{index % 500:08d}/ILSVRC2012_val_{index:08d}.png"
    for folder, labels in (("ground-truth", truth), ("predictions", prediction)):
        path = os.path.join(root, folder, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(encode_mask_png(labels, compress_level=6))


def build(root: str, count: int) -> None:
    with multiprocessing.Pool() as pool:
        pool.map(_write_one, [(root, index) for index in range(count)], chunksize=16)


def run(root: str, workers: int) -> tuple[float, float, float, dict]:
    """(wall s, main-process CPU s, worker CPU s, printed JSON) of one evaluate run."""
    out = io.StringIO()
    start = time.perf_counter()
    main_cpu = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with contextlib.redirect_stdout(out):
        code = main([
            "evaluate", "919", "--predictions", os.path.join(root, "predictions"),
            "--ground-truth", os.path.join(root, "ground-truth"), "--workers", str(workers),
            "--no-progress", "--json", "-",
        ])
    elapsed = time.perf_counter() - start
    main_cpu = time.process_time() - main_cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    if code != 0:
        sys.exit(f"evaluate failed with exit code {code}")
    return elapsed, main_cpu, worker_cpu, json.loads(out.getvalue())


def main_benchmark() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--keep", help="write the data set here and keep it (default: a temporary folder)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per setting; the fastest counts (default 3)")
    args = parser.parse_args()
    root = args.keep or tempfile.mkdtemp(prefix="bench-cli-")
    try:
        start = time.perf_counter()
        if not os.path.isdir(os.path.join(root, "predictions")):
            build(root, args.images)
        print(f"data: {args.images} images, N={NUM_CLASSES}, in {root} (built in {time.perf_counter() - start:.1f} s)")
        run(root, 2)  # warm the page cache so every timed run reads from memory
        best = {}
        for _ in range(args.repeat):
            # alternate the settings so a burst of load elsewhere hits both alike
            for workers in (1, 2):
                measured = run(root, workers)
                if workers not in best or measured[0] < best[workers][0]:
                    best[workers] = measured
        if best[1][3]["scores"] != best[2][3]["scores"]:
            sys.exit("scores differ between --workers 1 and --workers 2")
        print(f"mIoU {best[1][3]['scores']['mIoU']:.4f}, {best[1][3]['num_images']} images")
        for workers, (wall, main_cpu, worker_cpu, _) in sorted(best.items()):
            print(
                f"--workers {workers}: {wall:.2f} s ({args.images / wall:.0f} images/s); CPU: main process "
                f"{main_cpu:.2f} s, workers {worker_cpu:.2f} s"
            )
        print(
            f"speed-up: {best[1][0] / best[2][0]:.2f}x (best of {args.repeat}; target >= 1.7x on 2 cores; "
            f"os.cpu_count() = {os.cpu_count()}, load average now {os.getloadavg()[0]:.1f})"
        )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main_benchmark()
