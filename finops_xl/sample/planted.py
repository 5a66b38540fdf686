"""Known waste, and known healthy look-alikes, planted in generated data (``SampleSpec(plant_waste=True)``).

Each planted resource is a handful of meter streams with exact prices and quantities, so a test can
compute what a detector should report from this table alone. The planted cases:

========================  ==================================================================  ============
key                       what it is                                                          expected
========================  ==================================================================  ============
``unattached_disk``       Azure Premium SSD, 1,024 GB, alone in resource group rg-crm-legacy   unattached-storage
``orphaned_snapshot``     Azure snapshots, 2,000 GB growing 10 %/month, no disk in its group   orphaned-snapshot
``idle_alb``              AWS Application Load Balancer billed 24 h/day, 0.001 LCU-hours/day   idle-network
``oversized_vm``          AWS m6i.4xlarge, p95 CPU 12 %, p95 memory 15 %                       rightsize to m6i.xlarge
``retired_team_vm``       AWS t3.large tagged Team=crm (a retired team in the demo rules)      retired-owner
``previous_gen_vm``       AWS c4.2xlarge (c6i.2xlarge is the same size and cheaper)            previous-generation
``rightsized_vm``         AWS m6i.2xlarge resized to m6i.xlarge on day 10 of the last month    (ledger test)
``healthy_disk``          Azure disk in rg-checkout-prod beside a VM of the same group         nothing
``healthy_snapshot``      Azure snapshots of that disk (200 GB, growing), same group           nothing
``healthy_vm``            Azure Standard_D4s_v5 in rg-checkout-prod, autoscaled hours          nothing
``healthy_alb``           AWS Application Load Balancer with 45 LCU-hours/day                  nothing
``healthy_api_vm``        AWS m6i.2xlarge tagged web, p95 CPU 58 %, autoscaled hours           nothing
========================  ==================================================================  ============

Planted rows are on-demand (``PricingCategory = Standard``), never covered by a commitment, and priced
at list (``ContractedCost = ListCost = BilledCost = EffectiveCost``). Tax on them is included in the
month's tax rows like any other charge. The utilization export the rightsizing needs is written by
:func:`write_utilization`, as an analyst would export it from CloudWatch or Azure Monitor.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import pathlib
from decimal import Decimal

__all__ = ["PlantedStream", "PLANTED", "UTILIZATION", "UTILIZATION_COLUMNS", "planted_streams",
           "stream_days", "change_day", "write_utilization", "daily_quantity", "held_gb"]

_AWS_WEB = ("210987654304", "acme-web-prod")
_AWS_SEARCH = ("210987654303", "acme-search-prod")
_AZ_WEB = ("9a4c1e72-2b5d-4f8e-a3c6-1d2e3f4a5b22", "Web-Prod")
_AZ_RG = "/subscriptions/" + _AZ_WEB[0] + "/resourceGroups/{rg}/providers/{kind}/{name}"
_ALB = "arn:aws:elasticloadbalancing:us-east-1:210987654304:loadbalancer/app/{name}/{hex}"


@dataclasses.dataclass(frozen=True)
class PlantedStream:
    """One meter of one planted resource (a load balancer has two: hours and capacity units).

    ``schedule``: ``always`` (24 h/day), ``autoscaled`` (20 h on weekdays, 16 h at weekends),
    ``storage`` (``quantity`` GB held all month: quantity / days-in-month GB-months a day),
    ``growing`` (like storage, with ``quantity`` × 1.1^m GB in the m-th generated month, whole GB) or
    ``daily`` (``quantity`` units a day). ``window``: ``all``, ``before_change`` or ``after_change``
    (the ``rightsized_vm`` stream split at :func:`change_day`).
    """

    key: str
    provider: str  # generator provider code: aws | azure
    account: tuple[str, str]  # (SubAccountId, SubAccountName)
    resource_id: str
    resource_name: str
    resource_type: str
    service: str
    category: str
    subcategory: str
    meter: str
    unit: str
    price: str  # list = contracted unit price, USD per unit
    schedule: str
    quantity: str = "0"
    region: tuple[str, str] = ("us-east-1", "US East (N. Virginia)")
    zone: str | None = None
    tags: dict = dataclasses.field(default_factory=dict)
    details: dict = dataclasses.field(default_factory=dict)
    window: str = "all"


def _vm_details(itype: str, cores: int, mem: int) -> dict:
    return {"InstanceType": itype, "CoreCount": cores, "MemorySize": mem, "OperatingSystem": "Linux"}


_WEB_TAGS = {"Team": "web", "Environment": "Production"}


def _alb(key: str, name: str, suffix: str, lcu_per_day: str) -> tuple[PlantedStream, PlantedStream]:
    """An Application Load Balancer's two meters: hours (24 a day) and capacity units."""
    common = dict(key=key, provider="aws", account=_AWS_WEB, resource_id=_ALB.format(name=name, hex=suffix),
                  resource_name=name, resource_type="Load Balancer", service=_ELB, category="Networking",
                  subcategory="Application Networking", tags=_WEB_TAGS)
    return (PlantedStream(meter="Load Balancer Hours", unit="Hours", price="0.0225", schedule="always", **common),
            PlantedStream(meter="Load Balancer Capacity Units", unit="LCU-Hours", price="0.008", schedule="daily",
                          quantity=lcu_per_day, **common))
