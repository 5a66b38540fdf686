"""Oracle Cloud Infrastructure (OCI) FOCUS reports → FOCUS 1.2.

OCI writes a FOCUS report beside its cost report (``FOCUS Reports/<yyyy>/<mm>/<dd>/….csv.gz``): the
FOCUS columns in alphabetical order under the names of FOCUS 1.0-preview (``Provider``,
``Publisher``, ``InvoiceIssuer``, ``Region``, ``UsageQuantity``, ``UsageUnit``, ``ChargeSubcategory``),
without 1.0's ChargeClass and ContractedCost, followed by OCI's extension columns
``oci_ReferenceNumber``, ``oci_CompartmentId``, ``oci_CompartmentName``, ``oci_OverageFlag``,
``oci_UnitPriceOverage``, ``oci_BilledQuantityOverage``, ``oci_CostOverage``, ``oci_AttributedUsage``,
``oci_AttributedCost``, ``oci_BackReferenceNumber``. As written it misses mandatory FOCUS 1.0
columns, so it is read here (a report that has them all is read as the FOCUS export it is):

- each FOCUS column is taken from the report under its 1.0 name or its earlier name;
- **ChargeClass** is Correction on a correction line (``oci_BackReferenceNumber`` names the line it
  corrects; its cost is the difference and is added, as in the cost report, see ``oci``);
- **ContractedCost** is BilledCost (OCI has no negotiated price apart from the billed one in this
  report; EffectiveCost equals BilledCost as well); BillingAccountType Billing Account and
  SubAccountType Tenancy (OCI's FOCUS report bills tenancies under a numeric billing account; the
  compartment is in oci_CompartmentId); an empty BillingAccountName (OCI leaves it empty) or
  SubAccountName repeats the id; SkuMeter the charge description of a line with a SKU; ServiceSubcategory from the service (``oci.SERVICES``) or "Other (<category>)";
- every other column (the ``oci_`` columns, ChargeSubcategory) is kept, prefixed ``x_``
  (``x_oci_ReferenceNumber`` is the column the cost-report converter writes the line to as well: a
  line given in both reports, or already in the store from the other, is refused, see ``oci``).
"""

from __future__ import annotations

from finops_xl.focus import schema
from finops_xl.focus.convert.common import (
    Header, focus_projection, lit, money, q, row_select, text, timestamp,
)
from finops_xl.focus.convert.oci import SERVICES, problems_across  # noqa: F401 (lines given twice)

#: FOCUS 1.2 column → the name OCI's report uses for it.
EARLIER_NAMES = {
    "ProviderName": "Provider", "PublisherName": "Publisher", "InvoiceIssuerName": "InvoiceIssuer",
    "RegionId": "Region", "RegionName": "Region", "ConsumedQuantity": "UsageQuantity",
    "ConsumedUnit": "UsageUnit",
}
#: FOCUS 1.0 mandatory columns OCI's report does not carry under these names.
_ONE_ZERO = ("ProviderName", "PublisherName", "InvoiceIssuerName", "ChargeClass", "ContractedCost")


def is_focus_report(header: Header) -> bool:
    names = [n.lower() for n, _ in header.columns]
    return (header.has("BilledCost", "ChargePeriodStart", "oci_ReferenceNumber")
            and any(n.startswith("oci_") for n in names) and not header.has(*_ONE_ZERO))


def _typed(header: Header, kind: schema.Kind, name: str) -> str:
    if kind in (schema.Kind.MONEY, schema.Kind.UNIT_PRICE, schema.Kind.QUANTITY):
        return money(header, name)
    if kind is schema.Kind.DATETIME:
        return timestamp(header, name)
    return text(header, name)


def focus_sql(header: Header, reader: str) -> str:
    """SQL turning OCI FOCUS-report rows read by ``reader`` into FOCUS 1.2 rows."""
    row: dict[str, str] = {}
    used: set[str] = set()
    for c in schema.canonical_columns():
        name = header.find(c.name) or (header.find(EARLIER_NAMES[c.name]) if c.name in EARLIER_NAMES else None)
        if name is not None:
            row[c.name] = _typed(header, c.kind, name)
            used.add(name)
    back = header.find("oci_BackReferenceNumber")
    category = row.get("ServiceCategory", "CAST(NULL AS VARCHAR)")
    service = row.get("ServiceName", "CAST(NULL AS VARCHAR)")
    known = " ".join(f"WHEN {service} = {lit(s)} AND {category} = {lit(cat)} THEN {lit(sub)}"
                     for s, (cat, sub) in SERVICES.items())
    derived = {
        "ProviderName": "'Oracle'",
        "PublisherName": "'Oracle'",
        "InvoiceIssuerName": "'Oracle'",
        "ChargeClass": (f"(CASE WHEN {text(header, back)} IS NOT NULL THEN 'Correction' END)"
                        if back else "CAST(NULL AS VARCHAR)"),
        "ContractedCost": row.get("BilledCost", "NULL"),
        "BillingAccountType": "'Billing Account'",
        "SubAccountType": f"(CASE WHEN {row.get('SubAccountId', 'NULL')} IS NOT NULL THEN 'Tenancy' END)",
        "SkuMeter": (f"(CASE WHEN {row.get('SkuId', 'NULL')} IS NOT NULL "
                     f"THEN coalesce({row.get('ChargeDescription', 'NULL')}, {row.get('SkuId', 'NULL')}) END)"),
        "ServiceSubcategory": (f"(CASE {known} WHEN {category} IS NOT NULL "
                               f"THEN 'Other (' || {category} || ')' END)"),
    }
    for name, expr in derived.items():
        row.setdefault(name, expr)
    # OCI leaves BillingAccountName empty (FOCUS requires a name): the id stands in, as in the cost report
    for name, ident in (("BillingAccountName", "BillingAccountId"), ("SubAccountName", "SubAccountId")):
        if ident in row:
            row[name] = f"coalesce({row.get(name, 'NULL')}, {row[ident]})"
    for name, _ in header.columns:
        if name not in used:
            target = name if name.lower().startswith("x_") else f"x_{name}"
            row[target] = text(header, name)
    return focus_projection(f"SELECT {row_select(row)} FROM {reader}", list(row))
