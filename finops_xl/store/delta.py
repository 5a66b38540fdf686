"""The cost store as a folder of Delta Lake tables (store layout 2).

```
<store>/_finops_store.json        the current store commit: each table's Delta version, its column types
<store>/charges/                  canonical FOCUS rows, partitioned by x_BillingPeriod and x_Slice
<store>/cost_daily/               the daily cube, partitioned the same way
<store>/slices/ manifest/ ...     the store's small tables (whole-table versions)
<store>/allocation_groups/ allocated_charges/ allocation_runs/   the allocation
<store>/opportunities/ opportunity_events/                       the savings ledger
<store>/store_commits/            one row per store commit: when, what command, table versions, changes
<store>/.lock                     the writer lock
```

Every table is a Delta table written with ``deltalake`` (delta-rs), so Spark and Databricks read it as
one. ``x_Slice`` names one (ProviderName, BillingAccountId) pair: a billing period's slice is one
partition, and a load replaces exactly the partitions of the slices it contains (a predicate overwrite
on partition columns: no other file is read or rewritten), so a load costs the month, not the history.

**A store commit.** A writer (one at a time: ``.lock``) works on an in-memory DuckDB database: the
small tables it may change are copied in, the big ones are staged (only the new rows) or read as views.
On success each changed table gets one Delta commit, a row is appended to ``store_commits``, and the
pointer file ``_finops_store.json`` — the store commit — is replaced atomically. Readers read the
pointer and open every table *at the version it names*, so a reader never sees half a load, and is
never blocked: table versions are immutable. A writer killed at any point leaves table versions
beyond the pointer's (or none): the next writer removes them and the files they added (``repair``).

**Versions.** Each store commit keeps the table versions it made; ``reader(as_of=...)`` opens the
store as it was at a commit (its number, or a time), and ``history`` lists them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from finops_xl.store.errors import StoreError, StoreUnreadableError
from finops_xl.store.hooks import PAUSE_ENV, pause, paused_reader, quiet_stderr
from finops_xl.store.sources import sql_identifier, sql_literal

#: The pointer file: the store's current commit (it also marks a folder as a store).
POINTER = "_finops_store.json"
#: The table of store commits (history).
COMMITS = "store_commits"
#: Tables partitioned by billing period and slice, replaced slice by slice (the last is derived
#: from the cube at commit: ``tables.cube_monthly_sql``).
SLICED = ("charges", "cost_daily", "cost_monthly")
#: Sliced tables a load stages rows into (the others are derived from them).
STAGED = SLICED[:2]
PERIOD, SLICE = "x_BillingPeriod", "x_Slice"
#: The store layout this module writes.
LAYOUT = 2
_FORMAT = "finops-xl cost store"
#: The temporary name of a new store's first pointer (``create_pointer``).
_NEW_POINTER = f".{POINTER}.new-"

_WRITING = "_writing-"  # marker of a writer at work: _writing-<pid>.json
_TMP = ".tmp"           # DuckDB's spill folder of a writer


def slice_partition_sql(period: str = "BillingPeriodStart", provider: str = "ProviderName",
                        account: str = "BillingAccountId") -> str:
    """The partition columns of a sliced table's row, as SQL (DuckDB and Spark alike)."""
    return (f"CAST(CAST({period} AS DATE) AS VARCHAR) AS {PERIOD}, "
            f"substr(sha256({provider} || '|' || {account}), 1, 16) AS {SLICE}")


