"""Azure cost details (EA and MCA column sets), actual cost + amortized cost → FOCUS 1.2.

Azure publishes one month's cost details as two datasets with the same columns:

- **actual cost**: what the invoice charges. Reservation and savings-plan purchases are Purchase rows;
  usage they cover costs 0.
- **amortized cost**: commitment purchases spread onto the usage they cover (PricingModel Reservation
  or SavingsPlan, at the amortized price) and onto UnusedReservation / UnusedSavingsPlan rows; the
  commitment purchases themselves are left out.

FOCUS needs both (BilledCost from the first, EffectiveCost from the second) in one row set. Both
files are read into the same normalized columns; each is summed by every descriptive column (date,
billing account and period, subscription, resource, meter, charge type, pricing model, benefit,
tags, …); the two are joined on those columns with a full outer join. A row in both gets
BilledCost from actual and EffectiveCost from amortized; a row only in actual (a commitment purchase)
gets EffectiveCost 0; a row only in amortized (unused commitment) gets BilledCost 0. Each total is
therefore carried over exactly once: Σ BilledCost = the actual-cost total and Σ EffectiveCost = the
amortized-cost total, per billing period.

Columns are found case-insensitively, with the EA and MCA spellings as alternatives
(``Cost``/``CostInBillingCurrency``, ``SubscriptionId``/``SubscriptionGuid``,
``BillingCurrency``/``BillingCurrencyCode``, ``BenefitId``/``ReservationId``). ``Date`` may be ISO 8601
or ``MM/DD/YYYY``; ``Tags`` may be a JSON object or Azure's brace-less ``"key": "value"`` list.

Which file is which: a file whose name contains ``amortized`` or ``actual`` is taken at its word;
otherwise the content decides (UnusedReservation/UnusedSavingsPlan rows or covered usage with a cost
mean amortized; commitment Purchase rows mean actual).

PricingCurrency and PricingCurrencyEffectiveCost come from ``PricingCurrency``/``PricingCurrencyCode``
and the amortized export's ``CostInPricingCurrency`` (the billing currency and cost when absent).

BillingAccountId is the billing profile (MCA) or enrollment (EA) — ``BillingProfileId``, falling
back to ``BillingAccountId`` — as Microsoft's own FOCUS export does.
"""

from __future__ import annotations

import duckdb

from finops_xl.focus.convert.common import (
    Header, case_map, focus_projection, money, q, row_select, service_categories, text, timestamp,
    unit_sql,
)
from finops_xl.store.sources import SourceFile

UNKNOWN = "azure-unknown"
UNKNOWN_KIND = (
    "Azure cost details, but neither its name nor its rows tell whether it is the actual-cost or the "
    "amortized-cost export; put 'actual' or 'amortized' in the file name"
)

#: MeterCategory → FOCUS (ServiceCategory, ServiceSubcategory); unlisted: (Other, Other (Other)).
SERVICES = {
    "Virtual Machines": ("Compute", "Virtual Machines"),
    "Azure Kubernetes Service": ("Compute", "Containers"),
    "Container Instances": ("Compute", "Containers"),
    "Functions": ("Compute", "Serverless Compute"),
    "Azure App Service": ("Web", "Application Platforms"),
    "Storage": ("Storage", "Storage Platforms"),
    "Backup": ("Storage", "Backup Storage"),
    "Bandwidth": ("Networking", "Network Connectivity"),
    "Virtual Network": ("Networking", "Network Infrastructure"),
    "Load Balancer": ("Networking", "Application Networking"),
    "Content Delivery Network": ("Networking", "Content Delivery"),
    "SQL Database": ("Databases", "Relational Databases"),
    "Azure Database for PostgreSQL": ("Databases", "Relational Databases"),
    "Azure Cosmos DB": ("Databases", "NoSQL Databases"),
    "Redis Cache": ("Databases", "Caching"),
    "Log Analytics": ("Management and Governance", "Observability"),
    "Azure Monitor": ("Management and Governance", "Observability"),
    "Key Vault": ("Security", "Secret Management"),
    "Cognitive Services": ("AI and Machine Learning", "AI Platforms"),
    "Azure OpenAI": ("AI and Machine Learning", "Generative AI"),
}

_CHARGE_CATEGORY = {
    "Usage": "Usage", "UnusedReservation": "Usage", "UnusedSavingsPlan": "Usage",
    "Purchase": "Purchase", "Refund": "Credit", "Tax": "Tax", "RoundingAdjustment": "Adjustment",
}
_FREQUENCY = {"UsageBased": "Usage-Based", "Recurring": "Recurring", "OneTime": "One-Time"}

