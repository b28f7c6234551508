"""ImageNet-S semantic segmentation metric (the official evaluator's numbers, on the CPU).

A thin `evaluate` adapter over `imagenets_hf.evaluation`: every image is reduced
to its statistics (a few hundred ints, never pixels) when it is added, so the
module works with `num_process`/`process_id` and any dataset size.
"""

import datasets
import evaluate
import numpy as np

try:
    from imagenets_hf.evaluation import (
        Accumulator,
        ImageStatistics,
        image_statistics,
        resolve_match,
        score,
    )
    from imagenets_hf.masks import decode_mask
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the imagenet_s metric needs the imagenets-hf package: pip install imagenets-hf"
    ) from error

_CITATION = """\
@article{gao2022luss,
  title={Large-scale Unsupervised Semantic Segmentation},
  author={Gao, Shanghua and Li, Zhong-Yu and Yang, Ming-Hsuan and Cheng, Ming-Ming and Han, Junwei and Torr, Philip},
  journal={IEEE Transactions on Pattern Analysis and Machine Intelligence},
  year={2022}
}
"""

_DESCRIPTION = """\
The ImageNet-S benchmark metric (50, 300 or 919 classes; the config name is the
number of classes). It reproduces every number of the official evaluator:
image-level accuracy (Acc), mIoU over all N + 1 labels, boundary IoU (mBIoU),
mIoU per object-size bucket (S, MS, ML, L) and its boundary variant (BS, BMS,
BML, BL), the F-measure of foreground (FMeasure) and the per-class IoUs,
optionally after the official image-level Hungarian matching of unsupervised
predictions (ties broken exactly as the official munkres 1.1.4 does).
Masks use the official encoding: label = R + 256 * G; 1000 is "ignore".
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: one per image: an (H, W) integer label map (numpy array or
        nested list), a PIL image or PNG bytes (official RGB encoding, or
        single-channel). Labels above N are void predictions.
    references: the ground-truth masks, same kinds and sizes.
    match: None (predictions use class ids 1..N), "image" (the official
        image-level matching), "pixel" or "majority" (non-official options),
        a {predicted label: class} dict, or a path to an official match.json.
    solver: "munkres" (default: the official assignment, ties included) or
        "scipy" (same optimum, possibly a different assignment on ties).
Returns:
    Acc, mIoU, mBIoU, S, MS, ML, L, BS, BMS, BML, BL, FMeasure: floats in
    percent (a size bucket without any object is NaN);
    IoUs: list of N + 1 floats, background first;
    match: {"0": 0, "1": j1, ...} (official match.json layout), only when a
    matching was applied.
Examples:
    >>> import numpy as np
    >>> import evaluate
    >>> metric = evaluate.load("metric/imagenet_s", "50")
    >>> reference = np.zeros((4, 4), dtype=np.uint16)
    >>> reference[1:3, 1:3] = 7          # a 2 x 2 object of class 7
    >>> reference[0, 0] = 1000           # an ignored pixel
    >>> prediction = np.zeros((4, 4), dtype=np.uint16)
    >>> prediction[1:3, 1:4] = 7         # 4 pixels right, 2 too many: IoU 4 / 6
    >>> # background: 9 of 15 valid pixels predicted 0, all truly 0, of 11: IoU 9 / 11
    >>> results = metric.compute(predictions=[prediction], references=[reference])
    >>> print(round(results["IoUs"][7], 2), round(results["IoUs"][0], 2), results["Acc"])
    66.67 81.82 100.0
"""

_STATISTICS_DOC = (
    "Stored per image: `predictions` = the image's statistics (flat ints: raw predicted "
    "label, ground-truth label, band flags, pixel count, ...), `references` = [height, width]."
)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ImagenetS(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION + "\n" + _STATISTICS_DOC,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int64")),
                    "references": datasets.Sequence(datasets.Value("int64")),
                }
            ),
            reference_urls=["https://github.com/LUSSeg/ImageNet-S"],
        )

    @property
    def num_classes(self) -> int:
        name = self.config_name if self.config_name not in (None, "default") else "919"
        if name not in ("50", "300", "919"):
            raise ValueError(f"unknown ImageNet-S config {name!r}: load the metric with '50', '300' or '919'")
        return int(name)

    def _reduce(self, prediction, reference, index):
        # nested lists (as evaluate may hand back) are label maps too
        prediction = np.asarray(prediction) if isinstance(prediction, (list, tuple)) else prediction
        reference = np.asarray(reference) if isinstance(reference, (list, tuple)) else reference
        prediction = decode_mask(prediction, name=f"prediction {index}")
        reference = decode_mask(reference, name=f"reference {index}")
        if prediction.shape != reference.shape:
            raise ValueError(
                f"prediction {index} is {prediction.shape[1]}x{prediction.shape[0]} but its reference is "
                f"{reference.shape[1]}x{reference.shape[0]} (W x H); predictions must have the mask's size"
            )
        statistics = image_statistics(prediction, reference, self.num_classes)
        return statistics.to_dict()["pairs"], list(reference.shape)

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of images; each is reduced to its statistics right away (no pixels are kept).
        """
        if predictions is None or references is None:
            raise ValueError("add_batch needs both predictions and references")
        if len(predictions) != len(references):
            raise ValueError(f"got {len(predictions)} predictions but {len(references)} references")
        reduced = [self._reduce(p, r, i) for i, (p, r) in enumerate(zip(predictions, references))]
        super().add_batch(
            predictions=[statistics for statistics, _ in reduced], references=[size for _, size in reduced], **kwargs
        )

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one image; it is reduced to its statistics right away (no pixels are kept).
        """
        if prediction is None or reference is None:
            raise ValueError("add needs both a prediction and a reference")
        statistics, size = self._reduce(prediction, reference, 0)
        super().add(prediction=statistics, reference=size, **kwargs)

    def _compute(self, predictions, references, match=None, solver="munkres"):
        accumulator = Accumulator(self.num_classes)
        for flat in predictions:
            accumulator.add(ImageStatistics.from_flat(flat, self.num_classes))
        return score(accumulator, resolve_match(accumulator, match, solver))