def slice_id(provider: str, account: str) -> str:
    """``x_Slice`` of a (provider, billing account): as ``slice_partition_sql`` computes it."""
    return hashlib.sha256(f"{provider}|{account}".encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class StoreCommit:
    """One store commit.

    Attributes:
      commit: its number (1, 2, ...).  committed_at: when (UTC, naive).  command: the command line.
      kind: load, allocation, savings, migrate, vacuum.  tables: each table's Delta version.
      columns: each table's DuckDB column types, in order.  changes: what it changed (per table:
      rows; for a load: files and slices with their rows and totals).
    """

    commit: int
    committed_at: dt.datetime
    command: str
    kind: str
    tables: dict[str, int]
    columns: dict[str, dict[str, str]]
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict:
        return {"format": _FORMAT, "layout": LAYOUT, "commit": self.commit,
                "committed_at": self.committed_at.isoformat(), "command": self.command, "kind": self.kind,
                "tables": self.tables, "columns": self.columns, "changes": self.changes}

    @classmethod
    def from_json(cls, d: dict) -> StoreCommit:
        return cls(int(d["commit"]), dt.datetime.fromisoformat(d["committed_at"]), d.get("command", ""),
                   d.get("kind", ""), {k: int(v) for k, v in d.get("tables", {}).items()},
                   d.get("columns", {}), d.get("changes", {}))


def is_store_folder(path: Path) -> bool:
    """True when ``path`` is a store folder (it holds the pointer file)."""
    try:
        return (path / POINTER).is_file()
    except OSError as exc:  # e.g. a folder the user may not enter
        raise StoreUnreadableError(f"the cost store {path} cannot be read: {exc.strerror} ({path / POINTER}): "
                                   "ask its owner for access, or run the command as the user that loads "
                                   "it") from None


def read_pointer(path: Path) -> StoreCommit | None:
    """The store's current commit; None for a store folder with no commit yet (or no store)."""
    try:
        text = (path / POINTER).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreUnreadableError(f"the cost store {path} cannot be read: {exc.strerror} "
                                   f"({path / POINTER})") from None
    except UnicodeDecodeError:
        text = "\x00"  # not text: damaged, said below
    try:
        data = json.loads(text)
        if data.get("format") != _FORMAT:
            raise ValueError("not a store pointer")
        if int(data.get("layout", 0)) > LAYOUT:
            raise StoreUnreadableError(
                f"the cost store {path} was written by a newer finops-xl (store layout {data['layout']}): "
                "upgrade finops-xl to read it")
        return StoreCommit.from_json(data) if "commit" in data else None
    except StoreUnreadableError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreUnreadableError(
            f"the cost store {path} is damaged ({POINTER} is not readable: {exc}): restore the folder "
            "from a backup, or load the exports into a new store") from None


def _fsync_dir(path: Path) -> None:
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def create_pointer(path: Path) -> None:
    """Make ``path`` a store folder with no commit yet, unless another writer already has: the new
    pointer is linked into place, which fails when one is there (a rename would replace a pointer
    that another writer's first load has meanwhile moved on). Its temporary name is one ``repair``
    leaves alone for a minute: this runs before the lock, beside a writer that may hold it."""
    tmp = _written(path / f"{_NEW_POINTER}{os.getpid()}", {"format": _FORMAT, "layout": LAYOUT})
    try:
        os.link(tmp, path / POINTER)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    _fsync_dir(path)


def is_being_made(names: set[str]) -> bool:
    """True when a folder's entries are only what a writer making a new store writes before its pointer
    is in place (its lock, its pointer under a temporary name)."""
    return bool(names) and all(n == ".lock" or n.startswith(f".{POINTER}.") for n in names)


def write_pointer(path: Path, commit: StoreCommit | None) -> None:
    """Make ``commit`` the store's current commit: written beside and renamed over (atomic)."""
    data = commit.to_json() if commit else {"format": _FORMAT, "layout": LAYOUT}
    os.replace(_written(path / f".{POINTER}.{os.getpid()}", data), path / POINTER)
    _fsync_dir(path)


def _written(tmp: Path, data: dict) -> Path:
    """``tmp`` holding ``data`` as JSON, on disk (fsynced)."""
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


# ---- reading ------------------------------------------------------------------------------------

_files_cache: dict[tuple[str, int], tuple[list[str], list[str]]] = {}
_cache_lock = threading.Lock()


def table_files(folder: Path, version: int) -> tuple[list[str], list[str]]:
    """The active data files of the Delta table ``folder`` at ``version`` and its column names."""
    try:  # a table made again at the same path (a new store) must not hit the old one's entry
        st = (folder / "_delta_log" / f"{int(version):020d}.json").stat()
        key: tuple | None = (str(folder), int(version), st.st_ino, st.st_mtime_ns)
    except OSError:
        key = None
    with _cache_lock:
        hit = _files_cache.get(key) if key else None
    if hit is not None:
        return hit
    from deltalake import DeltaTable

    try:
        table = DeltaTable(str(folder), version=int(version))
    except Exception as exc:  # deltalake raises its own error types
        raise StoreUnreadableError(
            f"the cost store table {folder} cannot be read at version {version} "
            f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}): restore the store folder "
            "from a backup, or load the exports into a new store") from None
    files = [_local(u) for u in table.file_uris()]
    missing = next((f for f in files if not os.path.isfile(f)), None)
    if missing is not None:  # a file deleted by hand (or by a cleaner): say which, never a query error
        raise StoreUnreadableError(
            f"the cost store {folder.parent} is damaged: its table {folder.name} (version {version}) needs "
            f"the file {missing}, which is missing: restore the store folder from a backup, or load the "
            "exports into a new store")
    names = [f.name for f in table.schema().fields]
    if key:
        with _cache_lock:
            if len(_files_cache) > 4096:
                _files_cache.clear()
            _files_cache[key] = (files, names)
    return files, names