#: Descriptive columns: the join key of the actual and amortized rows (text; '' for null).
_KEY = ("billing_account", "billing_account_name", "billing_profile", "bp_start", "bp_end", "date",
        "subscription", "subscription_name", "resource_group", "resource_id", "resource_name",
        "location", "meter_id", "meter_category", "meter_subcategory", "meter_name", "product",
        "charge_type", "pricing_model", "frequency", "benefit_id", "benefit_name", "unit", "currency",
        "publisher", "publisher_type", "pricing_currency", "tags")


def is_cost_details(header: Header) -> bool:
    return (header.has("ChargeType", "PricingModel")
            and header.find("CostInBillingCurrency", "Cost") is not None
            and header.find("SubscriptionId", "SubscriptionGuid") is not None
            and header.find("Date", "UsageDate") is not None)


def dataset_kind(con: duckdb.DuckDBPyConnection, source: SourceFile, header: Header) -> str:
    """``azure-actual``, ``azure-amortized`` or :data:`UNKNOWN` (see the module docstring)."""
    name = source.path.name.lower()
    if "amortiz" in name:
        return "azure-amortized"
    if "actual" in name:
        return "azure-actual"
    charge, model = text(header, "ChargeType"), text(header, "PricingModel")
    cost = money(header, "CostInBillingCurrency", "Cost")
    unused, covered_cost, commitment_purchase = con.sql(
        f"SELECT count_if({charge} IN ('UnusedReservation', 'UnusedSavingsPlan')), "
        f"count_if({charge} = 'Usage' AND {model} IN ('Reservation', 'SavingsPlan') AND {cost} <> 0), "
        f"count_if({charge} = 'Purchase' AND {model} IN ('Reservation', 'SavingsPlan')) "
        f"FROM {source.reader_sql()}"
    ).fetchall()[0]
    if (unused or covered_cost) and not commitment_purchase:
        return "azure-amortized"
    if commitment_purchase and not (unused or covered_cost):
        return "azure-actual"
    return UNKNOWN


def periods(con: duckdb.DuckDBPyConnection, header: Header, reader: str) -> set[tuple[str, str]]:
    """The (billing account, billing period start) pairs a cost-details reader covers."""
    account = f"coalesce({text(header, 'BillingProfileId')}, {text(header, 'BillingAccountId')})"
    date = timestamp(header, "Date", "UsageDate")
    start = f"coalesce({timestamp(header, 'BillingPeriodStartDate')}, date_trunc('month', {date}))"
    rows = con.sql(f"SELECT DISTINCT {account}, strftime({start}, '%Y-%m') FROM {reader}").fetchall()
    return {(str(a), str(p)) for a, p in rows}


def _tags(header: Header) -> str:
    """Azure tags as a JSON object text: ``{"a":"b"}`` as is, ``"a": "b","c": "d"`` wrapped in braces."""
    t = text(header, "Tags")
    return (f"(CASE WHEN {t} IS NULL THEN NULL WHEN starts_with({t}, '{{') THEN {t} "
            f"ELSE '{{' || {t} || '}}' END)")


def _normalized(header: Header, reader: str) -> str:
    """SELECT of one cost-details file in the normalized columns (keys as text, '' for null)."""
    cost = money(header, "CostInBillingCurrency", "Cost")
    quantity = money(header, "Quantity")
    payg_cost = money(header, "PaygCostInBillingCurrency")
    payg_price = money(header, "PayGPrice", "PaygPrice")
    unit_price = money(header, "UnitPrice")
    date = timestamp(header, "Date", "UsageDate")
    bp_start = timestamp(header, "BillingPeriodStartDate")
    bp_end = timestamp(header, "BillingPeriodEndDate")
    keys = {
        "billing_account": text(header, "BillingAccountId"),
        "billing_account_name": text(header, "BillingAccountName"),
        "billing_profile": text(header, "BillingProfileId"),
        "bp_start": f"CAST(coalesce({bp_start}, date_trunc('month', {date})) AS VARCHAR)",
        # Azure's BillingPeriodEndDate is the period's last day; FOCUS periods end exclusive
        "bp_end": (f"CAST(coalesce({bp_end} + INTERVAL 1 DAY, "
                   f"date_trunc('month', {date}) + INTERVAL 1 MONTH) AS VARCHAR)"),
        "date": f"CAST({date} AS VARCHAR)",
        "subscription": text(header, "SubscriptionId", "SubscriptionGuid"),
        "subscription_name": text(header, "SubscriptionName"),
        "resource_group": text(header, "ResourceGroup", "ResourceGroupName"),
        "resource_id": text(header, "ResourceId", "InstanceName"),
        "resource_name": text(header, "ResourceName"),
        "location": text(header, "ResourceLocation"),
        "meter_id": text(header, "MeterId"),
        "meter_category": text(header, "MeterCategory"),
        "meter_subcategory": text(header, "MeterSubCategory"),
        "meter_name": text(header, "MeterName"),
        "product": text(header, "ProductName", "Product"),
        "charge_type": text(header, "ChargeType"),
        "pricing_model": text(header, "PricingModel"),
        "frequency": text(header, "Frequency"),
        "benefit_id": f"coalesce({text(header, 'BenefitId')}, {text(header, 'ReservationId')})",
        "benefit_name": f"coalesce({text(header, 'BenefitName')}, {text(header, 'ReservationName')})",
        "unit": text(header, "UnitOfMeasure"),
        "currency": f"upper({text(header, 'BillingCurrency', 'BillingCurrencyCode', 'Currency')})",
        "publisher": text(header, "PublisherName"),
        "publisher_type": text(header, "PublisherType"),
        "pricing_currency": f"upper({text(header, 'PricingCurrency', 'PricingCurrencyCode')})",
        "tags": _tags(header),
    }
    items = {k: f"coalesce({v}, '')" for k, v in keys.items()}
    items.update({
        "invoice_id": text(header, "InvoiceId"),
        "cost": f"coalesce({cost}, 0)",
        "pricing_cost": money(header, "CostInPricingCurrency"),
        "quantity": quantity,
        "list_cost": f"coalesce({payg_cost}, {payg_price} * {quantity})",
        "contracted_cost": f"{unit_price} * {quantity}",
    })
    return f"SELECT {row_select(items)} FROM {reader}"


