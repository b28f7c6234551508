"""Benchmark of the ImageNet-S metric on realistic synthetic data (N = 919).

Prints, in one run:
- images/s for decoding both PNGs only (the floor), for the full evaluation
  (decode + statistics + official matching + scores), and for the `evaluate`
  module path (add_batch + compute), with their ratios;
- peak memory (ru_maxrss of a fresh subprocess) at 500 and 2000 images;
- the speed-up with 2 worker processes;
- the time of the official 919 x 919 matching vs munkres 1.1.4.

Run from the repository root:  PYTHONPATH=$PWD python benchmarks/bench_metric.py
Options: --images 500 --skip-munkres (munkres 1.1.4 is pure Python and slow).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imagenets_hf.configs import IGNORE_LABEL  # noqa: E402
from imagenets_hf.evaluation import evaluate_segmentation  # noqa: E402
from imagenets_hf.evaluation.munkres import munkres_assignment  # noqa: E402
from imagenets_hf.masks import decode_mask, encode_mask_png  # noqa: E402

NUM_CLASSES = 919
SIZES = ((375, 500), (500, 375), (333, 500), (500, 500), (400, 300), (281, 500), (500, 333))


def synthetic_labels(index: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One (prediction, ground truth) pair of uint16 maps: 1-3 elliptic objects of random
    classes with an ignore band around each; the prediction uses permuted labels (an
    unsupervised method), shifted shapes, a wrong label now and then and blob noise."""
    rng = np.random.default_rng([seed, index])
    permutation = np.random.default_rng(seed).permutation(NUM_CLASSES) + 1
    height, width = SIZES[int(rng.integers(len(SIZES)))]
    rows, columns = np.ogrid[:height, :width]
    gt = np.zeros((height, width), dtype=np.uint16)
    prediction = np.zeros((height, width), dtype=np.uint16)
    for _ in range(int(rng.integers(1, 4))):
        cy, cx = rng.uniform(0.2, 0.8) * height, rng.uniform(0.2, 0.8) * width
        ry, rx = rng.uniform(0.1, 0.4) * height, rng.uniform(0.1, 0.4) * width
        label = int(rng.integers(1, NUM_CLASSES + 1))
        distance = ((rows - cy) / ry) ** 2 + ((columns - cx) / rx) ** 2
        gt[distance <= 1] = label
        gt[(distance > 1) & (distance <= 1.12)] = IGNORE_LABEL
        shift_y, shift_x = rng.normal(0, 0.05, 2) * (height, width)
        predicted = ((rows - cy - shift_y) / ry) ** 2 + ((columns - cx - shift_x) / rx) ** 2 <= rng.uniform(0.8, 1.2)
        prediction[predicted] = permutation[label - 1] if rng.random() < 0.85 else rng.integers(1, NUM_CLASSES + 1)
    for _ in range(int(rng.integers(0, 3))):  # spurious blobs
        cy, cx, radius = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(5, 40)
        prediction[(rows - cy) ** 2 + (columns - cx) ** 2 <= radius**2] = rng.integers(1, NUM_CLASSES + 1)
    return prediction, gt


def synthetic_pngs(index: int, seed: int = 0) -> tuple[bytes, bytes]:
    prediction, gt = synthetic_labels(index, seed)
    return encode_mask_png(prediction), encode_mask_png(gt)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:8.1f} images/s ({seconds:6.2f} s)"


def timed(function, *args, repeat: int = 1, **kwargs):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, result


def decode_only(pairs):
    for prediction, gt in pairs:
        decode_mask(prediction)
        decode_mask(gt)


def module_path(pairs, batch_size: int = 32):
    import evaluate

    module = evaluate.load(str(ROOT / "metric" / "imagenet_s"), str(NUM_CLASSES))
    for start in range(0, len(pairs), batch_size):
        batch = pairs[start : start + batch_size]
        module.add_batch(predictions=[p for p, _ in batch], references=[g for _, g in batch])
    return module.compute(match="image")


_MEMORY_PROBE = """
import json, sys, tracemalloc
sys.path.insert(0, {root!r}); sys.path.insert(0, {here!r})
import bench_metric as b
from imagenets_hf.evaluation import evaluate_segmentation
pool = [b.synthetic_pngs(i) for i in range({pool})]  # same inputs in memory for any image count

def status(key):
    with open("/proc/self/status") as file:
        return next(int(line.split()[1]) for line in file if line.startswith(key + ":"))

try:  # reset the peak RSS (VmHWM) so that imports and the pool do not mask the evaluation
    with open("/proc/self/clear_refs", "w") as file:
        file.write("5")
    reset = True
except OSError:
    reset = False
before = status("VmRSS")
tracemalloc.start()
result = evaluate_segmentation((pool[i % len(pool)] for i in range({count})), b.NUM_CLASSES, match="image")
traced_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({{"rss_before_kib": before, "rss_peak_kib": status("VmHWM"), "peak_reset": reset,
                  "traced_peak_bytes": traced_peak, "mIoU": result["mIoU"]}}))
"""


