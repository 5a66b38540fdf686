"""An Azure export loaded alone, completed later by its companion.

Azure writes a month's cost twice: the actual-cost export (what the invoice bills: BilledCost) and
the amortized-cost export (prepaid commitments spread over the usage they cover: EffectiveCost).
Either loads alone, with a notice naming what it cannot know. When the other one arrives in a
later command, :func:`complete` finds the file the month was loaded from (the store's manifest keeps
each load's file paths), and, if that file is still on disk unchanged, loads the two together, so
the month ends with both measures, each counted once. If it is gone or has changed, the new file
replaces the month alone, and a WARNING notice says so and what to do.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb

from finops_xl.focus import convert
from finops_xl.focus.convert import azure
from finops_xl.store.errors import Notice
from finops_xl.store.sources import SourceFile, content_hash, discover
from finops_xl.store.store import table_columns

_OTHER = {azure.ACTUAL: "amortized", azure.AMORTIZED: "actual"}


def complete(con: duckdb.DuckDBPyConnection, sources: list[SourceFile], hashes: dict,
             groups: tuple[list[SourceFile], list[convert.NativeGroup]]):
    """``(sources, hashes, groups)`` with the earlier companion of every one-sided Azure group added
    where the store's current month came from it and it is still the file that was loaded; notices
    ride on the groups they concern (``NativeGroup.notes``)."""
    if "x_CostBasis" not in table_columns(con, "stored_charges"):
        return sources, hashes, groups
    given = {s.path for s in sources}
    added: list[SourceFile] = []
    notes: dict[str, list[Notice]] = {}
    for group in groups[1]:
        other = _OTHER.get(group.format)
        if other is None:
            continue
        keys = azure.periods(con, group.header, convert._reader(group.sources))
        for paths, loaded_hash, loaded_at in _earlier(con, keys, other):
            files = [Path(p) for p in paths]
            if any(p in given for p in files):
                continue
            label = ", ".join(p.name for p in files)
            present = all(p.is_file() for p in files)
            if present and convert.group_hash([content_hash(p) for p in files]) == loaded_hash:
                found = discover([str(p) for p in files])
                added.extend(found)
                given.update(s.path for s in found)
                for s in found:
                    hashes[s.path] = content_hash(s.path)
                notes.setdefault(group.label, []).append(Notice(group.label, (
                    f"completed with the {other}-cost export of the same month loaded on {loaded_at:%Y-%m-%d} "
                    f"({label}): the month holds both measures, each counted once")))
            else:
                why = "is no longer there" if not present else "has changed since"
                notes.setdefault(group.label, []).append(Notice(group.label, (
                    f"WARNING: replaces the month's {other}-cost data loaded on {loaded_at:%Y-%m-%d} from {label}, "
                    f"which {why}: the month now holds this export alone. Give both exports in one "
                    "command to keep both measures")))
    if added:
        sources = sources + added
        groups = convert.native_groups(con, sources)
    return sources, hashes, (groups[0], [_with_notes(g, notes) for g in groups[1]])


def _earlier(con: duckdb.DuckDBPyConnection, keys: set[tuple[str, str]], basis: str) -> list[tuple]:
    """The loads whose current Microsoft slices of ``keys`` hold only ``basis`` rows: (their file
    paths, their content hash, when)."""
    if not keys:
        return []
    con.execute("CREATE OR REPLACE TEMP TABLE __companion_keys (account VARCHAR, period VARCHAR)")
    con.executemany("INSERT INTO __companion_keys VALUES (?, ?)", sorted(keys))
    rows = con.execute("""
        WITH current AS (
            SELECT s.load_id, s.BillingAccountId, s.BillingPeriodStart FROM slices s
            JOIN __companion_keys k ON s.ProviderName = 'Microsoft' AND s.BillingAccountId = k.account
             AND strftime(s.BillingPeriodStart, '%Y-%m') = k.period),
        bases AS (
            SELECT c.load_id, list(DISTINCT x_CostBasis) AS b FROM stored_charges ch
            JOIN current c ON ch.ProviderName = 'Microsoft' AND ch.BillingAccountId = c.BillingAccountId
             AND ch.BillingPeriodStart = c.BillingPeriodStart GROUP BY c.load_id)
        SELECT DISTINCT m.source_paths, m.content_hash, m.loaded_at FROM manifest m
        JOIN bases USING (load_id)
        WHERE bases.b = [?] AND m.source_paths IS NOT NULL
        ORDER BY m.loaded_at""", [basis]).fetchall()
    con.execute("DROP TABLE __companion_keys")
    return rows


def _with_notes(group: convert.NativeGroup, notes: dict[str, list[Notice]]) -> convert.NativeGroup:
    found = [n for label, ns in notes.items() for n in ns if any(s.label in label for s in group.sources)]
    return dataclasses.replace(group, notes=tuple(found)) if found else group
