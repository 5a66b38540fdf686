"""OpenCost CSV exports → the store's ``kubernetes_allocation`` table (never ``charges``).

OpenCost's CSV exporter (``pkg/costmodel/csv_export.go``) writes one row per day and Kubernetes
allocation (namespace, controller, pod, container): the resources it requested and used, and the
share of the cluster's cost OpenCost allocates to it. Those costs are *allocations of cloud costs
already in the bill* (node, disk and network costs split among workloads): adding them to
``charges`` would count the bill twice. So they load into a table of their own, one row per source
row, for showback and unit economics beside the bill, never into its totals. The layouts read, and
how a file is recognised, read and checked: ``store.opencost_files``.

Restatement: the slice of this table is (cluster, day). Steps of a load (:func:`stage`, then
:func:`write`):

1. read every file once into a temporary table, in file order (data row numbers for messages);
2. check every value; any problem in any file refuses the whole load, naming file, row (line),
   column and value;
3. type the rows (``Date`` DATE, money DECIMAL(38,18) exactly as written, quantities DOUBLE,
   labels JSON) into one staging table, with the file's name, content hash and data row;
4. a (cluster, day) that two files of the load both hold is loaded once when the rows are
   identical (OpenCost's growing export and an older copy of it) and refused when they differ;
5. compare each (cluster, day) with the store: identical rows are *unchanged* (left as they are),
   other days are *new* or *replace* the store's rows of that cluster and day (a warning when the
   replacing rows come from a file of another name and no cluster is named: another cluster's
   export, perhaps);
6. in the load's transaction (:func:`write`): delete the replaced days, insert the new and
   replaced ones tagged with the load id. Days of the store not in the load are kept.

Unchanged is decided by content, not by file hash: an export that grew by one day loads one day.

The export carries no currency: OpenCost prices in the currency of its configuration. Costs are
read in ``AllocationOptions.currency`` (default USD), and a notice says so. The export carries no
cluster either (OpenCost runs one exporter per cluster) unless it has a ``Cluster`` column: without
one, days are keyed by ``AllocationOptions.cluster`` (``--cluster``), else by ``''``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from pathlib import PurePath

import duckdb

from finops_xl.store.errors import IngestError, Notice, Problem
from finops_xl.store.opencost_files import (
    COST_COLUMNS, DATA_COLUMNS, QUANTITY_COLUMNS, STAGE, check, file_notices, header,
    is_allocation_export, read, split, typed_sql,
)
from finops_xl.store.sources import SourceFile, sql_identifier

__all__ = [
    "COST_COLUMNS", "DATA_COLUMNS", "QUANTITY_COLUMNS", "AllocationDay", "AllocationLoad",
    "AllocationOptions", "describe", "header", "is_allocation_export", "next_load_id", "problems",
    "split", "stage", "write",
]

#: The store table the rows load into (created by ``store.ensure_schema``).
TABLE = "kubernetes_allocation"
#: What a user calls this format, and its name in reports (``FileReport.native_format``).
NAME = "OpenCost allocation CSV export"
FORMAT = "opencost"
DEFAULT_CURRENCY = "USD"

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
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT * FROM {TABLE} LIMIT 0")
    for i, s in enumerate(sources):
        raw = f"opencost_raw_{i}"
        found, names = read(con, s, raw)
        if not found:
            found = check(con, s, raw, names)
        if found:
            problems.extend(found)
            continue
        digest = (hashes or {}).get(s.path, "")
        con.execute(f"INSERT INTO {STAGE} BY NAME "
                    f"{typed_sql(raw, names, s.label, digest, currency, cluster)}")
        notices.extend(file_notices(con, s, raw, names, cluster))
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
    """A (cluster, day) held by several files of the load: loaded once (from the last file, by name)
    when their rows are identical, refused when they differ. One message per set of files."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE opencost_shared AS
        WITH f AS ({_fingerprint(STAGE, by_file=True)})
        SELECT Cluster, "Date", list(x_SourceFile ORDER BY x_SourceFile) AS files,
               count(DISTINCT (n, h1, h2)) = 1 AS same, list(n ORDER BY x_SourceFile) AS counts,
               list(total ORDER BY x_SourceFile) AS totals
        FROM f GROUP BY ALL HAVING count(*) > 1
    """)
    groups = con.execute("""
        SELECT files, same, count(*), min("Date"), max("Date"), arg_min(Cluster, "Date"),
               arg_min(counts, "Date"), arg_min(totals, "Date"), sum(counts[len(counts)])
        FROM opencost_shared GROUP BY files, same ORDER BY same, files
    """).fetchall()
    problems, notices = [], []
    for files, same, days, first, last, cluster, counts, totals, rows in groups:
        span = f"{first:%Y-%m-%d}" if days == 1 else f"{days} days from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
        where = f"{span} of cluster {cluster!r}" if cluster else span
        if not same:
            shown = "; ".join(f"{f}: {n:,} rows, TotalCost {_amount(t)}"
                              for f, n, t in zip(files, counts, totals))
            problems.append(Problem(files[0], (
                f"holds {where} as {', '.join(files[1:])} does, with different allocations (on "
                f"{first:%Y-%m-%d}, {shown}): the days would be counted twice, and which file is right "
                f"cannot be told. If they are exports of different clusters, load each in its own "
                f"command with --cluster NAME; if one is a newer export of the same cluster, load only "
                f"that one")))
            continue
        notices.append(Notice(files[-1], (
            f"{where} {'is' if days == 1 else 'are'} also in {', '.join(files[:-1])} with identical "
            f"rows (an older copy of the same export): loaded once"), count=int(rows)))
    if problems:
        raise IngestError(problems)
    con.execute(f"""
        DELETE FROM {STAGE} USING opencost_shared d
        WHERE {STAGE}.Cluster = d.Cluster AND {STAGE}."Date" = d."Date"
          AND {STAGE}.x_SourceFile <> d.files[len(d.files)]
    """)
    con.execute("DROP TABLE opencost_shared")
    return notices


def _amount(value) -> str:
    return "none" if value is None else f"{Decimal(value):,.2f}"


# ---- compare with the store, write ---------------------------------------------------------------


def _compare(con: duckdb.DuckDBPyConnection, currency: str) -> tuple[AllocationDay, ...]:
    """State of every (cluster, day) of the load against the store's rows."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE opencost_days AS
        WITH new AS ({_fingerprint(STAGE)}),
             old AS ({_fingerprint(TABLE)}),
             files AS (SELECT {_KEY}, list(DISTINCT x_SourceFile ORDER BY x_SourceFile) AS files
                       FROM {STAGE} GROUP BY ALL)
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
        SELECT s.* REPLACE ($1::BIGINT AS x_LoadId) FROM {STAGE} s
        SEMI JOIN (SELECT Cluster, "Date" FROM opencost_days WHERE state <> 'unchanged') d
          USING (Cluster, "Date")
    """, [load_id])
    con.execute(f"DROP TABLE {STAGE}")
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
        rows = f"{d.rows:>8,} row{'s' if d.rows != 1 else ' '}"
        lines.append(f"  {d.cluster or '(cluster not named)':<20} {d.day:%Y-%m-%d}  {rows}  "
                     f"{state}  {total}")
    if len(load.days) > SHOWN_DAYS:
        lines.append(f"  ... and {len(load.days) - SHOWN_DAYS} more days")
    for cur in sorted({d.currency for d in load.days}):
        known = [d.total_cost for d in load.days if d.currency == cur and d.total_cost is not None]
        if known:
            lines.append(f"  total of these days: TotalCost {sum(known, Decimal(0)):,.2f} {cur}")
    return lines
