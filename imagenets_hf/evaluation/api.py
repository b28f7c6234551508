"""Entry points: accumulate statistics over (prediction, reference) pairs, optionally in
worker processes, then match and score."""

from __future__ import annotations

import itertools
import multiprocessing
import pickle
import signal
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..masks import decode_mask
from .accumulator import Accumulator
from .matching import MatchSpec, resolve_match
from .scores import score
from .statistics import image_statistics

_CHUNK_SIZE = 16  # items per worker task: amortises inter-process traffic, keeps progress fluid


def load_pair(item: Any) -> tuple[np.ndarray, np.ndarray]:
    """Decode a (prediction, reference) pair of anything `decode_mask` accepts
    (PNG path, PNG bytes, {"bytes", "path"} dict, PIL image, array)."""
    try:
        prediction, reference = item
    except (TypeError, ValueError):
        raise ValueError(
            f"each item must be a (prediction, reference) pair, got {type(item).__name__}"
        ) from None
    return decode_mask(prediction), decode_mask(reference)


def accumulate(
    items: Iterable[Any],
    num_classes: int,
    *,
    load: Callable[[Any], tuple[np.ndarray, np.ndarray]] = load_pair,
    num_workers: int = 0,
    progress: bool = False,
) -> Accumulator:
    """Statistics of every item, summed.

    Args:
        items: anything `load` accepts; by default (prediction, reference) pairs.
        num_classes: N.
        load: item -> ((H, W) prediction, (H, W) reference) integer label maps. With
            workers it runs in the worker processes, so it must be picklable
            (a module-level function or a functools.partial of one).
        num_workers: 0 or 1 for this process only; more to decode and reduce in that
            many processes (each returns summed statistics, never pixels).
        progress: show a tqdm progress bar.
    """
    total = len(items) if hasattr(items, "__len__") else None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="image", desc="evaluating")
    accumulator = Accumulator(num_classes)
    if total is not None:  # no more processes than there are chunks to give them
        num_workers = min(num_workers, -(-total // _CHUNK_SIZE))
    try:
        if num_workers <= 1:
            for item in items:
                accumulator.add(image_statistics(*load(item), num_classes))
                if bar is not None:
                    bar.update(1)
        else:
            chunks = _chunked(items, _CHUNK_SIZE)
            # `load` goes to each worker once (not with every chunk), so whatever it caches
            # (open zips, indexes of prepared datasets) lives as long as the worker
            with multiprocessing.get_context().Pool(num_workers, _start_worker, (load, num_classes)) as pool:
                for partial, count in pool.imap_unordered(_accumulate_chunk, chunks):
                    accumulator.merge(partial)
                    if bar is not None:
                        bar.update(count)
    finally:
        if bar is not None:
            bar.close()
    return accumulator


def _chunked(items: Iterable[Any], size: int):
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


_worker: dict[str, Any] = {}  # per worker process: "load" and "num_classes"


def _start_worker(load: Callable[[Any], tuple[np.ndarray, np.ndarray]], num_classes: int) -> None:
    # Under "fork" the arguments arrive as the parent's objects, open zip handles
    # included, whose file offset would be shared by every worker. A pickle round
    # trip gives each worker what "spawn" gives it: its own state, handles dropped
    # by __getstate__ and reopened on first use.
    _worker.update(load=pickle.loads(pickle.dumps(load)), num_classes=num_classes)
    # Ctrl-C goes to the main process, which stops the pool, without a traceback per worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _accumulate_chunk(chunk: list[Any]) -> tuple[Accumulator, int]:
    load, num_classes = _worker["load"], _worker["num_classes"]
    accumulator = Accumulator(num_classes)
    for item in chunk:
        accumulator.add(image_statistics(*load(item), num_classes))
    return accumulator, len(chunk)


def evaluate_segmentation(
    pairs: Iterable[Any],
    num_classes: int,
    *,
    match: MatchSpec = None,
    solver: str = "munkres",
    num_workers: int = 0,
    progress: bool = False,
) -> dict:
    """Evaluate (prediction, reference) pairs as the official ImageNet-S evaluator does.

    Args:
        pairs: (prediction, reference) pairs; each a PNG path, PNG bytes, a
            {"bytes", "path"} dict, a PIL image or an (H, W) label array.
        num_classes: N (50, 300 or 919).
        match: None (predictions already use class ids), "image" (the official
            matching), "pixel" or "majority" (non-official), a {label: class} dict,
            or a match.json path.
        solver: "munkres" (the official assignment, ties included) or "scipy" (same
            optimum, possibly a different assignment on ties).
        num_workers, progress: see `accumulate`.

    Returns:
        the dict of `score`: official keys, plus "match" when a matching was applied.
    """
    accumulator = accumulate(pairs, num_classes, num_workers=num_workers, progress=progress)
    matching = resolve_match(accumulator, match, solver)
    return score(accumulator, matching)
