"""The commitment portfolio: inventory, monthly KPIs (utilization, coverage, ESR, waste, savings) and the
expiry calendar, read from FOCUS billing rows with set-based SQL.

Steps, one function each:

1. ``inventory(con, as_of)`` — one :class:`InventoryRow` per CommitmentDiscountId: provider, type,
   category, start/end, upfront, recurring fee, term and the term remaining as of a date. Term, upfront
   and recurring fee come from :func:`finops_xl.close.amortization.commitments_from_store`.
2. ``monthly_kpis(con, month, by)`` — one :class:`KpiRow` per month × (commitment | provider | all) ×
   currency.
3. ``trailing_utilization(con, as_of, days)`` — Used / Unused EffectiveCost per commitment over the days
   before ``as_of``.
4. ``expiry_calendar(inventory, utilization, as_of)`` — commitments ending within 30 / 60 / 90 days with a
   suggestion (renew / resize / let expire); ``expiry_calendar_from_store`` chains steps 1, 3 and 4.

Definitions (stated once; the glossary's "Commitments" section)
---------------------------------------------------------------
Rows
    Only ``ChargeCategory = 'Usage'`` rows enter the KPIs (Purchase, Tax, Credit and Adjustment rows do
    not). A month is ``date_trunc('month', ChargePeriodStart)`` (UTC); months are half-open.
Amortized cost, used, unused, waste
    used = Σ EffectiveCost of the commitment's ``CommitmentDiscountStatus = 'Used'`` rows; unused (=
    **waste**) = Σ EffectiveCost of its ``Unused`` rows; amortized = used + unused — the provider's
    amortized commitment (upfront share + recurring fee), the same amount as ``provider_amount`` in
    :func:`finops_xl.close.amortization.provider_check`.
Utilization
    used ÷ (used + unused); ``None`` when there is neither.
Eligible usage (the coverage and ESR base)
    Usage rows with ``PricingCategory`` in (Standard, Committed) — on-demand or commitment-covered; Dynamic
    (spot) and Other pricing is not what commitments are bought for — in a **commitment scope**: a
    (ProviderName, ServiceCategory) pair in which some commitment has Used or Unused rows anywhere in
    ``table`` (so the scope is what the portfolio actually covers: with AWS EC2/RDS reservations and
    savings plans, AWS Compute and Databases). :class:`KpiOptions` ``service_categories`` replaces the
    scope with a fixed list of ServiceCategory values for every provider.
Coverage (on-demand-equivalent basis)
    Σ ListCost of eligible Used rows ÷ Σ ListCost of eligible consumption rows (everything eligible but
    the Unused rows, whose ListCost is 0 because nothing was consumed). ListCost is what the usage would
    have cost on demand, so covered and uncovered usage are measured alike. For one commitment
    (``by="commitment"``): its Used ListCost ÷ the eligible ListCost of the (provider, service category)
    pairs it covers, in the month.
ESR and savings
    Over eligible rows *including* Unused rows, so waste lowers the rate: list ESR = (ListCost −
    EffectiveCost) ÷ ListCost, contracted ESR = (ContractedCost − EffectiveCost) ÷ ContractedCost;
    savings negotiated = List − Contracted, savings from commitments = Contracted − Effective, total =
    List − Effective (= negotiated + commitment). For ``by="commitment"`` the rows are the commitment's own
    Used + Unused rows (the rate that commitment earns).
Rows lacking list prices
    An eligible consumption row with ListCost null, or 0 while EffectiveCost ≠ 0, has no on-demand
    equivalent. It is left out of coverage, ESR and savings (counting it at 0 would bias all three) and is
    *reported*: ``missing_list_rows`` and ``missing_list_effective_cost`` in each KpiRow. Unused rows are
    not counted there (their 0 ListCost is correct).
Ratios
    Exact Decimal fractions (0.75, not 75), unrounded; ``None`` when the denominator is 0. Money is the
    exact Decimal sum of DECIMAL(38,12) columns, never float; round only to present
    (:func:`finops_xl.money.round_money`). Nothing is summed across currencies: every row has one.

Expiry suggestion (:class:`ExpiryOptions`)
    From the utilization of the ``lookback_days`` (30) before ``as_of``: ≥ ``renew_at`` (90%) → ``renew``;
    ≥ ``resize_at`` (60%) → ``resize`` to the used level (``resize_to`` = utilization, the new size as a
    fraction of the current one); below → ``let expire``; no Used/Unused rows in the lookback → ``review``.

Examples
--------
>>> import duckdb
>>> con = duckdb.connect()
>>> _ = con.execute('''CREATE TABLE charges AS SELECT * FROM (VALUES
...   (TIMESTAMP '2023-01-01', 'Usage', 'Committed', 'ri-1', 'Used', 'Compute', 'AWS', 'USD',
...    1.00::DECIMAL(38,12), 0.90::DECIMAL(38,12), 0.75::DECIMAL(38,12)),
...   (TIMESTAMP '2023-01-01', 'Usage', 'Committed', 'ri-1', 'Unused', 'Compute', 'AWS', 'USD',
...    0.00, 0.00, 0.25),
...   (TIMESTAMP '2023-01-01', 'Usage', 'Standard', NULL, NULL, 'Compute', 'AWS', 'USD', 1.00, 1.00, 1.00))
...   t(ChargePeriodStart, ChargeCategory, PricingCategory, CommitmentDiscountId, CommitmentDiscountStatus,
...     ServiceCategory, ProviderName, BillingCurrency, ListCost, ContractedCost, EffectiveCost)''')
>>> (k,) = monthly_kpis(con, by="all")
>>> k.utilization, k.waste, k.coverage, k.esr
(Decimal('0.75'), Decimal('0.250000000000'), Decimal('0.5'), Decimal('0'))
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from finops_xl.close.amortization import Commitment, add_months, commitments_from_store
from finops_xl.store.sources import sql_identifier

__all__ = [
    "BY", "SUGGESTIONS", "ExpiryOptions", "ExpiryRow", "InventoryRow", "KpiOptions", "KpiRow",
    "expiry_calendar", "expiry_calendar_from_store", "inventory", "monthly_kpis", "trailing_utilization",
]

ZERO = Decimal(0)
BY = ("commitment", "provider", "all")
ALL = "all"  #: the key of the portfolio-wide row (``by="all"``)

#: Suggestions of :func:`expiry_calendar`, each with what it means.
SUGGESTIONS: dict[str, str] = {
    "renew": "utilization at or above renew_at: buy the same commitment again",
    "resize": "utilization between resize_at and renew_at: renew at the used level (resize_to × current)",
    "let expire": "utilization below resize_at: let it expire; cover the usage again from a fresh recommendation",
    "review": "no Used or Unused rows in the lookback: utilization unknown",
}


def _ratio(num: Decimal | None, den: Decimal | None) -> Decimal | None:
    if num is None or not den:
        return None
    return num / den


def _dec(x) -> Decimal:
    return ZERO if x is None else Decimal(x)


def _month(d: dt.date) -> dt.date:
    if isinstance(d, dt.datetime):
        d = d.date()
    return d.replace(day=1)


# --------------------------------------------------------------------------------------------------
# 1. Inventory
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class InventoryRow:
    """One commitment as of a date.

    Attributes:
      id: CommitmentDiscountId.  name: CommitmentDiscountName.  provider: ProviderName.
      type: CommitmentDiscountType.  category: CommitmentDiscountCategory (Spend / Usage).
      currency: BillingCurrency.
      start: first day of the term.  end: the day after the term (exclusive, ``start + term_months``).
      start_source: where ``start`` comes from — ``"ChargeDescription"`` (the Purchase row states the
      term start as ``(YYYY-MM-DD)``) or ``"first Purchase row"`` (its ChargePeriodStart; for a commitment
      bought before the data window, the window's first day).
      term_months: the term.  upfront: the prepaid amount.  recurring_monthly: the monthly fee.
      as_of: the date the remaining term is measured from.
      remaining_days: days of the term on or after ``as_of`` (0 once expired).
      remaining_months: whole calendar months from ``as_of`` still inside the term.
      status: ``active`` (start ≤ as_of < end), ``expired`` (end ≤ as_of) or ``future`` (as_of < start).
      first_seen / last_seen: first ChargePeriodStart / last ChargePeriodEnd of its rows in the store.
    """

    id: str
    name: str
    provider: str
    type: str
    category: str
    currency: str
    start: dt.date
    end: dt.date
    start_source: str
    term_months: int
    upfront: Decimal
    recurring_monthly: Decimal
    as_of: dt.date
    remaining_days: int
    remaining_months: int
    status: str
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None


def _remaining(start: dt.date, end: dt.date, as_of: dt.date) -> tuple[int, int, str]:
    if as_of >= end:
        return 0, 0, "expired"
    frm = max(as_of, start)
    months = 0
    while add_months(frm, months + 1) <= end:
        months += 1
    return (end - frm).days, months, "future" if as_of < start else "active"


def _data_end(con, table: str) -> dt.date:
    (hi,) = con.execute(f"SELECT max(ChargePeriodEnd) FROM {sql_identifier(table)}").fetchone()
    if hi is None:
        raise ValueError(f"table {table} holds no rows: pass as_of")
    return hi.date() if isinstance(hi, dt.datetime) else hi


def inventory(con, as_of: dt.date | None = None, *, table: str = "charges",
              default_term_months: int = 12) -> tuple[InventoryRow, ...]:
    """The commitments bought (FOCUS ``Purchase`` rows) in ``table``, as of ``as_of``.

    Parameters
    ----------
    con : duckdb connection (``CostStore(path).reader()``)
    as_of : date, default the end of the data (the last ChargePeriodEnd's date)
    default_term_months : the term when the rows do not state one (see ``commitments_from_store``)

    Returns
    -------
    tuple of InventoryRow, sorted by id.

    Notes
    -----
    Term, upfront (grossed up from an in-window share) and recurring fee are
    :func:`~finops_xl.close.amortization.commitments_from_store`'s. The start is the date a Purchase row's
    ChargeDescription states as ``(YYYY-MM-DD)`` when there is one (the generator's and many exports'
    convention), else that function's start; end = start + term months (Excel ``EDATE``).
    """
    as_of = as_of or _data_end(con, table)
    commitments: dict[str, Commitment] = {c.id: c for c in commitments_from_store(
        con, default_term_months=default_term_months, table=table)}
    t = sql_identifier(table)
    attrs = con.execute(rf"""
        SELECT CommitmentDiscountId,
               coalesce(min(CommitmentDiscountName), ''),
               coalesce(min(CommitmentDiscountCategory), ''),
               min(nullif(regexp_extract(ChargeDescription, '\((\d{{4}}-\d{{2}}-\d{{2}})\)(?::|\s*$)', 1), ''))
                   FILTER (WHERE ChargeCategory = 'Purchase'),
               min(ChargePeriodStart), max(ChargePeriodEnd)
        FROM {t}
        WHERE list_contains(?, CommitmentDiscountId)
        GROUP BY 1""", [list(commitments)]).fetchall()
    out = []
    for cid, name, category, stated, first_seen, last_seen in sorted(attrs):
        c = commitments[cid]
        start, source = c.start, "first Purchase row"
        if stated:
            start, source = dt.date.fromisoformat(stated), "ChargeDescription"
        end = add_months(start, c.term_months)
        days, months, status = _remaining(start, end, as_of)
        out.append(InventoryRow(cid, name, c.provider, c.type, category, c.currency, start, end, source,
                                c.term_months, c.upfront, c.recurring_monthly, as_of, days, months, status,
                                first_seen, last_seen))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# 2. Monthly KPIs
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class KpiOptions:
    """The knobs of :func:`monthly_kpis`.

    Attributes:
      pricing_categories: PricingCategory values of eligible usage (default Standard, Committed).
      service_categories: a fixed list of eligible ServiceCategory values (every provider); ``None``
      (default) = the commitment scopes found in the data (see the module notes).
    """

    pricing_categories: tuple[str, ...] = ("Standard", "Committed")
    service_categories: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class KpiRow:
    """One month of one group (a commitment, a provider or the whole portfolio) in one currency.

    Attributes:
      month: first day of the month.  by: ``commitment`` / ``provider`` / ``all``.
      key: CommitmentDiscountId, ProviderName, or ``"all"``.  provider: ProviderName ('' for ``all``).
      currency: BillingCurrency.
      used, unused, amortized: Σ EffectiveCost of Used, Unused, Used + Unused rows.
      utilization: used ÷ amortized (None when 0).
      covered_list: Σ ListCost of eligible Used rows.  eligible_list: Σ ListCost of eligible consumption.
      coverage: covered_list ÷ eligible_list.
      list_cost, contracted_cost, effective_cost: sums over the ESR rows (module notes).
      esr: (list − effective) ÷ list.  esr_contracted: (contracted − effective) ÷ contracted.
      savings_negotiated: list − contracted.  savings_commitment: contracted − effective.
      savings_total: list − effective.
      missing_list_rows: eligible consumption rows without a list price (left out of coverage, ESR and
      savings).  missing_list_effective_cost: their Σ EffectiveCost.
    """

    month: dt.date
    by: str
    key: str
    provider: str
    currency: str
    used: Decimal
    unused: Decimal
    amortized: Decimal
    utilization: Decimal | None
    covered_list: Decimal
    eligible_list: Decimal
    coverage: Decimal | None
    list_cost: Decimal
    contracted_cost: Decimal
    effective_cost: Decimal
    esr: Decimal | None
    esr_contracted: Decimal | None
    savings_negotiated: Decimal
    savings_commitment: Decimal
    savings_total: Decimal
    missing_list_rows: int
    missing_list_effective_cost: Decimal

    @property
    def waste(self) -> Decimal:
        """EffectiveCost of Unused commitment rows (= ``unused``)."""
        return self.unused


def _kpi_sql(t: str, by: str, options: KpiOptions, month_filter: str) -> tuple[str, list]:
    params: list = []
    if options.service_categories is None:
        scope_pairs = f"""SELECT DISTINCT coalesce(ProviderName, '') AS provider, ServiceCategory AS svc
                          FROM {t} WHERE ChargeCategory = 'Usage'
                            AND CommitmentDiscountStatus IN ('Used', 'Unused')"""
        in_scope = "EXISTS (SELECT 1 FROM pairs p WHERE p.provider = b.provider AND p.svc IS NOT DISTINCT FROM b.svc)"
    else:
        scope_pairs = "SELECT NULL AS provider, NULL AS svc WHERE false"
        in_scope = "list_contains(?, b.svc)"
        params.append(list(options.service_categories))
    params.insert(0, list(options.pricing_categories))
    base = f"""
        pairs AS ({scope_pairs}),
        raw AS (
            SELECT CAST(date_trunc('month', ChargePeriodStart) AS DATE) AS month,
                   coalesce(ProviderName, '') AS provider, coalesce(BillingCurrency, '') AS currency,
                   ServiceCategory AS svc, CommitmentDiscountId AS cid,
                   CommitmentDiscountStatus AS status, PricingCategory AS pricing,
                   ListCost, ContractedCost, EffectiveCost
            FROM {t}
            WHERE ChargeCategory = 'Usage' {month_filter}),
        b0 AS (
            SELECT *, coalesce(status, '') = 'Unused' AS unused_row,
                   coalesce(status, '') = 'Unused'
                     OR NOT (ListCost IS NULL OR (ListCost = 0 AND coalesce(EffectiveCost, 0) <> 0)) AS has_list
            FROM raw),
        b AS (
            SELECT b.*, coalesce(list_contains(?, b.pricing), false) AND {in_scope} AS eligible
            FROM b0 b)"""
    commit = "cid IS NOT NULL AND status IN ('Used', 'Unused')"
    sums = f"""
        coalesce(sum(EffectiveCost) FILTER (WHERE {commit} AND status = 'Used'), 0) AS used,
        coalesce(sum(EffectiveCost) FILTER (WHERE {commit} AND status = 'Unused'), 0) AS unused,
        coalesce(sum(ListCost) FILTER (WHERE eligible AND has_list AND status = 'Used'), 0) AS covered,
        coalesce(sum(ContractedCost) FILTER (WHERE esr_row), 0) AS contracted,
        coalesce(sum(ListCost) FILTER (WHERE esr_row), 0) AS list,
        coalesce(sum(EffectiveCost) FILTER (WHERE esr_row), 0) AS effective,
        count(*) FILTER (WHERE eligible AND NOT has_list) AS missing_n,
        coalesce(sum(EffectiveCost) FILTER (WHERE eligible AND NOT has_list), 0) AS missing_eff"""
    if by == "commitment":
        sql = f"""
        WITH {base},
        cscope AS (SELECT DISTINCT cid, provider, svc FROM b WHERE {commit}),
        pool AS (SELECT month, currency, provider, svc, sum(ListCost) AS l FROM b
                 WHERE eligible AND has_list AND NOT unused_row GROUP BY ALL),
        celig AS (SELECT s.cid, p.month, p.currency, sum(p.l) AS eligible_list
                  FROM cscope s JOIN pool p ON p.provider = s.provider AND p.svc IS NOT DISTINCT FROM s.svc
                  GROUP BY ALL),
        g AS (SELECT month, currency, cid AS key, min(provider) AS provider, {sums}
              FROM (SELECT *, has_list AS esr_row FROM b WHERE {commit}) GROUP BY ALL)
        SELECT g.*, coalesce(e.eligible_list, 0)
        FROM g LEFT JOIN celig e ON e.cid = g.key AND e.month = g.month AND e.currency = g.currency
        ORDER BY g.month, g.key, g.currency"""
    else:
        key = "provider" if by == "provider" else f"'{ALL}'"
        prov = "provider" if by == "provider" else "''"
        sql = f"""
        WITH {base}
        SELECT month, currency, {key} AS key, {prov} AS provider, {sums},
               coalesce(sum(ListCost) FILTER (WHERE eligible AND has_list AND NOT unused_row), 0)
        FROM (SELECT *, eligible AND has_list AS esr_row FROM b WHERE eligible OR ({commit}))
        GROUP BY ALL ORDER BY month, key, currency"""
    return sql, params


def monthly_kpis(con, month: dt.date | None = None, by: str = "commitment", table: str = "charges", *,
                 options: KpiOptions = KpiOptions()) -> list[KpiRow]:
    """Utilization, coverage, ESR, waste and savings per month, by commitment, provider or overall.

    Parameters
    ----------
    con : duckdb connection (``CostStore(path).reader()``, or any connection holding ``table``)
    month : date, optional — any day of the month to report; ``None`` = every month in ``table``
    by : ``"commitment"`` | ``"provider"`` | ``"all"``
    table : a table with FOCUS columns (default the store's ``charges``)
    options : KpiOptions — what counts as eligible usage

    Returns
    -------
    list of KpiRow, by month, key and currency.

    Notes
    -----
    utilization = used ÷ (used + unused); coverage = covered ListCost ÷ eligible ListCost;
    ESR = (List − Effective) ÷ List; see the module notes for eligible usage, the ESR rows and rows
    lacking list prices. One SQL query; Python only builds the result rows.
    """
    if by not in BY:
        raise ValueError(f"by must be one of {BY}, got {by!r}")
    month_filter, mparams = "", []
    if month is not None:
        m = _month(month)
        month_filter = "AND ChargePeriodStart >= ? AND ChargePeriodStart < ?"
        mparams = [m, add_months(m, 1)]
    sql, params = _kpi_sql(sql_identifier(table), by, options, month_filter)
    # parameter order: the month filter (in raw) comes before the pricing list (in b) and service list
    rows = con.execute(sql, [*mparams, *params]).fetchall()
    out = []
    for (m, currency, key, provider, used, unused, covered, contracted, lst, effective, missing_n,
         missing_eff, eligible) in rows:
        used, unused, covered, eligible = _dec(used), _dec(unused), _dec(covered), _dec(eligible)
        lst, contracted, effective = _dec(lst), _dec(contracted), _dec(effective)
        amortized = used + unused
        out.append(KpiRow(
            month=m, by=by, key=key or "", provider=provider or "", currency=currency,
            used=used, unused=unused, amortized=amortized, utilization=_ratio(used, amortized),
            covered_list=covered, eligible_list=eligible, coverage=_ratio(covered, eligible),
            list_cost=lst, contracted_cost=contracted, effective_cost=effective,
            esr=_ratio(lst - effective, lst), esr_contracted=_ratio(contracted - effective, contracted),
            savings_negotiated=lst - contracted, savings_commitment=contracted - effective,
            savings_total=lst - effective,
            missing_list_rows=int(missing_n), missing_list_effective_cost=_dec(missing_eff)))
    return out


# --------------------------------------------------------------------------------------------------
# 3–4. Trailing utilization and the expiry calendar
# --------------------------------------------------------------------------------------------------

def trailing_utilization(con, as_of: dt.date, days: int = 30, *,
                         table: str = "charges") -> dict[str, tuple[Decimal, Decimal]]:
    """{CommitmentDiscountId: (used, unused)} — Σ EffectiveCost of its Used / Unused Usage rows with
    ChargePeriodStart in ``[as_of − days, as_of)``."""
    lo = dt.datetime.combine(as_of - dt.timedelta(days=days), dt.time())
    hi = dt.datetime.combine(as_of, dt.time())
    rows = con.execute(f"""
        SELECT CommitmentDiscountId,
               coalesce(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'), 0),
               coalesce(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Unused'), 0)
        FROM {sql_identifier(table)}
        WHERE ChargeCategory = 'Usage' AND CommitmentDiscountId IS NOT NULL
          AND CommitmentDiscountStatus IN ('Used', 'Unused')
          AND ChargePeriodStart >= ? AND ChargePeriodStart < ?
        GROUP BY 1""", [lo, hi]).fetchall()
    return {cid: (Decimal(u), Decimal(x)) for cid, u, x in rows}


@dataclasses.dataclass(frozen=True)
class ExpiryOptions:
    """The knobs of :func:`expiry_calendar`.

    Attributes:
      windows: day horizons, ascending (30, 60, 90); a commitment falls in the first that holds its end.
      lookback_days: the days before ``as_of`` whose utilization drives the suggestion (30).
      renew_at: utilization at or above which to renew (0.90).
      resize_at: utilization at or above which (and below renew_at) to resize (0.60).
    """

    windows: tuple[int, ...] = (30, 60, 90)
    lookback_days: int = 30
    renew_at: Decimal = Decimal("0.90")
    resize_at: Decimal = Decimal("0.60")

    def __post_init__(self):
        if list(self.windows) != sorted(self.windows) or not self.windows or self.windows[0] < 1:
            raise ValueError(f"windows must be ascending positive day counts, got {self.windows!r}")
        if not ZERO <= self.resize_at <= self.renew_at <= 1:
            raise ValueError(f"need 0 ≤ resize_at ≤ renew_at ≤ 1, got {self.resize_at}, {self.renew_at}")


@dataclasses.dataclass(frozen=True)
class ExpiryRow:
    """A commitment ending soon, with a suggestion.

    Attributes:
      id, name, provider, type, currency: of the commitment.  end: the day after the term.
      days_left: (end − as_of) in days (1 … max window).  window: the first window ≥ days_left.
      used, unused: Σ EffectiveCost of its Used / Unused rows in the lookback.
      utilization: used ÷ (used + unused) in the lookback (None without rows).
      suggestion: one of :data:`SUGGESTIONS`.  resize_to: for ``resize``, the new size as a fraction of
      the current one (= utilization); else None.
    """

    id: str
    name: str
    provider: str
    type: str
    currency: str
    end: dt.date
    days_left: int
    window: int
    used: Decimal
    unused: Decimal
    utilization: Decimal | None
    suggestion: str
    resize_to: Decimal | None


def expiry_calendar(commitments: Iterable[InventoryRow], utilization: Mapping[str, tuple[Decimal, Decimal]],
                    as_of: dt.date, *, options: ExpiryOptions = ExpiryOptions()) -> list[ExpiryRow]:
    """Commitments whose term ends within ``options.windows`` days of ``as_of``, each with a suggestion.

    Parameters
    ----------
    commitments : inventory rows (:func:`inventory`, or built by hand)
    utilization : {id: (used, unused)} over the lookback (:func:`trailing_utilization`)
    as_of : the date the calendar is drawn on

    Returns
    -------
    list of ExpiryRow, soonest end first (then id).

    Notes
    -----
    ``end`` is exclusive, so days_left = (end − as_of).days counts the days of the term left from
    ``as_of`` on: a commitment with end = as_of + 30 is in the 30-day window; one with end ≤ as_of has
    already expired and is not listed. Thresholds: module notes, :class:`ExpiryOptions`.
    """
    out = []
    horizon = options.windows[-1]
    for c in commitments:
        days_left = (c.end - as_of).days
        if not 1 <= days_left <= horizon:
            continue
        window = next(w for w in options.windows if days_left <= w)
        used, unused = utilization.get(c.id, (ZERO, ZERO))
        u = _ratio(used, used + unused)
        if u is None:
            suggestion, resize_to = "review", None
        elif u >= options.renew_at:
            suggestion, resize_to = "renew", None
        elif u >= options.resize_at:
            suggestion, resize_to = "resize", u
        else:
            suggestion, resize_to = "let expire", None
        out.append(ExpiryRow(c.id, c.name, c.provider, c.type, c.currency, c.end, days_left, window,
                             used, unused, u, suggestion, resize_to))
    return sorted(out, key=lambda r: (r.end, r.id))


def expiry_calendar_from_store(con, as_of: dt.date | None = None, *, table: str = "charges",
                               options: ExpiryOptions = ExpiryOptions()) -> list[ExpiryRow]:
    """:func:`expiry_calendar` over the store's :func:`inventory` and :func:`trailing_utilization`
    (``as_of`` defaults to the end of the data)."""
    as_of = as_of or _data_end(con, table)
    inv = inventory(con, as_of, table=table)
    return expiry_calendar(inv, trailing_utilization(con, as_of, options.lookback_days, table=table),
                           as_of, options=options)
