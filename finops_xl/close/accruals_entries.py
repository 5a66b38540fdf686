"""The accrual's journal entries, the true-up against the final bill, and the record file of a
month's accrual (``accruals`` re-exports them)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections import defaultdict
from decimal import Decimal, localcontext
from pathlib import Path

import duckdb

from finops_xl.allocation.showback import round_parts
from finops_xl.close.accruals_basis import (
    _basis,
)
from finops_xl.close.accruals_model import (
    DEFAULT_LEDGER,
    RECORD_FORMAT,
    RECORD_VERSION,
    ZERO,
    AccrualError,
    AccrualLine,
    AccrualResult,
    FixedFee,
    _in_currency,
    _ts,
    month_start,
    next_month,
)
from finops_xl.close.accruals_owners import (
    _cost_center,
    _owner_amounts,
    _resolve_owner_source,
)
from finops_xl.close.journal import Entry, LedgerMap, entry
from finops_xl.money import minor_unit, round_money

# ---- entries ---------------------------------------------------------------------------------


def _round_lines(amounts: list[Decimal], currency: str, total: Decimal) -> list[Decimal]:
    """``amounts`` rounded to the currency's minor unit, adding up to ``total`` exactly."""
    if not amounts:
        return []
    quantum = Decimal(1).scaleb(-minor_unit(currency))
    parts = round_parts(list(amounts), quantum, total)
    residual = total - sum(parts, ZERO)
    if residual:  # round_parts moves at most one unit per line; put what is left on the largest
        i = max(range(len(amounts)), key=lambda j: (abs(amounts[j]), -j))
        parts[i] += residual
    return parts


def _entry_id(prefix: str, month: dt.date, currency: str, currencies) -> str:
    base = f"{prefix}-{month:%Y-%m}"
    return base if len(currencies) <= 1 else f"{base}-{currency}"


def _by_post(lines, value) -> dict[tuple[str, str], Decimal]:
    acc: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for l in lines:
        acc[(l.cost_center, l.account)] += value(l)
    return dict(sorted(acc.items()))


def accrual_entries(result: AccrualResult, reversing: bool = True) -> tuple[Entry, ...]:
    """The accrual's journal entries, one per currency: Dr Cloud expense per cost center and GL
    account / Cr Accrued liabilities, on the month's last day; auto-reversing on day 1 of the next
    month unless ``reversing=False`` (see "Entries and ledger flows")."""
    nm = next_month(result.month)
    day = nm - dt.timedelta(days=1)
    tag = f"{result.month:%Y-%m}"
    out = []
    for cur in result.currencies:
        lines = [l for l in result.lines if l.currency == cur]
        posts = _by_post(lines, lambda l: l.accrual)
        total = round_money(sum(posts.values(), ZERO), cur)
        parts = _round_lines(list(posts.values()), cur, total)
        source = f"accrual:{tag}:{result.method}:{result.metric}"
        debits = [(acct, cc, part, f"Accrued cloud cost {tag}: {acct}, {cc}", source)
                  for (cc, acct), part in zip(posts, parts)]
        credits = [(result.liability_account, "", total, f"Accrued cloud cost {tag}", source)]
        out.append(entry(_entry_id("ACCR", result.month, cur, result.currencies), day, cur,
                         "accrual", debits, credits,
                         f"Accrual of unbilled cloud cost {tag} ({result.method}, "
                         f"{result.metric}, cut-off {result.cutoff.isoformat()})",
                         reverses_on=nm if reversing else None))
    return tuple(out)


# ---- true-up ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TrueUpLine:
    """Actual against accrued for one currency, cost center and GL account.

    Attributes:
      accrued: expense recognized at close (invoiced + accrual = the accrual's estimate).
      actual: the final data's amount (same metric and owners as the accrual).
    """

    currency: str
    cost_center: str
    account: str
    accrued: Decimal
    actual: Decimal

    @property
    def true_up(self) -> Decimal:
        """actual − accrued (positive: the month cost more than accrued)."""
        return self.actual - self.accrued

    @property
    def accuracy(self) -> Decimal | None:
        """|actual − accrued| ÷ |actual|; None when actual is 0."""
        return _accuracy(self.actual, self.accrued)


def _accuracy(actual: Decimal, accrued: Decimal) -> Decimal | None:
    if actual == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 28
        return abs(actual - accrued) / abs(actual)


