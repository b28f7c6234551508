"""The dataset card (README.md body) of an exported ImageNet-S folder.

The YAML header is written by `imagenets_hf.export.write_card`; this module
renders the Markdown that follows it from that header, so the table of
configs always matches what the folder holds.
"""

from __future__ import annotations

from .configs import CITATION, CONFIGS, IGNORE_LABEL, SPLITS


SPLIT_DESCRIPTIONS = {
    "train": "unlabelled training images (no mask): the fully unsupervised and distance-matching protocols train on these",
    "train_semi": "about 1% of the training images (10 per class) with a pixel mask: semi-supervised fine-tuning",
    "validation": "images with public pixel masks: evaluate here",
    "test": "images whose masks are only on the authors' evaluation server (no mask here)",
}


def _split_sizes(card_data: dict) -> dict[str, dict[str, int]]:
    infos = card_data.get("dataset_info") or []
    if isinstance(infos, dict):
        infos = [infos]
    return {
        info.get("config_name", "default"): {s["name"]: s.get("num_examples", 0) for s in info.get("splits") or []}
        for info in infos
    }


def _num_classes(card_data: dict) -> dict[str, int]:
    """Classes per config, read from the label feature's names (["other", wnid...]) in dataset_info."""
    infos = card_data.get("dataset_info") or []
    result = {}
    for info in [infos] if isinstance(infos, dict) else infos:
        for feature in info.get("features") or []:
            names = (feature.get("dtype") or {}).get("class_label", {}).get("names") if isinstance(feature.get("dtype"), dict) else None
            if feature.get("name") == "label" and names:
                result[info.get("config_name", "default")] = len(names) - 1
    return result


def _configs_table(card_data: dict) -> str:
    sizes = _split_sizes(card_data)
    classes_of = _num_classes(card_data)
    names = [c["config_name"] for c in card_data.get("configs") or []]
    lines = [
        "| config | classes | " + " | ".join(SPLITS) + " |",
        "|---|---|" + "---|" * len(SPLITS),
    ]
    for name in names:
        classes = classes_of.get(name, CONFIGS[name].num_classes if name in CONFIGS else "?")
        counts = [f"{sizes.get(name, {}).get(split, 0):,}" if split in sizes.get(name, {}) else "-" for split in SPLITS]
        lines.append(f'| "{name}" | {classes} | ' + " | ".join(counts) + " |")
    return "\n".join(lines)


