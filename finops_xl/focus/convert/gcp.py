"""Google Cloud Billing export to BigQuery (standard or detailed usage cost) → FOCUS 1.2.

Read as exported from BigQuery to JSON lines or Parquet (nested records: ``service.description``,
``usage.amount``, ``labels`` and ``credits`` as lists of records) or to CSV with the records
flattened to dotted column names (``service.description``) and the repeated fields as JSON text.

Mapping:

- **BilledCost** = ``cost`` + Σ ``credits.amount`` (credits are negative), what the invoice charges.
- **EffectiveCost** = BilledCost. Google bills committed-use discount fees monthly, for the month they
  cover, and has no prepaid commitments: there is no prepayment to spread, so amortized and billed
  cost are the same per row and per month.
- **ChargeCategory**: ``cost_type`` regular → Usage, except committed-use-discount fee SKUs
  (``sku.description`` beginning "Commitment", or a row carrying a FEE_UTILIZATION_OFFSET credit) →
  Purchase (Recurring); tax → Tax; adjustment and rounding_error → Adjustment, with ChargeClass
  Correction when the usage lies before the invoice month.
- **Commitment columns**: a usage row with a COMMITTED_USAGE_DISCOUNT credit (resource-based CUD,
  CommitmentDiscountCategory Usage) or COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE credit (spend-based CUD,
  Spend) gets the credit's ``id`` as CommitmentDiscountId, Status Used, PricingCategory Committed.
  A fee row gets the commitment from its FEE_UTILIZATION_OFFSET credit (the spend-based model in
  which the fee is offset by the commitment used), else from ``resource.global_name`` /
  ``resource.name`` (detailed export).
- **Tags** from ``labels`` (user labels, keys as written). **BillingPeriodStart** from
  ``invoice.month`` (YYYYMM). **SubAccountId** is ``project.id``. The export has no billing account
  name, so **BillingAccountName** repeats the id; it has no invoice number, so **InvoiceId** is null.
"""

from __future__ import annotations

from finops_xl.focus.convert.common import (
    Header, MONEY, is_text, lit, money, q, service_categories, staged_projection, tags_object, text,
    timestamp, unit_sql,
)
from finops_xl.focus.convert.locate import locate_all
from finops_xl.errors import Problem

#: service.description → FOCUS (ServiceCategory, ServiceSubcategory); unlisted: (Other, Other (Other)).
SERVICES = {
    "Compute Engine": ("Compute", "Virtual Machines"),
    "Kubernetes Engine": ("Compute", "Containers"),
    "Cloud Run": ("Compute", "Serverless Compute"),
    "Cloud Functions": ("Compute", "Serverless Compute"),
    "Cloud Storage": ("Storage", "Object Storage"),
    "Cloud SQL": ("Databases", "Relational Databases"),
    "Cloud Spanner": ("Databases", "Relational Databases"),
    "BigQuery": ("Databases", "Data Warehouses"),
    "Networking": ("Networking", "Network Connectivity"),
    "Cloud CDN": ("Networking", "Content Delivery"),
    "Cloud Logging": ("Management and Governance", "Observability"),
    "Cloud Monitoring": ("Management and Governance", "Observability"),
    "Support": ("Management and Governance", "Support"),
    "Vertex AI": ("AI and Machine Learning", "AI Platforms"),
    "Invoice": ("Other", "Other (Other)"),
}

CUD_TYPES = ("COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")
OFFSET_TYPE = "FEE_UTILIZATION_OFFSET"

_CREDIT = "STRUCT(name VARCHAR, amount VARCHAR, full_name VARCHAR, id VARCHAR, type VARCHAR)[]"
_LABEL = "STRUCT(key VARCHAR, value VARCHAR)[]"


def is_billing_export(header: Header) -> bool:
    return (header.has("billing_account_id", "cost", "usage_start_time")
            and header.find("service", "service.description") is not None)


def _struct_has(duck_type: str, field: str) -> bool:
    t = duck_type.upper()
    return t.startswith("STRUCT") and f"{field.upper()} " in t.replace('"', "")


