"""Write the Oracle Cloud (OCI) fixtures in ``oci/`` (run once; the outputs are committed).

Column names follow Oracle's published column sets:

- the **cost report** (Cost and Usage Reports Overview, "Cost report schema"): ``lineItem/referenceNo``,
  ``lineItem/tenantId``, ``lineItem/intervalUsageStart`` / ``End`` (``2025-01-31T00:00Z``),
  ``product/service``, ``product/compartmentId`` / ``Name``, ``product/region``,
  ``product/availabilityDomain``, ``product/resourceId``, ``usage/billedQuantity``, ``…Overage``,
  ``cost/subscriptionId``, ``cost/productSku``, ``product/Description``, ``cost/unitPrice``,
  ``cost/myCost``, ``cost/currencyCode``, ``cost/billingUnitReadable``, ``cost/skuUnitDescription``,
  ``cost/overageFlag``, ``lineItem/isCorrection``, ``lineItem/backreferenceNo``, then one
  ``tags/<namespace>.<key>`` column per defined tag and ``tags/<key>`` per free-form tag. Two hours
  of usage at the turn of January and February 2025 in two compartments, a correction line (a new
  row whose backreferenceNo names the line it corrects, its cost the difference) and an overage line.
- the **FOCUS report** OCI writes beside it (FOCUS 1.0 column names as OCI spells them, in
  alphabetical order, then the ``oci_`` extension columns: oci_ReferenceNumber, oci_CompartmentId,
  oci_CompartmentName, oci_OverageFlag, oci_UnitPriceOverage, oci_BilledQuantityOverage,
  oci_CostOverage, oci_AttributedUsage, oci_AttributedCost, oci_BackReferenceNumber), for the same
  usage, timestamps written ``2025-01-31T00:00:00.000Z``. As in the Oracle rows of the FinOps
  Foundation's FOCUS sample data, BillingAccountId is a numeric billing account and SubAccountId
  the tenancy (its name in SubAccountName); the compartment is in oci_CompartmentId / Name.

Amounts are made up but consistent: cost = billed quantity × unit price on every line.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).parent / "oci"

TENANT = "ocid1.tenancy.oc1..aaaaaaaa5bqmbfcm6kzlsoxdvvwuzcuy4atexnvsfz3vwq2htnv3kvc6z4aq"
PROD = ("ocid1.compartment.oc1..aaaaaaaawq2z7lbmh4pnwx7oyqcxyfkmkq3qfr4sw2lqaehafbmwa5vfw3hq", "prod")
DEV = ("ocid1.compartment.oc1..aaaaaaaab3n5yq6ykgjxo2m4c6ztvdwvcjmbscfz2t2c2kwx3xq6ozyq7bqq", "dev")
SUBSCRIPTION = "8812345"
BILLING_ACCOUNT = "41238856"  # OCI's FOCUS report: a numeric billing account, the tenancy its sub account
VM = "ocid1.instance.oc1.eu-frankfurt-1.antheljtnc4gpaqcd2vfsx4bf2x7v5tln3wddj6b5bfmsayrftm4c3bq6lsa"
VOL = "ocid1.volume.oc1.eu-frankfurt-1.abtheljs2pxzgctcnlarbrfmyhfwpqq3tfhqx7w6cq6bvd5qrsm45fqujbka"
BUCKET = "ocid1.bucket.oc1.eu-frankfurt-1.aaaaaaaaw3fxqsbdmcx6yv6t3yy2n4ryhn6rzmm4fgp7hxgmz4sk3tkmfpaa"
ADB = "ocid1.autonomousdatabase.oc1.eu-frankfurt-1.antheljrwbw5ftqa5ruqpcoqz7hrjbe5gxphwn2k3v4jntyj7m2vtxrqy5pq"
VNIC = "ocid1.vnic.oc1.eu-frankfurt-1.abtheljrtz3pxo7cfbx4mbkbp2p2dpgy3d6ogcnwzjm3d5dp4aqtt6dhr2za"

COST_COLUMNS = [
    "lineItem/referenceNo", "lineItem/tenantId", "lineItem/intervalUsageStart", "lineItem/intervalUsageEnd",
    "product/service", "product/compartmentId", "product/compartmentName", "product/region",
    "product/availabilityDomain", "product/resourceId", "usage/billedQuantity", "usage/billedQuantityOverage",
    "cost/subscriptionId", "cost/productSku", "product/Description", "cost/unitPrice", "cost/unitPriceOverage",
    "cost/myCost", "cost/myCostOverage", "cost/currencyCode", "cost/billingUnitReadable",
    "cost/skuUnitDescription", "cost/overageFlag", "lineItem/isCorrection", "lineItem/backreferenceNo",
    "tags/Oracle-Tags.CreatedBy", "tags/Oracle-Tags.CreatedOn", "tags/Finance.CostCenter", "tags/team",
]

FOCUS_COLUMNS = [
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
    "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd", "ChargePeriodStart", "ChargeSubcategory", "CommitmentDiscountCategory",
    "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountType", "EffectiveCost",
    "InvoiceIssuer", "ListCost", "ListUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit",
    "Provider", "Publisher", "Region", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory",
    "ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags", "UsageQuantity",
    "UsageUnit", "oci_ReferenceNumber", "oci_CompartmentId", "oci_CompartmentName", "oci_OverageFlag",
    "oci_UnitPriceOverage", "oci_BilledQuantityOverage", "oci_CostOverage", "oci_AttributedUsage",
    "oci_AttributedCost", "oci_BackReferenceNumber",
]

# (service, compartment, resource, sku, description, unit, unit price, quantity per hour, tags)
LINES = [
    ("COMPUTE", PROD, VM, "B93113", "Compute - Standard - E4 - OCPU", "OCPU Hours", "0.025", "2",
     {"Oracle-Tags.CreatedBy": "default/ana@example.com", "Finance.CostCenter": "CC-1001", "team": "web"}),
    ("COMPUTE", PROD, VM, "B93114", "Compute - Standard - E4 - Memory", "Gigabyte Hours", "0.0015", "32",
     {"Oracle-Tags.CreatedBy": "default/ana@example.com", "Finance.CostCenter": "CC-1001", "team": "web"}),
    ("BLOCK_STORAGE", PROD, VOL, "B91961", "Storage - Block Volume - Storage", "Gigabyte Storage Capacity Per Month",
     "0.0255", "0.0684931507", {"Finance.CostCenter": "CC-1001"}),
    ("OBJECTSTORE", DEV, BUCKET, "B91628", "Object Storage - Storage", "Gigabyte Storage Capacity Per Month",
     "0.0255", "1.3698630137", {"team": "data"}),
    ("DATABASE", DEV, ADB, "B95702", "Oracle Autonomous Data Warehouse - ECPU", "ECPU Per Hour", "0.336", "2",
     {"Oracle-Tags.CreatedBy": "default/li@example.com", "Oracle-Tags.CreatedOn": "2024-11-02T09:14:51.221Z"}),
    ("NETWORK", PROD, VNIC, "B88327", "Outbound Data Transfer Zone 1", "Gigabyte Outbound Data Transfer",
     "0.0085", "3.5", {}),
]
HOURS = ["2025-01-31T22:00Z", "2025-01-31T23:00Z", "2025-02-01T00:00Z"]
AD = "kWVD:EU-FRANKFURT-1-AD-1"
SERVICE_CATEGORY = {"COMPUTE": "Compute", "BLOCK_STORAGE": "Storage", "OBJECTSTORE": "Storage",
                    "DATABASE": "Databases", "NETWORK": "Networking"}


def _end(start: str) -> str:
    day, hour = start[:10], int(start[11:13])
    if hour == 23:
        nxt = {"2025-01-31": "2025-02-01"}.get(day, day)
        return f"{nxt}T00:00Z"
    return f"{day}T{hour + 1:02d}:00Z"


def cost_rows() -> list[dict]:
    rows = []
    n = 0
    for start in HOURS:
        for service, (cid, cname), res, sku, desc, unit, price, qty, tags in LINES:
            n += 1
            cost = (Decimal(price) * Decimal(qty)).quantize(Decimal("0.0000000001"))
            overage = service == "DATABASE" and start.startswith("2025-02")
            row = {
                "lineItem/referenceNo": f"V2.lTsTgzkPYcDiYtE0VjIRfA+{n:05d}/k9Rg==",
                "lineItem/tenantId": TENANT, "lineItem/intervalUsageStart": start,
                "lineItem/intervalUsageEnd": _end(start), "product/service": service,
                "product/compartmentId": cid, "product/compartmentName": cname,
                "product/region": "eu-frankfurt-1", "product/availabilityDomain": AD if service != "OBJECTSTORE" else "",
                "product/resourceId": res, "usage/billedQuantity": qty,
                "usage/billedQuantityOverage": qty if overage else "",
                "cost/subscriptionId": SUBSCRIPTION, "cost/productSku": sku, "product/Description": desc,
                "cost/unitPrice": price, "cost/unitPriceOverage": price if overage else "",
                "cost/myCost": str(cost), "cost/myCostOverage": str(cost) if overage else "",
                "cost/currencyCode": "EUR", "cost/billingUnitReadable": unit, "cost/skuUnitDescription": unit,
                "cost/overageFlag": "Y" if overage else "N", "lineItem/isCorrection": "",
                "lineItem/backreferenceNo": "",
            }
            for key in ("Oracle-Tags.CreatedBy", "Oracle-Tags.CreatedOn", "Finance.CostCenter", "team"):
                row[f"tags/{key}"] = tags.get(key, "")
            rows.append(row)
    # a correction, delivered later in the same report: the memory of the 23:00 VM line was metered
    # as 32 GB instead of 16 GB; the correction row carries the difference (-16 GB, -0.024)
    original = next(r for r in rows if r["lineItem/intervalUsageStart"] == HOURS[1]
                    and r["cost/productSku"] == "B93114")
    correction = dict(original)
    correction.update({
        "lineItem/referenceNo": "V2.lTsTgzkPYcDiYtE0VjIRfA+90001/c0Rr==",
        "usage/billedQuantity": "-16",
        "cost/myCost": str((Decimal("-16") * Decimal(original["cost/unitPrice"])).quantize(Decimal("0.0000000001"))),
        "lineItem/isCorrection": "true",
        "lineItem/backreferenceNo": original["lineItem/referenceNo"],
    })
    rows.append(correction)
    for r in rows:
        if not r["lineItem/isCorrection"]:
            r["lineItem/isCorrection"] = "false"
    return rows


def _focus_ts(oci: str) -> str:
    return oci.replace("Z", ":00.000Z")


def focus_rows(cost: list[dict]) -> list[dict]:
    out = []
    for r in cost:
        tags = {k[5:]: v for k, v in r.items() if k.startswith("tags/") and v}
        month = r["lineItem/intervalUsageStart"][:7]
        nxt = {"2025-01": "2025-02", "2025-02": "2025-03"}[month]
        out.append({
            "AvailabilityZone": r["product/availabilityDomain"], "BilledCost": r["cost/myCost"],
            "BillingAccountId": BILLING_ACCOUNT, "BillingAccountName": "", "BillingCurrency": "EUR",
            "BillingPeriodEnd": f"{nxt}-01T00:00:00.000Z", "BillingPeriodStart": f"{month}-01T00:00:00.000Z",
            "ChargeCategory": "Usage", "ChargeDescription": r["product/Description"],
            "ChargeFrequency": "Usage-Based", "ChargePeriodEnd": _focus_ts(r["lineItem/intervalUsageEnd"]),
            "ChargePeriodStart": _focus_ts(r["lineItem/intervalUsageStart"]), "ChargeSubcategory": "On-Demand",
            "CommitmentDiscountCategory": "", "CommitmentDiscountId": "", "CommitmentDiscountName": "",
            "CommitmentDiscountType": "", "EffectiveCost": r["cost/myCost"], "InvoiceIssuer": "Oracle",
            "ListCost": r["cost/myCost"], "ListUnitPrice": r["cost/unitPrice"], "PricingCategory": "Standard",
            "PricingQuantity": r["usage/billedQuantity"], "PricingUnit": r["cost/billingUnitReadable"],
            "Provider": "Oracle", "Publisher": "Oracle", "Region": r["product/region"],
            "ResourceId": r["product/resourceId"], "ResourceName": "",
            "ResourceType": r["product/resourceId"].split(".")[1], "ServiceCategory": SERVICE_CATEGORY[r["product/service"]],
            "ServiceName": r["product/service"], "SkuId": r["cost/productSku"], "SkuPriceId": "",
            "SubAccountId": TENANT, "SubAccountName": "acme",
            "Tags": json.dumps(tags) if tags else "", "UsageQuantity": r["usage/billedQuantity"],
            "UsageUnit": r["cost/billingUnitReadable"], "oci_ReferenceNumber": r["lineItem/referenceNo"],
            "oci_CompartmentId": r["product/compartmentId"], "oci_CompartmentName": r["product/compartmentName"],
            "oci_OverageFlag": r["cost/overageFlag"], "oci_UnitPriceOverage": r["cost/unitPriceOverage"],
            "oci_BilledQuantityOverage": r["usage/billedQuantityOverage"],
            "oci_CostOverage": r["cost/myCostOverage"], "oci_AttributedUsage": "", "oci_AttributedCost": "",
            "oci_BackReferenceNumber": r["lineItem/backreferenceNo"],
        })
    return out


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)


def main() -> None:
    cost = cost_rows()
    _write(HERE / "reports_cost-csv_0001000001234567.csv", COST_COLUMNS, cost)
    _write(HERE / "focus-0001000001234568-00001.csv", FOCUS_COLUMNS, focus_rows(cost))


if __name__ == "__main__":
    main()
