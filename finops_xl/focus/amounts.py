"""Amounts written as text: plain numbers, spreadsheet-formatted numbers, decimal commas; and the
largest total the store can hold.

**Decimal mark, per file.** A European spreadsheet saves CSV with ``;`` between fields and a decimal
comma (``1,25`` is one and a quarter, ``1.250,50`` is twelve hundred and fifty and a half). Read as
a US number, ``1,250`` would be 1250: a thousand times too much. So a file that is not
comma-separated has its numbers looked at first (:func:`decimal_comma`): a value only a decimal
comma explains (``1,25``, ``0,5``, ``1.234,50``) makes the comma the file's decimal mark, as does a
``1,250`` in a ``;`` file (the European Excel export); a value only a decimal point explains
(``1.25``, ``1,234.50``) makes it the point. A file with both kinds, or one whose only separators
are groups of three digits that read two ways (``1.250``: 1.25 or 1250?), is refused naming the
value. A comma-separated file keeps the decimal point: its commas separate fields.
"""

from __future__ import annotations

import dataclasses

import duckdb

from finops_xl.focus import locate
from finops_xl.focus.csvfiles import needs_one_thread, serial
from finops_xl.errors import IngestError, Problem
from finops_xl.sources import SourceFile, sql_identifier

#: A number as spreadsheets format it: optional sign or accounting parentheses, optional currency
#: sign before or after it (``$12.50``, ``12.50 €``), thousands separators in groups of three, decimal
#: point. Only read when a plain number fails.
_FORMATTED_NUMBER = r"^\(?[-+]?[$€£¥]?[-+]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?( ?[$€£¥])?\)?$"

#: The same with a decimal comma and dots (or nothing) between groups of three: ``1.234,50``.
_COMMA_NUMBER = r"^\(?[-+]?[$€£¥]?[-+]?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+)(,[0-9]+)?( ?[$€£¥])?\)?$"

#: The largest magnitude a DECIMAL(38,12) holds (26 digits before the point).
STORE_LIMIT = 10**26


def number_from_text(src: str, sql_type: str, decimal_comma: bool = False) -> str:
    """SQL reading a decimal from text: plain (``1234.5``, ``1E-7``) or formatted (``$1,234.50``,
    ``(12.00)`` for -12.00); with ``decimal_comma``, ``1.234,50`` and ``1,25`` instead."""
    t = f"trim({src})"
    sign = f"(CASE WHEN {t} LIKE '(%)' THEN -1 ELSE 1 END)"
    parens = f"({t} LIKE '(%)') = ({t} LIKE '(%')"
    if decimal_comma:
        plain = f"CASE WHEN NOT contains({t}, '.') THEN TRY_CAST(NULLIF({t}, '') AS {sql_type}) END"
        formatted = (
            f"CASE WHEN regexp_full_match({t}, '{_COMMA_NUMBER}') AND {parens} "
            f"THEN TRY_CAST(replace(regexp_replace({t}, '[$€£¥.() ]', '', 'g'), ',', '.') AS {sql_type}) "
            f"* {sign} END"
        )
        return f"coalesce({plain}, {formatted})"
    plain = f"TRY_CAST(NULLIF({t}, '') AS {sql_type})"
    formatted = (
        f"CASE WHEN regexp_full_match({t}, '{_FORMATTED_NUMBER}') AND {parens} "
        f"THEN TRY_CAST(regexp_replace({t}, '[$€£¥,() ]', '', 'g') AS {sql_type}) * {sign} END"
    )
    return f"coalesce({plain}, {formatted})"


def _bare(src: str) -> str:
    """The value without spaces, currency signs and accounting parentheses."""
    return f"regexp_replace(trim({src}), '[$€£¥() ]', '', 'g')"


#: What a value's separators say about the decimal mark (SQL regexes over :func:`_bare`).
_ONLY_COMMA = (r"^[-+]?([0-9]+,[0-9]{1,2}|[0-9]+,[0-9]{4,}|[0-9]{4,},[0-9]+|0?,[0-9]+"
               r"|[0-9]{1,3}(\.[0-9]{3})+,[0-9]+)$")
_GROUPS_COMMA = r"^[-+]?[0-9]{1,3}(,[0-9]{3})+$"  # 1,250: thousands, or a decimal comma
_ONLY_POINT = (r"^[-+]?([0-9]*\.[0-9]{1,2}|[0-9]*\.[0-9]{4,}|[0-9]{4,}\.[0-9]+|0?\.[0-9]+"
               r"|[0-9]{1,3}(,[0-9]{3})+\.[0-9]+)([eE][-+]?[0-9]+)?$")
_GROUPS_POINT = r"^[-+]?[0-9]{1,3}(\.[0-9]{3})+$"  # 1.250: a decimal point, or thousands


@dataclasses.dataclass(frozen=True)
class DecimalMark:
    """The decimal mark of one file, and what in the file decided it.

    Attributes:
      comma: True if numbers use a decimal comma (``1.234,50``).
      problem: set if the file's numbers do not agree on one mark (the load is refused).
    """

    comma: bool = False
    problem: Problem | None = None


