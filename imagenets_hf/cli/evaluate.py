"""`imagenets-hf evaluate` and `imagenets-hf match`: score or match a prediction folder."""

from __future__ import annotations

import sys

from .._io import atomic_write_text
from . import _common

ORDER = 20

SUMMARY_KEYS = ("Acc", "mIoU", "mBIoU", "S", "MS", "ML", "L", "BS", "BMS", "BML", "BL", "FMeasure")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a folder or zip of prediction PNGs",
        description="Score predictions <wnid>/<name>.png against ImageNet-S ground truth, in one pass "
        "over the images, and print the official numbers.",
    )
    _common.add_config(parser)
    _common.add_sources(parser)
    _common.add_match(parser)
    parser.add_argument("--save-match", metavar="FILE", help="also write the applied matching as match.json")
    parser.add_argument(
        "--json", metavar="OUT", help="write the results as JSON to OUT; '-' prints JSON instead of the table"
    )
    parser.add_argument("--per-class", action="store_true", help="also give IoU, boundary IoU and GT pixels per class")
    parser.set_defaults(run=run_evaluate)

    parser = subparsers.add_parser(
        "match",
        help="only match predicted labels to classes and write match.json",
        description="Compute the matching of unsupervised predictions to the ImageNet-S classes "
        "and write it in the official match.json format.",
    )
    _common.add_config(parser)
    _common.add_sources(parser)
    parser.add_argument(
        "--method", choices=("image", "pixel", "majority"), default="image",
        help="image (the official image-level matching), pixel or majority (default: %(default)s)",
    )
    _common.add_solver(parser)
    parser.add_argument("--output", "-o", required=True, metavar="FILE", help="match.json to write")
    parser.set_defaults(run=run_match)


def run_evaluate(args) -> int:
    from ..predictions import evaluate_predictions

    match = _common.match_argument(args.match)
    result = evaluate_predictions(
        args.predictions,
        args.ground_truth,
        args.config,
        match=match,
        solver=args.solver,
        **_common.source_options(args),
        with_per_class=args.per_class,
    )
    if args.save_match:
        if result.matching is None:
            raise ValueError("--save-match needs a matching: pass --match image, pixel, majority or a match.json")
        from ..evaluation import save_match

        save_match(result.matching, args.save_match)
        _common.note("evaluate", f"matching written to {args.save_match}")

    wnids = _wnids(args, result) if args.per_class else None
    document = result_document(result, args, wnids)
    _report_counts(result, match is None)
    if args.json == "-":
        sys.stdout.write(_common.dumps(document))
        return 0
    if args.json:
        atomic_write_text(args.json, _common.dumps(document))
        _common.note("evaluate", f"results written to {args.json}")
    print(summary_table(document))
    if args.per_class:
        print()
        print(per_class_table(document["per_class"]))
    return 0


def run_match(args) -> int:
    from ..evaluation import save_match
    from ..predictions import match_predictions

    matching = match_predictions(
        args.predictions,
        args.ground_truth,
        args.config,
        method=args.method,
        solver=args.solver,
        **_common.source_options(args),
    )
    save_match(matching, args.output)
    unit = "images" if args.method == "image" else "pixels"
    print(f"{matching.method} matching: total {matching.total} ({unit}); written to {args.output}")
    return 0


def _wnids(args, result):
    """["other", wnid, ...] for the per-class table; class ids only when no lists are at hand."""
    import os

    from ..metadata import load_metadata

    if args.metadata_dir or os.environ.get("IMAGENETS_METADATA_DIR") or result.used_metadata:
        return list(load_metadata(result.config.name, args.metadata_dir).label_names)
    return None


def result_document(result, args, wnids=None) -> dict:
    """Everything `evaluate` reports, as one JSON-ready dict."""
    scores = {key: value for key, value in result.scores.items() if key != "match"}
    document = {
        "config": result.config.name,
        "split": args.split,
        "num_images": result.num_images,
        "scores": scores,
        "match": None,
        "void_pixels": result.void_pixels,
        "missing_predictions": len(result.missing),
        "extra_predictions": len(result.extra),
    }
    if result.matching is not None:
        document["match"] = {
            "method": result.matching.method,
            "total": result.matching.total,
            "mapping": result.matching.to_json_dict(),
        }
    if result.per_class is not None:
        classes = result.per_class
        document["per_class"] = [
            {
                "class_id": label,
                "wnid": wnids[label] if wnids and label < len(wnids) else None,
                "IoU": classes["IoU"][label],
                "BIoU": classes["BIoU"][label],
                "gt_pixels": classes["gt_pixels"][label],
                "predicted_pixels": classes["predicted_pixels"][label],
            }
            for label in range(result.config.num_labels)
        ]
    return document


def _number(value) -> str:
    return "nan" if value is None or value != value else f"{value:.4f}"


def summary_table(document: dict) -> str:
    """The official numbers in the official order, one per line."""
    lines = [f"ImageNet-S {document['config']}, {document['split']}: {document['num_images']} images"]
    if document["match"] is not None:
        total = document["match"]["total"]
        lines[0] += f", {document['match']['method']} matching" + (f" (total {total})" if total is not None else "")
    width = max(len(key) for key in SUMMARY_KEYS)
    lines += [f"  {key:<{width}}  {_number(document['scores'][key]):>9}" for key in SUMMARY_KEYS]
    return "\n".join(lines)


def per_class_table(rows: list) -> str:
    lines = [f"{'class':>5}  {'wnid':<10}  {'IoU':>8}  {'BIoU':>8}  {'GT pixels':>12}"]
    for row in rows:
        wnid = row["wnid"] or ""
        lines.append(
            f"{row['class_id']:>5}  {wnid:<10}  {_number(row['IoU']):>8}  {_number(row['BIoU']):>8}  "
            f"{int(row['gt_pixels']):>12}"
        )
    return "\n".join(lines)


def _report_counts(result, unmatched: bool) -> None:
    if result.missing:
        _common.warn(
            "evaluate",
            f"{len(result.missing)} images had no prediction and were scored as all background (--allow-missing)",
        )
    if result.extra:
        _common.note(
            "evaluate",
            f"{len(result.extra)} predictions have no ground truth among the evaluated images and were not scored "
            f"(e.g. {', '.join(result.extra[:3])})",
        )
    if result.unmapped:
        labels = sorted(result.unmapped)
        shown = ", ".join(map(str, labels[:10])) + (", ..." if len(labels) > 10 else "")
        _common.warn(
            "evaluate",
            f"{sum(result.unmapped.values())} valid pixels are predicted with {len(labels)} labels that the "
            f"matching does not map ({shown}; counted as void: wrong for every class); "
            + ("add them to the match file" if result.matching.method == "given"
               else f"the computed matchings map labels 1..{result.config.num_classes} only"),
        )
    if unmatched and result.void_pixels:
        _common.warn(
            "evaluate",
            f"{result.void_pixels} valid pixels are predicted with labels above {result.config.num_classes} "
            "(counted as void: wrong for every class); use labels 0..N, or --match for cluster ids",
        )
