"""Azure cost details (EA and MCA column sets, any casing) and the legacy usage export → FOCUS 1.2.

Azure publishes one month's cost details as two datasets with the same columns:

- **actual cost**: what the invoice charges. Reservation and savings-plan purchases are Purchase rows;
  usage they cover costs 0.
- **amortized cost**: commitment purchases spread onto the usage they cover (PricingModel Reservation
  or SavingsPlan, at the amortized price) and onto UnusedReservation / UnusedSavingsPlan rows; the
  commitment purchases themselves are left out.

FOCUS wants both measures (BilledCost from the first, EffectiveCost from the second) in one row
set. Both files are read into the same normalized columns and paired **row by row**: rows with the
same descriptive columns (date, billing account and period, subscription, resource, meter, charge
type, pricing model, benefit, tags, …) and quantity are numbered within each file and joined on
those columns and that number with a full outer join, so a source row stays one FOCUS row. A row in
both gets BilledCost from actual and EffectiveCost from amortized; a row only in actual (a commitment
purchase) gets EffectiveCost 0; a row only in amortized (unused commitment) gets BilledCost 0. Each
total is therefore carried over exactly once: Σ BilledCost = the actual-cost total and Σ
EffectiveCost = the amortized-cost total, per billing period. Rows that pair with nothing although
they should (anything else) are counted and totalled in a notice (:mod:`azure_checks`).

**One export alone** converts too, with what it determines:

- actual cost alone: BilledCost = cost; EffectiveCost = cost, except commitment purchases (0, as
  FOCUS wants) and the usage they cover (0 in the file; its amortized cost is not in it);
- amortized cost alone: EffectiveCost = cost; BilledCost = cost, except commitment cost spread onto
  covered usage and unused-commitment rows (the invoice bills those 0; it bills the purchases, which
  this file leaves out).

A notice says which rows and how much; ``x_CostBasis`` says which export(s) each row comes from
(``actual``, ``amortized`` or ``actual+amortized``). The slice key is the same either way, so a later
load of the pair replaces a slice loaded from one export.

The **legacy usage export** (pay-as-you-go, ``PreTaxCost``, ``UsageDateTime``, ``SubscriptionGuid``,
``InstanceId``) has no charge type, pricing model or billing account: every row is usage at its
pre-tax cost (actual = amortized), the subscription is the billing account (a pay-as-you-go
subscription is invoiced on its own) and the billing period is the calendar month of the usage.

Commitment terms: ``Term`` (months), ``ProductOrderName`` ("…, 3 Years"), the payment option
(a ``PaymentOption``/``BillingFrequency``/``BillingPlan`` column, else a OneTime purchase is
``Upfront`` and a Recurring one ``Monthly``) and ``ServicePeriodStartDate``/``EndDate`` go into the
commitment purchase rows' SkuPriceDetails as ``x_Term`` ("36 Months"), ``x_PaymentOption``,
``x_ServicePeriodStart`` and ``x_ServicePeriodEnd``.

Columns are found case-insensitively, with the EA and MCA spellings as alternatives
(``Cost``/``CostInBillingCurrency``, ``SubscriptionId``/``SubscriptionGuid``,
``BillingCurrency``/``BillingCurrencyCode``, ``BenefitId``/``ReservationId``). ``Date`` may be ISO 8601
or ``MM/DD/YYYY``; ``Tags`` may be a JSON object or Azure's brace-less ``"key": "value"`` list.

Which file is which: a file whose name contains ``amortized`` or ``actual`` is taken at its word;
otherwise the rows decide, by Microsoft's documented semantics: UnusedReservation/UnusedSavingsPlan
rows or covered usage with a cost mean amortized; commitment Purchase rows with a cost, or covered
usage at cost 0 only, mean actual. A file with neither (or both) is loaded as the actual-cost export,
what the invoice bills, with a notice saying how to state otherwise.

PricingCurrency and PricingCurrencyEffectiveCost come from ``PricingCurrency``/``PricingCurrencyCode``
and the amortized export's ``CostInPricingCurrency`` (the billing currency and cost when absent).

BillingAccountId is the billing profile (MCA) or enrollment (EA) — ``BillingProfileId``, falling
back to ``BillingAccountId`` — as Microsoft's own FOCUS export does.
"""

