"""Optimization opportunities found in billing data (and a utilization export), priced per owner.

Every detector is a rule over one analysis month of ``charges`` (usage rows with a ResourceId),
rolled up per resource in SQL; each finding carries the resource, its owner, the month's cost, the
estimated monthly savings, a confidence and the evidence (which rule, which rows).

========================  ===========================================================================
rule                      fires when (defaults in :class:`Settings`)
========================  ===========================================================================
``unattached-storage``    a block-storage volume billed on at least ``storage_days`` days of the month
                          while nothing in its scope billed compute hours on any of those days. The
                          scope is where the volume could be attached: its Azure resource group, else
                          its sub-account and availability zone (EBS volumes and persistent disks
                          attach only to instances of their own zone). Savings: its whole cost.
``orphaned-snapshot``     a snapshot / backup whose month's cost grew over the previous month's while
                          no block-storage volume is billed in its scope (resource group, else
                          sub-account and region). Savings: its whole cost; confidence low (check the
                          retention policy first).
``idle-network``          a load balancer, NAT gateway, IP address or gateway billed for hours whose
                          own data-processing meter (GB, LCU-hours, ...) shows at most
                          ``idle_units_per_hour`` per billed hour. A resource whose data is not metered
                          on its own id is not judged. Savings: its whole cost.
``retired-owner``         the owner (from the tags by the allocation taxonomy, or the account
                          default / hierarchy) is a retired value of the owner dimension
                          (``retired:`` in the taxonomy) or given with ``--retired``.
``previous-generation``   an instance type of an old family (m4, c4, r4, t2, Dv2, n1) whose current
                          generation at the same vCPUs and memory lists cheaper (``catalog.py``).
                          Savings: the hours' cost × (1 − new price / old price).
``rightsize`` / ``idle``  from the utilization export (``rightsizing.py``).
``commitment-candidate``  an on-demand virtual machine billed at least ``steady_hours`` on every day
                          of the month that has data. Savings: the hours' cost × the discount the
                          provider's commitments achieved that month on the usage they covered
                          (1 − EffectiveCost ÷ ContractedCost of Used rows), else
                          ``commitment_discount``. Not raised for a resource with another finding
                          (act on that first).
========================  ===========================================================================
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import Decimal

import duckdb

from finops_xl.months import add_months
from finops_xl.optimization import catalog
from finops_xl.optimization.rightsizing import UtilizationRow, propose
from finops_xl.store.sources import sql_literal

__all__ = ["Settings", "Finding", "detect", "RULES", "analysis_month"]

CENTS = Decimal("0.01")
RULES = ("unattached-storage", "orphaned-snapshot", "idle-network", "retired-owner", "previous-generation",
         "rightsize", "idle", "commitment-candidate")
_DATA_UNITS = ("GB", "GiB", "TB", "LCU-Hours", "LCU", "GB-Processed", "Requests")
_NETWORK_TYPES = r"(?i)(load balancer|loadbalancer|nat|ip address|public ip|gateway|forwarding rule)"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Thresholds of the detectors (see the module's table)."""

    storage_days: int = 14
    idle_units_per_hour: Decimal = Decimal("0.01")
    steady_hours: Decimal = Decimal("23.5")
    # the discount assumed for a commitment candidate where the provider's own covered usage shows
    # none this month (a 1-year no-upfront compute savings plan, typical)
    commitment_discount: Decimal = Decimal("0.28")
    headroom_pct: Decimal = Decimal("70")
    idle_cpu_pct: Decimal = Decimal("5")
    min_utilization_days: int = 14
    retired: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Finding:
    rule: str
    resource_id: str
    resource_name: str | None
    provider: str
    sub_account_id: str | None
    sub_account_name: str | None
    service: str | None
    region: str | None
    owner: str | None
    currency: str
    month: dt.date
    monthly_cost: Decimal
    savings: Decimal  # estimated, per month
    confidence: str  # high | medium | low
    action: str
    evidence: str
    evidence_rows: int

    @property
    def id(self) -> str:
        """Stable across runs: the same rule on the same resource is the same opportunity."""
        return "OPP-" + hashlib.sha1(f"{self.rule}|{self.resource_id}".encode()).hexdigest()[:10].upper()


