"""AWS Cost and Usage Report (legacy CUR, its Athena layout, and CUR 2.0) → FOCUS 1.2.

Column names: the legacy CUR writes ``category/Attribute`` (``lineItem/UnblendedCost``); its Athena
layout and CUR 2.0 write the same attribute in snake case (``line_item_unblended_cost``); tags,
cost categories and product attributes are columns in the first two and maps in CUR 2.0. All are
read through one lookup (:mod:`finops_xl.focus.convert.aws_columns`), so the mapping below is
written once.

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
- **SkuPriceId** = ``pricing_rate_code`` (else ``pricing_rate_id``), except on Tax rows;
  **SkuPriceDetails** (only with a SkuPriceId, as FOCUS requires) carries FOCUS's ``InstanceType``
  (``product_instance_type``) and the offer's terms:
  ``x_Term`` (``pricing_lease_contract_length``; ``savings_plan_purchase_term`` on savings plan
  rows), ``x_PaymentOption`` (``pricing_purchase_option`` / ``savings_plan_payment_option``),
  ``x_OfferingClass`` (reservations) and ``x_OfferingType`` (savings plans), as AWS writes them
  (``3yr``, ``Partial Upfront``). The commitment's own dates are not a property of a price, so
  they are columns: ``x_CommitmentDiscountStart`` / ``x_CommitmentDiscountEnd`` from
  ``reservation_start_time`` … ``savings_plan_end_time``, as written.
- **Tags**: user tags by name, AWS tags with their prefix. **x_CostCategories**: the cost categories
  as a JSON object. They are not Tags: FOCUS Tags are the tags of a tag source (resource, account),
  while a cost category is a rule AWS evaluates over the bill, and its name may equal a tag's
  (``CostCenter``), which one Tags object could not hold twice. AWS's own FOCUS 1.0 export keeps
  them apart the same way, in a column of the same name.
- **RegionName** = ``product_location``, else the region's name from :data:`REGION_NAMES`.
"""

from __future__ import annotations

from decimal import Decimal

from finops_xl.focus.convert.aws_columns import (  # noqa: F401 - re-exported for the format detection
    Columns, is_athena, is_cur2, is_legacy, snake_name,
)
from finops_xl.focus.convert.common import (
    Header, case_map, focus_projection, lit, row_select, service_categories, tags_object, unit_sql,
)
from finops_xl.errors import Notice

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

#: AWS region code → its name as the AWS price list writes ``product/location``: RegionName when a
#: row states the region but not the location (e.g. Marketplace rows).
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
    "af-south-1": "Africa (Cape Town)", "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-south-1": "Asia Pacific (Mumbai)", "ap-south-2": "Asia Pacific (Hyderabad)",
    "ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-southeast-3": "Asia Pacific (Jakarta)", "ap-southeast-4": "Asia Pacific (Melbourne)",
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)", "ca-central-1": "Canada (Central)",
    "ca-west-1": "Canada West (Calgary)", "eu-central-1": "EU (Frankfurt)", "eu-central-2": "EU (Zurich)",
    "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
    "eu-north-1": "EU (Stockholm)", "eu-south-1": "EU (Milan)", "eu-south-2": "EU (Spain)",
    "il-central-1": "Israel (Tel Aviv)", "me-south-1": "Middle East (Bahrain)",
    "me-central-1": "Middle East (UAE)", "sa-east-1": "South America (Sao Paulo)",
    "us-gov-west-1": "AWS GovCloud (US-West)", "us-gov-east-1": "AWS GovCloud (US-East)",
}