@dataclasses.dataclass(frozen=True)
class TrueUp:
    """A month's true-up.

    Attributes:
      accrual: what was accrued.  on: the true-up's posting date.
      lines: per currency × cost center × GL account.
      uninvoiced_rows: rows of the month in the final data still without an InvoiceId (0 when
        the invoice is final).
    """

    accrual: AccrualResult
    on: dt.date
    lines: tuple[TrueUpLine, ...]
    uninvoiced_rows: int

    @property
    def final(self) -> bool:
        return self.uninvoiced_rows == 0

    def total(self, field: str = "true_up", currency: str | None = None) -> Decimal:
        """Σ of ``accrued``, ``actual`` or ``true_up`` over the lines (of one currency)."""
        if field not in ("accrued", "actual", "true_up"):
            raise ValueError(f"field must be accrued, actual or true_up, not {field!r}")
        return sum((getattr(l, field) for l in _in_currency(self.lines, currency)), ZERO)

    def accuracy(self, cost_center: str | None = None, currency: str | None = None) -> Decimal | None:
        """Accrual accuracy |actual − accrued| ÷ |actual| of one cost center, or of the total."""
        lines = [l for l in _in_currency(self.lines, currency)
                 if cost_center is None or l.cost_center == cost_center]
        return _accuracy(sum((l.actual for l in lines), ZERO), sum((l.accrued for l in lines), ZERO))

    def by_cost_center(self) -> tuple[tuple[str, str, Decimal, Decimal, Decimal, Decimal | None], ...]:
        """(currency, cost center, accrued, actual, true-up, accuracy), per cost center."""
        acc: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for l in self.lines:
            acc[(l.currency, l.cost_center)][0] += l.accrued
            acc[(l.currency, l.cost_center)][1] += l.actual
        return tuple((cur, cc, a, x, x - a, _accuracy(x, a)) for (cur, cc), (a, x) in sorted(acc.items()))


def true_up(accrual: AccrualResult, con_final: duckdb.DuckDBPyConnection, on: dt.date | None = None,
            ledger: LedgerMap = DEFAULT_LEDGER) -> TrueUp:
    """Actual − accrued for ``accrual``'s month, from the final data behind ``con_final``.

    The actual is the whole month in the accrual's metric, attributed to owners the way the accrual
    was (allocation or sub-account) and posted to the cost center and GL account the accrual used
    for that owner and service category (``ledger`` for owners or categories new since). ``on``:
    the true-up's posting date (default: day 1 of the next month).
    """
    ms = accrual.month
    nm = next_month(ms)
    source = _resolve_owner_source(con_final, accrual.owner_source)
    basis, _ = _basis(con_final, accrual.metric, ms, nm)
    amounts, centers = _owner_amounts(con_final, source, accrual.metric, ms, basis, ())
    owner_cc = {l.owner: l.cost_center for l in accrual.lines}
    cat_account = {(l.currency, l.service_category): l.account for l in accrual.lines}
    acc: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for l in accrual.lines:
        acc[(l.currency, l.cost_center, l.account)][0] += l.estimate
    for (cur, owner, cat), (actual, *_rest) in amounts.items():
        cc = owner_cc.get(owner) or _cost_center(owner, ledger, centers)
        account = cat_account.get((cur, cat)) or ledger.account(cat)
        acc[(cur, cc, account)][1] += actual
    lines = tuple(TrueUpLine(cur, cc, account, a, x) for (cur, cc, account), (a, x) in sorted(acc.items())
                  if a or x)
    return TrueUp(accrual, on or nm, lines, uninvoiced_rows(con_final, ms))


def uninvoiced_rows(con: duckdb.DuckDBPyConnection, month: dt.date) -> int:
    """Rows of ``month`` still without an InvoiceId (0: the month's data is final)."""
    ms = month_start(month)
    (n,) = con.execute(
        "SELECT count(*) FROM charges WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? "
        "AND InvoiceId IS NULL", [_ts(ms), _ts(next_month(ms))]).fetchone()
    return int(n)


