"""The allocation rules' structure (``Rules``, its pools and named buckets) and its validation from
the dictionary form that a YAML file or a workbook's tables are read into (``rules_from_dict``).
Where the rules come from, and the order of operations, is ``rules``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from finops_xl.allocation.hierarchy import Hierarchy, load_hierarchy
from finops_xl.allocation.taxonomy import Taxonomy, taxonomy_from_dict

#: Split methods (``kubernetes``: a cluster's node cost to namespaces, the OpenCost way).
METHODS = ("even", "proportional", "fixed", "driver", "kubernetes")

#: Charge attributes a pool filter may name (besides taxonomy dimensions and ``owner``), with the
#: allocation group column each reads.
FILTER_COLUMNS = {
    "provider": "ProviderName",
    "billing_account": "BillingAccountId",
    "sub_account": "SubAccountId",
    "sub_account_name": "SubAccountName",
    "service": "ServiceName",
    "service_category": "ServiceCategory",
    "region": "RegionId",
    "charge_category": "ChargeCategory",
    "pricing_category": "PricingCategory",
    "commitment_status": "CommitmentDiscountStatus",
}

#: Named leftover buckets.
UNALLOCATED = "UNALLOCATED"
ROUNDING = "ROUNDING"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem in the rules: which rule, which field, what is wrong."""

    rule: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"rule {self.rule!r}, field {self.field!r}: {self.message}"


class RuleError(ValueError):
    """The rules cannot be used as written; ``findings`` lists every problem."""

    def __init__(self, findings: list[Finding], source: str = "rules"):
        self.findings = tuple(findings)
        super().__init__(f"{source}: {len(findings)} problem(s) in the allocation rules:\n  "
                         + "\n  ".join(str(f) for f in findings))


@dataclasses.dataclass(frozen=True)
class Pool:
    """A shared-cost pool.

    Attributes:
      id: its name (shown on statements).
      filter: dimension → accepted values (None matches "no value").
      split: one of METHODS.
      percentages: owner → percent, for ``fixed`` (sums to 100).
      drivers: owner → weight (optionally per month: (owner, month) → weight), for ``driver``.
      to: receivers it is limited to (empty: all owners with direct cost).
      basis: ``direct`` or ``direct_and_shared`` (what proportional weights count).
      kubernetes: for the ``kubernetes`` split, the namespace usage CSV, the capacity CSV (or
        None), the idle option, the taxonomy dimension naming the cluster, and namespace → owner.
    """

    id: str
    filter: Mapping[str, tuple[str | None, ...]]
    split: str
    percentages: Mapping[str, Decimal] = dataclasses.field(default_factory=dict)
    drivers: Mapping[tuple[str, str | None], Decimal] = dataclasses.field(default_factory=dict)
    to: tuple[str, ...] = ()
    basis: str = "direct"
    kubernetes: KubernetesSplit | None = None


@dataclasses.dataclass(frozen=True)
class KubernetesSplit:
    """How a ``kubernetes`` pool splits its clusters' node cost (see ``kubernetes.py``).

    Attributes:
      usage: namespace usage CSV.  capacity: node capacity CSV (None: columns in the usage CSV).
      idle: ``weighted``, ``even`` or ``none`` (idle kept, then UNALLOCATED).
      cluster: the taxonomy dimension whose value names the cluster (default ``cluster``).
      namespaces: namespace → owner; other namespaces are owners under their own name,
        normalized by the owner dimension's value map.
    """

    usage: Path
    capacity: Path | None = None
    idle: str = "weighted"
    cluster: str = "cluster"
    namespaces: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Rules:
    """Everything allocation needs to know. Build with ``load_rules`` or ``rules_from_dict``."""

    owner: str
    taxonomy: Taxonomy
    account_defaults: Mapping[str, str] = dataclasses.field(default_factory=dict)
    hierarchy: Hierarchy | None = None
    pools: tuple[Pool, ...] = ()
    source: str = "rules"


