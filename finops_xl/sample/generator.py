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

Where the parts live
--------------------
This module drives the run and writes the files. The spec and file schema are in ``spec``; the catalog's
shape in ``catalog`` and each provider's catalog in ``catalog_aws``, ``catalog_azure``, ``catalog_gcp``;
exact values and Arrow helpers in ``values``; the window's days and month sums in ``window``. A provider's
state (``provider``) is made of its resource pool (``pool``), commitments (``commitments``), daily usage rows
(``usage_rows``) and its other rows: Unused, Purchase, planted, support, credit, correction, tax
(``charge_rows``).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from finops_xl.focus.schema import SERVICE_SUBCATEGORIES
from finops_xl.sample.catalog_aws import _AWS
from finops_xl.sample.catalog_azure import _AZURE
from finops_xl.sample.catalog_gcp import _GCP
from finops_xl.sample.provider import _Provider
from finops_xl.sample.spec import DECIMAL_TYPE, TIMESTAMP_TYPE  # noqa: F401  (importable from here, as before)
from finops_xl.sample.spec import DECIMAL_COLUMNS, FOCUS_COLUMNS, SCHEMA, TIMESTAMP_COLUMNS, SampleSpec
from finops_xl.sample.window import _Calendar, _MonthAcc

__all__ = [
    "SampleSpec",
    "generate",
    "FOCUS_COLUMNS",
    "DECIMAL_COLUMNS",
    "TIMESTAMP_COLUMNS",
    "SCHEMA",
    "SERVICE_SUBCATEGORIES",
]


_FLUSH_ROWS = 131_072
_SPIKE = 0.30  # of the expected usage spend; tax and support on top bring it to ~+35%

_PROVIDERS = (_AWS, _AZURE, _GCP)


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
