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

import datetime as dt
from collections.abc import Iterable

import duckdb

from finops_xl.close.accruals_basis import (  # noqa: F401
    _basis,
    _default_cutoff,
    _fees,
    _project,
)
from finops_xl.close.accruals_entries import (  # noqa: F401
    TrueUp,
    TrueUpLine,
    _to_json,
    accrual_entries,
    accrual_path,
    load_accrual,
    save_accrual,
    true_up,
    true_up_entries,
    uninvoiced_rows,
)
from finops_xl.close.accruals_model import (  # noqa: F401
    AMOUNT_FIELDS,
    DEFAULT_LEDGER,
    METHODS,
    METRICS,
    OWNER_SOURCES,
    QUANTUM,
    RECORD_FORMAT,
    RECORD_VERSION,
    TRAILING_DAYS,
    ZERO,
    AccrualError,
    AccrualLine,
    AccrualResult,
    FixedFee,
    month_start,
    next_month,
)
from finops_xl.close.accruals_owners import (  # noqa: F401
    _cost_center,
    _owner_amounts,
    _resolve_owner_source,
    allocation_cost_centers,
)
from finops_xl.close.journal import LedgerMap

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
