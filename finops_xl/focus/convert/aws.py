"""AWS Cost and Usage Report (legacy CUR and CUR 2.0) → FOCUS 1.2.

Column names: the legacy CUR writes ``category/Attribute`` (``lineItem/UnblendedCost``); CUR 2.0
writes the same attribute in snake case (``line_item_unblended_cost``), with tags in a
``resource_tags`` map (keys ``user_team``) and product attributes in a ``product`` map. Both are
read through one lookup: a legacy name is turned into its CUR 2.0 spelling (:func:`snake_name`), so
the mapping below is written once.

Mapping (AWS data dictionary, and AWS's documented amortized cost):

- **BilledCost** = ``line_item_unblended_cost``.
- **EffectiveCost**, per ``line_item_line_item_type``, as AWS defines amortized cost:
  DiscountedUsage → ``reservation_effective_cost``; SavingsPlanCoveredUsage →
  ``savings_plan_savings_plan_effective_cost``; SavingsPlanNegation, SavingsPlanUpfrontFee and the
  upfront ``Fee`` of a reservation → 0; everything else (Usage, discounts, credits, refunds, tax,
  other fees) → unblended cost. A RIFee row is the recurring purchase (EffectiveCost 0) and its
  unused part, ``reservation_unused_amortized_upfront_fee_for_billing_period +
  reservation_unused_recurring_fee``, becomes a separate Usage row with CommitmentDiscountStatus
  Unused; a SavingsPlanRecurringFee row likewise, with the unused commitment
  ``savings_plan_total_commitment_to_date − savings_plan_used_commitment``. So Σ EffectiveCost is
  AWS's amortized cost, and Σ BilledCost its unblended cost.
- **ChargeCategory**: usage line types → Usage; RIFee, Fee, SavingsPlanRecurringFee,
  SavingsPlanUpfrontFee → Purchase; Tax → Tax; Credit, Refund and discounts (EdpDiscount,
  PrivateRateDiscount, BundledDiscount, SppDiscount, RiVolumeDiscount, Discount) → Credit.
  **ChargeClass** Correction for a Credit/Refund whose usage lies before its billing period.
- **Commitment columns** from ``reservation_reservation_a_r_n`` / ``savings_plan_savings_plan_a_r_n``:
  reservations are CommitmentDiscountCategory Usage, type Reserved Instance; savings plans
  Spend, type Savings Plan.
- **BillingAccountId** is the payer account (``bill_payer_account_id``), as AWS's own FOCUS export
  does, so a month loaded from CUR and later from AWS's FOCUS export is the same store slice.
  SubAccountId is the usage account. **InvoiceId** = ``bill_invoice_id``. Account names come from
  ``bill_payer_account_name`` / ``line_item_usage_account_name`` (CUR 2.0); the legacy CUR has none,
  so the names repeat the ids.
- **ListCost** = ``pricing_public_on_demand_cost`` on usage rows, the billed cost on other rows.
"""

from __future__ import annotations

import re

from finops_xl.focus.convert.common import (
    Header, focus_projection, is_text, lit, money, q, row_select, service_categories,
    tags_object, text, timestamp, unit_sql,
)

#: Line item types that are usage, and what each becomes.
USAGE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation")
PURCHASE_TYPES = ("RIFee", "Fee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee")
CREDIT_TYPES = ("Credit", "Refund", "EdpDiscount", "PrivateRateDiscount", "BundledDiscount",
                "SppDiscount", "RiVolumeDiscount", "Discount", "DistributorDiscount")