from __future__ import annotations

import duckdb

from finops_xl.focus.convert.common import (
    Header, case_map, focus_projection, money, q, row_select, service_categories, tags_object, text,
    timestamp, unit_sql,
)
from finops_xl.focus.convert.azure_kinds import ACTUAL, AMORTIZED, LEGACY, PAIR, UNKNOWN  # noqa: F401 (the kinds)
from finops_xl.sources import SourceFile

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

#: Descriptive columns and the quantity: the join key of the actual and amortized rows (text; '' for
#: null).
_KEY = ("billing_account", "billing_account_name", "billing_profile", "bp_start", "bp_end", "date",
        "subscription", "subscription_name", "resource_group", "resource_id", "resource_name",
        "location", "meter_id", "meter_category", "meter_subcategory", "meter_name", "product",
        "charge_type", "pricing_model", "frequency", "benefit_id", "benefit_name", "unit", "currency",
        "publisher", "publisher_type", "pricing_currency", "tags", "quantity_key")


def is_legacy_usage(header: Header) -> bool:
    """The legacy pay-as-you-go usage export (no ChargeType; PreTaxCost and UsageDateTime)."""
    return (header.find("ChargeType") is None and header.has("PreTaxCost", "MeterCategory")
            and header.find("UsageDateTime", "Date") is not None
            and header.find("SubscriptionGuid", "SubscriptionId") is not None)


def is_cost_details(header: Header) -> bool:
    """Azure cost details (EA or MCA, any casing) or the legacy usage export."""
    return is_legacy_usage(header) or (
        header.has("ChargeType", "PricingModel")
        and header.find("CostInBillingCurrency", "Cost") is not None
        and header.find("SubscriptionId", "SubscriptionGuid") is not None
        and header.find("Date", "UsageDate") is not None)


def dataset_kind(con: duckdb.DuckDBPyConnection, source: SourceFile, header: Header) -> str:
    """:data:`ACTUAL`, :data:`AMORTIZED`, :data:`LEGACY` or :data:`UNKNOWN` (see the module docstring)."""
    if is_legacy_usage(header):
        return LEGACY
    name = source.path.name.lower()
    if "amortiz" in name:
        return AMORTIZED
    if "actual" in name:
        return ACTUAL
    charge, model = text(header, "ChargeType"), text(header, "PricingModel")
    cost = money(header, "CostInBillingCurrency", "Cost")
    commitment = f"{model} IN ('Reservation', 'SavingsPlan')"
    unused, covered_cost, covered_zero, purchase = con.sql(
        f"SELECT count_if({charge} IN ('UnusedReservation', 'UnusedSavingsPlan')), "
        f"count_if({charge} = 'Usage' AND {commitment} AND {cost} <> 0), "
        f"count_if({charge} = 'Usage' AND {commitment} AND {cost} = 0), "
        f"count_if({charge} = 'Purchase' AND {commitment} AND {cost} <> 0) "
        f"FROM {source.reader_sql()}"
    ).fetchall()[0]
    amortized = bool(unused or covered_cost)
    actual = bool(purchase or (covered_zero and not covered_cost))
    if amortized and not actual:
        return AMORTIZED
    if actual and not amortized:
        return ACTUAL
    return UNKNOWN


def _account(header: Header) -> str:
    """BillingAccountId: the billing profile, else the billing account, else (legacy usage) the
    subscription."""
    return (f"coalesce({text(header, 'BillingProfileId')}, {text(header, 'BillingAccountId')}, "
            f"{text(header, 'SubscriptionGuid', 'SubscriptionId')})")