def rules_from_dict(data: Mapping, *, base_dir: Path | None = None, source: str = "rules") -> Rules:
    """Rules from their dictionary form (what the YAML holds), validated."""
    findings: list[Finding] = []
    known = {"owner", "taxonomy", "account_defaults", "hierarchy", "pools"}
    for key in data:
        if key not in known:
            findings.append(Finding("(top level)", str(key), f"unknown section; use {', '.join(sorted(known))}"))
    try:
        taxonomy = taxonomy_from_dict(data.get("taxonomy") or {})
    except (ValueError, AttributeError, TypeError) as exc:
        findings.append(Finding("taxonomy", "taxonomy", str(exc)))
        taxonomy = Taxonomy()
    owner = str(data.get("owner") or "team")
    if owner not in taxonomy.names:
        findings.append(Finding("owner", "owner", f"{owner!r} is not a taxonomy dimension "
                                f"(taxonomy: {', '.join(taxonomy.names) or 'none'})"))
    defaults = {str(k): str(v) for k, v in (data.get("account_defaults") or {}).items()}
    hierarchy = None
    if data.get("hierarchy"):
        hpath = Path(str(data["hierarchy"]))
        if base_dir is not None and not hpath.is_absolute():
            hpath = base_dir / hpath
        try:
            hierarchy = load_hierarchy(hpath)
        except ValueError as exc:
            findings.append(Finding("hierarchy", "hierarchy", str(exc)))
    pools = []
    seen: set[str] = set()
    raw_pools = data.get("pools") or []
    if not isinstance(raw_pools, list):
        findings.append(Finding("pools", "pools", "must be a list of pools"))
        raw_pools = []
    dims = set(FILTER_COLUMNS) | set(taxonomy.names) | {"owner"}
    ids = [str((p or {}).get("id", "")) for p in raw_pools if isinstance(p, dict)]
    for i, raw in enumerate(raw_pools):
        pool, problems = _pool(raw, i, dims, ids, base_dir)
        findings.extend(problems)
        if pool is not None:
            if pool.id in seen:
                findings.append(Finding(pool.id, "id", "two pools have this id"))
            seen.add(pool.id)
            pools.append(pool)
    if findings:
        raise RuleError(findings, source)
    return Rules(owner, taxonomy, defaults, hierarchy, tuple(pools), source)


def _pool(raw, index: int, dims: set[str], ids: list[str], base_dir: Path | None):
    findings: list[Finding] = []
    if not isinstance(raw, dict):
        return None, [Finding(f"pools[{index}]", "pool", "must be a mapping with id, filter, split")]
    pid = str(raw.get("id") or "").strip()
    name = pid or f"pools[{index}]"
    if not pid:
        findings.append(Finding(name, "id", "every pool needs an id"))
    known = {"id", "filter", "split", "percentages", "drivers", "to", "basis", "description",
             "usage", "capacity", "idle", "cluster", "namespaces"}
    for key in raw:
        if key not in known:
            findings.append(Finding(name, str(key), f"unknown field; use {', '.join(sorted(known))}"))
    flt: dict[str, tuple[str | None, ...]] = {}
    raw_filter = raw.get("filter")
    if not isinstance(raw_filter, dict) or not raw_filter:
        findings.append(Finding(name, "filter", "needs at least one dimension: value"))
        raw_filter = {}
    for dim, value in raw_filter.items():
        if dim not in dims:
            findings.append(Finding(name, f"filter.{dim}", f"unknown dimension {dim!r}; use one of "
                                    f"{', '.join(sorted(dims))}"))
            continue
        values = value if isinstance(value, list) else [value]
        flt[str(dim)] = tuple(None if v is None else str(v) for v in values)
    split = str(raw.get("split") or "")
    if split not in METHODS:
        findings.append(Finding(name, "split", f"{split!r} is not a split method; use {', '.join(METHODS)}"))
    to = raw.get("to") or []
    to = tuple(str(t) for t in (to if isinstance(to, list) else [to]))
    for t in to:
        if t == pid or t in ids:
            findings.append(Finding(name, "to", f"{t!r} is a pool: a pool feeds owners, never a pool "
                                    "(and never itself)"))
    percentages: dict[str, Decimal] = {}
    if split == "fixed":
        raw_pct = raw.get("percentages")
        if not isinstance(raw_pct, dict) or not raw_pct:
            findings.append(Finding(name, "percentages", "a fixed split needs owner: percent entries"))
        else:
            for owner, pct in raw_pct.items():
                try:
                    percentages[str(owner)] = Decimal(str(pct))
                except InvalidOperation:
                    findings.append(Finding(name, f"percentages.{owner}", f"{pct!r} is not a number"))
                if str(owner) == pid or str(owner) in ids:
                    findings.append(Finding(name, f"percentages.{owner}", "a pool cannot receive "
                                            "from a pool (and never from itself)"))
            total = sum(percentages.values(), Decimal(0))
            if percentages and total != 100:
                findings.append(Finding(name, "percentages", f"percentages sum to {total}, not 100"))
            if any(v < 0 for v in percentages.values()):
                findings.append(Finding(name, "percentages", "percentages cannot be negative"))
    drivers: dict = {}
    if split == "driver":
        src = raw.get("drivers")
        try:
            drivers = _drivers(src, base_dir)
        except ValueError as exc:
            findings.append(Finding(name, "drivers", str(exc)))
    kube = None
    if split == "kubernetes":
        kube, problems = _kubernetes(raw, name, dims, base_dir)
        findings.extend(problems)
    basis = str(raw.get("basis") or "direct")
    if basis not in ("direct", "direct_and_shared"):
        findings.append(Finding(name, "basis", f"{basis!r}: use direct or direct_and_shared"))
    if findings:
        return None, findings
    return Pool(pid, flt, split, percentages, drivers, to, basis, kube), []


