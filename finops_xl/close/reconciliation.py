"""Invoice reconciliation: the month's invoices tied to the allocation to the cent, every difference named.

The statement for one billing month and billing currency reads::

    invoice total  =  allocated total  +  Σ reconciling items          (difference 0.00, exact Decimal)

* **Invoice total** — the month's invoices, either from the data (``Σ BilledCost`` per ``InvoiceId`` of
  the month's billing period, rounded half-even to the currency's minor unit, as an invoice is issued)
  or from an AP list (``load_ap_list``), translated into the billing currency where they differ.
* **Allocated total** — ``Σ allocated_charges.BilledCost`` for the month (``month`` = month of
  ChargePeriodStart, as the allocation keys it), *less* the tax, credits and marketplace charges on
  the month's invoices when those are booked on their own lines (``separate``, the default: they
  are shown as reconciling items, so the statement reads "allocated cloud services + tax + credits +
  marketplace + …"). ``separate=()`` compares the allocation's gross total. When the store has no
  allocation, the month's charges in the store stand in for it (as they stood at ``closed_at``, if
  given) and ``Reconciliation.basis`` says so.

Reconciling items (``CATEGORIES``), each detected by a rule, each carrying the SQL that returns its
source rows (``ReconcilingItem.sql``, run it with ``source_rows``):

==============  ==============================================================================  =======
category        detected as                                                                      sign
==============  ==============================================================================  =======
tax             rows on the month's invoices, charged in the month, ``ChargeCategory = 'Tax'``    + rows
credit          same, ``ChargeCategory = 'Credit'`` (negative amounts)                            + rows
marketplace     same, other categories, ``PublisherName`` set and different from both             + rows
                ``ProviderName`` and ``InvoiceIssuerName`` (the FOCUS 1.0 sample names AWS's own
                publisher "Amazon Web Services, Inc." while ProviderName is "AWS", so comparing
                with ProviderName alone would call every AWS row marketplace; its Red Hat row is
                published by "Red Hat Inc." and issued by AWS)
rounding        per invoice: round(Σ BilledCost of its rows) − Σ BilledCost (sub-cent; the         invoice
                invoice is issued in cents, the rows carry 12 decimals)
fx              per invoice whose currency differs from its rows' billing currency: the invoice    invoice
                translated at its rate (AP ``fx_rate`` column or ``fx_rates``) − its rounded rows
missing_data    an invoice with no rows in the store (+ its amount); rows charged in the month     ±
                with no InvoiceId (− rows); rows of the month's billing period on an invoice the
                AP list does not have (− rows)
timing          rows on the month's invoices charged in another month (+ rows); rows charged in   ±
                the month billed on another month's invoice (− rows)
restatement     slices (provider, billing account, billing period) of the month loaded again      + Δ
                after the close (``closed_at``; by default the store state the allocation was
                computed from): current version's BilledCost − the version current at close
                (``slice_history``)
unexplained     per AP invoice, whole cents between the invoice and its rows (same currency);      ±
                and allocation side: month's charges − restatement − allocated total. Always shown,
                also when zero.
==============  ==============================================================================  =======

Sign convention: an item is what it adds going from the allocated total to the invoice total
(FOCUS amounts: spend positive, credits negative). Rows fall into exactly one bucket (the rules
above are mutually exclusive), so the statement ties by construction of the partition, and the
tie-out (``Reconciliation.difference``) re-checks it from independently computed totals.

All sums are DuckDB SQL over ``charges`` (DECIMAL(38,12)); Python sees only per-invoice totals.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from finops_xl.money import minor_unit, round_money
from finops_xl.months import add_months, as_month  # noqa: F401 - re-exported
from finops_xl.store.sources import sql_literal

if TYPE_CHECKING:
    from finops_xl.close.fx import RateTable
from finops_xl.close.reconciliation_model import (  # noqa: F401
    _AMOUNT,
    _LABELS,
    AP_COLUMNS,
    AP_OPTIONAL,
    CATEGORIES,
    EXACT,
    SEPARABLE,
    ZERO,
    APListError,
    Invoice,
    InvoiceLine,
    Reconciliation,
    ReconcilingItem,
    _in_list,
    load_ap_list,
    parse_amount,
    sql_timestamp,
)

# ---- the reconciliation ---------------------------------------------------------------------------


def reconcile(
    con: duckdb.DuckDBPyConnection,
    month: dt.date | str,
    invoices: Sequence[Invoice] | str | Path | None = None,
    *,
    currency: str | None = None,
    closed_at: dt.datetime | None = None,
    separate: Collection[str] = SEPARABLE,
    fx_rates: Mapping[str, Decimal] | RateTable | None = None,
    invoice_lag_months: int = 1,
) -> Reconciliation:
    """Reconcile one billing month's invoices with the allocation (see the module docstring).

    Parameters:
      con: a store connection (``CostStore.reader()``), with the allocation views if allocated.
      month: the billing month (``'YYYY-MM'`` or its first day).
      invoices: None (the month's invoices from the data's InvoiceId), a list of ``Invoice``, or
        the path of an AP list CSV (``load_ap_list``). An AP invoice belongs to the month if the
        store's rows with its id bill that month; one the store has never seen belongs to the month
        ``invoice_lag_months`` before its date (providers invoice after the month ends), or to
        this month if it has no date.
      currency: the billing currency; needed only when the month has several.
      closed_at: the close (UTC): slices loaded again after it are restatements. Default: the
        loads the allocation was computed from (no restatement without an allocation).
      separate: categories shown as reconciling items instead of inside the allocated total
        (any of ``SEPARABLE``; ``()`` compares the allocation's gross total).
      fx_rates: for invoices without an ``fx_rate`` of their own: invoice currency → units of
        billing currency per unit, or a ``close.fx.RateTable`` (the billing month's average rate,
        the rate for a month's expense).

    Returns a Reconciliation; ``.difference`` is 0 exactly when it ties (it should, always: the
    unexplained bucket holds what no rule explains).
    """
    with localcontext(EXACT):
        return _reconcile(con, month, invoices, currency, closed_at, separate, fx_rates, invoice_lag_months)


def _reconcile(con, month, invoices, currency, closed_at, separate, fx_rates,
               invoice_lag_months) -> Reconciliation:
    m0 = as_month(month)
    m1 = add_months(m0, 1)
    unknown = sorted(set(separate) - set(SEPARABLE))
    if unknown:
        raise ValueError(f"separate: {', '.join(unknown)} cannot be booked separately; use any of "
                         f"{', '.join(SEPARABLE)}")
    separate = tuple(c for c in SEPARABLE if c in set(separate))
    in_month = f"ChargePeriodStart >= {sql_timestamp(m0)} AND ChargePeriodStart < {sql_timestamp(m1)}"
    billed_in_month = f"BillingPeriodStart >= {sql_timestamp(m0)} AND BillingPeriodStart < {sql_timestamp(m1)}"
    notes: list[str] = []

    if isinstance(invoices, (str, Path)):
        invoices = load_ap_list(invoices)
    currency = _currency(con, currency, in_month, billed_in_month, invoices)
    cur = sql_literal(currency)

    # 1. the month's invoices and the rows each bills
    if invoices is None:
        invoices = _invoices_from_data(con, billed_in_month, currency)
        notes.append("invoices from the data: Σ BilledCost per InvoiceId of the billing period, "
                     f"rounded to the {currency} minor unit")
    else:
        invoices = _invoices_of_month(con, list(invoices), m0, invoice_lag_months, notes)
    stats = _invoice_rows(con, [i.invoice_id for i in invoices])
    lines: list[InvoiceLine] = []
    items: list[ReconcilingItem] = []
    for inv in invoices:
        n, charges, row_currencies = stats.get(inv.invoice_id, (0, ZERO, ()))
        if n and currency not in row_currencies:
            notes.append(f"invoice {inv.invoice_id} bills {', '.join(row_currencies)} rows: it belongs "
                         f"to that currency's reconciliation, not {currency}'s")
            continue
        if n and len(row_currencies) > 1:
            notes.append(f"invoice {inv.invoice_id} has rows in {', '.join(row_currencies)}: only "
                         f"its {currency} rows are reconciled here")
        amount = _in_billing_currency(inv, currency, fx_rates, m0)
        lines.append(InvoiceLine(inv, amount, n, charges))
        items.extend(_invoice_items(inv, amount, n, charges, currency))

    matched = [ln.invoice.invoice_id for ln in lines if ln.rows]
    on_inv = f"coalesce(InvoiceId IN {_in_list(matched)}, false)" if matched else "false"
    scope = f"BillingCurrency = {cur} AND ({on_inv} OR ({in_month}))"

    # 2. rows on one side only, and the separately booked categories (one partition of the rows)
    buckets = _buckets(on_inv, in_month, billed_in_month, separate)
    items.extend(_row_items(con, scope, buckets))

    # 3. the comparison side: the allocation (or the charges), restatements, what is left
    month_charges = _scalar(con, f"SELECT sum(BilledCost) FROM charges WHERE BillingCurrency = {cur} "
                                 f"AND {in_month}")
    allocation = _allocation(con)
    basis_load, basis_note = _basis(allocation, closed_at)
    restated = _restatements(con, m0, m1, currency, basis_load, closed_at) \
        if (basis_load is not None or closed_at is not None) else []
    items.extend(restated)
    restatement = sum((i.amount for i in restated), ZERO)
    if allocation is not None:
        gross = _scalar(con, f"SELECT sum(BilledCost) FROM allocated_charges WHERE month = DATE "
                             f"'{m0.isoformat()}' AND currency = {cur}")
        basis = "allocation"
        residual = month_charges - restatement - gross
        items.append(ReconcilingItem(
            "unexplained", residual,
            "the month's charges in the store, less restatements after close, differ from the "
            "allocated total by this much" if residual else
            "nothing: the allocation equals the month's charges as they stood at close",
            None, 2,
            f"SELECT 'charges' AS side, sum(BilledCost) AS BilledCost FROM charges WHERE "
            f"BillingCurrency = {cur} AND {in_month} UNION ALL SELECT 'allocated_charges', "
            f"sum(BilledCost) FROM allocated_charges WHERE month = DATE '{m0.isoformat()}' AND "
            f"currency = {cur}"))
    else:
        basis = "charges"
        gross = month_charges - restatement
        basis_note = ("no allocation in the store: compared with the store's charges for the month"
                      + (f" as they stood at the close ({closed_at:%Y-%m-%d %H:%M} UTC)" if closed_at else ""))
        items.append(ReconcilingItem("unexplained", ZERO, "nothing: the store's charges stand in for "
                                     "the allocation", None, 0, "SELECT * FROM charges WHERE false"))
    separated = sum((i.amount for i in items if i.category in separate and i.sign == 1), ZERO)
    order = {c: k for k, c in enumerate(CATEGORIES)}
    items.sort(key=lambda i: (order[i.category], i.invoice_id or "", i.description))
    return Reconciliation(
        m0, currency, basis, basis_note, tuple(lines),
        sum((ln.amount for ln in lines), ZERO), gross, gross - separated, separate, tuple(items),
        tuple(notes))


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Decimal:
    value = con.execute(sql).fetchall()[0][0]
    return ZERO if value is None else Decimal(value)


def _currency(con, currency, in_month, billed_in_month, invoices) -> str:
    if currency:
        return currency.upper()
    found = [c for (c,) in con.execute(
        f"SELECT DISTINCT BillingCurrency FROM charges WHERE ({in_month}) OR ({billed_in_month}) "
        "ORDER BY 1").fetchall()]
    if not found and invoices:
        found = sorted({i.currency for i in invoices})
    if not found:
        raise ValueError("nothing to reconcile: the store has no charges for this month and no "
                         "invoices were given")
    if len(found) > 1:
        raise ValueError(f"the month has charges in {', '.join(found)}: reconcile one billing "
                         "currency at a time (currency=...)")
    return found[0]


def _invoices_from_data(con, billed_in_month: str, currency: str) -> list[Invoice]:
    rows = con.execute(f"""
        SELECT InvoiceId, sum(BilledCost),
               string_agg(DISTINCT InvoiceIssuerName, ', ' ORDER BY InvoiceIssuerName),
               string_agg(DISTINCT BillingAccountId, ', ' ORDER BY BillingAccountId)
        FROM charges
        WHERE BillingCurrency = {sql_literal(currency)} AND {billed_in_month}
          AND coalesce(InvoiceId, '') <> ''
        GROUP BY InvoiceId ORDER BY InvoiceId
    """).fetchall()
    return [Invoice(i, round_money(Decimal(total or 0), currency), currency, None, issuer or None,
                    account or None, None, "data") for i, total, issuer, account in rows]


def _invoices_of_month(con, invoices: list[Invoice], m0: dt.date, lag: int,
                       notes: list[str]) -> list[Invoice]:
    ids = [i.invoice_id for i in invoices]
    months = dict(con.execute(
        f"SELECT InvoiceId, CAST(date_trunc('month', min(BillingPeriodStart)) AS DATE) FROM charges "
        f"WHERE InvoiceId IN {_in_list(ids)} GROUP BY 1").fetchall()) if ids else {}
    out = []
    for inv in invoices:
        if inv.invoice_id in months:
            if months[inv.invoice_id] == m0:
                out.append(inv)
        elif inv.date is None or add_months(as_month(inv.date.replace(day=1)), -lag) == m0:
            out.append(inv)
    unseen = [i.invoice_id for i in out if i.invoice_id not in months]
    if unseen:
        notes.append(f"not in the store: {', '.join(unseen)} (assigned to the month by invoice date, "
                     f"{lag} month(s) after the billing month)")
    return out


def _invoice_rows(con, ids: list[str]) -> dict[str, tuple[int, Decimal, tuple[str, ...]]]:
    if not ids:
        return {}
    rows = con.execute(
        f"SELECT InvoiceId, count(*), sum(BilledCost), list_sort(list(DISTINCT BillingCurrency)) "
        f"FROM charges WHERE InvoiceId IN {_in_list(ids)} GROUP BY 1").fetchall()
    return {i: (int(n), Decimal(s or 0), tuple(c)) for i, n, s, c in rows}


def _in_billing_currency(inv: Invoice, currency: str, fx_rates, month: dt.date) -> Decimal:
    if inv.currency == currency:
        return inv.amount
    if inv.fx_rate is None and fx_rates is not None and not isinstance(fx_rates, Mapping):
        from finops_xl.close.fx import convert  # a RateTable: the month's average rate

        return round_money(convert(inv.amount, inv.currency, currency, month, "average", fx_rates).amount,
                           currency)
    rate = inv.fx_rate if inv.fx_rate is not None else (fx_rates or {}).get(inv.currency)
    if rate is None:
        raise ValueError(f"invoice {inv.invoice_id} ({inv.source or 'given'}) is in {inv.currency} but "
                         f"bills {currency}: give its rate (fx_rate column in the AP list, or "
                         f"fx_rates={{'{inv.currency}': Decimal(...)}} as {currency} per {inv.currency})")
    return round_money(inv.amount * Decimal(rate), currency)


def _invoice_items(inv: Invoice, amount: Decimal, n: int, charges: Decimal,
                   currency: str) -> list[ReconcilingItem]:
    sql = f"SELECT * FROM charges WHERE InvoiceId = {sql_literal(inv.invoice_id)}"
    if n == 0:
        return [ReconcilingItem("missing_data", amount,
                                f"invoice {inv.invoice_id} has no rows in the store", inv.invoice_id, 0,
                                sql, 0, amount)]
    out = []
    rounded = round_money(charges, currency)
    if rounded != charges:
        out.append(ReconcilingItem(
            "rounding", rounded - charges,
            f"invoice {inv.invoice_id} is issued {_cents(currency)}; its rows sum to {currency} "
            f"{charges.normalize():f}", inv.invoice_id, n, sql, 0, amount))
    rest = amount - rounded
    if inv.currency != currency:
        out.append(ReconcilingItem(
            "fx", rest,
            f"invoice {inv.invoice_id} is {inv.amount:f} {inv.currency}, {amount:f} {currency} at the "
            f"booked rate; its rows are {rounded:f} {currency}", inv.invoice_id, n, sql, 0, amount))
    elif rest:
        out.append(ReconcilingItem(
            "unexplained", rest,
            f"invoice {inv.invoice_id} is {amount:f} {currency}; its rows are {rounded:f}",
            inv.invoice_id, n, sql, 0, amount))
    return out


def _cents(currency: str) -> str:
    places = minor_unit(currency)
    return "in whole units" if places == 0 else "to the cent" if places == 2 else f"to {places} decimals"


def _marketplace() -> str:
    return ("(ChargeCategory NOT IN ('Tax', 'Credit') AND nullif(trim(PublisherName), '') IS NOT NULL "
            "AND PublisherName IS DISTINCT FROM ProviderName "
            "AND PublisherName IS DISTINCT FROM InvoiceIssuerName)")


def _buckets(on_inv: str, in_month: str, billed_in_month: str,
             separate: tuple[str, ...]) -> list[tuple[str, int, str, bool, str]]:
    """(category, sign, predicate, per invoice, description) for each row bucket; the predicates are
    mutually exclusive, and rows in none of them are on both sides (matched)."""
    both = f"{on_inv} AND ({in_month})"
    no_id = "coalesce(InvoiceId, '') = ''"
    not_on = f"NOT {on_inv} AND ({in_month})"
    out = []
    if "tax" in separate:
        out.append(("tax", 1, f"{both} AND ChargeCategory = 'Tax'", True, "tax on invoice {id}"))
    if "credit" in separate:
        out.append(("credit", 1, f"{both} AND ChargeCategory = 'Credit'", True, "credits on invoice {id}"))
    if "marketplace" in separate:
        out.append(("marketplace", 1, f"{both} AND {_marketplace()}", True,
                    "marketplace charges (third-party publisher) on invoice {id}"))
    out += [
        ("timing", 1, f"{on_inv} AND NOT ({in_month})", True,
         "rows on invoice {id} charged in another month (not in this month's allocation)"),
        ("missing_data", -1, f"{not_on} AND {no_id}", False,
         "rows charged this month without an InvoiceId (allocated, on no invoice)"),
        ("timing", -1, f"{not_on} AND NOT {no_id} AND NOT ({billed_in_month})", True,
         "rows charged this month, billed on invoice {id} of another billing month"),
        ("missing_data", -1, f"{not_on} AND NOT {no_id} AND ({billed_in_month})", True,
         "rows of this billing month on invoice {id}, which the invoice list does not have"),
    ]
    return out


def _row_items(con, scope: str, buckets) -> list[ReconcilingItem]:
    cases = " ".join(f"WHEN {pred} THEN {k}" for k, (_, _, pred, _, _) in enumerate(buckets))
    found = con.execute(f"""
        SELECT bucket, CASE WHEN bucket IN ({', '.join(str(k) for k, b in enumerate(buckets) if b[3]) or 'NULL'})
                            THEN InvoiceId END AS inv,
               count(*), sum(BilledCost)
        FROM (SELECT InvoiceId, BilledCost, CASE {cases} END AS bucket FROM charges WHERE {scope})
        WHERE bucket IS NOT NULL GROUP BY ALL ORDER BY ALL
    """).fetchall()
    out = []
    for k, inv, n, total in found:
        category, sign, pred, per_invoice, text = buckets[k]
        where = f"{scope} AND {pred}"
        if per_invoice:
            where += f" AND InvoiceId = {sql_literal(inv)}"
        out.append(ReconcilingItem(category, sign * Decimal(total or 0), text.format(id=inv), inv,
                                   int(n), f"SELECT * FROM charges WHERE {where}", sign))
    return out


@dataclasses.dataclass(frozen=True)
class _Run:
    run_id: int
    ran_at: dt.datetime
    last_load_id: int | None


def _allocation(con) -> _Run | None:
    present = {t for (t,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name IN "
        "('allocated_charges', 'allocation_runs')").fetchall()}
    if "allocated_charges" not in present:
        return None
    if "allocation_runs" not in present:
        return _Run(0, dt.datetime.min, None)
    row = con.execute("SELECT run_id, ran_at, last_load_id FROM allocation_runs ORDER BY run_id DESC "
                      "LIMIT 1").fetchall()
    if not row:
        return _Run(0, dt.datetime.min, None)
    run_id, ran_at, last = row[0]
    return _Run(int(run_id), ran_at, int(last) if last not in (None, "") else None)


def _basis(run: _Run | None, closed_at: dt.datetime | None) -> tuple[int | None, str]:
    if run is None:
        return None, ""
    text = f"allocation run {run.run_id} ({run.ran_at:%Y-%m-%d %H:%M} UTC, computed from loads up to " \
           f"{run.last_load_id})"
    if closed_at is not None:
        text += f"; close at {closed_at:%Y-%m-%d %H:%M} UTC"
    return run.last_load_id, text


def _restatements(con, m0: dt.date, m1: dt.date, currency: str, basis_load: int | None,
                  closed_at: dt.datetime | None) -> list[ReconcilingItem]:
    """Slices of the billing month whose current version was loaded after the close."""
    if closed_at is not None:
        at_close = f"h.loaded_at <= {sql_timestamp(closed_at)}"
        when = f"the close ({closed_at:%Y-%m-%d %H:%M} UTC)"
    else:
        at_close = f"h.load_id <= {int(basis_load)}"
        when = f"the allocation (load {basis_load})"
    def period(alias: str) -> str:
        return f"{alias}.BillingPeriodStart >= {sql_timestamp(m0)} AND {alias}.BillingPeriodStart < {sql_timestamp(m1)}"

    found = con.execute(f"""
        WITH per_currency AS (  -- a slice version's BilledCost in this currency (never summed across currencies)
            SELECT ProviderName, BillingAccountId, BillingPeriodStart, load_id, BilledCost
            FROM slice_currencies WHERE BillingCurrency = {sql_literal(currency)}
        ),
        cur AS (
            SELECT s.ProviderName, s.BillingAccountId, s.BillingPeriodStart, s.load_id, s.rows,
                   coalesce(p.BilledCost, s.BilledCost) AS BilledCost
            FROM slices s
            LEFT JOIN per_currency p USING (ProviderName, BillingAccountId, BillingPeriodStart, load_id)
            WHERE {period('s')}
              AND EXISTS (SELECT 1 FROM charges c WHERE c.ProviderName = s.ProviderName
                            AND c.BillingAccountId = s.BillingAccountId
                            AND c.BillingPeriodStart = s.BillingPeriodStart
                            AND c.BillingCurrency = {sql_literal(currency)})
        ),
        closed AS (
            SELECT h.ProviderName, h.BillingAccountId, h.BillingPeriodStart,
                   max(h.load_id) AS load_id,
                   arg_max(coalesce(p.BilledCost, h.BilledCost), h.load_id) AS BilledCost
            FROM slice_history h
            LEFT JOIN per_currency p USING (ProviderName, BillingAccountId, BillingPeriodStart, load_id)
            WHERE {period('h')}
              AND {at_close}
            GROUP BY ALL
        )
        SELECT cur.ProviderName, cur.BillingAccountId, cur.BillingPeriodStart, cur.load_id,
               cur.BilledCost, closed.load_id, closed.BilledCost
        FROM cur LEFT JOIN closed USING (ProviderName, BillingAccountId, BillingPeriodStart)
        WHERE closed.load_id IS DISTINCT FROM cur.load_id
        ORDER BY ALL
    """).fetchall()
    out = []
    for provider, account, start, load, billed, old_load, old_billed in found:
        key = (f"ProviderName = {sql_literal(provider)} AND BillingAccountId = {sql_literal(account)} "
               f"AND BillingPeriodStart = {sql_timestamp(start)}")
        sql = (f"SELECT CASE WHEN load_id = {int(load)} THEN 'current' ELSE 'at close' END AS version, * "
               f"FROM slice_history WHERE {key} AND load_id IN ({int(load)}"
               f"{', ' + str(int(old_load)) if old_load is not None else ''}) ORDER BY load_id")
        delta = Decimal(billed or 0) - Decimal(old_billed or 0)
        text = (f"{provider} {account} {start:%Y-%m} loaded again after {when} (load {old_load} → {load})"
                if old_load is not None else
                f"{provider} {account} {start:%Y-%m} first loaded after {when} (load {load})")
        out.append(ReconcilingItem("restatement", delta, text, None, 2 if old_load is not None else 1, sql))
    return out