#: line_item_product_code → FOCUS (ServiceCategory, ServiceSubcategory); unlisted codes are
#: (Other, Other (Other)).
SERVICES = {
    "AmazonEC2": ("Compute", "Virtual Machines"), "AWSLambda": ("Compute", "Serverless Compute"),
    "AmazonECS": ("Compute", "Containers"), "AmazonEKS": ("Compute", "Containers"),
    "AmazonS3": ("Storage", "Object Storage"), "AmazonEFS": ("Storage", "File Storage"),
    "AmazonGlacier": ("Storage", "Backup Storage"), "AWSBackup": ("Storage", "Backup Storage"),
    "AmazonRDS": ("Databases", "Relational Databases"), "AmazonDynamoDB": ("Databases", "NoSQL Databases"),
    "AmazonElastiCache": ("Databases", "Caching"), "AmazonRedshift": ("Databases", "Data Warehouses"),
    "AWSDataTransfer": ("Networking", "Network Connectivity"),
    "AmazonCloudFront": ("Networking", "Content Delivery"),
    "AmazonVPC": ("Networking", "Network Infrastructure"), "AmazonRoute53": ("Networking", "Network Routing"),
    "AWSELB": ("Networking", "Application Networking"),
    "AmazonCloudWatch": ("Management and Governance", "Observability"),
    "AWSCloudTrail": ("Management and Governance", "Compliance"),
    "AWSConfig": ("Management and Governance", "Compliance"),
    "ComputeSavingsPlans": ("Compute", "Other (Compute)"),
    "AmazonSageMaker": ("AI and Machine Learning", "Machine Learning"),
    "AmazonBedrock": ("AI and Machine Learning", "Generative AI"),
    "AmazonAthena": ("Analytics", "Data Processing"), "AmazonKinesis": ("Analytics", "Streaming Analytics"),
    "AWSGlue": ("Analytics", "Data Processing"),
    "AWSSupportBusiness": ("Management and Governance", "Support"),
    "AWSSupportEnterprise": ("Management and Governance", "Support"),
    "AmazonGuardDuty": ("Security", "Threat Detection and Response"),
    "awskms": ("Security", "Secret Management"),
}

_LEGACY_MARKER = "lineItem/LineItemType"
_CUR2_MARKER = "line_item_line_item_type"


def snake_name(legacy: str) -> str:
    """CUR 2.0 spelling of a legacy CUR column: ``reservation/ReservationARN`` →
    ``reservation_reservation_a_r_n`` (every capital starts a new word, as AWS maps them)."""
    category, _, attribute = legacy.partition("/")

    def snake(part: str) -> str:
        return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), part).lstrip("_").lower()

    return f"{snake(category)}_{snake(attribute)}"


def is_legacy(names: list[str]) -> bool:
    return any(n.lower() == _LEGACY_MARKER.lower() for n in names)


def is_cur2(names: list[str]) -> bool:
    return any(n.lower() == _CUR2_MARKER for n in names)


class _Columns:
    """Look up a CUR column by its CUR 2.0 name in a legacy or 2.0 header."""

    def __init__(self, header: Header):
        self.header = header
        self.by_snake: dict[str, str] = {}
        for name, _ in header.columns:
            key = snake_name(name) if "/" in name else name.lower()
            self.by_snake.setdefault(key, name)

    def _real(self, names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.by_snake[n] for n in names if n in self.by_snake)

    def text(self, *names: str) -> str:
        real = self._real(names)
        return text(self.header, *real) if real else "CAST(NULL AS VARCHAR)"

    def money(self, *names: str) -> str:
        real = self._real(names)
        return money(self.header, *real) if real else "CAST(NULL AS DECIMAL(38,12))"

    def timestamp(self, *names: str) -> str:
        real = self._real(names)
        return timestamp(self.header, *real) if real else "CAST(NULL AS TIMESTAMP)"

    def product(self, attribute: str) -> str:
        """A product attribute: its own column (legacy ``product/region``; CUR 2.0
        ``product_region_code``) or the key of CUR 2.0's ``product`` map."""
        direct = self._real((f"product_{attribute}",))
        if direct:
            return text(self.header, *direct)
        m = self.header.find("product")
        if m is None:
            return "CAST(NULL AS VARCHAR)"
        if is_text(self.header.type_of(m)):  # the map written as JSON text (CUR 2.0 as CSV)
            return f"NULLIF(trim(json_extract_string(TRY_CAST({q(m)} AS JSON), {lit('$.' + attribute)})), '')"
        return f"NULLIF(trim(element_at({q(m)}, {lit(attribute)})[1]), '')"

    def tags(self) -> str:
        """SQL for the Tags JSON object: user tags by their name (``user:Team`` → ``Team``), AWS tags
        with their ``aws:`` prefix."""
        pairs = []
        for name, _ in self.header.columns:
            if name.lower().startswith("resourcetags/"):
                key = name.split("/", 1)[1]
                key = key[5:] if key.startswith("user:") else key
                pairs.append(f"struct_pack(key := {lit(key)}, value := NULLIF(trim({q(name)}), ''))")
        m = self.header.find("resource_tags")
        if m is not None:
            t = self.header.type_of(m)
            col = (f"TRY_CAST(TRY_CAST(NULLIF(trim({q(m)}), '') AS JSON) AS MAP(VARCHAR, VARCHAR))"
                   if is_text(t) else q(m))
            entries = (f"list_transform(map_entries({col}), lambda e: struct_pack("
                       f"key := CASE WHEN starts_with(e.key, 'user_') THEN e.key[6:] ELSE e.key END, "
                       f"value := NULLIF(e.value, '')))")
            return tags_object(f"coalesce({entries}, [])")
        if not pairs:
            return "CAST(NULL AS VARCHAR)"
        return tags_object(f"[{', '.join(pairs)}]")