_AZ_REGION = ("eastus", "East US")
_EC2 = "Amazon Elastic Compute Cloud"
_ELB = "Elastic Load Balancing"

PLANTED: tuple[PlantedStream, ...] = (
    # -- waste ---------------------------------------------------------------------------------
    PlantedStream("unattached_disk", "azure", _AZ_WEB,
                  _AZ_RG.format(rg="rg-crm-legacy", kind="Microsoft.Compute/disks", name="disk-crm-legacy-data-01"),
                  "disk-crm-legacy-data-01", "Block Storage", "Storage", "Storage", "Block Storage",
                  "Premium SSD Managed Disks", "GB-Months", "0.12", "storage", "1024", _AZ_REGION, "1",
                  _WEB_TAGS, {"DiskType": "SSD", "Redundancy": "Local"}),
    *_alb("idle_alb", "web-promo-2024", "5f0e1d2c3b4a6978", "0.001"),
    PlantedStream("oversized_vm", "aws", _AWS_WEB, "i-0a1b2c3d4e5f60001", "web-render-prod-01",
                  "Virtual Machine", _EC2, "Compute", "Virtual Machines", "Compute Usage", "Hours", "0.768",
                  "always", zone="us-east-1a", tags=_WEB_TAGS, details=_vm_details("m6i.4xlarge", 16, 64)),
    PlantedStream("retired_team_vm", "aws", _AWS_WEB, "i-0a1b2c3d4e5f60003", "crm-sync-prod-01",
                  "Virtual Machine", _EC2, "Compute", "Virtual Machines", "Compute Usage", "Hours", "0.0832",
                  "always", zone="us-east-1b", tags={"Team": "crm", "Environment": "Production"},
                  details=_vm_details("t3.large", 2, 8)),
    PlantedStream("previous_gen_vm", "aws", _AWS_SEARCH, "i-0a1b2c3d4e5f60004", "search-indexer-legacy-01",
                  "Virtual Machine", _EC2, "Compute", "Virtual Machines", "Compute Usage", "Hours", "0.398",
                  "always", zone="us-east-1c", tags={"Team": "search", "Environment": "Production"},
                  details=_vm_details("c4.2xlarge", 8, 15)),
    PlantedStream("rightsized_vm", "aws", _AWS_WEB, "i-0a1b2c3d4e5f60005", "web-batch-prod-01",
                  "Virtual Machine", _EC2, "Compute", "Virtual Machines", "Compute Usage", "Hours", "0.384",
                  "always", zone="us-east-1a", tags=_WEB_TAGS, details=_vm_details("m6i.2xlarge", 8, 32),
                  window="before_change"),
    PlantedStream("rightsized_vm", "aws", _AWS_WEB, "i-0a1b2c3d4e5f60005", "web-batch-prod-01",
                  "Virtual Machine", _EC2, "Compute", "Virtual Machines", "Compute Usage", "Hours", "0.192",
                  "always", zone="us-east-1a", tags=_WEB_TAGS, details=_vm_details("m6i.xlarge", 4, 16),
                  window="after_change"),
    PlantedStream("orphaned_snapshot", "azure", _AZ_WEB,
                  _AZ_RG.format(rg="rg-migration-2023", kind="Microsoft.Compute/snapshots",
                                name="snap-migration-2023-db-01"),
                  "snap-migration-2023-db-01", "Snapshot", "Storage", "Storage", "Backup Storage", "Snapshots",
                  "GB-Months", "0.05", "growing", "2000", _AZ_REGION, None, _WEB_TAGS),
    # -- healthy look-alikes -------------------------------------------------------------------
    PlantedStream("healthy_snapshot", "azure", _AZ_WEB,
                  _AZ_RG.format(rg="rg-checkout-prod", kind="Microsoft.Compute/snapshots",
                                name="snap-checkout-prod-os-01"),
                  "snap-checkout-prod-os-01", "Snapshot", "Storage", "Storage", "Backup Storage", "Snapshots",
                  "GB-Months", "0.05", "growing", "200", _AZ_REGION, None, _WEB_TAGS),
    PlantedStream("healthy_disk", "azure", _AZ_WEB,
                  _AZ_RG.format(rg="rg-checkout-prod", kind="Microsoft.Compute/disks", name="disk-checkout-prod-os-01"),
                  "disk-checkout-prod-os-01", "Block Storage", "Storage", "Storage", "Block Storage",
                  "Premium SSD Managed Disks", "GB-Months", "0.12", "storage", "256", _AZ_REGION, "1",
                  _WEB_TAGS, {"DiskType": "SSD", "Redundancy": "Local"}),
    PlantedStream("healthy_vm", "azure", _AZ_WEB,
                  _AZ_RG.format(rg="rg-checkout-prod", kind="Microsoft.Compute/virtualMachines",
                                name="vm-checkout-prod-01"),
                  "vm-checkout-prod-01", "Virtual Machine", "Virtual Machines", "Compute", "Virtual Machines",
                  "Compute Usage", "Hours", "0.192", "autoscaled", "0", _AZ_REGION, "1", _WEB_TAGS,
                  _vm_details("Standard_D4s_v5", 4, 16)),
    *_alb("healthy_alb", "web-storefront", "0a9b8c7d6e5f4031", "45"),
    PlantedStream("healthy_api_vm", "aws", _AWS_WEB, "i-0a1b2c3d4e5f60002", "web-api-prod-01",
                  "Virtual Machine", _EC2, "Compute", "Virtual Machines", "Compute Usage", "Hours", "0.384",
                  "autoscaled", zone="us-east-1b", tags=_WEB_TAGS, details=_vm_details("m6i.2xlarge", 8, 32)),
)