def _local(uri: str) -> str:
    return uri[len("file://"):] if uri.startswith("file://") else uri


def _select(columns: dict[str, str], present: Iterable[str]) -> str:
    have = set(present)
    return ", ".join(
        f"CAST({sql_identifier(c)} AS {t}) AS {sql_identifier(c)}" if c in have
        else f"CAST(NULL AS {t}) AS {sql_identifier(c)}"
        for c, t in columns.items())


def table_sql(store: Path, commit: StoreCommit, table: str) -> str:
    """A query over ``table`` as it was at ``commit``, with the store's column types."""
    columns = commit.columns[table]
    files, names = table_files(store / table, commit.tables[table])
    if not files:
        return f"SELECT {_select(columns, ())} WHERE false"
    listed = "[" + ", ".join(sql_literal(f) for f in files) + "]"
    return (f"SELECT {_select(columns, names)} FROM read_parquet({listed}, union_by_name = true, "
            "hive_partitioning = false)")


def create_views(con: duckdb.DuckDBPyConnection, store: Path, commit: StoreCommit | None,
                 tables: Iterable[str] | None = None, *, temp: bool = True, prefix: str = "") -> list[str]:
    """Views of the store's tables (``tables``, default all) at ``commit`` on ``con``; their names."""
    if commit is None:
        return []
    made = []
    kind = "TEMP VIEW" if temp else "VIEW"
    for table in (tables if tables is not None else commit.tables):
        if table not in commit.tables or table == COMMITS:
            continue
        con.execute(f"CREATE OR REPLACE {kind} {sql_identifier(prefix + table)} AS "
                    f"{table_sql(store, commit, table)}")
        made.append(table)
    return made


def commits(store: Path, head: StoreCommit | None = None) -> list[StoreCommit]:
    """Every commit of the store up to ``head`` (default the current one), oldest first."""
    head = head if head is not None else read_pointer(store)
    if head is None or COMMITS not in head.tables:
        return [head] if head else []
    con = duckdb.connect(":memory:")
    try:
        files, _ = table_files(store / COMMITS, head.tables[COMMITS])
        if not files:
            return [head]
        listed = "[" + ", ".join(sql_literal(f) for f in files) + "]"
        rows = con.execute(f"SELECT record FROM read_parquet({listed}) WHERE commit <= ? ORDER BY commit",
                           [head.commit]).fetchall()
    finally:
        con.close()
    found = [StoreCommit.from_json(json.loads(r)) for (r,) in rows]
    if not found or found[-1].commit != head.commit:
        found.append(head)
    return found


def resolve_as_of(store: Path, as_of: int | str | dt.datetime) -> StoreCommit:
    """The commit ``as_of`` names: a commit number, or the last commit at or before a time (ISO
    date or timestamp, UTC)."""
    every = commits(store)
    if not every:
        raise StoreError(f"the cost store {store} has no versions yet: load exports first")
    text = str(as_of).strip()
    if isinstance(as_of, int) or re.fullmatch(r"\d{1,9}", text):
        n = int(text)
        for c in every:
            if c.commit == n:
                return c
        raise StoreError(f"the cost store {store} has no version {n}: its versions are 1 to {every[-1].commit} "
                         "(see `finops-xl history`)")
    try:
        when = as_of if isinstance(as_of, dt.datetime) else dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise StoreError(f"--as-of {as_of!r} is neither a version number nor a date/time (e.g. 12, 2025-06-30, "
                         "2025-06-30T18:00:00)") from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    if len(text) == 10:  # a date: the end of that day
        when = when + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    before = [c for c in every if c.committed_at <= when]
    if not before:
        raise StoreError(f"the cost store {store} has no version as early as {text}: its first is version "
                         f"{every[0].commit} of {every[0].committed_at:%Y-%m-%d %H:%M:%S} UTC")
    return before[-1]