def _kubernetes(raw: dict, name: str, dims: set[str], base_dir: Path | None):
    findings = []

    def path(field: str, required: bool) -> Path | None:
        value = raw.get(field)
        if not value:
            if required:
                findings.append(Finding(name, field, f"a kubernetes split needs {field}: a CSV file"))
            return None
        p = Path(str(value))
        if base_dir is not None and not p.is_absolute():
            p = base_dir / p
        if not p.is_file():
            findings.append(Finding(name, field, f"no such file: {p}"))
        return p

    usage, capacity = path("usage", True), path("capacity", False)
    idle = str(raw.get("idle") or "weighted")
    if idle not in ("weighted", "even", "none"):
        findings.append(Finding(name, "idle", f"{idle!r}: use weighted, even or none"))
    cluster = str(raw.get("cluster") or "cluster")
    if cluster not in dims:
        findings.append(Finding(name, "cluster", f"{cluster!r} is not a taxonomy dimension: add it "
                                "(e.g. keys [kubernetes_cluster, eks:cluster-name])"))
    namespaces = raw.get("namespaces") or {}
    if not isinstance(namespaces, dict):
        findings.append(Finding(name, "namespaces", "must map namespace: owner"))
        namespaces = {}
    if findings:
        return None, findings
    return KubernetesSplit(usage, capacity, idle, cluster,
                           {str(k): str(v) for k, v in namespaces.items()}), []


def _drivers(src, base_dir: Path | None) -> dict[tuple[str, str | None], Decimal]:
    """Driver weights from a mapping {owner: weight} or a CSV (owner, weight[, month])."""
    if isinstance(src, dict) and src:
        out = {}
        for owner, w in src.items():
            out[(str(owner), None)] = _weight(w, f"owner {owner}")
        return out
    if isinstance(src, str) and src:
        import csv

        path = Path(src)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        if not path.is_file():
            raise ValueError(f"no driver table at {path}")
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            cols = {c.strip().lower(): c for c in reader.fieldnames or []}
            if "owner" not in cols or "weight" not in cols:
                raise ValueError(f"{path}: needs columns owner, weight (and optionally month)")
            out = {}
            for i, row in enumerate(reader, start=1):
                month = row.get(cols["month"]) if "month" in cols else None
                out[(row[cols["owner"]].strip(), (month or "").strip()[:7] or None)] = _weight(
                    row[cols["weight"]], f"{path} row {i}")
        if not out:
            raise ValueError(f"{path}: the driver table is empty")
        return out
    raise ValueError("a driver split needs drivers: a mapping owner: weight, or a CSV file name")


def _weight(value, where: str) -> Decimal:
    try:
        w = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{where}: weight {value!r} is not a number") from None
    if w < 0:
        raise ValueError(f"{where}: weight {value!r} is negative")
    return w
