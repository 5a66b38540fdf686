"""The savings ledger: opportunities with a status, and savings measured, not assumed.

Tables (in ``CostStore.savings_path``, beside the store; every store reader sees them as views):

* ``opportunities``: one row per opportunity (a rule on a resource; the id is stable across runs),
  with the numbers of the last detection that saw it, its status and the date it was implemented.
* ``opportunity_events``: every status change, with the analyst's note.

Status moves only along these edges (anything else is refused with the allowed moves)::

    identified → approved → implemented → realized
         ↘ rejected ↙ (from identified or approved);  rejected → identified (reopened)

``realized`` needs ``implemented`` first *and* at least one day of billing data on or after the
implementation date, so a saving is only called realized once it can be seen.

Realized savings (``measure``), per opportunity and month, by the before/after run-rate method:

* baseline = the resource's cost per day over the ``baseline_days`` (30) days before the
  implementation date, counting the days the store has data for (a day the resource did not bill
  counts as zero);
* after = the days of the month on or after the implementation date that the store has data for;
* realized = baseline per day × after days − the resource's actual cost on those days;
* projected = the estimated monthly savings × after days / days in the month;
* annualized = realized / after days × 365.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

import duckdb
import pyarrow as pa

from finops_xl.months import add_months
from finops_xl.optimization.detectors import Finding
from finops_xl.store.store import CostStore

__all__ = ["STATUSES", "TRANSITIONS", "LedgerError", "Opportunity", "Measurement", "OwnerSavings",
           "record", "set_status", "opportunities", "measure", "savings_report", "realized_total",
           "OPEN_STATUSES", "open_savings"]

STATUSES = ("identified", "approved", "implemented", "realized", "rejected")
TRANSITIONS = {
    "identified": ("approved", "rejected"),
    "approved": ("implemented", "rejected"),
    "implemented": ("realized",),
    "realized": (),
    "rejected": ("identified",),
}
#: The statuses of an open opportunity: found, not yet done or rejected.
OPEN_STATUSES = ("identified", "approved")
CENTS = Decimal("0.01")
BASELINE_DAYS = 30

_SCHEMA = """
CREATE TABLE IF NOT EXISTS opportunities (
    opportunity_id VARCHAR PRIMARY KEY,
    rule VARCHAR NOT NULL,
    resource_id VARCHAR NOT NULL,
    resource_name VARCHAR,
    provider VARCHAR,
    sub_account_id VARCHAR,
    sub_account_name VARCHAR,
    service VARCHAR,
    region VARCHAR,
    owner VARCHAR,
    currency VARCHAR NOT NULL,
    month DATE NOT NULL,             -- the analysis month of the last detection that saw it
    first_month DATE NOT NULL,       -- the analysis month it was first seen in
    monthly_cost DECIMAL(38, 2) NOT NULL,
    estimated_savings DECIMAL(38, 2) NOT NULL,   -- per month
    confidence VARCHAR NOT NULL,
    action VARCHAR,
    evidence VARCHAR,
    evidence_rows BIGINT,
    status VARCHAR NOT NULL,
    status_changed TIMESTAMP NOT NULL,
    implemented_on DATE
);
CREATE TABLE IF NOT EXISTS opportunity_events (
    event_id BIGINT NOT NULL,        -- 1, 2, 3, ... in the order the changes were made
    opportunity_id VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    from_status VARCHAR,
    to_status VARCHAR NOT NULL,
    effective_date DATE,
    note VARCHAR
);
"""


class LedgerError(ValueError):
    """A ledger change that is not allowed (unknown id, a status move off the allowed edges)."""


@dataclasses.dataclass(frozen=True)
class Opportunity:
    opportunity_id: str
    rule: str
    resource_id: str
    resource_name: str | None
    owner: str | None
    service: str | None
    currency: str
    month: dt.date
    monthly_cost: Decimal
    estimated_savings: Decimal
    confidence: str
    action: str | None
    evidence: str | None
    status: str
    implemented_on: dt.date | None


@dataclasses.dataclass(frozen=True)
class Measurement:
    opportunity_id: str
    owner: str | None
    month: dt.date
    currency: str
    baseline_per_day: Decimal
    baseline_days: int
    after_days: int
    actual: Decimal
    projected: Decimal
    realized: Decimal
    method: str

    @property
    def annualized(self) -> Decimal:
        return (self.realized / self.after_days * 365).quantize(CENTS) if self.after_days else Decimal(0)


@dataclasses.dataclass(frozen=True)
class OwnerSavings:
    month: dt.date
    owner: str
    currency: str
    opportunities: int
    projected: Decimal
    realized: Decimal
    annualized: Decimal


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


_FINDING_COLUMNS = ("opportunity_id", "rule", "resource_id", "resource_name", "provider", "sub_account_id",
                    "sub_account_name", "service", "region", "owner", "currency", "month", "monthly_cost",
                    "estimated_savings", "confidence", "action", "evidence", "evidence_rows")


def _findings_table(findings: list[Finding]) -> pa.Table:
    money = pa.decimal128(38, 2)
    rows = [(f.id, f.rule, f.resource_id, f.resource_name, f.provider, f.sub_account_id, f.sub_account_name,
             f.service, f.region, f.owner, f.currency, f.month, f.monthly_cost, f.savings, f.confidence,
             f.action, f.evidence, f.evidence_rows) for f in findings]
    types = [pa.string()] * 11 + [pa.date32(), money, money] + [pa.string()] * 3 + [pa.int64()]
    columns = list(zip(*rows)) if rows else [[] for _ in _FINDING_COLUMNS]
    return pa.table({name: pa.array(list(col), type=t) for name, col, t in zip(_FINDING_COLUMNS, columns, types)})


def record(store: CostStore, findings: Iterable[Finding]) -> tuple[int, int]:
    """Add new findings as ``identified``; refresh the numbers of known ones from a detection of
    the same or a later month (their status stays). Returns (new, refreshed)."""
    findings = list({f.id: f for f in findings}.values())
    now = _now()
    with store.savings_writer() as con:
        con.execute(_SCHEMA)
        con.register("found_arrow", _findings_table(findings))
        con.execute("CREATE TEMP TABLE found AS SELECT * FROM found_arrow")
        con.unregister("found_arrow")
        refreshed = con.execute("SELECT count(*) FROM found JOIN opportunities USING (opportunity_id)").fetchone()[0]
        updates = ", ".join(f"{c} = f.{c}" for c in _FINDING_COLUMNS[1:])
        con.execute(f"UPDATE opportunities o SET {updates} FROM found f "
                    "WHERE o.opportunity_id = f.opportunity_id AND o.month <= f.month")
        con.execute("CREATE TEMP TABLE new_ids AS SELECT opportunity_id FROM found "
                    "WHERE opportunity_id NOT IN (SELECT opportunity_id FROM opportunities)")
        cols = ", ".join(_FINDING_COLUMNS[:12])
        rest = ", ".join(_FINDING_COLUMNS[12:])
        con.execute(f"INSERT INTO opportunities SELECT {cols}, month, {rest}, 'identified', ?, NULL "
                    "FROM found WHERE opportunity_id IN (SELECT opportunity_id FROM new_ids) "
                    "ORDER BY opportunity_id", [now])
        con.execute("""INSERT INTO opportunity_events
                       SELECT coalesce((SELECT max(event_id) FROM opportunity_events), 0)
                                  + row_number() OVER (ORDER BY opportunity_id),
                              opportunity_id, ?, NULL, 'identified', month, 'found by ' || rule
                       FROM found WHERE opportunity_id IN (SELECT opportunity_id FROM new_ids)""", [now])
        new = con.execute("SELECT count(*) FROM new_ids").fetchone()[0]
    return new, refreshed


def set_status(store: CostStore, opportunity_id: str, status: str, *, on: dt.date | None = None,
               note: str | None = None) -> Opportunity:
    """Move one opportunity to ``status`` (``on``: the date it took effect; for ``implemented``
    the date the change was made, default today)."""
    if status not in STATUSES:
        raise LedgerError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    if not store.has_table("opportunities"):
        raise LedgerError("the savings ledger is empty: run `finops-xl opportunities` first")
    with store.savings_writer() as con:
        row = con.execute("SELECT status, implemented_on FROM opportunities WHERE opportunity_id = ?",
                          [opportunity_id]).fetchone()
        if row is None:
            raise LedgerError(f"no opportunity {opportunity_id!r} in the ledger (see `finops-xl opportunities`)")
        current, implemented_on = row
        if status not in TRANSITIONS[current]:
            allowed = ", ".join(TRANSITIONS[current]) or "none (it is final)"
            raise LedgerError(f"{opportunity_id} is {current}: it cannot become {status} (allowed: {allowed})")
        effective = on or dt.date.today()
        if status == "implemented":
            implemented_on = effective
        if status == "realized":
            last = con.execute("SELECT max(ChargeDate) FROM cost_daily").fetchone()[0]
            if last is None or last < implemented_on:
                raise LedgerError(f"{opportunity_id} was implemented on {implemented_on}: the store has no data "
                                  "on or after that day yet, so no saving can be measured")
        if status == "identified":  # reopened
            implemented_on = None
        now = _now()
        con.execute("UPDATE opportunities SET status = ?, status_changed = ?, implemented_on = ? "
                    "WHERE opportunity_id = ?", [status, now, implemented_on, opportunity_id])
        _event(con, opportunity_id, now, current, status, effective, note)
        return _opportunities(con, "WHERE opportunity_id = ?", [opportunity_id])[0]


def _event(con, opportunity_id: str, at: dt.datetime, before: str | None, after: str, effective: dt.date | None,
           note: str | None) -> None:
    con.execute("INSERT INTO opportunity_events SELECT coalesce(max(event_id), 0) + 1, ?, ?, ?, ?, ?, ? "
                "FROM opportunity_events", [opportunity_id, at, before, after, effective, note])


def _has_ledger(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'opportunities'").fetchone()[0]
                or con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'opportunities'")
                .fetchone()[0])


def _opportunities(con, where: str = "", params: list | None = None) -> list[Opportunity]:
    rows = con.execute(f"""SELECT opportunity_id, rule, resource_id, resource_name, owner, service, currency, month,
                                  monthly_cost, estimated_savings, confidence, action, evidence, status, implemented_on
                           FROM opportunities {where}
                           ORDER BY estimated_savings DESC, opportunity_id""", params or []).fetchall()
    return [Opportunity(*r) for r in rows]


def opportunities(con: duckdb.DuckDBPyConnection, *, owner: str | None = None, min_savings: Decimal | None = None,
                  statuses: Iterable[str] | None = None) -> list[Opportunity]:
    """The ledger's opportunities (a store reader's connection), largest estimated savings first;
    rejected ones only when ``statuses`` asks for them."""
    if not _has_ledger(con):
        return []
    statuses = tuple(statuses) if statuses is not None else tuple(s for s in STATUSES if s != "rejected")
    where, params = [f"status IN ({', '.join('?' * len(statuses))})"], list(statuses)
    if owner is not None:
        where.append("lower(owner) = lower(?)")
        params.append(owner)
    if min_savings is not None:
        where.append("estimated_savings >= ?")
        params.append(min_savings)
    return _opportunities(con, "WHERE " + " AND ".join(where), params)


def measure(con: duckdb.DuckDBPyConnection, month: dt.date, *, owner: str | None = None,
            baseline_days: int = BASELINE_DAYS) -> list[Measurement]:
    """Realized savings of ``month`` for every implemented (or realized) opportunity, set-based:
    one query over the charges of the opportunities' resources."""
    if not _has_ledger(con):
        return []
    month = month.replace(day=1)
    end = add_months(month, 1)
    days_in_month = (end - month).days
    owner_clause = "AND lower(o.owner) = lower(?)" if owner is not None else ""
    params = [owner] if owner is not None else []
    rows = con.execute(f"""
        WITH done AS (
            SELECT o.opportunity_id, o.resource_id, o.owner, o.currency, o.estimated_savings, o.implemented_on
            FROM opportunities o
            WHERE o.status IN ('implemented', 'realized') AND o.implemented_on IS NOT NULL
              AND o.implemented_on < DATE '{end}' {owner_clause}
        ), data_days AS (
            SELECT DISTINCT ChargeDate AS day FROM cost_daily
        ), windows AS (
            SELECT d.*,
                   (SELECT count(*) FROM data_days x
                    WHERE x.day >= d.implemented_on - INTERVAL {int(baseline_days)} DAY
                      AND x.day < d.implemented_on) AS base_days,
                   (SELECT count(*) FROM data_days x
                    WHERE x.day >= greatest(d.implemented_on, DATE '{month}') AND x.day < DATE '{end}') AS after_days
            FROM done d
        ), costs AS (
            SELECT w.opportunity_id,
                   coalesce(sum(c.EffectiveCost) FILTER (
                       WHERE c.ChargePeriodStart >= w.implemented_on - INTERVAL {int(baseline_days)} DAY
                         AND c.ChargePeriodStart < w.implemented_on), 0) AS base_cost,
                   coalesce(sum(c.EffectiveCost) FILTER (
                       WHERE c.ChargePeriodStart >= greatest(w.implemented_on, DATE '{month}')
                         AND c.ChargePeriodStart < DATE '{end}'), 0) AS actual
            FROM windows w LEFT JOIN charges c
              ON c.ResourceId = w.resource_id
             AND c.ChargePeriodStart >= least(w.implemented_on - INTERVAL {int(baseline_days)} DAY, DATE '{month}')
             AND c.ChargePeriodStart < DATE '{end}'
            GROUP BY w.opportunity_id
        )
        SELECT w.opportunity_id, w.owner, w.currency, w.estimated_savings, w.implemented_on, w.base_days,
               w.after_days, k.base_cost, k.actual
        FROM windows w JOIN costs k USING (opportunity_id)
        ORDER BY w.opportunity_id
    """, params).fetchall()
    out = []
    for oid, own, cur, est, impl, base_days, after_days, base_cost, actual in rows:
        base_cost, actual = Decimal(base_cost), Decimal(actual)
        per_day = base_cost / base_days if base_days else Decimal(0)
        realized = (per_day * after_days - actual).quantize(CENTS) if base_days else Decimal(0)
        projected = (Decimal(est) * after_days / days_in_month).quantize(CENTS)
        method = (f"baseline {base_cost:.2f} over the {base_days} days with data before {impl} "
                  f"= {per_day:.6f}/day; {after_days} days on or after it in {month:%Y-%m} should have cost "
                  f"{per_day * after_days:.2f}, cost {actual:.2f}")
        if not base_days:
            method = f"no data in the {baseline_days} days before {impl}: nothing to measure against"
        out.append(Measurement(oid, own, month, cur, per_day, base_days, after_days, actual.quantize(CENTS),
                               projected, realized, method))
    return out


