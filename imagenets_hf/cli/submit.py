"""`imagenets-hf submit`: check test-set predictions and write the server's submission.zip."""

from __future__ import annotations

from . import _common

ORDER = 30


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "submit",
        help="check test predictions and pack submission.zip for the online server",
        description="Check that every test image of CONFIG has a valid prediction at the image's size, "
        "then write submission.zip (predictions <wnid>/<name>.png, optional match.json, method.txt). "
        "Nothing is written unless every prediction passes.",
    )
    _common.add_config(parser)
    _common.add_sources(parser, ground_truth=False)
    parser.add_argument("--method-name", required=True, help="name of your method (first line of method.txt)")
    parser.add_argument("--method-description", default="", help="a description of your method (method.txt)")
    parser.add_argument(
        "--match", metavar="FILE",
        help="match.json mapping your predicted labels to classes; predictions then use its labels",
    )
    parser.add_argument("--output", "-o", required=True, metavar="ZIP", help="submission zip to write")
    sizes = parser.add_mutually_exclusive_group(required=True)
    sizes.add_argument("--imagenet-dir", metavar="D", help="your ImageNet copy (test image sizes are read from it)")
    sizes.add_argument("--dataset", metavar="PREPARED", help="a prepared dataset holding the test split (the cache folder that `prepare` prints, or an export)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..configs import get_config
    from ..submission import check_submission, write_submission

    spec = get_config(args.config)
    match = None
    if args.match:
        from ..evaluation import load_match

        match = load_match(args.match, spec.num_classes)
    check = check_submission(
        args.predictions,
        spec.name,
        imagenet_dir=args.imagenet_dir,
        dataset=args.dataset,
        metadata_dir=args.metadata_dir,
        match=match,
        num_workers=_common.check_workers(args.workers),
        progress=_common.show_progress(args),
    )
    written = write_submission(
        check, args.output, method_name=args.method_name, method_description=args.method_description, match=match
    )
    if check.extra:
        _common.note(
            "submit",
            f"{len(check.extra)} predictions are not test images of config {spec.name} and were left out "
            f"(e.g. {', '.join(check.extra[:3])})",
        )
    extras = [name for name in written if "/" not in name]
    print(f"wrote {args.output}: {len(written) - len(extras)} predictions + {', '.join(extras)}")
    return 0
