"""Month-end accruals of unbilled cloud cost, and their true-up when the final data lands.

At close the month's billing data is incomplete: the last days are missing (exports lag one to three
days), monthly fees post late, and most of it is not invoiced yet. ``accrue`` estimates what the
month will cost, subtracts what is already invoiced, and books the rest as an accrued liability;
``true_up`` compares the estimate with the final data.

Steps of ``accrue`` (set-based SQL over the month's ``charges`` and the allocation; Python only for
the per-key results, a few hundred rows):

1. **Cut-off.** The first day the data does not cover: by default the last day with usage rows in
   the month + 1. Rows on or after it are left out (so a given cut-off always gives the same
   accrual); the days from it to month end (inclusive) are the *missing days*. One cut-off for all
   providers: if their exports lag differently, pass the earliest provider's last day + 1.
2. **Basis.** Per *basis key* — billing currency × provider × sub-account × service category — SQL
   sums the month's rows before the cut-off (``actual_to_date``), those of them that carry an
   ``InvoiceId`` (``invoiced``), and the usage sums each projection method needs. A commitment's
   upfront purchase (``Purchase`` / ``One-Time`` with a CommitmentDiscountId) is left out: it is a
   prepaid asset, booked Dr Prepaid / Cr AP and expensed by the amortization entries, never accrued.
3. **Projection** of the missing days, per basis key, from *run-rate rows*: ``ChargeFrequency`` =
   Usage-Based and not ``ChargeClass`` = Correction (monthly fees, one-time purchases and credits
   are not a daily rate). Methods (``METHODS``):

   - ``trailing_7d`` — the average over the last 7 days before the cut-off that have run-rate rows
     in the store (they may reach into the prior month); ``projected = Σ ÷ days with data ×
     missing days``. A full week holds each weekday once, so weekly patterns average out.
   - ``month_to_date`` — the average over the month's days before the cut-off: ``Σ ÷ elapsed days
     × missing days``.
   - ``prior_month`` — the same days of the prior month, scaled by this month's growth:
     ``Σ prior[day ≥ cut-off day] ÷ those days × missing days × g``, with one growth factor per
     currency ``g = Σ this month to date ÷ Σ prior month over the same elapsed days`` (1 when
     either is zero). When the prior month is shorter than the cut-off day, its last day is used.

4. **Fixed fees** not yet in the data (``fixed_fees="prior_month"``): the prior month's
   ``ChargeFrequency`` = Recurring rows — support plans, commitment fees, marketplace
   subscriptions, recurring taxes — that ran to the end of the prior month and have no Recurring
   row with the same currency, provider, sub-account, service, charge category and commitment in
   this month before the cut-off; each is expected again at the prior month's amount. Or pass
   your own ``FixedFee`` list (each counts only while no such row is in the data); ``"none"``
   accrues none.
5. **Owners.** With an allocation in the store (``owner_source="allocation"``, or ``"auto"``
   when one is present) each basis key's amounts are spread over owners in proportion to the
   owners' allocated cost of that key in the month (direct cost, plus each pool's part of it split
   in the pool's proportions; largest remainder at 1e-12, so the parts add up exactly). When the
   owners' allocated amounts already equal the key's actual to date, they are used as they are.
   Mixed signs (credits) weigh by the positive amounts only. A key with no allocated cost this
   month uses the prior month's; a fixed fee uses the allocation of its own service in the
   month it was last billed first. What reaches no owner goes to ``UNALLOCATED`` — shown, never
   dropped. Without an allocation (``"none"``), the owner is the sub-account id (one line per
   sub-account). Cost center: ``ledger.cost_centers[owner]``, else the allocation's cost center
   for the owner (the one carrying most of its cost), else ``ledger.default_cost_center``.
   GL account: ``ledger.account(service category)``. An allocation older than the store's last
   load is an error (allocate again first), never silently used.
6. **Lines** per currency × owner × service category::

       estimate = actual_to_date + projected + fixed_fees      (the month's expense)
       accrual  = estimate − invoiced                          (what is not booked through AP yet)

Conventions
-----------
- **Metric** (``metric=``, default ``BilledCost``). The credit side of the accrual is a liability:
  what the provider will invoice, i.e. BilledCost. The amortized part of prepaid commitments
  (EffectiveCost − BilledCost) is recognized by the prepaid amortization entry (Dr Cloud expense /
  Cr Prepaid); accruing EffectiveCost against Accrued liabilities would count it twice and
  overstate the liability. ``metric="EffectiveCost"`` is for ledgers that do not book commitments
  as prepaid (a management view of amortized cost). Every amount — actual, projection, fees,
  invoiced, and the true-up's actual — uses the one metric.
- **Month** = rows whose ``ChargePeriodStart`` falls in it (UTC), as the allocation groups them.
- **Invoicing is row by row.** A row with an ``InvoiceId`` is treated as booked through accounts
  payable (Dr Cloud expense / Cr AP) and reduces the accrual by its amount; a month can be partly
  invoiced (one provider, one billing account, or a marketplace invoice, first). Projected days and
  missing fees are never invoiced. Invoiced credits raise the accrual. With owners from the
  allocation (which does not see invoices), a key's invoiced amount is spread over its owners like
  its actual to date.
- **Amounts** are exact Decimal at the store's 12 decimals; entries round to the currency's minor
  unit with the largest remainder, so the lines add up to the rounded total exactly.

Entries and ledger flows (choose one per ledger)
------------------------------------------------
``accrual_entries``: Dr Cloud expense (per cost center and GL account) / Cr Accrued liabilities on
the month's last day, one entry per currency.

1. *Auto-reversing* (default): the accrual reverses on day 1 of the next month
   (``Entry.reverses_on``) and the invoice is booked in full when it lands (Dr Cloud expense /
   Cr AP). Reversal + invoice then put the true-up into next month's expense by themselves:
   ``true_up`` reports it by cost center and measures accuracy; do not also post its entry.
2. *Held until invoiced* (``reversing=False``): post the ``true_up_entries`` (Dr Cloud expense /
   Cr Accrued liabilities for actual − accrued, on day 1 of the next month), then book the invoice
   against the liability (Dr Accrued liabilities / Cr AP): the liability clears to zero. Posted in
   cents, accrual + true-up = actual − invoiced-at-close, rounded once.

True-up: ``accrued`` is the expense recognized at close for the month (``estimate`` = invoiced +
accrual); ``true_up = actual − accrued`` per currency × cost center × GL account, and accrual
accuracy = |actual − accrued| ÷ |actual| (GLOSSARY "Close"; ``None`` when actual is 0).

Record file
-----------
``save_accrual`` writes ``<store folder>/<store stem>.close/ACCR-YYYY-MM.json`` (beside
``finops-store``: ``finops-store.close/ACCR-2025-01.json``), UTF-8 JSON::

    {"format": "finops-xl/accrual", "version": 1, "month": "2025-01", "cutoff": "2025-01-27",
     "method": "trailing_7d", "metric": "BilledCost", "owner_source": "allocation",
     "liability_account": "2150 Accrued liabilities", "days_missing": 5, "basis": "...",
     "lines": [{"currency", "owner", "cost_center", "service_category", "account",
                "actual_to_date", "projected", "fixed_fees", "invoiced"}, ...],
     "fees": [{"currency", "provider", "sub_account", "service_category", "service_name",
               "charge_category", "commitment_id", "amount", "source"}, ...]}

Amounts are decimal strings (exact); ``estimate`` and ``accrual`` are derived, not stored.
``load_accrual`` reads it back to an equal ``AccrualResult``, so the next run (with the final
data) trues up against what was accrued. A saved month is not overwritten unless asked.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

import duckdb

from finops_xl.allocation.rules import UNALLOCATED
from finops_xl.allocation.showback import round_parts
from finops_xl.allocation.split import largest_remainder
from finops_xl.close.journal import Entry, LedgerMap, entry
from finops_xl.money import minor_unit, round_money

ZERO = Decimal(0)
#: Precision of every unrounded amount: the store's DECIMAL(38,12).
QUANTUM = Decimal("1e-12")
#: Projection methods (see the module docstring, step 3).
METHODS = ("trailing_7d", "month_to_date", "prior_month")
#: Cost columns an accrual can be measured in.
METRICS = ("BilledCost", "EffectiveCost")
#: Where owners come from.
OWNER_SOURCES = ("auto", "allocation", "none")
#: Record file format name and version.
RECORD_FORMAT, RECORD_VERSION = "finops-xl/accrual", 1
#: Days in the trailing window.
TRAILING_DAYS = 7
#: The ledger map used when none is given (default accounts, every cost center UNASSIGNED).
DEFAULT_LEDGER = LedgerMap()


class AccrualError(ValueError):
    """An accrual that cannot be computed as asked (the message says why and what to do)."""


@dataclasses.dataclass(frozen=True)
class FixedFee:
    """A known recurring fee expected in the month but not in its data yet.

    Attributes:
      currency, provider, sub_account, service_category, service_name: where it is billed.
      amount: the expected amount (in the accrual's metric).
      charge_category: FOCUS ChargeCategory (Purchase for support and subscriptions, Tax, …).
      commitment_id: CommitmentDiscountId of a commitment's recurring fee, else None.
      source: where the fee came from (``prior_month:2025-01`` when detected, ``manual`` …).
    """

    currency: str
    provider: str | None
    sub_account: str | None
    service_category: str | None
    service_name: str | None
    amount: Decimal
    charge_category: str | None = "Purchase"
    commitment_id: str | None = None
    source: str = "manual"

    @property
    def key(self) -> tuple:
        """What makes a Recurring row "the same fee"."""
        return (self.currency, self.provider, self.sub_account, self.service_name,
                self.charge_category, self.commitment_id)


@dataclasses.dataclass(frozen=True)
class AccrualLine:
    """One owner's service category in one currency.

    Attributes:
      currency: billing currency.  owner: allocation owner (or sub-account id, or UNALLOCATED).
      cost_center, account: where it posts.  service_category: FOCUS ServiceCategory.
      actual_to_date: the month's charges before the cut-off.
      projected: the missing days, by the method.  fixed_fees: known fees not in the data yet.
      invoiced: the part of actual_to_date that carries an InvoiceId.
    """

    currency: str
    owner: str
    cost_center: str
    service_category: str | None
    account: str
    actual_to_date: Decimal
    projected: Decimal
    fixed_fees: Decimal
    invoiced: Decimal

    @property
    def estimate(self) -> Decimal:
        """The month's expected expense: actual to date + projected + fixed fees."""
        return self.actual_to_date + self.projected + self.fixed_fees

    @property
    def accrual(self) -> Decimal:
        """What to accrue: the estimate less what is already invoiced."""
        return self.estimate - self.invoiced


AMOUNT_FIELDS = ("actual_to_date", "projected", "fixed_fees", "invoiced", "estimate", "accrual")


@dataclasses.dataclass(frozen=True)
class AccrualResult:
    """An accrual of one month.

    Attributes:
      month: first day of the month.  cutoff: first day not covered by the data.
      method: projection method.  metric: BilledCost or EffectiveCost.
      owner_source: ``allocation`` or ``none`` (as resolved).
      liability_account: the GL account credited.  days_missing: days projected.
      basis: in words, the data the projection used.
      lines: per currency × owner × service category.  fees: the fixed fees accrued.
    """

    month: dt.date
    cutoff: dt.date
    method: str
    metric: str
    owner_source: str
    liability_account: str
    days_missing: int
    basis: str
    lines: tuple[AccrualLine, ...]
    fees: tuple[FixedFee, ...] = ()

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(sorted({l.currency for l in self.lines}))

    def total(self, field: str = "accrual", currency: str | None = None) -> Decimal:
        """Σ of one amount (``AMOUNT_FIELDS``) over the lines, in one currency (required when the
        month has several)."""
        if field not in AMOUNT_FIELDS:
            raise ValueError(f"field must be one of {', '.join(AMOUNT_FIELDS)}, not {field!r}")
        return sum((getattr(l, field) for l in _in_currency(self.lines, currency)), ZERO)


def _in_currency(lines, currency):
    currencies = {l.currency for l in lines}
    if currency is None and len(currencies) > 1:
        raise ValueError(f"lines are in several currencies ({', '.join(sorted(currencies))}): "
                         "name one")
    return [l for l in lines if currency is None or l.currency == currency]


# ---- months ---------------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _prior_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _days(month: dt.date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def _ts(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _q(x: Decimal) -> Decimal:
    return x.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def _dec(x) -> Decimal:
    return ZERO if x is None else Decimal(x)


# ---- step 1-3: cut-off, basis, projection ----------------------------------------------------

#: A basis key: (currency, provider, sub-account, service category).
_RUN_RATE = ("coalesce(ChargeFrequency, 'Usage-Based') = 'Usage-Based' "
             "AND coalesce(ChargeClass, '') <> 'Correction'")
_SUB_ACCOUNT = "coalesce(SubAccountId, BillingAccountId)"
#: A commitment's upfront purchase: a prepaid asset (``amortization.purchase_entry``), never expense,
#: so never accrued, invoiced against the accrual or trued up (its amortization is expensed instead).
_UPFRONT = ("coalesce(ChargeCategory, '') = 'Purchase' AND coalesce(ChargeFrequency, '') = 'One-Time' "
            "AND CommitmentDiscountId IS NOT NULL")


def _default_cutoff(con, ms: dt.date, nm: dt.date) -> dt.date:
    (last,) = con.execute(
        f"SELECT max(CAST(ChargePeriodStart AS DATE)) FROM charges "
        f"WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? AND {_RUN_RATE}",
        [_ts(ms), _ts(nm)]).fetchone()
    return ms if last is None else min(last + dt.timedelta(days=1), nm)


@dataclasses.dataclass
class _Basis:
    actual: Decimal = ZERO
    invoiced: Decimal = ZERO
    mtd: Decimal = ZERO           # run-rate, month before the cut-off
    trailing: Decimal = ZERO      # run-rate, trailing window
    prior_to_date: Decimal = ZERO  # run-rate, prior month's same elapsed days
    prior_rest: Decimal = ZERO    # run-rate, prior month's days matching the missing ones
    projected: Decimal = ZERO
    fees: Decimal = ZERO


def _basis(con, metric: str, ms: dt.date, cutoff: dt.date) -> tuple[dict[tuple, _Basis], dict]:
    """Per basis key, the sums every method needs (one scan); plus the windows used."""
    ps = _prior_month(ms)
    elapsed = (cutoff - ms).days
    p_len = _days(ps)
    prior_to = ps + dt.timedelta(days=min(elapsed, p_len))
    rest_from = ps + dt.timedelta(days=elapsed) if elapsed < p_len else ms - dt.timedelta(days=1)
    w0 = cutoff - dt.timedelta(days=TRAILING_DAYS)
    lo = min(ps, w0)
    rows = con.execute(f"""
        WITH r AS (
            SELECT BillingCurrency AS currency, ProviderName AS provider,
                   {_SUB_ACCOUNT} AS sub_account, ServiceCategory AS category,
                   CAST(ChargePeriodStart AS DATE) AS day, {metric} AS amount,
                   InvoiceId IS NOT NULL AS billed, {_RUN_RATE} AS run_rate
            FROM charges WHERE ChargePeriodStart >= $lo AND ChargePeriodStart < $cutoff
              AND NOT ({_UPFRONT}))
        SELECT currency, provider, sub_account, category,
               sum(amount) FILTER (WHERE day >= $ms),
               sum(amount) FILTER (WHERE day >= $ms AND billed),
               sum(amount) FILTER (WHERE run_rate AND day >= $ms),
               sum(amount) FILTER (WHERE run_rate AND day >= $w0),
               sum(amount) FILTER (WHERE run_rate AND day >= $ps AND day < $prior_to),
               sum(amount) FILTER (WHERE run_rate AND day >= $rest_from AND day < $ms)
        FROM r GROUP BY ALL
    """, {"lo": _ts(lo), "cutoff": _ts(cutoff), "ms": ms, "w0": w0, "ps": ps,
          "prior_to": prior_to, "rest_from": rest_from}).fetchall()
    basis = {}
    for cur, prov, sub, cat, *sums in rows:
        b = _Basis(*(_dec(s) for s in sums))
        basis[(cur, prov, sub, cat)] = b
    trailing_days = con.execute(f"""
        SELECT count(DISTINCT CAST(ChargePeriodStart AS DATE)) FROM charges
        WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? AND {_RUN_RATE}""",
        [_ts(w0), _ts(cutoff)]).fetchone()[0]
    prior_rows = con.execute(f"""
        SELECT count(*) FROM charges
        WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? AND {_RUN_RATE}""",
        [_ts(ps), _ts(ms)]).fetchone()[0]
    windows = {"elapsed": elapsed, "w0": w0, "trailing_days": int(trailing_days),
               "ps": ps, "prior_to": prior_to, "rest_from": rest_from,
               "rest_days": (ms - rest_from).days, "prior_rows": int(prior_rows)}
    return basis, windows


def _project(basis: dict[tuple, _Basis], windows: dict, method: str, ms: dt.date,
             cutoff: dt.date, missing: int) -> str:
    """Fill ``projected`` per basis key; returns the basis in words."""
    last = cutoff - dt.timedelta(days=1)
    span = (f"{missing} days projected ({cutoff.isoformat()} to "
            f"{(next_month(ms) - dt.timedelta(days=1)).isoformat()})") if missing else "no days missing"
    with localcontext() as ctx:
        ctx.prec = 60
        if method == "trailing_7d":
            n = windows["trailing_days"]
            if missing and n == 0:
                raise AccrualError(
                    f"trailing_7d needs usage in the {TRAILING_DAYS} days before the cut-off "
                    f"{cutoff.isoformat()} ({windows['w0'].isoformat()} to {last.isoformat()}); "
                    "the store has none: pass an earlier cutoff or method='prior_month'")
            for b in basis.values():
                b.projected = _q(b.trailing / n * missing) if missing else ZERO
            return (f"trailing_7d: average of {n} days with data, {windows['w0'].isoformat()} to "
                    f"{last.isoformat()}; {span}")
        if method == "month_to_date":
            k = windows["elapsed"]
            if missing and k == 0:
                raise AccrualError(f"month_to_date needs at least one day of {ms:%Y-%m} before the "
                                   f"cut-off {cutoff.isoformat()}: use method='prior_month'")
            for b in basis.values():
                b.projected = _q(b.mtd / k * missing) if missing else ZERO
            return f"month_to_date: average of the {k} days {ms.isoformat()} to {last.isoformat()}; {span}"
        # prior_month
        if missing and windows["prior_rows"] == 0:
            raise AccrualError(f"prior_month needs the prior month ({windows['ps']:%Y-%m}) in the "
                               "store; it has no usage rows for it: load it or use another method")
        growth = {}
        for cur in {k[0] for k in basis}:
            now = sum((b.mtd for k, b in basis.items() if k[0] == cur), ZERO)
            then = sum((b.prior_to_date for k, b in basis.items() if k[0] == cur), ZERO)
            growth[cur] = now / then if now and then else Decimal(1)
        for k, b in basis.items():
            b.projected = (_q(b.prior_rest / windows["rest_days"] * missing * growth[k[0]])
                           if missing else ZERO)
        g = ", ".join(f"{c} {growth[c].quantize(Decimal('1e-6'))}" for c in sorted(growth))
        return (f"prior_month: {windows['rest_from'].isoformat()} to "
                f"{(ms - dt.timedelta(days=1)).isoformat()} ({windows['rest_days']} days) scaled by "
                f"growth over {windows['ps'].isoformat()} to "
                f"{(windows['prior_to'] - dt.timedelta(days=1)).isoformat()} ({g or 'none'}); {span}")


# ---- step 4: fixed fees ----------------------------------------------------------------------

_FEE_KEY_SQL = (f"BillingCurrency, ProviderName, {_SUB_ACCOUNT}, ServiceName, ChargeCategory, "
                "CommitmentDiscountId")


def _present_fee_keys(con, ms: dt.date, cutoff: dt.date) -> set[tuple]:
    return set(con.execute(
        f"SELECT DISTINCT {_FEE_KEY_SQL} FROM charges WHERE ChargePeriodStart >= ? "
        "AND ChargePeriodStart < ? AND ChargeFrequency = 'Recurring'",
        [_ts(ms), _ts(cutoff)]).fetchall())


def _prior_fees(con, metric: str, ms: dt.date) -> list[FixedFee]:
    ps = _prior_month(ms)
    rows = con.execute(f"""
        SELECT {_FEE_KEY_SQL}, ServiceCategory, sum({metric})
        FROM charges
        WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? AND ChargeFrequency = 'Recurring'
          AND ChargePeriodEnd >= ?
        GROUP BY ALL ORDER BY ALL""", [_ts(ps), _ts(ms), _ts(ms)]).fetchall()
    return [FixedFee(cur, prov, sub, cat, svc, _dec(amount), charge_cat, cid, f"prior_month:{ps:%Y-%m}")
            for cur, prov, sub, svc, charge_cat, cid, cat, amount in rows if _dec(amount) != 0]


def _fees(con, metric, ms, cutoff, fixed_fees) -> tuple[FixedFee, ...]:
    if isinstance(fixed_fees, str):
        if fixed_fees == "none":
            return ()
        if fixed_fees != "prior_month":
            raise AccrualError("fixed_fees must be 'prior_month', 'none' or a list of FixedFee, "
                               f"not {fixed_fees!r}")
        candidates = _prior_fees(con, metric, ms)
    else:
        candidates = list(fixed_fees)
        for f in candidates:
            if not isinstance(f, FixedFee) or not isinstance(f.amount, Decimal):
                raise AccrualError(f"fixed_fees: {f!r} is not a FixedFee with a Decimal amount")
    present = _present_fee_keys(con, ms, cutoff)
    return tuple(f for f in candidates if f.key not in present)


# ---- step 5: owners --------------------------------------------------------------------------


def _has_allocation(con) -> bool:
    try:
        con.execute("SELECT 1 FROM allocation_groups LIMIT 0")
        con.execute("SELECT 1 FROM allocated_charges LIMIT 0")
        return True
    except duckdb.Error:
        return False


def _check_allocation_current(con) -> None:
    try:
        run = con.execute("SELECT run_id, last_load_id FROM allocation_runs "
                          "ORDER BY run_id DESC LIMIT 1").fetchall()
        load = con.execute("SELECT value FROM store_info WHERE key = 'last_load_id'").fetchall()
    except duckdb.Error:
        return  # not a store with run records (e.g. tables built by hand): nothing to compare
    if run and load and str(run[0][1]) != str(load[0][0]):
        raise AccrualError(
            f"the allocation (run {run[0][0]}, made after load {run[0][1]}) is older than the "
            f"store's last load ({load[0][0]}): allocate again so owners match the data")


class _Owners:
    """Owner weights per basis key (and per fee's service), from the allocation of two months."""

    def __init__(self, con, metric: str, months: tuple[dt.date, ...]):
        self.by_key: dict[tuple, dict[tuple, dict[str, Decimal]]] = {m: defaultdict(
            lambda: defaultdict(Decimal)) for m in months}
        self.by_service = {m: defaultdict(lambda: defaultdict(Decimal)) for m in months}
        marks = ", ".join("?" for _ in months)
        fractions: dict[tuple, dict[str, Decimal]] = defaultdict(dict)
        for month, cur, pool, owner, w in con.execute(f"""
            SELECT month, currency, pool_id, owner, sum(abs(BilledCost)) + sum(abs(EffectiveCost))
            FROM allocated_charges WHERE pool_id IS NOT NULL AND month IN ({marks})
            GROUP BY ALL ORDER BY ALL""", list(months)).fetchall():
            if w:
                fractions[(month, cur, pool)][owner] = Decimal(w)
        for month, cur, prov, sub, cat, svc, ccat, owner, pool, amount in con.execute(f"""
            SELECT month, currency, ProviderName, {_SUB_ACCOUNT}, ServiceCategory, ServiceName,
                   ChargeCategory, CASE WHEN pool_id IS NULL THEN coalesce(owner, '{UNALLOCATED}') END,
                   pool_id, sum({metric})
            FROM allocation_groups WHERE month IN ({marks})
            GROUP BY ALL ORDER BY ALL""", list(months)).fetchall():
            amount = _dec(amount)
            if amount == 0:
                continue
            if pool is None:
                parts = {owner: amount}
            else:
                frac = fractions.get((month, cur, pool))
                parts = _split(amount, frac) if frac else {UNALLOCATED: amount}
            for o, v in parts.items():
                self.by_key[month][(cur, prov, sub, cat)][o] += v
                self.by_service[month][(cur, prov, sub, cat, svc, ccat)][o] += v


def _split(amount: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """``amount`` split in proportion to non-negative ``weights`` at 1e-12, adding up exactly."""
    owners = sorted(weights)
    parts = largest_remainder(_q(amount), [weights[o] for o in owners], QUANTUM)
    return dict(zip(owners, parts))


def _spread(amount: Decimal, *candidates: Mapping[str, Decimal] | None) -> dict[str, Decimal]:
    """``amount`` over owners by the first candidate weights that have any non-zero weight: as
    they are when they already add up to ``amount``; else by their positive amounts (or their
    absolute amounts when none is positive). No weights: all to UNALLOCATED."""
    if amount == 0:
        return {}
    for weights in candidates:
        if not weights or not any(weights.values()):
            continue
        if sum(weights.values(), ZERO) == amount:
            return {o: v for o, v in weights.items() if v}
        pos = {o: v for o, v in weights.items() if v > 0}
        use = pos or {o: -v for o, v in weights.items() if v < 0}
        return _split(amount, use)
    return {UNALLOCATED: amount}


def allocation_cost_centers(con, months: tuple[dt.date, ...]) -> dict[str, str]:
    """Owner → the cost center the allocation gives it in ``months`` (the largest by cost)."""
    return _allocation_cost_centers(con, months)


def _allocation_cost_centers(con, months: tuple[dt.date, ...]) -> dict[str, str]:
    marks = ", ".join("?" for _ in months)
    centers: dict[str, str] = {}
    for owner, cc, _w in con.execute(f"""
        SELECT owner, cost_center, sum(abs(EffectiveCost)) + sum(abs(BilledCost)) AS w
        FROM allocated_charges WHERE cost_center IS NOT NULL AND month IN ({marks})
        GROUP BY ALL ORDER BY owner, w DESC, cost_center""", list(months)).fetchall():
        centers.setdefault(owner, cc)
    return centers


def _resolve_owner_source(con, owner_source: str) -> str:
    if owner_source not in OWNER_SOURCES:
        raise AccrualError(f"owner_source must be one of {', '.join(OWNER_SOURCES)}, "
                           f"not {owner_source!r}")
    present = _has_allocation(con)
    if owner_source == "allocation" and not present:
        raise AccrualError("owner_source='allocation' but the store has no allocation: run "
                           "`finops-xl allocate` (allocation.engine.allocate) first, or use "
                           "owner_source='none' for one line per sub-account")
    resolved = "allocation" if owner_source == "allocation" or (owner_source == "auto" and present) \
        else "none"
    if resolved == "allocation":
        _check_allocation_current(con)
    return resolved


def _owner_amounts(con, owner_source: str, metric: str, ms: dt.date, basis: dict[tuple, _Basis],
                   fees: Iterable[FixedFee], with_projection: bool = True):
    """(currency, owner, category) → [actual, projected, fixed, invoiced], and the owners' cost
    centers found in the allocation."""
    out: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])
    if owner_source == "none":
        for (cur, _prov, sub, cat), b in basis.items():
            row = out[(cur, sub or UNALLOCATED, cat)]
            for i, v in enumerate((b.actual, b.projected, ZERO, b.invoiced)):
                row[i] += v
        for f in fees:
            out[(f.currency, f.sub_account or UNALLOCATED, f.service_category)][2] += f.amount
        return out, {}
    ps = _prior_month(ms)
    owners = _Owners(con, metric, (ms, ps))
    for key, b in basis.items():
        cur, _prov, _sub, cat = key
        now, then = owners.by_key[ms].get(key), owners.by_key[ps].get(key)
        for i, v in enumerate((b.actual, b.projected, ZERO, b.invoiced)):
            for o, part in _spread(v, now, then).items():
                out[(cur, o, cat)][i] += part
    for f in fees:
        key = (f.currency, f.provider, f.sub_account, f.service_category)
        svc = key + (f.service_name, f.charge_category)
        for o, part in _spread(f.amount, owners.by_service[ps].get(svc), owners.by_service[ms].get(svc),
                               owners.by_key[ms].get(key), owners.by_key[ps].get(key)).items():
            out[(f.currency, o, f.service_category)][2] += part
    return out, _allocation_cost_centers(con, (ms, ps))


