"""Oracle Cloud Infrastructure (OCI) cost reports → FOCUS 1.2.

A cost report is a CSV (``reports/cost-csv/….csv.gz``, written every six hours) with one row per
resource per hour: ``lineItem/…``, ``product/…``, ``usage/…``, ``cost/…`` columns and one
``tags/<namespace>.<key>`` (defined tag) or ``tags/<key>`` (free-form tag) column per tag key.

Mapping:

- **BilledCost** = **EffectiveCost** = ``cost/myCost``, the cost of the line in ``cost/currencyCode``
  (overage included: Oracle's ``…Overage`` columns restate part of it). OCI has no prepaid
  commitments in this report: a Universal Credits subscription (``cost/subscriptionId``) is drawn
  down as used, so billed and amortized cost are the same. The report has no list price, so
  **ListCost** and **ContractedCost** are myCost too, and **ContractedUnitPrice** is ``cost/unitPrice``.
- **Corrections**: Oracle adds a correction as a *new row* (``lineItem/isCorrection`` true) whose
  ``lineItem/backreferenceNo`` is the ``lineItem/referenceNo`` of the line it corrects; the
  corrected line stays in the report it was delivered in. The correction carries the difference, so
  a month's cost is the sum of every line, corrections included (the same rule as FOCUS, whose
  ChargeClass Correction rows are added, never substituted). Converted rows keep both numbers
  (``x_oci_ReferenceNumber``, ``x_oci_BackReferenceNumber``, the names OCI's FOCUS report uses) and
  a correction has ChargeClass Correction. A line given twice would double count, so it is refused,
  naming file, row and line: twice in the files of one load (an overlapping re-delivery), in both
  the cost report and the FOCUS report of the same usage, or already in the store under another
  billing account (OCI's FOCUS report bills a tenancy under a numeric billing account, this report
  under the tenancy, so the same month from the two reports lands in different slices).
- **BillingAccountId** is ``lineItem/tenantId`` (the tenancy; the report has no tenancy name, so
  BillingAccountName repeats the id); **SubAccountId/Name** the compartment. **BillingPeriodStart**
  is the month of ``lineItem/intervalUsageStart`` (OCI invoices calendar months in UTC).
- **ChargeCategory** Usage, **ChargeFrequency** Usage-Based, **PricingCategory** Standard (every
  line of a cost report is metered usage). **PricingQuantity** = ``usage/billedQuantity`` in
  ``cost/billingUnitReadable`` (or ``cost/skuUnitDescription``); the cost report has no consumed
  quantity (that is in the usage report), so **ConsumedQuantity** is the billed quantity too.
- **Tags** from the ``tags/…`` columns, keyed as Oracle names them (``Oracle-Tags.CreatedBy``,
  ``Finance.CostCenter``, ``team``).
"""

from __future__ import annotations

from finops_xl.focus.convert.common import (
    Header, lit, money, q, service_categories, staged_projection, tags_object, text, timestamp,
)
from finops_xl.focus.convert.locate import first_bad_row, locate_all
from finops_xl.errors import Notice, Problem
from finops_xl.sources import reader_sql

#: product/service → FOCUS (ServiceCategory, ServiceSubcategory); unlisted: Other / Other (Other).
SERVICES = {
    "COMPUTE": ("Compute", "Virtual Machines"),
    "CONTAINER_ENGINE": ("Compute", "Containers"),
    "FUNCTIONS": ("Compute", "Serverless Compute"),
    "BLOCK_STORAGE": ("Storage", "Block Storage"),
    "OBJECTSTORE": ("Storage", "Object Storage"),
    "OBJECT_STORAGE": ("Storage", "Object Storage"),
    "FILE_STORAGE": ("Storage", "File Storage"),
    "DATABASE": ("Databases", "Relational Databases"),
    "MYSQL": ("Databases", "Relational Databases"),
    "NETWORK": ("Networking", "Network Connectivity"),
    "LOAD_BALANCER": ("Networking", "Load Balancing"),
    "DNS": ("Networking", "DNS"),
    "TELEMETRY": ("Management and Governance", "Observability"),
    "LOGGING": ("Management and Governance", "Observability"),
}

#: The store column holding OCI's line identifier (lineItem/referenceNo, oci_ReferenceNumber).
LINE_COLUMN = "x_oci_ReferenceNumber"

REQUIRED = ("lineItem/referenceNo", "lineItem/tenantId", "lineItem/intervalUsageStart", "cost/myCost",
            "cost/currencyCode")


#: The columns every OCI cost or usage report starts with.
_IDENTITY = ("lineItem/referenceNo", "lineItem/tenantId", "lineItem/intervalUsageStart")


