"""Fiscal calendars: fiscal year, quarter and label of a month, and fiscal roll-ups of monthly amounts.

Conventions (DESIGN "Conventions": fiscal calendars are a setting)
------------------------------------------------------------------
* A month is a ``datetime.date`` on day 1 (``'YYYY-MM'`` strings are accepted and converted).
* ``start_month`` is the calendar month (1–12) in which the fiscal year begins; 1 = calendar year.
* **A fiscal year is named by the calendar year in which it ends.** With ``start_month=7``, July 2025 –
  June 2026 is ``FY2026``; with ``start_month=1`` the fiscal year is the calendar year.
* Quarters are three-month blocks counted from ``start_month``: Q1 = the first three months.
* Roll-ups sum exactly (``Decimal``); nothing is rounded here.

Pure Python (no DuckDB) so it runs in xlwings Lite.

>>> fy = FiscalCalendar(7)
>>> fy.label("2025-07"), fy.label("2025-12"), fy.label("2026-06")
('FY2026 Q1', 'FY2026 Q2', 'FY2026 Q4')
>>> FiscalCalendar().label("2025-03")
'FY2025 Q1'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from finops_xl.months import add_months, as_month  # noqa: F401 - re-exported

ZERO = Decimal(0)


def month_range(start: dt.date | str, count: int) -> tuple[dt.date, ...]:
    """``count`` consecutive months from ``start``.

    >>> [m.isoformat() for m in month_range("2025-11", 3)]
    ['2025-11-01', '2025-12-01', '2026-01-01']
    """
    first = as_month(start)
    return tuple(add_months(first, i) for i in range(count))


class FiscalTotal(NamedTuple):
    """One fiscal period's total.

    Attributes:
      fiscal_year: named by the calendar year in which it ends.
      quarter: 1–4, or None for a whole-year total.
      label: ``'FY2026 Q1'`` or ``'FY2026'``.
      amount: exact sum of the period's amounts.
    """

    fiscal_year: int
    quarter: int | None
    label: str
    amount: Decimal


@dataclasses.dataclass(frozen=True)
class FiscalCalendar:
    """A fiscal calendar whose year begins in calendar month ``start_month`` (1 = January).

    Attributes:
      start_month: 1–12.  The fiscal year is named by the calendar year in which it ends.
    """

    start_month: int = 1

    def __post_init__(self):
        if isinstance(self.start_month, bool) or not isinstance(self.start_month, int) \
                or not 1 <= self.start_month <= 12:
            raise ValueError(f"start_month must be a whole number 1–12, not {self.start_month!r}")

    def fiscal_year(self, month: dt.date | str) -> int:
        """The fiscal year of ``month``, named by the calendar year in which it ends.

        >>> FiscalCalendar(7).fiscal_year("2025-06"), FiscalCalendar(7).fiscal_year("2025-07")
        (2025, 2026)
        """
        m = as_month(month)
        return m.year + (1 if self.start_month != 1 and m.month >= self.start_month else 0)

    def fiscal_quarter(self, month: dt.date | str) -> int:
        """Quarter 1–4 of ``month`` within its fiscal year.

        >>> FiscalCalendar(7).fiscal_quarter("2025-09"), FiscalCalendar(7).fiscal_quarter("2026-01")
        (1, 3)
        """
        m = as_month(month)
        return (m.month - self.start_month) % 12 // 3 + 1

    def label(self, month: dt.date | str) -> str:
        """``'FY<year> Q<n>'`` for ``month``."""
        return f"FY{self.fiscal_year(month)} Q{self.fiscal_quarter(month)}"

    def first_month(self, fiscal_year: int) -> dt.date:
        """The first month of ``fiscal_year``.

        >>> FiscalCalendar(7).first_month(2026)
        datetime.date(2025, 7, 1)
        """
        return dt.date(fiscal_year - (1 if self.start_month != 1 else 0), self.start_month, 1)

    def months(self, fiscal_year: int) -> tuple[dt.date, ...]:
        """The twelve months of ``fiscal_year``, in order."""
        return month_range(self.first_month(fiscal_year), 12)

    def by_quarter(self, rows: Iterable[tuple[dt.date | str, Decimal]]) -> tuple[FiscalTotal, ...]:
        """Exact totals of ``(month, amount)`` rows by fiscal quarter, in chronological order.

        Only quarters with at least one row appear.
        """
        totals: dict[tuple[int, int], Decimal] = {}
        for month, amount in rows:
            key = (self.fiscal_year(month), self.fiscal_quarter(month))
            totals[key] = totals.get(key, ZERO) + Decimal(amount)
        return tuple(FiscalTotal(y, q, f"FY{y} Q{q}", a) for (y, q), a in sorted(totals.items()))

    def by_year(self, rows: Iterable[tuple[dt.date | str, Decimal]]) -> tuple[FiscalTotal, ...]:
        """Exact totals of ``(month, amount)`` rows by fiscal year, in order (quarter is None)."""
        totals: dict[int, Decimal] = {}
        for month, amount in rows:
            y = self.fiscal_year(month)
            totals[y] = totals.get(y, ZERO) + Decimal(amount)
        return tuple(FiscalTotal(y, None, f"FY{y}", a) for y, a in sorted(totals.items()))


#: The calendar-year fiscal calendar (January start): FY = calendar year.
CALENDAR_YEAR = FiscalCalendar(1)
