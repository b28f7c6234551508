"""Arguments and output helpers shared by evaluate, match, submit and show."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

from ..evaluation.matching import MATCH_METHODS, SOLVERS
from ..predictions import RESIZE_MODES

NO_MATCH = "none"


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", metavar="CONFIG", help='ImageNet-S config: "50", "300" or "919"')


def add_sources(parser: argparse.ArgumentParser, *, ground_truth: bool = True) -> None:
    parser.add_argument(
        "--predictions", "-p", required=True, metavar="P",
        help="folder or zip of predictions <wnid>/<name>.png (label I as R = I %% 256, G = I // 256)",
    )
    if ground_truth:
        parser.add_argument(
            "--ground-truth", "-g", required=True, metavar="G",
            help="official annotation zip, its extracted folder, a prepared dataset (the cache folder that "
            "`prepare` prints, save_to_disk or Parquet export) or a folder of masks <wnid>/<name>.png",
        )
        parser.add_argument(
            "--split", choices=("validation", "train_semi"), default="validation",
            help="which masks of the official annotations or prepared dataset (default: validation)",
        )
        parser.add_argument(
            "--names", metavar="FILE",
            help="evaluate only the images of this list ('wnid/NAME.JPEG wnid/NAME.png' per line)",
        )
        parser.add_argument(
            "--allow-missing", action="store_true",
            help="score images without a prediction as all background instead of stopping",
        )
        parser.add_argument(
            "--resize", choices=RESIZE_MODES,
            help="resize predictions whose size differs from their mask (default: such a prediction is an error)",
        )
    add_metadata_dir(parser)
    add_workers(parser)


def source_options(args) -> dict:
    """The keyword arguments of the options that `add_sources` declared (ground-truth variant),
    as evaluate_predictions, match_predictions and show_predictions take them."""
    return {
        "split": args.split,
        "names": args.names,
        "metadata_dir": args.metadata_dir,
        "allow_missing": args.allow_missing,
        "resize": args.resize,
        "num_workers": check_workers(args.workers),
        "progress": show_progress(args),
    }


def add_metadata_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metadata-dir", metavar="D",
        help="folder of the ImageNet-S lists (categories/, mapping/, names/); default: env "
        "IMAGENETS_METADATA_DIR, else download",
    )


def add_workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", "-j", type=int, default=default_workers(), metavar="N",
        help="processes that read and decode the PNGs (default: %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (there is none anyway when stderr is not a terminal)")


def add_match(parser: argparse.ArgumentParser, *, default: str = NO_MATCH) -> None:
    parser.add_argument(
        "--match", default=default, metavar="none|image|pixel|majority|FILE",
        help="map predicted labels to classes: none (predictions are class ids), a matching computed "
        "here, or a match.json (default: %(default)s)",
    )
    add_solver(parser)


def add_solver(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--solver", choices=SOLVERS, default="munkres",
        help="assignment solver for image matching: munkres (official tie-breaking) or scipy (same optimum, "
        "faster, possibly another assignment on ties)",
    )


def match_argument(value: str):
    """The --match value for the library: None, a method name, or an existing file path."""
    if value == NO_MATCH:
        return None
    if value in MATCH_METHODS:
        return value
    if not os.path.isfile(value):
        raise FileNotFoundError(
            f"--match {value}: not a method ({NO_MATCH}, {', '.join(MATCH_METHODS)}) nor an existing "
            'match.json file; give one of those or the path of a {"0": 0, "1": j, ...} file'
        )
    return value


def check_workers(workers: int) -> int:
    if workers < 1:
        raise ValueError(f"--workers {workers}: give at least 1")
    return workers


def show_progress(args) -> bool:
    return not args.no_progress and sys.stderr.isatty()


def plain(value):
    """JSON-safe copy: numpy scalars/arrays to Python, NaN to None (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) else value
    return value


def dumps(document) -> str:
    return json.dumps(plain(document), indent=2, allow_nan=False) + "\n"


def warn(command: str, message: str) -> None:
    print(f"imagenets-hf {command}: warning: {message}", file=sys.stderr)


def note(command: str, message: str) -> None:
    print(f"imagenets-hf {command}: {message}", file=sys.stderr)
