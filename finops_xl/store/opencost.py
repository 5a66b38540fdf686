"""OpenCost CSV exports → the store's ``kubernetes_allocation`` table (never ``charges``).

OpenCost's CSV exporter (``pkg/costmodel/csv_export.go``) writes one row per day and Kubernetes
allocation (namespace, controller, pod, container): the resources it requested and used, and the
share of the cluster's cost OpenCost allocates to it. Those costs are *allocations of cloud costs
already in the bill* (node, disk and network costs split among workloads): adding them to
``charges`` would count the bill twice. So they load into a table of their own, one row per source
row, for showback and unit economics beside the bill, never into its totals.

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

Restatement: the slice of this table is (cluster, day). Steps of a load (:func:`stage`, then
:func:`write` inside the load's transaction):

1. read every file once into a temporary table, in file order (data row numbers for messages);
2. check every value; any problem in any file refuses the whole load, naming file, row (line),
   column and value;
3. type the rows (``Date`` DATE, money DECIMAL(38,18) exactly as written, quantities DOUBLE,
   labels JSON) into one staging table, with the file's name, content hash and data row;
4. a (cluster, day) that two files of the load both hold is loaded once when the rows are
   identical (OpenCost's growing export and an older copy of it) and refused when they differ;
5. compare each (cluster, day) with the store: identical rows are *unchanged* (left as they are),
   other days are *new* or *replace* the store's rows of that cluster and day.

The export carries no currency: OpenCost prices in the currency of its configuration. Costs are
read in ``AllocationOptions.currency`` (default USD), and a notice says so. The export carries no
cluster either (OpenCost runs one exporter per cluster) unless it has a ``Cluster`` column: without
one, days are keyed by ``AllocationOptions.cluster`` (``--cluster``), else by ``''``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gzip
import io
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import PurePath

import duckdb

from finops_xl.store.errors import IngestError, Notice, Problem
from finops_xl.store.sources import SourceFile, reader_sql, sql_identifier, sql_literal

#: The store table the rows load into (created by ``store.ensure_schema``).
TABLE = "kubernetes_allocation"
#: What a user calls this format, and its name in reports (``FileReport.native_format``).
NAME = "OpenCost allocation CSV export"
FORMAT = "opencost"
DEFAULT_CURRENCY = "USD"

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
#: Every typed column of the table (in table order), the row fingerprint's columns.
DATA_COLUMNS = ("Cluster", "Date", *TEXT_COLUMNS, *QUANTITY_COLUMNS, *COST_COLUMNS, "Currency",
                LABELS, "Extras")


@dataclasses.dataclass(frozen=True)
class AllocationOptions:
    """How OpenCost exports are read (they carry neither currency nor, mostly, cluster).

    Attributes:
      currency: ISO 4217 code of the costs (OpenCost's configured currency; default USD).
      cluster: the cluster of exports without a ``Cluster`` column (OpenCost runs one exporter per
        cluster); None keys their days by day alone (cluster ``''``).
    """

    currency: str = DEFAULT_CURRENCY
    cluster: str | None = None


@dataclasses.dataclass(frozen=True)
class AllocationDay:
    """One (cluster, day) of a load.

    Attributes:
      cluster: '' when unknown.  day: the allocation day, [day, day + 1) UTC.
      currency: of the costs (as assumed: see ``AllocationOptions``).
      rows: rows of the day in this load.  total_cost: Σ TotalCost (None when no row has one).
      state: ``new``, ``replaced`` or ``unchanged`` (identical to the store's rows, left as they are).
      replaced_rows: the store's rows of the day that were replaced.
      files: the files of the load holding the day.
    """

    cluster: str
    day: dt.date
    currency: str
    rows: int
    total_cost: Decimal | None
    state: str
    replaced_rows: int
    files: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class AllocationLoad:
    """The OpenCost part of a load.

    Attributes:
      files: the files, as named.  days: per (cluster, day).  notices: what the user must know.
      currency: the currency the costs were read in.
      file_rows: the data rows of each file (as ``files``).
      problems: why the files cannot be loaded (then nothing else is filled in): the load reports
        them with its other files' problems and loads nothing.
    """

    files: tuple[str, ...]
    days: tuple[AllocationDay, ...]
    notices: tuple[Notice, ...]
    currency: str
    file_rows: tuple[int, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def unchanged(self) -> bool:
        return not self.problems and all(d.state == "unchanged" for d in self.days)

    @property
    def rows(self) -> int:
        """Rows written by the load (days unchanged are not written)."""
        return sum(d.rows for d in self.days if d.state != "unchanged")


def is_allocation_export(names: Iterable[str]) -> bool:
    """True for the header of an OpenCost allocation CSV export (see the module docstring)."""
    s = set(names)
    return {"Date", "Namespace"} <= s and bool(s & set(COST_COLUMNS)) and not s & _FOCUS_COST


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


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id of a new load: after every load in the manifest, the allocation table, or recorded as
    the store's last (a load of OpenCost files alone writes no manifest rows)."""
    return int(con.execute(f"""
        SELECT greatest((SELECT coalesce(max(load_id), 0) FROM manifest),
                        (SELECT coalesce(max(x_LoadId), 0) FROM {TABLE}),
                        (SELECT coalesce(max(TRY_CAST(value AS BIGINT)), 0) FROM store_info
                          WHERE key = 'last_load_id')) + 1
    """).fetchall()[0][0])


# ---- staging -----------------------------------------------------------------------------------


def stage(
    con: duckdb.DuckDBPyConnection,
    sources: list[SourceFile],
    hashes: dict | None,
    options: AllocationOptions | None = None,
) -> AllocationLoad | None:
    """Read, check and type OpenCost exports into the temporary table ``opencost_stage``; compare
    them with the store. None when ``sources`` is empty. Every problem found is returned in
    ``problems`` (see :func:`problems`); nothing is written."""
    if not sources:
        return None
    labels = tuple(s.label for s in sources)
    options = options or AllocationOptions()
    currency = (options.currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        return AllocationLoad(labels, (), (), currency, problems=(Problem("--currency", (
            "is not a currency code: give the ISO 4217 code OpenCost prices in (USD, EUR, GBP, ...)"),
            value=options.currency),))
    cluster = (options.cluster or "").strip()
    problems: list[Problem] = []
    notices: list[Notice] = []
    file_rows: list[int] = []
    con.execute(f"CREATE OR REPLACE TEMP TABLE opencost_stage AS SELECT * FROM {TABLE} LIMIT 0")
    for i, s in enumerate(sources):
        raw = f"opencost_raw_{i}"
        found, names = _read(con, s, raw)
        if not found:
            found = _check(con, s, raw, names)
        if found:
            problems.extend(found)
            continue
        digest = (hashes or {}).get(s.path, "")
        con.execute(f"INSERT INTO opencost_stage BY NAME "
                    f"{_typed_sql(raw, names, s.label, digest, currency, cluster)}")
        notices.extend(_file_notices(con, s, raw, names, cluster))
        file_rows.append(int(con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0]))
        con.execute(f"DROP TABLE {raw}")
    if problems:
        return AllocationLoad(labels, (), (), currency, problems=tuple(problems))
    try:
        notices.extend(_one_copy_per_day(con))
    except IngestError as exc:
        return AllocationLoad(labels, (), (), currency, problems=exc.problems)
    given = "given with --currency" if currency != DEFAULT_CURRENCY else "the --currency default"
    notices.insert(0, Notice(", ".join(s.label for s in sources), (
        f"OpenCost exports carry no currency: their costs are read as {currency} ({given}); OpenCost "
        f"prices in the currency of its configuration: if that is not {currency}, load again with "
        f"--currency CODE. These are Kubernetes allocations of costs already in the cloud bill: "
        f"they load into {TABLE}, NEVER added to cloud costs"), currency=currency))
    days = _compare(con, currency)
    notices.extend(_other_file_warnings(con))
    return AllocationLoad(labels, days, tuple(notices), currency, tuple(file_rows))


def problems(load: AllocationLoad | None) -> tuple[Problem, ...]:
    """Why ``load``'s files cannot be loaded (none for None)."""
    return load.problems if load is not None else ()


def _read(con: duckdb.DuckDBPyConnection, s: SourceFile, raw: str) -> tuple[list[Problem], list[str]]:
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
                    f"SELECT row_number() OVER () AS __row, * FROM {reader_sql([s])}")
    except duckdb.Error as exc:
        reason = str(exc).split("\n")[0].split("Possible")[0]
        reason = re.sub(r"\s+", " ", reason.split(":", 1)[-1]).strip()[:200]
        return [Problem(s.label, (
            f"cannot be read as CSV ({reason}); check the file is a complete, unedited OpenCost "
            f"export (every row with as many fields as the header)"))], []
    finally:
        con.execute(f"SET threads = {int(threads)}")
    names = [r[0] for r in con.execute(f"DESCRIBE {raw}").fetchall() if r[0] != "__row"]
    return [], names


def _checks(names: list[str]) -> list[tuple[str, str, str]]:
    """(column, message, SQL true on a bad value) for every column of the file that has a type."""
    def q(c: str) -> str:
        return f"trim({sql_identifier(c)})"

    out = [("Date", "is empty: every row of an OpenCost export names its day (YYYY-MM-DD)",
            f"{sql_identifier('Date')} IS NULL"),
           ("Date", "is not a day written YYYY-MM-DD, as OpenCost writes it",
            f"{sql_identifier('Date')} IS NOT NULL AND try_strptime({q('Date')}, '%Y-%m-%d') IS NULL")]
    for c in COST_COLUMNS:
        if c in names:
            out.append((c, ("is not an amount: a number such as 0.25, with a '.' decimal point and no "
                            "thousands separator, is expected; correct the value or re-export the file"),
                        f"{sql_identifier(c)} IS NOT NULL AND lower({q(c)}) <> 'nan' "
                        f"AND TRY_CAST({q(c)} AS {_MONEY}) IS NULL"))
    for c in QUANTITY_COLUMNS:
        if c in names:
            out.append((c, ("is not a number: a quantity such as 0.25 or 1e-3 is expected; correct the "
                            "value or re-export the file"),
                        f"{sql_identifier(c)} IS NOT NULL AND (TRY_CAST({q(c)} AS DOUBLE) IS NULL "
                        f"OR isinf(TRY_CAST({q(c)} AS DOUBLE)))"))
    if LABELS in names:
        out.append((LABELS, ('is not a JSON object of label names and values (OpenCost writes '
                             '{"app":"web"}); correct the value or re-export the file'),
                    f"{sql_identifier(LABELS)} IS NOT NULL AND NOT CASE WHEN json_valid({q(LABELS)}) "
                    f"THEN json_type({q(LABELS)}::JSON) = 'OBJECT' ELSE false END"))
    return out


def _check(con: duckdb.DuckDBPyConnection, s: SourceFile, raw: str, names: list[str]) -> list[Problem]:
    """Every check that fails, with its first row, value and count (one pass over the rows)."""
    if "Date" not in names:
        return [Problem(s.label, "has no Date column", column="Date")]
    checks = _checks(names)
    aggregates = ", ".join(
        f"count(*) FILTER (WHERE {cond}), min(__row) FILTER (WHERE {cond}), "
        f"arg_min({sql_identifier(c)}, __row) FILTER (WHERE {cond})" for c, _, cond in checks)
    found = con.execute(f"SELECT {aggregates} FROM {raw}").fetchall()[0]
    problems = []
    for i, (c, message, _) in enumerate(checks):
        n, row, value = found[3 * i: 3 * i + 3]
        if n:
            problems.append(Problem(s.label, f"{message} (line {int(row) + 1} of the file)",
                                    row=int(row), column=c, value=value, count=int(n)))
    return problems


def _typed_sql(raw: str, names: list[str], label: str, digest: str, currency: str, cluster: str) -> str:
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
    cols["Extras"] = ("json_object(" + ", ".join(f"{sql_literal(c)}, {sql_identifier(c)}" for c in extras) + ")"
                      if extras else "NULL")
    cols["x_SourceFile"] = sql_literal(label)
    cols["x_ContentHash"] = sql_literal(digest)
    cols["x_SourceRow"] = "__row"
    select = ", ".join(f"{expr} AS {sql_identifier(name)}" for name, expr in cols.items())
    return f"SELECT {select} FROM {raw}"


def _file_notices(
    con: duckdb.DuckDBPyConnection, s: SourceFile, raw: str, names: list[str], cluster: str
) -> list[Notice]:
    """What the load could not determine from this file, or chose for it."""
    out: list[Notice] = []
    me = sql_literal(s.label)
    parts = [c for c in COST_COLUMNS if c != "TotalCost" and c in names]
    parts_sum = " + ".join(f"coalesce({sql_identifier(c)}, 0)" for c in parts) or "0"
    n, first, amount = con.execute(
        f"SELECT count(*), min(x_SourceRow), sum({parts_sum}) FROM opencost_stage "
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
    for c in (*QUANTITY_COLUMNS, *COST_COLUMNS):
        if c not in names:
            continue
        n, first = con.execute(f"SELECT count(*), min(__row) FROM {raw} "
                               f"WHERE lower(trim({sql_identifier(c)})) = 'nan'").fetchall()[0]
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


# ---- one copy of each day ------------------------------------------------------------------------

_KEY = "Cluster, \"Date\""


def _fingerprint(table: str, where: str = "true", by_file: bool = False) -> str:
    """Per (cluster, day[, file]): row count and an order-free fingerprint of the rows' values."""
    cols = ", ".join(f"CAST({sql_identifier(c)} AS VARCHAR)" for c in DATA_COLUMNS)
    file = ", x_SourceFile" if by_file else ""
    return (f"SELECT {_KEY}{file}, count(*) AS n, sum(CAST(hash({cols}) AS HUGEINT)) AS h1, "
            f"bit_xor(hash({cols}, 'x')) AS h2, sum(TotalCost) AS total "
            f"FROM {table} WHERE {where} GROUP BY ALL")


def _one_copy_per_day(con: duckdb.DuckDBPyConnection) -> list[Notice]:
    """A (cluster, day) held by several files of the load: loaded once when their rows are identical,
    refused when they differ."""
    rows = con.execute(f"""
        WITH f AS ({_fingerprint('opencost_stage', by_file=True)})
        SELECT Cluster, "Date", list(x_SourceFile ORDER BY x_SourceFile),
               count(DISTINCT (n, h1, h2)) = 1, list(n ORDER BY x_SourceFile),
               list(total ORDER BY x_SourceFile)
        FROM f GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL
    """).fetchall()
    problems, notices = [], []
    for cluster, day, files, same, counts, totals in rows:
        where = f"cluster {cluster!r}, {day:%Y-%m-%d}" if cluster else f"{day:%Y-%m-%d}"
        if not same:
            shown = "; ".join(f"{f}: {n:,} rows, TotalCost {_amount(t)}" for f, n, t in zip(files, counts, totals))
            problems.append(Problem(files[0], (
                f"holds {where} as {', '.join(files[1:])} does, with different allocations ({shown}): "
                f"the day would be counted twice, and which file is right cannot be told. If they are "
                f"exports of different clusters, load each in its own command with --cluster NAME; if "
                f"one is a newer export of the same cluster, load only that one")))
            continue
        keep = files[-1]
        con.execute(f"DELETE FROM opencost_stage WHERE Cluster = $1 AND \"Date\" = $2 AND x_SourceFile <> $3",
                    [cluster, day, keep])
        notices.append(Notice(keep, (
            f"{where} is also in {', '.join(files[:-1])} with identical rows (an older copy of the same "
            f"export): loaded once"), count=int(counts[-1])))
    if problems:
        raise IngestError(problems)
    return _merge_day_notices(notices)


def _merge_day_notices(notices: list[Notice]) -> list[Notice]:
    """One notice per pair of files, however many days they share."""
    by: dict[tuple[str, str], list[Notice]] = {}
    for n in notices:
        others = n.message.split(" is also in ", 1)[1].split(" with identical", 1)[0]
        by.setdefault((n.file, others), []).append(n)
    out = []
    for (keep, others), mine in by.items():
        if len(mine) == 1:
            out.append(mine[0])
            continue
        out.append(Notice(keep, (
            f"{len(mine)} days are also in {others} with identical rows (an older copy of the same "
            f"export): loaded once"), count=sum(n.count for n in mine)))
    return out


def _amount(value) -> str:
    return "none" if value is None else f"{Decimal(value):,.2f}"


# ---- compare with the store, write ---------------------------------------------------------------


def _compare(con: duckdb.DuckDBPyConnection, currency: str) -> tuple[AllocationDay, ...]:
    """State of every (cluster, day) of the load against the store's rows."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE opencost_days AS
        WITH new AS ({_fingerprint('opencost_stage')}),
             old AS ({_fingerprint(TABLE)}),
             files AS (SELECT {_KEY}, list(DISTINCT x_SourceFile ORDER BY x_SourceFile) AS files
                       FROM opencost_stage GROUP BY ALL)
        SELECT new.Cluster, new."Date", new.n AS rows, new.total, coalesce(old.n, 0) AS old_rows,
               CASE WHEN old.n IS NULL THEN 'new'
                    WHEN (old.n, old.h1, old.h2) = (new.n, new.h1, new.h2) THEN 'unchanged'
                    ELSE 'replaced' END AS state,
               files.files
        FROM new LEFT JOIN old USING (Cluster, "Date") JOIN files USING (Cluster, "Date")
    """)
    rows = con.execute(f'SELECT Cluster, "Date", rows, total, old_rows, state, files FROM opencost_days '
                       f'ORDER BY Cluster, "Date"').fetchall()
    return tuple(
        AllocationDay(c, d, currency, int(n), None if t is None else Decimal(t), state,
                      int(old) if state == "replaced" else 0, tuple(files))
        for c, d, n, t, old, state, files in rows)


def _other_file_warnings(con: duckdb.DuckDBPyConnection) -> list[Notice]:
    """A warning for the days of an unnamed cluster that another file's rows replace: it may be the
    export of another cluster, not a restatement."""
    rows = con.execute(f"""
        SELECT d.files, list(DISTINCT k.x_SourceFile ORDER BY k.x_SourceFile), count(DISTINCT d."Date"),
               min(d."Date"), max(d."Date"), sum(k.TotalCost), count(*)
        FROM opencost_days d JOIN {TABLE} k USING (Cluster, "Date")
        WHERE d.state = 'replaced' AND d.Cluster = ''
        GROUP BY d.files ORDER BY ALL
    """).fetchall()
    out = []
    for new_files, old_files, days, first, last, total, n in rows:
        names = {PurePath(f).name for f in new_files}
        if not {PurePath(f).name for f in old_files} - names:
            continue  # the same export again, restated
        span = f"{first:%Y-%m-%d}" if days == 1 else f"{days} days from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
        out.append(Notice(", ".join(new_files), (
            f"WARNING: replaces {span} loaded before from {', '.join(old_files)} ({n:,} rows, TotalCost "
            f"{_amount(total)}), with no cluster named in either. If that was the export of another "
            f"cluster, its days are now lost from the store: load each cluster's export with --cluster "
            f"NAME"), count=int(n), amount=None if total is None else Decimal(total)))
    return out


def write(con: duckdb.DuckDBPyConnection, load: AllocationLoad | None, load_id: int) -> AllocationLoad | None:
    """In the load's transaction: replace the store's rows of every new or restated (cluster, day)
    of ``load`` with the staged rows, tagged with ``load_id``. Unchanged days are left as they are."""
    if load is None:
        return None
    if load.problems:  # the load reports them before it writes: never reached
        raise IngestError(load.problems)
    con.execute(f"""
        DELETE FROM {TABLE} USING opencost_days d
        WHERE {TABLE}.Cluster = d.Cluster AND {TABLE}."Date" = d."Date" AND d.state = 'replaced'
    """)
    con.execute(f"""
        INSERT INTO {TABLE} BY NAME
        SELECT s.* REPLACE ($1::BIGINT AS x_LoadId) FROM opencost_stage s
        SEMI JOIN (SELECT Cluster, "Date" FROM opencost_days WHERE state <> 'unchanged') d
          USING (Cluster, "Date")
    """, [load_id])
    con.execute("DROP TABLE opencost_stage")
    con.execute("DROP TABLE opencost_days")
    return load


# ---- what the user is told -----------------------------------------------------------------------

#: At most this many days are listed one by one.
SHOWN_DAYS = 31


def describe(load: AllocationLoad | None) -> list[str]:
    """Lines for the CLI: what went to ``kubernetes_allocation``, per day and currency."""
    if load is None:
        return []
    states = {s: sum(1 for d in load.days if d.state == s) for s in ("new", "replaced", "unchanged")}
    lines = [
        f"Kubernetes allocations (OpenCost): {load.rows:,} row(s) from {len(load.files)} file(s) into "
        f"{TABLE}; NOT added to cloud costs (they split costs already in the bill)",
        f"  days: {states['new']} new, {states['replaced']} replaced, {states['unchanged']} unchanged; "
        f"costs read as {load.currency} (OpenCost exports carry no currency: --currency)",
    ]
    for d in load.days[:SHOWN_DAYS]:
        state = d.state if d.state != "replaced" else f"replaced {d.replaced_rows:,} rows"
        total = "TotalCost none" if d.total_cost is None else f"TotalCost {d.total_cost:,.2f} {d.currency}"
        lines.append(f"  {d.cluster or '(cluster not named)':<20} {d.day:%Y-%m-%d}  {d.rows:>8,} row{'s' if d.rows != 1 else ' '}  "
                     f"{state}  {total}")
    if len(load.days) > SHOWN_DAYS:
        lines.append(f"  ... and {len(load.days) - SHOWN_DAYS} more days")
    for cur in sorted({d.currency for d in load.days}):
        known = [d.total_cost for d in load.days if d.currency == cur and d.total_cost is not None]
        if known:
            lines.append(f"  total of these days: TotalCost {sum(known, Decimal(0)):,.2f} {cur}")
    return lines