def mark_probes(sources: list[str]) -> list[str]:
    """Aggregates over the numeric text columns ``sources`` (SQL identifiers): for each of the four
    patterns, how many values match it."""
    out = []
    for pattern in (_ONLY_COMMA, _GROUPS_COMMA, _ONLY_POINT, _GROUPS_POINT):
        terms = [f"count_if(regexp_full_match({_bare(s)}, '{pattern}'))" for s in sources]
        out.append(" + ".join(terms) if terms else "0")
    return out


def conditions(sources: list[str]) -> dict[str, str]:
    """Per kind of evidence, SQL true on a row holding it in one of ``sources`` (to locate it)."""
    def any_of(pattern: str) -> str:
        return " OR ".join(f"regexp_full_match({_bare(s)}, '{pattern}')" for s in sources)
    return {"comma": f"({any_of(_ONLY_COMMA)}) OR ({any_of(_GROUPS_COMMA)})",
            "point": any_of(_ONLY_POINT), "groups": f"({any_of(_GROUPS_POINT)}) OR ({any_of(_GROUPS_COMMA)})"}


def decide(counts: tuple[int, int, int, int], delimiter: str) -> str:
    """``comma``, ``point``, ``mixed`` (both marks) or ``ambiguous`` (only values that read two
    ways: ``1.250`` in a ``;`` file, ``1.250`` or ``1,250`` in a tab or bar separated one), from
    :func:`mark_probes`' counts."""
    only_comma, groups_comma, only_point, groups_point = counts
    comma = only_comma > 0 or (groups_comma > 0 and delimiter == ";")
    point = only_point > 0
    if comma and point:
        return "mixed"
    if comma:
        return "comma"
    if point:
        return "point"
    if groups_point or (groups_comma and delimiter != ";"):
        return "ambiguous"
    return "point"


def decimal_comma(con: duckdb.DuckDBPyConnection, source: SourceFile, columns: list[str]) -> tuple[bool, SourceFile]:
    """(whether ``source``'s numbers use a decimal comma, the source as it must be read).

    ``columns`` are the file's numeric text columns. Only CSVs not separated by commas are looked
    at, in one pass over those columns. Raises IngestError naming the first value of the minority
    mark if the file uses both, or a ``1.250``-like value in a ``;`` file that nothing else explains.
    """
    if source.format not in ("csv", "csv.gz") or source.delimiter == "," or not columns:
        return False, source
    names = [sql_identifier(c) for c in columns]
    probes = ", ".join(mark_probes(names))
    try:
        try:
            counts = con.sql(f"SELECT {probes} FROM {source.reader_sql()}").fetchall()[0]
        except duckdb.Error as exc:
            if not needs_one_thread(source, exc):
                raise
            source = serial(source)
            counts = con.sql(f"SELECT {probes} FROM {source.reader_sql()}").fetchall()[0]
    except duckdb.Error:
        return False, source  # unreadable: validation names what is wrong with the file
    counts = tuple(int(c or 0) for c in counts)
    mark = decide(counts, source.delimiter)
    if mark in ("comma", "point"):
        return mark == "comma", source
    only_comma, groups_comma, only_point, _ = counts
    commas = only_comma + groups_comma
    if mark == "ambiguous":
        kind, message = "groups", (
            "could be read two ways (1.250 and 1,250 are 1.25 with one decimal mark, 1250 with the "
            "other), and no other number in this file tells which mark it uses; export the file "
            "without thousands separators (1250,00 or 1250.00)")
    elif only_point <= commas:
        kind, message = "point", (
            f"uses a decimal point, but {commas:,} other numbers in this file use a decimal comma "
            f"(e.g. 1,25): one file must use one decimal mark; export it again with one number format")
    else:
        kind, message = "comma", (
            f"uses a decimal comma, but {only_point:,} other numbers in this file use a decimal point "
            f"(e.g. 1.25): one file must use one decimal mark; export it again with one number format")
    found = []
    for column, name in zip(columns, names):
        row, value = locate.first(con, source, f"CAST({name} AS VARCHAR)", conditions([name])[kind])
        if row is not None:
            found.append((row, column, value))
    row, column, value = min(found)
    raise IngestError([Problem(source.label, message, row=row, column=column, value=value)])


def beyond_limit(con: duckdb.DuckDBPyConnection, source: SourceFile, column: str, target: str,
                 expression: str, offset: float = 0.0) -> Problem:
    """The problem of a money column whose total over the file does not fit DECIMAL(38,12), at the
    row where the running total of magnitudes (so that every subtotal fits too) reaches the limit.

    Args:
      column: the column as the file names it.  target: as the store names it.
      expression: SQL of its value (a decimal).
      offset: the total of the files of the same load read before this one.
    """
    x = f"abs(TRY_CAST({expression} AS DOUBLE))"
    sql = (f"SELECT __row, __value FROM (SELECT __row, __value, sum(__x) OVER (ORDER BY __row) AS __run "
           f"FROM ({locate.numbered(source, f'CAST({sql_identifier(column)} AS VARCHAR)', x)})) "
           f"WHERE __run + {offset!r} >= {STORE_LIMIT} ORDER BY __row LIMIT 1")
    row, value = locate.first_of(con, sql)
    together = " (with the files before it in this load)" if offset else ""
    return Problem(source.label, (
        f"the total of {target}{together} reaches {STORE_LIMIT:.0e} at this row, more than the store holds "
        f"(26 digits before the decimal point): the value is wrong (a unit, an id or a date typed "
        f"into the cost column?); correct it and export again"),
        row=row, column=column, value=value)
