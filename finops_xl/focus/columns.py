"""How the columns of one export become columns of the store: names matched to FOCUS columns,
the types they arrive in, and the closed value sets they are checked against."""

from __future__ import annotations

import dataclasses
import functools

import duckdb
import pycountry

from finops_xl.focus import schema
from finops_xl.focus.schema import FocusColumn, Kind
from finops_xl.errors import Problem
from finops_xl.sources import SourceFile, duplicate_columns, sql_literal

NUMERIC_KINDS = (Kind.MONEY, Kind.UNIT_PRICE, Kind.QUANTITY)
TEXT_TYPES = ("VARCHAR", "JSON")


@functools.cache
def iso_currency_codes() -> frozenset[str]:
    """Active ISO 4217 alphabetic codes (from pycountry's copy of the ISO 4217 tables)."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)


@dataclasses.dataclass(frozen=True)
class ColumnMap:
    """How one column of the file becomes one column of the store.

    Attributes:
      source: the column's name in the file.
      target: its name in the store (canonical FOCUS spelling, or ``x_``-prefixed extra).
      source_type: the DuckDB type it is read as (VARCHAR for every CSV column).
      focus: the FOCUS column definition, or None for an extra column.
    """

    source: str
    target: str
    source_type: str
    focus: FocusColumn | None


@dataclasses.dataclass(frozen=True)
class Normalization:
    """A deviation from the spec that was repaired rather than rejected.

    Attributes:
      column: the store column concerned.
      original: the value (or column name) as it arrived; None for a null.
      normalized: what it became.
      rows: how many rows it concerned.
      note: what kind of repair it was.
    """

    column: str
    original: str | None
    normalized: str | None
    rows: int
    note: str


def is_text(source_type: str) -> bool:
    return source_type.upper() in TEXT_TYPES or source_type.upper().startswith("VARCHAR")


def is_numeric(source_type: str) -> bool:
    t = source_type.upper()
    return t.startswith(("DECIMAL", "NUMERIC")) or t in {
        "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
        "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL",
    }


def is_float(source_type: str) -> bool:
    return source_type.upper() in {"FLOAT", "DOUBLE", "REAL"}


def value_map(col: FocusColumn) -> dict[str, str]:
    """lower-case spelling → canonical value, for a column with a closed value set."""
    mapping = {v.lower(): v for v in col.allowed_values or ()}
    mapping.update(schema.VALUE_ALIASES.get(col.name, {}))
    return mapping


def map_columns(header: tuple[tuple[str, str], ...]) -> tuple[tuple[ColumnMap, ...], tuple[Normalization, ...]]:
    """Match a file's columns to FOCUS columns; see the module docstring, step 1."""
    by_lower = {c.name.lower(): c for c in schema.COLUMNS}
    maps: list[ColumnMap] = []
    notes: list[Normalization] = []
    taken: set[str] = set()
    for name, source_type in header:
        known = by_lower.get(name.lower())
        if known is not None and known.name not in taken:
            if known.name != name:
                notes.append(Normalization(known.name, name, known.name, 0,
                                           "column name spelling normalized"))
            maps.append(ColumnMap(name, known.name, source_type, known))
            taken.add(known.name)
            continue
        target = name if name.lower().startswith("x_") else f"x_{name}"
        if target != name:
            notes.append(Normalization(target, name, target, 0,
                                       "non-FOCUS column kept with the x_ prefix"))
        maps.append(ColumnMap(name, target, source_type, None))
    # a 1.3 file that omits a deprecated 1.2 column gets it filled from its successor
    for canonical, successor in schema.LEGACY_FILL.items():
        m = next((x for x in maps if x.target == successor), None)
        if m is not None and canonical not in taken:
            maps.append(ColumnMap(m.source, canonical, m.source_type, schema.column(canonical)))
            taken.add(canonical)
            notes.append(Normalization(canonical, successor, canonical, 0,
                                       f"deprecated {canonical} filled from {successor}"))
    return tuple(maps), tuple(notes)


def colliding_columns(label: str, maps: tuple[ColumnMap, ...]) -> list[Problem]:
    """A problem for every store column that two of the file's columns would fill (``Foo`` and
    ``x_Foo`` both become the extra ``x_Foo``): one column's values would be lost."""
    by_target: dict[str, list[str]] = {}
    for m in maps:
        if m.source not in by_target.setdefault(m.target.lower(), []):
            by_target[m.target.lower()].append(m.source)
    problems = []
    for target, sources in by_target.items():
        if len(sources) > 1:
            named = " and ".join(repr(s) for s in sources)
            stored = next(m.target for m in maps if m.target.lower() == target)
            problems.append(Problem(label, (
                f"columns {named} would both be stored as {stored!r} (a column that is not part of "
                f"FOCUS is kept with the x_ prefix), so the values of one would be lost; rename one of "
                f"them and export again"), column=sources[0]))
    return problems


#: The engine's names for types that hold more than one value per row.
_NESTED = ("STRUCT", "MAP", "UNION")


def _shape(source_type: str) -> str | None:
    """'a list' / 'a structure' if the type holds several values per row, else None."""
    t = source_type.upper()
    if t.endswith("]"):
        return "a list"
    if t.startswith(_NESTED):
        return "a structure"
    return None


def type_problems(label: str, maps: tuple[ColumnMap, ...]) -> list[Problem]:
    """A problem for every FOCUS column whose type in the file cannot hold its values: money,
    prices and quantities that are not numbers (a BOOLEAN would load as 1 and 0), date-times that
    are neither text nor timestamps, and ids or names that hold a list or structure per row (a list
    of account ids would load as the text ``[1, 2]``)."""
    problems = []
    for m in maps:
        col = m.focus
        if col is None:
            continue
        t = m.source_type.upper()
        shape = _shape(t)
        if col.kind in NUMERIC_KINDS and not (is_text(t) or is_numeric(t)):
            what = f"{shape} ({m.source_type})" if shape else m.source_type
            problems.append(Problem(label, (
                f"holds {what} values, but {col.name} is a number (DECIMAL, DOUBLE or an integer type, "
                f"or text holding numbers); export the column as a number"), column=m.source))
        elif col.kind is Kind.DATETIME and not (is_text(t) or t.startswith(("TIMESTAMP", "DATE"))):
            problems.append(Problem(label, (
                f"holds {m.source_type} values, but {col.name} is a date-time (a TIMESTAMP column, or "
                f"ISO 8601 text such as 2024-09-01T00:00:00Z)"), column=m.source))
        elif col.kind is not Kind.JSON and shape:
            problems.append(Problem(label, (
                f"holds {shape} ({m.source_type}) in each row, but {col.name} takes one value per row; "
                f"export one value per row (one row per value, or the value as text)"), column=m.source))
    return problems


def repeated_parquet_columns(con: duckdb.DuckDBPyConnection, source: SourceFile) -> list[Problem]:
    """Columns a Parquet file names twice (the engine would rename the second ``BilledCost_1``, and
    the first would silently win)."""
    if source.format != "parquet":
        return []
    try:
        tree = con.sql(f"SELECT name, coalesce(num_children, 0) FROM parquet_schema("
                       f"{sql_literal(str(source.path))})").fetchall()
    except duckdb.Error:
        return []  # unreadable: the reader names what is wrong
    # the schema is a tree in depth-first order: the root, then each top-level column and its children
    names, i = [], 1

    def skip(k: int) -> int:
        children = int(tree[k][1])
        k += 1
        for _ in range(children):
            k = skip(k)
        return k

    while i < len(tree):
        names.append(tree[i][0])
        i = skip(i)
    return duplicate_columns(source.label, names)