def true_up_entries(t: TrueUp) -> tuple[Entry, ...]:
    """The true-up entries, one per currency, on ``t.on``: Dr Cloud expense (per cost center and
    GL account) / Cr Accrued liabilities for actual − accrued (sides swap where negative). For the
    "held until invoiced" flow only (module docstring). In cents, each entry's total is
    round(actual − invoiced at close) − round(accrual), so the accrual and true-up entries
    together leave exactly the invoice's remaining amount in Accrued liabilities."""
    a = t.accrual
    tag = f"{a.month:%Y-%m}"
    currencies = sorted({l.currency for l in t.lines})
    out = []
    for cur in currencies:
        lines = [l for l in t.lines if l.currency == cur]
        posts = _by_post(lines, lambda l: l.true_up)
        invoiced = sum((l.invoiced for l in a.lines if l.currency == cur), ZERO)
        accrued = sum((l.accrual for l in a.lines if l.currency == cur), ZERO)
        actual = sum((l.actual for l in lines), ZERO)
        total = round_money(actual - invoiced, cur) - round_money(accrued, cur)
        parts = _round_lines(list(posts.values()), cur, total)
        source = f"true-up:{tag}:{a.method}:{a.metric}"
        debits = [(acct, cc, part, f"True-up of {tag} accrual: {acct}, {cc}", source)
                  for (cc, acct), part in zip(posts, parts)]
        credits = [(a.liability_account, "", total, f"True-up of {tag} accrual", source)]
        out.append(entry(_entry_id("TRUP", a.month, cur, currencies), t.on, cur, "true-up",
                         debits, credits, f"True-up of the {tag} accrual to the final data"))
    return tuple(out)


# ---- the record file -------------------------------------------------------------------------


def accrual_path(store, month: dt.date) -> Path:
    """Where ``save_accrual`` keeps ``month``'s accrual for ``store`` (a CostStore or its path):
    ``<store stem>.close/ACCR-YYYY-MM.json`` beside the store file."""
    from finops_xl.store.store import CostStore

    path = store.path if isinstance(store, CostStore) else CostStore(store).path
    return path.with_name(f"{path.stem}.close") / f"ACCR-{month_start(month):%Y-%m}.json"


def _to_json(result: AccrualResult) -> dict:
    line_fields = [f.name for f in dataclasses.fields(AccrualLine)]
    fee_fields = [f.name for f in dataclasses.fields(FixedFee)]

    def text(v):
        return f"{v:f}" if isinstance(v, Decimal) else v

    return {
        "format": RECORD_FORMAT, "version": RECORD_VERSION,
        "month": f"{result.month:%Y-%m}", "cutoff": result.cutoff.isoformat(),
        "method": result.method, "metric": result.metric, "owner_source": result.owner_source,
        "liability_account": result.liability_account, "days_missing": result.days_missing,
        "basis": result.basis,
        "lines": [{k: text(getattr(l, k)) for k in line_fields} for l in result.lines],
        "fees": [{k: text(getattr(f, k)) for k in fee_fields} for f in result.fees],
    }


def save_accrual(result: AccrualResult, store, overwrite: bool = False) -> Path:
    """Write ``result`` to ``accrual_path(store, result.month)`` (atomically) and return the path.
    An accrual already saved for the month is an error unless ``overwrite`` (re-run only before
    it is posted: the true-up compares against this file)."""
    path = accrual_path(store, result.month)
    if path.exists() and not overwrite:
        raise FileExistsError(f"an accrual for {result.month:%Y-%m} is already saved at {path}; pass "
                              "overwrite=True to replace it (only if it has not been posted)")
    path.parent.mkdir(parents=True, exist_ok=True)
    work = path.with_name(f"{path.name}.next-{os.getpid()}")
    work.write_text(json.dumps(_to_json(result), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(work, path)
    return path


def load_accrual(store, month: dt.date | None = None) -> AccrualResult:
    """The accrual saved for ``month`` beside ``store``; or, with ``month`` None, from ``store``
    taken as the record file's own path."""
    path = Path(store) if month is None else accrual_path(store, month)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no accrual saved at {path}: run accrue and save_accrual for the "
                                "month first") from None
    except json.JSONDecodeError as exc:
        raise AccrualError(f"{path}: not an accrual record (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise AccrualError(f"{path}: not an accrual record (format must be {RECORD_FORMAT!r})")
    if data.get("version") != RECORD_VERSION:
        raise AccrualError(f"{path}: accrual record version {data.get('version')!r}; this finops-xl "
                           f"reads version {RECORD_VERSION}")
    try:
        money_line = {"actual_to_date", "projected", "fixed_fees", "invoiced"}
        lines = tuple(AccrualLine(**{k: Decimal(v) if k in money_line else v for k, v in l.items()})
                      for l in data["lines"])
        fees = tuple(FixedFee(**{k: Decimal(v) if k == "amount" else v for k, v in f.items()})
                     for f in data.get("fees", []))
        return AccrualResult(
            dt.date.fromisoformat(data["month"] + "-01"), dt.date.fromisoformat(data["cutoff"]),
            data["method"], data["metric"], data["owner_source"], data["liability_account"],
            int(data["days_missing"]), data["basis"], lines, fees)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise AccrualError(f"{path}: damaged accrual record ({type(exc).__name__}: {exc})") from None