def focus_sql(header: Header, reader: str) -> str:
    """SQL turning CUR rows read by ``reader`` into FOCUS 1.2 rows (see the module docstring)."""
    c = Columns(header)
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
        "instance_type": c.product("instance_type"),
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
        "cost_categories": c.cost_categories(),
        "rate_code": c.text("pricing_rate_code", "pricing_rate_id"),
        "lease": c.text("pricing_lease_contract_length"),
        "purchase_option": c.text("pricing_purchase_option"),
        "offering_class": c.text("pricing_offering_class"),
        "ri_start": c.text("reservation_start_time"),
        "ri_end": c.text("reservation_end_time"),
        "sp_term": c.text("savings_plan_purchase_term"),
        "sp_payment": c.text("savings_plan_payment_option"),
        "sp_offering": c.text("savings_plan_offering_type"),
        "sp_start": c.text("savings_plan_start_time"),
        "sp_end": c.text("savings_plan_end_time"),
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
    is_sp = "(type LIKE 'SavingsPlan%')"
    sku_price_id = "(CASE WHEN type <> 'Tax' THEN rate_code END)"
    # the offer's terms (a property of the price, so SkuPriceDetails; FOCUS: null without SkuPriceId)
    terms = [("InstanceType", "instance_type"),  # a FOCUS-defined property
             ("x_Term", f"(CASE WHEN {is_sp} THEN coalesce(sp_term, lease) ELSE lease END)"),
             ("x_PaymentOption", f"(CASE WHEN {is_sp} THEN coalesce(sp_payment, purchase_option) "
                                 f"ELSE purchase_option END)"),
             ("x_OfferingClass", f"(CASE WHEN {is_sp} THEN NULL ELSE offering_class END)"),
             ("x_OfferingType", f"(CASE WHEN {is_sp} THEN sp_offering END)")]
    details = tags_object("[" + ", ".join(f"struct_pack(key := {lit(k)}, value := {v})" for k, v in terms) + "]")
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
        "RegionName": f"(CASE WHEN region IS NOT NULL THEN coalesce(location, {case_map('region', REGION_NAMES)}) END)",
        "AvailabilityZone": "az",
        "ResourceId": "resource_id",
        "ResourceType": "(CASE WHEN resource_id IS NOT NULL THEN coalesce(product_family, product_code) END)",
        "SkuId": "(CASE WHEN type <> 'Tax' THEN sku END)",
        "SkuMeter": "(CASE WHEN type <> 'Tax' AND sku IS NOT NULL THEN coalesce(usage_type, product_code) END)",
        "SkuPriceId": sku_price_id,
        "SkuPriceDetails": f"(CASE WHEN {sku_price_id} IS NOT NULL THEN {details} END)",
        "Tags": "tags",
        "x_CostCategories": "cost_categories",
        # the commitment's own dates (not a property of its price): reservation / savings plan
        # StartTime and EndTime as the export writes them
        "x_CommitmentDiscountStart": (f"(CASE WHEN {commitment_id} IS NULL THEN NULL "
                                      f"WHEN {is_ri} THEN ri_start ELSE sp_start END)"),
        "x_CommitmentDiscountEnd": (f"(CASE WHEN {commitment_id} IS NULL THEN NULL "
                                    f"WHEN {is_ri} THEN ri_end ELSE sp_end END)"),
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


def notices(con, group) -> list[Notice]:
    """What the load must say about a CUR group: savings-plan covered usage whose on-demand cost no
    SavingsPlanNegation row offsets (per payer, billing period and currency). AWS writes one
    negation per covered line, so the pair bills nothing and the plan's fee is billed instead; without
    the negations (an incomplete or hand-made export) BilledCost keeps the on-demand cost as the file
    states it, and the user must know how much that is."""
    rows = con.execute(f"""
        SELECT BillingAccountId, strftime(BillingPeriodStart, '%Y-%m'), BillingCurrency,
               count(*) FILTER (WHERE x_LineItemType = 'SavingsPlanCoveredUsage'),
               sum(BilledCost) FILTER (WHERE x_LineItemType IN ('SavingsPlanCoveredUsage', 'SavingsPlanNegation'))
        FROM ({group.focus_sql()})
        WHERE x_LineItemType IN ('SavingsPlanCoveredUsage', 'SavingsPlanNegation')
        GROUP BY ALL
        HAVING sum(BilledCost) <> 0 AND count(*) FILTER (WHERE x_LineItemType = 'SavingsPlanCoveredUsage') > 0
        ORDER BY ALL""").fetchall()
    return [Notice(group.label, (
        f"{n:,} SavingsPlanCoveredUsage rows of payer account {payer}, billing period {month}, keep "
        f"{amount:,.2f} {currency} of on-demand cost that no SavingsPlanNegation row offsets: BilledCost "
        f"is the file's lineItem/UnblendedCost as written, EffectiveCost the savings plan's effective "
        f"cost. AWS's own export offsets each covered line; check that every part of the month's "
        f"export was loaded"), column="lineItem/LineItemType", value="SavingsPlanCoveredUsage",
        amount=Decimal(amount), currency=currency) for payer, month, currency, n, amount in rows]