def render_card(card_data: dict) -> str:
    """Markdown body of the card for the folder described by `card_data` (the README's YAML as a dict)."""
    names = [c["config_name"] for c in card_data.get("configs") or []]
    example = "919" if "919" in names else (names[0] if names else "919")
    split_lines = "\n".join(f"- `{split}`: {text}." for split, text in SPLIT_DESCRIPTIONS.items())
    return f"""
# ImageNet-S

ImageNet-S is the benchmark of **large-scale unsupervised semantic segmentation**
(LUSS) by Gao et al. (TPAMI 2022, [LUSSeg/ImageNet-S](https://github.com/LUSSeg/ImageNet-S)).
It is built on ImageNet-1k: 1.2 million training images of 919 classes, and
about 50,000 images annotated with precise pixel masks for evaluation (the
validation and test images) and for semi-supervised fine-tuning (10 training
images per class). Two smaller subsets with 300 and 50 classes make
experiments cheaper. Models learn categories without labels, and are scored
on how well their segments match the annotated classes.

This repository holds the benchmark as Parquet files (images and masks
embedded), one config per class subset, so that it loads with
`datasets.load_dataset` without any loading script.

## Configs and splits

{_configs_table(card_data)}

{split_lines}

```python
from datasets import load_dataset

imagenet_s = load_dataset("ORG/NAME", "{example}")              # this repository (private or gated: log in first)
validation = load_dataset("ORG/NAME", "{example}", split="validation", streaming=True)
example = next(iter(validation))
```

## Fields

- `image_id` (string): unique in its split, "wnid/NAME", e.g. "n01443537/ILSVRC2012_val_00004677".
- `image` (Image): the ImageNet JPEG, unchanged.
- `label` (ClassLabel): names `["other", wnid_1, ..., wnid_N]` (WordNet ids, sorted), so that an
  image's label is the class id that its mask pixels carry; 0 is "other" (background).
- `segmentation` (Image): the official RGB PNG mask, unchanged, for `train_semi` and `validation`;
  None for `train` and `test`.
- `imagenet_synset` (string): the synset of the image's original ImageNet folder. It differs from
  `label` for the validation images the authors relabelled and for the five merged synsets of config
  "919" (n04356056 -> n04355933, n04493381 -> n02808440, n03642806 -> n03832673,
  n04008634 -> n03773504, n03887697 -> n15075141).

## Mask encoding

A mask is an RGB PNG; the class id of a pixel is `R + 256 * G` (B is unused). 0 is "other"
(background), 1..N are the classes (the sorted category list, 1-based), {IGNORE_LABEL} marks pixels to
ignore (borders, unsure regions): they count in no statistic. Compute in a type wider than uint8:

```python
import numpy as np
from imagenets_hf import decode_mask

rgb = np.asarray(example["segmentation"].convert("RGB"))
class_ids = rgb[..., 0].astype(np.uint16) + 256 * rgb[..., 1].astype(np.uint16)   # (H, W) uint16
class_ids = decode_mask(example["segmentation"])                                    # the same, one call
```

Predictions use the same encoding: class I is written as (R, G, B) = (I % 256, I // 256, 0).

## Evaluation protocols

The authors define four protocols; submissions to their server must name one.

- **Fully unsupervised**: no human labels in training (ImageNet-S images only, unsupervised
  pre-training, label generation and fine-tuning allowed). The model's own categories are matched
  to the ground-truth classes (default: the official image-level matching) before scoring.
- **Distance matching**: an unsupervised pre-trained model only; class embeddings come from the
  pixel-labelled `train_semi` images and are matched by distance to the validation/test pixels.
- **Semi-supervised**: fine-tune with the ~1% pixel-labelled `train_semi` images; no matching.
- **Free**: anything goes (supervised pre-training, extra data, saliency...) except the annotations
  of the validation and test images.

Pre-training on config "919" and fine-tuning on "300" or "50" is not allowed.

## Evaluate

With the `evaluate` module of the `imagenets-hf` project
(the official numbers: mIoU, Acc, mBIoU, size buckets S/MS/ML/L, boundary buckets, F-measure):

```python
import evaluate
import imagenets_hf

metric = evaluate.load(imagenets_hf.metric_path(), "{example}")   # installed with imagenets-hf
for example in validation:
    prediction = my_model(example["image"])               # (H, W) integer class ids, or an RGB PNG as above
    metric.add(prediction=prediction, reference=example["segmentation"])
scores = metric.compute(match="image")                    # "image" (official default for unsupervised), None when already matched
```

or without `evaluate`:

```python
from imagenets_hf import evaluate_segmentation

scores = evaluate_segmentation(zip(predictions, references), num_classes={CONFIGS[example].num_classes if example in CONFIGS else 919}, match="image")
print(scores["mIoU"], scores["Acc"])
```

Test-set scores come only from the authors' online server.

## Rebuild this repository, or push it

Nothing here can be rebuilt without a copy of ImageNet-1k. With one:

```bash
pip install imagenets-hf
imagenets-hf export 50 300 919 --output imagenet-s-hub --imagenet-dir /data/imagenet
imagenets-hf push imagenet-s-hub --repo-id ORG/NAME --private
```

or, in Python, `imagenets_hf.load_dataset("919", imagenet_dir=...).push_to_hub("ORG/NAME",
config_name="919", private=True)` (one config per call).

## Licence

The images are ImageNet's: the [ImageNet terms of access](https://image-net.org/download.php)
apply (non-commercial research and education, no redistribution). **Do not make a copy of this
dataset public**: push it privately or to a gated repository whose users have accepted ImageNet's
terms. The masks and lists are the ImageNet-S authors' (see their repository).

## Citation

```bibtex
{CITATION}
```
"""
