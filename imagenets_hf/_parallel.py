"""An ordered parallel map with an optional progress bar, for per-file checks."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator


def parallel_map(
    function: Callable,
    items: Iterable,
    *,
    num_workers: int = 0,
    progress: bool = False,
    description: str = "",
    total: int | None = None,
) -> Iterator:
    """Yield `function(item)` for each item, in order.

    `function` must be picklable (a module-level function or a functools.partial
    of one) when `num_workers` > 1; with 0 or 1 it runs in this process.
    """
    items = list(items)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total if total is not None else len(items), desc=description, unit="img")
    try:
        if num_workers and num_workers > 1 and len(items) > 1:
            # chunks big enough to amortise pickling, small enough to balance the load
            chunksize = max(1, min(64, len(items) // (num_workers * 8)))
            with multiprocessing.get_context(_start_method()).Pool(num_workers, ignore_interrupts) as pool:
                for result in pool.imap(function, items, chunksize=chunksize):
                    if bar is not None:
                        bar.update(1)
                    yield result
        else:
            for item in items:
                result = function(item)
                if bar is not None:
                    bar.update(1)
                yield result
    finally:
        if bar is not None:
            bar.close()


def _start_method() -> str:
    # fork is cheap and keeps imported modules; fall back to spawn where it is absent
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def ignore_interrupts() -> None:
    """Pool initializer: Ctrl-C reaches the whole process group, but only the main process
    should handle it (it stops the pool); workers would each print "Process ForkPoolWorker-N:"
    and a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
