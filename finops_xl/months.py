"""Months as the close and planning use them: a month is the date of its first day.

Pure Python (no DuckDB), so the Excel functions built on it also run in xlwings Lite.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re


def as_month(value: dt.date | str) -> dt.date:
    """A month from its first day or ``'YYYY-MM'``; a ValueError says what is wrong otherwise.

    >>> as_month("2025-03"), as_month(dt.date(2025, 3, 1))
    (datetime.date(2025, 3, 1), datetime.date(2025, 3, 1))
    """
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        if value.day != 1:
            raise ValueError(f"a month is given by its first day (or 'YYYY-MM'), not {value.isoformat()}")
        return value
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", str(value))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"month must be 'YYYY-MM' (e.g. '2025-03'), not {value!r}")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def add_months(month: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months from ``month``'s (any day of it).

    >>> add_months(dt.date(2025, 11, 1), 3), add_months(dt.date(2025, 1, 31), -1)
    (datetime.date(2026, 2, 1), datetime.date(2024, 12, 1))
    """
    y, m = divmod(month.year * 12 + month.month - 1 + n, 12)
    return dt.date(y, m + 1, 1)


def edate(day: dt.date, n: int) -> dt.date:
    """Excel's EDATE: the same day ``n`` months on, clamped to the month's last day.

    >>> edate(dt.date(2024, 1, 31), 1), edate(dt.date(2024, 2, 29), 12)
    (datetime.date(2024, 2, 29), datetime.date(2025, 2, 28))
    """
    first = add_months(day, n)
    return first.replace(day=min(day.day, calendar.monthrange(first.year, first.month)[1]))
