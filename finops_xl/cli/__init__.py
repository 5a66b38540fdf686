"""``finops-xl``: the command line.

Every command that touches a store takes ``--store PATH`` (else ``$FINOPS_XL_STORE``, else the user's
data folder). Exit status: 0 success, 1 bad input (nothing changed), 2 usage error.

One module per command, each a thin adapter over a capability: ``register(sub, store_opt)`` adds its
subparser and sets its handler (``set_defaults(run=...)``); ``options`` holds what they share.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from finops_xl import __version__
from finops_xl.cli import (
    allocate,
    close,
    commitments,
    convert,
    demo,
    design,
    forecast,
    ingest,
    maintenance,
    opportunities,
    report,
    sample,
    serve,
    summary,
    validate,
    workbook,
)
from finops_xl.store.errors import StoreError, StoreTerminated
from finops_xl.store.outputs import refuse_overwrites

#: The commands, in the order ``finops-xl --help`` lists them.
COMMANDS = (maintenance, design, ingest, convert, validate, sample, summary, demo, allocate, close,
            forecast, workbook, commitments, opportunities, serve, report)


def _parser() -> argparse.ArgumentParser:
    store_opt = argparse.ArgumentParser(add_help=False)
    store_opt.add_argument(
        "--store", metavar="PATH",
        help="cost store folder (default: $FINOPS_XL_STORE, else finops-store in your data folder)",
    )
    store_opt.add_argument(
        "--as-of", metavar="VERSION|TIME", default=None,
        help="read the store as it was at that version (see `finops-xl history`) or time "
             "(2025-06-30, 2025-06-30T18:00:00, UTC)")
    p = argparse.ArgumentParser(
        prog="finops-xl", description="Cloud-cost finance for Excel: FOCUS cost store and tools."
    )
    p.add_argument("--version", action="version", version=f"finops-xl {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub, store_opt)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        refuse_overwrites(args)
        return args.run(args)
    except StoreError as exc:
        print(f"finops-xl {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # the reader went away (`finops-xl summary | head`): stop quietly, as other tools do
        _silence_stdout()
        return 141
    except StoreTerminated as exc:
        print(f"finops-xl {args.command}: {exc}", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"finops-xl {args.command}: interrupted; the store is unchanged unless a load had "
              "already finished", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place a defect meets the user
        if os.environ.get("FINOPS_XL_DEBUG"):
            raise
        print(f"finops-xl {args.command}: unexpected error ({type(exc).__name__}: {exc}).\n"
              "This is a defect of finops-xl, not of your data: please report it to the finops-xl "
              "maintainers (the issue tracker of the repository you installed from) with the command "
              "you ran and this message; run it again with FINOPS_XL_DEBUG=1 to add the traceback.",
              file=sys.stderr)
        return 2


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until the process ends
