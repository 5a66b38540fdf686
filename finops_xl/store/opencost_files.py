"""One OpenCost allocation CSV export: recognise it, read it once, check every value, type its rows.

See ``store.opencost`` for the load these serve.

Layouts recognised (by header; every one the exporter has written):

- current: ``Date, Namespace, ControllerKind, ControllerName, Pod, Container``, the usage averages
  (``CPUCoreUsageAverage``, ``CPUCoreRequestAverage``, ``RAMBytesUsageAverage``,
  ``RAMBytesRequestAverage``), ``NetworkReceiveBytes, NetworkTransferBytes, GPUs, PVBytes``, the
  costs ``CPUCost, RAMCost, NetworkCost, PVCost, GPUCost, TotalCost``; optionally ``Labels`` (all
  labels as a JSON object) and ``Label_<name>`` columns (one label each);
- older: ``Date, Namespace, CPUCoreUsageAverage, CPUCoreRequestAverage, CPUCost,
  RAMBytesUsageAverage, RAMBytesRequestAverage, RAMCost`` — no TotalCost;
- merged: the exporter appends new days to its existing file, and when the layout changed it writes
  the union of both headers, leaving the columns a row's layout lacked empty;
- the allocation compute CSV's extra columns ``Cluster, LoadBalancerCost, SharedCost,
  ExternalCost``.

A file is an OpenCost export when its header has ``Date`` and ``Namespace`` and at least one of
the cost columns, and no FOCUS cost column (:func:`is_allocation_export`). Other columns are kept,
as text, in ``Extras`` (a notice names them).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from decimal import Decimal

import duckdb

from finops_xl.store.errors import Notice, Problem
from finops_xl.store.sources import SourceFile, reader_sql, sql_identifier, sql_literal

#: The staging table the typed rows of every file of a load go to (``store.opencost``).
STAGE = "opencost_stage"

#: Text columns of the export, as written (Cluster only in the allocation compute CSV).
TEXT_COLUMNS = ("Namespace", "ControllerKind", "ControllerName", "Pod", "Container")
#: Usage quantities (averages over the day, or totals), DOUBLE.
QUANTITY_COLUMNS = (
    "CPUCoreUsageAverage", "CPUCoreRequestAverage", "RAMBytesUsageAverage", "RAMBytesRequestAverage",
    "NetworkReceiveBytes", "NetworkTransferBytes", "GPUs", "PVBytes",
)
#: Money columns, DECIMAL(38,18): OpenCost writes float64 in shortest form (``4.6000000000000005``),
#: kept exactly as written.
COST_COLUMNS = (
    "CPUCost", "RAMCost", "NetworkCost", "PVCost", "GPUCost", "LoadBalancerCost", "SharedCost",
    "ExternalCost", "TotalCost",
)
LABELS = "Labels"
LABEL_PREFIX = "Label_"
_KNOWN = {"Date", "Cluster", LABELS, *TEXT_COLUMNS, *QUANTITY_COLUMNS, *COST_COLUMNS}
_MONEY = "DECIMAL(38,18)"
#: FOCUS columns that no OpenCost export has: a header with one is a FOCUS file.
_FOCUS_COST = {"BilledCost", "EffectiveCost", "ChargePeriodStart", "BillingPeriodStart"}
#: The allocation summary CSV's period columns (it has no Date).
_WINDOW = {"WindowStart", "WindowEnd"}
#: Every typed column of the table (in table order), the row fingerprint's columns.
DATA_COLUMNS = ("Cluster", "Date", *TEXT_COLUMNS, *QUANTITY_COLUMNS, *COST_COLUMNS, "Currency",
                LABELS, "Extras")


def is_allocation_export(names: Iterable[str]) -> bool:
    """True for the header of an OpenCost allocation CSV export (see the module docstring), or of
    OpenCost's allocation summary CSV (``WindowStart`` and ``WindowEnd`` instead of ``Date``), which
    is recognised to be refused with its reason."""
    s = set(names)
    day = "Date" in s or _WINDOW <= s
    return day and "Namespace" in s and bool(s & set(COST_COLUMNS)) and not s & _FOCUS_COST


def header(source: SourceFile) -> list[str]:
    """The header line's fields, with Python's csv module ([] when it cannot be read)."""
    if source.format not in ("csv", "csv.gz"):
        return []
    try:
        opener = gzip.open if source.format == "csv.gz" else open
        with opener(source.path, "rt", encoding="utf-8-sig", newline="") as fh:
            line = fh.readline(1 << 20)
    except (OSError, EOFError, UnicodeDecodeError):
        return []
    return next(csv.reader(io.StringIO(line), delimiter=source.delimiter), [])


def split(sources: Iterable[SourceFile]) -> tuple[list[SourceFile], list[SourceFile]]:
    """(the OpenCost exports among ``sources``, the others), each in the given order."""
    mine: list[SourceFile] = []
    others: list[SourceFile] = []
    for s in sources:
        (mine if is_allocation_export(h.strip() for h in header(s)) else others).append(s)
    return mine, others


def read(con: duckdb.DuckDBPyConnection, s: SourceFile, raw: str) -> tuple[list[Problem], list[str]]:
    """Read the file once, as text, in file order, into ``raw`` (with ``__row``, the data row)."""
    fields = [h.strip() for h in header(s)]
    twice = sorted({h for h in fields if fields.count(h) > 1})
    if twice:
        return [Problem(s.label, (
            f"has the column {c!r} twice: which one holds the values cannot be told; keep one and "
            f"load again"), column=c) for c in twice], []
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.execute("SET threads = 1")  # one thread reads in file order: row_number() is the data row
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS "
                    f"SELECT row_number() OVER () AS __row, * FROM {reader_sql([s], pad_short_rows=False)}")
    except duckdb.Error:
        return [_unreadable(s)], []
    finally:
        con.execute(f"SET threads = {int(threads)}")
    names = [r[0] for r in con.execute(f"DESCRIBE {raw}").fetchall() if r[0] != "__row"]
    return [], names


def _unreadable(s: SourceFile) -> Problem:
    """Why a file cannot be read as CSV, found with Python's csv module: the first line whose field
    count is not the header's, else what the reader could not parse."""
    try:
        opener = gzip.open if s.format == "csv.gz" else open
        with opener(s.path, "rt", encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=s.delimiter)
            width = len(next(reader, []))
            for row, fields in enumerate(reader, start=1):
                if fields and len(fields) != width:
                    return Problem(s.label, (
                        f"line {reader.line_num} has {len(fields)} fields where the header has {width}: "
                        f"the file was cut short or edited; export or download it again"), row=row)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        return Problem(s.label, f"cannot be read as CSV ({exc}); export or download it again")
    return Problem(s.label, "cannot be read as CSV (a quote left open, or mixed separators); check the "
                            "file is a complete, unedited OpenCost export")


