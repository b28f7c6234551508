"""The ImageNet-S metric core (pure numpy/scipy).

Data flow: per-image statistics (`image_statistics`) -> `Accumulator` (add, merge)
-> matching (`resolve_match`) -> scores (`score`, `per_class`).
"""

from .accumulator import SIZE_BUCKETS, Accumulator, SizeBucket
from .api import accumulate, evaluate_segmentation, load_pair
from .boundary import boundary_band, boundary_width
from .matching import (
    MATCH_METHODS,
    SOLVERS,
    Matching,
    load_match,
    match_image,
    match_majority,
    match_pixel,
    match_to_json_dict,
    resolve_match,
    save_match,
)
from .munkres import munkres_assignment
from .scores import RESULT_KEYS, per_class, score
from .statistics import ImageStatistics, image_statistics

__all__ = [
    "SIZE_BUCKETS",
    "Accumulator",
    "SizeBucket",
    "accumulate",
    "evaluate_segmentation",
    "load_pair",
    "boundary_band",
    "boundary_width",
    "MATCH_METHODS",
    "SOLVERS",
    "Matching",
    "load_match",
    "match_image",
    "match_majority",
    "match_pixel",
    "match_to_json_dict",
    "resolve_match",
    "save_match",
    "munkres_assignment",
    "RESULT_KEYS",
    "per_class",
    "score",
    "ImageStatistics",
    "image_statistics",
]
