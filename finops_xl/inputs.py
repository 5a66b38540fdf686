"""Small tables analysts supply as CSV (an AP list, a budget, drivers, unit costs, …): read with
their row numbers.

``csv_rows`` yields each non-blank data row as a dict of the requested columns, with its 1-based
data row number (header excluded), after checking the file exists, has a header, and has every
required column. Header names match ignoring case, spaces and ``-`` (``Service Category`` →
``service_category``). Problems are raised as the caller's error class, each naming the file (and
the column), so every loader reports the same way; :class:`InputError` is a ready error class
(a subclass names its table in ``what``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from finops_xl.errors import Problem


class InputError(ValueError):
    """A table an analyst supplied that cannot be used; ``problems`` names file, row and column of each."""

    #: The table, as the message names it ("1 problem in the drivers:").
    what = "the input"

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        n = len(self.problems)
        super().__init__("\n  ".join([f"{n} problem{'s' if n != 1 else ''} in {self.what}:",
                                      *(str(p) for p in self.problems)]))


def header_name(name: str) -> str:
    """A CSV header normalized for matching: ``Invoice ID`` → ``invoice_id``."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def csv_rows(path: str | Path, required: Sequence[str], optional: Sequence[str],
             error: Callable[[list[Problem]], Exception]) -> Iterator[tuple[int, dict[str, str]]]:
    """(data row number, {column: stripped text}) for each non-blank row of ``path``.

    Raises ``error(problems)`` when the file is missing, empty, or lacks a required column.
    """
    path = Path(path)
    label = str(path)
    if not path.is_file():
        raise error([Problem(label, "no such file")])
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            raise error([Problem(label, "empty file: expected a header row with " + ", ".join(required))])
        names = [header_name(h) for h in header]
        missing = [c for c in required if c not in names]
        if missing:
            raise error([Problem(label, f"missing column {c} (the header has: {', '.join(header)})",
                                 column=c) for c in missing])
        col = {c: names.index(c) for c in (*required, *optional) if c in names}
        for i, raw in enumerate(reader, start=1):
            if not any(v.strip() for v in raw):
                continue
            raw = raw + [""] * (len(names) - len(raw))
            yield i, {c: raw[j].strip() for c, j in col.items()}