def analysis_month(con: duckdb.DuckDBPyConnection, month: dt.date | None) -> dt.date:
    """``month`` (first day), else the store's last month with usage."""
    if month is not None:
        return month.replace(day=1)
    last = con.execute("SELECT max(ChargePeriodStart) FROM charges WHERE ChargeCategory = 'Usage'").fetchone()[0]
    if last is None:
        raise ValueError("the store has no usage charges to look at")
    return last.date().replace(day=1)


def detect(con: duckdb.DuckDBPyConnection, month: dt.date | None = None, *, settings: Settings = Settings(),
           rules=None, retired: Iterable[str] = (),
           utilization: list[UtilizationRow] | None = None) -> list[Finding]:
    """All findings of ``month`` (default: the store's last), largest savings first.

    ``rules``: the allocation rules whose taxonomy, account defaults and hierarchy give each resource
    its owner (and whose owner dimension lists the retired values); without them owners are empty.
    ``retired``: more retired owners.
    """
    month = analysis_month(con, month)
    end = add_months(month, 1)
    _stage(con, month, end, rules)
    data_days = con.execute("SELECT count(DISTINCT day) FROM opt_rows").fetchone()[0]
    if not data_days:
        return []
    s = settings
    found: list[Finding] = []
    found += _unattached_storage(con, month, s)
    found += _orphaned_snapshots(con, month, s)
    found += _idle_network(con, month, s)
    retired_all = tuple(dict.fromkeys([*s.retired, *retired, *(retired_values(rules) if rules else ())]))
    if retired_all:
        found += _retired_owner(con, month, retired_all)
    found += _previous_generation(con, month)
    if utilization:
        found += _rightsizing(con, month, s, utilization)
    flagged = {f.resource_id for f in found}
    found += [f for f in _commitment_candidates(con, month, s, data_days) if f.resource_id not in flagged]
    return sorted(found, key=lambda f: (-f.savings, f.rule, f.resource_id))


# ---- staging --------------------------------------------------------------------------------------


def _stage(con, month: dt.date, end: dt.date, rules) -> None:
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW opt_rows AS
        SELECT *, CAST(ChargePeriodStart AS DATE) AS day
        FROM charges
        WHERE ChargePeriodStart >= TIMESTAMP '{month}' AND ChargePeriodStart < TIMESTAMP '{end}'
          AND ChargeCategory = 'Usage' AND ResourceId IS NOT NULL
          AND coalesce(CommitmentDiscountStatus, '') <> 'Unused'
    """)
    owner = owner_sql(rules, con) if rules is not None else "CAST(NULL AS VARCHAR)"
    units = ", ".join(sql_literal(u) for u in _DATA_UNITS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE opt_res AS
        WITH tagsets AS (
            SELECT Tags, SubAccountId, {owner} AS owner
            FROM (SELECT DISTINCT CAST(Tags AS VARCHAR) AS Tags, SubAccountId FROM opt_rows)
        ), res AS (
            SELECT ResourceId,
                   arg_max(ResourceName, ChargePeriodStart) AS resource_name,
                   any_value(ProviderName) AS provider, any_value(SubAccountId) AS sub_account_id,
                   any_value(SubAccountName) AS sub_account_name,
                   arg_max(ServiceName, EffectiveCost) AS service, any_value(ServiceCategory) AS category,
                   any_value(ServiceSubcategory) AS subcategory, any_value(ResourceType) AS resource_type,
                   any_value(RegionId) AS region, any_value(AvailabilityZone) AS zone,
                   arg_max(CAST(Tags AS VARCHAR), ChargePeriodStart) AS tags,
                   any_value(BillingCurrency) AS currency,
                   count(*) AS rows, count(DISTINCT day) AS days, min(day) AS first_day, max(day) AS last_day,
                   sum(EffectiveCost) AS cost,
                   sum(ConsumedQuantity) FILTER (WHERE ConsumedUnit = 'Hours') AS hours,
                   sum(EffectiveCost) FILTER (WHERE ConsumedUnit = 'Hours') AS hours_cost,
                   count(*) FILTER (WHERE ConsumedUnit = 'Hours') AS hours_rows,
                   sum(ConsumedQuantity) FILTER (WHERE ConsumedUnit IN ({units})) AS data_units,
                   count(*) FILTER (WHERE ConsumedUnit IN ({units})) AS data_rows,
                   arg_max(SkuPriceDetails->>'InstanceType', ChargePeriodStart)
                       FILTER (WHERE ConsumedUnit = 'Hours') AS instance_type,
                   bool_and(PricingCategory = 'Standard') FILTER (WHERE ConsumedUnit = 'Hours') AS on_demand
            FROM opt_rows GROUP BY ResourceId
        )
        -- where a volume can be attached (zone_scope) and where its snapshots live (region_scope):
        -- the Azure resource group, else the sub-account and zone / region; worked out per resource
        SELECT r.*, t.owner,
               CASE WHEN rg IS NOT NULL THEN r.sub_account_id || ' / resource group ' || rg
                    WHEN r.zone IS NOT NULL THEN r.sub_account_id || ' / zone ' || r.zone END AS zone_scope,
               CASE WHEN rg IS NOT NULL THEN r.sub_account_id || ' / resource group ' || rg
                    ELSE r.sub_account_id || ' / region ' || coalesce(r.region, '-') END AS region_scope
        FROM (SELECT *, lower(NULLIF(regexp_extract(ResourceId, '(?i)/resourcegroups/([^/]+)', 1), '')) AS rg
              FROM res) r
        LEFT JOIN tagsets t ON t.Tags IS NOT DISTINCT FROM r.tags AND t.SubAccountId IS NOT DISTINCT FROM r.sub_account_id
    """)