def is_cost_report(header: Header) -> bool:
    """An OCI report: a cost report, or a usage report or damaged cost report that :func:`problems`
    refuses with what is missing (rather than as "not a FOCUS export")."""
    return header.has(*_IDENTITY) and (header.has("cost/myCost") or header.has("product/service"))


def _true(expr: str) -> str:
    return f"coalesce(lower(trim({expr})) IN ('true', 't', 'y', 'yes', '1'), false)"


def _tags(header: Header) -> str:
    pairs = [f"struct_pack(key := {lit(name.split('/', 1)[1])}, value := NULLIF(trim({q(name)}), ''))"
             for name, _ in header.columns if name.lower().startswith("tags/") and len(name) > 5]
    return tags_object(f"[{', '.join(pairs)}]") if pairs else "CAST(NULL AS VARCHAR)"


def focus_sql(header: Header, reader: str) -> str:
    """SQL turning cost-report rows read by ``reader`` into FOCUS 1.2 rows."""
    correction = header.find("lineItem/isCorrection")
    src = {
        "reference": text(header, "lineItem/referenceNo"),
        "back_reference": text(header, "lineItem/backreferenceNo", "lineItem/backReference"),
        "is_correction": _true(q(correction)) if correction else "false",
        "tenant": text(header, "lineItem/tenantId"),
        "usage_start": timestamp(header, "lineItem/intervalUsageStart"),
        "usage_end": timestamp(header, "lineItem/intervalUsageEnd"),
        "service": text(header, "product/service"),
        "resource": text(header, "product/resource"),
        "compartment": text(header, "product/compartmentId"),
        "compartment_name": text(header, "product/compartmentName"),
        "region": text(header, "product/region"),
        "domain": text(header, "product/availabilityDomain"),
        "resource_id": text(header, "product/resourceId"),
        "quantity": money(header, "usage/billedQuantity"),
        "subscription": text(header, "cost/subscriptionId"),
        "sku": text(header, "cost/productSku"),
        "description": text(header, "product/Description"),
        "unit_price": money(header, "cost/unitPrice"),
        "cost": money(header, "cost/myCost"),
        "currency": f"upper({text(header, 'cost/currencyCode')})",
        "unit": text(header, "cost/billingUnitReadable", "cost/skuUnitDescription"),
        "overage": text(header, "cost/overageFlag"),
        "cost_overage": money(header, "cost/myCostOverage"),
        "tags": _tags(header),
    }
    bp_start = "date_trunc('month', usage_start)"
    row = {
        "ProviderName": "'Oracle'",
        "PublisherName": "'Oracle'",
        "InvoiceIssuerName": "'Oracle'",
        "BillingAccountId": "tenant",
        "BillingAccountName": "tenant",
        "BillingAccountType": "'Tenancy'",
        "SubAccountId": "compartment",
        "SubAccountName": "coalesce(compartment_name, compartment)",
        "SubAccountType": "(CASE WHEN compartment IS NOT NULL THEN 'Compartment' END)",
        "BillingCurrency": "currency",
        "BillingPeriodStart": bp_start,
        "BillingPeriodEnd": f"{bp_start} + INTERVAL 1 MONTH",
        "ChargePeriodStart": "usage_start",
        "ChargePeriodEnd": "coalesce(usage_end, usage_start + INTERVAL 1 HOUR)",
        "ChargeCategory": "'Usage'",
        "ChargeClass": "(CASE WHEN is_correction THEN 'Correction' END)",
        "ChargeDescription": "coalesce(description, sku, service)",
        "ChargeFrequency": "'Usage-Based'",
        "PricingCategory": "'Standard'",
        "BilledCost": "cost",
        "EffectiveCost": "cost",
        "ListCost": "cost",
        "ContractedCost": "cost",
        "ContractedUnitPrice": "unit_price",
        "PricingQuantity": "quantity",
        "PricingUnit": "unit",
        "ConsumedQuantity": "quantity",
        "ConsumedUnit": "unit",
        "ServiceName": "coalesce(service, 'Oracle Cloud Infrastructure')",
        **service_categories("service", SERVICES),
        "RegionId": "region",
        "RegionName": "region",
        "AvailabilityZone": "domain",
        "ResourceId": "resource_id",
        "ResourceName": "resource_id",
        "ResourceType": ("(CASE WHEN resource_id IS NOT NULL THEN coalesce(NULLIF(regexp_extract("
                         "resource_id, '^ocid1\\.([^.]+)\\.', 1), ''), resource, service) END)"),
        "SkuId": "sku",
        "SkuPriceId": "sku",
        "SkuMeter": "(CASE WHEN sku IS NOT NULL THEN coalesce(description, sku) END)",
        "Tags": "tags",
        # named as OCI's FOCUS report names them, so rows from either report carry the line in one column
        LINE_COLUMN: "reference",
        "x_oci_BackReferenceNumber": "back_reference",
        "x_oci_IsCorrection": "CAST(is_correction AS VARCHAR)",
        "x_oci_SubscriptionId": "subscription",
        "x_oci_OverageFlag": "overage",
        "x_oci_CostOverage": "CAST(cost_overage AS VARCHAR)",
    }
    return staged_projection(reader, src, row)


