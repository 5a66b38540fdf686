"""CSV files as a spreadsheet reads them, and what went wrong reading one, in the analyst's words.

The dialect is explicit (``sources.reader_sql``: the header line's delimiter and columns, ``"``
quotes), so no sniffer guesses at a file. Rows with fewer fields than the header have their missing
trailing fields read as null, and :func:`padding_notices` says how many rows that concerned; a row
with more fields than the header is refused by :func:`read_failure`, naming its line and both counts.
Engine messages never reach the user: they are translated here, and anything not recognised is
reduced to its first sentence without the engine's advice on options the user cannot set.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import itertools
import re

import duckdb

from finops_xl.errors import IngestError, Notice, Problem
from finops_xl.sources import SourceFile, reader_sql, sql_identifier

_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COUNTS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")

#: Engine error text → what it means for the user (first match wins).
_CSV_REASONS = (
    ("unterminated quote", "a quoted value is not closed: a '\"' opens a value that never ends; "
                           "double any '\"' inside a value (\"\") or remove the stray one"),
    ("invalid unicode", "holds bytes that are not UTF-8 text; save the file as CSV UTF-8"),
    ("quote", "a '\"' appears inside an unquoted value; quote the value and double the '\"' in it"),
    ("maximum line size", "a line is longer than 2 MB: probably a quote that is never closed"),
)


def read_failure(source: SourceFile, exc: duckdb.Error) -> str:
    """What went wrong reading ``source``, for an analyst: the line, the expected and found field
    counts, and the fix; never the engine's options or internal column names."""
    text = str(exc).strip()
    lower = text.lower()
    if source.format == "csv.gz" and ("gzip" in lower or "compress" in lower):
        return f"gzip file is truncated or corrupt; re-download it ({_first_sentence(text)})"
    if source.format == "parquet":
        return f"cannot be read as Parquet; the file is damaged or not Parquet ({_first_sentence(text)})"
    line = _LINE.search(text)
    where = f"line {line.group(1)}" if line else "a line"
    counts = _COUNTS.search(text)
    if counts:
        expected, found = int(counts.group(1)), int(counts.group(2))
        if line and found > expected:  # the engine stops counting at the first field too many
            found = max(found, _fields_on_line(source, int(line.group(1))))
        return (f"cannot be read as CSV: {where} has {found} fields, but the header has {expected} "
                f"columns: a value holding "
                f"the separator {_shown(source.delimiter)} is not quoted, or two rows were joined; fix "
                f"that line or export the file again")
    for needle, reason in _CSV_REASONS:
        if needle in lower:
            return f"cannot be read as CSV: {where} {reason}"
    return f"cannot be read as CSV: {where}: {_first_sentence(text)}"


def _fields_on_line(source: SourceFile, line: int) -> int:
    """How many fields physical line ``line`` (1-based) of a CSV holds, read with the file's dialect
    (0 if it cannot be told). Only a refused file is read this way, up to its faulty line."""
    opener = gzip.open if source.format == "csv.gz" else open
    try:
        with opener(source.path, "rt", encoding="utf-8-sig", errors="replace", newline="") as fh:
            text = next(itertools.islice(fh, line - 1, line), "")
    except (OSError, EOFError):
        return 0
    row = next(csv.reader([text], delimiter=source.delimiter, quotechar='"', strict=False), [])
    return len(row)


def _shown(delimiter: str) -> str:
    return {"\t": "tab", ",": "',' (comma)", ";": "';' (semicolon)", "|": "'|' (bar)"}.get(
        delimiter, repr(delimiter))


#: Reader options the engine's messages advise, which a user cannot set.
_OPTIONS = ("strict_mode", "null_padding", "ignore_errors", "all_varchar", "auto_detect", "store_rejects",
            "max_line_size", "parallel", "sample_size", "allow_quoted_nulls", "nullstr", "delim", "quote",
            "escape", "header", "columns", "compression", "new_line", "skip", "comment", "encoding",
            "rejects_table", "rejects_scan", "union_by_name", "filename")


def _first_sentence(text: str) -> str:
    """The engine's message without its error class, its advice on options, or its settings dump."""
    text = text.split("Possible fixes:")[0].split("Possible Solution")[0]
    text = re.sub(r"^[A-Za-z ]+Error:\s*", "", text.strip())
    text = re.sub(r"\(?\b(" + "|".join(_OPTIONS) + r")\b(\s*=\s*\w+)?\)?", "", text)  # the engine's options
    text = re.sub(r"__finops_xl\w*", "", text)  # the reader's own columns
    text = _LINE.sub("", text)  # the line is named by the caller
    text = re.sub(r'"[^"]*/[^"]*"', "the file", text)  # the absolute path
    text = " ".join(text.split())
    return text[:200].rstrip(" .") or "the file is not valid CSV"


def needs_one_thread(source: SourceFile, exc: duckdb.Error) -> bool:
    """True if ``exc`` says the parallel reader cannot pad the short rows of this file (it has line
    breaks inside quoted values): read it again with ``serial(source)``."""
    return source.parallel and "quoted new lines" in str(exc)