def savings_report(con: duckdb.DuckDBPyConnection, months: Iterable[dt.date], *,
                   owner: str | None = None) -> list[OwnerSavings]:
    """Projected vs realized savings by month and owner (annualized from the month's run-rate)."""
    out = []
    for month in months:
        by_owner: dict[tuple[str, str], list[Measurement]] = defaultdict(list)
        for m in measure(con, month, owner=owner):
            if m.after_days:
                by_owner[(m.owner or "(no owner)", m.currency)].append(m)
        for (own, cur), ms in sorted(by_owner.items()):
            realized = sum((m.realized for m in ms), Decimal(0))
            days = max(m.after_days for m in ms)
            annual = sum((m.annualized for m in ms), Decimal(0))
            out.append(OwnerSavings(month.replace(day=1), own, cur, len(ms),
                                    sum((m.projected for m in ms), Decimal(0)), realized,
                                    annual if days else Decimal(0)))
    return out


def realized_total(con: duckdb.DuckDBPyConnection, month: dt.date, *, owner: str | None = None) -> Decimal:
    """Σ realized savings of ``month`` (for ``owner``)."""
    return sum((m.realized for m in measure(con, month, owner=owner)), Decimal(0))


def open_savings(con: duckdb.DuckDBPyConnection, month: dt.date, *, owner: str | None = None) -> dict[str, Decimal]:
    """Open savings of ``month`` per currency: Σ estimated monthly savings of the opportunities that
    are open (identified or approved) and that the detection of ``month`` still found (their last
    detection is ``month``). An opportunity last seen in an earlier month is no longer counted: its
    waste was not found again. The one definition of "open savings" — the CLI, the demo and the
    Opportunities sheet all use it."""
    if not _has_ledger(con):
        return {}
    where = "status IN (?, ?) AND month = ?" + (" AND lower(owner) = lower(?)" if owner is not None else "")
    params: list = [*OPEN_STATUSES, month.replace(day=1)] + ([owner] if owner is not None else [])
    rows = con.execute(f"SELECT currency, sum(estimated_savings) FROM opportunities WHERE {where} "
                       "GROUP BY currency ORDER BY currency", params).fetchall()
    return {cur: Decimal(total) for cur, total in rows}
