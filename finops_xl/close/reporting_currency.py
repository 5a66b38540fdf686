"""The close in a reporting currency: daily rates → the month's average and closing rates → every
journal entry translated, the difference on its own line.

Rates file (``load_rates``), one of:

- ``date,from_currency,to_currency,rate`` — one rate per day and pair: units of ``to_currency`` per
  one unit of ``from_currency`` (``2025-03-31,NOK,USD,0.0950``). The opposite direction is used as
  1 ÷ rate. No cross rates through a third currency.
- the ECB euro foreign exchange reference rates CSV (``eurofxref-hist.csv`` / ``eurofxref.csv``:
  ``Date,USD,JPY,…`` — units of each currency per 1 EUR; ``N/A`` where none was published). Other
  pairs are crossed through the euro day by day (NOK→USD = USD per EUR ÷ NOK per EUR), as the ECB
  describes its rates' use for cross rates.

The month's rates (IAS 21.39–40, ASC 830-30-45: a period's income and expenses at the rates of the
transaction dates, for which an average rate for the period is a practical approximation; assets
and liabilities at the closing rate):

- **average** = the arithmetic mean of the month's daily rates (every date in the month the file
  has; the ECB publishes on TARGET business days);
- **closing** = the rate of the latest date in the month the file has (the month's last business
  day for the ECB).

A month with no rate for a pair is refused, naming the pair and the month (and the dates the file
has for it) — never a silent 1 or a neighbouring month.

Translation (``translate_entries``) of an entry in currency C ≠ the reporting currency R: each
profit-and-loss line (expense accounts) at the average rate of the close month, each balance-sheet
line (accrued liabilities, accounts payable, prepaid, cash, receivable, software assets — the
``LedgerMap`` balance-sheet accounts) at its closing rate, each rounded to R's minor unit; the
entry's Σ debits − Σ credits left by the two rates is posted to ``LedgerMap.fx_difference`` (the
translation difference; IAS 21.41 takes it to other comprehensive income when the whole operation
is translated — map the account to your CTA / OCI account). Every entry of one close (its reversal
included) uses that close month's rates, so an accrual and its reversal translate to opposite
amounts.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path

from finops_xl.close.journal import Entry, LedgerMap, entry
from finops_xl.money import round_money

ZERO = Decimal(0)


class RatesError(ValueError):
    """A rates file that cannot be used, or a rate it does not have (one line, the fix named)."""


@dataclasses.dataclass(frozen=True)
class DailyRates:
    """Daily rates: (from, to) → date → rate; ``base`` for an ECB file (EUR), else None."""

    source: str
    rates: dict[tuple[str, str], dict[dt.date, Decimal]]
    base: str | None = None

    def _daily(self, a: str, b: str) -> dict[dt.date, Decimal]:
        with localcontext() as ctx:
            ctx.prec = 28
            if (a, b) in self.rates:
                return self.rates[(a, b)]
            if (b, a) in self.rates:
                return {d: 1 / r for d, r in self.rates[(b, a)].items()}
            if self.base and self.base not in (a, b):
                x, y = self._daily(self.base, a), self._daily(self.base, b)
                return {d: y[d] / x[d] for d in x.keys() & y.keys()}
        return {}

    def month_rate(self, a: str, b: str, month: dt.date, kind: str) -> Decimal:
        """The ``kind`` (average or closing) rate of ``month`` for a → b (module docstring)."""
        a, b = a.upper(), b.upper()
        if a == b:
            return Decimal(1)
        ms = month.replace(day=1)
        daily = self._daily(a, b)
        days = sorted(d for d in daily if (d.year, d.month) == (ms.year, ms.month))
        if not days:
            have = sorted(daily)
            span = f"it has {a}→{b} from {have[0]} to {have[-1]}" if have else f"it has no {a}/{b} rate at all"
            raise RatesError(f"{self.source}: no {a}→{b} rate dated in {ms:%Y-%m} (needed for the "
                             f"{kind} rate of {ms:%Y-%m}; {span}): add the month's rates to the file")
        with localcontext() as ctx:
            ctx.prec = 28
            if kind == "closing":
                return daily[days[-1]]
            return sum((daily[d] for d in days), ZERO) / len(days)


def load_rates(path: str | Path) -> DailyRates:
    """Daily rates from a ``date,from_currency,to_currency,rate`` CSV or the ECB reference CSV."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            body = list(reader)
    except FileNotFoundError:
        raise FileNotFoundError(f"no rates file at {path}") from None
    lower = [h.lower() for h in header]
    rates: dict[tuple[str, str], dict[dt.date, Decimal]] = defaultdict(dict)
    if {"date", "from_currency", "to_currency", "rate"} <= set(lower):
        i = {name: lower.index(name) for name in ("date", "from_currency", "to_currency", "rate")}
        for n, row in enumerate(body, start=2):
            if not any(c.strip() for c in row):
                continue
            get = {k: (row[j].strip() if j < len(row) else "") for k, j in i.items()}
            day = _date(path, n, get["date"])
            a, b = get["from_currency"].upper(), get["to_currency"].upper()
            for col, code in (("from_currency", a), ("to_currency", b)):
                if len(code) != 3 or not code.isalpha():
                    raise RatesError(f"{path}: line {n}: column {col}: {get[col]!r} is not an ISO 4217 "
                                     "code (3 letters, e.g. USD)")
            rate = _rate(path, n, "rate", get["rate"])
            if day in rates[(a, b)]:
                raise RatesError(f"{path}: line {n}: a second {a}→{b} rate for {day}: keep one")
            rates[(a, b)][day] = rate
        return DailyRates(str(path), dict(rates))
    if lower and lower[0] == "date" and len(header) > 1:  # ECB: Date,USD,JPY,... per 1 EUR
        codes = header[1:]
        for n, row in enumerate(body, start=2):
            if not row or not row[0].strip():
                continue
            day = _date(path, n, row[0].strip())
            for code, cell in zip(codes, row[1:]):
                cell = cell.strip()
                if not code or not cell or cell.upper() == "N/A":
                    continue
                rates[("EUR", code.upper())][day] = _rate(path, n, code, cell)
        return DailyRates(str(path), dict(rates), base="EUR")
    raise RatesError(f"{path}: line 1: the header needs date, from_currency, to_currency, rate (or the ECB "
                     f"layout Date,USD,JPY,…); found {', '.join(header) or 'nothing'}")


