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
    "load_dataset": ".loading",
    "ImageNetS": ".builder",
    "ImageNetSConfig": ".builder",
    "load_metadata": ".metadata",
    "Metadata": ".metadata",
    "evaluate_segmentation": ".evaluation",
    "Accumulator": ".evaluation",
    "image_statistics": ".evaluation",
}


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
    *_LAZY,
]
