"""Foreign-exchange rates for the close: a rate table, and conversions that show the rate they used.

The rate table is a CSV, one rate per row::

    month,from_currency,to_currency,rate,kind
    2025-01,EUR,USD,1.0350,average
    2025-01,EUR,USD,1.0420,closing

- ``month`` (``YYYY-MM``) or ``date`` (``YYYY-MM-DD``, e.g. the closing date 2025-01-31): a file may
  have either column or both, each row fills exactly one; a date stands for its month.
- ``rate``: units of ``to_currency`` per one unit of ``from_currency``, positive, read as an exact
  decimal (never through float).
- ``kind``: ``average`` (the month's average rate: income and expense, e.g. cloud cost of the
  month) or ``closing`` (the rate on the month's last day: balances, e.g. accrued liabilities and
  prepaid assets at month end) — the IAS 21 / ASC 830 convention.

One rate per month, currency pair and kind; a second row for the same is an error. Problems are
reported together, each naming the file, row and column, and nothing is loaded.

Conversion (``convert``):

- the **same currency** converts at 1, with or without a table;
- a **direct rate** (from → to) is used when the table has it;
- else the **inverse** of the opposite rate (to → from) of the same month and kind:
  ``amount ÷ rate`` (the division is exact to 12 decimals, not a multiplication by a rounded
  reciprocal); the rate reported is 1 ÷ rate to 28 significant digits, marked as derived;
- no **cross rates** through a third currency: a missing pair is a ``MissingRateError`` naming the
  pair, month and kind, and the months the table does have for that pair.

Converted amounts are Decimal at the store's 12 decimals (half-even); round to the target
currency's minor unit only when posting or presenting (``money.round_money``).

>>> rates = RateTable.from_rows([("2025-01", "EUR", "USD", "1.0350", "average")])
>>> c = convert(Decimal("1000.00"), "EUR", "USD", dt.date(2025, 1, 15), "average", rates)
>>> c.amount, c.rate, c.source
(Decimal('1035.000000000000'), Decimal('1.0350'), 'rows row 1')
>>> convert(Decimal("1035"), "USD", "EUR", dt.date(2025, 1, 1), "average", rates).amount
Decimal('1000.000000000000')
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from pathlib import Path

#: Rate kinds.
KINDS = ("average", "closing")
#: Precision of converted amounts: the store's DECIMAL(38,12).
QUANTUM = Decimal("1e-12")

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class RateTableError(ValueError):
    """A rate table with problems; ``problems`` lists each (file, row, column, message)."""

    def __init__(self, source: str, problems: list[tuple[int, str, str]]):
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  {source}: row {row}, column {col}: {msg}" for row, col, msg in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the rate table, nothing loaded:\n{lines}")


class MissingRateError(LookupError):
    """No rate (direct or inverse) for a currency pair, month and kind."""


@dataclasses.dataclass(frozen=True)
class Rate:
    """One rate of the table.

    Attributes:
      month: first day of the month it applies to.  from_currency, to_currency: ISO 4217.
      rate: units of to_currency per unit of from_currency.  kind: average or closing.
      source: where it came from (``rates.csv row 3``).
    """

    month: dt.date
    from_currency: str
    to_currency: str
    rate: Decimal
    kind: str
    source: str


@dataclasses.dataclass(frozen=True)
class Conversion:
    """A converted amount with the rate that made it.

    Attributes:
      amount: the converted amount (12 decimals, half-even).  original: the amount given.
      from_currency, to_currency, month, kind: what was asked.
      rate: to_currency per from_currency as applied (1 for the same currency; 1 ÷ the table's
        rate, to 28 digits, when derived).
      source: the table row used, ``inverse of <row>`` when derived, or ``identity``.
      inverse: True when the rate was derived from the opposite direction.
    """

    amount: Decimal
    original: Decimal
    from_currency: str
    to_currency: str
    month: dt.date
    kind: str
    rate: Decimal
    source: str
    inverse: bool = False


class RateTable:
    """Rates by (month, from, to, kind). Build with ``load_rates`` or ``RateTable.from_rows``."""

    def __init__(self, rates: Iterable[Rate] = ()):
        self._rates: dict[tuple[dt.date, str, str, str], Rate] = {}
        for r in rates:
            self._rates[(r.month, r.from_currency, r.to_currency, r.kind)] = r

    def __len__(self) -> int:
        return len(self._rates)

    def __iter__(self):
        return iter(sorted(self._rates.values(), key=lambda r: (r.month, r.from_currency,
                                                                 r.to_currency, r.kind)))

    @classmethod
    def from_rows(cls, rows: Iterable[Iterable[str]], source: str = "rows") -> RateTable:
        """A table from (month or date, from_currency, to_currency, rate, kind) tuples of text."""
        records = [dict(zip(("period", "from_currency", "to_currency", "rate", "kind"), map(str, r)))
                   for r in rows]
        return cls(_parse(records, source, period_column="period"))

    def get(self, from_currency: str, to_currency: str, month: dt.date, kind: str) -> Rate | None:
        """The direct rate, or None."""
        return self._rates.get((month.replace(day=1), from_currency.upper(), to_currency.upper(), kind))

    def months(self, from_currency: str, to_currency: str, kind: str) -> tuple[dt.date, ...]:
        """Months with a rate of this kind for the pair, in either direction."""
        a, b = from_currency.upper(), to_currency.upper()
        return tuple(sorted({m for (m, f, t, k) in self._rates if k == kind and {f, t} == {a, b}}))


def load_rates(path: str | Path) -> RateTable:
    """The rate table in the CSV at ``path`` (see the module docstring); RateTableError lists every
    problem, by row and column."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            records = list(reader)
    except FileNotFoundError:
        raise FileNotFoundError(f"no rate table at {path}") from None
    need = {"from_currency", "to_currency", "rate", "kind"}
    problems = [(1, c, "missing column") for c in sorted(need - set(header))]
    if not {"month", "date"} & set(header):
        problems.append((1, "month", "missing column (month YYYY-MM or date YYYY-MM-DD)"))
    if problems:
        raise RateTableError(str(path), problems)
    return RateTable(_parse(records, str(path), period_column=None))


