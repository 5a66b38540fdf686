"""Errors of finops-xl's inputs and of the cost store, each naming what to fix.

An ingest error lists every problem found in the input, each with the file and, where it applies,
the data row (1-based, header excluded), the column and the offending value. A failed load
changes nothing in the store.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with one input file.

    Attributes:
      file: the input file, as the user named it.
      message: what is wrong, in words an analyst can act on.
      row: 1-based data row (the header is row 0; in a CSV, data row N is line N + 1), if any.
      column: the column, as named in the file, if any.
      value: the offending value as text, if any.
      count: how many rows share this problem (the first one is reported in ``row``).
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    count: int = 1

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        text = f"{', '.join(where)}: {self.message}"
        if self.value is not None:
            text += f" (value {self.value!r})"
        if self.count > 1:
            text += f" [{self.count:,} rows; first shown]" if self.row is not None else f" [{self.count:,} rows]"
        return text


@dataclasses.dataclass(frozen=True)
class Notice(Problem):
    """Something a load did, skipped or could not determine that the user must know; unlike a
    Problem it does not stop the load. It is printed, kept in the load report and recorded in the
    store (``load_notices``, and on the slices it concerns).

    Attributes (besides Problem's):
      amount: the money concerned, when there is one (e.g. the cost of rows whose EffectiveCost is
        unknown), in ``currency``.
    """

    amount: Decimal | None = None
    currency: str | None = None

    def __str__(self) -> str:
        text = super().__str__()
        if self.amount is not None:
            text += f" [{self.amount:,.2f} {self.currency or ''}]".replace(" ]", "]")
        return text


class StoreError(Exception):
    """Base class of the store's errors: the message is meant for the user."""


class StoreNotFoundError(StoreError):
    """The store file does not exist (nothing has been ingested there yet)."""


class StoreUnreadableError(StoreError):
    """The store path exists but cannot be opened as a cost store (another file, a folder, locked)."""


class IngestError(StoreError):
    """An input could not be loaded. The store is unchanged."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        lines = [str(p) for p in self.problems]
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found; nothing was loaded:"
        super().__init__("\n  ".join([head, *lines]))


class StoreTerminated(BaseException):
    """SIGTERM arrived while a writer ran: its copy is removed, the store unchanged (the message
    says). A BaseException, like KeyboardInterrupt, so no ``except Exception`` swallows it."""