def checks(names: list[str]) -> list[tuple[str, str, str]]:
    """(column, message, SQL true on a bad value) for every column of the file that has a type."""
    def q(c: str) -> str:
        return f"trim({sql_identifier(c)})"

    out = [("Date", "is empty: every row of an OpenCost export names its day (YYYY-MM-DD)",
            f"{sql_identifier('Date')} IS NULL"),
           ("Date", "is not a day written YYYY-MM-DD, as OpenCost writes it",
            f"{sql_identifier('Date')} IS NOT NULL AND try_strptime({q('Date')}, '%Y-%m-%d') IS NULL")]
    # (the columns, what a bad value is told, SQL true on a bad value given its column and trimmed value)
    typed = (
        (COST_COLUMNS, ("is not an amount: a number such as 0.25, with a '.' decimal point and no "
                        "thousands separator, is expected; correct the value or re-export the file"),
         lambda col, v: f"{col} IS NOT NULL AND lower({v}) <> 'nan' AND TRY_CAST({v} AS {_MONEY}) IS NULL"),
        (QUANTITY_COLUMNS, ("is not a number: a quantity such as 0.25 or 1e-3 is expected; correct the "
                            "value or re-export the file"),
         lambda col, v: f"{col} IS NOT NULL AND (TRY_CAST({v} AS DOUBLE) IS NULL "
                        f"OR isinf(TRY_CAST({v} AS DOUBLE)))"),
        ((LABELS,), ('is not a JSON object of label names and values (OpenCost writes '
                     '{"app":"web"}); correct the value or re-export the file'),
         lambda col, v: f"{col} IS NOT NULL AND NOT CASE WHEN json_valid({v}) "
                        f"THEN json_type({v}::JSON) = 'OBJECT' ELSE false END"),
    )
    for columns, message, bad in typed:
        out.extend((c, message, bad(sql_identifier(c), q(c))) for c in columns if c in names)
    return out


