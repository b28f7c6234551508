"""Matchings from predicted labels to classes, and the official match.json format.

- `match_image`: the official image-level matching (default `solver="munkres"`
  reproduces munkres 1.1.4's assignment exactly, ties included; `solver="scipy"`
  reaches the same optimum, possibly with a different assignment on ties).
- `match_pixel`, `match_majority`: non-official options (pixel-count Hungarian;
  many-to-one majority vote for over-clustered predictions).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Mapping, Union

import numpy as np

from .._io import atomic_write_text
from ..masks import MAX_LABEL
from .accumulator import Accumulator
from .munkres import munkres_assignment

MATCH_METHODS = ("image", "pixel", "majority")
SOLVERS = ("munkres", "scipy")

MatchSpec = Union[None, str, "os.PathLike[str]", Mapping[int, int]]


@dataclass(frozen=True)
class Matching:
    """A map from raw predicted labels to labels 0..N (background 0 maps to 0).

    Attributes:
        mapping: {predicted label: class}; labels not in it become void.
        total: the maximised objective (images for "image", pixels for
            "pixel"/"majority"); None for a user-given matching.
        method: "image", "image (scipy)", "pixel", "majority" or "given".
    """

    mapping: dict[int, int] = field(repr=False)
    total: int | None
    method: str

    def to_json_dict(self) -> dict[str, int]:
        return match_to_json_dict(self.mapping)


def match_image(accumulator: Accumulator, solver: str = "munkres") -> Matching:
    """The official image-level matching.

    A[i - 1, j - 1] = images where predicted label i and class j both occur (valid
    pixels, i, j in 1..N); cost = float32(1 - A / images) as Python floats,
    solved by munkres 1.1.4's algorithm (or scipy on the integer counts).
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}: use one of {', '.join(map(repr, SOLVERS))}")
    if accumulator.num_images == 0:
        raise ValueError("cannot match predictions to classes before any image was added")
    cooccurrence = accumulator.cooccurrence()
    if solver == "munkres":
        cost = (1 - cooccurrence / accumulator.num_images).astype(np.float32).astype(np.float64)
        pairs = munkres_assignment(cost)
        rows = np.array([i for i, _ in pairs], dtype=np.int64)
        columns = np.array([j for _, j in pairs], dtype=np.int64)
        method = "image"
    else:
        from scipy.optimize import linear_sum_assignment  # scipy loads in ~0.3 s: only when used

        rows, columns = linear_sum_assignment(cooccurrence, maximize=True)
        method = "image (scipy)"
    mapping = {0: 0, **{int(i) + 1: int(j) + 1 for i, j in zip(rows, columns)}}
    return Matching(mapping, int(cooccurrence[rows, columns].sum()), method)


def match_pixel(accumulator: Accumulator) -> Matching:
    """Non-official: one-to-one matching maximising matched pixels (valid pixels where
    predicted label i meets class j), over raw labels >= 1 (above N included) and classes 1..N."""
    labels, confusion = accumulator.confusion()
    keep = labels >= 1
    labels, confusion = labels[keep], confusion[keep, 1:]
    from scipy.optimize import linear_sum_assignment

    rows, columns = linear_sum_assignment(confusion, maximize=True) if len(labels) else ([], [])
    mapping = {0: 0, **{int(labels[i]): int(j) + 1 for i, j in zip(rows, columns)}}
    return Matching(mapping, int(confusion[rows, columns].sum()), "pixel")


def match_majority(accumulator: Accumulator) -> Matching:
    """Non-official, many-to-one: each raw label >= 1 goes to the label 0..N it overlaps
    most (first on ties); for over-clustered predictions (labels up to 65535)."""
    labels, confusion = accumulator.confusion()
    keep = labels >= 1
    labels, confusion = labels[keep], confusion[keep]
    best = confusion.argmax(axis=1)
    mapping = {0: 0, **{int(label): int(j) for label, j in zip(labels, best)}}
    return Matching(mapping, int(confusion[np.arange(len(labels)), best].sum()), "majority")


def resolve_match(accumulator: Accumulator, match: MatchSpec, solver: str = "munkres") -> Matching | None:
    """Turn the user's `match` into a Matching.

    `match`: None (no matching: labels 0..N are classes), "image" (official),
    "pixel", "majority", a {predicted: class} mapping, or a path to a match.json.
    """
    if match is None:
        return None
    if isinstance(match, Matching):
        return match
    if isinstance(match, Mapping):
        return Matching(validate_mapping(match, accumulator.num_classes, "the given matching"), None, "given")
    if isinstance(match, str) and match in MATCH_METHODS:
        if match == "image":
            return match_image(accumulator, solver)
        return match_pixel(accumulator) if match == "pixel" else match_majority(accumulator)
    if isinstance(match, (str, os.PathLike)):
        path = os.fspath(match)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"match {path!r} is neither one of {', '.join(map(repr, MATCH_METHODS))} nor an existing match.json file"
            )
        return Matching(load_match(path, accumulator.num_classes), None, "given")
    raise ValueError(
        f"match must be None, {', '.join(map(repr, MATCH_METHODS))}, a dict or a match.json path; got {type(match).__name__}"
    )


def validate_mapping(mapping: Mapping, num_classes: int | None, what: str) -> dict[int, int]:
    """{int predicted label: int class} with 0 -> 0 added if absent; ValueError naming `what` otherwise."""
    result: dict[int, int] = {}
    for key, value in mapping.items():
        try:
            label = int(key)
        except (TypeError, ValueError):
            raise ValueError(f"{what}: key {key!r} is not an int predicted label") from None
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{what}: label {key!r} maps to {value!r}, which is not an int class")
        target = int(value)
        if not 0 <= label <= MAX_LABEL or str(label) != str(key).strip():
            raise ValueError(f"{what}: key {key!r} is not a predicted label in 0..{MAX_LABEL}")
        if target < 0 or (num_classes is not None and target > num_classes):
            limit = f"0..{num_classes}" if num_classes is not None else ">= 0"
            raise ValueError(f"{what}: label {label} maps to {target}, outside the classes {limit}")
        result[label] = target
    if result.setdefault(0, 0) != 0:
        raise ValueError(f"{what}: background (label 0) must map to 0, not {result[0]}")
    return result


def match_to_json_dict(mapping: Mapping[int, int]) -> dict[str, int]:
    """The official match.json layout: {"0": 0, "1": j1, ...}, string keys, int values."""
    return {str(label): int(target) for label, target in sorted(mapping.items())}


def load_match(path: str | os.PathLike, num_classes: int | None = None) -> dict[int, int]:
    """Read an official match.json ({"0": 0, "1": j1, ...}); ValueError naming the file if malformed."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"match file not found: {path}")
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a JSON file ({error}); a match file is {{\"0\": 0, \"1\": j1, ...}}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object {{\"0\": 0, \"1\": j1, ...}}, got a {type(data).__name__}")
    if any(not isinstance(value, int) or isinstance(value, bool) for value in data.values()):
        raise ValueError(f"{path}: every value must be an int class, as in {{\"0\": 0, \"1\": j1, ...}}")
    return validate_mapping(data, num_classes, path)


def save_match(mapping: Mapping[int, int] | Matching, path: str | os.PathLike) -> None:
    """Write `mapping` as an official match.json, atomically."""
    if isinstance(mapping, Matching):
        mapping = mapping.mapping
    atomic_write_text(path, json.dumps(match_to_json_dict(validate_mapping(mapping, None, "matching"))) + "\n")
