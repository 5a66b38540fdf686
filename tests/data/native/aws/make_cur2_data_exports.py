"""Write ``cur2-data-exports-2025-03.parquet`` (run once; the output is committed).

An AWS Data Exports "CUR 2.0" table as AWS documents it (Data Exports table dictionary, CUR 2.0:
bill, identity, line item, pricing, product, reservation, resource tags, savings plan and cost
category columns), written with pyarrow with the documented types: costs and rates ``double``,
period and usage dates ``timestamp``, reservation and savings plan start/end times ``string`` (as the
dictionary types them), and the ``product``, ``resource_tags`` and ``cost_category`` columns as
``map<string, string>``.

One payer account whose id starts with a zero, billed in EUR, one month (2025-03):

- on-demand EC2 and S3 usage, tagged (``user_team``, ``user_cost_center``, ``aws_created_by``);
- a 3-year, partial-upfront, standard reserved instance: its DiscountedUsage and its RIFee with the
  unused part (``pricing_lease_contract_length`` 3yr, ``pricing_purchase_option``,
  ``pricing_offering_class``, ``reservation_start_time`` / ``reservation_end_time``);
- a 1-year, no-upfront compute savings plan: SavingsPlanCoveredUsage, SavingsPlanNegation and its
  SavingsPlanRecurringFee (``savings_plan_purchase_term`` 1yr, ``savings_plan_payment_option``,
  ``savings_plan_start_time`` / ``savings_plan_end_time``);
- a credit and tax.

The amounts are made up but consistent the way AWS's are: the RI's recurring fee = its used
effective cost + its unused recurring fee; the savings plan's commitment = used + unused commitment.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
OUT = HERE / "cur2-data-exports-2025-03.parquet"

PAYER = "012345678901"
ACCOUNT = "098765432109"
RI = "arn:aws:ec2:eu-west-1:012345678901:reserved-instances/a1b2c3d4-0000-4e5f-9a8b-00000000cafe"
SP = "arn:aws:savingsplans::012345678901:savingsplan/5e6f7a8b-0000-4c3d-8e9f-00000000beef"
START, END = dt.datetime(2025, 3, 1), dt.datetime(2025, 4, 1)
DAY = dt.datetime(2025, 3, 10), dt.datetime(2025, 3, 11)

#: column → Arrow type, in the table dictionary's order.
STRING, DOUBLE, TS = pa.string(), pa.float64(), pa.timestamp("ms")
MAP = pa.map_(pa.string(), pa.string())
COLUMNS = {
    "bill_bill_type": STRING, "bill_billing_entity": STRING, "bill_billing_period_end_date": TS,
    "bill_billing_period_start_date": TS, "bill_invoice_id": STRING, "bill_invoicing_entity": STRING,
    "bill_payer_account_id": STRING, "bill_payer_account_name": STRING,
    "cost_category": MAP,
    "identity_line_item_id": STRING, "identity_time_interval": STRING,
    "line_item_availability_zone": STRING, "line_item_blended_cost": DOUBLE,
    "line_item_blended_rate": STRING, "line_item_currency_code": STRING,
    "line_item_legal_entity": STRING, "line_item_line_item_description": STRING,
    "line_item_line_item_type": STRING, "line_item_net_unblended_cost": DOUBLE,
    "line_item_normalization_factor": DOUBLE, "line_item_normalized_usage_amount": DOUBLE,
    "line_item_operation": STRING, "line_item_product_code": STRING, "line_item_resource_id": STRING,
    "line_item_tax_type": STRING, "line_item_unblended_cost": DOUBLE, "line_item_unblended_rate": STRING,
    "line_item_usage_account_id": STRING, "line_item_usage_account_name": STRING,
    "line_item_usage_amount": DOUBLE, "line_item_usage_end_date": TS, "line_item_usage_start_date": TS,
    "line_item_usage_type": STRING,
    "pricing_currency": STRING, "pricing_lease_contract_length": STRING, "pricing_offering_class": STRING,
    "pricing_public_on_demand_cost": DOUBLE, "pricing_public_on_demand_rate": STRING,
    "pricing_purchase_option": STRING, "pricing_rate_code": STRING, "pricing_rate_id": STRING,
    "pricing_term": STRING, "pricing_unit": STRING,
    "product": MAP,
    "product_fee_code": STRING, "product_from_location": STRING, "product_instance_family": STRING,
    "product_instance_type": STRING, "product_location": STRING, "product_location_type": STRING,
    "product_operation": STRING, "product_product_family": STRING, "product_region_code": STRING,
    "product_servicecode": STRING, "product_sku": STRING, "product_usagetype": STRING,
    "reservation_amortized_upfront_cost_for_usage": DOUBLE,
    "reservation_amortized_upfront_fee_for_billing_period": DOUBLE,
    "reservation_effective_cost": DOUBLE, "reservation_end_time": STRING,
    "reservation_modification_status": STRING, "reservation_number_of_reservations": STRING,
    "reservation_recurring_fee_for_usage": DOUBLE, "reservation_reservation_a_r_n": STRING,
    "reservation_start_time": STRING, "reservation_subscription_id": STRING,
    "reservation_unused_amortized_upfront_fee_for_billing_period": DOUBLE,
    "reservation_unused_quantity": DOUBLE, "reservation_unused_recurring_fee": DOUBLE,
    "reservation_upfront_value": DOUBLE,
    "resource_tags": MAP,
    "savings_plan_amortized_upfront_commitment_for_billing_period": DOUBLE,
    "savings_plan_end_time": STRING, "savings_plan_instance_type_family": STRING,
    "savings_plan_offering_type": STRING, "savings_plan_payment_option": STRING,
    "savings_plan_purchase_term": STRING, "savings_plan_recurring_commitment_for_billing_period": DOUBLE,
    "savings_plan_region": STRING, "savings_plan_savings_plan_a_r_n": STRING,
    "savings_plan_savings_plan_effective_cost": DOUBLE, "savings_plan_savings_plan_rate": DOUBLE,
    "savings_plan_start_time": STRING, "savings_plan_total_commitment_to_date": DOUBLE,
    "savings_plan_used_commitment": DOUBLE,
}

EC2 = {"product_name": "Amazon Elastic Compute Cloud", "servicename": "Amazon Elastic Compute Cloud",
       "region": "eu-west-1", "operating_system": "Linux", "tenancy": "Shared"}
S3 = {"product_name": "Amazon Simple Storage Service", "servicename": "Amazon Simple Storage Service",
      "region": "eu-west-1", "storage_class": "General Purpose"}
TAX = {"product_name": "Amazon Elastic Compute Cloud"}


def _row(n: int, type_: str, code: str, usage_type: str, cost: float, desc: str, *, amount: float = 0.0,
         rate: str = "", product: dict | None = None, period=DAY, resource: str | None = None,
         tags: dict | None = None, sku: str | None = None, rate_code: str | None = None,
         public: float | None = None, unit: str | None = "Hrs", **extra) -> dict:
    r = {c: None for c in COLUMNS}
    r.update({
        "bill_bill_type": "Anniversary", "bill_billing_entity": "AWS",
        "bill_billing_period_start_date": START, "bill_billing_period_end_date": END,
        "bill_invoice_id": "EUINIE25-123456", "bill_invoicing_entity": "Amazon Web Services EMEA SARL",
        "bill_payer_account_id": PAYER, "bill_payer_account_name": "Example GmbH management",
        "cost_category": [("cost_center", "CC-4711"), ("environment", "production")],
        "identity_line_item_id": f"li{n:04d}", "identity_time_interval":
            f"{period[0]:%Y-%m-%dT%H:%M:%SZ}/{period[1]:%Y-%m-%dT%H:%M:%SZ}",
        "line_item_blended_cost": cost, "line_item_blended_rate": rate, "line_item_currency_code": "EUR",
        "line_item_legal_entity": "Amazon Web Services EMEA SARL", "line_item_line_item_description": desc,
        "line_item_line_item_type": type_, "line_item_net_unblended_cost": cost,
        "line_item_operation": "RunInstances" if code == "AmazonEC2" else "",
        "line_item_product_code": code, "line_item_resource_id": resource,
        "line_item_unblended_cost": cost, "line_item_unblended_rate": rate,
        "line_item_usage_account_id": ACCOUNT, "line_item_usage_account_name": "shop-prod",
        "line_item_usage_amount": amount, "line_item_usage_start_date": period[0],
        "line_item_usage_end_date": period[1], "line_item_usage_type": usage_type,
        "line_item_availability_zone": "eu-west-1a" if resource else "",
        "pricing_currency": "EUR", "pricing_public_on_demand_cost": cost if public is None else public,
        "pricing_rate_code": rate_code, "pricing_term": "OnDemand", "pricing_unit": unit,
        "product": list((product or {}).items()), "product_servicecode": code,
        "product_region_code": "eu-west-1", "product_location": "EU (Ireland)",
        "product_location_type": "AWS Region", "product_sku": sku, "product_usagetype": usage_type,
        "resource_tags": list((tags or {}).items()),
    })
    r.update(extra)
    return r


def rows() -> list[dict]:
    web = {"user_team": "web", "user_cost_center": "4711", "aws_created_by": "IAMUser:ops"}
    ri = dict(reservation_reservation_a_r_n=RI, reservation_start_time="2024-03-01T00:00:00.000Z",
              reservation_end_time="2027-03-01T00:00:00.000Z", pricing_lease_contract_length="3yr",
              pricing_purchase_option="Partial Upfront", pricing_offering_class="standard",
              pricing_term="Reserved")
    sp = dict(savings_plan_savings_plan_a_r_n=SP, savings_plan_start_time="2025-01-01T00:00:00.000Z",
              savings_plan_end_time="2026-01-01T00:00:00.000Z", savings_plan_purchase_term="1yr",
              savings_plan_payment_option="No Upfront", savings_plan_offering_type="ComputeSavingsPlans",
              savings_plan_region="Any")
    return [
        _row(1, "Usage", "AmazonEC2", "EU-BoxUsage:m6i.large", 2.304, "EUR 0.096 per On Demand Linux "
             "m6i.large Instance Hour", amount=24, rate="0.096", product=EC2, resource="i-0a1b2c3d4e5f00001",
             tags=web, sku="8D82XZE2MKCV7BKA", rate_code="8D82XZE2MKCV7BKA.JRTCKXETXF.6YS6EN2CT7",
             product_instance_type="m6i.large", product_product_family="Compute Instance"),
        _row(2, "Usage", "AmazonS3", "EU-TimedStorage-ByteHrs", 11.5, "EUR 0.023 per GB-Month of storage",
             amount=500, rate="0.023", product=S3, resource="example-shop-assets", tags=web, unit="GB-Mo",
             sku="WP9ANXZGBYYSGJEA", rate_code="WP9ANXZGBYYSGJEA.JRTCKXETXF.PGHJ3S3EYE",
             product_product_family="Storage"),
        # reservation: 24 h used at an effective 0.058/h; its recurring fee covers 744 h at 0.035
        _row(3, "DiscountedUsage", "AmazonEC2", "EU-BoxUsage:m6i.xlarge", 0.0, "Linux/UNIX (Amazon VPC), "
             "m6i.xlarge reserved instance applied", amount=24, rate="0", product=EC2,
             resource="i-0a1b2c3d4e5f00002", tags={"user_team": "data"}, sku="QG5G45WKDWDDHTFV",
             rate_code="QG5G45WKDWDDHTFV.38NPMPTW36.6YS6EN2CT7", public=4.608,
             reservation_effective_cost=1.392, reservation_recurring_fee_for_usage=0.84,
             reservation_amortized_upfront_cost_for_usage=0.552, product_instance_type="m6i.xlarge",
             product_product_family="Compute Instance", **ri),
        _row(4, "RIFee", "AmazonEC2", "EU-HeavyUsage:m6i.xlarge", 26.04, "EUR 0.035 hourly fee per Linux/UNIX "
             "(Amazon VPC), m6i.xlarge instance", amount=744, rate="0.035", product=EC2, period=(START, END),
             sku="QG5G45WKDWDDHTFV", rate_code="QG5G45WKDWDDHTFV.38NPMPTW36.6YS6EN2CT7", public=0.0,
             reservation_amortized_upfront_fee_for_billing_period=17.112,
             reservation_unused_amortized_upfront_fee_for_billing_period=16.56,
             reservation_unused_recurring_fee=25.2, reservation_unused_quantity=720,
             reservation_number_of_reservations="1", reservation_upfront_value=613.2,
             product_instance_type="m6i.xlarge", product_product_family="Compute Instance", **ri),
        # savings plan: 10 h of c7g.large covered (on-demand 0.0862/h, SP rate 0.06)
        _row(5, "SavingsPlanCoveredUsage", "AmazonEC2", "EU-BoxUsage:c7g.large", 0.862,
             "Savings Plan applied to c7g.large", amount=10, rate="0.0862", product=EC2,
             resource="i-0a1b2c3d4e5f00003", tags={"user_team": "api"}, sku="ZR3PDFTRSBA8HY5W",
             rate_code="ZR3PDFTRSBA8HY5W.JRTCKXETXF.6YS6EN2CT7",
             savings_plan_savings_plan_effective_cost=0.6, savings_plan_savings_plan_rate=0.06, **sp),
        _row(6, "SavingsPlanNegation", "AmazonEC2", "EU-BoxUsage:c7g.large", -0.862,
             "SavingsPlanNegation used by AccountId : 098765432109 and UsageSku : ZR3PDFTRSBA8HY5W",
             amount=10, rate="-0.0862", product=EC2, resource="i-0a1b2c3d4e5f00003", public=0.0,
             sku="ZR3PDFTRSBA8HY5W", rate_code="ZR3PDFTRSBA8HY5W.JRTCKXETXF.6YS6EN2CT7", **sp),
        _row(7, "SavingsPlanRecurringFee", "ComputeSavingsPlans", "ComputeSP:1yrNoUpfront", 7.44,
             "1 year No Upfront Compute Savings Plan", amount=744, rate="0.01", period=(START, END),
             product={"product_name": "Savings Plans for AWS Compute usage"}, unit=None, public=0.0,
             sku="5QJ3JTFZCPXKBXRC", rate_code="5QJ3JTFZCPXKBXRC.NUFHXHJ2QN",
             savings_plan_total_commitment_to_date=7.44, savings_plan_used_commitment=0.6,
             savings_plan_recurring_commitment_for_billing_period=7.44, **sp),
        _row(8, "Credit", "AmazonEC2", "EU-BoxUsage:m6i.large", -1.25, "AWS Activate credit", period=(START, END),
             product=EC2, unit=None, public=0.0),
        _row(9, "Tax", "AmazonEC2", "", 1.94, "Tax for product code AmazonEC2", period=(START, END),
             product=TAX, unit=None, public=0.0, line_item_tax_type="VAT",
             cost_category=[("cost_center", "CC-4711")]),
    ]


def write() -> Path:
    data = rows()
    schema = pa.schema(list(COLUMNS.items()))
    table = pa.table({c: [r[c] for r in data] for c in COLUMNS}, schema=schema)
    pq.write_table(table, OUT)
    return OUT


if __name__ == "__main__":
    print(write())
