"""What the commands share: the store a command names, a ``YYYY-MM`` option, the engine options."""

from __future__ import annotations

import argparse
import datetime as dt


def store_of(args):
    """The store a command names (``--store``), as of ``--as-of`` if given."""
    from finops_xl.store.store import CostStore

    return CostStore(getattr(args, "store", None), as_of=getattr(args, "as_of", None))


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