def _cost_center(owner: str, ledger: LedgerMap, found: Mapping[str, str]) -> str:
    if owner in ledger.cost_centers:
        return ledger.cost_centers[owner]
    return found.get(owner) or ledger.default_cost_center


# ---- accrue ----------------------------------------------------------------------------------


def accrue(con: duckdb.DuckDBPyConnection, month: dt.date, cutoff: dt.date | None = None,
           method: str = "trailing_7d", ledger: LedgerMap = DEFAULT_LEDGER,
           fixed_fees: str | Iterable[FixedFee] = "prior_month", owner_source: str = "auto",
           metric: str = "BilledCost") -> AccrualResult:
    """The accrual of ``month`` from the store behind ``con`` (a ``CostStore.reader()``).

    Parameters
    ----------
    con : DuckDB connection
        With ``charges`` (and, for owners, ``allocation_groups`` / ``allocated_charges``).
    month : date
        Any day of the month to accrue.
    cutoff : date, optional
        First day the data does not cover (default: last day with usage rows + 1).
    method : str
        ``trailing_7d``, ``month_to_date`` or ``prior_month`` (module docstring, step 3).
    ledger : LedgerMap
        Cost centers, GL accounts and the accrued-liabilities account.
    fixed_fees : "prior_month", "none" or iterable of FixedFee
        Recurring fees to expect (step 4).
    owner_source : "auto", "allocation" or "none"
        Owners from the store's allocation, or one line per sub-account (step 5).
    metric : "BilledCost" or "EffectiveCost"
        What is accrued (see Conventions).

    Returns
    -------
    AccrualResult
        Lines per currency × owner × service category, the fees, the method and cut-off.

    Notes
    -----
    ``accrual = actual_to_date + projected + fixed_fees − invoiced`` per line; amounts exact at
    12 decimals. Raises AccrualError for an impossible request (unknown method, a cut-off outside
    the month, a method without the data it needs, a stale allocation).
    """
    if metric not in METRICS:
        raise AccrualError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    ms = month_start(month)
    nm = next_month(ms)
    if cutoff is None:
        cutoff = _default_cutoff(con, ms, nm)
    elif not ms <= cutoff <= nm:
        raise AccrualError(f"cutoff {cutoff.isoformat()} is outside {ms:%Y-%m}: it must be between "
                           f"{ms.isoformat()} (no data yet) and {nm.isoformat()} (all days in)")
    if method not in METHODS:
        raise AccrualError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    resolved = _resolve_owner_source(con, owner_source)
    missing = (nm - cutoff).days
    basis, windows = _basis(con, metric, ms, cutoff)
    text = _project(basis, windows, method, ms, cutoff, missing)
    fees = _fees(con, metric, ms, cutoff, fixed_fees)
    amounts, centers = _owner_amounts(con, resolved, metric, ms, basis, fees)
    lines = []
    for (cur, owner, cat), (actual, projected, fixed, invoiced) in amounts.items():
        if not (actual or projected or fixed or invoiced):
            continue
        lines.append(AccrualLine(cur, owner, _cost_center(owner, ledger, centers), cat,
                                 ledger.account(cat), actual, projected, fixed, invoiced))
    lines.sort(key=lambda l: (l.currency, l.cost_center, l.account, l.owner, l.service_category or ""))
    return AccrualResult(ms, cutoff, method, metric, resolved, ledger.accrued_liabilities, missing,
                         text, tuple(lines), fees)


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
