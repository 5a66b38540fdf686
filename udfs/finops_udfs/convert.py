"""Conversion at the Excel boundary, in one place: Excel values in, Python values out, and back.

What arrives differs by runtime: under Office.js (xlwings Server, Lite) an empty cell arrives as 0
and a date as its serial number; under the classic add-in an empty cell is None and a date cell a
datetime. Ranges arrive as a scalar (one cell), a list (one row or column) or a list of lists.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal

#: Excel's 1900 date system: serial 1 is 1900-01-01, and serial 60 is the 1900-02-29 that never
#: was (kept for Lotus 1-2-3 compatibility), so serials from 61 on count from 1899-12-30.
_EPOCH = dt.date(1899, 12, 30)
_MAX_SERIAL = 2958465  # 9999-12-31


class ArgumentError(ValueError):
    """An argument the user must change; the message names it and says how."""


def is_empty(value) -> bool:
    """True for an empty cell or omitted argument: None, "", or (Office.js) 0."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, (list, tuple)):
        return all(is_empty(v) for v in flatten(value))
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


def flatten(value) -> list:
    """A scalar, 1-D or 2-D range as a flat list, row by row."""
    if isinstance(value, (list, tuple)):
        out: list = []
        for v in value:
            out.extend(flatten(v))
        return out
    return [value]


def _one_cell(value, name: str, what: str):
    """The single cell of a one-cell range (or the scalar itself)."""
    if not isinstance(value, (list, tuple)):
        return value
    cells = flatten(value)
    if len(cells) != 1:
        raise ArgumentError(f"{name} must be one {what}, not a range of {len(cells)} cells")
    return cells[0]


def to_date(value, name: str) -> dt.date:
    """A date argument: a date or datetime cell, an Excel serial number, or ISO text (2025-01-31)."""
    value = _one_cell(value, name, "date")
    if is_empty(value):
        raise ArgumentError(f"{name} is empty: give a date, e.g. DATE(2025,1,1)")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ArgumentError(f"{name} must be a date, not TRUE/FALSE")
    if isinstance(value, (int, float)):
        if math.isnan(value) or not 1 <= value <= _MAX_SERIAL:
            raise ArgumentError(f"{name} ({value}) is not a valid Excel date")
        serial = int(math.floor(value))
        if serial == 60:
            raise ArgumentError(f"{name} is 1900-02-29, a date that does not exist")
        if serial < 60:
            serial += 1  # before the phantom 1900-02-29
        return _EPOCH + dt.timedelta(days=serial)
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ArgumentError(f"{name} ({value!r}) is not a date: use a date cell, DATE(2025,1,1) "
                                "or text like 2025-01-01") from None
    raise ArgumentError(f"{name} must be a date")


def to_text(value, name: str, *, optional: bool = False) -> str | None:
    """A text argument (a dimension, a metric); None when optional and empty."""
    value = _one_cell(value, name, "value")
    if is_empty(value):
        if optional:
            return None
        raise ArgumentError(f"{name} is empty")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def to_values(value) -> list[str]:
    """A filter value: one cell, or a range of several values (empty cells ignored)."""
    out = []
    for cell in flatten(value):
        if is_empty(cell):
            continue
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)
        out.append(str(cell).strip())
    return out


def pairs(values: Iterable, name: str = "filters") -> tuple[list[tuple[object, object]], object | None]:
    """Dimension/value pairs from repeating arguments, and an odd last value (if any).

    Each argument is one cell or a range; a two-column range is read as rows of pairs. Pairs whose
    dimension cell is empty are skipped, so a filter table with blank rows works.
    """
    cells: list = []
    for v in values:
        if isinstance(v, (list, tuple)) and v and isinstance(v[0], (list, tuple)) and len(v[0]) == 2:
            for row in v:
                cells.extend(row)  # a two-column range: each row is dimension, value
        else:
            cells.append(v)
    while cells and is_empty(cells[-1]):
        cells.pop()  # trailing empty arguments are omitted arguments
    leftover = cells.pop() if len(cells) % 2 else None
    return [(cells[i], cells[i + 1]) for i in range(0, len(cells), 2)], leftover


def number(amount: Decimal | None) -> float | None:
    """Decimal money to an Excel number (a double); None stays None."""
    return None if amount is None else float(amount)


def table(header: Iterable, rows: Iterable[Iterable]) -> list[list]:
    """A spilled table: header row first; Decimal → number; None → empty cell."""
    out = [list(header)]
    for r in rows:
        out.append([("" if v is None else float(v) if isinstance(v, Decimal) else v) for v in r])
    return out


def to_decimal(value, name: str) -> Decimal:
    """A number argument as an exact Decimal (an Excel double is read by its shortest repr)."""
    value = _one_cell(value, name, "number")
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise ArgumentError(f"{name} must be a number")
    try:
        number_ = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except ArithmeticError:
        raise ArgumentError(f"{name} ({value!r}) is not a number") from None
    if not number_.is_finite():
        raise ArgumentError(f"{name} must be a finite number")
    return number_


def to_decimals(value, name: str) -> list[Decimal]:
    """A range of numbers (empty cells are not allowed: say 0)."""
    cells = flatten(value)
    if not cells:
        raise ArgumentError(f"{name} is empty")
    return [to_decimal(c if c is not None else "", f"{name} cell {i + 1}") for i, c in enumerate(cells)]


def to_integer(value, name: str) -> int:
    d = to_decimal(value, name)
    if d != d.to_integral_value():
        raise ArgumentError(f"{name} must be a whole number")
    return int(d)


def like(shape, values: list) -> list[list]:
    """``values`` spilled in the shape of the range ``shape`` came in: one row stays a row, anything
    else becomes a column."""
    if isinstance(shape, (list, tuple)) and len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        return [list(values)]
    return [[v] for v in values]