def field(header: Header, path: str) -> str | None:
    """SQL for a nested field (``service.description``) of a nested or flattened export."""
    flat = header.find(path)
    if flat is not None:
        return q(flat)
    top, _, sub = path.partition(".")
    col = header.find(top)
    if col is not None and sub and _struct_has(header.type_of(col), sub):
        return f"{q(col)}.{q(sub)}"
    return None


def _text(header: Header, path: str) -> str:
    f = field(header, path)
    return "CAST(NULL AS VARCHAR)" if f is None else f"NULLIF(trim(CAST({f} AS VARCHAR)), '')"


def _number(header: Header, path: str) -> str:
    f = field(header, path)
    return (f"CAST(NULL AS {MONEY})" if f is None
            else f"TRY_CAST(NULLIF(trim(CAST({f} AS VARCHAR)), '') AS {MONEY})")


#: Python's printed form of a list of records (``[{'name': 'x', 'amount': -1.2, 'id': None}]``), as
#: tools that load the BigQuery table into pandas write it to CSV, rewritten as JSON text: the
#: quoted strings are re-quoted, ``None``/``True``/``False`` outside them become JSON's words.
_PY_TOKENS = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^'"]+"""
_PY_TO_JSON = (
    "array_to_string(list_transform(regexp_extract_all({v}, " + lit(_PY_TOKENS) + "), lambda t: "
    r"""CASE WHEN t[1] = '''' THEN '"' || replace(replace(t[2:-2], '\''', ''''), '"', '\"') || '"' """
    r"""WHEN t[1] = '"' THEN t ELSE regexp_replace(regexp_replace(regexp_replace(t, """
    r"""'\bNone\b', 'null', 'g'), '\bTrue\b', 'true', 'g'), '\bFalse\b', 'false', 'g') END), '')"""
)


def _parsed_list(col: str, struct_type: str) -> str:
    """A text column holding a repeated record as JSON or as a Python-style list → list of structs;
    NULL when the text is empty or neither (:func:`problems` refuses the latter)."""
    v = f"NULLIF(trim({col}), '')"
    as_json = f"(CASE WHEN json_valid({v}) THEN {v} ELSE {_PY_TO_JSON.format(v=v)} END)"
    return f"TRY_CAST((CASE WHEN json_valid({as_json}) THEN CAST({as_json} AS JSON) END) AS {struct_type})"


def _list(header: Header, name: str, struct_type: str) -> str:
    """A repeated record column as a DuckDB list of structs (JSON or Python-style text is parsed)."""
    col = header.find(name)
    if col is None:
        return f"CAST([] AS {struct_type})"
    if is_text(header.type_of(col)):
        return f"coalesce({_parsed_list(q(col), struct_type)}, [])"
    return f"coalesce({q(col)}, [])"


def problems(con, group) -> list[Problem]:
    """Rows whose credits (or labels) cannot be read, refused naming the first: reading them as
    "no credits" would overstate the cost. A credit without a numeric amount is refused too."""
    found: list[Problem] = []
    amount_bad = f"c.amount IS NULL OR TRY_CAST(CAST(c.amount AS VARCHAR) AS {MONEY}) IS NULL"
    for name, struct_type in (("credits", _CREDIT), ("labels", _LABEL)):
        col = group.header.find(name)
        if col is None:
            continue
        condition = "false"
        if is_text(group.header.type_of(col)):
            condition = (f"NULLIF(trim({q(col)}), '') IS NOT NULL "
                         f"AND {_parsed_list(q(col), struct_type)} IS NULL")
        if name == "credits":
            condition = (f"({condition}) OR coalesce(list_bool_or(list_transform("
                         f"{_list(group.header, name, struct_type)}, lambda c: {amount_bad})), false)")
        for source in group.sources:
            [(n, row, value)] = locate_all(con, source, [(condition, q(col))])
            if n:
                line = f" (line {row + 1} of the file)" if source.format.startswith("csv") else ""
                found.append(Problem(source.label, (
                    f"the {name}{line} cannot be read: Google's export writes them as a list of records, "
                    f"as JSON ([{{\"name\": \"...\", \"amount\": -1.25, ...}}]) or as Python prints "
                    f"the list ([{{'name': '...', 'amount': -1.25, ...}}]), every credit with a numeric "
                    f"amount; without them the row's cost is unknown. Export the billing table again, "
                    f"or correct the value"), row=row, column=col, value=value, count=n))
    return found