def _summed(normalized: str, cost_name: str) -> str:
    keys = ", ".join(q(k) for k in _KEY)
    return (f"SELECT {keys}, sum(cost) AS {cost_name}, sum(pricing_cost) AS pricing_{cost_name}, "
            f"sum(quantity) AS quantity, "
            f"sum(list_cost) AS list_cost, sum(contracted_cost) AS contracted_cost, "
            f"max(invoice_id) AS invoice_id FROM ({normalized}) GROUP BY {keys}")


def focus_sql(actual_header: Header, actual_reader: str, amortized_header: Header,
              amortized_reader: str) -> str:
    """SQL joining an actual-cost and an amortized-cost export into FOCUS 1.2 rows."""
    actual = _summed(_normalized(actual_header, actual_reader), "billed")
    amortized = _summed(_normalized(amortized_header, amortized_reader), "effective")
    on = " AND ".join(f"a.{q(k)} = m.{q(k)}" for k in _KEY)
    joined_keys = ", ".join(f"NULLIF(coalesce(a.{q(k)}, m.{q(k)}), '') AS {q(k)}" for k in _KEY)
    joined = (
        f"SELECT {joined_keys}, coalesce(a.billed, 0) AS billed, coalesce(m.effective, 0) AS effective, "
        f"m.pricing_effective AS pricing_effective, "
        f"coalesce(a.quantity, m.quantity) AS quantity, coalesce(a.list_cost, m.list_cost) AS list_cost, "
        f"coalesce(a.contracted_cost, m.contracted_cost) AS contracted_cost, "
        f"coalesce(a.invoice_id, m.invoice_id) AS invoice_id "
        f"FROM ({actual}) a FULL OUTER JOIN ({amortized}) m ON {on}"
    )
    commitment = "pricing_model IN ('Reservation', 'SavingsPlan') OR charge_type LIKE 'Unused%'"
    is_reservation = "(pricing_model = 'Reservation' OR charge_type = 'UnusedReservation')"
    is_unused = "charge_type IN ('UnusedReservation', 'UnusedSavingsPlan')"
    category = case_map("charge_type", _CHARGE_CATEGORY, "'Adjustment'")
    other_row = f"{category} IN ('Purchase', 'Tax', 'Credit', 'Adjustment')"
    row = {
        "ProviderName": "'Microsoft'",
        "PublisherName": "(CASE WHEN publisher_type = 'Marketplace' THEN coalesce(publisher, 'Marketplace') "
                         "ELSE 'Microsoft' END)",
        "InvoiceIssuerName": "'Microsoft'",
        "BillingAccountId": "coalesce(billing_profile, billing_account)",
        "BillingAccountName": "coalesce(billing_account_name, billing_profile, billing_account)",
        "BillingAccountType": "(CASE WHEN billing_profile IS NOT NULL THEN 'Billing Profile' "
                              "ELSE 'Billing Account' END)",
        "SubAccountId": "subscription",
        "SubAccountName": "coalesce(subscription_name, subscription)",
        "SubAccountType": "'Subscription'",
        "InvoiceId": "invoice_id",
        "BillingCurrency": "currency",
        "PricingCurrency": "coalesce(pricing_currency, currency)",
        # amortized cost in the pricing currency, as the amortized-cost export states it
        "PricingCurrencyEffectiveCost": ("coalesce(pricing_effective, CASE WHEN pricing_currency IS NULL "
                                         "OR pricing_currency = currency THEN effective END, 0)"),
        "BillingPeriodStart": "CAST(bp_start AS TIMESTAMP)",
        "BillingPeriodEnd": "CAST(bp_end AS TIMESTAMP)",
        "ChargePeriodStart": "CAST(date AS TIMESTAMP)",
        "ChargePeriodEnd": "CAST(date AS TIMESTAMP) + INTERVAL 1 DAY",
        "ChargeCategory": category,
        "ChargeClass": "(CASE WHEN charge_type = 'Refund' AND CAST(date AS TIMESTAMP) < "
                       "CAST(bp_start AS TIMESTAMP) THEN 'Correction' END)",
        "ChargeDescription": "coalesce(meter_name, product)",
        "ChargeFrequency": case_map("frequency", _FREQUENCY,
                                    f"(CASE WHEN {category} = 'Usage' THEN 'Usage-Based' "
                                    f"ELSE 'One-Time' END)"),
        "PricingCategory": (f"(CASE WHEN {category} = 'Usage' AND ({commitment}) THEN 'Committed' "
                            f"WHEN {category} = 'Usage' AND pricing_model = 'Spot' THEN 'Dynamic' "
                            f"WHEN {category} IN ('Usage', 'Purchase') THEN 'Standard' END)"),
        "BilledCost": "billed",
        "EffectiveCost": "effective",
        "ListCost": (f"(CASE WHEN {is_unused} THEN 0 WHEN {other_row} THEN billed "
                     f"ELSE coalesce(list_cost, effective) END)"),
        "ContractedCost": (f"(CASE WHEN {is_unused} THEN 0 WHEN {other_row} THEN billed "
                           f"ELSE coalesce(contracted_cost, list_cost, billed) END)"),
        "PricingQuantity": f"(CASE WHEN {category} = 'Usage' AND NOT {is_unused} THEN quantity END)",
        "PricingUnit": f"(CASE WHEN {category} = 'Usage' AND NOT {is_unused} THEN {unit_sql('unit')} END)",
        "ConsumedQuantity": f"(CASE WHEN {category} = 'Usage' AND NOT {is_unused} THEN quantity END)",
        "ConsumedUnit": f"(CASE WHEN {category} = 'Usage' AND NOT {is_unused} THEN {unit_sql('unit')} END)",
        "CommitmentDiscountId": f"(CASE WHEN {commitment} THEN benefit_id END)",
        "CommitmentDiscountName": f"(CASE WHEN {commitment} THEN benefit_name END)",
        "CommitmentDiscountCategory": (f"(CASE WHEN NOT ({commitment}) OR benefit_id IS NULL THEN NULL "
                                       f"WHEN {is_reservation} THEN 'Usage' ELSE 'Spend' END)"),
        "CommitmentDiscountType": (f"(CASE WHEN NOT ({commitment}) OR benefit_id IS NULL THEN NULL "
                                   f"WHEN {is_reservation} THEN 'Reservation' ELSE 'Savings Plan' END)"),
        "CommitmentDiscountStatus": (f"(CASE WHEN benefit_id IS NULL OR {category} <> 'Usage' THEN NULL "
                                     f"WHEN {is_unused} THEN 'Unused' "
                                     f"WHEN {commitment} THEN 'Used' END)"),
        "ServiceName": "coalesce(meter_category, product, 'Microsoft Azure')",
        **service_categories("meter_category", SERVICES),
        "RegionId": "lower(replace(location, ' ', ''))",
        "RegionName": "location",
        "ResourceId": "resource_id",
        "ResourceName": "coalesce(resource_name, regexp_extract(resource_id, '[^/]+$'))",
        "ResourceType": ("(CASE WHEN resource_id IS NOT NULL THEN coalesce(NULLIF(regexp_extract("
                         "resource_id, '(?i)/providers/([^/]+/[^/]+)', 1), ''), meter_category, 'Resource') END)"),
        "SkuId": f"(CASE WHEN {category} <> 'Tax' THEN meter_id END)",
        "SkuMeter": f"(CASE WHEN {category} <> 'Tax' AND meter_id IS NOT NULL THEN coalesce(meter_name, meter_id) END)",
        "Tags": "tags",
        "x_ChargeType": "charge_type",
        "x_PricingModel": "pricing_model",
        "x_BillingProfileId": "billing_profile",
        "x_ResourceGroup": "resource_group",
    }
    return focus_projection(f"SELECT {row_select(row)} FROM ({joined})", list(row))
