"""ImageNet-S as a datasets loading script, for users of datasets 3.x (which still runs scripts).

    load_dataset("loading_script/imagenet_s.py", "919", data_dir="/data/imagenet", trust_remote_code=True)
    # optional config kwargs: annotations=ZIP_OR_FOLDER, metadata_dir=FOLDER, embed_images=True, ...

The script is a thin shell: the builder lives in the `imagenets_hf` package
(pip install imagenets-hf), so both give exactly the same examples.
datasets 3.x picks, in a script module, the DatasetBuilder subclass defined in
the module itself (datasets.load.import_main_class), hence the subclass below.
"""

import datasets

_DATASETS_MAJOR = int(datasets.__version__.split(".")[0])

if _DATASETS_MAJOR >= 4:
    raise ImportError(
        f"imagenet_s.py is a loading script, which datasets {datasets.__version__} (>= 4) no longer runs: "
        "build ImageNet-S with imagenets_hf.load_dataset(CONFIG, imagenet_dir=...), or load an export "
        "(`imagenets-hf export`) with datasets.load_dataset(FOLDER_OR_REPO_ID, CONFIG)."
    )

from imagenets_hf.builder import ImageNetS as _PackageBuilder  # noqa: E402
from imagenets_hf.builder import ImageNetSConfig  # noqa: E402,F401  (re-exported for config_kwargs users)


class ImageNetS(_PackageBuilder):
    """The package's ImageNet-S builder; `data_dir` is the user's ImageNet copy (the script convention)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if getattr(self.config, "imagenet_dir", None) is None and self.config.data_dir:
            self.config.imagenet_dir = self.config.data_dir
