"""Commitments read from the cost store, their use by owner, and the check of each schedule against
the provider's own amortization (``amortization`` re-exports them)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal, localcontext

from finops_xl.money import round_money
from finops_xl.months import edate as add_months
from finops_xl.store.sources import sql_identifier
from finops_xl.close.amortization_schedule import (
    ZERO, Commitment, _month, _quantum, schedule,
)



# --------------------------------------------------------------------------------------------------
# From the store
# --------------------------------------------------------------------------------------------------

_WINDOW_SHARE_RE = re.compile(r"\((\d+) of (\d+) days of the term\)")


def commitments_from_store(con, *, default_term_months: int = 12, gross_up_window_share: bool = True,
                           table: str = "charges") -> tuple[Commitment, ...]:
    """One Commitment per CommitmentDiscountId with FOCUS ``Purchase`` rows in ``table``.

    Parameters
    ----------
    con : duckdb connection (e.g. ``CostStore(path).reader()``)
    default_term_months : int
        Term when no row states one (see :mod:`finops_xl.close.commitment_terms`); such a commitment
        has ``term_source == "assumed"``, and its callers print
        :func:`~finops_xl.close.commitment_terms.assumed_term_warnings` — never a silent default.
    gross_up_window_share : bool
        A One-Time row whose ChargeDescription says it carries only "(k of n days of the term)" (the
        sample generator's closed-window convention) is scaled by n ÷ k to the full upfront.

    Returns
    -------
    tuple of Commitment, sorted by id.

    Notes
    -----
    start = the first Purchase row's ChargePeriodStart date (for a commitment bought before the data
    window, that is the window's first day); upfront = Σ BilledCost of One-Time Purchase rows, rounded
    to the currency's minor unit; recurring_monthly = the Recurring fee of the latest full calendar
    month billed (else the largest Recurring fee); term = SkuPriceDetails ``x_Term`` (then another Term
    key, then term text), ChargeDescription, a One-Time row's ChargePeriod when it spans whole months
    (FOCUS purchase scenario 1), the commitment's ``x_CommitmentDiscountStart``/``End`` dates, else
    ``default_term_months`` with ``term_source`` "assumed" (:func:`commitment_terms.term_of`).
    """
    from finops_xl.close.commitment_terms import ASSUMED, term_of
    from finops_xl.store.store import (
        table_columns,  # the store (DuckDB) only where it is read
    )

    cols = table_columns(con, table)
    details = "CAST(SkuPriceDetails AS VARCHAR)" if "SkuPriceDetails" in cols else "NULL"
    # the commitment's own dates (AWS reservation/savings plan StartTime, EndTime), on any of its rows
    dates = ("x_CommitmentDiscountStart", "x_CommitmentDiscountEnd")
    start_sql, end_sql = (f"CAST({sql_identifier(c)} AS VARCHAR)" if c in cols else "NULL" for c in dates)
    t = sql_identifier(table)
    one_time = "ChargeFrequency = 'One-Time'"
    recurring = "ChargeFrequency = 'Recurring'"
    full_month = ("ChargePeriodStart = date_trunc('month', ChargePeriodStart) AND ChargePeriodEnd = "
                  "date_trunc('month', ChargePeriodStart) + INTERVAL 1 MONTH")
    rows = con.execute(f"""
        SELECT CommitmentDiscountId,
               min(ProviderName), min(CommitmentDiscountType),
               min(ChargePeriodStart),
               count(DISTINCT BillingCurrency), min(BillingCurrency),
               coalesce(sum(BilledCost) FILTER (WHERE {one_time}), 0),
               arg_max(BilledCost, ChargePeriodStart) FILTER (WHERE {recurring} AND {full_month}),
               max(BilledCost) FILTER (WHERE {recurring}),
               coalesce(min({details}) FILTER (WHERE {details} ILIKE '%term%'), min({details})),
               min(ChargeDescription) FILTER (WHERE {one_time}),
               min(ChargeDescription),
               min(ChargePeriodStart) FILTER (WHERE {one_time}),
               min(ChargePeriodEnd) FILTER (WHERE {one_time}),
               count(DISTINCT ChargeDescription) FILTER (WHERE {one_time}),
               min({start_sql}), max({end_sql})
        FROM {t}
        WHERE ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL
        GROUP BY CommitmentDiscountId
        ORDER BY CommitmentDiscountId""").fetchall()
    out = []
    for (cid, provider, ctype, first, n_cur, currency, upfront, rec_full, rec_max, price_details,
         onetime_desc, any_desc, ot_start, ot_end, n_ot_desc, term_start, term_end) in rows:
        if n_cur > 1:
            raise ValueError(f"commitment {cid}: Purchase rows in {n_cur} billing currencies")
        currency = currency or "USD"
        upfront = Decimal(upfront)
        share = _WINDOW_SHARE_RE.search(onetime_desc or "")
        if gross_up_window_share and share and n_ot_desc == 1:
            k, n = int(share.group(1)), int(share.group(2))
            with localcontext() as ctx:
                ctx.prec = 60
                upfront = upfront * n / k
        term, source = (term_of(details=price_details, descriptions=(onetime_desc, any_desc),
                                one_time_period=(ot_start, ot_end), dates=(term_start, term_end))
                        or (default_term_months, ASSUMED))
        rec = rec_full if rec_full is not None else (rec_max or ZERO)
        out.append(Commitment(cid, provider or "", ctype or "", first.date(), term,
                              round_money(upfront, currency), round_money(Decimal(rec), currency), currency,
                              term_source=source))
    return tuple(out)


def used_by_owner(con, commitment_id: str, month: dt.date, *, owner_column: str = "SubAccountName",
                  table: str = "charges") -> tuple[dict[str, Decimal], Decimal]:
    """({owner: Used EffectiveCost}, Unused EffectiveCost) of one commitment in one month — the
    weights :func:`amortization_entry` takes. The owner is the column ``owner_column`` ('' when null)."""
    m = _month(month)
    rows = con.execute(f"""
        SELECT coalesce(CAST({sql_identifier(owner_column)} AS VARCHAR), ''),
               coalesce(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'), 0),
               coalesce(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Unused'), 0)
        FROM {sql_identifier(table)}
        WHERE CommitmentDiscountId = ? AND ChargeCategory = 'Usage'
          AND ChargePeriodStart >= ? AND ChargePeriodStart < ?
        GROUP BY 1 ORDER BY 1""", [commitment_id, m, add_months(m, 1)]).fetchall()
    used = {owner: Decimal(u) for owner, u, _ in rows if u}
    return used, sum((Decimal(x) for _, _, x in rows), ZERO)


def used_by_allocated_owner(con, commitment_id: str, month: dt.date,
                            table: str = "charges") -> tuple[dict[str, Decimal], Decimal]:
    """Like :func:`used_by_owner`, with owners from the store's allocation: each sub-account ×
    service's Used EffectiveCost of the commitment goes to the owners the allocation gave that
    sub-account × service's commitment-covered usage, in proportion (usage the allocation pooled or
    could not place stays under the sub-account's name). Without an allocation it is
    :func:`used_by_owner`."""
    present = con.execute("SELECT count(*) FROM information_schema.tables "
                          "WHERE table_name = 'allocation_groups'").fetchall()[0][0]
    if not present:
        return used_by_owner(con, commitment_id, month, table=table)
    m = _month(month)
    params = [commitment_id, m, add_months(m, 1)]
    where = (f"FROM {sql_identifier(table)} WHERE CommitmentDiscountId = ? AND ChargeCategory = 'Usage' "
             "AND ChargePeriodStart >= ? AND ChargePeriodStart < ?")
    rows = con.execute(f"""
        WITH used AS (
            SELECT SubAccountId, ServiceName, any_value(SubAccountName) AS name, sum(EffectiveCost) AS used
            {where} AND CommitmentDiscountStatus = 'Used' GROUP BY 1, 2),
        owners AS (
            SELECT SubAccountId, ServiceName, owner, sum(EffectiveCost) AS w
            FROM allocation_groups
            WHERE month = ? AND CommitmentDiscountStatus = 'Used' AND owner IS NOT NULL
              AND pool_id IS NULL
            GROUP BY ALL HAVING sum(EffectiveCost) > 0)
        SELECT coalesce(o.owner, u.name, u.SubAccountId, ''), u.used, o.w,
               sum(o.w) OVER (PARTITION BY u.SubAccountId, u.ServiceName)
        FROM used u LEFT JOIN owners o USING (SubAccountId, ServiceName) ORDER BY 1""",
        [*params, m]).fetchall()
    (unused,) = con.execute(f"SELECT coalesce(sum(EffectiveCost), 0) {where} "
                            "AND CommitmentDiscountStatus = 'Unused'", params).fetchall()[0]
    used: dict[str, Decimal] = {}
    with localcontext() as ctx:
        ctx.prec = 60
        for owner, u, w, total in rows:
            share = Decimal(w) / Decimal(total) if w is not None and total else Decimal(1)
            if u:
                used[owner] = used.get(owner, ZERO) + Decimal(u) * share
    return used, Decimal(unused)


# --------------------------------------------------------------------------------------------------
# Cross-check against the provider
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ProviderCheckRow:
    """One commitment-month: the schedule against the provider's amortized cost.

    Attributes:
      commitment_id, month, currency.
      schedule_amount: the schedule's amortization of the upfront in the month.
      provider_amount: Σ EffectiveCost of the commitment's Used + Unused Usage rows in the month (the
      provider's amortized upfront share + recurring fee), exact.
      provider_recurring: Σ BilledCost of its Recurring Purchase rows billed in the month, exact.
      provider_upfront: provider_amount − provider_recurring — what is compared with the schedule.
      difference: schedule_amount − provider_upfront rounded to the minor unit (0 = agree).
      cause: '' when they agree, else one of :data:`CAUSES`.
    """

    commitment_id: str
    month: dt.date
    currency: str
    schedule_amount: Decimal
    provider_amount: Decimal
    provider_recurring: Decimal
    provider_upfront: Decimal
    difference: Decimal
    cause: str


def provider_check(con, commitments: Sequence[Commitment], method: str = "daily", *,
                   table: str = "charges") -> list[ProviderCheckRow]:
    """Compare each commitment's schedule with the provider's amortization, month by month.

    The provider's EffectiveCost on Used and Unused rows is the amortized commitment: upfront share +
    recurring fee. Like is compared with like: the recurring fee billed in the month (Recurring
    Purchase rows) is taken out, and what is left — the provider's amortized upfront — is compared with
    the schedule. Months: those of the schedule inside the provider's data window (the store's first
    ChargePeriodStart to last ChargePeriodEnd for that provider) and any month with provider rows.

    Returns
    -------
    list of ProviderCheckRow, by commitment and month; every row with a non-zero difference names its
    cause (:data:`CAUSES`, first that explains it).
    """
    t = sql_identifier(table)
    ids = [c.id for c in commitments]
    if not ids:
        return []
    prov = con.execute(f"""
        SELECT CommitmentDiscountId, CAST(date_trunc('month', ChargePeriodStart) AS DATE),
               coalesce(sum(EffectiveCost) FILTER (WHERE ChargeCategory = 'Usage'
                                                   AND CommitmentDiscountStatus IN ('Used', 'Unused')), 0),
               coalesce(sum(BilledCost) FILTER (WHERE ChargeCategory = 'Purchase'
                                                AND ChargeFrequency = 'Recurring'), 0),
               coalesce(sum(BilledCost) FILTER (WHERE ChargeCategory = 'Purchase'
                                                AND ChargeFrequency = 'One-Time'), 0)
        FROM {t}
        WHERE list_contains(?, CommitmentDiscountId)
        GROUP BY ALL""", [ids]).fetchall()
    windows = {p: (lo, hi) for p, lo, hi in con.execute(
        f"SELECT ProviderName, min(ChargePeriodStart), max(ChargePeriodEnd) FROM {t} GROUP BY 1").fetchall()}
    by_cm = {(cid, m): (Decimal(a), Decimal(r), Decimal(o)) for cid, m, a, r, o in prov}

    rows: list[ProviderCheckRow] = []
    for c in sorted(commitments, key=lambda c: c.id):
        q = _quantum(c.currency)
        s = schedule(c, method)
        daily = schedule(c, "daily") if method != "daily" else s
        lo, hi = windows.get(c.provider, (None, None))
        if lo is None:
            continue
        lo_d, hi_d = lo.date(), (hi - dt.timedelta(microseconds=1)).date()
        months = {p.month for p in s.periods if _month(lo_d) <= p.month <= _month(hi_d)}
        months |= {m for (cid, m) in by_cm if cid == c.id}
        provider_rows = {m: by_cm.get((c.id, m), (ZERO, ZERO, ZERO)) for m in sorted(months)}
        window_upfront = sum((a - r for a, r, _ in provider_rows.values()), ZERO)
        onetime = sum((o for _, _, o in provider_rows.values()), ZERO)
        share_only = (c.end > hi_d and abs(onetime - c.upfront) <= q
                      and abs(window_upfront - c.upfront) <= q * (len(months) + 1))
        last = s.periods[-1].month if s.periods else None
        for m, (amount, recurring, _) in provider_rows.items():
            p = s.period(m)
            sched = p.amortization if p is not None else ZERO
            upfront_part = amount - recurring
            diff = round_money(sched - upfront_part, c.currency)
            cause = ""
            if diff:
                delta = abs(sched - upfront_part)
                bound = q * (len(s.periods) // 2 + 1) if m == last else q
                dp = daily.period(m)
                per_day = c.upfront / c.term_days if c.term_days else ZERO
                if not (lo <= dt.datetime.combine(m, dt.time()) and
                        dt.datetime.combine(add_months(m, 1), dt.time()) <= hi):
                    cause = "month partly outside the data window"
                elif delta <= bound:
                    cause = "rounding"
                elif share_only:
                    cause = "upfront share outside the data window"
                elif method == "monthly" and dp is not None and abs(dp.amortization - upfront_part) <= bound:
                    cause = "monthly method: equal months, provider amortizes by the day"
                elif not recurring and c.recurring_monthly and upfront_part > sched:
                    cause = "recurring fee included by provider"
                elif (_month(c.start) == m or _month(c.end - dt.timedelta(days=1)) == m) and delta <= per_day + q:
                    cause = "term starts/ends mid-month: provider prorates hourly"
                else:
                    cause = "unexplained"
            rows.append(ProviderCheckRow(c.id, m, c.currency, sched, amount, recurring, upfront_part,
                                         diff, cause))
    return rows