#: The utilization export for the planted instances: (ResourceId, InstanceType, days, CPU p95, CPU max,
#: memory p95, memory max), percentages.
UTILIZATION_COLUMNS = ("resource_id", "instance_type", "period_days", "cpu_p95", "cpu_max", "memory_p95",
                       "memory_max")
UTILIZATION: tuple[tuple[str, str, int, str, str, str, str], ...] = (
    ("i-0a1b2c3d4e5f60001", "m6i.4xlarge", 30, "12", "31", "15", "22"),   # oversized
    ("i-0a1b2c3d4e5f60002", "m6i.2xlarge", 30, "58", "83", "61", "70"),   # healthy
    ("i-0a1b2c3d4e5f60003", "t3.large", 30, "35", "60", "60", "66"),      # right size, retired owner
    ("i-0a1b2c3d4e5f60004", "c4.2xlarge", 30, "45", "78", "40", "52"),    # right size, old generation
    ("i-0a1b2c3d4e5f60005", "m6i.2xlarge", 30, "30", "55", "30", "41"),   # resized on the 10th (stale after)
)


def planted_streams(provider: str) -> tuple[PlantedStream, ...]:
    return tuple(s for s in PLANTED if s.provider == provider)


def change_day(month_days: list[int], month_first_day: list[int]) -> int:
    """Day index (from the window start) on which ``rightsized_vm`` is resized: the 10th of the last
    generated month."""
    return month_first_day[len(month_days) - 1] + 9


def stream_days(stream: PlantedStream, first: int, end: int, change: int) -> range:
    """The window days ``[first, end)`` of one month on which ``stream`` bills."""
    if stream.window == "before_change":
        return range(first, min(end, change))
    if stream.window == "after_change":
        return range(max(first, change), end)
    return range(first, end)


def held_gb(stream: PlantedStream, month_index: int) -> Decimal:
    """GB a storage stream holds in the ``month_index``-th generated month."""
    if stream.schedule == "growing":
        return (Decimal(stream.quantity) * Decimal("1.1") ** month_index).quantize(Decimal(1))
    return Decimal(stream.quantity)


def daily_quantity(stream: PlantedStream, date: datetime.date, days_in_month: int,
                   month_index: int = 0) -> Decimal:
    """Units billed on ``date`` (exact; storage to 4 decimals of a GB-month)."""
    if stream.schedule == "always":
        return Decimal(24)
    if stream.schedule == "autoscaled":
        return Decimal(16 if date.weekday() >= 5 else 20)
    if stream.schedule in ("storage", "growing"):
        return (held_gb(stream, month_index) / days_in_month).quantize(Decimal("0.0001"))
    return Decimal(stream.quantity)


def write_utilization(path: str | pathlib.Path) -> pathlib.Path:
    """Write the planted instances' utilization export (CSV, one row per resource)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(UTILIZATION_COLUMNS)
        w.writerows(UTILIZATION)
    return path


def tags_json(stream: PlantedStream) -> str:
    return json.dumps(stream.tags, ensure_ascii=False)