def periods(con: duckdb.DuckDBPyConnection, header: Header, reader: str) -> set[tuple[str, str]]:
    """The (billing account, billing period start) pairs a cost-details reader covers."""
    date = timestamp(header, "Date", "UsageDate", "UsageDateTime")
    start = f"coalesce({timestamp(header, 'BillingPeriodStartDate')}, date_trunc('month', {date}))"
    rows = con.sql(f"SELECT DISTINCT {_account(header)}, strftime({start}, '%Y-%m') FROM {reader}").fetchall()
    return {(str(a), str(p)) for a, p in rows}


def _tags(header: Header) -> str:
    """Azure tags as a JSON object text: ``{"a":"b"}`` as is, ``"a": "b","c": "d"`` wrapped in braces."""
    t = text(header, "Tags")
    return (f"(CASE WHEN {t} IS NULL THEN NULL WHEN starts_with({t}, '{{') THEN {t} "
            f"ELSE '{{' || {t} || '}}' END)")


def _normalized(header: Header, reader: str) -> str:
    """SELECT of one cost-details file in the normalized columns (keys as text, '' for null)."""
    cost = money(header, "CostInBillingCurrency", "Cost", "PreTaxCost")
    quantity = money(header, "Quantity", "UsageQuantity")
    payg_cost = money(header, "PaygCostInBillingCurrency")
    payg_price = money(header, "PayGPrice", "PaygPrice")
    unit_price = money(header, "UnitPrice")
    date = timestamp(header, "Date", "UsageDate", "UsageDateTime")
    bp_start = timestamp(header, "BillingPeriodStartDate")
    bp_end = timestamp(header, "BillingPeriodEndDate")
    legacy = is_legacy_usage(header)
    keys = {
        "billing_account": (text(header, "SubscriptionGuid", "SubscriptionId") if legacy
                            else text(header, "BillingAccountId")),
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
        "resource_id": text(header, "ResourceId", "InstanceId", "InstanceName"),
        "resource_name": text(header, "ResourceName"),
        "location": text(header, "ResourceLocation"),
        "meter_id": text(header, "MeterId"),
        "meter_category": text(header, "MeterCategory"),
        "meter_subcategory": text(header, "MeterSubCategory"),
        "meter_name": text(header, "MeterName"),
        "product": text(header, "ProductName", "Product"),
        "charge_type": "'Usage'" if legacy else text(header, "ChargeType"),
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
        # the same charge has the same quantity in both exports (only its cost differs)
        "quantity_key": f"CAST({quantity} AS VARCHAR)",
    }
    items = {k: f"coalesce({v}, '')" for k, v in keys.items()}
    items.update({
        "invoice_id": text(header, "InvoiceId"),
        "cost": f"coalesce({cost}, 0)",
        "pricing_cost": money(header, "CostInPricingCurrency"),
        "quantity": quantity,
        "list_cost": f"coalesce({payg_cost}, {payg_price} * {quantity})",
        "contracted_cost": f"{unit_price} * {quantity}",
        "term": text(header, "Term"),
        "product_order_id": text(header, "ProductOrderId"),
        "product_order_name": text(header, "ProductOrderName"),
        "payment_option": text(header, "PaymentOption", "BillingFrequency", "BillingPlan"),
        "service_start": f"CAST({timestamp(header, 'ServicePeriodStartDate')} AS DATE)",
        "service_end": f"CAST({timestamp(header, 'ServicePeriodEndDate')} AS DATE)",
    })
    return f"SELECT {row_select(items)} FROM {reader}"


#: per-row columns besides the keys and the cost, carried from whichever file has the row
_CARRIED = ("invoice_id", "quantity", "list_cost", "contracted_cost", "term", "product_order_id",
            "product_order_name", "payment_option", "service_start", "service_end")
_COVERED = "(charge_type = 'Usage' AND pricing_model IN ('Reservation', 'SavingsPlan'))"
_UNUSED = "charge_type IN ('UnusedReservation', 'UnusedSavingsPlan')"
_COMMITMENT_PURCHASE = "(charge_type = 'Purchase' AND pricing_model IN ('Reservation', 'SavingsPlan'))"