_COLS = ("ResourceId", "resource_name", "provider", "sub_account_id", "sub_account_name", "service", "region",
         "owner", "currency")


def _select(con, where: str, extra: str = "", params: list | None = None) -> list:
    cols = ", ".join(f"r.{c}" for c in _COLS)
    return con.execute(f"SELECT {cols}, r.cost, r.rows{extra} FROM opt_res r WHERE {where} "
                       f"ORDER BY r.ResourceId", params or []).fetchall()


def _finding(row, rule: str, month: dt.date, savings, confidence: str, action: str, evidence: str) -> Finding:
    rid, name, prov, sub, subname, svc, region, owner, cur, cost, rows = row[:11]
    return Finding(rule, rid, name, prov, sub, subname, svc, region, owner, cur or "USD", month,
                   Decimal(cost).quantize(CENTS), Decimal(savings).quantize(CENTS), confidence, action,
                   evidence, int(rows))


# ---- billing-only rules ---------------------------------------------------------------------------


def _unattached_storage(con, month: dt.date, s: Settings) -> list[Finding]:
    rows = con.execute(f"""
        WITH compute_days AS (
            SELECT DISTINCT r.zone_scope, o.day FROM opt_rows o JOIN opt_res r USING (ResourceId)
            WHERE o.ServiceCategory = 'Compute' AND o.ConsumedUnit = 'Hours' AND r.zone_scope IS NOT NULL
        ), storage_days AS (
            SELECT DISTINCT o.ResourceId, r.zone_scope, o.day FROM opt_rows o JOIN opt_res r USING (ResourceId)
            WHERE o.ServiceSubcategory = 'Block Storage' AND r.zone_scope IS NOT NULL
              AND coalesce(o.ResourceType, '') NOT ILIKE '%snapshot%'
        ), judged AS (
            SELECT sd.ResourceId, any_value(sd.zone_scope) AS scope, count(*) AS days,
                   count(cd.day) AS days_with_compute
            FROM storage_days sd LEFT JOIN compute_days cd USING (zone_scope, day)
            GROUP BY sd.ResourceId
        )
        SELECT {", ".join("r." + c for c in _COLS)}, r.cost, r.rows, j.scope, j.days
        FROM judged j JOIN opt_res r USING (ResourceId)
        WHERE j.days_with_compute = 0 AND j.days >= {int(s.storage_days)}
        ORDER BY r.ResourceId
    """).fetchall()
    month_days = _days_in_month(month)
    out = []
    for row in rows:
        scope, days = row[11], row[12]
        out.append(_finding(row, "unattached-storage", month, row[9], "high" if days >= month_days else "medium",
                            "snapshot it if the data is needed, then delete the volume",
                            f"block storage billed on {days} days of {month:%Y-%m}; no compute hours billed in "
                            f"{scope} on any of them"))
    return out


