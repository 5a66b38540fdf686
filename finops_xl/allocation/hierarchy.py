"""The account hierarchy: sub-account → business unit, product, team, cost center.

Loaded from a CSV, a YAML list, or an Excel table (the first sheet's first table, or a sheet whose
first row is the header). The ``sub_account`` column is required (the SubAccountId as billed); the
others are optional, and any of them may be the rules' owner dimension.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Mapping
from pathlib import Path

import yaml

#: Recognised columns (lower-case, separators as ``_``).
COLUMNS = ("sub_account", "business_unit", "product", "team", "cost_center", "environment")


@dataclasses.dataclass(frozen=True)
class Hierarchy:
    """Rows keyed by sub-account: ``rows[sub_account][column]`` (missing values are absent)."""

    rows: Mapping[str, Mapping[str, str]]
    source: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        seen = {c for r in self.rows.values() for c in r}
        return tuple(c for c in COLUMNS[1:] if c in seen)


def _norm(name: str) -> str:
    return str(name).strip().lower().replace("-", "_").replace(" ", "_")


def load_hierarchy(path: str | Path) -> Hierarchy:
    """Read the hierarchy; raises ValueError naming the file and row on a problem."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no account hierarchy file at {path}")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a list of rows with sub_account and owner columns")
        records = [{_norm(k): v for k, v in (r or {}).items()} for r in data]
    elif suffix in (".xlsx", ".xlsm"):
        records = _excel_records(path)
    else:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            records = [{_norm(k): v for k, v in r.items()} for r in csv.DictReader(fh)]
    return hierarchy_from_records(records, str(path))


def hierarchy_from_records(records: list[dict], source: str) -> Hierarchy:
    rows: dict[str, dict[str, str]] = {}
    if records and "sub_account" not in records[0]:
        raise ValueError(f"{source}: needs a sub_account column (found {', '.join(records[0])})")
    for i, r in enumerate(records, start=1):
        key = str(r.get("sub_account") or "").strip()
        if not key:
            raise ValueError(f"{source}: row {i} has no sub_account")
        if key in rows:
            raise ValueError(f"{source}: row {i} repeats sub_account {key!r}")
        rows[key] = {c: str(r[c]).strip() for c in COLUMNS[1:]
                     if r.get(c) is not None and str(r[c]).strip() != ""}
    return Hierarchy(rows, source)


def _excel_records(path: Path) -> list[dict]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=False, data_only=True)
    for ws in wb.worksheets:
        for table in ws.tables.values():
            cells = ws[table.ref]
            header = [_norm(c.value) for c in cells[0]]
            return [dict(zip(header, (c.value for c in row))) for row in cells[1:]]
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    if not rows:
        return []
    header = [_norm(h) for h in rows[0]]
    return [dict(zip(header, r)) for r in rows[1:] if any(v is not None for v in r)]