def problems(con, group) -> list[Problem]:
    """Lines that cannot be converted without guessing: a cost that is not a number, a line without
    its start time or currency, and the same line (referenceNo) delivered twice."""
    header = group.header
    missing = [c for c in REQUIRED if header.find(c) is None]
    if missing:
        if header.find("cost/myCost") is None and header.find("usage/consumedQuantity") is not None:
            why = ("is an OCI usage report: it has quantities but no costs (no cost/myCost column). "
                   "Load the cost report of the same period instead (reports/cost-csv in OCI's "
                   "report bucket)")
        else:
            why = (f"looks like an OCI cost report but has no {', '.join(missing)} column: export "
                   f"the report again, unedited")
        return [Problem(s.label, why, column=missing[0]) for s in group.sources]
    found: list[Problem] = []
    checks = []
    cost = header.find("cost/myCost")
    checks.append((cost, f"NULLIF(trim({q(cost)}), '') IS NOT NULL AND {money(header, cost)} IS NULL",
                   "the cost is not a number; correct the value or export the report again"))
    checks.append((cost, f"NULLIF(trim({q(cost)}), '') IS NULL",
                   "the line has no cost; export the report again"))
    start = header.find("lineItem/intervalUsageStart")
    checks.append((start, f"{timestamp(header, start)} IS NULL",
                   "the usage start is missing or not a date and time (e.g. 2025-01-31T00:00Z), so "
                   "the line's month is unknown"))
    currency = header.find("cost/currencyCode")
    checks.append((currency, f"NULLIF(trim({q(currency)}), '') IS NULL",
                   "the line has no currency; export the report again"))
    for source in group.sources:
        located = locate_all(con, source, [(condition, q(column)) for column, condition, _ in checks])
        for (column, _, message), (n, row, value) in zip(checks, located):
            if n:
                found.append(Problem(source.label, message, row=row, column=column, value=value, count=n))
    found.extend(_repeated_lines(con, group))
    return found


def _repeated_lines(con, group) -> list[Problem]:
    """One Problem per file holding a line (referenceNo) that another row of the load also holds."""
    ref = group.header.find("lineItem/referenceNo")
    value = f"NULLIF(trim({q(ref)}), '')"
    reader = reader_sql(list(group.sources), filename_column="__file")
    con.execute(f"CREATE OR REPLACE TEMP TABLE __oci_repeated AS SELECT {value} AS ref, "
                f"list(DISTINCT __file) AS files FROM {reader} WHERE {value} IS NOT NULL "
                f"GROUP BY ALL HAVING count(*) > 1")
    try:
        files = {str(p) for (fs,) in con.sql("SELECT files FROM __oci_repeated").fetchall() for p in fs}
        labels = {str(s.path): s.label for s in group.sources}
        out = []
        for source in group.sources:
            if str(source.path) not in files:
                continue
            n, row, shown = first_bad_row(con, source, f"{value} IN (SELECT ref FROM __oci_repeated)", value)
            others = sorted(labels[f] for f in files if f != str(source.path) and f in labels)
            where = f" (also in {', '.join(others)})" if others else ""
            out.append(Problem(source.label, (
                f"the same line (lineItem/referenceNo) is given more than once{where}: loading it "
                f"would count its cost twice. Give each cost report file once, and remove "
                f"re-delivered copies"), row=row, column=ref, value=shown, count=n))
        return out
    finally:
        con.execute("DROP TABLE IF EXISTS __oci_repeated")


def _line_columns(group) -> tuple[str, str] | None:
    """(line identifier column, billing account column) of an OCI group's files."""
    if group.format == "oci-cost":
        return group.header.find("lineItem/referenceNo"), group.header.find("lineItem/tenantId")
    if group.format == "oci-focus":
        return group.header.find("oci_ReferenceNumber"), group.header.find("BillingAccountId")
    return None