def _numbered(normalized: str) -> str:
    """Each row numbered within its identical descriptive columns and quantity (the same charge has
    the same quantity in both exports), so rows of the two exports pair one to one."""
    keys = ", ".join(q(k) for k in _KEY)
    return (f"SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY quantity NULLS FIRST, "
            f"list_cost NULLS FIRST, contracted_cost NULLS FIRST, cost) AS rn FROM ({normalized})")


def _single(normalized: str, kind: str) -> str:
    """One export alone: the measure it does not state, where the file determines it."""
    keys = ", ".join(f"NULLIF({q(k)}, '') AS {q(k)}" for k in _KEY)
    carried = ", ".join(q(c) for c in _CARRIED)
    if kind == AMORTIZED:
        billed = f"(CASE WHEN {_COVERED} OR {_UNUSED} THEN 0 ELSE cost END)"
        effective, pricing, basis = "cost", "pricing_cost", "amortized"
    else:
        billed = "cost"
        effective = f"(CASE WHEN {_COMMITMENT_PURCHASE} THEN 0 ELSE cost END)"
        pricing = f"(CASE WHEN {_COMMITMENT_PURCHASE} THEN 0 ELSE pricing_cost END)"
        basis = "actual"
    return (f"SELECT {keys}, {billed} AS billed, {effective} AS effective, {pricing} AS pricing_effective, "
            f"{carried}, '{basis}' AS cost_basis FROM ({normalized})")


def _pair(actual: str, amortized: str) -> str:
    on = " AND ".join(f"a.{q(k)} = m.{q(k)}" for k in (*_KEY, "rn"))
    keys = ", ".join(f"NULLIF(coalesce(a.{q(k)}, m.{q(k)}), '') AS {q(k)}" for k in _KEY)
    carried = ", ".join(f"coalesce(a.{q(c)}, m.{q(c)}) AS {q(c)}" for c in _CARRIED)
    return (
        f"SELECT {keys}, coalesce(a.cost, 0) AS billed, coalesce(m.cost, 0) AS effective, "
        f"m.pricing_cost AS pricing_effective, {carried}, "
        f"(CASE WHEN a.rn IS NULL THEN 'amortized' WHEN m.rn IS NULL THEN 'actual' "
        f"ELSE 'actual+amortized' END) AS cost_basis "
        f"FROM ({_numbered(actual)}) a FULL OUTER JOIN ({_numbered(amortized)}) m ON {on}"
    )


def _sku_price_details() -> str:
    """Commitment purchase rows: term, payment option and service period as SkuPriceDetails."""
    term = ("(CASE WHEN regexp_full_match(term, '\\d+') THEN term || ' Months' WHEN term IS NOT NULL "
            "THEN term ELSE NULLIF(regexp_extract(coalesce(product_order_name, product), "
            "'(?i)\\b\\d+\\s*(years?|months?)\\b', 0), '') END)")
    payment = ("coalesce(payment_option, CASE frequency WHEN 'OneTime' THEN 'Upfront' "
               "WHEN 'Recurring' THEN 'Monthly' END)")
    pairs = (f"[{{'key': 'x_Term', 'value': {term}}}, {{'key': 'x_PaymentOption', 'value': {payment}}}, "
             f"{{'key': 'x_ServicePeriodStart', 'value': CAST(service_start AS VARCHAR)}}, "
             f"{{'key': 'x_ServicePeriodEnd', 'value': CAST(service_end AS VARCHAR)}}]")
    return f"(CASE WHEN {_COMMITMENT_PURCHASE} THEN {tags_object(pairs)} END)"


