"""`imagenets-hf show`: panels of chosen or worst images and the per-class IoU plot."""

from __future__ import annotations

from . import _common

ORDER = 40


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "show",
        help="draw ground truth vs prediction panels and the per-class IoU plot (needs matplotlib)",
        description="Draw, for chosen images (--images) or the worst-scoring ones (--worst, by per-image "
        "mIoU over the labels present), [image,] ground truth and prediction side by side, and the "
        'per-class IoU sorted with the size-bucket scores. Needs: pip install "imagenets-hf[show]".',
    )
    _common.add_config(parser)
    _common.add_sources(parser)
    _common.add_match(parser)
    choose = parser.add_mutually_exclusive_group()
    choose.add_argument("--images", nargs="+", metavar="NAME", help="images to draw (wnid/NAME)")
    choose.add_argument("--worst", type=int, metavar="K", help="draw the K worst-scoring images (default 8)")
    parser.add_argument("--imagenet-dir", metavar="D", help="your ImageNet copy, to show the picture too")
    parser.add_argument(
        "--output-dir", "-o", required=True, metavar="OUT",
        help="folder to write per_class_iou.png and panels/<wnid>_<name>.png into",
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..show import require_matplotlib, show_predictions

    try:
        require_matplotlib()
    except ImportError as error:
        raise ValueError(str(error)) from None
    result = show_predictions(
        args.predictions,
        args.ground_truth,
        args.config,
        args.output_dir,
        images=args.images,
        worst=args.worst,
        match=_common.match_argument(args.match),
        solver=args.solver,
        imagenet_dir=args.imagenet_dir,
        **_common.source_options(args),
    )
    print(f"per-class IoU plot: {result.per_class_plot} (mIoU {result.scores['mIoU']:.2f})")
    for relpath, miou, path in result.panels:
        shown = "n/a" if miou != miou else f"{miou:.1f}"
        print(f"  {relpath}  image mIoU {shown}  -> {path}")
    return 0
