"""What the native-export converters share: column lookup by name, typed parsing, the FOCUS projection.

A converter turns the rows of one native export format into FOCUS 1.2 rows with one SQL query that
DuckDB streams over the files; no billing row passes through Python. Each converter produces a
``SELECT`` naming FOCUS columns (and ``x_`` extras); :func:`focus_projection` wraps it so that every
canonical FOCUS 1.2 column is present, typed as the store types it.
"""

from __future__ import annotations

import dataclasses

from finops_xl.focus import schema
from finops_xl.sources import sql_identifier, sql_literal

MONEY = "DECIMAL(38,12)"


@dataclasses.dataclass(frozen=True)
class Header:
    """A native file's columns: looked up by name, case-insensitively, with alternatives.

    Attributes:
      columns: (name, DuckDB type) in file order.
    """

    columns: tuple[tuple[str, str], ...]

    def find(self, *names: str) -> str | None:
        """The file's spelling of the first of ``names`` it has (case-insensitive), else None."""
        by_lower = {n.lower(): n for n, _ in self.columns}
        for name in names:
            if name.lower() in by_lower:
                return by_lower[name.lower()]
        return None

    def type_of(self, name: str) -> str:
        return dict(self.columns)[name]

    def has(self, *names: str) -> bool:
        return all(self.find(n) is not None for n in names)


def q(name: str) -> str:
    return sql_identifier(name)


def lit(text: str) -> str:
    return sql_literal(text)


def is_text(duck_type: str) -> bool:
    return duck_type.upper().startswith("VARCHAR") or duck_type.upper() == "JSON"


def text(header: Header, *names: str) -> str:
    """SQL for the first present column of ``names`` as text, empty → null (NULL if absent)."""
    name = header.find(*names)
    if name is None:
        return "CAST(NULL AS VARCHAR)"
    col = q(name)
    if not is_text(header.type_of(name)):
        col = f"CAST({col} AS VARCHAR)"
    return f"NULLIF(trim({col}), '')"


def money(header: Header, *names: str) -> str:
    """SQL for the first present column of ``names`` as an exact decimal (NULL if absent).

    Text is read as written (``1.5E-7`` included) without passing through binary floating point.
    """
    name = header.find(*names)
    if name is None:
        return f"CAST(NULL AS {MONEY})"
    col = q(name)
    t = header.type_of(name).upper()
    if is_text(t):
        return f"TRY_CAST(NULLIF(trim({col}), '') AS {MONEY})"
    if t in {"FLOAT", "DOUBLE", "REAL"}:
        # the shortest decimal text that round-trips the binary value: what the provider wrote
        return f"TRY_CAST(CAST({col} AS VARCHAR) AS {MONEY})"
    return f"TRY_CAST({col} AS {MONEY})"


def timestamp(header: Header, *names: str) -> str:
    """SQL for the first present column of ``names`` as a UTC TIMESTAMP.

    Text may be ISO 8601 (``2025-01-01T00:00:00Z``) or, as Azure writes dates, ``MM/DD/YYYY``.
    """
    name = header.find(*names)
    if name is None:
        return "CAST(NULL AS TIMESTAMP)"
    col = q(name)
    t = header.type_of(name).upper()
    if is_text(t):
        v = f"NULLIF(trim({col}), '')"
        return (f"coalesce(TRY_CAST({v} AS TIMESTAMPTZ) AT TIME ZONE 'UTC', "
                f"try_strptime({v}, '%m/%d/%Y'))")
    if "WITH TIME ZONE" in t or t == "TIMESTAMPTZ":
        return f"({col} AT TIME ZONE 'UTC')"
    return f"CAST({col} AS TIMESTAMP)"






def case_map(expr: str, mapping: dict[str, str], default: str = "NULL") -> str:
    """``CASE expr WHEN k THEN v ... ELSE default END`` with the keys and values as literals."""
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in mapping.items())
    return f"(CASE {expr} {whens} ELSE {default} END)"