def problems_across(con, groups) -> list[Problem]:
    """OCI lines given twice across the groups of a load (the cost report and the FOCUS report of
    the same usage), or already in the store under another billing account: either would count the
    line's cost twice."""
    mine = [(i, g, cols) for i, g in enumerate(groups) if (cols := _line_columns(g)) and all(cols)]
    if not mine:
        return []
    parts = [f"SELECT {i} AS g, NULLIF(trim({q(ref)}), '') AS ref, NULLIF(trim(CAST({q(acct)} AS VARCHAR)), '') "
             f"AS account FROM {reader_sql(list(g.sources), union_by_name=g.sources[0].format == 'parquet')}"
             for i, g, (ref, acct) in mine]
    # the store's charges: ``stored_charges`` in a load (where ``charges`` holds the new rows only)
    held = {t for (t,) in con.sql("SELECT DISTINCT table_name FROM duckdb_columns() WHERE table_name IN "
                                  f"('charges', 'stored_charges') AND column_name = {lit(LINE_COLUMN)}").fetchall()}
    table = "stored_charges" if "stored_charges" in held or "charges" not in held else "charges"
    stored = table in held
    con.execute(f"CREATE OR REPLACE TEMP TABLE __oci_lines AS {' UNION ALL '.join(parts)}")
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE __oci_twice AS SELECT ref, list(DISTINCT g) AS gs, "
                    "NULL::VARCHAR AS account, NULL::VARCHAR AS source FROM __oci_lines WHERE ref IS NOT NULL "
                    "GROUP BY ref HAVING count(DISTINCT g) > 1")
        if stored:
            con.execute(f"INSERT INTO __oci_twice SELECT l.ref, [l.g], any_value(c.BillingAccountId), "
                        f"any_value(c.x_SourceFile) FROM __oci_lines l JOIN {table} c "
                        f"ON c.{q(LINE_COLUMN)} = l.ref AND c.ProviderName = 'Oracle' "
                        f"WHERE c.BillingAccountId IS DISTINCT FROM l.account GROUP BY l.ref, l.g")
        others: dict[int, set[int]] = {}
        in_store: dict[int, tuple[str, str]] = {}
        for gs, account, source in con.sql("SELECT DISTINCT gs, account, source FROM __oci_twice").fetchall():
            for g in gs:
                if account is None:
                    others.setdefault(g, set()).update(x for x in gs if x != g)
                else:
                    in_store.setdefault(g, (account, source))
        found = [(i, others.get(i, set()), *in_store.get(i, (None, None)))
                 for i in sorted(set(others) | set(in_store))]
        out = []
        by_index = {i: (g, cols) for i, g, cols in mine}
        for i, others, account, source in found:
            group, (ref, _) = by_index[i]
            if others:
                why = ("is also in " + ", ".join(by_index[o][0].label for o in sorted(others))
                       + " (OCI's cost report and FOCUS report describe the same usage: load one of them)")
            else:
                why = (f"is already in the store under billing account {account} (loaded from {source}); "
                       f"OCI's cost report and FOCUS report describe the same usage: keep one of them")
            for s in group.sources:
                n, row, value = first_bad_row(
                    con, s, f"NULLIF(trim({q(ref)}), '') IN (SELECT ref FROM __oci_twice WHERE list_contains(gs, {i}))",
                    f"NULLIF(trim({q(ref)}), '')")
                if n:
                    out.append(Problem(s.label, f"the line {why}; loading it would count its cost twice",
                                       row=row, column=ref, value=value, count=n))
        return out
    finally:
        con.execute("DROP TABLE IF EXISTS __oci_lines")
        con.execute("DROP TABLE IF EXISTS __oci_twice")


def notices(con, group) -> list[Notice]:
    """Correction lines, said with their count and total per currency: Oracle adds a correction as a
    new line carrying the difference, and it is loaded that way (added to the line it corrects)."""
    correction = group.header.find("lineItem/isCorrection")
    if group.format != "oci-cost" or correction is None:
        return []
    cost, currency = money(group.header, "cost/myCost"), text(group.header, "cost/currencyCode")
    out = []
    for source in group.sources:
        rows = con.sql(f"SELECT upper({currency}), count(*), sum({cost}) FROM {source.reader_sql()} "
                       f"WHERE {_true(q(correction))} GROUP BY ALL ORDER BY 1").fetchall()
        for cur, n, total in rows:
            out.append(Notice(source.label, (
                f"{n:,} correction line{'s' if n != 1 else ''} (lineItem/isCorrection true) "
                f"{'were' if n != 1 else 'was'} loaded as Oracle writes them: each carries the "
                f"difference to the line its lineItem/backreferenceNo names and is added to it "
                f"(ChargeClass Correction)"), column=correction, count=int(n),
                amount=total, currency=cur))
    return out