def _parse(records: list[dict], source: str, period_column: str | None) -> list[Rate]:
    problems: list[tuple[int, str, str]] = []
    seen: dict[tuple, int] = {}
    rates = []
    for n, rec in enumerate(records, start=1):
        rec = {k: (v or "").strip() for k, v in rec.items() if k is not None}
        row_problems = len(problems)
        month = _period(rec, n, period_column, problems)
        cur = {}
        for col in ("from_currency", "to_currency"):
            value = rec.get(col, "").upper()
            if not _CURRENCY.match(value):
                problems.append((n, col, f"{rec.get(col, '')!r} is not an ISO 4217 code (3 letters)"))
            cur[col] = value
        rate = None
        try:
            rate = Decimal(rec.get("rate", ""))
            if not rate.is_finite() or rate <= 0:
                problems.append((n, "rate", f"{rec.get('rate')!r} must be a positive number"))
        except InvalidOperation:
            problems.append((n, "rate", f"{rec.get('rate', '')!r} is not a number"))
        kind = rec.get("kind", "").lower()
        if kind not in KINDS:
            problems.append((n, "kind", f"{rec.get('kind', '')!r} must be average or closing"))
        if len(problems) > row_problems:
            continue
        if cur["from_currency"] == cur["to_currency"] and rate != 1:
            problems.append((n, "rate", f"{cur['from_currency']} to itself must be 1, not {rate}"))
            continue
        key = (month, cur["from_currency"], cur["to_currency"], kind)
        if key in seen:
            problems.append((n, "rate", (f"second {kind} rate for {key[1]} to {key[2]} in "
                                         f"{month:%Y-%m} (first on row {seen[key]})")))
            continue
        seen[key] = n
        rates.append(Rate(month, cur["from_currency"], cur["to_currency"], rate, kind,
                          f"{Path(source).name} row {n}"))
    if problems:
        raise RateTableError(source, problems)
    return rates


