"""Deterministic generator of realistic multi-cloud FOCUS 1.2 billing data, written as Parquet.

``generate(SampleSpec(rows=..., months=..., start=..., seed=...), out_dir)`` writes one Parquet file per
provider per billing month (``aws-2025-01.parquet``, ``azure-2025-01.parquet``, ``gcp-2025-01.parquet``)
with every FOCUS 1.2 column (:data:`FOCUS_COLUMNS`, Arrow types in :data:`SCHEMA`). Output is a pure
function of the spec: numpy ``default_rng`` streams derived from ``seed`` (one per provider per day), no
wall clock, no hash randomisation, so the same spec gives byte-identical files.

Streaming
---------
Rows are produced one provider-day at a time with vectorised numpy (one row per live resource per day,
``ChargePeriod`` = one day) and flushed through a ``pyarrow.parquet.ParquetWriter`` every ~128k rows, so
memory stays flat whatever ``rows`` is. The resource pool (one entry per resource, a few hundred bytes
each) is the only thing that grows with ``rows``.

Row count
---------
``rows`` is split AWS 50% / Azure 30% / Google Cloud 20% and across months with ~4%/month growth. Each
day the generator picks how many resources are live so that the running total lands on the provider-month
target (a small feedback loop that also accounts for commitment "Unused" rows, spike rows and month-end
rows), so the total is within a few rows per file of ``rows`` (±1% from ~5,000 rows for 3 months). Fixed
rows (shared resources, purchases, tax, support, credits) put a floor of ~100 rows per provider per month under
tiny specs.

Money
-----
All arithmetic is exact integer arithmetic: unit prices are integers of 1e-8 USD, quantities integers of
1e-4 units, so ``cost = price * quantity`` is an exact integer of 1e-12 USD (the scale of the
``decimal128(38, 12)`` columns). Hence on every row with a ListUnitPrice,
``ListCost == ListUnitPrice * PricingQuantity`` and ``ContractedCost == ContractedUnitPrice *
PricingQuantity`` exactly. ``ContractedUnitPrice = ListUnitPrice * (1 - negotiated discount)`` (EDP /
MACC / Google discount on some services, 0 elsewhere), so ContractedCost <= ListCost. Plain on-demand usage
has ``BilledCost == EffectiveCost == ContractedCost``. Spot instances are ``PricingCategory = Dynamic``
with the spot rate as the contracted price.

Commitment discounts (the model, and why the invariant holds)
--------------------------------------------------------------
Providers' commitments: AWS regional Reserved Instances (EC2, size-flexible in "Normalized Hours"; RDS)
and Compute Savings Plans, an Azure VM reservation (instance-size flexible) and savings plan, a Google
resource-based CUD (vCPU-hours of N2) and spend-based flexible CUD. Terms of 1 and 3 years; All / Partial /
No Upfront (Azure "Upfront"/"Monthly", Google monthly). Rows follow the FOCUS 1.2 commitment examples:

* ``Usage`` rows covered by a commitment: ``PricingCategory = Committed``, ``CommitmentDiscountStatus =
  Used``, ``BilledCost = 0`` (the money is billed on Purchase rows), ``EffectiveCost`` = the amortised
  commitment rate x the covered quantity, ListCost/ContractedCost keep the on-demand values.
  CommitmentDiscountQuantity = normalized hours (usage-based) or USD consumed (spend-based).
* one ``Usage`` row per commitment per day with unused capacity: ``CommitmentDiscountStatus = Unused``,
  ``ResourceId = CommitmentDiscountId``, BilledCost/ListCost/ContractedCost 0, ``EffectiveCost`` = the
  unused part of that day's amortised commitment, Consumed/Pricing quantity null.
* ``Purchase`` rows (``EffectiveCost = 0``, ``ResourceId = CommitmentDiscountId``): a ``Recurring`` row
  per billing month for the monthly fee, and for upfront payment options a ``One-Time`` row in the month
  the commitment starts.

Every commitment has an amortised rate ``a`` per unit-hour (usage) or per hour (spend) split exactly into
``a = upfront + recurring`` (integers of 1e-8 USD). Each day it is live, the commitment's capacity
``a * units * 24h`` is consumed greedily by eligible on-demand rows of that day (RIs before savings plans,
smallest rows first). The first row that does not fit whole is split, as in FOCUS usage scenario 4, into a
covered Committed row and its on-demand remainder (same resource and day, quantities and costs split
exactly; the covered part also absorbs the sub-unit rounding remainder). Leftover capacity, when the day's
eligible usage is smaller than the commitment, goes to the day's Unused row. So
``Used + Unused == a * units * 24h`` per day exactly. The Purchase rows carry ``recurring * units * hours``
for each month and ``upfront * units * (hours of the term that fall inside the generated window)``. So,
per CommitmentDiscountId, over the generated data::

    SUM(EffectiveCost) of its Usage rows == SUM(BilledCost) of its Purchase rows      (exactly)

The generated window is treated as a closed ledger. Consequences worth knowing:

* Commitments bought *before* the window (and still live, or expiring inside it) are always No Upfront
  / Monthly: their in-window Purchase rows are the real monthly fees.
* Commitments with an upfront payment are bought *inside* the window. Their One-Time Purchase row carries
  only the share of the upfront fee that the straight-line amortisation recognises inside the window
  (e.g. a 3-year All Upfront RI bought on 10 Jan in a Jan-Mar window carries 81/1095 of the full
  upfront); the ChargeDescription says so. The rest of the prepayment would belong to months that are
  not generated. Its ChargePeriod is the purchase day (the FOCUS example uses the whole term; here every
  ChargePeriod is kept inside its BillingPeriod).
* Purchase rows have ListUnitPrice = ContractedUnitPrice = the fee per (normalized) hour, PricingQuantity
  = hours purchased in the row, ListCost = ContractedCost = BilledCost, ConsumedQuantity null.

Other charges
-------------
* Support is a ``Purchase`` / ``Recurring`` fee per month on the management account (FOCUS: a purchase of a
  service that is not a commitment, so ``EffectiveCost = BilledCost``; it covers no future usage and is
  not amortised). AWS Business tiers (10/7/5/3% of the month's charges, min $100), Microsoft Unified 3%
  (min $100), Google Customer Care Standard 3% (min $29).
* ``Tax`` rows per sub-account per month; BilledCost/EffectiveCost/ListCost/ContractedCost are the tax
  rate times the related charges' same metric, rounded to cents (FOCUS 1.2 ListCost/EffectiveCost rules);
  ListUnitPrice, PricingQuantity and PricingCategory are null.
* ``Credit`` rows (negative, ``ListCost = ContractedCost = BilledCost = EffectiveCost``), per month.
* One ``ChargeClass = Correction`` row per provider (negative data-transfer re-rate of the previous month,
  ChargeCategory Usage, negative quantities) in the second month (the first if months == 1).
* No Tags on shared platform costs: shared network sub-account (NAT, transit, firewall), security tooling
  sub-account, management account (purchases, Unused, support), tax and credits, plus 3-55% of the resources
  of the other sub-accounts (never GPU fleets). About 18-24% of EffectiveCost is untagged from ~100k rows up;
  small datasets (~20k rows) land at 22-33% depending on the seed, as a handful of resources dominate. "No
  tags" is null on Azure and ``{}`` on AWS/Google.
* Tags are JSON object text with the messy reality of several teams: ``Team``/``team``/``owner-team``/
  ``owner_team``, ``env``/``Environment``/``environment``, ``CostCenter``/``cost-center``, team values such
  as ``Payments``/``payments``/``payments-team``; Kubernetes nodes carry ``kubernetes_cluster`` (EKS),
  ``aks-managed-cluster-name`` (AKS) or ``goog-k8s-cluster-name`` (GKE).
* Month-over-month growth ~4% and one spike month (month ``months // 2`` when months >= 2, i.e. the middle
  one of 3; ~+35% over trend) from an LLM pre-training run on p5.48xlarge (AWS, inside an EC2 capacity
  reservation, CapacityReservationStatus Used) and a3-highgpu-8g (Google), tagged project=llm-pretrain.
* Sizes: ChargePeriod is one day for usage, the month for tax/credit/support/recurring purchases. Spend
  scales with ``rows``: ~$7 of EffectiveCost per row at 1M+ rows, ~$11 per row at 20k rows.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import pathlib
import re
from decimal import ROUND_HALF_EVEN, Decimal
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from finops_xl.focus.schema import SERVICE_SUBCATEGORIES

__all__ = [
    "SampleSpec",
    "generate",
    "FOCUS_COLUMNS",
    "DECIMAL_COLUMNS",
    "TIMESTAMP_COLUMNS",
    "SCHEMA",
    "SERVICE_SUBCATEGORIES",
]

# --------------------------------------------------------------------------------------------------
# Public spec and schema
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SampleSpec:
    rows: int = 100_000  # approximate total row count (±1%), across all months
    months: int = 3
    start: datetime.date = datetime.date(2025, 1, 1)  # first billing month (day 1)
    seed: int = 42
    plant_waste: bool = False  # add the known waste and healthy look-alikes of ``planted.py``


FOCUS_COLUMNS: tuple[str, ...] = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId",
    "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus",
    "CommitmentDiscountType", "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice",
    "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName",
    "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId",
    "SubAccountName", "SubAccountType", "Tags",
)

DECIMAL_COLUMNS: frozenset[str] = frozenset({
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice", "ContractedUnitPrice",
    "ConsumedQuantity", "PricingQuantity", "CommitmentDiscountQuantity", "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice",
})
TIMESTAMP_COLUMNS: frozenset[str] = frozenset({
    "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
})
DECIMAL_TYPE = pa.decimal128(38, 12)
TIMESTAMP_TYPE = pa.timestamp("us")
SCHEMA: pa.Schema = pa.schema([
    pa.field(c, DECIMAL_TYPE if c in DECIMAL_COLUMNS else TIMESTAMP_TYPE if c in TIMESTAMP_COLUMNS else pa.string())
    for c in FOCUS_COLUMNS
])

# Fixed-point scales: prices in 1e-8 USD, quantities in 1e-4 units, money in 1e-12 USD.
_P8 = 10**8
_Q4 = 10**4
_R12 = 10**12
_DAY_Q4 = 24 * _Q4  # one day in hours, q4
_FLUSH_ROWS = 131_072
_GROWTH = 1.04
_SPIKE = 0.30  # of the expected usage spend; tax and support on top bring it to ~+35%
_SHARES = (0.5, 0.3, 0.2)

# --------------------------------------------------------------------------------------------------
# Catalog: teams, tag styles, templates, providers
# --------------------------------------------------------------------------------------------------

_TEAMS = ("payments", "search", "data-platform", "ml", "web", "mobile", "platform")
_APP_TEAMS = (0, 1, 2, 3, 4, 5)
_TEAM_VARIANTS = {  # [Title, lower, lower-team, alias]
    "payments": ("Payments", "payments", "payments-team", "PAYMENTS"),
    "search": ("Search", "search", "search-team", "search-relevance"),
    "data-platform": ("Data Platform", "data-platform", "data-platform-team", "dataplatform"),
    "ml": ("ML", "ml", "ml-team", "machine-learning"),
    "web": ("Web", "web", "web-team", "frontend"),
    "mobile": ("Mobile", "mobile", "mobile-team", "mobile-apps"),
    "platform": ("Platform", "platform", "platform-team", "platform-eng"),
}
_COST_CENTERS = {"payments": 1001, "search": 1002, "data-platform": 1003, "ml": 1004, "web": 1005,
                 "mobile": 1006, "platform": 1007}
_ENVS = ("prod", "dev", "staging")
_ENV_VARIANTS = {  # [Title, short, long-lower, alias]
    "prod": ("Production", "prod", "production", "prd"),
    "dev": ("Development", "dev", "development", "dev"),
    "staging": ("Staging", "stg", "staging", "stage"),
}
# (team key, env key, cost-center key or None, cost-center format, team variant, env variant,
#  allowed variant indexes for values (Google labels must be lowercase))
_TAG_STYLES = (
    ("Team", "Environment", "CostCenter", "CC-{n}", 0, 0, (0, 1, 2, 3)),
    ("team", "env", "cost-center", "{n}", 1, 1, (0, 1, 2, 3)),
    ("owner-team", "environment", None, "", 2, 2, (0, 1, 2, 3)),
    ("owner_team", "Environment", "CostCenter", "CC{n}", 1, 1, (0, 1, 2, 3)),
    ("team", "env", "cost-center", "cc-{n}", 1, 1, (1, 2)),
    ("owner_team", "environment", "cost_center", "cc{n}", 2, 2, (1, 2)),
    ("Team", "env", "cost-center", "CC-{n}", 0, 1, (0, 1, 2, 3)),
)
_PROJECTS = ("llm-pretrain", "recsys", "fraud-model", "search-ranking")

_KIND = {"hours": 0, "storage": 1, "volume": 2, "count": 3}
_PCAT = ("Standard", "Dynamic", "Committed")


@dataclasses.dataclass(frozen=True)
class _Tmpl:
    key: str
    service: str
    category: str
    subcategory: str
    meter: str
    desc: str  # "{price}" is replaced with the regional list unit price
    punit: str
    cunit: str
    price: str
    kind: str
    weight: float
    roles: tuple[str, ...]
    rtype: str
    rid: str  # resource id pattern ({hex16}, {acct}, {region}, {az}, {name}, {seq}, ...)
    name: str = "{team}-{purpose}-{env}-{seq}"
    purpose: str = "app"
    base: float = 0.0  # median per-resource daily level (GB stored / GB moved / count per day)
    sigma: float = 0.0
    pq_div: int = 1  # PricingQuantity = ConsumedQuantity / pq_div
    disc: float = 0.0  # negotiated discount (ContractedUnitPrice = list * (1 - disc))
    pcat: int = 0  # index into _PCAT
    zonal: bool = False
    region: int = -1  # fixed region index or -1
    min_count: int = 0
    family: str = ""
    norm: int = 1
    gpu: int = 0
    k8s: bool = False
    autoscale: float = 0.0
    details: tuple = ()


def _vm(key, service, itype, price, weight, roles, *, cores, mem, rid, family="", norm=1, gpu=0, disc=0.0,
        purpose="app", k8s=False, name="{team}-{purpose}-{env}-{seq}", region=-1, autoscale=0.15, pcat=0,
        desc=None, meter="Compute Usage") -> _Tmpl:
    details = [("InstanceType", itype), ("CoreCount", cores), ("MemorySize", mem), ("OperatingSystem", "Linux")]
    if gpu:
        details.append(("GpuCount", gpu))
    if family:
        details.append(("Series", family))
    return _Tmpl(key=key, service=service, category="Compute", subcategory="Virtual Machines", meter=meter,
                 desc=desc or f"${{price}} per On Demand Linux {itype} Instance Hour", punit="Hours",
                 cunit="Hours", price=price, kind="hours", weight=weight, roles=roles, rtype="Virtual Machine",
                 rid=rid, name=name, purpose=purpose, disc=disc, pcat=pcat, zonal=True, region=region,
                 family=family, norm=norm, gpu=gpu, k8s=k8s, autoscale=autoscale, details=tuple(details))


_APP = ("app", "data", "sandbox")
_ALL = ("app", "data", "ml", "platform", "network", "security", "sandbox")

_EC2 = "Amazon Elastic Compute Cloud"
_AWS_TEMPLATES = (
    _vm("ec2_m6i_xl", _EC2, "m6i.xlarge", "0.192", 8, _APP, cores=4, mem=16, rid="i-0{hex16}", family="m6i",
        norm=8, disc=0.07),
    _vm("ec2_m6i_2xl", _EC2, "m6i.2xlarge", "0.384", 6, ("app", "data"), cores=8, mem=32, rid="i-0{hex16}",
        family="m6i", norm=16, disc=0.07, purpose="worker"),
    _vm("ec2_r6i_2xl", _EC2, "r6i.2xlarge", "0.504", 4, ("app", "data"), cores=8, mem=64, rid="i-0{hex16}",
        family="r6i", norm=16, disc=0.07, purpose="mem"),
    _vm("ec2_c6i_4xl", _EC2, "c6i.4xlarge", "0.68", 3, ("app", "data"), cores=16, mem=32, rid="i-0{hex16}",
        family="c6i", norm=32, disc=0.07, purpose="cpu"),
    _vm("ec2_c6i_4xl_spot", _EC2, "c6i.4xlarge", "0.68", 2, ("data",), cores=16, mem=32, rid="i-0{hex16}",
        disc=0.64, purpose="batch", pcat=1, autoscale=0.6, desc="$0.68 On Demand equivalent; Spot Linux "
        "c6i.4xlarge Instance Hour (variable rate)", meter="Spot Compute Usage"),
    _vm("ec2_t3_med", _EC2, "t3.medium", "0.0416", 5, ("app", "sandbox"), cores=2, mem=4, rid="i-0{hex16}",
        family="t3", norm=2, disc=0.07, purpose="svc"),
    _vm("ec2_m7g_l", _EC2, "m7g.large", "0.0816", 3, ("app",), cores=2, mem=8, rid="i-0{hex16}", family="m7g",
        norm=4, disc=0.07, purpose="edge"),
    _vm("ec2_g5_2xl", _EC2, "g5.2xlarge", "1.212", 0.8, ("ml",), cores=8, mem=32, gpu=1, rid="i-0{hex16}",
        family="g5", norm=16, purpose="inference", autoscale=0.3),
    _vm("ec2_p4d_24xl", _EC2, "p4d.24xlarge", "32.7726", 0.06, ("ml",), cores=96, mem=1152, gpu=8,
        rid="i-0{hex16}", family="p4d", norm=192, purpose="train", autoscale=0.5, region=0),
    _vm("ec2_p5_48xl", _EC2, "p5.48xlarge", "98.32", 0.0, ("ml",), cores=192, mem=2048, gpu=8,
        rid="i-0{hex16}", family="p5", norm=384, purpose="train", region=0, autoscale=0.0),
    _vm("eks_node_m6i_2xl", _EC2, "m6i.2xlarge", "0.384", 7, ("platform",), cores=8, mem=32, rid="i-0{hex16}",
        family="m6i", norm=16, disc=0.07, k8s=True, name="prod-eks-1-ng-general-{seq}", region=0,
        autoscale=0.2),
    _Tmpl("eks_cluster", "Amazon Elastic Kubernetes Service", "Compute", "Containers", "Cluster Hours",
          "${price} per hour per Amazon EKS cluster", "Hours", "Hours", "0.10", "hours", 0.0, ("platform",),
          "Kubernetes Cluster", "arn:aws:eks:{region}:{acct}:cluster/prod-eks-1", name="prod-eks-1",
          region=0, min_count=1),
    _Tmpl("ebs_gp3", "Amazon Elastic Block Store", "Storage", "Block Storage", "Storage",
          "${price} per GB-month of General Purpose (gp3) provisioned storage", "GB-Months", "GB-Months",
          "0.08", "storage", 12, ("app", "data", "ml", "platform", "sandbox"), "Volume", "vol-0{hex16}",
          name="{team}-{env}-vol-{seq}", base=500, sigma=0.9, disc=0.07, zonal=True,
          details=(("DiskType", "SSD"), ("StorageClass", "gp3"))),
    _Tmpl("ebs_snap", "Amazon Elastic Block Store", "Storage", "Backup Storage", "Snapshot Storage",
          "${price} per GB-Month of snapshot data stored", "GB-Months", "GB-Months", "0.05", "storage", 5,
          ("app", "data", "platform", "sandbox"), "Snapshot", "snap-0{hex16}", name="{team}-{env}-snap-{seq}",
          base=300, sigma=1.2, disc=0.07),
    _Tmpl("s3_standard", "Amazon Simple Storage Service", "Storage", "Object Storage", "Storage",
          "${price} per GB - first 50 TB / month of storage used", "GB-Months", "GB-Months", "0.023", "storage",
          6, ("app", "data", "ml", "security", "network"), "Bucket", "{name}",
          name="acme-{team}-{env}-{purpose}-{seq}", purpose="data", base=2500, sigma=1.4, disc=0.07,
          details=(("StorageClass", "Standard"), ("Redundancy", "Regional"))),
    _Tmpl("s3_requests_t1", "Amazon Simple Storage Service", "Storage", "Object Storage", "API Requests",
          "${price} per 1,000 PUT, COPY, POST, or LIST requests", "1000 Requests", "Requests", "0.005", "count",
          4, ("app", "data", "ml"), "Bucket", "{name}", name="acme-{team}-{env}-{purpose}-{seq}",
          purpose="assets", base=150_000, sigma=1.3, pq_div=1000),
    _Tmpl("s3_requests_t2", "Amazon Simple Storage Service", "Storage", "Object Storage", "API Requests",
          "${price} per 1,000 GET and all other requests", "1000 Requests", "Requests", "0.0004", "count", 3,
          ("app", "data", "ml"), "Bucket", "{name}", name="acme-{team}-{env}-{purpose}-{seq}",
          purpose="cdn-origin", base=2_000_000, sigma=1.3, pq_div=1000),
    _Tmpl("dt_out", "AWS Data Transfer", "Networking", "Network Connectivity", "Data Transfer Out",
          "${price} per GB - first 10 TB / month data transfer out beyond the global free tier", "GB", "GB",
          "0.09", "volume", 5, ("app", "data", "ml", "network"), "Virtual Machine", "i-0{hex16}", base=40,
          sigma=1.3),
    _Tmpl("dt_interaz", "AWS Data Transfer", "Networking", "Network Connectivity", "Inter-AZ Data Transfer",
          "${price} per GB - regional data transfer - in/out/between EC2 AZs or using elastic IPs or ELB",
          "GB", "GB", "0.01", "volume", 3, ("app", "data", "platform"), "Virtual Machine", "i-0{hex16}",
          base=150, sigma=1.2),
    _Tmpl("nat_hours", "Amazon Virtual Private Cloud", "Networking", "Other (Networking)", "NAT Gateway Hours",
          "${price} per NAT Gateway Hour", "Hours", "Hours", "0.045", "hours", 0.3, ("network",),
          "NAT Gateway", "nat-0{hex16}", name="egress-nat-{seq}", zonal=True, min_count=1),
    _Tmpl("nat_bytes", "Amazon Virtual Private Cloud", "Networking", "Other (Networking)",
          "NAT Gateway Data Processed", "${price} per GB Data Processed by NAT Gateways", "GB", "GB", "0.045",
          "volume", 1.2, ("network",), "NAT Gateway", "nat-0{hex16}", name="egress-nat-{seq}", zonal=True,
          base=200, sigma=0.7, min_count=1),
    _Tmpl("alb_hours", "Elastic Load Balancing", "Networking", "Application Networking", "Load Balancer Hours",
          "${price} per Application LoadBalancer-hour (or partial hour)", "Hours", "Hours", "0.0225", "hours",
          1, ("app", "platform", "network"), "Load Balancer",
          "arn:aws:elasticloadbalancing:{region}:{acct}:loadbalancer/app/{name}/{hex16}",
          name="{team}-{env}-alb-{seq}"),
    _Tmpl("alb_lcu", "Elastic Load Balancing", "Networking", "Application Networking", "Load Balancer Capacity Units",
          "${price} per used Application load balancer capacity unit-hour (or partial hour)", "LCU-Hours",
          "LCU-Hours", "0.008", "volume", 1, ("app", "platform", "network"), "Load Balancer",
          "arn:aws:elasticloadbalancing:{region}:{acct}:loadbalancer/app/{name}/{hex16}",
          name="{team}-{env}-alb-{seq}", base=40, sigma=0.8),
    _Tmpl("cloudfront", "Amazon CloudFront", "Networking", "Content Delivery", "Data Transfer Out",
          "${price} per GB - first 10 TB / month data transfer out (United States)", "GB", "GB", "0.085",
          "volume", 1, ("app",), "Distribution", "arn:aws:cloudfront::{acct}:distribution/E{HEX13}",
          name="{team}-{env}-cdn-{seq}", base=60, sigma=1.2),
    _Tmpl("tgw_attach", "AWS Transit Gateway", "Networking", "Network Routing", "Attachment Hours",
          "${price} per Transit Gateway attachment-hour", "Hours", "Hours", "0.05", "hours", 0.2, ("network",),
          "Transit Gateway Attachment",
          "arn:aws:ec2:{region}:{acct}:transit-gateway-attachment/tgw-attach-0{hex16}", name="tgw-attach-{seq}",
          min_count=1),
    _Tmpl("tgw_data", "AWS Transit Gateway", "Networking", "Network Routing", "Data Processed",
          "${price} per GB of data processed by Transit Gateway", "GB", "GB", "0.02", "volume", 0.6,
          ("network",), "Transit Gateway Attachment",
          "arn:aws:ec2:{region}:{acct}:transit-gateway-attachment/tgw-attach-0{hex16}", name="tgw-attach-{seq}",
          base=400, sigma=1.0, min_count=1),
    _Tmpl("rds_pg_r6g_xl", "Amazon Relational Database Service", "Databases", "Relational Databases", "Database Instance",
          "${price} per RDS db.r6g.xlarge instance hour (or partial hour) running PostgreSQL", "Hours", "Hours",
          "0.519", "hours", 2, ("app", "data"), "DB Instance", "arn:aws:rds:{region}:{acct}:db:{name}",
          name="{team}-{env}-pg-{seq}", family="db.r6g.xlarge", disc=0.07, zonal=True,
          details=(("InstanceType", "db.r6g.xlarge"), ("CoreCount", 4), ("MemorySize", 32))),
    _Tmpl("rds_storage", "Amazon Relational Database Service", "Databases", "Relational Databases", "Storage",
          "${price} per GB-month of provisioned gp3 storage running PostgreSQL", "GB-Months", "GB-Months",
          "0.115", "storage", 2, ("app", "data"), "DB Instance", "arn:aws:rds:{region}:{acct}:db:{name}",
          name="{team}-{env}-pg-{seq}", base=500, sigma=0.8, disc=0.07),
    _Tmpl("dynamodb_wru", "Amazon DynamoDB", "Databases", "NoSQL Databases", "Write Request Units",
          "${price} per write request unit", "Write Request Units", "Write Request Units", "0.00000125",
          "count", 1.5, ("app",), "Table", "arn:aws:dynamodb:{region}:{acct}:table/{name}",
          name="{team}-{env}-{purpose}-{seq}", purpose="sessions", base=4_000_000, sigma=1.2),
    _Tmpl("dynamodb_rru", "Amazon DynamoDB", "Databases", "NoSQL Databases", "Read Request Units",
          "${price} per read request unit", "Read Request Units", "Read Request Units", "0.00000025", "count",
          1.5, ("app",), "Table", "arn:aws:dynamodb:{region}:{acct}:table/{name}",
          name="{team}-{env}-{purpose}-{seq}", purpose="catalog", base=20_000_000, sigma=1.2),
    _Tmpl("elasticache", "Amazon ElastiCache", "Databases", "Caching", "Cache Node Hours",
          "${price} per Redis OSS cache.r6g.large node-hour (or partial hour)", "Hours", "Hours", "0.206",
          "hours", 1, ("app",), "Cache Node", "arn:aws:elasticache:{region}:{acct}:cluster:{name}",
          name="{team}-{env}-redis-{seq}", zonal=True,
          details=(("InstanceType", "cache.r6g.large"), ("CoreCount", 2), ("MemorySize", 13))),
    _Tmpl("redshift", "Amazon Redshift", "Databases", "Data Warehouses", "Node Hours",
          "${price} per RA3 4XL Node Hour (or partial hour)", "Hours", "Hours", "3.26", "hours", 0.3, ("data",),
          "Cluster", "arn:aws:redshift:{region}:{acct}:cluster:{name}", name="{team}-dwh-{seq}", zonal=True,
          details=(("InstanceType", "ra3.4xlarge"), ("CoreCount", 12), ("MemorySize", 96))),
    _Tmpl("lambda_requests", "AWS Lambda", "Compute", "Serverless Compute", "Requests",
          "${price} per request", "Requests", "Requests", "0.0000002", "count", 2, ("app",), "Function",
          "arn:aws:lambda:{region}:{acct}:function:{name}", name="{team}-{env}-fn-{seq}", base=1_000_000,
          sigma=1.5),
    _Tmpl("lambda_gbs", "AWS Lambda", "Compute", "Serverless Compute", "Duration",
          "${price} per 1,000 GB-seconds (x86)", "1000 GB-Seconds", "GB-Seconds", "0.0166667", "count", 2,
          ("app",), "Function", "arn:aws:lambda:{region}:{acct}:function:{name}", name="{team}-{env}-fn-{seq}",
          base=200_000, sigma=1.3, pq_div=1000),
    _Tmpl("bedrock_input", "Amazon Bedrock", "AI and Machine Learning", "Generative AI", "Input Tokens",
          "${price} per 1K input tokens for Claude 3.5 Sonnet", "1000 Tokens", "Tokens", "0.003", "count", 0.8,
          ("app", "ml"), "Inference Profile",
          "arn:aws:bedrock:{region}:{acct}:application-inference-profile/{hex12}", name="{team}-{purpose}-{seq}",
          purpose="assistant", base=8_000_000, sigma=0.7, pq_div=1000, region=0),
    _Tmpl("bedrock_output", "Amazon Bedrock", "AI and Machine Learning", "Generative AI", "Output Tokens",
          "${price} per 1K output tokens for Claude 3.5 Sonnet", "1000 Tokens", "Tokens", "0.015", "count", 0.8,
          ("app", "ml"), "Inference Profile",
          "arn:aws:bedrock:{region}:{acct}:application-inference-profile/{hex12}", name="{team}-{purpose}-{seq}",
          purpose="assistant", base=800_000, sigma=0.7, pq_div=1000, region=0),
    _Tmpl("sagemaker_training", "Amazon SageMaker", "AI and Machine Learning", "Machine Learning",
          "Training Instance Hours", "${price} per ml.g5.2xlarge hour for Training", "Hours", "Hours", "1.515",
          "hours", 0.3, ("ml",), "Training Job", "arn:aws:sagemaker:{region}:{acct}:training-job/{name}",
          name="{team}-{purpose}-{seq}", purpose="finetune", autoscale=0.8, region=0),
    _Tmpl("cloudwatch_logs", "Amazon CloudWatch", "Management and Governance", "Observability",
          "Log Ingestion", "${price} per GB custom log data ingested", "GB", "GB", "0.50", "volume", 3, _ALL,
          "Log Group", "arn:aws:logs:{region}:{acct}:log-group:/{team}/{env}/{seq}", base=4, sigma=1.2),
    _Tmpl("guardduty", "Amazon GuardDuty", "Security", "Threat Detection and Response", "Flow Log Analysis",
          "${price} per GB of VPC Flow Log and DNS log analysis", "GB", "GB", "1.00", "volume", 0.8,
          ("security",), "Detector", "arn:aws:guardduty:{region}:{acct}:detector/{hex32}", base=4, sigma=0.6,
          min_count=1),
    _Tmpl("securityhub", "AWS Security Hub", "Security", "Security Posture Management", "Security Checks",
          "${price} per security check for the first 100,000 checks/account/region/month", "Checks", "Checks",
          "0.001", "count", 0.8, ("security",), "Standards Subscription",
          "arn:aws:securityhub:{region}:{acct}:subscription/aws-foundational-security-best-practices/v/1.0.0/{hex8}",
          base=4_000, sigma=0.5, min_count=1),
)

_AZ_VM = "/subscriptions/{acct}/resourceGroups/rg-{team}-{env}/providers/Microsoft.Compute/virtualMachines/{name}"
_AZURE_TEMPLATES = (
    _vm("vm_d4s_v5", "Virtual Machines", "Standard_D4s_v5", "0.192", 8, _APP, cores=4, mem=16, rid=_AZ_VM,
        family="Dsv5", norm=2, disc=0.05, name="vm-{team}-{env}-{seq}",
        desc="Virtual Machines Dsv5 Series - D4s v5 - ${price}/Hour"),
    _vm("vm_d8s_v5", "Virtual Machines", "Standard_D8s_v5", "0.384", 5, ("app", "data"), cores=8, mem=32,
        rid=_AZ_VM, family="Dsv5", norm=4, disc=0.05, name="vm-{team}-{env}-wrk-{seq}",
        desc="Virtual Machines Dsv5 Series - D8s v5 - ${price}/Hour"),
    _vm("vm_e8s_v5", "Virtual Machines", "Standard_E8s_v5", "0.504", 3, ("app", "data"), cores=8, mem=64,
        rid=_AZ_VM, family="Esv5", norm=4, disc=0.05, name="vm-{team}-{env}-mem-{seq}",
        desc="Virtual Machines Esv5 Series - E8s v5 - ${price}/Hour"),
    _vm("vm_b2ms", "Virtual Machines", "Standard_B2ms", "0.0832", 4, ("app", "sandbox"), cores=2, mem=8,
        rid=_AZ_VM, family="BS", norm=1, disc=0.05, name="vm-{team}-{env}-b-{seq}",
        desc="Virtual Machines BS Series - B2ms - ${price}/Hour"),
    _vm("vm_nc24ads_a100", "Virtual Machines", "Standard_NC24ads_A100_v4", "3.673", 0.5, ("ml",), cores=24,
        mem=220, gpu=1, rid=_AZ_VM, family="NCADSA100v4", norm=1, name="vm-{team}-gpu-{seq}", region=0,
        autoscale=0.4, desc="Virtual Machines NCads A100 v4 Series - NC24ads A100 v4 - ${price}/Hour"),
    _vm("aks_node_d8s_v5", "Virtual Machines", "Standard_D8s_v5", "0.384", 5, ("platform",), cores=8, mem=32,
        rid="/subscriptions/{acct}/resourceGroups/mc_rg-aks-prod_aks-prod-1_eastus/providers/"
            "Microsoft.Compute/virtualMachineScaleSets/aks-userpool-31415926-vmss/virtualMachines/{seq}",
        family="Dsv5", norm=4, disc=0.05, k8s=True, name="aks-userpool-31415926-vmss_{seq}", region=0,
        autoscale=0.25, desc="Virtual Machines Dsv5 Series - D8s v5 - ${price}/Hour"),
    _Tmpl("aks_uptime_sla", "Azure Kubernetes Service", "Compute", "Containers", "Standard Tier Hours",
          "Azure Kubernetes Service - Standard - Uptime SLA - ${price}/Hour", "Hours", "Hours", "0.10", "hours",
          0.0, ("platform",), "Managed Cluster",
          "/subscriptions/{acct}/resourceGroups/rg-aks-prod/providers/Microsoft.ContainerService/"
          "managedClusters/aks-prod-1", name="aks-prod-1", region=0, min_count=1),
    _Tmpl("managed_disk_premium", "Storage", "Storage", "Block Storage", "Premium SSD Managed Disks",
          "Premium SSD Managed Disks - LRS - ${price}/GB-Month", "GB-Months", "GB-Months", "0.12", "storage",
          10, ("app", "data", "ml", "platform", "sandbox"), "Block Storage",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-{env}/providers/Microsoft.Compute/disks/{name}",
          name="disk-{team}-{env}-{seq}", base=512, sigma=0.8, disc=0.05, zonal=True,
          details=(("DiskType", "SSD"), ("Redundancy", "Local"))),
    _Tmpl("managed_disk_snapshot", "Storage", "Storage", "Backup Storage", "Snapshots",
          "Standard HDD Managed Disks - Snapshots - ${price}/GB-Month", "GB-Months", "GB-Months", "0.05",
          "storage", 3, ("app", "data", "platform"), "Snapshot",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-{env}/providers/Microsoft.Compute/snapshots/{name}",
          name="snap-{team}-{env}-{seq}", base=300, sigma=1.0),
    _Tmpl("blob_hot", "Storage", "Storage", "Object Storage", "Hot LRS Data Stored",
          "Blob Storage - Hot - LRS Data Stored - ${price}/GB-Month", "GB-Months", "GB-Months", "0.0184",
          "storage", 5, ("app", "data", "ml", "security"), "Storage Account",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-{env}/providers/Microsoft.Storage/storageAccounts/"
          "{name}", name="st{team}{env}{seq}", base=2500, sigma=1.4, disc=0.05,
          details=(("StorageClass", "Hot"), ("Redundancy", "Local"))),
    _Tmpl("blob_write_ops", "Storage", "Storage", "Object Storage", "Hot LRS Write Operations",
          "Blob Storage - Hot - LRS Write Operations - ${price}/10K", "10000 Transactions", "Transactions",
          "0.055", "count", 3, ("app", "data", "ml"), "Storage Account",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-{env}/providers/Microsoft.Storage/storageAccounts/"
          "{name}", name="st{team}{env}{seq}", base=500_000, sigma=1.2, pq_div=10000),
    _Tmpl("bandwidth_out", "Bandwidth", "Networking", "Network Connectivity", "Standard Data Transfer Out",
          "Rtn Preference: MGN - Standard Data Transfer Out - ${price}/GB", "GB", "GB", "0.087", "volume", 4,
          ("app", "data", "ml", "network"), "Virtual Machine", _AZ_VM, name="vm-{team}-{env}-{seq}", base=35,
          sigma=1.3),
    _Tmpl("nat_gateway", "NAT Gateway", "Networking", "Other (Networking)", "Gateway",
          "NAT Gateway - Standard Gateway - ${price}/Hour", "Hours", "Hours", "0.045", "hours", 0.2,
          ("network",), "NAT Gateway",
          "/subscriptions/{acct}/resourceGroups/rg-hub-network/providers/Microsoft.Network/natGateways/{name}",
          name="ngw-hub-{seq}", min_count=2),
    _Tmpl("nat_gateway_data", "NAT Gateway", "Networking", "Other (Networking)", "Data Processed",
          "NAT Gateway - Standard Data Processed - ${price}/GB", "GB", "GB", "0.045", "volume", 1.0,
          ("network",), "NAT Gateway",
          "/subscriptions/{acct}/resourceGroups/rg-hub-network/providers/Microsoft.Network/natGateways/{name}",
          name="ngw-hub-{seq}", base=150, sigma=0.7, min_count=1),
    _Tmpl("load_balancer", "Load Balancer", "Networking", "Application Networking", "Standard Overage LB Rules",
          "Load Balancer - Standard Included LB Rules and Outbound Rules - ${price}/Hour", "Hours", "Hours",
          "0.025", "hours", 1, ("app", "platform", "network"), "Load Balancer",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-{env}/providers/Microsoft.Network/loadBalancers/"
          "{name}", name="lb-{team}-{env}-{seq}"),
    _Tmpl("azure_firewall", "Azure Firewall", "Networking", "Network Security", "Basic Deployment",
          "Azure Firewall - Basic Deployment - ${price}/Hour", "Hours", "Hours", "0.395", "hours", 0.1,
          ("network",), "Firewall",
          "/subscriptions/{acct}/resourceGroups/rg-hub-network/providers/Microsoft.Network/azureFirewalls/"
          "{name}", name="afw-hub-{seq}", min_count=1, region=0),
    _Tmpl("sql_database_gp", "SQL Database", "Databases", "Relational Databases", "vCore",
          "SQL Database Single/Elastic Pool General Purpose - Compute Gen5 - 4 vCore - ${price}/Hour", "Hours",
          "Hours", "1.009", "hours", 2, ("app", "data"), "SQL Database",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-{env}/providers/Microsoft.Sql/servers/sql-{team}-"
          "{env}/databases/{name}", name="sqldb-{team}-{seq}", details=(("CoreCount", 4),)),
    _Tmpl("cosmos_db", "Azure Cosmos DB", "Databases", "NoSQL Databases", "100 RU/s",
          "Azure Cosmos DB - 100 RU/s - ${price}/Hour", "100 RU/s-Hours", "100 RU/s-Hours", "0.008", "volume",
          1.5, ("app",), "Cosmos DB Account",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-{env}/providers/Microsoft.DocumentDB/"
          "databaseAccounts/{name}", name="cosmos-{team}-{env}-{seq}", base=400, sigma=1.0),
    _Tmpl("redis_cache", "Azure Cache for Redis", "Databases", "Caching", "P1 Cache Instance",
          "Azure Cache for Redis - Premium - P1 Cache Instance - ${price}/Hour", "Hours", "Hours", "0.555",
          "hours", 0.8, ("app",), "Redis Cache",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-{env}/providers/Microsoft.Cache/Redis/{name}",
          name="redis-{team}-{env}-{seq}"),
    _Tmpl("aoai_input", "Azure OpenAI", "AI and Machine Learning", "Generative AI", "gpt-4o Input Tokens",
          "Azure OpenAI - gpt-4o-0806 Inp Glbl - ${price}/1K Tokens", "1000 Tokens", "Tokens", "0.0025", "count",
          1.0, ("app", "ml"), "Cognitive Services Account",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-ai/providers/Microsoft.CognitiveServices/accounts/"
          "{name}", name="aoai-{team}-{seq}", base=12_000_000, sigma=0.7, pq_div=1000, region=0),
    _Tmpl("aoai_output", "Azure OpenAI", "AI and Machine Learning", "Generative AI", "gpt-4o Output Tokens",
          "Azure OpenAI - gpt-4o-0806 Outp Glbl - ${price}/1K Tokens", "1000 Tokens", "Tokens", "0.01", "count",
          1.0, ("app", "ml"), "Cognitive Services Account",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-ai/providers/Microsoft.CognitiveServices/accounts/"
          "{name}", name="aoai-{team}-{seq}", base=1_200_000, sigma=0.7, pq_div=1000, region=0),
    _Tmpl("aml_compute", "Azure Machine Learning", "AI and Machine Learning", "Machine Learning",
          "NC6s v3 Compute", "Azure Machine Learning - NC6s v3 - ${price}/Hour", "Hours", "Hours", "3.06",
          "hours", 0.3, ("ml",), "Machine Learning Compute",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-aml/providers/Microsoft.MachineLearningServices/"
          "workspaces/mlw-{team}/computes/{name}", name="gpu-cluster-{seq}", autoscale=0.8, region=0),
    _Tmpl("log_analytics", "Log Analytics", "Management and Governance", "Observability", "Analytics Logs",
          "Log Analytics - Pay-as-you-go Data Ingestion - ${price}/GB", "GB", "GB", "2.30", "volume", 3, _ALL,
          "Log Analytics Workspace",
          "/subscriptions/{acct}/resourceGroups/rg-{team}-{env}/providers/Microsoft.OperationalInsights/"
          "workspaces/{name}", name="log-{team}-{env}-{seq}", base=2, sigma=1.2),
    _Tmpl("defender_servers", "Microsoft Defender for Cloud", "Security", "Threat Detection and Response",
          "Standard Node", "Microsoft Defender for Servers - Plan 2 - ${price}/Node-Hour", "Hours", "Hours",
          "0.02", "volume", 0.9, ("security",), "Security Pricing",
          "/subscriptions/{acct}/resourceGroups/rg-protected-{seq}/providers/Microsoft.Security/pricings/"
          "VirtualMachines",
          name="defender-{seq}",
          base=360, sigma=0.5, min_count=1),
    _Tmpl("sentinel", "Microsoft Sentinel", "Security", "Threat Detection and Response", "Analysis",
          "Microsoft Sentinel - Pay-as-you-go Analysis - ${price}/GB", "GB", "GB", "2.46", "volume", 0.8,
          ("security",), "Sentinel Workspace",
          "/subscriptions/{acct}/resourceGroups/rg-secops/providers/Microsoft.OperationalInsights/workspaces/"
          "{name}", name="law-sentinel-{seq}", base=1.5, sigma=0.6, min_count=1),
)

_GCE_VM = "//compute.googleapis.com/projects/{acct}/zones/{az}/instances/{name}"
_GCP_TEMPLATES = (
    _vm("gce_n2_std_4", "Compute Engine", "n2-standard-4", "0.194236", 6, _APP, cores=4, mem=16, rid=_GCE_VM,
        family="n2", norm=4, disc=0.08, name="{team}-{env}-{seq}",
        desc="N2 Instance Core and Ram running in Americas (n2-standard-4, ${price}/hour)"),
    _vm("gce_n2_std_8", "Compute Engine", "n2-standard-8", "0.388472", 5, ("app", "data"), cores=8, mem=32,
        rid=_GCE_VM, family="n2", norm=8, disc=0.08, name="{team}-{env}-wrk-{seq}",
        desc="N2 Instance Core and Ram running in Americas (n2-standard-8, ${price}/hour)"),
    _vm("gce_e2_std_4", "Compute Engine", "e2-standard-4", "0.134012", 5, ("app", "sandbox"), cores=4, mem=16,
        rid=_GCE_VM, family="e2", norm=4, disc=0.08, name="{team}-{env}-e2-{seq}",
        desc="E2 Instance Core and Ram running in Americas (e2-standard-4, ${price}/hour)"),
    _vm("gce_a2_highgpu_1g", "Compute Engine", "a2-highgpu-1g", "3.673385", 0.5, ("ml",), cores=12, mem=85,
        gpu=1, rid=_GCE_VM, family="a2", norm=12, name="{team}-a100-{seq}", region=0, autoscale=0.4,
        desc="A2 Instance with 1 Nvidia Tesla A100 GPU running in Americas (${price}/hour)"),
    _vm("gce_a3_highgpu_8g", "Compute Engine", "a3-highgpu-8g", "88.49", 0.0, ("ml",), cores=208, mem=1872,
        gpu=8, rid=_GCE_VM, family="a3", norm=208, name="{team}-h100-{seq}", region=0, autoscale=0.0,
        desc="A3 Instance with 8 Nvidia H100 80GB GPUs running in Americas (${price}/hour)"),
    _vm("gke_node_n2_std_8", "Compute Engine", "n2-standard-8", "0.388472", 5, ("platform",), cores=8, mem=32,
        rid=_GCE_VM, family="n2", norm=8, disc=0.08, k8s=True, name="gke-gke-prod-1-default-pool-{hex8}",
        region=0, autoscale=0.25,
        desc="N2 Instance Core and Ram running in Americas (n2-standard-8, ${price}/hour)"),
    _Tmpl("gke_cluster", "Kubernetes Engine", "Compute", "Containers", "Cluster Management Fee",
          "Regional Kubernetes Clusters (${price}/hour)", "Hours", "Hours", "0.10", "hours", 0.0, ("platform",),
          "Kubernetes Cluster", "//container.googleapis.com/projects/{acct}/locations/{region}/clusters/gke-prod-1",
          name="gke-prod-1", region=0, min_count=1),
    _Tmpl("pd_balanced", "Persistent Disk", "Storage", "Block Storage", "Balanced PD Capacity",
          "Balanced PD Capacity (${price}/GiB-month)", "GB-Months", "GB-Months", "0.10", "storage", 8,
          ("app", "data", "ml", "platform", "sandbox"), "Block Storage",
          "//compute.googleapis.com/projects/{acct}/zones/{az}/disks/{name}", name="{team}-{env}-disk-{seq}",
          base=400, sigma=0.9, disc=0.08, zonal=True, details=(("DiskType", "SSD"),)),
    _Tmpl("pd_snapshot", "Persistent Disk", "Storage", "Backup Storage", "Snapshot Storage",
          "Storage PD Snapshot (${price}/GiB-month)", "GB-Months", "GB-Months", "0.05", "storage", 3,
          ("app", "data", "platform"), "Snapshot",
          "//compute.googleapis.com/projects/{acct}/global/snapshots/{name}", name="{team}-{env}-snap-{seq}",
          base=300, sigma=1.0),
    _Tmpl("gcs_standard", "Cloud Storage", "Storage", "Object Storage", "Standard Storage",
          "Standard Storage US Regional (${price}/GiB-month)", "GB-Months", "GB-Months", "0.020", "storage", 5,
          ("app", "data", "ml", "security"), "Bucket", "//storage.googleapis.com/projects/_/buckets/{name}",
          name="acme-{team}-{env}-{purpose}-{seq}", purpose="data", base=3000, sigma=1.4, disc=0.08,
          details=(("StorageClass", "Standard"), ("Redundancy", "Regional"))),
    _Tmpl("gcs_class_a", "Cloud Storage", "Storage", "Object Storage", "Class A Operations",
          "Standard Storage Class A Operations (${price}/1000 ops)", "1000 Requests", "Requests", "0.005",
          "count", 2, ("app", "data", "ml"), "Bucket", "//storage.googleapis.com/projects/_/buckets/{name}",
          name="acme-{team}-{env}-{purpose}-{seq}", purpose="ingest", base=200_000, sigma=1.2, pq_div=1000),
    _Tmpl("net_egress", "Networking", "Networking", "Network Connectivity", "Internet Egress",
          "Network Internet Egress from Americas to Americas (${price}/GiB)", "GB", "GB", "0.12", "volume", 4,
          ("app", "data", "ml", "network"), "Virtual Machine", _GCE_VM, name="{team}-{env}-{seq}", zonal=True,
          base=30, sigma=1.3),
    _Tmpl("net_interzone", "Networking", "Networking", "Network Connectivity", "Inter Zone Egress",
          "Network Inter Zone Data Transfer Out (${price}/GiB)", "GB", "GB", "0.01", "volume", 2,
          ("app", "data", "platform"), "Virtual Machine", _GCE_VM, name="{team}-{env}-{seq}", zonal=True,
          base=200, sigma=1.2),
    _Tmpl("cloud_nat", "Cloud NAT", "Networking", "Other (Networking)", "NAT Gateway Data Processing",
          "Cloud NAT Gateway: Data processing (${price}/GiB)", "GB", "GB", "0.045", "volume", 1.2, ("network",),
          "NAT Gateway", "//compute.googleapis.com/projects/{acct}/regions/{region}/routers/{name}",
          name="nat-router-{seq}", base=150, sigma=0.7, min_count=1),
    _Tmpl("lb_forwarding_rule", "Cloud Load Balancing", "Networking", "Application Networking", "Forwarding Rule",
          "Global External Application Load Balancer Forwarding Rule Minimum (${price}/hour)", "Hours", "Hours",
          "0.025", "hours", 1, ("app", "platform", "network"), "Forwarding Rule",
          "//compute.googleapis.com/projects/{acct}/global/forwardingRules/{name}", name="{team}-{env}-fr-{seq}"),
    _Tmpl("cloud_armor", "Cloud Armor", "Networking", "Network Security", "Requests",
          "Cloud Armor Requests (${price}/1000 requests)", "1000 Requests", "Requests", "0.00075", "count", 0.3,
          ("network",), "Security Policy", "//compute.googleapis.com/projects/{acct}/global/securityPolicies/{name}",
          name="edge-waf-{seq}", base=5_000_000, sigma=0.7, pq_div=1000, min_count=1),
    _Tmpl("cloudsql_pg", "Cloud SQL", "Databases", "Relational Databases", "vCPU and RAM",
          "Cloud SQL for PostgreSQL: Zonal - 4 vCPU + 16GB RAM in Americas (${price}/hour)", "Hours", "Hours",
          "0.2772", "hours", 2, ("app", "data"), "Database Instance",
          "//cloudsql.googleapis.com/projects/{acct}/instances/{name}", name="{team}-{env}-pg-{seq}", zonal=True,
          details=(("CoreCount", 4), ("MemorySize", 16))),
    _Tmpl("bigquery_analysis", "BigQuery", "Databases", "Data Warehouses", "Analysis",
          "Analysis (${price}/TiB)", "TiB", "TiB", "6.25", "volume", 2, ("data", "app"), "Dataset",
          "//bigquery.googleapis.com/projects/{acct}/datasets/{name}", name="{team}_{env}_{seq}", base=1.5,
          sigma=1.3),
    _Tmpl("bigquery_storage", "BigQuery", "Databases", "Data Warehouses", "Active Logical Storage",
          "Active Logical Storage (${price}/GiB-month)", "GB-Months", "GB-Months", "0.02", "storage", 1,
          ("data",), "Dataset", "//bigquery.googleapis.com/projects/{acct}/datasets/{name}",
          name="{team}_{env}_{seq}", base=3000, sigma=1.2),
    _Tmpl("memorystore", "Memorystore for Redis", "Databases", "Caching", "Standard Tier Capacity",
          "Redis Capacity Standard M2 (${price}/hour)", "Hours", "Hours", "0.25", "hours", 0.6, ("app",),
          "Redis Instance", "//redis.googleapis.com/projects/{acct}/locations/{region}/instances/{name}",
          name="{team}-{env}-redis-{seq}"),
    _Tmpl("vertex_gemini_input", "Vertex AI", "AI and Machine Learning", "Generative AI", "Input Tokens",
          "Gemini 2.0 Flash Input Text Tokens (${price}/1K tokens)", "1000 Tokens", "Tokens", "0.00015", "count",
          1.0, ("app", "ml"), "Endpoint",
          "//aiplatform.googleapis.com/projects/{acct}/locations/{region}/endpoints/{num}", name="{team}-{seq}",
          base=40_000_000, sigma=0.7, pq_div=1000, region=0),
    _Tmpl("vertex_gemini_output", "Vertex AI", "AI and Machine Learning", "Generative AI", "Output Tokens",
          "Gemini 2.0 Flash Output Text Tokens (${price}/1K tokens)", "1000 Tokens", "Tokens", "0.0006", "count",
          1.0, ("app", "ml"), "Endpoint",
          "//aiplatform.googleapis.com/projects/{acct}/locations/{region}/endpoints/{num}", name="{team}-{seq}",
          base=4_000_000, sigma=0.7, pq_div=1000, region=0),
    _Tmpl("vertex_training", "Vertex AI", "AI and Machine Learning", "Machine Learning", "Custom Training",
          "Vertex AI: Training on A2 Highgpu 1g (${price}/hour)", "Hours", "Hours", "4.22", "hours", 0.3,
          ("ml",), "Custom Job", "//aiplatform.googleapis.com/projects/{acct}/locations/{region}/customJobs/{num}",
          name="{team}-train-{seq}", autoscale=0.8, region=0),
    _Tmpl("cloud_logging", "Cloud Logging", "Management and Governance", "Observability", "Log Volume",
          "Log Storage cost (${price}/GiB)", "GB", "GB", "0.50", "volume", 3, _ALL, "Log Bucket",
          "//logging.googleapis.com/projects/{acct}/locations/global/buckets/{name}", name="{team}-{env}-logs-{seq}",
          base=3,
          sigma=1.2),
    _Tmpl("scc_premium", "Security Command Center", "Security", "Security Posture Management", "Premium Compute Protection",
          "Security Command Center Premium - compute (${price}/vCPU-hour)", "vCPU-Hours", "vCPU-Hours",
          "0.0105", "volume", 1.0, ("security",), "Organization Settings",
          "//securitycenter.googleapis.com/projects/{acct}/locations/global/securityHealthAnalyticsSettings/{hex8}",
          name="scc-{seq}", base=500,
          sigma=0.4, min_count=1),
)


@dataclasses.dataclass(frozen=True)
class _Acct:
    id: str
    name: str
    role: str  # mgmt | app | data | ml | platform | network | security | sandbox
    team: int  # index into _TEAMS or -1
    env: int  # index into _ENVS
    style: int  # index into _TAG_STYLES
    untag: float  # probability that a resource carries no tags
    weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class _Region:
    id: str
    name: str
    weight: float
    mult: str  # list price multiplier vs. the home region
    zones: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class _CommitDef:
    key: str
    ctype: str  # CommitmentDiscountType
    category: str  # Usage | Spend
    term_years: int
    payment: str
    upfront_share: str  # share of the amortised rate paid upfront ("0", "0.5", "1")
    start_offset: int  # days after window start (negative = bought before the window)
    start_month: int  # if >= 0: bought on day `start_offset` of this window month (clamped to the window)
    families: tuple[str, ...]  # eligible template families (usage) / templates with these families (spend)
    region: int  # eligible region index or -1 (any)
    disc: float  # discount vs list of the amortised commitment rate
    frac: float  # sizing: share of eligible usage at the start that the commitment covers
    unit: str
    service: str
    category_svc: str
    subcategory_svc: str
    name: str
    id_pattern: str
    spend_templates: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class _ProviderDef:
    code: str  # file prefix / short name
    provider: str
    publisher: str
    issuer: str
    billing_account_id: str
    billing_account_name: str
    billing_account_type: str
    sub_account_type: str
    regions: tuple[_Region, ...]
    accounts: tuple[_Acct, ...]
    templates: tuple[_Tmpl, ...]
    commits: tuple[_CommitDef, ...]
    untagged: str | None  # representation of "no tags"
    k8s_tags: dict
    tax_rate: str
    sku_style: str
    invoice_fmt: str
    spike_template: str
    spike_share: float
    credit_account: str
    credit_share: str
    credit_desc: str
    credit_service: tuple[str, str, str]
    support_service: str
    correction_template: str


_AWS = _ProviderDef(
    code="aws", provider="AWS", publisher="AWS", issuer="AWS", billing_account_id="112233445566",
    billing_account_name="Acme Corp (AWS Organization)", billing_account_type="Management Account",
    sub_account_type="Member Account",
    regions=(
        _Region("us-east-1", "US East (N. Virginia)", 0.55, "1", ("us-east-1a", "us-east-1b", "us-east-1c",
                                                                   "us-east-1d")),
        _Region("us-west-2", "US West (Oregon)", 0.25, "1", ("us-west-2a", "us-west-2b", "us-west-2c")),
        _Region("eu-west-1", "Europe (Ireland)", 0.15, "1.07", ("eu-west-1a", "eu-west-1b", "eu-west-1c")),
        _Region("ap-southeast-2", "Asia Pacific (Sydney)", 0.05, "1.2",
                ("ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c")),
    ),
    accounts=(
        _Acct("112233445566", "acme-management", "mgmt", -1, 0, 0, 1.0, 0.0),
        _Acct("210987654301", "acme-payments-prod", "app", 0, 0, 0, 0.08, 1.6),
        _Acct("210987654302", "acme-payments-dev", "app", 0, 1, 1, 0.2, 0.6),
        _Acct("210987654303", "acme-search-prod", "app", 1, 0, 1, 0.1, 1.2),
        _Acct("210987654304", "acme-web-prod", "app", 4, 0, 2, 0.11, 1.2),
        _Acct("210987654305", "acme-mobile-backend", "app", 5, 0, 3, 0.13, 0.9),
        _Acct("210987654306", "acme-data-platform", "data", 2, 0, 1, 0.1, 1.0),
        _Acct("210987654307", "acme-ml-research", "ml", 3, 0, 3, 0.09, 1.0),
        _Acct("210987654308", "acme-platform-eks", "platform", 6, 0, 0, 0.03, 1.0),
        _Acct("210987654309", "acme-shared-network", "network", -1, 0, 0, 1.0, 0.3),
        _Acct("210987654310", "acme-security-tooling", "security", -1, 0, 0, 1.0, 0.3),
        _Acct("210987654311", "acme-sandbox", "sandbox", -1, 1, 2, 0.5, 0.7),
    ),
    templates=_AWS_TEMPLATES,
    commits=(
        _CommitDef("aws_ri_m6i", "Reserved Instance", "Usage", 1, "No Upfront", "0", -300, -1, ("m6i",), 0,
                   0.36, 0.55, "Normalized Hours", _EC2, "Compute", "Virtual Machines",
                   "EC2 RI m6i (size-flexible) us-east-1 Linux 1yr No Upfront",
                   "arn:aws:ec2:us-east-1:112233445566:reserved-instances/{uuid}"),
        _CommitDef("aws_ri_r6i", "Reserved Instance", "Usage", 3, "All Upfront", "1", 9, 0, ("r6i",), 0, 0.60,
                   0.7, "Normalized Hours", _EC2, "Compute", "Virtual Machines",
                   "EC2 RI r6i (size-flexible) us-east-1 Linux 3yr All Upfront",
                   "arn:aws:ec2:us-east-1:112233445566:reserved-instances/{uuid}"),
        _CommitDef("aws_ri_rds", "Reserved Instance", "Usage", 1, "Partial Upfront", "0.5", 0, 1,
                   ("db.r6g.xlarge",), 0, 0.32, 1.3, "Hours", "Amazon Relational Database Service", "Databases",
                   "Relational Databases", "RDS RI db.r6g.xlarge PostgreSQL us-east-1 1yr Partial Upfront",
                   "arn:aws:rds:us-east-1:112233445566:ri:rds-pg-r6g-xl-{hex8}"),
        _CommitDef("aws_sp_compute_3y", "Savings Plan", "Spend", 3, "No Upfront", "0", -400, -1,
                   ("m6i", "r6i", "c6i", "t3", "m7g", "g5", "p4d", "p5"), -1, 0.45, 0.35, "USD",
                   "Savings Plans for AWS Compute usage", "Compute", "Virtual Machines",
                   "Compute Savings Plan 3yr No Upfront", "arn:aws:savingsplans::112233445566:savingsplan/{uuid}"),
        _CommitDef("aws_sp_compute_1y", "Savings Plan", "Spend", 1, "All Upfront", "1", 14, 0,
                   ("m6i", "r6i", "c6i", "t3", "m7g", "g5", "p4d", "p5"), -1, 0.27, 0.12, "USD",
                   "Savings Plans for AWS Compute usage", "Compute", "Virtual Machines",
                   "Compute Savings Plan 1yr All Upfront", "arn:aws:savingsplans::112233445566:savingsplan/{uuid}"),
    ),
    untagged="{}",
    k8s_tags={"kubernetes_cluster": "prod-eks-1", "eks:cluster-name": "prod-eks-1",
              "eks:nodegroup-name": "ng-general"},
    tax_rate="0.06", sku_style="aws", invoice_fmt="EUS{yy}{mm}{n:08d}", spike_template="ec2_p5_48xl",
    spike_share=0.75, credit_account="acme-data-platform", credit_share="0.12",
    credit_desc="AWS Promotional Credit - Migration Acceleration Program (MAP 2.0)",
    credit_service=(_EC2, "Compute", "Virtual Machines"), support_service="AWS Support (Business)",
    correction_template="dt_out",
)

_AZURE = _ProviderDef(
    code="azure", provider="Microsoft", publisher="Microsoft", issuer="Microsoft",
    billing_account_id="7XQF-4KJ2-BG7-PGB", billing_account_name="Acme Corp - Billing Profile (MCA)",
    billing_account_type="Billing Profile", sub_account_type="Subscription",
    regions=(
        _Region("eastus", "East US", 0.6, "1", ("1", "2", "3")),
        _Region("westus2", "West US 2", 0.25, "1", ("1", "2", "3")),
        _Region("westeurope", "West Europe", 0.15, "1.1", ("1", "2", "3")),
    ),
    accounts=(
        _Acct("0c1d2e3f-1a2b-4c3d-8e9f-0a1b2c3d4e50", "Enterprise-Shared-Services", "mgmt", -1, 0, 6, 1.0, 0.0),
        _Acct("5f2b8c41-7d3e-4a9b-b1c2-6e7f8a9b0c11", "Payments-Prod", "app", 0, 0, 6, 0.1, 1.2),
        _Acct("9a4c1e72-2b5d-4f8e-a3c6-1d2e3f4a5b22", "Web-Prod", "app", 4, 0, 2, 0.13, 1.2),
        _Acct("3e7d9b10-6c4a-4d2f-9e8b-7a6c5d4e3f33", "Mobile-Prod", "app", 5, 0, 6, 0.12, 0.8),
        _Acct("c8b6a4f2-9e1d-4c7b-8a5f-2e3d4c5b6a44", "Data-Analytics", "data", 2, 0, 3, 0.11, 1.0),
        _Acct("1b3d5f7a-8c9e-4a2b-b4d6-8f0a2c4e6a55", "ML-Training", "ml", 3, 0, 6, 0.1, 1.0),
        _Acct("6d8f0a2c-4e6a-4b8c-9d0e-3a5c7e9a1b66", "AKS-Platform", "platform", 6, 0, 6, 0.03, 1.0),
        _Acct("2c4e6a8c-0e2a-4c4e-8a6c-5e7a9c1e3d77", "Hub-Network", "network", -1, 0, 6, 1.0, 0.3),
        _Acct("8e0a2c4e-6a8c-4e0a-b2c4-7a9c1e3a5f88", "Security-Ops", "security", -1, 0, 6, 1.0, 0.3),
        _Acct("4a6c8e0a-2c4e-4a6c-8e0a-9c1e3a5c7b99", "Dev-Test", "sandbox", -1, 1, 1, 0.45, 0.7),
    ),
    templates=_AZURE_TEMPLATES,
    commits=(
        _CommitDef("az_res_dsv5", "Reservation", "Usage", 3, "Monthly", "0", -500, -1, ("Dsv5",), 0, 0.62, 0.6,
                   "Normalized Hours", "Virtual Machines", "Compute", "Virtual Machines",
                   "VM RI - Dsv5 Series - East US - 3 Years (instance size flexibility)",
                   "/providers/Microsoft.Capacity/reservationOrders/{uuid}/reservations/{uuid2}"),
        _CommitDef("az_res_esv5", "Reservation", "Usage", 1, "Upfront", "1", 0, 0, ("Esv5",), 0, 0.41, 1.15,
                   "Normalized Hours", "Virtual Machines", "Compute", "Virtual Machines",
                   "VM RI - Esv5 Series - East US - 1 Year (Upfront)",
                   "/providers/Microsoft.Capacity/reservationOrders/{uuid}/reservations/{uuid2}"),
        _CommitDef("az_sp_compute", "Savings Plan", "Spend", 1, "Monthly", "0", -120, -1,
                   ("Dsv5", "Esv5", "BS", "NCADSA100v4"), -1, 0.28, 0.3, "USD", "Azure Savings Plan for Compute",
                   "Compute", "Virtual Machines", "Azure savings plan for compute - 1 Year (Monthly)",
                   "/providers/Microsoft.BillingBenefits/savingsPlanOrders/{uuid}/savingsPlans/{uuid2}"),
    ),
    untagged=None,
    k8s_tags={"aks-managed-cluster-name": "aks-prod-1", "aks-managed-poolName": "userpool",
              "aks-managed-orchestrator": "Kubernetes:1.30.6"},
    tax_rate="0.045", sku_style="azure", invoice_fmt="G{n:09d}", spike_template="", spike_share=0.0,
    credit_account="ML-Training", credit_share="0.10",
    credit_desc="Azure Credit - End Customer Investment Funds (ECIF)",
    credit_service=("Virtual Machines", "Compute", "Virtual Machines"), support_service="Microsoft Unified Support",
    correction_template="bandwidth_out",
)

_GCP = _ProviderDef(
    code="gcp", provider="Google Cloud", publisher="Google Cloud", issuer="Google Cloud",
    billing_account_id="01A2B3-C4D5E6-F7A8B9", billing_account_name="Acme Corp GCP Billing",
    billing_account_type="Billing Account", sub_account_type="Project",
    regions=(
        _Region("us-central1", "Iowa", 0.6, "1", ("us-central1-a", "us-central1-b", "us-central1-c",
                                                   "us-central1-f")),
        _Region("us-east1", "South Carolina", 0.25, "1", ("us-east1-b", "us-east1-c", "us-east1-d")),
        _Region("europe-west1", "Belgium", 0.15, "1.1", ("europe-west1-b", "europe-west1-c", "europe-west1-d")),
    ),
    accounts=(
        _Acct("acme-billing-admin", "acme-billing-admin", "mgmt", -1, 0, 4, 1.0, 0.0),
        _Acct("acme-search-prod", "acme-search-prod", "app", 1, 0, 4, 0.1, 1.4),
        _Acct("acme-mobile-prod", "acme-mobile-prod", "app", 5, 0, 5, 0.13, 0.8),
        _Acct("acme-data-platform", "acme-data-platform", "data", 2, 0, 4, 0.1, 1.2),
        _Acct("acme-ml-vertex", "acme-ml-vertex", "ml", 3, 0, 5, 0.09, 1.0),
        _Acct("acme-gke-platform", "acme-gke-platform", "platform", 6, 0, 4, 0.03, 1.0),
        _Acct("acme-shared-vpc", "acme-shared-vpc", "network", -1, 0, 4, 1.0, 0.3),
        _Acct("acme-security", "acme-security", "security", -1, 0, 4, 1.0, 0.3),
        _Acct("acme-sandbox-7731", "acme-sandbox", "sandbox", -1, 1, 5, 0.55, 0.6),
    ),
    templates=_GCP_TEMPLATES,
    commits=(
        _CommitDef("gcp_cud_n2", "Committed Use Discount", "Usage", 3, "Monthly", "0", -200, -1, ("n2",), 0,
                   0.55, 0.65, "vCPU-Hours", "Compute Engine", "Compute", "Virtual Machines",
                   "Resource-based CUD - N2 cores and memory - us-central1 - 3 Years",
                   "projects/acme-billing-admin/regions/us-central1/commitments/cud-n2-3y-{hex8}"),
        _CommitDef("gcp_cud_flex", "Committed Use Discount", "Spend", 1, "Monthly", "0", 0, 1,
                   ("n2", "e2", "a2", "a3"), -1, 0.28, 0.3, "USD", "Compute Engine", "Compute",
                   "Virtual Machines", "Compute flexible CUD (spend-based) - 1 Year",
                   "billingAccounts/01A2B3-C4D5E6-F7A8B9/commitments/flex-cud-1y-{hex8}"),
    ),
    untagged="{}",
    k8s_tags={"goog-k8s-cluster-name": "gke-prod-1", "goog-k8s-node-pool-name": "default-pool"},
    tax_rate="0.05", sku_style="gcp", invoice_fmt="{n:010d}", spike_template="gce_a3_highgpu_8g",
    spike_share=0.25, credit_account="acme-search-prod", credit_share="0.08",
    credit_desc="Sustained use discount - N2 instance core and RAM",
    credit_service=("Compute Engine", "Compute", "Virtual Machines"), support_service="Cloud Customer Care (Standard)",
    correction_template="net_egress",
)

_PROVIDERS = (_AWS, _AZURE, _GCP)

# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _p8(x: str | Decimal) -> int:
    return int((Decimal(x) * _P8).to_integral_value(ROUND_HALF_EVEN))


def _dec_py(raw: int | None) -> Decimal | None:
    """Python int of 1e-12 units -> Decimal (exact)."""
    return None if raw is None else Decimal(raw).scaleb(-12)


def _cents(x: Decimal) -> int:
    """Decimal of 1e-12 units -> rounded to cents, back in 1e-12 units."""
    return int((x / 10**10).to_integral_value(ROUND_HALF_EVEN)) * 10**10


def _dec(raw: np.ndarray, scale: int = 12, valid: np.ndarray | None = None) -> pa.Array:
    """int64 integers of 10**-scale -> decimal128(38, 12) Arrow array (exact, vectorised)."""
    raw = np.ascontiguousarray(raw, dtype=np.int64)
    n = len(raw)
    if scale != 12:
        factor = 10 ** (12 - scale)
        if n == 0 or int(np.abs(raw).max()) < (2**63 - 1) // factor:
            raw = raw * factor
            scale = 12
    buf = np.empty((n, 2), dtype=np.int64)
    buf[:, 0] = raw
    buf[:, 1] = raw >> 63
    validity = None
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid.astype(np.uint8), bitorder="little"))
    arr = pa.Array.from_buffers(pa.decimal128(38, scale), n, [validity, pa.py_buffer(buf)])
    return arr if scale == 12 else arr.cast(DECIMAL_TYPE)


def _take(dictionary: pa.Array, idx: np.ndarray) -> pa.Array:
    idx = np.asarray(idx)
    neg = idx < 0
    if neg.any():
        return dictionary.take(pa.array(idx, mask=neg))
    return dictionary.take(pa.array(idx))


def _isums_by(groups: np.ndarray, values: np.ndarray, n: int) -> list[int]:
    """Exact per-group sums of int64 values (float64 bincount on 21-bit limbs)."""
    if len(values) == 0:
        return [0] * n
    hi = np.bincount(groups, weights=(values >> 42).astype(np.float64), minlength=n)
    mid = np.bincount(groups, weights=((values >> 21) & 0x1FFFFF).astype(np.float64), minlength=n)
    lo = np.bincount(groups, weights=(values & 0x1FFFFF).astype(np.float64), minlength=n)
    return [(int(h) << 42) + (int(m) << 21) + int(l) for h, m, l in zip(hi, mid, lo)]


_HEX_LO = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_UP = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def _hex_np(rng: np.random.Generator, n: int, width: int, upper: bool = False) -> np.ndarray:
    chars = (_HEX_UP if upper else _HEX_LO)[rng.integers(0, 16, size=(n, width), dtype=np.uint8)]
    return np.ascontiguousarray(chars).view(f"S{width}").ravel()


def _hex(rng: np.random.Generator, n: int, width: int, upper: bool = False) -> pa.Array:
    return pa.array(_hex_np(rng, n, width, upper), type=pa.binary()).cast(pa.string())


def _uuid(rng: np.random.Generator) -> str:
    h = _hex_np(rng, 1, 32)[0].decode()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


_PLACEHOLDER = re.compile(r"(\{\w+\})")


def _fmt(pattern: str, fields: dict[str, pa.Array], n: int) -> pa.Array:
    args: list = []
    for part in _PLACEHOLDER.split(pattern):
        if not part:
            continue
        if part.startswith("{") and part.endswith("}"):
            args.append(fields[part[1:-1]])
        else:
            args.append(part)
    if not any(isinstance(a, pa.Array) for a in args):
        return pa.repeat(pa.scalar("".join(args)), n)
    if len(args) == 1:
        return args[0]
    return pc.binary_join_element_wise(*args, "")


def _add_months(d: datetime.date, k: int) -> datetime.date:
    y, m = divmod(d.month - 1 + k, 12)
    return datetime.date(d.year + y, m + 1, 1)


def _add_years(d: datetime.date, k: int) -> datetime.date:
    try:
        return d.replace(year=d.year + k)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year + k, day=28)


def _price_str(p8: int) -> str:
    s = f"{Decimal(p8).scaleb(-8):f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _json(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False)


# --------------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------------


class _Calendar:
    def __init__(self, spec: SampleSpec):
        self.start = spec.start.replace(day=1)
        self.months = spec.months
        self.month_starts = [_add_months(self.start, m) for m in range(spec.months + 1)]
        self.month_first_day = [(ms - self.start).days for ms in self.month_starts]
        self.total_days = self.month_first_day[-1]
        self.month_days = [self.month_first_day[m + 1] - self.month_first_day[m] for m in range(spec.months)]
        self.weekend = np.array([(self.start + datetime.timedelta(days=d)).weekday() >= 5
                                 for d in range(self.total_days)])
        self.month_of_day = np.repeat(np.arange(spec.months), self.month_days)

    def dt(self, day: int) -> datetime.datetime:
        d = self.start + datetime.timedelta(days=day)
        return datetime.datetime(d.year, d.month, d.day)

    def day_of(self, d: datetime.date) -> int:
        return (d - self.start).days


# --------------------------------------------------------------------------------------------------
# Provider state: catalog tables, resource pool, commitments
# --------------------------------------------------------------------------------------------------

_WEEKDAY_AVG = (5 + 2 * 0.7) / 7


@dataclasses.dataclass
class _Commit:
    d: _CommitDef
    index: int
    cid: str
    name: str
    start: int  # window day index [start, end)
    end: int
    acct: int
    elig_tmpl: np.ndarray  # bool per template
    norm: np.ndarray  # int64 per template
    units: int = 0  # usage: normalized units per hour; spend: 1
    rate8: int = 0  # usage: amortised USD per unit-hour; spend: commitment USD per hour (1e-8)
    up8: int = 0
    rec8: int = 0
    sp8: np.ndarray | None = None  # spend: per (template, region) commitment rate (1e-8)
    sku_id: str = ""
    sku_price_id: str = ""
    used_total: int = 0  # ledger self-check (1e-12 USD)
    unused_total: int = 0
    purchased_total: int = 0

    @property
    def spend(self) -> bool:
        return self.d.category == "Spend"

    def cap_daily(self) -> int:
        """Daily capacity: usage -> unit-hours in q4; spend -> USD in 1e-12."""
        return self.units * _DAY_Q4 if not self.spend else self.rate8 * _DAY_Q4


class _Provider:
    def __init__(self, pidx: int, pd: _ProviderDef, spec: SampleSpec, cal: _Calendar):
        self.pidx, self.pd, self.spec, self.cal = pidx, pd, spec, cal
        self.rng = np.random.default_rng([spec.seed % 2**63, 7919, pidx])
        self.T = len(pd.templates)
        self.G = len(pd.regions)
        self.A = len(pd.accounts)
        self.tkey = {t.key: i for i, t in enumerate(pd.templates)}
        self.acct_by_name = {a.name: i for i, a in enumerate(pd.accounts)}
        self.mgmt = next(i for i, a in enumerate(pd.accounts) if a.role == "mgmt")
        self._catalog()
        self._targets()
        self._pool_numeric()

    # ---- catalog tables -------------------------------------------------------------------------
    def _catalog(self) -> None:
        pd, T, G = self.pd, self.T, self.G
        rng = np.random.default_rng([self.spec.seed % 2**63, 104729, self.pidx])
        lup = np.zeros((T, G), np.int64)
        cup = np.zeros((T, G), np.int64)
        for i, t in enumerate(pd.templates):
            for g, r in enumerate(pd.regions):
                lp = _p8(Decimal(t.price) * Decimal(r.mult))
                lup[i, g] = lp
                cup[i, g] = _p8(Decimal(lp) * (1 - Decimal(str(t.disc))) / _P8)
        self.lup8, self.cup8 = lup, cup
        self.kind = np.array([_KIND[t.kind] for t in pd.templates], np.int8)
        self.pq_div = np.array([t.pq_div for t in pd.templates], np.int64)
        self.tpcat = np.array([t.pcat for t in pd.templates], np.int8)
        self.tnorm = np.array([t.norm for t in pd.templates], np.int64)
        tstr = lambda f: pa.array([f(t) for t in pd.templates], pa.string())  # noqa: E731
        self.s_service = tstr(lambda t: t.service)
        self.s_category = tstr(lambda t: t.category)
        self.s_subcategory = tstr(lambda t: t.subcategory)
        self.s_meter = tstr(lambda t: t.meter)
        self.s_punit = tstr(lambda t: t.punit)
        self.s_cunit = tstr(lambda t: t.cunit)
        self.s_rtype = tstr(lambda t: t.rtype)
        self.s_details = tstr(lambda t: _json(dict(t.details)) if t.details else None)
        sku_ids, price_ids, descs = [], [], []
        for i, t in enumerate(pd.templates):
            for g, r in enumerate(pd.regions):
                sku = self._sku_id(rng)
                sku_ids.append(sku)
                desc = t.desc.replace("{price}", _price_str(int(lup[i, g])))
                od = self._price_id(rng, sku, "OnDemand" if t.pcat == 0 else "Spot")
                cm = self._price_id(rng, sku, "Committed")
                price_ids += [od, cm]
                descs += [desc, desc + " (commitment discount applied)"]
        self.s_sku = pa.array(sku_ids, pa.string())
        self.s_price_id = pa.array(price_ids, pa.string())
        self.s_desc = pa.array(descs, pa.string())
        self.s_region_id = pa.array([r.id for r in pd.regions], pa.string())
        self.s_region_name = pa.array([r.name for r in pd.regions], pa.string())
        self.s_acct_id = pa.array([a.id for a in pd.accounts], pa.string())
        self.s_acct_name = pa.array([a.name for a in pd.accounts], pa.string())
        self.zones = [z for r in pd.regions for z in r.zones]
        self.zone_offset = np.cumsum([0] + [len(r.zones) for r in pd.regions])[:-1]
        self.s_zones = pa.array(self.zones, pa.string())

    def _sku_id(self, rng) -> str:
        style = self.pd.sku_style
        if style == "aws":
            return _hex_np(rng, 1, 16, upper=True)[0].decode().translate(str.maketrans("0123456789", "GHJKMNPQRS"))
        if style == "azure":
            return "DZH318Z0" + _hex_np(rng, 1, 4, upper=True)[0].decode()
        h = _hex_np(rng, 1, 12, upper=True)[0].decode()
        return f"{h[:4]}-{h[4:8]}-{h[8:]}"

    def _price_id(self, rng, sku: str, term: str) -> str:
        style = self.pd.sku_style
        if style == "aws":
            code = {"OnDemand": "JRTCKXETXF", "Spot": "SPOTXETXF0", "Committed": "4NA7Y494T4"}[term]
            return f"{sku}.{code}.6YS6EN2CT7"
        if style == "azure":
            return f"{sku}/{_hex_np(rng, 1, 4, upper=True)[0].decode()}/{term}"
        return f"{sku}/{term.lower()}"

    # ---- row targets ----------------------------------------------------------------------------
    def _targets(self) -> None:
        cal, spec = self.cal, self.spec
        w = np.array([_GROWTH**m for m in range(cal.months)])
        total = spec.rows * _SHARES[self.pidx]
        self.target = [int(round(total * wm / w.sum())) for wm in w]
        self.est_daily = [max(1.0, self.target[m] / cal.month_days[m] - len(self.pd.commits))
                          for m in range(cal.months)]

    # ---- resource pool (numeric part) -----------------------------------------------------------
    def _pool_numeric(self) -> None:
        pd, rng = self.pd, self.rng
        T = self.T
        fixed = [i for i, t in enumerate(pd.templates) for _ in range(t.min_count)]
        n_base = int(math.ceil(max(self.est_daily) * 1.45)) + 64
        n_rand = max(0, n_base - len(fixed))
        weights = np.array([t.weight for t in pd.templates], float)
        tmpl = np.concatenate([np.array(fixed, np.int64),
                               rng.choice(T, size=n_rand, p=weights / weights.sum())]).astype(np.int64)
        n = len(tmpl)
        persistent = np.zeros(n, bool)
        persistent[: len(fixed)] = True
        self.n_base = n
        self.blocks = [self._derive(tmpl, persistent, rng)]
        self.spike_block = None

    def _derive(self, tmpl: np.ndarray, persistent: np.ndarray, rng: np.random.Generator,
                spike: tuple[int, int, int] | None = None) -> dict:
        """Per-resource attributes for templates `tmpl` (spike=(account, start, end) for the GPU run)."""
        pd, cal = self.pd, self.cal
        n = len(tmpl)
        acct = np.zeros(n, np.int64)
        region = np.zeros(n, np.int64)
        acct_w = np.array([a.weight for a in pd.accounts], float)
        reg_w = np.array([r.weight for r in pd.regions], float)
        for i, t in enumerate(pd.templates):
            m = np.flatnonzero(tmpl == i)
            if len(m) == 0:
                continue
            allowed = np.array([j for j, a in enumerate(pd.accounts) if a.role in t.roles], np.int64)
            aw = acct_w[allowed]
            acct[m] = allowed[rng.choice(len(allowed), size=len(m), p=aw / aw.sum())]
            if t.region >= 0:
                region[m] = t.region
            else:
                region[m] = rng.choice(self.G, size=len(m), p=reg_w / reg_w.sum())
        zonal = np.array([t.zonal for t in pd.templates])[tmpl]
        nz = np.array([len(pd.regions[g].zones) for g in range(self.G)])[region]
        az = (self.zone_offset[region] + (rng.random(n) * nz).astype(np.int64)).astype(np.int64)
        az[~zonal] = -1
        if pd.code == "azure":
            az[rng.random(n) < 0.4] = -1  # non-zonal deployments
        # lifetimes: most resources live through the window, ~12% are short-lived
        start = np.full(n, -(10**6), np.int64)
        end = np.full(n, 10**6, np.int64)
        eph = (~persistent) & (rng.random(n) < 0.12)
        k = int(eph.sum())
        start[eph] = rng.integers(-20, cal.total_days, size=k)
        end[eph] = start[eph] + 1 + rng.geometric(1 / 15, size=k)
        if spike is not None:
            acct[:] = spike[0]
            start[:] = spike[1]
            end[:] = spike[2]
        role = np.array([pd.accounts[a].role for a in range(self.A)])[acct]
        env = np.array([pd.accounts[a].env for a in range(self.A)])[acct]
        kind = self.kind[tmpl]
        dev = (kind == 0) & ((env == 1) | (role == "sandbox"))
        autos = np.array([t.autoscale for t in pd.templates])[tmpl]
        asg = (kind == 0) & (rng.random(n) < autos) & ~dev
        med = np.array([t.base for t in pd.templates])[tmpl]
        sig = np.array([t.sigma for t in pd.templates])[tmpl]
        z = np.clip(rng.standard_normal(n), -2.0, 2.0)
        z[persistent & (spike is None)] = 0.0  # fixed shared resources (NAT, firewall...) at median size
        base = med * np.exp(sig * z)
        # teams / tags
        acct_team = np.array([a.team for a in pd.accounts])[acct]
        team = acct_team.copy()
        other = rng.choice(np.array(_APP_TEAMS), size=n)
        swap = np.isin(role, ["app", "data", "ml"]) & (rng.random(n) < 0.1)
        team[swap] = other[swap]
        team[role == "sandbox"] = other[role == "sandbox"]
        untag = np.array([a.untag for a in pd.accounts])[acct]
        untagged = rng.random(n) < untag
        untagged &= ~np.array([t.gpu > 0 for t in pd.templates])[tmpl]  # GPU fleets are governed
        untagged |= np.isin(role, ["network", "security", "mgmt"])
        team[np.isin(role, ["network", "security", "mgmt"])] = -1
        styles = np.array([a.style for a in pd.accounts])[acct]
        allowed_styles = np.array(sorted({a.style for a in pd.accounts}))
        restyle = rng.random(n) < 0.1
        styles[restyle] = allowed_styles[rng.integers(0, len(allowed_styles), size=int(restyle.sum()))]
        st_tv = np.array([s[4] for s in _TAG_STYLES])[styles]
        st_ev = np.array([s[5] for s in _TAG_STYLES])[styles]
        lower_only = np.array([s[6] == (1, 2) for s in _TAG_STYLES])[styles]
        rand_v = np.where(lower_only, rng.integers(1, 3, size=n), rng.integers(0, 4, size=n))
        tvar = np.where(rng.random(n) < 0.2, rand_v, st_tv)
        evar = np.where(rng.random(n) < 0.15, rand_v, st_ev)
        partial = (~untagged) & (rng.random(n) < 0.04)
        project = np.where((role == "ml") & (rng.random(n) < 0.7), rng.integers(0, len(_PROJECTS), size=n), -1)
        k8s = np.array([t.k8s for t in pd.templates])[tmpl]
        is_spike = np.zeros(n, bool)
        if spike is not None:
            untagged[:] = False
            partial[:] = False
            project[:] = 0
            team[:] = 3
            is_spike[:] = True
        exp_hours = np.where(dev, (5 * 12 + 2 * 2) / 7, np.where(asg, 14.0, 24.0))
        return dict(tmpl=tmpl, acct=acct, region=region, az=az, start=start, end=end, dev=dev, asg=asg,
                    base=base, team=team, tvar=tvar, evar=evar, style=styles, untagged=untagged,
                    partial=partial, project=project, k8s=k8s, env=env, spike=is_spike, exp_hours=exp_hours)

    def expected_daily_cost(self, blk: dict) -> np.ndarray:
        """Expected contracted cost per resource per day in USD (float, for sizing only)."""
        t, g = blk["tmpl"], blk["region"]
        kind = self.kind[t]
        cup = self.cup8[t, g] / _P8
        q = np.where(kind == 0, blk["exp_hours"], 0.0)
        q = np.where(kind == 1, blk["base"] / 30.4, q)
        q = np.where(kind == 2, blk["base"] * math.exp(0.35**2 / 2) * _WEEKDAY_AVG, q)
        q = np.where(kind == 3, blk["base"] * math.exp(0.4**2 / 2) * _WEEKDAY_AVG / self.pq_div[t], q)
        return cup * q

    def expected_month_cost(self, m: int) -> float:
        blk = self.blocks[0]
        n = min(self.n_base, int(self.est_daily[m]))
        return float(self.expected_daily_cost({k: v[:n] for k, v in blk.items()}).sum()) * self.cal.month_days[m]

    # ---- spike ----------------------------------------------------------------------------------
    def add_spike(self, month: int, usd: float) -> None:
        pd, cal = self.pd, self.cal
        if not pd.spike_template or usd <= 0:
            self.spike_alive = np.zeros(cal.total_days, np.int64)
            return
        ti = self.tkey[pd.spike_template]
        node_day = float(self.cup8[ti, 0]) / _P8 * 24
        dim = cal.month_days[month]
        d_max = max(1, min(18, dim - 6))
        node_days = usd / node_day
        k = max(1, math.ceil(node_days / d_max))
        days = int(min(d_max, max(1, round(node_days / k))))
        s = cal.month_first_day[month] + min(4, dim - days)
        rng = np.random.default_rng([self.spec.seed % 2**63, 15485863, self.pidx])
        acct = next(i for i, a in enumerate(pd.accounts) if a.role == "ml")
        blk = self._derive(np.full(k, ti, np.int64), np.ones(k, bool), rng, spike=(acct, s, s + days))
        self.blocks.append(blk)
        self.spike_alive = np.zeros(cal.total_days, np.int64)
        self.spike_alive[s: s + days] = k

    # ---- strings per resource -------------------------------------------------------------------
    def finalize(self) -> None:
        pool = {k: np.concatenate([b[k] for b in self.blocks]) for k in self.blocks[0]}
        self.pool = pool
        n = len(pool["tmpl"])
        pd = self.pd
        rng = np.random.default_rng([self.spec.seed % 2**63, 32452843, self.pidx])
        self.lup_r = self.lup8[pool["tmpl"], pool["region"]]
        self.cup_r = self.cup8[pool["tmpl"], pool["region"]]
        self.tg_r = pool["tmpl"] * self.G + pool["region"]
        team_slug = np.array(list(_TEAMS) + ["netops", "secops", "shared"])
        role = np.array([pd.accounts[a].role for a in range(self.A)])[pool["acct"]]
        tslug_idx = np.where(pool["team"] >= 0, pool["team"],
                             np.where(role == "network", 7, np.where(role == "security", 8, 9)))
        if pd.code == "azure":
            team_slug = np.char.replace(team_slug, "-", "")
        fields = {
            "team": pa.array(team_slug[tslug_idx]),
            "env": pa.array(np.array(["prod", "dev", "stg"])[pool["env"]]),
            "seq": pc.utf8_lpad(pc.cast(pa.array(np.arange(n)), pa.string()), 4, padding="0"),
            "num": pc.cast(pa.array(rng.integers(10**11, 10**12, size=n)), pa.string()),
            "hex8": _hex(rng, n, 8),
            "hex12": _hex(rng, n, 12),
            "hex16": _hex(rng, n, 16),
            "hex32": _hex(rng, n, 32),
            "HEX13": _hex(rng, n, 13, upper=True),
            "acct": _take(self.s_acct_id, pool["acct"]),
            "region": _take(self.s_region_id, pool["region"]),
            "az": _take(self.s_zones, pool["az"]),
        }
        tmpl = pool["tmpl"]
        order = np.argsort(tmpl, kind="stable")
        names, rids = [], []
        for i, t in enumerate(pd.templates):
            idx = order[np.searchsorted(tmpl[order], i, "left"): np.searchsorted(tmpl[order], i, "right")]
            if len(idx) == 0:
                continue
            f = {k: v.take(pa.array(idx)) for k, v in fields.items()}
            nm = _fmt(t.name.replace("{purpose}", t.purpose), f, len(idx))
            f["name"] = nm
            names.append(nm)
            rids.append(_fmt(t.rid, f, len(idx)))
        inv = np.empty(n, np.int64)
        inv[order] = np.arange(n)
        self.s_res_name = pa.concat_arrays(names).take(pa.array(inv))
        self.s_res_id = pa.concat_arrays(rids).take(pa.array(inv))
        self.s_tags = self._tags(pool)
        cr = np.where(pool["spike"], 0, -1)
        cr_id = ("cr-0" + _hex_np(rng, 1, 16)[0].decode()) if pd.code == "aws" else \
            "projects/acme-ml-vertex/zones/us-central1-a/reservations/a3-pretrain-res"
        self.cr_idx = cr
        self.s_cr_id = pa.array([cr_id], pa.string())
        self.s_cr_status = pa.array(["Used"], pa.string())
        self._commitments()

    def _tags(self, pool: dict) -> pa.Array:
        pd = self.pd
        k8s_kind = pool["k8s"].astype(np.int64)
        cols = np.stack([pool["style"], pool["team"], pool["tvar"], pool["env"], pool["evar"], k8s_kind,
                         pool["partial"].astype(np.int64), pool["project"], pool["untagged"].astype(np.int64)],
                        axis=1)
        uniq, inverse = np.unique(cols, axis=0, return_inverse=True)
        out: list[str | None] = []
        for style, team, tvar, env, evar, k8s, partial, project, untagged in uniq.tolist():
            if untagged:
                out.append(pd.untagged)
                continue
            tk, ek, ck, cfmt, _, _, _ = _TAG_STYLES[style]
            env_name = _ENVS[env]
            tags: dict[str, str] = {}
            if k8s:
                tags.update(pd.k8s_tags)
            if team >= 0 and not partial:
                tname = _TEAMS[team]
                tags[tk] = _TEAM_VARIANTS[tname][tvar]
            tags[ek] = _ENV_VARIANTS[env_name][evar]
            if team >= 0 and not partial and ck:
                tags[ck] = cfmt.format(n=_COST_CENTERS[_TEAMS[team]])
            if project >= 0:
                tags["project"] = _PROJECTS[project]
            out.append(_json(tags))
        return pa.array(out, pa.string()).take(pa.array(inverse.ravel()))

    # ---- commitments ----------------------------------------------------------------------------
    def _commitments(self) -> None:
        pd, cal, pool = self.pd, self.cal, self.pool
        rng = np.random.default_rng([self.spec.seed % 2**63, 49979687, self.pidx])
        fam = np.array([t.family for t in pd.templates])
        self.commits: list[_Commit] = []
        covered_sp = np.zeros(len(pool["tmpl"]), float)  # RI-covered share (for savings-plan sizing)
        for ci, d in enumerate(pd.commits):
            if d.start_month >= 0:
                m = min(d.start_month, cal.months - 1)
                start = cal.month_first_day[m] + min(d.start_offset, cal.month_days[m] - 1)
            else:
                start = d.start_offset
            start_date = cal.start + datetime.timedelta(days=start)
            end = cal.day_of(_add_years(start_date, d.term_years))
            elig = np.isin(fam, list(d.families)) & (self.tpcat == 0)
            uid = d.id_pattern.replace("{uuid}", _uuid(rng)).replace("{uuid2}", _uuid(rng)).replace(
                "{hex8}", _hex_np(rng, 1, 8)[0].decode())
            name = f"{d.name} ({start_date.isoformat()})"
            c = _Commit(d=d, index=ci, cid=uid, name=name, start=start, end=end, acct=self.mgmt,
                        elig_tmpl=elig, norm=self.tnorm.copy() if d.category == "Usage" else np.ones(self.T, np.int64))
            if d.unit == "Hours":
                c.norm = np.ones(self.T, np.int64)
            # sizing from the resources expected to be live on the first in-window day
            s = max(start, 0)
            m = int(cal.month_of_day[min(s, cal.total_days - 1)])
            n_live = int(self.est_daily[m])
            alive = (pool["start"] <= s) & (pool["end"] > s) & ~pool["spike"]
            alive_idx = np.flatnonzero(alive)[:n_live]
            t = pool["tmpl"][alive_idx]
            g = pool["region"][alive_idx]
            e = elig[t] & ((g == d.region) if d.region >= 0 else True)
            hours = pool["exp_hours"][alive_idx]
            if float(d.upfront_share) > 0 and start < 0:
                raise AssertionError("upfront commitments must be bought inside the window")
            if d.category == "Usage":
                nu_hours = float((hours * c.norm[t] * e).sum())
                c.units = max(1, int(round(d.frac * nu_hours / 24)))
                home = int(np.flatnonzero(elig)[0])  # list price per normalized unit-hour
                rate = Decimal(int(self.lup8[home, max(d.region, 0)])) / int(c.norm[home])
                c.rate8 = max(1, int((rate * (1 - Decimal(str(d.disc)))).to_integral_value(ROUND_HALF_EVEN)))
                covered_sp[alive_idx[e]] = min(1.0, d.frac)
            else:
                sp8 = np.rint(self.lup8.astype(float) * (1 - d.disc)).astype(np.int64)
                c.sp8 = sp8.reshape(-1)
                per_hour = float((sp8[t, g] / _P8 * hours / 24 * e * (1 - covered_sp[alive_idx])).sum())
                c.rate8 = max(_P8 // 100, int(round(d.frac * per_hour * 100)) * (_P8 // 100))
                c.units = 1
            c.up8 = int((Decimal(c.rate8) * Decimal(d.upfront_share)).to_integral_value(ROUND_HALF_EVEN))
            c.rec8 = c.rate8 - c.up8
            c.sku_id = self._sku_id(rng)
            c.sku_price_id = self._price_id(rng, c.sku_id, "Committed")
            self.commits.append(c)
        self.commit_active = np.zeros(cal.total_days, np.int64)
        for c in self.commits:
            a, b = max(c.start, 0), min(c.end, cal.total_days)
            if b > a:
                self.commit_active[a:b] += 1
        C = len(self.commits)
        self.s_cd_id = pa.array([c.cid for c in self.commits], pa.string())
        self.s_cd_name = pa.array([c.name for c in self.commits], pa.string())
        self.s_cd_type = pa.array([c.d.ctype for c in self.commits], pa.string())
        self.s_cd_cat = pa.array([c.d.category for c in self.commits], pa.string())
        self.s_cd_unit = pa.array([c.d.unit for c in self.commits], pa.string())
        self.s_cd_status = pa.array(["Used"] * C, pa.string())
        self.commit_spend = np.array([c.spend for c in self.commits], bool)

    # ---- month-end row count (known before the month is generated) ------------------------------
    def month_end_count(self, m: int) -> int:
        n = len(self._purchase_rows(m, dry=True))
        n += 1  # support
        n += 1  # credit
        n += 1 if m == min(1, self.cal.months - 1) else 0  # correction
        n += self.A  # tax rows (one per sub-account with charges)
        return n

    # ---- day generation ------------------------------------------------------------------------
    def select(self, d: int, n: int) -> np.ndarray:
        nb = self.n_base
        if n <= 0:
            return np.zeros(0, np.int64)
        alive = (self.pool["start"][:nb] <= d) & (self.pool["end"][:nb] > d)
        cs = np.cumsum(alive)
        if n >= cs[-1]:
            return np.flatnonzero(alive)
        cut = int(np.searchsorted(cs, n, "left"))
        return np.flatnonzero(alive[: cut + 1])

    def spike_rows(self, d: int) -> np.ndarray:
        nb = self.n_base
        s = self.pool["start"][nb:]
        e = self.pool["end"][nb:]
        return nb + np.flatnonzero((s <= d) & (e > d))

    def day(self, d: int, r: np.ndarray, acc: _MonthAcc) -> tuple[pa.Table, list[dict]]:
        pool, cal = self.pool, self.cal
        rng = np.random.default_rng([self.spec.seed % 2**63, self.pidx, d])
        n = len(r)
        m = int(cal.month_of_day[d])
        dim = cal.month_days[m]
        weekend = bool(cal.weekend[d])
        wk = 0.7 if weekend else 1.0
        t = pool["tmpl"][r]
        kind = self.kind[t]
        base = pool["base"][r]
        # quantities (q4 = 1e-4 units)
        hours = np.where(pool["dev"][r], 2.0 if weekend else 12.0, 24.0)
        asg_h = rng.integers(16, 97, size=n) / 4.0
        hours = np.where(pool["asg"][r], asg_h, hours)
        hours_q4 = np.rint(hours * _Q4).astype(np.int64)
        stor_q4 = np.rint(base * (1 + 0.003 * d) * _Q4 / dim).astype(np.int64)
        vol_q4 = np.maximum(1, np.rint(base * rng.lognormal(0.0, 0.35, n) * wk * _Q4)).astype(np.int64)
        cnt = np.maximum(1, np.rint(base * rng.lognormal(0.0, 0.4, n) * wk)).astype(np.int64)
        pqd = self.pq_div[t]  # divides 10**4, so cnt * 10**4 // pqd is exact
        cnt_c4 = cnt * _Q4
        c4 = np.select([kind == 0, kind == 1, kind == 2], [hours_q4, stor_q4, vol_q4], cnt_c4)
        q4 = np.select([kind == 0, kind == 1, kind == 2], [hours_q4, stor_q4, vol_q4], cnt_c4 // pqd)
        lup = self.lup_r[r]
        cup = self.cup_r[r]
        if n and float((lup.astype(np.float64) * q4).max()) >= 9.0e18:
            raise OverflowError("sample row cost out of int64 range")
        list12 = lup * q4
        con12 = cup * q4
        eff12 = con12.copy()
        bill12 = con12.copy()
        pcat = self.tpcat[t].astype(np.int64)
        commit = np.full(n, -1, np.int64)
        cdq = np.zeros(n, np.int64)
        tg = self.tg_r[r]
        g = pool["region"][r]
        extra: list[dict] = []
        splits: list[tuple[int, int, int, int, int]] = []
        for c in self.commits:
            if not (c.start <= d < c.end):
                continue
            e = c.elig_tmpl[t] & (commit < 0) & (pcat == 0)
            if c.d.region >= 0:
                e &= g == c.d.region
            idx = np.flatnonzero(e)
            cap = c.cap_daily()
            if c.spend:
                w = c.sp8[tg[idx]] * q4[idx]
            else:
                w = q4[idx] * c.norm[t[idx]]
            order = np.argsort(w, kind="stable")  # smallest rows first: one big row can't block the rest
            idx, w = idx[order], w[order]
            cs = np.cumsum(w)
            fit = cs <= cap
            sel = idx[fit]
            n_fit = int(fit.sum())
            used = int(cs[n_fit - 1]) if n_fit else 0
            if c.spend:
                eff12[sel] = w[fit]
                cdq[sel] = w[fit]
            else:
                eff12[sel] = c.rate8 * w[fit]
                cdq[sel] = w[fit] * 10**8
            bill12[sel] = 0
            commit[sel] = c.index
            pcat[sel] = 2
            if n_fit < len(idx):
                # FOCUS usage scenario 4: the first row that does not fit is split into a covered part
                # (new row, Committed) and the on-demand remainder (this row, quantities reduced).
                j = int(idx[n_fit])
                unit = int(c.sp8[tg[j]]) if c.spend else int(c.norm[t[j]])
                rem = cap - used  # capacity left; less than this row needs
                q_cov = rem // unit
                if q_cov > 0:
                    # the covered part also absorbs the sub-unit rounding remainder (no dust "Unused" rows)
                    splits.append((j, q_cov, c.index, rem if c.spend else c.rate8 * rem,
                                   rem if c.spend else rem * 10**8))
                    used = cap
                    q4[j] -= q_cov
                    c4[j] = q4[j] * pqd[j]
                    list12[j] = lup[j] * q4[j]
                    con12[j] = cup[j] * q4[j]
                    eff12[j] = con12[j]
                    bill12[j] = con12[j]
                elif n_fit > 0:  # less than one unit left: fold it into the last covered row
                    k = int(idx[n_fit - 1])
                    eff12[k] += rem if c.spend else c.rate8 * rem
                    cdq[k] += rem if c.spend else rem * 10**8
                    used = cap
            if c.spend:
                unused_raw = cap - used
                unused_q = unused_raw
                c.used_total += used
            else:
                unused_raw = c.rate8 * (cap - used)
                unused_q = (cap - used) * 10**8
                c.used_total += c.rate8 * used
            if unused_raw > 0:
                c.unused_total += unused_raw
                extra.append(self._unused_row(c, d, unused_raw, unused_q))
        if splits:
            js, qs, ks, es, cq = (np.array(v, np.int64) for v in zip(*splits))
            r, t, g, tg = (np.concatenate([a, a[js]]) for a in (r, t, g, tg))
            lup, cup = np.concatenate([lup, lup[js]]), np.concatenate([cup, cup[js]])
            q4 = np.concatenate([q4, qs])
            c4 = np.concatenate([c4, qs * pqd[js]])
            list12 = np.concatenate([list12, lup[n:] * qs])
            con12 = np.concatenate([con12, cup[n:] * qs])
            eff12 = np.concatenate([eff12, es])
            bill12 = np.concatenate([bill12, np.zeros(len(js), np.int64)])
            pcat = np.concatenate([pcat, np.full(len(js), 2, np.int64)])
            commit = np.concatenate([commit, ks])
            cdq = np.concatenate([cdq, cq])
            n = len(r)
        acct = pool["acct"][r]
        acc.add(acct, bill12, eff12, list12, con12, self.A)
        committed = commit >= 0
        tg2 = tg * 2 + committed
        bp_s, bp_e = cal.dt(cal.month_first_day[m]), cal.dt(cal.month_first_day[m + 1])
        cp_s, cp_e = cal.dt(d), cal.dt(d + 1)
        rep = lambda v, typ=pa.string(): pa.repeat(pa.scalar(v, type=typ), n)  # noqa: E731
        eff_a = _dec(eff12)
        lup_a = _dec(lup, 8)
        cup_a = _dec(cup, 8)
        cols = {
            "AvailabilityZone": _take(self.s_zones, pool["az"][r]),
            "BilledCost": _dec(bill12),
            "BillingAccountId": rep(self.pd.billing_account_id),
            "BillingAccountName": rep(self.pd.billing_account_name),
            "BillingAccountType": rep(self.pd.billing_account_type),
            "BillingCurrency": rep("USD"),
            "BillingPeriodEnd": rep(bp_e, TIMESTAMP_TYPE),
            "BillingPeriodStart": rep(bp_s, TIMESTAMP_TYPE),
            "CapacityReservationId": _take(self.s_cr_id, self.cr_idx[r]),
            "CapacityReservationStatus": _take(self.s_cr_status, self.cr_idx[r]),
            "ChargeCategory": rep("Usage"),
            "ChargeClass": pa.nulls(n, pa.string()),
            "ChargeDescription": _take(self.s_desc, tg2),
            "ChargeFrequency": rep("Usage-Based"),
            "ChargePeriodEnd": rep(cp_e, TIMESTAMP_TYPE),
            "ChargePeriodStart": rep(cp_s, TIMESTAMP_TYPE),
            "CommitmentDiscountCategory": _take(self.s_cd_cat, commit),
            "CommitmentDiscountId": _take(self.s_cd_id, commit),
            "CommitmentDiscountName": _take(self.s_cd_name, commit),
            "CommitmentDiscountQuantity": _dec(cdq, 12, valid=committed),
            "CommitmentDiscountStatus": _take(self.s_cd_status, commit),
            "CommitmentDiscountType": _take(self.s_cd_type, commit),
            "CommitmentDiscountUnit": _take(self.s_cd_unit, commit),
            "ConsumedQuantity": _dec(c4, 4),
            "ConsumedUnit": _take(self.s_cunit, t),
            "ContractedCost": _dec(con12),
            "ContractedUnitPrice": cup_a,
            "EffectiveCost": eff_a,
            "InvoiceId": rep(self.invoice_id(m)),
            "InvoiceIssuerName": rep(self.pd.issuer),
            "ListCost": _dec(list12),
            "ListUnitPrice": lup_a,
            "PricingCategory": _take(pa.array(_PCAT), pcat),
            "PricingCurrency": rep("USD"),
            "PricingCurrencyContractedUnitPrice": cup_a,
            "PricingCurrencyEffectiveCost": eff_a,
            "PricingCurrencyListUnitPrice": lup_a,
            "PricingQuantity": _dec(q4, 4),
            "PricingUnit": _take(self.s_punit, t),
            "ProviderName": rep(self.pd.provider),
            "PublisherName": rep(self.pd.publisher),
            "RegionId": _take(self.s_region_id, g),
            "RegionName": _take(self.s_region_name, g),
            "ResourceId": _take(self.s_res_id, r),
            "ResourceName": _take(self.s_res_name, r),
            "ResourceType": _take(self.s_rtype, t),
            "ServiceCategory": _take(self.s_category, t),
            "ServiceName": _take(self.s_service, t),
            "ServiceSubcategory": _take(self.s_subcategory, t),
            "SkuId": _take(self.s_sku, tg),
            "SkuMeter": _take(self.s_meter, t),
            "SkuPriceDetails": _take(self.s_details, t),
            "SkuPriceId": _take(self.s_price_id, tg2),
            "SubAccountId": _take(self.s_acct_id, acct),
            "SubAccountName": _take(self.s_acct_name, acct),
            "SubAccountType": rep(self.pd.sub_account_type),
            "Tags": _take(self.s_tags, r),
        }
        return pa.Table.from_arrays([cols[c] for c in FOCUS_COLUMNS], schema=SCHEMA), extra

    def invoice_id(self, m: int) -> str:
        ms = self.cal.month_starts[m]
        n = (self.spec.seed * 7919 + self.pidx * 104729 + ms.year * 13 + ms.month) % 10**8
        return self.pd.invoice_fmt.format(yy=ms.year % 100, mm=f"{ms.month:02d}", n=n * 37 % 10**8)

    # ---- special rows ---------------------------------------------------------------------------
    def _base_row(self, m: int, cp_s: int, cp_e: int, acct: int) -> dict:
        cal = self.cal
        return {
            "BillingAccountId": self.pd.billing_account_id,
            "BillingAccountName": self.pd.billing_account_name,
            "BillingAccountType": self.pd.billing_account_type,
            "BillingCurrency": "USD",
            "BillingPeriodStart": cal.dt(cal.month_first_day[m]),
            "BillingPeriodEnd": cal.dt(cal.month_first_day[m + 1]),
            "ChargePeriodStart": cal.dt(cp_s),
            "ChargePeriodEnd": cal.dt(cp_e),
            "InvoiceId": self.invoice_id(m),
            "InvoiceIssuerName": self.pd.issuer,
            "PricingCurrency": "USD",
            "ProviderName": self.pd.provider,
            "PublisherName": self.pd.publisher,
            "SubAccountId": self.pd.accounts[acct].id,
            "SubAccountName": self.pd.accounts[acct].name,
            "SubAccountType": self.pd.sub_account_type,
        }

    def _commit_common(self, c: _Commit) -> dict:
        reg = self.pd.regions[c.d.region].id if c.d.region >= 0 else None
        return {
            "CommitmentDiscountCategory": c.d.category,
            "CommitmentDiscountId": c.cid,
            "CommitmentDiscountName": c.name,
            "CommitmentDiscountType": c.d.ctype,
            "CommitmentDiscountUnit": c.d.unit,
            "RegionId": reg,
            "RegionName": self.pd.regions[c.d.region].name if reg else None,
            "ResourceId": c.cid,
            "ResourceName": c.name,
            "ResourceType": c.d.ctype,
            "ServiceCategory": c.d.category_svc,
            "ServiceName": c.d.service,
            "ServiceSubcategory": c.d.subcategory_svc,
            "SkuId": c.sku_id,
            "SkuMeter": "Commitment",
            "SkuPriceId": c.sku_price_id,
            "SkuPriceDetails": _json({"Term": f"{c.d.term_years} Year{'s' if c.d.term_years > 1 else ''}",
                                      "PaymentOption": c.d.payment}),
        }

    def _unused_row(self, c: _Commit, d: int, raw: int, qty_raw: int) -> dict:
        m = int(self.cal.month_of_day[d])
        row = self._base_row(m, d, d + 1, c.acct)
        row.update(self._commit_common(c))
        z = _dec_py(0)
        row.update({
            "BilledCost": z, "ContractedCost": z, "ListCost": z,
            "EffectiveCost": _dec_py(raw), "PricingCurrencyEffectiveCost": _dec_py(raw),
            "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based", "PricingCategory": "Committed",
            "ChargeDescription": f"Unused {c.d.ctype} commitment: {c.name}",
            "CommitmentDiscountStatus": "Unused", "CommitmentDiscountQuantity": _dec_py(qty_raw),
        })
        return row

    def _purchase_rows(self, m: int, dry: bool = False) -> list[dict]:
        cal = self.cal
        rows: list[dict] = []
        ms, me = cal.month_first_day[m], cal.month_first_day[m + 1]
        for c in self.commits:
            a, b = max(c.start, ms), min(c.end, me)
            if c.up8 > 0 and ms <= c.start < me:
                w_hours = (min(c.end, cal.total_days) - c.start) * 24
                rows.append(self._purchase_row(c, m, c.start, c.start + 1, c.up8, w_hours, "One-Time", dry))
            if c.rec8 > 0 and b > a:
                rows.append(self._purchase_row(c, m, a, b, c.rec8, (b - a) * 24, "Recurring", dry))
        return rows

    def _purchase_row(self, c: _Commit, m: int, s: int, e: int, price8: int, hours: int, freq: str,
                      dry: bool) -> dict:
        if dry:
            return {}
        qty_q4 = c.units * hours * _Q4
        amount = price8 * qty_q4
        c.purchased_total += amount
        row = self._base_row(m, s, e, c.acct)
        row.update(self._commit_common(c))
        term_days = c.end - c.start
        if freq == "One-Time":
            in_window = min(c.end, self.cal.total_days) - c.start
            desc = (f"{c.d.payment} fee for {c.name}: share of the upfront payment amortised inside this "
                    f"dataset's window ({in_window} of {term_days} days of the term)")
        else:
            desc = f"Monthly recurring fee for {c.name}"
        p = _dec_py(price8 * 10**4)
        amt = _dec_py(amount)
        row.update({
            "BilledCost": amt, "ContractedCost": amt, "ListCost": amt, "EffectiveCost": _dec_py(0),
            "PricingCurrencyEffectiveCost": _dec_py(0),
            "ListUnitPrice": p, "ContractedUnitPrice": p, "PricingCurrencyListUnitPrice": p,
            "PricingCurrencyContractedUnitPrice": p,
            "PricingQuantity": _dec_py(qty_q4 * 10**8), "PricingUnit": "Hours",
            "ChargeCategory": "Purchase", "ChargeFrequency": freq, "PricingCategory": "Standard",
            "ChargeDescription": desc,
            "CommitmentDiscountQuantity": _dec_py(amount if c.spend else qty_q4 * 10**8),
        })
        return row

    def planted_rows(self, m: int, acc: _MonthAcc) -> list[dict]:
        """The month's rows of the planted resources (``planted.py``), one per stream per day."""
        from finops_xl.sample import planted

        cal = self.cal
        first, end = cal.month_first_day[m], cal.month_first_day[m + 1]
        change = planted.change_day(cal.month_days, cal.month_first_day)
        rows = []
        for s in planted.planted_streams(self.pd.code):
            a = self.acct_by_name[s.account[1]]
            price8 = _p8(s.price)
            details = _json(s.details) if s.details else None
            tags = planted.tags_json(s)
            for d in planted.stream_days(s, first, end, change):
                q = planted.daily_quantity(s, (cal.start + datetime.timedelta(days=d)), cal.month_days[m], m)
                q4 = int(q * _Q4)
                amount = price8 * q4
                row = self._base_row(m, d, d + 1, a)
                money = _dec_py(amount)
                price = _dec_py(price8 * 10**4)
                row.update({
                    "AvailabilityZone": s.zone, "BilledCost": money, "EffectiveCost": money, "ListCost": money,
                    "ContractedCost": money, "PricingCurrencyEffectiveCost": money,
                    "ListUnitPrice": price, "ContractedUnitPrice": price, "PricingCurrencyListUnitPrice": price,
                    "PricingCurrencyContractedUnitPrice": price,
                    "PricingQuantity": _dec_py(q4 * 10**8), "ConsumedQuantity": _dec_py(q4 * 10**8),
                    "PricingUnit": s.unit, "ConsumedUnit": s.unit, "ChargeCategory": "Usage",
                    "ChargeFrequency": "Usage-Based", "PricingCategory": "Standard",
                    "ChargeDescription": f"${s.price} per {s.unit[:-1] if s.unit.endswith('s') else s.unit} "
                                         f"- {s.meter}",
                    "ServiceName": s.service, "ServiceCategory": s.category, "ServiceSubcategory": s.subcategory,
                    "SkuId": f"PLANTED-{s.meter.upper().replace(' ', '-')}", "SkuMeter": s.meter,
                    "SkuPriceId": f"PLANTED-{s.meter.upper().replace(' ', '-')}-{s.price}",
                    "SkuPriceDetails": details, "RegionId": s.region[0], "RegionName": s.region[1],
                    "ResourceId": s.resource_id, "ResourceName": s.resource_name, "ResourceType": s.resource_type,
                    "Tags": tags,
                })
                rows.append(row)
                acc.add_py(a, amount, amount, amount, amount)
        return rows

    def month_end_rows(self, m: int, acc: _MonthAcc) -> list[dict]:
        cal, pd = self.cal, self.pd
        ms, me = cal.month_first_day[m], cal.month_first_day[m + 1]
        rows = self._purchase_rows(m)
        for row in rows:
            a = self.acct_by_name[row["SubAccountName"]]
            acc.add_py(a, _raw(row["BilledCost"]), 0, _raw(row["ListCost"]), _raw(row["ContractedCost"]))
        usage_total = sum(acc.con)
        # support (Purchase, Recurring, not amortised: EffectiveCost = BilledCost)
        if pd.code == "aws":
            tiers = ((10_000, "0.10"), (80_000, "0.07"), (250_000, "0.05"), (None, "0.03"))
            left, prev, fee = Decimal(usage_total).scaleb(-12), 0, Decimal(0)
            for cap, rate in tiers:
                span = left if cap is None else min(left, Decimal(cap - prev))
                if span <= 0:
                    break
                fee += span * Decimal(rate)
                left -= span
                prev = cap if cap is not None else prev
            fee = max(fee, Decimal(100))
        elif pd.code == "azure":
            fee = max(Decimal(100), Decimal(usage_total).scaleb(-12) * Decimal("0.03"))
        else:
            fee = max(Decimal(29), Decimal(usage_total).scaleb(-12) * Decimal("0.03"))
        fee_raw = _cents(fee.scaleb(12))
        row = self._base_row(m, ms, me, self.mgmt)
        f = _dec_py(fee_raw)
        row.update({
            "BilledCost": f, "EffectiveCost": f, "ListCost": f, "ContractedCost": f,
            "PricingCurrencyEffectiveCost": f, "ListUnitPrice": f, "ContractedUnitPrice": f,
            "PricingCurrencyListUnitPrice": f, "PricingCurrencyContractedUnitPrice": f,
            "PricingQuantity": _dec_py(_R12), "PricingUnit": "Months", "ConsumedQuantity": _dec_py(_R12),
            "ConsumedUnit": "Months", "ChargeCategory": "Purchase", "ChargeFrequency": "Recurring",
            "PricingCategory": "Standard", "ChargeDescription": f"{pd.support_service} - monthly support fee",
            "ServiceName": pd.support_service, "ServiceCategory": "Management and Governance",
            "ServiceSubcategory": "Support", "SkuId": f"{pd.code.upper()}-SUPPORT", "SkuMeter": "Support",
            "SkuPriceId": f"{pd.code.upper()}-SUPPORT-MONTHLY",
        })
        rows.append(row)
        acc.add_py(self.mgmt, fee_raw, fee_raw, fee_raw, fee_raw)
        # credit (negative, on one sub-account)
        ca = self.acct_by_name[pd.credit_account]
        amount = -_cents(Decimal(acc.eff[ca]) * Decimal(pd.credit_share))
        row = self._base_row(m, ms, me, ca)
        a = _dec_py(amount)
        svc, cat, sub = pd.credit_service
        row.update({
            "BilledCost": a, "EffectiveCost": a, "ListCost": a, "ContractedCost": a,
            "PricingCurrencyEffectiveCost": a, "ChargeCategory": "Credit", "ChargeFrequency": "One-Time",
            "ChargeDescription": pd.credit_desc, "ServiceName": svc, "ServiceCategory": cat,
            "ServiceSubcategory": sub,
        })
        rows.append(row)
        acc.add_py(ca, amount, amount, amount, amount)
        # correction of the previous month (negative re-rate of data transfer)
        if m == min(1, cal.months - 1):
            ti = self.tkey[pd.correction_template]
            big = max(range(self.A), key=lambda i: acc.con[i])
            lup, cup = int(self.lup8[ti, 0]), int(self.cup8[ti, 0])
            q4 = -max(_Q4, int(round(sum(acc.con) * 0.004 / max(cup, 1))) // _Q4 * _Q4)
            prev = cal.month_starts[m - 1] if m >= 1 else _add_months(cal.start, -1)
            t = pd.templates[ti]
            row = self._base_row(m, ms, ms + 1, big)
            row.update({
                "BilledCost": _dec_py(cup * q4), "EffectiveCost": _dec_py(cup * q4),
                "PricingCurrencyEffectiveCost": _dec_py(cup * q4), "ListCost": _dec_py(lup * q4),
                "ContractedCost": _dec_py(cup * q4), "ListUnitPrice": _dec_py(lup * 10**4),
                "PricingCurrencyListUnitPrice": _dec_py(lup * 10**4), "ContractedUnitPrice": _dec_py(cup * 10**4),
                "PricingCurrencyContractedUnitPrice": _dec_py(cup * 10**4), "PricingQuantity": _dec_py(q4 * 10**8),
                "ConsumedQuantity": _dec_py(q4 * 10**8), "PricingUnit": t.punit, "ConsumedUnit": t.cunit,
                "ChargeCategory": "Usage", "ChargeClass": "Correction", "ChargeFrequency": "Usage-Based",
                "PricingCategory": "Standard",
                "ChargeDescription": f"Correction for {prev:%Y-%m}: {t.meter} over-billed (re-rated)",
                "ServiceName": t.service, "ServiceCategory": t.category, "ServiceSubcategory": t.subcategory,
                "SkuId": self.s_sku[ti * self.G].as_py(), "SkuMeter": t.meter,
                "SkuPriceId": self.s_price_id[(ti * self.G) * 2].as_py(),
                "RegionId": pd.regions[0].id, "RegionName": pd.regions[0].name,
            })
            rows.append(row)
            acc.add_py(big, cup * q4, cup * q4, lup * q4, cup * q4)
        # tax per sub-account on that account's charges of the month
        rate = Decimal(pd.tax_rate)
        for ai in range(self.A):
            if acc.bill[ai] == 0 and acc.eff[ai] == 0:
                continue
            row = self._base_row(m, ms, me, ai)
            vals = {k: _dec_py(_cents(Decimal(v) * rate)) for k, v in
                    (("BilledCost", acc.bill[ai]), ("EffectiveCost", acc.eff[ai]), ("ListCost", acc.lst[ai]),
                     ("ContractedCost", acc.con[ai]))}
            row.update(vals)
            row.update({
                "PricingCurrencyEffectiveCost": vals["EffectiveCost"], "ChargeCategory": "Tax",
                "ChargeFrequency": "Recurring", "ChargeDescription": f"Sales tax ({rate * 100:.2f}%)",
                "ServiceName": "Tax", "ServiceCategory": "Other", "ServiceSubcategory": "Other (Other)",
            })
            rows.append(row)
        return rows


def _raw(x: Decimal | None) -> int:
    return 0 if x is None else int(x.scaleb(12))


class _MonthAcc:
    """Exact per-sub-account sums of the month's charges (Python ints of 1e-12 USD)."""

    def __init__(self, n_acct: int):
        self.bill = [0] * n_acct
        self.eff = [0] * n_acct
        self.lst = [0] * n_acct
        self.con = [0] * n_acct

    def add(self, acct, bill, eff, lst, con, n):
        for tgt, vals in ((self.bill, bill), (self.eff, eff), (self.lst, lst), (self.con, con)):
            for i, v in enumerate(_isums_by(acct, vals, n)):
                tgt[i] += v

    def add_py(self, a: int, bill: int, eff: int, lst: int, con: int) -> None:
        self.bill[a] += bill
        self.eff[a] += eff
        self.lst[a] += lst
        self.con[a] += con


# --------------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------------


def _rows_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def generate(spec: SampleSpec, out_dir: pathlib.Path,
             progress: Callable[[int], None] | None = None) -> list[pathlib.Path]:
    """Write Parquet files to out_dir, one file per provider per billing month, named
    f"{provider.lower()}-{yyyy}-{mm}.parquet" (e.g. aws-2025-01.parquet); returns the paths.
    Calls progress(rows_written_so_far_increment) after each chunk. Same spec → byte-identical data
    (same seed, same rows). Creates out_dir."""
    if spec.rows < 1:
        raise ValueError("SampleSpec.rows must be >= 1")
    if spec.months < 1:
        raise ValueError("SampleSpec.months must be >= 1")
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cal = _Calendar(spec)
    provs = [_Provider(i, pd, spec, cal) for i, pd in enumerate(_PROVIDERS)]
    spike_month = cal.months // 2 if cal.months >= 2 else -1
    if spike_month >= 0:
        total = sum(p.expected_month_cost(spike_month) for p in provs)
        for p in provs:
            p.add_spike(spike_month, _SPIKE * total * p.pd.spike_share)
    else:
        for p in provs:
            p.add_spike(0, 0.0)
    for p in provs:
        p.finalize()
    paths: list[pathlib.Path] = []
    for p in provs:
        for m in range(cal.months):
            ms = cal.month_starts[m]
            path = out_dir / f"{p.pd.code}-{ms.year:04d}-{ms.month:02d}.parquet"
            _write_month(p, m, path, progress)
            paths.append(path)
        for c in p.commits:  # the invariant, checked on the way out
            if c.used_total + c.unused_total != c.purchased_total:
                raise AssertionError(f"commitment ledger does not tie for {c.cid}")
    return paths


def _write_month(p: _Provider, m: int, path: pathlib.Path, progress: Callable[[int], None] | None) -> None:
    cal = p.cal
    acc = _MonthAcc(p.A)
    first, dim = cal.month_first_day[m], cal.month_days[m]
    target = p.target[m]
    end_rows = p.month_end_count(m)
    written = 0
    pending: list[pa.Table] = []
    pending_extra: list[dict] = []
    pending_n = 0
    with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
        def flush() -> None:
            nonlocal pending, pending_extra, pending_n
            if pending_extra:
                pending.append(_rows_table(pending_extra))
            if pending:
                tbl = pa.concat_tables(pending)
                writer.write_table(tbl, row_group_size=max(len(tbl), 1))
                if progress is not None:
                    progress(len(tbl))
            pending, pending_extra, pending_n = [], [], 0

        for j in range(dim):
            d = first + j
            spike_left = int(p.spike_alive[d: first + dim].sum())
            per_day = (target - end_rows - written - spike_left) / (dim - j) - p.commit_active[d]
            r = np.concatenate([p.select(d, int(round(per_day))), p.spike_rows(d)])
            tbl, extra = p.day(d, r, acc)
            pending.append(tbl)
            if extra:
                pending.append(_rows_table(extra))
            n = tbl.num_rows + len(extra)
            written += n
            pending_n += n
            if pending_n >= _FLUSH_ROWS:
                flush()
        planted = p.planted_rows(m, acc) if p.spec.plant_waste else []
        pending_extra = planted + p.month_end_rows(m, acc)
        flush()
