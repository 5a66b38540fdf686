"""Rightsizing from a utilization export: the smallest size that keeps p95 under the headroom.

The export is one CSV row per resource, as an analyst exports it from CloudWatch, Azure Monitor or
Prometheus over 14–30 days::

    resource_id,instance_type,period_days,cpu_p95,cpu_max,memory_p95,memory_max
    i-0a1b2c3d4e5f60001,m6i.4xlarge,30,12,31,15,22

Percentages are 0–100. ``instance_type`` may be empty (the billing rows' ``SkuPriceDetails`` then
tell it); ``memory_*`` may be empty (memory is then not a constraint). A row whose ``instance_type`` is not
the size billed last describes the resource before a resize and proposes nothing. Column names are matched
without regard to case, spaces or underscores, and ``ResourceId`` / ``CPUUtilization_p95``-style
names are accepted.

The proposal, for a resource of family F at size S with p95 CPU ``c`` and p95 memory ``m``:

* **idle** when ``c`` is below ``idle_cpu_pct`` (5 %): stop it; savings = its hours' cost.
* otherwise the smallest size T of F (``catalog.py``) with ``c × vCPU(S) / vCPU(T) <= headroom`` and
  ``m × memory(S) / memory(T) <= headroom`` (70 %), when T is smaller than S. Savings = hours' cost ×
  (1 − price(T) / price(S)), the catalog's list prices as a ratio applied to the resource's own cost.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from finops_xl.optimization import catalog

__all__ = ["UtilizationRow", "Proposal", "read_utilization", "propose", "UtilizationError"]


class UtilizationError(ValueError):
    """A utilization export that cannot be read; the message names the file, row and column."""


@dataclasses.dataclass(frozen=True)
class UtilizationRow:
    resource_id: str
    instance_type: str | None
    period_days: int
    cpu_p95: Decimal
    cpu_max: Decimal | None = None
    memory_p95: Decimal | None = None
    memory_max: Decimal | None = None


@dataclasses.dataclass(frozen=True)
class Proposal:
    rule: str  # rightsize | idle
    current: str
    proposed: str | None
    savings: Decimal
    action: str
    evidence: str


_ALIASES = {
    "resourceid": "resource_id", "resource": "resource_id", "instanceid": "resource_id",
    "instancetype": "instance_type", "size": "instance_type", "vmsize": "instance_type",
    "perioddays": "period_days", "days": "period_days",
    "cpup95": "cpu_p95", "cpuutilizationp95": "cpu_p95", "p95cpu": "cpu_p95",
    "cpumax": "cpu_max", "cpuutilizationmax": "cpu_max", "maxcpu": "cpu_max",
    "memoryp95": "memory_p95", "memp95": "memory_p95", "memoryutilizationp95": "memory_p95",
    "memorymax": "memory_max", "memmax": "memory_max", "memoryutilizationmax": "memory_max",
}


def _canon(name: str) -> str:
    key = re.sub(r"[\s_\-%()]", "", name.strip().lower())
    return _ALIASES.get(key, key)


def read_utilization(path: str | Path) -> list[UtilizationRow]:
    """The rows of a utilization CSV; raises ``UtilizationError`` naming file, row and column."""
    path = Path(path)
    if not path.is_file():
        raise UtilizationError(f"{path}: no such utilization file")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            raise UtilizationError(f"{path}: empty file; expected a header with resource_id and cpu_p95")
        cols = [_canon(h) for h in header]
        missing = [c for c in ("resource_id", "cpu_p95") if c not in cols]
        if missing:
            raise UtilizationError(f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(header)})")
        out: list[UtilizationRow] = []
        seen: set[str] = set()
        for n, raw in enumerate(reader, start=2):
            if not any(v.strip() for v in raw):
                continue
            rec = dict(zip(cols, (v.strip() for v in raw)))
            rid = rec.get("resource_id", "")
            if not rid:
                raise UtilizationError(f"{path}, row {n}, column resource_id: empty")
            if rid in seen:
                raise UtilizationError(f"{path}, row {n}: resource {rid!r} appears twice")
            seen.add(rid)

            days_text = rec.get("period_days", "") or "30"
            try:
                days = int(days_text)
            except ValueError:
                raise UtilizationError(f"{path}, row {n}, column period_days: {days_text!r} is not a whole "
                                       "number of days") from None
            where = f"{path}, row {n}"
            out.append(UtilizationRow(rid, rec.get("instance_type") or None, days,
                                      _pct(rec, "cpu_p95", where, required=True), _pct(rec, "cpu_max", where),
                                      _pct(rec, "memory_p95", where), _pct(rec, "memory_max", where)))
    return out


def _pct(rec: dict, col: str, where: str, required: bool = False) -> Decimal | None:
    text = rec.get(col, "").rstrip("%").strip()
    if not text:
        if required:
            raise UtilizationError(f"{where}, column {col}: empty")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UtilizationError(f"{where}, column {col}: {text!r} is not a number") from None
    if not 0 <= value <= 100:
        raise UtilizationError(f"{where}, column {col}: {value} is not a percentage 0-100")
    return value


def propose(u: UtilizationRow, billed_type: str | None, hours_cost: Decimal, *,
            headroom_pct: Decimal = Decimal("70"), idle_cpu_pct: Decimal = Decimal("5")) -> Proposal | None:
    """The proposal for one resource (None when it is the right size, its type is unknown, or the
    export describes another size than the one billed last: the export is older than a resize)."""
    if u.instance_type and billed_type and u.instance_type != billed_type:
        return None
    itype = u.instance_type or billed_type
    if u.cpu_p95 < idle_cpu_pct:
        return Proposal("idle", itype or "?", None, hours_cost, "stop or terminate it",
                        f"p95 CPU {u.cpu_p95}% over {u.period_days} days, below the idle threshold {idle_cpu_pct}%")
    current = catalog.SIZES.get(itype or "")
    if current is None:
        return None
    for size in catalog.sizes_in_family(current.family):
        if size.vcpu >= current.vcpu and size.memory_gib >= current.memory_gib:
            return None  # nothing smaller fits
        cpu = u.cpu_p95 * current.vcpu / size.vcpu
        mem = u.memory_p95 * current.memory_gib / size.memory_gib if u.memory_p95 is not None else Decimal(0)
        if cpu <= headroom_pct and mem <= headroom_pct:
            ratio = size.price / current.price
            mem_text = f", memory {u.memory_p95}% → {mem:.1f}%" if u.memory_p95 is not None else ""
            return Proposal("rightsize", current.name, size.name, hours_cost * (1 - ratio),
                            f"resize {current.name} to {size.name}",
                            f"p95 CPU {u.cpu_p95}% → {cpu:.1f}%{mem_text} on {size.name} over {u.period_days} "
                            f"days (headroom {headroom_pct}%); list price ratio {ratio:.4f}")
    return None