def focus_sql(header: Header, reader: str) -> str:
    """SQL turning billing-export rows read by ``reader`` into FOCUS 1.2 rows."""
    credits = _list(header, "credits", _CREDIT)
    amount = f"TRY_CAST(CAST(c.amount AS VARCHAR) AS {MONEY})"
    cud = ", ".join(lit(t) for t in CUD_TYPES)
    invoice_month = _text(header, "invoice.month")
    src = {
        "billing_account": text(header, "billing_account_id"),
        "service": _text(header, "service.description"),
        "service_id": _text(header, "service.id"),
        "sku_id": _text(header, "sku.id"),
        "sku": _text(header, "sku.description"),
        "usage_start": timestamp(header, "usage_start_time"),
        "usage_end": timestamp(header, "usage_end_time"),
        "project": _text(header, "project.id"),
        "project_name": _text(header, "project.name"),
        "region": _text(header, "location.region"),
        "zone": _text(header, "location.zone"),
        "resource_name": _text(header, "resource.name"),
        "resource_global": _text(header, "resource.global_name"),
        "cost": money(header, "cost"),
        "cost_at_list": money(header, "cost_at_list"),
        "currency": f"upper({text(header, 'currency')})",
        "usage_amount": _number(header, "usage.amount"),
        "usage_unit": _text(header, "usage.unit"),
        "pricing_amount": _number(header, "usage.amount_in_pricing_units"),
        "pricing_unit": _text(header, "usage.pricing_unit"),
        "invoice_month": invoice_month,
        "cost_type": f"lower(coalesce({text(header, 'cost_type')}, 'regular'))",
        "seller": text(header, "seller_name"),
        "credits_total": f"coalesce(list_sum(list_transform({credits}, lambda c: {amount})), 0)",
        "cud_credit": (f"list_filter({credits}, lambda c: c.type IN ({cud}))[1]"),
        "offset_credit": f"list_filter({credits}, lambda c: c.type = '{OFFSET_TYPE}')[1]",
        "tags": tags_object(f"list_transform({_list(header, 'labels', _LABEL)}, "
                            f"lambda l: struct_pack(key := l.key, value := l.value))"),
    }
    fee = ("(cost_type = 'regular' AND (lower(sku) LIKE 'commitment%' OR offset_credit IS NOT NULL))")
    category = (f"(CASE WHEN cost_type = 'tax' THEN 'Tax' "
                f"WHEN cost_type IN ('adjustment', 'rounding_error') THEN 'Adjustment' "
                f"WHEN {fee} THEN 'Purchase' ELSE 'Usage' END)")
    commitment_id = (f"(CASE WHEN {fee} THEN coalesce(offset_credit.id, resource_global, resource_name) "
                     f"WHEN cost_type = 'regular' THEN cud_credit.id END)")
    spend = (f"(CASE WHEN {fee} THEN (offset_credit IS NOT NULL OR lower(sku) LIKE '%dollar%') "
             f"ELSE cud_credit.type = 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE' END)")
    is_usage = f"{category} = 'Usage'"
    billed = "(coalesce(cost, 0) + credits_total)"
    bp_start = "strptime(invoice_month, '%Y%m')"
    row = {
        "ProviderName": "'Google Cloud'",
        "PublisherName": "coalesce(seller, 'Google Cloud')",
        "InvoiceIssuerName": "'Google Cloud'",
        "BillingAccountId": "billing_account",
        "BillingAccountName": "billing_account",
        "BillingAccountType": "'Billing Account'",
        "SubAccountId": "project",
        "SubAccountName": "coalesce(project_name, project)",
        "SubAccountType": "(CASE WHEN project IS NOT NULL THEN 'Project' END)",
        "BillingCurrency": "currency",
        "BillingPeriodStart": bp_start,
        "BillingPeriodEnd": f"{bp_start} + INTERVAL 1 MONTH",
        "ChargePeriodStart": "usage_start",
        "ChargePeriodEnd": "usage_end",
        "ChargeCategory": category,
        "ChargeClass": (f"(CASE WHEN cost_type IN ('adjustment', 'rounding_error') "
                        f"AND usage_start < {bp_start} THEN 'Correction' END)"),
        "ChargeDescription": "coalesce(sku, service)",
        "ChargeFrequency": (f"(CASE WHEN {fee} THEN 'Recurring' WHEN cost_type = 'regular' THEN 'Usage-Based' "
                            f"WHEN cost_type = 'tax' THEN 'Recurring' ELSE 'One-Time' END)"),
        "PricingCategory": (f"(CASE WHEN {is_usage} AND cud_credit IS NOT NULL THEN 'Committed' "
                            f"WHEN {is_usage} AND (sku ILIKE '%spot%' OR sku ILIKE '%preemptible%') "
                            f"THEN 'Dynamic' WHEN {category} IN ('Usage', 'Purchase') THEN 'Standard' END)"),
        "BilledCost": billed,
        "EffectiveCost": billed,
        "ListCost": f"(CASE WHEN {is_usage} THEN coalesce(cost_at_list, cost, 0) ELSE {billed} END)",
        "ContractedCost": f"(CASE WHEN {is_usage} THEN coalesce(cost, 0) ELSE {billed} END)",
        "PricingQuantity": f"(CASE WHEN {is_usage} THEN pricing_amount END)",
        "PricingUnit": f"(CASE WHEN {is_usage} THEN {unit_sql('pricing_unit')} END)",
        "ConsumedQuantity": f"(CASE WHEN {is_usage} THEN usage_amount END)",
        "ConsumedUnit": f"(CASE WHEN {is_usage} THEN {unit_sql('usage_unit')} END)",
        "CommitmentDiscountId": commitment_id,
        "CommitmentDiscountName": (f"(CASE WHEN {fee} THEN coalesce(offset_credit.full_name, sku) "
                                   f"WHEN cost_type = 'regular' THEN cud_credit.full_name END)"),
        "CommitmentDiscountCategory": (f"(CASE WHEN {commitment_id} IS NULL THEN NULL "
                                       f"WHEN {spend} THEN 'Spend' ELSE 'Usage' END)"),
        "CommitmentDiscountType": (f"(CASE WHEN {commitment_id} IS NOT NULL "
                                   f"THEN 'Committed Use Discount' END)"),
        "CommitmentDiscountStatus": f"(CASE WHEN {commitment_id} IS NOT NULL AND {is_usage} THEN 'Used' END)",
        "ServiceName": "coalesce(service, 'Google Cloud')",
        **service_categories("service", SERVICES),
        "RegionId": "region",
        "RegionName": "region",
        "AvailabilityZone": "zone",
        "ResourceId": "resource_global",
        "ResourceName": "coalesce(resource_name, regexp_extract(resource_global, '[^/]+$'))",
        "ResourceType": ("(CASE WHEN resource_global IS NOT NULL THEN coalesce(NULLIF(regexp_extract("
                         "resource_global, '/([^/]+)/[^/]+$', 1), ''), service) END)"),
        "SkuId": f"(CASE WHEN {category} <> 'Tax' THEN sku_id END)",
        "SkuMeter": f"(CASE WHEN {category} <> 'Tax' AND sku_id IS NOT NULL THEN sku END)",
        "Tags": "tags",
        "x_CostType": "cost_type",
        "x_Cost": "CAST(cost AS VARCHAR)",
        "x_Credits": "CAST(credits_total AS VARCHAR)",
        "x_InvoiceMonth": "invoice_month",
    }
    return staged_projection(reader, src, row)