def peak_memory_subprocess(count: int, pool: int = 100) -> dict:
    """Peak memory of a fresh process evaluating `count` images (a pool of `pool` PNG pairs,
    cycled): peak RSS during the evaluation, and the peak of Python/numpy allocations."""
    code = _MEMORY_PROBE.format(root=str(ROOT), here=str(Path(__file__).parent), pool=pool, count=count)
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def hard_cooccurrence(images: int = 12419, seed: int = 1) -> np.ndarray:
    """A 919 x 919 co-occurrence like a weak unsupervised method's on the full validation set:
    1-3 classes per image, the right (permuted) label 60 % of the time, 1-4 extra labels
    drawn from a skewed distribution (a few "garbage" clusters appear everywhere)."""
    rng = np.random.default_rng(seed)
    permutation = rng.permutation(NUM_CLASSES)
    popularity = rng.zipf(1.6, NUM_CLASSES).astype(float)
    popularity /= popularity.sum()
    cooccurrence = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    for _ in range(images):
        classes = rng.choice(NUM_CLASSES, int(rng.integers(1, 4)), replace=False)
        predicted = set(permutation[classes[rng.random(len(classes)) < 0.6]].tolist())
        predicted |= set(rng.choice(NUM_CLASSES, int(rng.integers(1, 5)), p=popularity).tolist())
        predicted = np.array(sorted(predicted))
        cooccurrence[np.ix_(predicted, classes)] += 1
    return cooccurrence


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-munkres", action="store_true", help="do not run the pure-Python munkres 1.1.4")
    args = parser.parse_args(argv)
    count = args.images

    print(f"generating {count} synthetic pairs (N = {NUM_CLASSES}, sizes {SIZES[0]}..., PNG bytes in memory)")
    pairs = [synthetic_pngs(i) for i in range(count)]
    pixels = sum(decode_mask(g).size for _, g in pairs[:50]) / 50
    print(f"  mean image size {pixels:.0f} pixels; mean PNG size {np.mean([len(p) + len(g) for p, g in pairs]) / 2:.0f} bytes")

    # Rounds alternate between the paths and each keeps its best time, so that a
    # busy machine slows all of them alike instead of skewing the ratios.
    paths = {
        "decode": lambda: decode_only(pairs),
        "full": lambda: evaluate_segmentation(pairs, NUM_CLASSES, match="image"),
        "module": lambda: module_path(pairs),
        "workers": lambda: evaluate_segmentation(pairs, NUM_CLASSES, match="image", num_workers=2),
    }
    best, results = {name: float("inf") for name in paths}, {}
    for _ in range(args.rounds):
        for name, run in paths.items():
            seconds, results[name] = timed(run)
            best[name] = min(best[name], seconds)
    decode_seconds, full_seconds, module_seconds, workers_seconds = (best[name] for name in paths)
    result = results["full"]
    assert abs(results["module"]["mIoU"] - result["mIoU"]) < 1e-9
    assert abs(results["workers"]["mIoU"] - result["mIoU"]) < 1e-9

    print(f"\nthroughput (best of {args.rounds} interleaved rounds; load average {os.getloadavg()[0]:.1f})")
    print(f"  decode both PNGs only (floor) {rate(count, decode_seconds)}")
    print(f"  full evaluation, match=image  {rate(count, full_seconds)}  -> {full_seconds / decode_seconds:.2f}x the floor (target <= 2.0)")
    print(f"  evaluate module path          {rate(count, module_seconds)}  -> {module_seconds / full_seconds:.2f}x the direct path (target <= 1.2)")
    print(f"  full evaluation, 2 workers    {rate(count, workers_seconds)}  -> speed-up {full_seconds / workers_seconds:.2f}x ({os.cpu_count()} CPUs)")
    print(f"  (mIoU {result['mIoU']:.3f}, Acc {result['Acc']:.2f}, mBIoU {result['mBIoU']:.3f})")

    print("\npeak memory of the evaluation, fresh process (100 PNG pairs cycled)")
    small, large = peak_memory_subprocess(500), peak_memory_subprocess(2000)
    for label, measured in (("500", small), ("2000", large)):
        print(
            f"  {label:>5} images: peak RSS {measured['rss_peak_kib'] / 1024:7.1f} MiB "
            f"(RSS before {measured['rss_before_kib'] / 1024:.1f} MiB, peak reset: {measured['peak_reset']}); "
            f"peak traced allocations {measured['traced_peak_bytes'] / 2**20:6.2f} MiB"
        )
    print(
        f"  2000 vs 500: peak RSS {large['rss_peak_kib'] / small['rss_peak_kib']:.3f}x, "
        f"traced {large['traced_peak_bytes'] / small['traced_peak_bytes']:.3f}x (target <= 1.10)"
    )

    print("\nofficial image-level matching, 919 x 919")
    accumulator_cooccurrence = hard_cooccurrence()
    cost = (1 - accumulator_cooccurrence / 12419).astype(np.float32).astype(np.float64)
    ours_seconds, ours = timed(munkres_assignment, cost, repeat=3)
    print(f"  sparse co-occurrence of 12419 images: {np.count_nonzero(accumulator_cooccurrence)} non-zero entries")
    print(f"  ours (munkres 1.1.4 algorithm, vectorised): {ours_seconds:.3f} s")
    from scipy.optimize import linear_sum_assignment

    scipy_seconds, (rows, columns) = timed(linear_sum_assignment, accumulator_cooccurrence, maximize=True, repeat=3)
    total_ours = sum(accumulator_cooccurrence[i, j] for i, j in ours)
    print(f"  scipy linear_sum_assignment: {scipy_seconds:.3f} s (same total: {total_ours == accumulator_cooccurrence[rows, columns].sum()})")
    if args.skip_munkres:
        print("  munkres 1.1.4: skipped (--skip-munkres)")
    else:
        try:
            import munkres
        except ImportError:
            print("  munkres 1.1.4: not installed (pip install munkres==1.1.4)")
        else:
            start = time.perf_counter()
            reference = munkres.Munkres().compute(cost.tolist())
            reference_seconds = time.perf_counter() - start
            print(
                f"  munkres {munkres.__version__}: {reference_seconds:.2f} s -> speed-up {reference_seconds / ours_seconds:.0f}x; "
                f"identical assignment: {reference == ours}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