def _orphaned_snapshots(con, month: dt.date, s: Settings) -> list[Finding]:
    prev, end = add_months(month, -1), month
    rows = con.execute(f"""
        WITH snaps AS (
            SELECT ResourceId, region_scope AS scope, cost FROM opt_res
            WHERE subcategory = 'Backup Storage' OR resource_type ILIKE '%snapshot%'
        ), before AS (
            SELECT ResourceId, sum(EffectiveCost) AS cost
            FROM charges
            WHERE ChargePeriodStart >= TIMESTAMP '{prev}' AND ChargePeriodStart < TIMESTAMP '{end}'
              AND ChargeCategory = 'Usage' AND ResourceId IN (SELECT ResourceId FROM snaps)
            GROUP BY ResourceId
        ), volumes AS (
            SELECT DISTINCT region_scope FROM opt_res
            WHERE subcategory = 'Block Storage' AND coalesce(resource_type, '') NOT ILIKE '%snapshot%'
        )
        SELECT {", ".join("r." + c for c in _COLS)}, r.cost, r.rows, s.scope, s.cost, b.cost
        FROM snaps s JOIN before b USING (ResourceId) JOIN opt_res r USING (ResourceId)
        WHERE s.cost > b.cost AND b.cost > 0 AND s.scope NOT IN (SELECT region_scope FROM volumes)
        ORDER BY r.ResourceId
    """).fetchall()
    out = []
    for row in rows:
        scope, now, before = row[11], Decimal(row[12]), Decimal(row[13])
        growth = (now / before - 1) * 100 if before else Decimal(0)
        out.append(_finding(row, "orphaned-snapshot", month, row[9], "low",
                            "check the retention policy; delete snapshots no longer needed",
                            f"cost {now:.2f} in {month:%Y-%m}, up {growth:.1f}% on {before:.2f} in "
                            f"{add_months(month, -1):%Y-%m}; no block-storage volume billed in {scope}"))
    return out


def _idle_network(con, month: dt.date, s: Settings) -> list[Finding]:
    rows = _select(con, f"""r.category = 'Networking' AND regexp_matches(coalesce(r.resource_type, ''), '{_NETWORK_TYPES}')
                           AND r.hours > 0 AND r.data_rows > 0
                           AND r.data_units <= r.hours * {s.idle_units_per_hour}""",
                   extra=", r.hours, r.data_units, r.days")
    out = []
    for row in rows:
        hours, data, days = Decimal(row[11]), Decimal(row[12]), row[13]
        out.append(_finding(row, "idle-network", month, row[9], "high",
                            "delete it (or merge its listeners into a load balancer that is used)",
                            f"{hours.normalize():f} hours billed on {days} days; {data.normalize():f} units of data "
                            f"processed ({(data / hours):.6f} per hour, threshold {s.idle_units_per_hour})"))
    return out


def _retired_owner(con, month: dt.date, retired: tuple[str, ...]) -> list[Finding]:
    values = ", ".join(sql_literal(v.lower()) for v in retired)
    rows = _select(con, f"lower(r.owner) IN ({values})")
    return [_finding(row, "retired-owner", month, row[9], "medium",
                     "confirm nobody took it over, then decommission it",
                     f"owner {row[7]!r} is retired; still billing {Decimal(row[9]):.2f} {row[8]} in {month:%Y-%m}")
            for row in rows]


def _previous_generation(con, month: dt.date) -> list[Finding]:
    old = [t for t in catalog.SIZES if catalog.current_generation(t) is not None]
    values = ", ".join(sql_literal(t) for t in old)
    rows = _select(con, f"r.instance_type IN ({values}) AND r.hours_cost > 0", extra=", r.instance_type, r.hours_cost")
    out = []
    for row in rows:
        itype, hours_cost = row[11], Decimal(row[12])
        new = catalog.current_generation(itype)
        ratio = new.price / catalog.SIZES[itype].price
        out.append(_finding(row, "previous-generation", month, hours_cost * (1 - ratio), "high",
                            f"move {itype} to {new.name}",
                            f"{itype} lists at {catalog.SIZES[itype].price}/h, {new.name} at {new.price}/h "
                            f"(same vCPUs, at least the memory); savings = hours cost × (1 − {ratio:.4f})"))
    return out


