"""ImageNet-S for the Hugging Face stack.

Heavy dependencies (datasets, scipy) are imported on first use, so that
`import imagenets_hf` and the CLI start fast.
"""

from __future__ import annotations

import importlib

from .configs import CONFIGS, IGNORE_LABEL, MERGED_SYNSETS, get_config
from .masks import decode_mask, encode_mask, encode_mask_png

__version__ = "0.1.0"

# public name -> module that defines it (imported lazily)
_LAZY = {
    # datasets side
    "load_dataset": ".loading",
    "with_class_ids": ".loading",
    "ImageNetS": ".builder",
    "ImageNetSConfig": ".builder",
    "load_metadata": ".metadata",
    "Metadata": ".metadata",
    "export": ".export",
    # metric side
    "evaluate_segmentation": ".evaluation",
    "accumulate": ".evaluation",
    "Accumulator": ".evaluation",
    "image_statistics": ".evaluation",
    "resolve_match": ".evaluation",
    "score": ".evaluation",
    "per_class": ".evaluation",
    "load_match": ".evaluation",
    "save_match": ".evaluation",
    "evaluate_predictions": ".predictions",
}


def metric_path() -> str:
    """Path of the `evaluate` module's script, for `evaluate.load(metric_path(), "919")`.

    It is installed with the package (as imagenets_hf/imagenet_s/imagenet_s.py); in a
    source checkout it is metric/imagenet_s/imagenet_s.py.
    """
    import importlib.util
    import os

    try:
        spec = importlib.util.find_spec(f"{__name__}.imagenet_s")
    except ImportError:
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    folders.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "metric", "imagenet_s"))
    for folder in folders:
        path = os.path.join(folder, "imagenet_s.py")
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        "the ImageNet-S evaluate module was not found; reinstall imagenets-hf "
        "(pip install --force-reinstall imagenets-hf)"
    )


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name], __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONFIGS",
    "IGNORE_LABEL",
    "MERGED_SYNSETS",
    "get_config",
    "decode_mask",
    "encode_mask",
    "encode_mask_png",
    "metric_path",
    *_LAZY,
]