def check(con: duckdb.DuckDBPyConnection, s: SourceFile, raw: str, names: list[str]) -> list[Problem]:
    """Every check that fails, with its first row, value and count (one pass over the rows)."""
    if "Date" not in names and _WINDOW <= set(names):
        return [Problem(s.label, (
            "is OpenCost's allocation summary CSV (WindowStart, WindowEnd): its windows need not be "
            "days, and a day is what the store replaces when an export is restated, so it is not "
            "loaded; load OpenCost's CSV export (one row per day and allocation, with a Date column)"),
            column="WindowStart")]
    if "Date" not in names:
        return [Problem(s.label, "has no Date column", column="Date")]
    if not con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0]:
        return [Problem(s.label, "file has a header but no data rows (OpenCost writes no empty export: "
                                 "it was cut short or saved over; export or download it again)")]
    found_checks = checks(names)
    aggregates = ", ".join(
        f"count(*) FILTER (WHERE {cond}), min(__row) FILTER (WHERE {cond}), "
        f"arg_min({sql_identifier(c)}, __row) FILTER (WHERE {cond})" for c, _, cond in found_checks)
    found = con.execute(f"SELECT {aggregates} FROM {raw}").fetchall()[0]
    problems = []
    for i, (c, message, _) in enumerate(found_checks):
        n, row, value = found[3 * i: 3 * i + 3]
        if n:
            problems.append(Problem(s.label, f"{message} (line {int(row) + 1} of the file)",
                                    row=int(row), column=c, value=value, count=int(n)))
    return problems


def typed_sql(raw: str, names: list[str], label: str, digest: str, currency: str, cluster: str) -> str:
    """SELECT of ``raw``'s rows as the table's typed columns."""
    def col(c: str) -> str:
        return f"trim({sql_identifier(c)})"

    cols = {"Date": f"CAST(strptime({col('Date')}, '%Y-%m-%d') AS DATE)"}
    given = sql_literal(cluster)
    cols["Cluster"] = (f"coalesce(nullif({col('Cluster')}, ''), {given})" if "Cluster" in names else given)
    for c in TEXT_COLUMNS:
        cols[c] = sql_identifier(c) if c in names else "NULL"
    for c in QUANTITY_COLUMNS:
        cols[c] = (f"CASE WHEN isnan(CAST({col(c)} AS DOUBLE)) THEN NULL ELSE CAST({col(c)} AS DOUBLE) END"
                   if c in names else "NULL")
    for c in COST_COLUMNS:
        cols[c] = (f"CASE WHEN lower({col(c)}) = 'nan' THEN NULL ELSE CAST({col(c)} AS {_MONEY}) END"
                   if c in names else "NULL")
    cols["Currency"] = sql_literal(currency)
    labels = [c for c in names if c.startswith(LABEL_PREFIX)]
    if LABELS in names or labels:
        pairs = ", ".join(f"struct_pack(k := {sql_literal(c[len(LABEL_PREFIX):])}, v := {sql_identifier(c)})"
                          for c in labels)
        one_each = (f"to_json(map_from_entries(list_filter([{pairs}], lambda x: x.v IS NOT NULL)))"
                    if labels else "'{}'::JSON")
        whole = f"coalesce({col(LABELS)}, '{{}}')::JSON" if LABELS in names else "'{}'::JSON"
        cols[LABELS] = f"CAST(json_merge_patch({one_each}, {whole}) AS JSON)"
    else:
        cols[LABELS] = "NULL"  # the export has no label columns: labels unknown, not none
    extras = [c for c in names if c not in _KNOWN and not c.startswith(LABEL_PREFIX)]
    kept = ", ".join(f"{sql_literal(c)}, {sql_identifier(c)}" for c in extras)
    cols["Extras"] = f"json_object({kept})" if extras else "NULL"
    cols["x_SourceFile"] = sql_literal(label)
    cols["x_ContentHash"] = sql_literal(digest)
    cols["x_SourceRow"] = "__row"
    select = ", ".join(f"{expr} AS {sql_identifier(name)}" for name, expr in cols.items())
    return f"SELECT {select} FROM {raw}"