def serial(source: SourceFile) -> SourceFile:
    """The same file, read by one thread."""
    return dataclasses.replace(source, parallel=False)


def _is_csv(source: SourceFile) -> bool:
    return source.format in ("csv", "csv.gz")


def padded_rows(con: duckdb.DuckDBPyConnection, source: SourceFile, nulls: int | None = None) -> tuple[int, int | None]:
    """(how many rows of a CSV lack trailing fields, the data row of the first one).

    The reader pads such rows with null. To tell a missing field from an empty one the file is
    read once more with no null string: then only a missing field is null. That pass runs only if
    the last column holds a null at all (``nulls``: how many, when the caller counted them).
    """
    if not _is_csv(source) or not source.columns:
        return 0, None
    last = sql_identifier(source.columns[-1])
    if nulls is None:
        try:
            nulls = con.sql(f"SELECT count_if({last} IS NULL) FROM {source.reader_sql()}").fetchall()[0][0]
        except duckdb.Error as exc:
            if not needs_one_thread(source, exc):
                raise
            source = serial(source)
            nulls = con.sql(f"SELECT count_if({last} IS NULL) FROM {source.reader_sql()}").fetchall()[0][0]
    if not nulls:
        return 0, None
    reader = reader_sql([source], keep_empty=True)
    n = int(con.sql(f"SELECT count_if({last} IS NULL) FROM {reader}").fetchall()[0][0])
    if not n:
        return 0, None
    con.execute("SET threads = 1")  # rows in file order, so row_number() is the data row
    try:
        first = con.sql(f"SELECT __row FROM (SELECT {last}, row_number() OVER () AS __row FROM {reader}) "
                        f"WHERE {last} IS NULL LIMIT 1").fetchall()[0][0]
    finally:
        con.execute("RESET threads")
    return n, int(first)


def padding_notice(con: duckdb.DuckDBPyConnection, source: SourceFile, nulls: int | None = None) -> list[Notice]:
    """A notice if rows of ``source`` have fewer fields than its header (read with nulls); ``nulls``
    as for :func:`padded_rows`."""
    n, first = padded_rows(con, source, nulls)
    if not n:
        return []
    return [Notice(source.label, (
        f"{n:,} rows have fewer fields than the header's {len(source.columns)} columns (the first is "
        f"shown); their missing trailing fields were read as empty, as a spreadsheet reads them"),
        row=first, count=1)]


def padding_notices(con: duckdb.DuckDBPyConnection, sources) -> list[Notice]:
    """:func:`padding_notice` for each CSV among ``sources``."""
    return [n for s in sources for n in padding_notice(con, s)]


def read_problems(con: duckdb.DuckDBPyConnection, sources) -> list[Problem]:
    """A problem for every CSV among ``sources`` that cannot be read to its end (one pass each)."""
    problems = []
    for s in sources:
        if not _is_csv(s):
            continue
        try:
            try:
                con.sql(f"SELECT count(*) FROM {s.reader_sql()}").fetchall()
            except duckdb.Error as exc:
                if not needs_one_thread(s, exc):
                    raise
                con.sql(f"SELECT count(*) FROM {serial(s).reader_sql()}").fetchall()
        except duckdb.Error as exc:
            problems.append(Problem(s.label, read_failure(s, exc)))
    return problems


def one_thread_where_needed(con: duckdb.DuckDBPyConnection, sources) -> tuple[SourceFile, ...] | None:
    """``sources`` with the CSVs that need it read by one thread (see needs_one_thread); None if
    none needs it."""
    out, changed = [], False
    for s in sources:
        if _is_csv(s) and s.parallel:
            try:
                con.sql(f"SELECT count(*) FROM {s.reader_sql()}").fetchall()
            except duckdb.Error as exc:
                if needs_one_thread(s, exc):
                    s, changed = serial(s), True
        out.append(s)
    return tuple(out) if changed else None


def reading(con: duckdb.DuckDBPyConnection, source: SourceFile, fn):
    """``(fn(source), the source as it must be read)``: run a query over a file's rows; a file the
    parallel reader cannot pad is read again by one thread, and a file that cannot be read raises
    IngestError naming its line and why, never the engine's error."""
    try:
        return fn(source), source
    except duckdb.Error as exc:
        if _is_csv(source) and needs_one_thread(source, exc):
            source = serial(source)
            try:
                return fn(source), source
            except duckdb.Error as again:
                exc = again
        if not _is_csv(source):
            raise
        raise IngestError(read_problems(con, [source]) or [Problem(source.label, read_failure(source, exc))]) from None


def check_readable(con: duckdb.DuckDBPyConnection, sources) -> None:
    """Raise IngestError naming every CSV among ``sources`` that cannot be read (see read_problems)."""
    problems = read_problems(con, sources)
    if problems:
        raise IngestError(problems)
