"""Write the native-export fixtures in this folder (run once; the outputs are committed).

Column names follow the providers' published column sets:

- AWS CUR data dictionary (legacy ``category/Attribute`` names; CUR 2.0 snake_case names with the
  ``product`` and ``resource_tags`` maps), with reservations (no-upfront and all-upfront) and a
  compute savings plan, an EDP discount, a credit, a refund of a past month and tax;
- Azure Cost Management cost details, EA column set (``Cost``, ``Date`` as MM/DD/YYYY, tags without
  braces) and MCA column set (``costInBillingCurrency``, ``benefitId``), each as an actual-cost and an
  amortized-cost export of the same month, with a reservation and a savings plan;
- Google Cloud Billing BigQuery export, standard schema (nested ``service``, ``sku``, ``project``,
  ``labels``, ``credits``, ``invoice``), as JSON lines, Parquet and flattened CSV, with a resource-based
  CUD (fee SKU + COMMITTED_USAGE_DISCOUNT credits), a spend-based CUD under the
  FEE_UTILIZATION_OFFSET model, sustained-use and promotion credits, tax and a rounding error.

The amounts are made up but consistent the way the providers' own exports are: a reservation's
recurring fee equals its used effective cost plus its unused fee; a savings plan's commitment equals
its used commitment plus the unused part.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent

# --------------------------------------------------------------------------------------------- AWS

CUR_COLUMNS = [
    "identity/LineItemId", "identity/TimeInterval", "bill/InvoiceId", "bill/InvoicingEntity",
    "bill/BillingEntity", "bill/BillType", "bill/PayerAccountId", "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate", "lineItem/UsageAccountId", "lineItem/LineItemType",
    "lineItem/UsageStartDate", "lineItem/UsageEndDate", "lineItem/ProductCode", "lineItem/UsageType",
    "lineItem/Operation", "lineItem/AvailabilityZone", "lineItem/ResourceId", "lineItem/UsageAmount",
    "lineItem/CurrencyCode", "lineItem/UnblendedRate", "lineItem/UnblendedCost",
    "lineItem/NetUnblendedCost", "lineItem/LineItemDescription", "lineItem/LegalEntity",
    "product/ProductName", "product/productFamily", "product/region", "product/location", "product/sku",
    "pricing/publicOnDemandCost", "pricing/publicOnDemandRate", "pricing/term", "pricing/unit",
    "reservation/AmortizedUpfrontFeeForBillingPeriod", "reservation/EffectiveCost",
    "reservation/ReservationARN", "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/UnusedRecurringFee", "savingsPlan/SavingsPlanARN",
    "savingsPlan/SavingsPlanEffectiveCost", "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/UsedCommitment", "resourceTags/user:Team", "resourceTags/user:Environment",
    "resourceTags/aws:createdBy",
]

RI1 = "arn:aws:ec2:us-east-1:111122223333:reserved-instances/4f1e2d3c-0000-4a5b-9c8d-000000000001"
RI2 = "arn:aws:ec2:us-east-1:111122223333:reserved-instances/4f1e2d3c-0000-4a5b-9c8d-000000000002"
SP1 = "arn:aws:savingsplans::111122223333:savingsplan/7d3c2b1a-1111-4e5f-8a9b-000000000001"
LE = "Amazon Web Services, Inc."
EC2 = ("AmazonEC2", "Amazon Elastic Compute Cloud")
S3 = ("AmazonS3", "Amazon Simple Storage Service")
DT = ("AWSDataTransfer", "AWS Data Transfer")
LAMBDA = ("AWSLambda", "AWS Lambda")


def _cur_rows(payer: str, month: str, invoice: str) -> list[dict]:
    """One month of CUR line items for ``payer`` (``month`` as ``2025-01``)."""
    y, m = map(int, month.split("-"))
    start = f"{month}-01T00:00:00Z"
    end = f"{y + (m == 12):04d}-{m % 12 + 1:02d}-01T00:00:00Z"
    hours = 744 if m == 1 else 672
    base = {
        "bill/InvoiceId": invoice, "bill/InvoicingEntity": LE, "bill/BillingEntity": "AWS",
        "bill/BillType": "Anniversary", "bill/PayerAccountId": payer,
        "bill/BillingPeriodStartDate": start, "bill/BillingPeriodEndDate": end,
        "lineItem/CurrencyCode": "USD", "lineItem/LegalEntity": LE,
        "lineItem/UsageStartDate": start, "lineItem/UsageEndDate": end,
    }
    day = f"{month}-15T00:00:00Z", f"{month}-16T00:00:00Z"
    rows = []

    def add(**kw):
        rows.append({**base, **kw})

    def li(code_name, type_, usage_type, operation, amount, rate, cost, desc, *, account="444455556666",
           public_cost=None, public_rate=None, term="OnDemand", unit="Hrs", resource="", az="",
           span=None, extra=None, tags=("", "", "")):
        code, name = code_name
        family = {"AmazonEC2": "Compute Instance", "AmazonS3": "Storage", "AWSDataTransfer": "Data Transfer",
                  "AWSLambda": "Serverless"}.get(code, "")
        r = {
            "lineItem/UsageAccountId": account, "lineItem/LineItemType": type_,
            "lineItem/ProductCode": code, "lineItem/UsageType": usage_type,
            "lineItem/Operation": operation, "lineItem/AvailabilityZone": az,
            "lineItem/ResourceId": resource, "lineItem/UsageAmount": amount,
            "lineItem/UnblendedRate": rate, "lineItem/UnblendedCost": cost,
            "lineItem/NetUnblendedCost": cost, "lineItem/LineItemDescription": desc,
            "product/ProductName": name, "product/productFamily": family, "product/region": "us-east-1" if code != "AWSDataTransfer" else "",
            "product/location": "US East (N. Virginia)", "product/sku": f"SKU{zlib.crc32((code + usage_type).encode()) % 10**8:08d}",
            "pricing/publicOnDemandCost": public_cost if public_cost is not None else cost,
            "pricing/publicOnDemandRate": public_rate if public_rate is not None else rate,
            "pricing/term": term, "pricing/unit": unit,
            "resourceTags/user:Team": tags[0], "resourceTags/user:Environment": tags[1],
            "resourceTags/aws:createdBy": tags[2],
        }
        if span:
            r["lineItem/UsageStartDate"], r["lineItem/UsageEndDate"] = span
        r.update(extra or {})
        add(**r)

    jan = m == 1
    # on-demand EC2, a tagged instance
    li(EC2, "Usage", "BoxUsage:m5.large", "RunInstances", "100", "0.096", "9.6",
       "$0.096 per On Demand Linux m5.large Instance Hour", resource="i-0a1b2c3d4e5f60001",
       az="us-east-1a", span=day, tags=("web", "prod", "IAMUser:alice"))
    # EC2 covered by a no-upfront reservation (0.06/h recurring): 720 h used in January, 650 in February
    used1 = 720 if jan else 650
    li(EC2, "DiscountedUsage", "BoxUsage:m5.large", "RunInstances", str(used1), "0", "0",
       "USD 0.06 hourly fee per Linux/UNIX (Amazon VPC), m5.large instance",
       public_cost=f"{used1 * 0.096:.3f}", public_rate="0.096", term="Reserved",
       resource="i-0a1b2c3d4e5f60002", az="us-east-1b", tags=("web", "prod", ""),
       extra={"reservation/EffectiveCost": f"{used1 * 0.06:.2f}", "reservation/ReservationARN": RI1})
    li(EC2, "RIFee", "HeavyUsage:m5.large", "RunInstances", str(hours), "0.06", f"{hours * 0.06:.2f}",
       "USD 0.06 hourly fee per Linux/UNIX (Amazon VPC), m5.large instance", public_cost="0",
       public_rate="0", term="Reserved",
       extra={"reservation/ReservationARN": RI1, "reservation/AmortizedUpfrontFeeForBillingPeriod": "0",
              "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "0",
              "reservation/UnusedRecurringFee": f"{(hours - used1) * 0.06:.2f}"})
    if not jan:
        # an all-upfront reservation bought on 1 February: 120.00 for 12 months, 10.00 a month
        li(EC2, "Fee", "USE1-HeavyUsage:t3.small", "RunInstances", "1", "120", "120",
           "Sign up charge for subscription: 987654321, planId: 4567", public_cost="0", public_rate="0",
           unit="Quantity", term="Reserved",
           extra={"reservation/ReservationARN": RI2})
        li(EC2, "DiscountedUsage", "BoxUsage:t3.small", "RunInstances", "600", "0", "0",
           "USD 0.0 hourly fee per Linux/UNIX (Amazon VPC), t3.small instance", public_cost="12.48",
           public_rate="0.0208", term="Reserved", resource="i-0a1b2c3d4e5f60003", az="us-east-1c",
           account="777788889999", tags=("data", "dev", ""),
           extra={"reservation/EffectiveCost": "8.928571428571", "reservation/ReservationARN": RI2})
        li(EC2, "RIFee", "HeavyUsage:t3.small", "RunInstances", str(hours), "0", "0",
           "USD 0.0 hourly fee per Linux/UNIX (Amazon VPC), t3.small instance", public_cost="0",
           public_rate="0", term="Reserved",
           extra={"reservation/ReservationARN": RI2,
                  "reservation/AmortizedUpfrontFeeForBillingPeriod": "10",
                  "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "1.071428571429",
                  "reservation/UnusedRecurringFee": "0"})
        # spot instance hours
        li(EC2, "Usage", "SpotUsage:c5.xlarge", "RunInstances:SV001", "50", "0.0712", "3.56",
           "$0.0712 per Linux c5.xlarge Spot Instance-hour", public_cost="8.5", public_rate="0.17",
           term="", resource="i-0a1b2c3d4e5f60004", az="us-east-1a", span=day,
           account="777788889999", tags=("data", "dev", ""))
    # compute savings plan, 0.03/h commitment
    covered = "30" if jan else "28"
    sp_eff = "21" if jan else "19.6"
    li(LAMBDA, "SavingsPlanCoveredUsage", "Lambda-GB-Second", "Invoke", "1800000", "0.0000166667",
       covered, "Compute Savings Plans covered usage", public_rate="0.0000166667",
       resource="arn:aws:lambda:us-east-1:444455556666:function:checkout", span=day,
       tags=("web", "prod", ""), unit="Lambda-GB-Second",
       extra={"savingsPlan/SavingsPlanARN": SP1, "savingsPlan/SavingsPlanEffectiveCost": sp_eff})
    li(LAMBDA, "SavingsPlanNegation", "Lambda-GB-Second", "Invoke", "1800000", "-0.0000166667",
       f"-{covered}", "SavingsPlanNegation used by AccountId : 444455556666 and UsageSku : SKU1",
       public_cost="0", public_rate="0", unit="Lambda-GB-Second",
       resource="arn:aws:lambda:us-east-1:444455556666:function:checkout", span=day,
       extra={"savingsPlan/SavingsPlanARN": SP1})
    commit = f"{hours * 0.03:.2f}"
    li(("ComputeSavingsPlans", "Savings Plans for AWS Compute usage"), "SavingsPlanRecurringFee",
       "ComputeSP:1yrNoUpfront", "", str(hours), "0.03", commit,
       "1 year No Upfront Compute Savings Plan", public_cost="0", public_rate="0",
       extra={"savingsPlan/SavingsPlanARN": SP1, "savingsPlan/TotalCommitmentToDate": commit,
              "savingsPlan/UsedCommitment": sp_eff})
    # storage and data transfer
    li(S3, "Usage", "TimedStorage-ByteHrs", "StandardStorage", "500" if jan else "520", "0.023",
       "11.5" if jan else "11.96", "$0.023 per GB - first 50 TB / month of storage used",
       unit="GB-Mo", resource="finops-data-lake", tags=("data", "prod", ""))
    li(DT, "Usage", "DataTransfer-Out-Bytes", "", "120", "0.09", "10.8",
       "$0.090 per GB - first 10 TB / month data transfer out beyond the global free tier",
       unit="GB", resource="i-0a1b2c3d4e5f60001", tags=("web", "prod", ""))
    # discounts, credits, refunds, tax
    li(EC2, "EdpDiscount", "BoxUsage:m5.large", "RunInstances", "0", "0", "-0.48",
       "Enterprise Discount Program Discount", public_cost="0", public_rate="0")
    li(("AWSCredits", "AWS Credits"), "Credit", "", "", "0", "0", "-5" if jan else "-2.5",
       "AWS Promotional Credit", public_cost="0", public_rate="0")
    if jan:
        li(S3, "Refund", "TimedStorage-ByteHrs", "StandardStorage", "0", "0", "-2.3",
           "Refund for overcharged storage in December 2024", public_cost="0", public_rate="0",
           span=("2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z"))
    li(EC2, "Tax", "", "", "0", "0", "4.12" if jan else "4.6", "Tax for product code AmazonEC2",
       public_cost="0", public_rate="0")
    for i, r in enumerate(rows, 1):
        r["identity/LineItemId"] = f"{payer[-4:]}{month.replace('-', '')}{i:04d}"
        r["identity/TimeInterval"] = f"{r['lineItem/UsageStartDate']}/{r['lineItem/UsageEndDate']}"
    return rows


def write_aws() -> None:
    out = HERE / "aws"
    out.mkdir(exist_ok=True)
    rows = _cur_rows("111122223333", "2025-01", "2025010123456") + _cur_rows(
        "111122223333", "2025-02", "2025020123456")
    _write_csv(out / "cur-legacy-2025-01-02.csv", CUR_COLUMNS, rows, restval="")
    # CUR 2.0: snake_case, product attributes and tags in maps, Parquet
    rows2 = _cur_rows("210987654321", "2025-01", "2025010654321")

    def snake(name: str) -> str:
        cat, _, attr = name.partition("/")
        s = lambda p: re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), p).lstrip("_").lower()  # noqa: E731
        return f"{s(cat)}_{s(attr)}"

    plain = [c for c in CUR_COLUMNS if not c.startswith(("product/", "resourceTags/"))]
    table: dict[str, list] = {snake(c): [r.get(c, "") or None for r in rows2] for c in plain}
    money_cols = [snake(c) for c in plain if c.split("/")[1][0].isupper() and any(
        k in c for k in ("Cost", "Rate", "Amount", "Fee", "Commitment"))]
    for c in money_cols:
        table[c] = [None if v is None else float(v) for v in table[c]]
    for c in ("bill_billing_period_start_date", "bill_billing_period_end_date",
              "line_item_usage_start_date", "line_item_usage_end_date"):
        table[c] = [dt.datetime.fromisoformat(v.replace("Z", "+00:00")).replace(tzinfo=None) for v in table[c]]
    table["product_region_code"] = [r.get("product/region") or None for r in rows2]
    table["product_sku"] = [r["product/sku"] for r in rows2]
    table["product_product_family"] = [r["product/productFamily"] or None for r in rows2]
    table["bill_payer_account_name"] = ["Example Corp management account"] * len(rows2)
    table["line_item_usage_account_name"] = [
        {"444455556666": "web-prod", "777788889999": "data-dev"}[r["lineItem/UsageAccountId"]] for r in rows2]
    table["product"] = [[("product_name", r["product/ProductName"]), ("location", r["product/location"])]
                        for r in rows2]
    table["resource_tags"] = [
        [(k, v) for k, v in (("user_team", r["resourceTags/user:Team"]),
                             ("user_environment", r["resourceTags/user:Environment"]),
                             ("aws_created_by", r["resourceTags/aws:createdBy"])) if v]
        for r in rows2
    ]
    schema = pa.schema(
        [(c, pa.float64() if c in money_cols else
          pa.timestamp("ms") if c.endswith(("_date",)) else pa.string()) for c in table
         if c not in ("product", "resource_tags")]
        + [("product", pa.map_(pa.string(), pa.string())),
           ("resource_tags", pa.map_(pa.string(), pa.string()))]
    )
    pq.write_table(pa.table({f.name: table[f.name] for f in schema}, schema=schema),
                   out / "cur2-2025-01.parquet")


# ------------------------------------------------------------------------------------------- Azure

EA_COLUMNS = [
    "BillingAccountId", "BillingAccountName", "BillingPeriodStartDate", "BillingPeriodEndDate",
    "BillingProfileId", "BillingProfileName", "AccountName", "SubscriptionId", "SubscriptionName",
    "Date", "ProductName", "MeterCategory", "MeterSubCategory", "MeterId", "MeterName", "MeterRegion",
    "UnitOfMeasure", "Quantity", "EffectivePrice", "Cost", "UnitPrice", "PayGPrice",
    "BillingCurrencyCode", "ResourceLocation", "ConsumedService", "ResourceId", "ResourceName",
    "Tags", "ResourceGroup", "ReservationId", "ReservationName", "Term", "PublisherType",
    "PublisherName", "ChargeType", "Frequency", "PricingModel", "InvoiceId",
]
MCA_COLUMNS = [
    "invoiceId", "billingAccountId", "billingAccountName", "billingPeriodStartDate",
    "billingPeriodEndDate", "billingProfileId", "billingProfileName", "subscriptionId",
    "subscriptionName", "date", "productName", "meterCategory", "meterSubCategory", "meterId",
    "meterName", "unitOfMeasure", "quantity", "effectivePrice", "costInBillingCurrency",
    "paygCostInBillingCurrency", "unitPrice", "paygPrice", "billingCurrency", "resourceLocation",
    "ResourceId", "resourceGroupName", "tags", "benefitId", "benefitName", "publisherType",
    "publisherName", "chargeType", "frequency", "pricingModel", "pricingCurrency",
    "costInPricingCurrency", "exchangeRatePricingToBilling",
]


def _azure_rows(sub: str, reservation: str, savings_plan: str, *, ea: bool) -> tuple[list[dict], list[dict]]:
    """(actual-cost rows, amortized-cost rows) of January 2025, in a neutral spelling."""
    vm = f"/subscriptions/{sub}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/"
    app = f"/subscriptions/{sub}/resourceGroups/rg-web/providers/Microsoft.Web/sites/checkout"
    sa = f"/subscriptions/{sub}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stdatalake01"

    def tags(d):
        if not d:
            return ""
        body = ",".join(f'"{k}": "{v}"' for k, v in d.items())
        return body if ea else "{" + body + "}"

    def r(date, product, category, sub_category, meter_id, meter, unit, qty, cost, charge="Usage",
          model="OnDemand", freq="UsageBased", resource="", t=None, benefit="", benefit_name="",
          payg=None, unit_price=None, publisher="Microsoft", publisher_type="Azure", rg=""):
        return dict(date=date, product=product, category=category, sub_category=sub_category,
                    meter_id=meter_id, meter=meter, unit=unit, qty=qty, cost=cost, charge=charge,
                    model=model, freq=freq, resource=resource, tags=tags(t), benefit=benefit,
                    benefit_name=benefit_name, payg=payg, unit_price=unit_price, publisher=publisher,
                    publisher_type=publisher_type, rg=rg)

    web = {"team": "web", "env": "prod"}
    data = {"team": "data", "env": "prod"}
    common = [
        r("01/15/2025", "Virtual Machines DSv3 Series - D2s v3 - US East", "Virtual Machines",
          "Dsv3 Series", "a1b2c3d4-0001-0000-0000-000000000001", "D2s v3", "1 Hour", "100", "9.6",
          resource=vm + "vm-web-01", t=web, payg="0.096", unit_price="0.096", rg="rg-web"),
        r("01/20/2025", "Storage - Hot LRS Data Stored", "Storage", "Tiered Block Blob",
          "a1b2c3d4-0003-0000-0000-000000000003", "Hot LRS Data Stored", "1 GB/Month", "500", "9.2",
          resource=sa, t=data, payg="0.0184", unit_price="0.0184", rg="rg-data"),
        r("01/20/2025", "Bandwidth - Data Transfer Out - Zone 1", "Bandwidth", "",
          "a1b2c3d4-0004-0000-0000-000000000004", "Standard Data Transfer Out", "1 GB", "120", "10.44",
          resource=vm + "vm-web-01", t=web, payg="0.087", unit_price="0.087", rg="rg-web"),
        r("01/22/2025", "Virtual Machines Dv3 Series - D4 v3 Spot - US East", "Virtual Machines",
          "Dv3 Series", "a1b2c3d4-0005-0000-0000-000000000005", "D4 v3 Spot", "1 Hour", "50", "2.4",
          model="Spot", resource=vm + "vm-batch-07", t=data, payg="0.192", unit_price="0.048",
          rg="rg-data"),
        r("01/05/2025", "Contoso Analytics - Pro plan", "", "", "", "", "1 Month", "1", "25",
          charge="Purchase", freq="OneTime", publisher="Contoso Software", publisher_type="Marketplace"),
        r("12/28/2024", "Contoso Analytics - Pro plan", "", "", "", "", "1 Month", "1", "-4",
          charge="Refund", freq="OneTime", publisher="Contoso Software", publisher_type="Marketplace"),
        r("01/31/2025", "Rounding adjustment", "", "", "", "", "", "0", "-0.01",
          charge="RoundingAdjustment", freq="OneTime"),
    ]
    actual = common + [
        r("01/31/2025", "Virtual Machines DSv3 Series - D2s v3 - US East", "Virtual Machines",
          "Dsv3 Series", "a1b2c3d4-0001-0000-0000-000000000001", "D2s v3", "1 Hour", "720", "0",
          model="Reservation", resource=vm + "vm-web-02", t=web, benefit=reservation,
          benefit_name="VM_RI_01-15-2025_10-00", payg="0.096", unit_price="0", rg="rg-web"),
        r("01/15/2025", "Reserved VM Instance, Standard_D2s_v3, US East, 1 Year", "", "", "", "",
          "1 Month", "1", "44.64", charge="Purchase", model="Reservation", freq="Recurring",
          benefit=reservation, benefit_name="VM_RI_01-15-2025_10-00"),
        r("01/31/2025", "Azure App Service Premium v3 Plan - P1 v3 - US East", "Azure App Service",
          "Premium v3 Plan", "a1b2c3d4-0002-0000-0000-000000000002", "P1 v3", "1 Hour", "500", "0",
          model="SavingsPlan", resource=app, t=web, benefit=savings_plan, benefit_name="SP_compute_1yr",
          payg="0.06", unit_price="0", rg="rg-web"),
        r("01/01/2025", "Azure savings plan for compute, 1 Year, 0.03 USD/hour", "", "", "", "",
          "1 Month", "1", "22.32", charge="Purchase", model="SavingsPlan", freq="Recurring",
          benefit=savings_plan, benefit_name="SP_compute_1yr"),
    ]
    amortized = common + [
        r("01/31/2025", "Virtual Machines DSv3 Series - D2s v3 - US East", "Virtual Machines",
          "Dsv3 Series", "a1b2c3d4-0001-0000-0000-000000000001", "D2s v3", "1 Hour", "720", "43.2",
          model="Reservation", resource=vm + "vm-web-02", t=web, benefit=reservation,
          benefit_name="VM_RI_01-15-2025_10-00", payg="0.096", unit_price="0", rg="rg-web"),
        r("01/31/2025", "Virtual Machines DSv3 Series - D2s v3 - US East", "Virtual Machines",
          "Dsv3 Series", "a1b2c3d4-0001-0000-0000-000000000001", "D2s v3", "1 Hour", "24", "1.44",
          charge="UnusedReservation", model="Reservation", benefit=reservation,
          benefit_name="VM_RI_01-15-2025_10-00", payg="0.096", unit_price="0"),
        r("01/31/2025", "Azure App Service Premium v3 Plan - P1 v3 - US East", "Azure App Service",
          "Premium v3 Plan", "a1b2c3d4-0002-0000-0000-000000000002", "P1 v3", "1 Hour", "500", "21",
          model="SavingsPlan", resource=app, t=web, benefit=savings_plan, benefit_name="SP_compute_1yr",
          payg="0.06", unit_price="0", rg="rg-web"),
        r("01/31/2025", "Azure savings plan for compute, 1 Year, 0.03 USD/hour", "", "", "", "",
          "1 Hour", "44", "1.32", charge="UnusedSavingsPlan", model="SavingsPlan",
          benefit=savings_plan, benefit_name="SP_compute_1yr"),
    ]
    return actual, amortized


def _write_csv(path: Path, columns: list[str], rows, **options) -> None:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, columns, **options)
        w.writeheader()
        w.writerows(rows)


def _ea_row(x: dict, sub: str) -> dict:
    """One row of the EA column set: enrollment 8611537, older EA columns (Cost, BillingCurrencyCode,
    ReservationId)."""
    qty = x["qty"]
    return {
        "BillingAccountId": "8611537", "BillingAccountName": "Contoso Ltd enrollment",
        "BillingPeriodStartDate": "01/01/2025", "BillingPeriodEndDate": "01/31/2025",
        "BillingProfileId": "8611537", "BillingProfileName": "Contoso Ltd enrollment",
        "AccountName": "Platform", "SubscriptionId": sub, "SubscriptionName": "contoso-prod",
        "Date": x["date"], "ProductName": x["product"], "MeterCategory": x["category"],
        "MeterSubCategory": x["sub_category"], "MeterId": x["meter_id"], "MeterName": x["meter"],
        "MeterRegion": "US East" if x["meter_id"] else "", "UnitOfMeasure": x["unit"],
        "Quantity": qty, "EffectivePrice": "", "Cost": x["cost"],
        "UnitPrice": x["unit_price"] or "", "PayGPrice": x["payg"] or "",
        "BillingCurrencyCode": "USD", "ResourceLocation": "EastUS" if x["resource"] else "",
        "ConsumedService": "", "ResourceId": x["resource"],
        "ResourceName": x["resource"].rsplit("/", 1)[-1] if x["resource"] else "",
        "Tags": x["tags"], "ResourceGroup": x["rg"], "ReservationId": x["benefit"],
        "ReservationName": x["benefit_name"], "Term": "12" if x["benefit"] else "",
        "PublisherType": x["publisher_type"], "PublisherName": x["publisher"],
        "ChargeType": x["charge"], "Frequency": x["freq"], "PricingModel": x["model"],
        "InvoiceId": "G012345678",
    }


def _mca_row(x: dict, sub: str) -> dict:
    """One row of the MCA column set: billing profile, camelCase columns, costInBillingCurrency,
    benefitId, JSON tags, in EUR."""
    qty = x["qty"]
    payg_cost = "" if x["payg"] is None else f"{float(x['payg']) * float(qty):.4f}"
    return {
        "invoiceId": "E0600BN7QD", "billingAccountId":
            "5e98e158-xxxx-xxxx-xxxx-xxxxxxxxxxxx:7ac4d7c2-xxxx-xxxx-xxxx-xxxxxxxxxxxx_2019-05-31",
        "billingAccountName": "Fabrikam Inc", "billingPeriodStartDate": "01/01/2025",
        "billingPeriodEndDate": "01/31/2025", "billingProfileId": "AW4F-XXXX-BG7-TGB",
        "billingProfileName": "Fabrikam EU", "subscriptionId": sub,
        "subscriptionName": "fabrikam-prod", "date": x["date"], "productName": x["product"],
        "meterCategory": x["category"], "meterSubCategory": x["sub_category"],
        "meterId": x["meter_id"], "meterName": x["meter"], "unitOfMeasure": x["unit"],
        "quantity": qty, "effectivePrice": "", "costInBillingCurrency": x["cost"],
        "paygCostInBillingCurrency": payg_cost, "unitPrice": x["unit_price"] or "",
        "paygPrice": x["payg"] or "", "billingCurrency": "EUR",
        "resourceLocation": "eastus" if x["resource"] else "", "ResourceId": x["resource"],
        "resourceGroupName": x["rg"], "tags": x["tags"], "benefitId": x["benefit"],
        "benefitName": x["benefit_name"], "publisherType": x["publisher_type"],
        "publisherName": x["publisher"], "chargeType": x["charge"], "frequency": x["freq"],
        "pricingModel": x["model"], "pricingCurrency": "USD",
        # priced in USD, billed in EUR at 0.92 EUR per USD (rounded as Azure does, to 6 places)
        "costInPricingCurrency": f"{float(x['cost']) / 0.92:.6f}",
        "exchangeRatePricingToBilling": "0.92",
    }


def write_azure() -> None:
    out = HERE / "azure"
    out.mkdir(exist_ok=True)
    ri = ("/providers/Microsoft.Capacity/reservationOrders/9a8b7c6d-0000-4e1f-8a2b-000000000001/"
          "reservations/1b2c3d4e-0000-4f5a-9b8c-000000000001")
    sp = "/providers/Microsoft.BillingBenefits/savingsPlanOrders/5e6f7a8b-0000-4c1d-9e2f-000000000001/savingsPlans/6f7a8b9c-0000-4d1e-8f3a-000000000001"
    mca_ids = tuple(i.replace("000000000001", "000000000002") for i in (ri, sp))  # the MCA's own
    for name, columns, row, sub, ids in (
            ("ea", EA_COLUMNS, _ea_row, "0f4c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", (ri, sp)),
            ("mca", MCA_COLUMNS, _mca_row, "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b", mca_ids)):
        for kind, rows in zip(("actual", "amortized"), _azure_rows(sub, *ids, ea=name == "ea")):
            _write_csv(out / f"{name}-{kind}-cost-2025-01.csv", columns, [row(x, sub) for x in rows])


# --------------------------------------------------------------------------------------------- GCP


def _gcp_rows(account: str, month: str) -> list[dict]:
    """One invoice month of BigQuery standard/detailed export rows (nested, as BigQuery holds them)."""
    y, m = int(month[:4]), int(month[4:])
    first = f"{y:04d}-{m:02d}"
    cud_id = "//compute.googleapis.com/projects/web-prod-381204/regions/us-central1/commitments/cud-n2-cpu-1y"
    sql_cud = f"billingAccounts/{account}/commitments/cloudsql-flex-1y"
    flex_cud = f"billingAccounts/{account}/commitments/compute-flex-1y"

    def row(service, sku_id, sku, start, end, cost, *, project="web-prod-381204", project_name="web-prod",
            labels=(), region="us-central1", zone=None, resource=None, usage=(None, None, None, None),
            credits=(), cost_type="regular", cost_at_list=None):
        return {
            "billing_account_id": account,
            "service": {"id": {"Compute Engine": "6F81-5844-456A", "Cloud Storage": "95FF-2EF5-5EA1",
                               "Cloud SQL": "9662-B51E-5089", "BigQuery": "24E6-581D-38E5",
                               "Networking": "E505-1604-58F8", "Invoice": "",
                               "Cloud Run": "152E-C115-5142"}[service], "description": service},
            "sku": {"id": sku_id, "description": sku},
            "usage_start_time": start, "usage_end_time": end,
            "project": {"id": project, "name": project_name,
                        "labels": [{"key": "cost-center", "value": "cc-100"}]} if project else None,
            "labels": [{"key": k, "value": v} for k, v in labels],
            "location": {"location": region, "country": "US", "region": region, "zone": zone}
            if region else None,
            "resource": {"name": resource.rsplit("/", 1)[-1], "global_name": resource} if resource else None,
            "cost": cost, "currency": "USD", "cost_at_list": cost_at_list,
            "usage": {"amount": usage[0], "unit": usage[1], "amount_in_pricing_units": usage[2],
                      "pricing_unit": usage[3]},
            "credits": [dict(zip(("name", "amount", "full_name", "id", "type"), c)) for c in credits],
            "invoice": {"month": month},
            "cost_type": cost_type,
        }

    d1, d2 = f"{first}-10T00:00:00Z", f"{first}-10T01:00:00Z"
    vm = "//compute.googleapis.com/projects/web-prod-381204/zones/us-central1-a/instances/web-01"
    return [
        # N2 cores: part covered by the resource-based CUD, the rest earns a sustained-use discount
        row("Compute Engine", "F449-33EC-A5EF", "N2 Instance Core running in Americas", d1, d2, 31.61,
            labels=[("team", "web"), ("env", "prod")], zone="us-central1-a", resource=vm,
            usage=(3600000, "seconds", 1000, "hour"), cost_at_list=31.61,
            credits=[("Committed use discount: N2 Cpu", -19.5,
                      "Committed use discount: N2 Cpu in Americas for 1 year", cud_id,
                      "COMMITTED_USAGE_DISCOUNT"),
                     ("Sustained Usage Discount", -2.1, "Sustained Usage Discount", "",
                      "SUSTAINED_USAGE_DISCOUNT")]),
        # its monthly commitment fee
        row("Compute Engine", "9B63-4B5D-A4D7", "Commitment v1: N2 Cpu in Americas for 1 Year",
            f"{first}-01T00:00:00Z", f"{first}-01T01:00:00Z", 12.3, region="us-central1",
            resource=cud_id, usage=(3600, "seconds", 1, "hour")),
        # spend-based CUD on Cloud SQL (credit model)
        row("Cloud SQL", "D973-5D65-BAB2", "Cloud SQL for PostgreSQL: Zonal - vCPU in Americas", d1, d2,
            14.0, project="data-prod-552910", project_name="data-prod", labels=[("team", "data")],
            usage=(180000, "seconds", 50, "hour"),
            credits=[("Committed use discount - dollar based: Cloud SQL", -4.2,
                      "Committed use discount - dollar based: Cloud SQL 1 year", sql_cud,
                      "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")]),
        # spend-based CUD, new model: the fee is offset by the commitment used
        row("Compute Engine", "5515-81A8-03A2", "Commitment - dollar based v1: Compute Flexible CUD 1 Year",
            f"{first}-01T00:00:00Z", f"{first}-01T01:00:00Z", 10.0, region=None,
            credits=[("Fee utilization offset", -8.75, "Compute flexible committed use discount",
                      flex_cud, "FEE_UTILIZATION_OFFSET")]),
        row("Cloud Run", "C6B6-6F5B-8C35", "CPU Allocation Time (tier 1)", d1, d2, 8.75,
            labels=[("team", "web")], usage=(350000, "seconds", 97.222222, "hour")),
        row("Cloud Storage", "E5F0-6A5D-7BAD", "Standard Storage US Multi-region", d1, d2, 12.0,
            project="data-prod-552910", project_name="data-prod", labels=[("team", "data")],
            region="us", usage=(1.6e15, "byte-seconds", 460, "gibibyte month")),
        # BigQuery fully paid by a promotion
        row("BigQuery", "3362-E469-6BEF", "Analysis", d1, d2, 6.25, project="data-prod-552910",
            project_name="data-prod", labels=[("team", "data")], region="US",
            usage=(1.099511627776e12, "bytes", 1, "tebibyte"),
            credits=[("Free trial credit", -6.25, "Free trial credit", "promo-2025-startup", "PROMOTION")]),
        row("Networking", "9DE9-9092-B3BC", "Network Internet Data Transfer Out from Americas to Americas",
            d1, d2, 3.2, labels=[("team", "web")], usage=(2.5e10, "bytes", 23.28, "gibibyte")),
        row("Compute Engine", "2F81-A1D4-5E60", "Spot Preemptible N2 Instance Core running in Americas",
            d1, d2, 1.1, project="data-prod-552910", project_name="data-prod", labels=[("team", "data")],
            zone="us-central1-b", usage=(720000, "seconds", 200, "hour")),
        row("Invoice", "", "Tax", f"{first}-01T00:00:00Z", f"{first}-01T00:00:00Z", 4.05, project=None,
            region=None, cost_type="tax"),
        row("Compute Engine", "F449-33EC-A5EF", "N2 Instance Core running in Americas",
            f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}-20T00:00:00Z",
            f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}-21T00:00:00Z", -1.5, cost_type="adjustment"),
        row("Invoice", "", "Rounding error", f"{first}-01T00:00:00Z", f"{first}-01T00:00:00Z", 0.002,
            project=None, region=None, cost_type="rounding_error"),
    ]


def write_gcp() -> None:
    out = HERE / "gcp"
    out.mkdir(exist_ok=True)
    # JSON lines (as `bq extract --destination_format NEWLINE_DELIMITED_JSON` writes)
    rows = _gcp_rows("01A2B3-C4D5E6-F7A8B9", "202501")
    with (out / "billing-export-202501.jsonl").open("w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    # Parquet (as `bq extract --destination_format PARQUET` writes), another billing account
    rows = _gcp_rows("0B1C2D-3E4F50-61A2B3", "202501")
    for r in rows:
        for k in ("usage_start_time", "usage_end_time"):
            r[k] = dt.datetime.fromisoformat(r[k].replace("Z", "+00:00"))
    pq.write_table(pa.Table.from_pylist(rows), out / "billing-export-202501.parquet")
    # CSV, flattened by a query (records → dotted columns, repeated fields → JSON), a third account
    rows = _gcp_rows("0C9D8E-7F6A5B-4C3D2E", "202502")
    cols = ["billing_account_id", "service.id", "service.description", "sku.id", "sku.description",
            "usage_start_time", "usage_end_time", "project.id", "project.name", "labels",
            "location.region", "location.zone", "resource.name", "resource.global_name", "cost",
            "currency", "usage.amount", "usage.unit", "usage.amount_in_pricing_units",
            "usage.pricing_unit", "credits", "invoice.month", "cost_type"]
    with (out / "billing-export-202502.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            def get(path):
                v = r
                for part in path.split("."):
                    v = (v or {}).get(part) if isinstance(v, dict) or v is None else None
                if path in ("labels", "credits"):
                    return json.dumps(v)
                return "" if v is None else v
            w.writerow([get(c) for c in cols])


if __name__ == "__main__":
    write_aws()
    write_azure()
    write_gcp()