# ---- writing ------------------------------------------------------------------------------------


def _fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple:
    return tuple(con.execute(f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {sql_identifier(table)} t")
                 .fetchall()[0])


def _base_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT temporary").fetchall()}


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {n: t for n, t in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "AND table_schema = 'main' ORDER BY ordinal_position", [table]).fetchall()}


def _predicate(keys: list[tuple[str, str]]) -> str:
    parts = [f"({PERIOD} = {sql_literal(p)} AND {SLICE} = {sql_literal(s)})" for p, s in sorted(set(keys))]
    return " OR ".join(parts)


def _write(folder: Path, con: duckdb.DuckDBPyConnection, sql: str, *, mode: str,
           partition_by: list[str] | None = None, predicate: str | None = None) -> int:
    """Write the rows of ``sql`` to the Delta table at ``folder``: one commit; its new version."""
    from deltalake import DeltaTable, write_deltalake

    reader = con.sql(sql).to_arrow_reader()
    if os.environ.get(PAUSE_ENV) == f"writing {folder.name}":
        reader = paused_reader(reader, f"writing {folder.name}")
    kwargs: dict[str, Any] = {"mode": mode}
    if partition_by:
        kwargs["partition_by"] = partition_by
    exists = DeltaTable.is_deltatable(str(folder))
    if predicate and exists:
        kwargs["predicate"] = predicate
    if exists:
        kwargs["schema_mode"] = "merge" if predicate else "overwrite"
    with quiet_stderr():
        write_deltalake(str(folder), reader, **kwargs)
    return DeltaTable(str(folder)).version()


def append_commit(store: Path, record: StoreCommit) -> StoreCommit:
    """Add ``record`` to the store's history table; ``record`` with that table's new version (the
    commit lands when the caller writes it as the pointer)."""
    from deltalake import DeltaTable, write_deltalake

    # the row is made by DuckDB: building it with pyarrow from Python values imports pandas (~0.5 s)
    con = duckdb.connect(":memory:")
    row = con.sql("SELECT CAST($commit AS BIGINT) AS commit, CAST($at AS TIMESTAMP) AS committed_at, "
                  "CAST($command AS VARCHAR) AS command, CAST($kind AS VARCHAR) AS kind, "
                  "CAST($record AS VARCHAR) AS record",
                  params={"commit": record.commit, "at": record.committed_at, "command": record.command,
                          "kind": record.kind, "record": json.dumps(record.to_json(), default=str)}
                  ).to_arrow_reader()
    with quiet_stderr():
        write_deltalake(str(store / COMMITS), row, mode="append")
    con.close()
    tables = dict(record.tables) | {COMMITS: DeltaTable(str(store / COMMITS)).version()}
    return dataclasses.replace(record, tables=tables)