def _date(path: Path, n: int, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RatesError(f"{path}: line {n}: column date: {text!r} is not a date (YYYY-MM-DD)") from None


def _rate(path: Path, n: int, column: str, text: str) -> Decimal:
    try:
        rate = Decimal(text)
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or rate <= 0:
        raise RatesError(f"{path}: line {n}: column {column}: {text!r} is not a positive number")
    return rate


def balance_sheet_accounts(ledger: LedgerMap) -> frozenset[str]:
    """The ledger map's balance-sheet accounts (translated at the closing rate)."""
    return frozenset((ledger.accrued_liabilities, ledger.accounts_payable, ledger.prepaid_current,
                      ledger.prepaid_noncurrent, ledger.cash, ledger.receivable,
                      ledger.asset_under_construction, ledger.capitalized_software,
                      ledger.accumulated_amortization))


def translate_entries(entries: Iterable[Entry], currency: str, rates: DailyRates, month: dt.date,
                      ledger: LedgerMap = LedgerMap()) -> tuple[Entry, ...]:
    """Every entry in ``currency`` (module docstring); entries already in it are unchanged."""
    currency = currency.upper()
    bs = balance_sheet_accounts(ledger)
    out = []
    for e in entries:
        if e.currency == currency:
            out.append(e)
            continue
        avg = rates.month_rate(e.currency, currency, month, "average")
        clo = rates.month_rate(e.currency, currency, month, "closing")
        debits, credits = [], []
        for line in e.lines:
            rate = clo if line.account in bs else avg
            amount = round_money((line.debit or line.credit) * rate, currency)
            item = (line.account, line.cost_center, amount, line.memo, line.source)
            (debits if line.debit else credits).append(item)
        diff = sum((d[2] for d in debits), ZERO) - sum((c[2] for c in credits), ZERO)
        memo = (f"Translation difference {e.currency}→{currency} {month:%Y-%m} (average {avg:.6f}, "
                f"closing {clo:.6f})")
        if diff > 0:
            credits.append((ledger.fx_difference, "", diff, memo, f"fx:{e.id}"))
        elif diff < 0:
            debits.append((ledger.fx_difference, "", -diff, memo, f"fx:{e.id}"))
        out.append(entry(e.id, e.date, currency, e.kind, debits, credits,
                         f"{e.memo} (from {e.currency} at average {avg:.6f} / closing {clo:.6f})".strip(),
                         e.reverses_on))
    return tuple(out)


def translate_amount(amount: Decimal, from_currency: str, currency: str, rates: DailyRates,
                     month: dt.date, kind: str) -> Decimal:
    """One amount at the month's ``kind`` rate, rounded to ``currency``'s minor unit."""
    return round_money(amount * rates.month_rate(from_currency, currency, month, kind), currency)


def translate_variance(report, currency: str, rates: DailyRates, *, budget_currency: str | None = None):
    """A ``variance.VarianceReport`` in ``currency``: actuals (and the price and volume effects,
    unit prices) at each line's month average rate — they are P&L amounts — and the budget at the
    same rate when it is in the billing currency (``budget_currency`` None or the billing
    currency), as it is when it already is in ``currency``. The variance is recomputed as
    actual − budget, so it adds up in the reporting currency."""
    import dataclasses as dc

    currency = currency.upper()
    src = report.currency
    budget_currency = (budget_currency or src).upper()
    if budget_currency not in (src, currency):
        raise RatesError(f"the budget is in {budget_currency}: give it in {src} (the billing currency) or "
                         f"{currency} (the reporting currency)")
    lines = []
    with localcontext() as ctx:
        ctx.prec = 38
        for ln in report.lines:
            rate = rates.month_rate(src, currency, ln.month, "average")

            def x(v):
                return None if v is None else v * rate
            actual = ln.actual * rate
            budget = ln.budget * rate if budget_currency == src else ln.budget
            variance = actual - budget
            pct = variance / budget if budget else None
            price = volume = None
            if ln.price_effect is not None and ln.volume_effect is not None:
                volume = x(ln.volume_effect) if budget_currency == src else ln.volume_effect
                price = variance - volume
            lines.append(dc.replace(ln, budget=budget, actual=actual, variance=variance, variance_pct=pct,
                                    budget_unit_price=(x(ln.budget_unit_price) if budget_currency == src
                                                       else ln.budget_unit_price),
                                    actual_unit_price=x(ln.actual_unit_price),
                                    price_effect=price, volume_effect=volume))
    return dc.replace(report, currency=currency, lines=tuple(lines),
                      notes=report.notes + (f"translated from {src} to {currency} at each month's average "
                                            "rate (P&L)",))