def service_categories(expr: str, services: dict[str, tuple[str, str]]) -> dict[str, str]:
    """ServiceCategory and ServiceSubcategory for a provider's service column: ``services`` maps a
    service to its (category, subcategory); anything else is Other / Other (Other)."""
    return {"ServiceCategory": case_map(expr, {k: v[0] for k, v in services.items()}, "'Other'"),
            "ServiceSubcategory": case_map(expr, {k: v[1] for k, v in services.items()}, "'Other (Other)'")}


def tags_object(pairs_sql: str) -> str:
    """A JSON object text from SQL producing a list of STRUCT(key, value); NULL when it is empty."""
    return (f"(CASE WHEN len(list_filter({pairs_sql}, lambda p: p.key IS NOT NULL AND p.value IS NOT NULL)) > 0 "
            f"THEN CAST(to_json(map_from_entries(list_filter({pairs_sql}, "
            f"lambda p: p.key IS NOT NULL AND p.value IS NOT NULL))) AS VARCHAR) END)")


def focus_projection(converted_sql: str, produced: list[str]) -> str:
    """Every canonical FOCUS 1.2 column (typed as the store types it, null where the converter
    produced none) plus the converter's ``x_`` extras, selected from ``converted_sql``.

    Args:
      converted_sql: the converter's SELECT.
      produced: the names of the columns it selects.
    """
    have = set(produced)
    defaults = {
        # priced and billed in one currency unless the converter says otherwise
        "PricingCurrency": q("BillingCurrency"),
        "PricingCurrencyEffectiveCost": q("EffectiveCost"),
    }
    items = []
    for c in schema.canonical_columns():
        sql_type = schema.SQL_TYPES[c.kind]
        value = q(c.name) if c.name in have else defaults.get(c.name, "NULL")
        items.append(f"CAST({value} AS {sql_type}) AS {q(c.name)}")
    items.extend(f"CAST({q(n)} AS VARCHAR) AS {q(n)}" for n in produced if n.startswith("x_"))
    return f"SELECT {', '.join(items)} FROM ({converted_sql})"




def row_select(columns: dict[str, str]) -> str:
    """``expr AS "name", ...`` from an ordered mapping name → SQL."""
    return ", ".join(f"{expr} AS {q(name)}" for name, expr in columns.items())


def staged_projection(reader: str, source: dict[str, str], row: dict[str, str]) -> str:
    """:func:`focus_projection` of ``row`` (FOCUS column → SQL over the ``source`` columns), where
    ``source`` (name → SQL over the file's own columns) is first selected from ``reader``."""
    return focus_projection(f"WITH src AS (SELECT {row_select(source)} FROM {reader}) "
                            f"SELECT {row_select(row)} FROM src", list(row))



#: Provider unit spellings → FOCUS UnitFormat (plural unit names, ``<unit>-<time>`` for rates).
UNITS = {
    "hrs": "Hours", "hr": "Hours", "hour": "Hours", "hours": "Hours", "1 hour": "Hours",
    "h": "Hours", "gb-mo": "GB-Months", "gb/month": "GB-Months", "1 gb/month": "GB-Months",
    "gibibyte month": "GiB-Months", "gb": "GB", "1 gb": "GB", "gibibyte": "GiB",
    "lambda-gb-second": "GB-Seconds", "gb-second": "GB-Seconds", "requests": "Requests",
    "request": "Requests", "10k": "10000 Requests", "10000 requests": "10000 Requests",
    "quantity": "Units", "count": "Count", "seconds": "Seconds", "second": "Seconds",
    "10 hours": "10 Hours", "100 hours": "100 Hours", "1 month": "Months", "month": "Months",
    "months": "Months", "1/month": "Months", "gibibyte hour": "GiB-Hours", "hour-gibibyte": "GiB-Hours",
    "byte-seconds": "Byte-Seconds", "bytes": "Bytes", "tebibyte": "TiB", "gibibyte-hour": "GiB-Hours",
}


def unit_sql(expr: str) -> str:
    """SQL mapping a provider's unit text to the FOCUS unit format; unknown units pass through."""
    return case_map(f"lower({expr})", UNITS, expr)