class Transaction:
    """A writer's work on the store: see the module's description. Use ``transaction()``."""

    def __init__(self, store: Path, *, kind: str, writes: tuple[str, ...], stage: bool,
                 ddl=None, seed=None):
        self.store = store
        self.kind = kind
        self.writes = writes
        self.stage = stage
        self.head = read_pointer(store)
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET preserve_insertion_order = false")
        from finops_xl.store.tables import MEMORY_LIMIT, MEMORY_LIMIT_ENV

        limit = os.environ.get(MEMORY_LIMIT_ENV) or MEMORY_LIMIT
        self.con.execute(f"SET memory_limit = {sql_literal(limit)}")
        self.con.execute(f"SET temp_directory = {sql_literal(str(store / f'{_TMP}-{os.getpid()}'))}")
        self.ddl = ddl    # ddl(con): the tables' declared types (empty), before the data is read in
        self.seed = seed  # seed(con): rows every store has (after)
        self.prints: dict[str, tuple] = {}
        self.changes: dict[str, Any] = {}

    def open(self) -> duckdb.DuckDBPyConnection:
        con, head = self.con, self.head
        if self.ddl is not None:
            self.ddl(con)  # the tables' declared types, empty
        present = head.tables if head else {}
        for table in self.writes:
            if table in SLICED or table not in present:
                continue
            cols = head.columns[table]
            have = column_types(con, table)
            if not have:
                con.execute(f"CREATE TABLE {sql_identifier(table)} AS {table_sql(self.store, head, table)}")
            else:
                for c, t in cols.items():
                    if c not in have:
                        con.execute(f"ALTER TABLE {sql_identifier(table)} ADD COLUMN {sql_identifier(c)} {t}")
                con.execute(f"INSERT INTO {sql_identifier(table)} BY NAME {table_sql(self.store, head, table)}")
            self.prints[table] = _fingerprint(con, table)
        if self.seed is not None:
            self.seed(con)
        if self.stage:
            for table in STAGED:
                have = column_types(con, table)
                for c, t in (head.columns.get(table, {}) if head else {}).items():
                    if have and c not in have:
                        con.execute(f"ALTER TABLE {sql_identifier(table)} ADD COLUMN {sql_identifier(c)} {t}")
            if head and "charges" in present:
                con.execute(f"CREATE OR REPLACE TEMP VIEW stored_charges AS {table_sql(self.store, head, 'charges')}")
            else:
                con.execute("CREATE OR REPLACE TEMP VIEW stored_charges AS SELECT * FROM charges WHERE false")
        # every other table of the store, read-only, as it is now
        others = [t for t in present if t not in self.writes and t != COMMITS
                  and not (self.stage and t in SLICED)]
        existing = _base_tables(con)
        for table in others:
            if table not in existing:
                con.execute(f"CREATE OR REPLACE VIEW {sql_identifier(table)} AS {table_sql(self.store, head, table)}")
        return con

    def commit(self, command: str) -> StoreCommit | None:
        con, head = self.con, self.head
        tables = dict(head.tables) if head else {}
        columns = dict(head.columns) if head else {}
        existing = _base_tables(con)
        changed: dict[str, Any] = {}
        if self.stage and "charges" in existing:
            # one pass over the staged rows: each slice and currency's rows, totals and files; the
            # partition keys are computed per group, not per row
            summary = con.execute(
                "SELECT ProviderName, BillingAccountId, strftime(day, '%Y-%m-%d'), BillingCurrency, n, "
                f"billed, effective, files, {slice_partition_sql('day')} FROM ("
                "SELECT ProviderName, BillingAccountId, CAST(BillingPeriodStart AS DATE) AS day, BillingCurrency, "
                "count(*) AS n, sum(BilledCost) AS billed, sum(EffectiveCost) AS effective, "
                "list(DISTINCT x_SourceFile) AS files FROM charges GROUP BY ALL) ORDER BY ALL").fetchall()
            if summary:
                changed["slices"] = [
                    {"provider": p, "account": a, "period": b, "currency": c, "rows": int(n),
                     "billed": str(bc), "effective": str(ec)} for p, a, b, c, n, bc, ec, *_ in summary]
                names = {f for row in summary for f in row[7]}
                changed["files"] = sorted(names - {None}) + ([None] if None in names else [])
                pred = _predicate([(row[8], row[9]) for row in summary])
                for table in SLICED:
                    if table != SLICED[0]:
                        pause(table)
                    if table in STAGED:
                        cols = column_types(con, table)
                        rows = sql_identifier(table)
                    else:  # derived from the staged cube
                        from finops_xl.store.tables import cube_monthly_sql

                        rows = f"({cube_monthly_sql('cost_daily')})"
                        cols = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {rows}").fetchall()}
                    sql = f"SELECT *, {slice_partition_sql()} FROM {rows}"
                    tables[table] = _write(self.store / table, con, sql, mode="overwrite",
                                           partition_by=[PERIOD, SLICE], predicate=pred)
                    columns[table] = cols
                changed["rows"] = sum(int(s["rows"]) for s in changed["slices"])
        if changed:
            pause("tables")
        for table in self.writes:
            if table in SLICED or table not in existing:
                continue
            now = _fingerprint(con, table)
            before = self.prints.get(table)
            if before == now or (before is None and now[0] == 0):
                continue  # unchanged, or new and empty (readers see a declared table empty)
            tables[table] = _write(self.store / table, con, f"SELECT * FROM {sql_identifier(table)}",
                                   mode="overwrite")
            columns[table] = column_types(con, table)
            changed.setdefault("tables", {})[table] = int(now[0])
        if not changed:
            return None
        number = (head.commit if head else 0) + 1
        record = StoreCommit(number, dt.datetime.now(dt.UTC).replace(tzinfo=None), command, self.kind,
                             tables, columns, changed)
        record = append_commit(self.store, record)
        pause("history")
        return record

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()
        shutil.rmtree(self.store / f"{_TMP}-{os.getpid()}", ignore_errors=True)
