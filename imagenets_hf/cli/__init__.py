"""The `imagenets-hf` command line: one entry point, one module per subcommand.

Every module in this package that defines `register(subparsers)` adds its
subcommand(s); `register` must call `parser.set_defaults(run=function)` where
`function(args) -> int` does the work. Modules are ordered by their `ORDER`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import io
import logging
import os
import pkgutil
import sys
import warnings

USER_ERRORS = (
    ValueError, FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError, PermissionError, KeyError
)


RESUMABLE = ("export", "prepare")  # commands whose re-run keeps what an interrupted run finished


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imagenets-hf",
        description="ImageNet-S for the Hugging Face stack: prepare, evaluate, submit, export.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback on errors (also IMAGENETS_HF_DEBUG=1)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.register(subparsers)
    return parser


@contextlib.contextmanager
def _plain_warnings(command: str, *, verbose: bool):
    """Warnings read "imagenets-hf CMD: warning: ..." (not file:line plus a source line), and
    the library's log records, which repeat them at length, stay quiet unless debugging."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"imagenets-hf {command}: warning: {message}", file=sys.stderr)

    library_logger = logging.getLogger("imagenets_hf")
    level = library_logger.level
    with warnings.catch_warnings():
        warnings.showwarning = show
        if not verbose:
            library_logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            library_logger.setLevel(level)


_OS_ERROR_HINTS = {
    # errors that os.makedirs / open raise with only "[Errno N] text: 'path'"
    errno.EEXIST: "cannot create the folder {path}: a file of that name is in the way; give another path",
    errno.ENOTDIR: "{path}: part of that path is a file, not a folder; give another path",
    errno.EACCES: "{path}: permission denied; give a path you can write to (or read, for inputs)",
}


def _explain(error: BaseException):
    """The message to print: a bare errno message from the OS gets the path first and what to do."""
    if isinstance(error, OSError) and error.filename and str(error).startswith("[Errno"):
        hint = _OS_ERROR_HINTS.get(error.errno)
        return hint.format(path=error.filename) if hint else f"{error.filename}: {error.strerror}"
    return error


def _user_error(error: BaseException):
    """`error` if it is a user error; else the user error that `datasets` wrapped while
    building (DatasetGenerationError "from" the builder's ValueError); else None."""
    if isinstance(error, USER_ERRORS):
        return error
    if type(error).__name__ == "DatasetGenerationError" and isinstance(error.__cause__, USER_ERRORS):
        return error.__cause__
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 user error) instead of exiting."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _plain_warnings(args.command, verbose=args.debug or bool(os.environ.get("IMAGENETS_HF_DEBUG"))):
            return int(args.run(args) or 0)
    except BrokenPipeError:
        # the reader went away (`imagenets-hf evaluate ... | head`): stop quietly like other
        # Unix tools; stdout goes to devnull so the interpreter's final flush cannot fail again
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass
        return 141  # 128 + SIGPIPE, what a shell reports for a killed writer
    except Exception as error:
        user_error = _user_error(error)
        if user_error is None or args.debug or os.environ.get("IMAGENETS_HF_DEBUG"):
            raise
        message = user_error.args[0] if isinstance(user_error, KeyError) and user_error.args else _explain(user_error)
        print(f"imagenets-hf {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # only export and prepare keep finished work; the others start from the beginning
        again = "to resume" if args.command in RESUMABLE else "to start again"
        print(f"imagenets-hf {args.command}: interrupted; re-run the same command {again}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