def _rightsizing(con, month: dt.date, s: Settings, utilization: list[UtilizationRow]) -> list[Finding]:
    by_id = {u.resource_id: u for u in utilization}
    ids = ", ".join(sql_literal(i) for i in by_id)
    rows = _select(con, f"r.ResourceId IN ({ids}) AND r.hours_cost > 0", extra=", r.instance_type, r.hours_cost")
    out = []
    for row in rows:
        u = by_id[row[0]]
        p = propose(u, row[11], Decimal(row[12]), headroom_pct=s.headroom_pct, idle_cpu_pct=s.idle_cpu_pct)
        if p is None:
            continue
        confidence = "high" if u.period_days >= s.min_utilization_days else "low"
        out.append(_finding(row, p.rule, month, p.savings, confidence, p.action, p.evidence))
    return out


def _commitment_candidates(con, month: dt.date, s: Settings, data_days: int) -> list[Finding]:
    rows = con.execute(f"""
        WITH daily AS (
            SELECT ResourceId, day, sum(ConsumedQuantity) AS hours FROM opt_rows
            WHERE ConsumedUnit = 'Hours' AND ServiceCategory = 'Compute' AND ResourceType = 'Virtual Machine'
            GROUP BY ResourceId, day
        ), steady AS (
            SELECT ResourceId, min(hours) AS min_hours, count(*) AS days FROM daily GROUP BY ResourceId
            HAVING count(*) = {int(data_days)} AND min(hours) >= {s.steady_hours}
        )
        SELECT {", ".join("r." + c for c in _COLS)}, r.cost, r.rows, r.hours_cost, s.min_hours
        FROM steady s JOIN opt_res r USING (ResourceId)
        WHERE r.on_demand ORDER BY r.ResourceId
    """).fetchall()
    observed = dict(con.execute("""
        SELECT ProviderName, 1 - sum(EffectiveCost) / sum(ContractedCost) FROM opt_rows
        WHERE CommitmentDiscountStatus = 'Used' AND ContractedCost > 0 GROUP BY ProviderName
    """).fetchall())
    out = []
    for row in rows:
        rate = Decimal(observed.get(row[2]) or 0)
        if 0 < rate < 1:
            rate = rate.quantize(Decimal("0.0001"))
            basis = (f"{rate * 100:.2f}%, what {row[2]} commitments saved on the usage they covered this "
                     "month (1 − EffectiveCost ÷ ContractedCost)")
        else:
            rate = s.commitment_discount
            basis = f"an assumed {rate * 100:.0f}% commitment discount ({row[2]} shows no covered usage this month)"
        out.append(_finding(row, "commitment-candidate", month, Decimal(row[11]) * rate, "medium",
                            "cover it with a savings plan or reservation (see `finops-xl commitments`)",
                            f"on-demand, at least {Decimal(row[12]).normalize():f} h on each of the month's "
                            f"{data_days} days of data; savings at {basis}"))
    return out


def _days_in_month(month: dt.date) -> int:
    return (add_months(month, 1) - month).days


def owner_sql(rules, con: duckdb.DuckDBPyConnection) -> str:
    """SQL over ``Tags`` and ``SubAccountId`` for the owner the allocation ``rules`` give a resource:
    the owner tag (by the taxonomy), else the account default, else the account hierarchy."""
    keys = [k for (k,) in con.execute(
        "SELECT DISTINCT unnest(json_keys(CAST(t AS JSON))) FROM "
        "(SELECT DISTINCT CAST(Tags AS VARCHAR) AS t FROM opt_rows WHERE Tags IS NOT NULL)").fetchall()]
    tag = rules.taxonomy.sql(rules.owner, keys, tags="CAST(Tags AS JSON)")
    parts = [tag]
    if rules.account_defaults:
        cases = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in sorted(rules.account_defaults.items()))
        parts.append(f"(CASE SubAccountId {cases} END)")
    if rules.hierarchy:
        pairs = sorted((k, v.get(rules.owner)) for k, v in rules.hierarchy.rows.items() if v.get(rules.owner))
        if pairs:
            cases = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in pairs)
            parts.append(f"(CASE SubAccountId {cases} END)")
    return "coalesce(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]


def retired_values(rules) -> tuple[str, ...]:
    """The owner dimension's retired values (``retired:`` in the taxonomy)."""
    return tuple(getattr(rules.taxonomy.dimension(rules.owner), "retired", ()) or ())
