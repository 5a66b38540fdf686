"""Allocation rules kept where analysts work: Excel tables in a workbook.

Three tables (Excel Tables, found by name on any sheet), read into the same structure as the YAML
rules and validated by ``rules_model.rules_from_dict``, so errors name the rule and field just the same:

``AllocationTaxonomy`` — one row per canonical dimension:

    | dimension | keys                      | values                                   | owner | retired |
    | team      | team, owner-team          | payments: payments-team; ml: ml-team     | yes   | crm     |
    | cluster   | kubernetes_cluster        |                                          |       |         |

  ``retired`` (optional column): comma-separated values that no longer exist (see ``taxonomy``).

``AllocationPools`` — one row per pool, in order:

    | pool           | filter                        | split        | percentages          | to | basis |
    | shared-network | service_category = Networking | proportional |                      |    |       |
    | support        | service = AWS Support (Business) | fixed     | payments = 60; web = 40 |  |       |
    | untagged       | owner =                       | proportional |                      |    |       |

  A filter is ``dimension = value`` pairs separated by ``;`` (a dimension repeated means any of
  its values; an empty value means "no value"). Percentages and drivers are ``owner = number``
  pairs; ``to`` is a comma-separated list of owners.

``AllocationDefaults`` (optional) — ``sub_account`` → ``owner``.

The account hierarchy is a file named in a one-row table ``AllocationHierarchy`` (``file``), or left
out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from finops_xl.allocation.rules_model import Finding, RuleError, Rules, rules_from_dict

TABLES = ("AllocationTaxonomy", "AllocationPools", "AllocationDefaults", "AllocationHierarchy")


def load_rules_workbook(path: str | Path) -> Rules:
    """Rules from the allocation tables of an .xlsx workbook (read with openpyxl)."""
    import openpyxl

    path = Path(path)
    wb = openpyxl.load_workbook(path, data_only=True)
    tables: dict[str, list[list]] = {}
    for ws in wb.worksheets:
        for table in ws.tables.values():
            if table.displayName in TABLES:
                tables[table.displayName] = [[c.value for c in row] for row in ws[table.ref]]
    return rules_from_tables(tables, base_dir=path.parent, source=str(path))


def rules_from_tables(tables: Mapping[str, list[list]], *, base_dir: Path | None = None,
                      source: str = "workbook") -> Rules:
    """Rules from the tables' cell values (header row first), e.g. read from a live workbook."""
    if "AllocationTaxonomy" not in tables:
        raise RuleError([Finding("AllocationTaxonomy", "table", "the workbook has no Excel table "
                                 "named AllocationTaxonomy")], source)
    data: dict = {"taxonomy": {}, "pools": [], "account_defaults": {}}
    owner = None
    for row in _records(tables["AllocationTaxonomy"]):
        name = _text(row.get("dimension"))
        if not name:
            continue
        values = {}
        for part in _split(row.get("values"), ";"):
            canonical, _, variants = part.partition(":")
            values[canonical.strip()] = [v.strip() for v in variants.split(",") if v.strip()]
        data["taxonomy"][name] = {"keys": _split(row.get("keys"), ",") or [name], "values": values,
                                  "retired": _split(row.get("retired"), ",")}
        if _text(row.get("owner")).lower() in ("yes", "true", "x", "1", "owner"):
            owner = name
    data["owner"] = owner or next(iter(data["taxonomy"]), "team")
    for row in _records(tables.get("AllocationPools", [])):
        pid = _text(row.get("pool"))
        if not pid:
            continue
        pool: dict = {"id": pid, "split": _text(row.get("split")), "filter": _pairs(row.get("filter"))}
        if _text(row.get("percentages")):
            pool["percentages"] = _pairs(row.get("percentages"), single=True)
        if _text(row.get("drivers")):
            pool["drivers"] = _pairs(row.get("drivers"), single=True)
        if _text(row.get("to")):
            pool["to"] = _split(row.get("to"), ",")
        if _text(row.get("basis")):
            pool["basis"] = _text(row.get("basis"))
        data["pools"].append(pool)
    for row in _records(tables.get("AllocationDefaults", [])):
        if _text(row.get("sub_account")):
            data["account_defaults"][_text(row.get("sub_account"))] = _text(row.get("owner"))
    hierarchy = [r for r in _records(tables.get("AllocationHierarchy", [])) if _text(r.get("file"))]
    if hierarchy:
        data["hierarchy"] = _text(hierarchy[0]["file"])
    return rules_from_dict(data, base_dir=base_dir, source=source)


def _records(rows: list[list]) -> Iterable[dict]:
    if not rows:
        return []
    header = [_text(h).lower().replace(" ", "_") for h in rows[0]]
    return [dict(zip(header, r)) for r in rows[1:]]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _split(value, sep: str) -> list[str]:
    return [p.strip() for p in _text(value).split(sep) if p.strip()]


def _pairs(value, single: bool = False) -> dict:
    """``a = 1; b = 2`` → {a: 1, b: 2}; repeated keys collect a list (unless ``single``)."""
    out: dict = {}
    for part in _split(value, ";"):
        key, _, val = part.partition("=")
        key, val = key.strip(), val.strip() or None
        if single or key not in out:
            out[key] = val
        else:
            out[key] = (out[key] if isinstance(out[key], list) else [out[key]]) + [val]
    return out