def _period(rec: dict, n: int, period_column: str | None, problems: list) -> dt.date | None:
    if period_column is not None:
        text = rec.get(period_column, "")
        column = "date" if len(text) > 7 else "month"
    else:
        month, date = rec.get("month", ""), rec.get("date", "")
        if bool(month) == bool(date):
            problems.append((n, "month", "give exactly one of month (YYYY-MM) or date (YYYY-MM-DD)"))
            return None
        text, column = (month, "month") if month else (date, "date")
    try:
        if column == "month":
            if not re.fullmatch(r"\d{4}-\d{2}", text):
                raise ValueError
            return dt.date.fromisoformat(text + "-01")
        return dt.date.fromisoformat(text).replace(day=1)
    except ValueError:
        what = "month (YYYY-MM)" if column == "month" else "date (YYYY-MM-DD)"
        problems.append((n, column, f"{text!r} is not a {what}"))
        return None


def convert(amount: Decimal | int | str, from_currency: str, to_currency: str, month: dt.date,
            kind: str, rates: RateTable | None) -> Conversion:
    """``amount`` in ``from_currency`` converted to ``to_currency`` at ``month``'s ``kind`` rate.

    Parameters
    ----------
    amount : Decimal, int or str
        Never float (money is exact).
    from_currency, to_currency : str
        ISO 4217 codes.
    month : date
        Any day of the month whose rate applies.
    kind : "average" or "closing"
        Average for the month's income and expense, closing for month-end balances.
    rates : RateTable or None
        The table (None only for a same-currency conversion).

    Returns
    -------
    Conversion
        The amount (12 decimals, half-even) with the rate and its source.

    Notes
    -----
    Direct rate: ``amount × rate``; only the opposite rate: ``amount ÷ rate``; same currency:
    identity. MissingRateError otherwise, naming the pair, month and kind.
    """
    if isinstance(amount, float):
        raise TypeError("amount is a float: money is Decimal (pass Decimal('1.10') or a string)")
    if kind not in KINDS:
        raise ValueError(f"kind must be average or closing, not {kind!r}")
    amount = Decimal(amount)
    a, b = from_currency.upper(), to_currency.upper()
    m = month.replace(day=1)
    if a == b:
        return Conversion(_q(amount), amount, a, b, m, kind, Decimal(1), "identity")
    if rates is None:
        raise MissingRateError(f"no rate table given to convert {a} to {b} ({kind}, {m:%Y-%m})")
    direct = rates.get(a, b, m, kind)
    if direct is not None:
        return Conversion(_q(amount * direct.rate), amount, a, b, m, kind, direct.rate, direct.source)
    opposite = rates.get(b, a, m, kind)
    if opposite is not None:
        with localcontext() as ctx:
            ctx.prec = 60
            converted = _q(amount / opposite.rate)
        with localcontext() as ctx:
            ctx.prec = 28
            derived = Decimal(1) / opposite.rate
        return Conversion(converted, amount, a, b, m, kind, derived, f"inverse of {opposite.source}",
                          inverse=True)
    have = rates.months(a, b, kind)
    known = (f"; the table has {kind} rates for {a}/{b} in " + ", ".join(f"{x:%Y-%m}" for x in have)
             if have else f"; the table has no {kind} rate for {a}/{b} in any month")
    raise MissingRateError(f"no {kind} rate for {a} to {b} in {m:%Y-%m} (nor {b} to {a} to "
                           f"invert){known}: add a row month={m:%Y-%m}, from_currency={a}, "
                           f"to_currency={b}, rate=…, kind={kind}")


def _q(x: Decimal) -> Decimal:
    return x.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
