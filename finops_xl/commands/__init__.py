"""The finops-xl commands, one module each: ``register(sub, store_opt)`` adds its subparser and sets
its handler (``set_defaults(run=...)``), a thin adapter over a capability."""

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
