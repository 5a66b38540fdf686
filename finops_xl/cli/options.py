"""What the commands share: the store a command names, a ``YYYY-MM`` option, the engine options,
``--store`` after an action, and how a command reports a failure or the file it wrote."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path


def store_of(args):
    """The store a command names (``--store``), as of ``--as-of`` if given."""
    from finops_xl.store.store import CostStore

    return CostStore(getattr(args, "store", None), as_of=getattr(args, "as_of", None))


def action_store() -> argparse.ArgumentParser:
    """``--store`` given after a command's action too (a parent parser of the actions)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS,
                        help="cost store file (as for the command)")
    return parser


def fail(command: str, problem) -> int:
    """Tell the user why ``finops-xl COMMAND`` stopped (on stderr); the exit status of bad input."""
    print(f"finops-xl {command}: {problem}", file=sys.stderr)
    return 1


def report_written(command: str, write, errors=(ValueError,), explain=str) -> int:
    """Run ``write()`` (it returns the path it wrote) and print ``wrote PATH``; on one of ``errors``,
    ``fail`` with ``explain(exc)`` instead."""
    try:
        path = write()
    except errors as exc:
        return fail(command, explain(exc))
    print(f"wrote {path}")
    return 0


def month_option(parser, help: str, **how) -> None:
    """``--month YYYY-MM`` (``how``: ``required=True``, or a default other than None)."""
    parser.add_argument("--month", type=month, metavar="YYYY-MM", help=help, **how)


def workbook_out(parser) -> None:
    """``--out FILE``, the workbook a command writes."""
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="the .xlsx file to write")


def month(text: str) -> dt.date:
    """A ``YYYY-MM`` option's value, as the first day of that month."""
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM, got {text!r}") from None


def engine_options() -> argparse.ArgumentParser:
    """``--engine`` and ``--spark``, for the commands that run on either engine (a parent parser)."""
    engine_opt = argparse.ArgumentParser(add_help=False)
    engine_opt.add_argument(
        "--engine", choices=("duckdb", "spark"), default="duckdb",
        help="where the work runs: duckdb (default) or spark (needs pyspark); both write the same "
             "store folder")
    engine_opt.add_argument(
        "--spark", metavar="URL", default=None,
        help="with --engine spark: a master URL (local[4], spark://host:7077, yarn) or a Spark "
             "Connect URL (sc://host:15002); default $FINOPS_XL_SPARK, else local[*]")
    return engine_opt


def spark_engine(args: argparse.Namespace):
    """The Spark engine ``--spark`` names (pyspark is imported only then)."""
    from finops_xl.engine.spark_engine import SparkEngine, spark_session

    return SparkEngine(spark_session(args.spark))


def file_options(parser, options) -> None:
    """Add each (flag, help) of ``options`` to ``parser`` as an optional file path."""
    for flag, text in options:
        parser.add_argument(flag, type=Path, default=None, metavar="FILE", help=text)