def focus_sql(header: Header, reader: str) -> str:
    """SQL turning CUR rows read by ``reader`` into FOCUS 1.2 rows (see the module docstring)."""
    c = _Columns(header)
    src = {
        "line_id": c.text("identity_line_item_id"),
        "payer": c.text("bill_payer_account_id"),
        "payer_name": c.text("bill_payer_account_name"),
        "invoice_id": c.text("bill_invoice_id"),
        "invoicing_entity": c.text("bill_invoicing_entity"),
        "billing_entity": c.text("bill_billing_entity"),
        "bp_start": c.timestamp("bill_billing_period_start_date"),
        "bp_end": c.timestamp("bill_billing_period_end_date"),
        "account": c.text("line_item_usage_account_id"),
        "account_name": c.text("line_item_usage_account_name"),
        "type": c.text("line_item_line_item_type"),
        "usage_start": c.timestamp("line_item_usage_start_date"),
        "usage_end": c.timestamp("line_item_usage_end_date"),
        "product_code": c.text("line_item_product_code"),
        "product_name": f"coalesce({c.product('product_name')}, {c.text('line_item_product_code')})",
        "usage_type": c.text("line_item_usage_type"),
        "operation": c.text("line_item_operation"),
        "resource_id": c.text("line_item_resource_id"),
        "amount": c.money("line_item_usage_amount"),
        "unit": unit_sql(c.text("pricing_unit")),
        "currency": f"upper({c.text('line_item_currency_code')})",
        "description": c.text("line_item_line_item_description"),
        "legal_entity": c.text("line_item_legal_entity"),
        "az": c.text("line_item_availability_zone"),
        "region": f"coalesce({c.product('region_code')}, {c.product('region')})",
        "location": c.product("location"),
        "sku": c.product("sku"),
        "product_family": c.product("product_family"),
        "term": c.text("pricing_term"),
        "unblended": c.money("line_item_unblended_cost"),
        "unblended_rate": c.money("line_item_unblended_rate"),
        "public_cost": c.money("pricing_public_on_demand_cost"),
        "public_rate": c.money("pricing_public_on_demand_rate"),
        "ri_arn": c.text("reservation_reservation_a_r_n"),
        "ri_effective": c.money("reservation_effective_cost"),
        "ri_unused": (f"coalesce({c.money('reservation_unused_amortized_upfront_fee_for_billing_period')}, 0) "
                      f"+ coalesce({c.money('reservation_unused_recurring_fee')}, 0)"),
        "sp_arn": c.text("savings_plan_savings_plan_a_r_n"),
        "sp_effective": c.money("savings_plan_savings_plan_effective_cost"),
        "sp_unused": (f"coalesce({c.money('savings_plan_total_commitment_to_date')}, 0) "
                      f"- coalesce({c.money('savings_plan_used_commitment')}, 0)"),
        "tags": c.tags(),
    }
    usage = ", ".join(lit(t) for t in USAGE_TYPES)
    purchase = ", ".join(lit(t) for t in PURCHASE_TYPES)
    credit = ", ".join(lit(t) for t in CREDIT_TYPES)
    commitment_id = ("(CASE WHEN type IN ('DiscountedUsage', 'RIFee') OR (type = 'Fee' AND ri_arn IS NOT NULL) "
                     "THEN ri_arn WHEN type LIKE 'SavingsPlan%' THEN sp_arn END)")
    is_ri = "(type IN ('DiscountedUsage', 'RIFee') OR (type = 'Fee' AND ri_arn IS NOT NULL))"
    effective = (
        "(CASE type WHEN 'DiscountedUsage' THEN coalesce(ri_effective, 0) "
        "WHEN 'SavingsPlanCoveredUsage' THEN coalesce(sp_effective, 0) "
        "WHEN 'RIFee' THEN 0 WHEN 'SavingsPlanRecurringFee' THEN 0 "
        "WHEN 'SavingsPlanNegation' THEN 0 WHEN 'SavingsPlanUpfrontFee' THEN 0 "
        "WHEN 'Fee' THEN (CASE WHEN ri_arn IS NOT NULL THEN 0 ELSE coalesce(unblended, 0) END) "
        "ELSE coalesce(unblended, 0) END)"
    )
    category = (f"(CASE WHEN type IN ({usage}) THEN 'Usage' WHEN type IN ({purchase}) THEN 'Purchase' "
                f"WHEN type = 'Tax' THEN 'Tax' WHEN type IN ({credit}) THEN 'Credit' "
                f"ELSE 'Adjustment' END)")
    is_usage = f"type IN ({usage})"
    row = {
        "ProviderName": "'AWS'",
        "PublisherName": ("(CASE WHEN billing_entity = 'AWS Marketplace' "
                          "THEN coalesce(legal_entity, 'AWS Marketplace') ELSE 'AWS' END)"),
        "InvoiceIssuerName": "'AWS'",
        "BillingAccountId": "payer",
        "BillingAccountName": "coalesce(payer_name, payer)",
        "BillingAccountType": "'Billing Account'",
        "SubAccountId": "account",
        "SubAccountName": "coalesce(account_name, account)",
        "SubAccountType": "'Account'",
        "InvoiceId": "invoice_id",
        "BillingCurrency": "currency",
        "BillingPeriodStart": "bp_start",
        "BillingPeriodEnd": "bp_end",
        "ChargePeriodStart": "usage_start",
        "ChargePeriodEnd": "usage_end",
        "ChargeCategory": category,
        "ChargeClass": (f"(CASE WHEN type IN ({credit}) AND usage_start < bp_start "
                        "THEN 'Correction' END)"),
        "ChargeDescription": "description",
        "ChargeFrequency": (f"(CASE WHEN type IN ({usage}) THEN 'Usage-Based' "
                            "WHEN type IN ('RIFee', 'SavingsPlanRecurringFee') THEN 'Recurring' "
                            "WHEN type IN ('Fee', 'SavingsPlanUpfrontFee', 'Credit', 'Refund') "
                            "THEN 'One-Time' WHEN type = 'Tax' THEN 'Recurring' "
                            "ELSE 'Usage-Based' END)"),
        "PricingCategory": (f"(CASE WHEN type IN ('DiscountedUsage', 'SavingsPlanCoveredUsage', "
                            f"'SavingsPlanNegation') THEN 'Committed' "
                            f"WHEN type = 'Usage' AND (term = 'Spot' OR usage_type LIKE '%SpotUsage%') "
                            f"THEN 'Dynamic' WHEN type = 'Usage' THEN 'Standard' "
                            f"WHEN type IN ({purchase}) THEN 'Standard' END)"),
        "BilledCost": "coalesce(unblended, 0)",
        "EffectiveCost": effective,
        "ListCost": (f"(CASE WHEN type = 'SavingsPlanNegation' THEN 0 "
                     f"WHEN type IN ({usage}) THEN coalesce(public_cost, unblended, 0) "
                     f"ELSE coalesce(unblended, 0) END)"),
        "ContractedCost": ("(CASE WHEN type = 'SavingsPlanNegation' THEN 0 "
                           "WHEN type = 'DiscountedUsage' THEN coalesce(public_cost, 0) "
                           "ELSE coalesce(unblended, 0) END)"),
        "PricingQuantity": f"(CASE WHEN {is_usage} THEN amount END)",
        "PricingUnit": f"(CASE WHEN {is_usage} THEN unit END)",
        "ConsumedQuantity": f"(CASE WHEN {is_usage} THEN amount END)",
        "ConsumedUnit": f"(CASE WHEN {is_usage} THEN unit END)",
        "CommitmentDiscountId": commitment_id,
        "CommitmentDiscountCategory": (f"(CASE WHEN {commitment_id} IS NULL THEN NULL "
                                       f"WHEN {is_ri} THEN 'Usage' ELSE 'Spend' END)"),
        "CommitmentDiscountType": (f"(CASE WHEN {commitment_id} IS NULL THEN NULL "
                                   f"WHEN {is_ri} THEN 'Reserved Instance' ELSE 'Savings Plan' END)"),
        "CommitmentDiscountStatus": (f"(CASE WHEN {commitment_id} IS NOT NULL AND {is_usage} "
                                     "THEN 'Used' END)"),
        "ServiceName": "product_name",
        **service_categories("product_code", SERVICES),
        "RegionId": "region",
        "RegionName": "(CASE WHEN region IS NOT NULL THEN location END)",
        "AvailabilityZone": "az",
        "ResourceId": "resource_id",
        "ResourceType": "(CASE WHEN resource_id IS NOT NULL THEN coalesce(product_family, product_code) END)",
        "SkuId": "(CASE WHEN type <> 'Tax' THEN sku END)",
        "SkuMeter": "(CASE WHEN type <> 'Tax' AND sku IS NOT NULL THEN coalesce(usage_type, product_code) END)",
        "Tags": "tags",
        "x_LineItemType": "type",
        "x_UsageType": "usage_type",
        "x_Operation": "operation",
        "x_LineItemId": "line_id",
        "x_InvoicingEntity": "invoicing_entity",
    }
    unused = dict(row)
    unused.update({
        "ChargeCategory": "'Usage'",
        "ChargeClass": "NULL",
        "ChargeFrequency": "'Usage-Based'",
        "ChargeDescription": ("(CASE type WHEN 'RIFee' THEN 'Unused reservation: ' "
                              "ELSE 'Unused savings plan commitment: ' END) || coalesce(description, '')"),
        "PricingCategory": "'Committed'",
        "BilledCost": "0",
        "EffectiveCost": "(CASE type WHEN 'RIFee' THEN ri_unused ELSE sp_unused END)",
        "ListCost": "0",
        "ContractedCost": "0",
        "PricingQuantity": "NULL", "PricingUnit": "NULL", "ConsumedQuantity": "NULL", "ConsumedUnit": "NULL",
        "CommitmentDiscountStatus": "'Unused'",
        "CommitmentDiscountCategory": (f"(CASE WHEN {is_ri} THEN 'Usage' ELSE 'Spend' END)"),
        "CommitmentDiscountType": (f"(CASE WHEN {is_ri} THEN 'Reserved Instance' ELSE 'Savings Plan' END)"),
        "x_LineItemType": "type || '/Unused'",
    })
    lines = f"SELECT {row_select(src)} FROM {reader}"
    converted = (
        f"WITH cur AS ({lines}) "
        f"SELECT {row_select(row)} FROM cur "
        f"UNION ALL "
        f"SELECT {row_select(unused)} FROM cur "
        f"WHERE (type = 'RIFee' AND ri_unused <> 0) OR (type = 'SavingsPlanRecurringFee' AND sp_unused <> 0)"
    )
    return focus_projection(converted, list(row))