def file_notices(
    con: duckdb.DuckDBPyConnection, s: SourceFile, raw: str, names: list[str], cluster: str
) -> list[Notice]:
    """What the load could not determine from this file, or chose for it."""
    out: list[Notice] = []
    me = sql_literal(s.label)
    parts = [c for c in COST_COLUMNS if c != "TotalCost" and c in names]
    parts_sum = " + ".join(f"coalesce({sql_identifier(c)}, 0)" for c in parts) or "0"
    n, first, amount = con.execute(
        f"SELECT count(*), min(x_SourceRow), sum({parts_sum}) FROM {STAGE} "
        f"WHERE x_SourceFile = {me} AND TotalCost IS NULL").fetchall()[0]
    if n:
        why = ("the file has no TotalCost column (an older OpenCost layout)" if "TotalCost" not in names
               else "their TotalCost is empty (rows merged from an older OpenCost layout that had no "
                    "TotalCost)")
        out.append(Notice(s.label, (
            f"{n:,} row{'s have' if n != 1 else ' has'} no TotalCost: {why}. TotalCost is left empty, "
            f"not derived (the layout lacks some of its parts), so daily TotalCost totals leave "
            f"{'them' if n != 1 else 'it'} out; the cost columns present ({', '.join(parts) or 'none'}) "
            f"add up to the amount shown"), row=int(first), column="TotalCost", count=int(n),
            amount=Decimal(amount or 0)))
    numeric = [c for c in (*QUANTITY_COLUMNS, *COST_COLUMNS) if c in names]
    nan = [f"lower(trim({sql_identifier(c)})) = 'nan'" for c in numeric]
    found = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {w}), min(__row) FILTER (WHERE {w})"
                                              for w in nan) + f" FROM {raw}").fetchall()[0] if nan else ()
    for i, c in enumerate(numeric):
        n, first = found[2 * i: 2 * i + 2]
        if n:
            out.append(Notice(s.label, (
                f"holds NaN (OpenCost could not compute the value) on {n:,} row(s): stored empty, "
                f"left out of totals"), row=int(first), column=c, value="NaN", count=int(n)))
    extras = [c for c in names if c not in _KNOWN and not c.startswith(LABEL_PREFIX)]
    if extras:
        out.append(Notice(s.label, (
            f"{len(extras)} column(s) this package does not know are kept as text in Extras: "
            f"{', '.join(extras[:12])}{', ...' if len(extras) > 12 else ''}")))
    if "Cluster" not in names and not cluster:
        out.append(Notice(s.label, (
            "has no Cluster column (OpenCost runs one exporter per cluster): its days are stored for "
            "cluster '' and a later export of another cluster for the same days would replace them; "
            "load each cluster's export with --cluster NAME")))
    return out