def focus_sql(actual_header: Header | None, actual_reader: str | None, amortized_header: Header | None,
              amortized_reader: str | None) -> str:
    """SQL of FOCUS 1.2 rows from an actual-cost export, an amortized-cost export, or both (a legacy
    usage export is given as the actual one)."""
    if actual_reader is not None and amortized_reader is not None:
        assert actual_header is not None and amortized_header is not None
        joined = _pair(_normalized(actual_header, actual_reader),
                       _normalized(amortized_header, amortized_reader))
    elif actual_reader is not None:
        assert actual_header is not None
        joined = _single(_normalized(actual_header, actual_reader), ACTUAL)
    else:
        assert amortized_header is not None and amortized_reader is not None
        joined = _single(_normalized(amortized_header, amortized_reader), AMORTIZED)
    details = _sku_price_details()
    joined = f"SELECT *, {details} AS sku_price_details FROM ({joined})"
    commitment = "pricing_model IN ('Reservation', 'SavingsPlan') OR charge_type LIKE 'Unused%'"
    is_reservation = "(pricing_model = 'Reservation' OR charge_type = 'UnusedReservation')"
    is_unused = "charge_type IN ('UnusedReservation', 'UnusedSavingsPlan')"
    category = case_map("charge_type", _CHARGE_CATEGORY, "'Adjustment'")
    other_row = f"{category} IN ('Purchase', 'Tax', 'Credit', 'Adjustment')"
    measured = f"{category} = 'Usage' AND NOT {is_unused} AND unit IS NOT NULL AND quantity IS NOT NULL"
    # Azure writes "1 /Month" and bare block sizes ("100000000"): FOCUS "Months", "100000000 Units"
    unit = unit_sql("(CASE WHEN regexp_full_match(unit, '\\d+') THEN unit || ' Units' "
                    "ELSE regexp_replace(unit, '\\s+/', '/') END)")
    # a commitment purchase's SKU and price: its product order (the reservation or savings plan bought)
    commitment_sku = ("(CASE WHEN sku_price_details IS NOT NULL THEN coalesce(product_order_id, "
                      "NULLIF(regexp_extract(benefit_id, '(?i)orders/([^/]+)', 1), ''), benefit_id) END)")
    row = {
        "ProviderName": "'Microsoft'",
        "PublisherName": "(CASE WHEN publisher_type = 'Marketplace' THEN coalesce(publisher, 'Marketplace') "
                         "ELSE 'Microsoft' END)",
        "InvoiceIssuerName": "'Microsoft'",
        "BillingAccountId": "coalesce(billing_profile, billing_account)",
        "BillingAccountName": "coalesce(billing_account_name, billing_profile, billing_account)",
        # the legacy usage export bills each (pay-as-you-go) subscription on its own
        "BillingAccountType": "(CASE WHEN billing_profile IS NOT NULL THEN 'Billing Profile' "
                              "WHEN billing_account = subscription THEN 'Subscription' "
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
        # quantities only with their unit (the legacy usage export may have none)
        "PricingQuantity": f"(CASE WHEN {measured} THEN quantity END)",
        "PricingUnit": f"(CASE WHEN {measured} THEN {unit} END)",
        "ConsumedQuantity": f"(CASE WHEN {measured} THEN quantity END)",
        "ConsumedUnit": f"(CASE WHEN {measured} THEN {unit} END)",
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
        "SkuId": f"(CASE WHEN {category} <> 'Tax' THEN coalesce(meter_id, {commitment_sku}) END)",
        "SkuMeter": (f"(CASE WHEN {category} <> 'Tax' AND meter_id IS NOT NULL THEN coalesce(meter_name, meter_id) "
                     f"WHEN {commitment_sku} IS NOT NULL THEN coalesce(product_order_name, product, benefit_name) END)"),
        # the commitment's price (its order) where SkuPriceDetails states its term
        "SkuPriceId": f"(CASE WHEN sku_price_details IS NOT NULL THEN coalesce(meter_id, {commitment_sku}) END)",
        "SkuPriceDetails": "sku_price_details",
        "Tags": "tags",
        "x_ChargeType": "charge_type",
        "x_PricingModel": "pricing_model",
        "x_BillingProfileId": "billing_profile",
        "x_ResourceGroup": "resource_group",
        "x_CostBasis": "cost_basis",
    }
    return focus_projection(f"SELECT {row_select(row)} FROM ({joined})", list(row))


def notices(con: duckdb.DuckDBPyConnection, group) -> list:
    """What converting ``group`` could not determine (see :mod:`azure_checks`)."""
    from finops_xl.focus.convert import azure_checks

    return azure_checks.notices(con, group)
