"""`imagenets-hf push`: upload an exported folder to a private (or gated) dataset repo on the hub."""

from __future__ import annotations

import argparse
import json

ORDER = 61


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "push",
        help="upload an `imagenets-hf export` folder to a private or gated dataset repo on the hub",
        description=(
            "Upload DIR (made by `imagenets-hf export`) to the hub dataset repo ORG/NAME in one commit. "
            "Configs that the repo's README.md already lists (pushed from another folder) stay listed. "
            "ImageNet's terms forbid public copies: the repo is private unless --gated is given. "
            "The token comes from HF_TOKEN or `hf auth login`."
        ),
    )
    parser.add_argument("folder", metavar="DIR", help="the folder written by `imagenets-hf export`")
    parser.add_argument("--repo-id", required=True, metavar="ORG/NAME", help="dataset repository (created if needed)")
    parser.add_argument("--private", action="store_true", default=True, help="create the repo private (the default)")
    parser.add_argument(
        "--gated", choices=("auto", "manual"),
        help="create a public repo whose users must first accept its terms (approved automatically or by you)",
    )
    parser.add_argument("--revision", metavar="BRANCH", help="branch to commit to (created if needed; default main)")
    parser.add_argument("--dry-run", action="store_true", help="only list what would be uploaded (no network, no token)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=run)


def _visibility(args: argparse.Namespace) -> str:
    return f"gated ({args.gated})" if args.gated else "private"


def run(args: argparse.Namespace) -> int:
    from ..hub import check_repo_id, list_upload

    check_repo_id(args.repo_id)  # a dry run catches what the real push would refuse
    files = list_upload(args.folder)
    total = sum(file.size for file in files)
    if args.dry_run:
        if args.json:
            print(json.dumps({
                "repo_id": args.repo_id, "visibility": _visibility(args), "revision": args.revision or "main",
                "files": [{"path": file.path, "size": file.size} for file in files], "total_size": total,
            }, indent=2))
            return 0
        print(f"would upload to dataset {args.repo_id} ({_visibility(args)}, revision {args.revision or 'main'}):")
        width = len(f"{total:,}")
        for file in files:
            print(f"  {file.size:>{width},}  {file.path}")
        print(f"  {total:>{width},}  total, {len(files)} files")
        print(f"configs that the README.md of {args.repo_id} already lists and this folder lacks stay listed "
              "(not looked up: a dry run does not contact the hub)")
        return 0
    commit = _push(args)
    url = getattr(commit, "commit_url", None) or str(commit)
    if args.json:
        print(json.dumps({"repo_id": args.repo_id, "commit": url, "files": len(files), "total_size": total}))
    else:
        print(f"uploaded {len(files)} files ({total:,} bytes) to dataset {args.repo_id}: {url}")
        print(f'load it with datasets.load_dataset("{args.repo_id}", CONFIG) after `hf auth login`')
    return 0


def _push(args: argparse.Namespace):
    """`hub.push`, with the hub's refusals (offline, no token, no rights) as one-line user errors."""
    from huggingface_hub import errors

    from ..hub import push

    try:
        return push(args.folder, args.repo_id, private=args.private, gated=args.gated, revision=args.revision)
    except errors.OfflineModeIsEnabled:
        raise ValueError(
            "offline mode is on (HF_HUB_OFFLINE): unset it to push; --dry-run checks the folder offline"
        ) from None
    except errors.LocalTokenNotFoundError:
        raise ValueError("no hub token: run `hf auth login` or set HF_TOKEN, then push again") from None
    except errors.HfHubHTTPError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"the hub refused the push to {args.repo_id} ({first_line}); check your token (HF_TOKEN or "
            f"`hf auth login`) and that it may write to {args.repo_id.split('/')[0]}"
        ) from None
